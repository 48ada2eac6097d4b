#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the assessments and the sales analyses (issue 16).

Builds, on a throwaway database with every module up to
distributor_report, a small network with scripts/generate.py (the
templates of every kind of record), then grows it with raw SQL (INSERT
... SELECT over a series: generate_series on PostgreSQL, a recursive CTE
on SQLite), copies of the generated rows, to D active distributors
(10,000) spread over the tiers and the leaf territories and:

- L brand sale lines (1,000,000), 10 a sale, over the two years before
  this one (so that growth has a year before), some drafts (not sell-in),
  returns, promotion lines;
- a confirmed target per distributor for last year;
- two stores per distributor in two running coverage plans (3 products),
  and sell-out channel orders to them (L / 5 lines) during last year;
- a storage location per distributor, 10 done incoming moves each, one in
  twenty of an expired lot;
- three policies published last year and a promotion, every distributor
  a recipient, two in three acknowledged;
- 20 posted receivable lines per distributor, some overdue at the end
  of last year, some reconciled;
- diversion and price incidents, disputed statements of account.

Then, in the same run, it times (best of R, interleaved):

(1) one assessment run (distributor.assessment.run over every active
    distributor with the shipped standard template, processed as the
    queue task does: Run.process) against the bare SQL of its KPIs (the
    queries Kpi.compute issues, executed and fetched alone: the floor),
    target < 60 s and <= 1.5x; checks results = D and that a few scores
    equal a recomputation (Kpi.compute on those distributors alone,
    scored by the template's lines);
(2) the sell-in analysis by territory and month
    (distributor.report.sell_in.territory.time_series: search + read of
    every row with the context, as sao does) against one bare SQL
    aggregate of the same figures (target <= 1.5x); checks the totals;
(3) the Excel export (distributor_assessment.output.xlsx_export) of
    100,000 sell-in lines streamed from a server-side cursor: time, peak
    Python allocations (tracemalloc) and resident memory growth
    (ru_maxrss).

    .venv/bin/python tests/bench/bench_assessment.py [--distributors D] \\
        [--lines L] [--export-rows E] [--repeat R] [--keep] \\
        [--template DB] [--profile]

PostgreSQL when TRYTOND_DATABASE__URI is set (the figures the issue asks
for: start a cluster with scripts/pg_cluster.sh and source its env);
SQLite otherwise (a file under var/bench, 1,000 distributors and 50,000
lines by default).  --template clones a database built before with
--keep (PostgreSQL: CREATE DATABASE ... TEMPLATE) instead of building it
again.  Figures, not assertions (but for the figures' agreement)."""
import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))

CENT = Decimal('0.01')


def timed(func, repeat=1):
    "The wall times of repeat runs of func and the last result"
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def spread(times):
    return (f'{min(times):8.2f} s (median {statistics.median(times):.2f}, '
        f'worst {max(times):.2f}, {len(times)} runs)')


def dec(value):
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)


class Bulk:
    """INSERT ... SELECT over a series of g = 1..count on both backends,
    copying a template row with some columns replaced"""

    def __init__(self, cursor, postgresql):
        self.cursor = cursor
        self.pg = postgresql

    def execute(self, sql):
        self.cursor.execute(sql)

    def one(self, sql):
        self.cursor.execute(sql)
        row = self.cursor.fetchone()
        return row[0] if row else None

    def series(self, count):
        if self.pg:
            return f'generate_series(1, {int(count)}) AS gs(g)'
        return (f'(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 '
            f'FROM s WHERE g < {int(count)}) SELECT g FROM s) gs')

    def day(self, date, days):
        "date + days (an SQL integer expression)"
        if self.pg:
            return f"(DATE '{date}' + ({days})::integer)"
        return f"date('{date}', '+' || ({days}) || ' days')"

    def stamp(self, date, days):
        if self.pg:
            return (f"(TIMESTAMP '{date} 10:00:00' + ({days}) "
                "* INTERVAL '1 day')")
        return f"datetime('{date} 10:00:00', '+' || ({days}) || ' days')"

    def true(self):
        return 'TRUE' if self.pg else '1'

    def columns(self, table):
        self.cursor.execute(f'SELECT * FROM "{table}" WHERE 1 = 0')
        return [c[0] for c in self.cursor.description]

    def next_id(self, table):
        return self.one(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"') + 1

    def copy(self, table, template, count, values, joins='', where=None):
        """Insert count copies of the row template of table, g = 1..count
        (ids first .. first + count - 1, in order of g): values replaces
        columns by SQL expressions of t (the template), g and the joined
        tables; answers the first id"""
        if not count:
            return None
        first = self.next_id(table)
        values = {'id': f'{first - 1} + g',
            'create_date': self.stamp(dt.date.today(), 0),
            'create_uid': '0', 'write_date': 'NULL', 'write_uid': 'NULL',
            **values}
        cols = [c for c in self.columns(table)]
        select = ', '.join(values.get(c, f't."{c}"') for c in cols)
        condition = f't.id = {int(template)}'
        if where:
            condition += f' AND ({where})'
        self.execute(f'INSERT INTO "{table}" ('
            + ', '.join(f'"{c}"' for c in cols) + f') SELECT {select} '
            f'FROM "{table}" t CROSS JOIN {self.series(count)} {joins} '
            f'WHERE {condition} ORDER BY g')
        if self.pg:
            self.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"'"
                f", 'id'), (SELECT MAX(id) FROM \"{table}\"))")
        return first

    def index_table(self, name, query, columns='item'):
        """A table name(i, columns...) numbering the rows of query from 0:
        copies join it on i = g % count"""
        self.execute(f'DROP TABLE IF EXISTS {name}')
        cols = ', '.join(f'{c} INTEGER' for c in columns.split(', '))
        self.execute(f'CREATE TABLE {name} (i INTEGER PRIMARY KEY, {cols})')
        self.execute(f'INSERT INTO {name} (i, {columns}) SELECT '
            f'ROW_NUMBER() OVER (ORDER BY {columns.split(", ")[0]}) - 1, '
            f'{columns} FROM ({query}) q')
        return self.one(f'SELECT COUNT(*) FROM {name}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int)
    parser.add_argument('--lines', type=int, help="brand sale lines")
    parser.add_argument('--export-rows', type=int, default=100_000)
    parser.add_argument('--seed-distributors', type=int, default=60,
        help="the network generate.py makes first (the templates)")
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--keep', action='store_true',
        help="keep the database (to explain the queries, or --template)")
    parser.add_argument('--template',
        help="PostgreSQL: clone this database (built with --keep)")
    parser.add_argument('--profile', action='store_true',
        help="profile one run and one analysis read (cProfile)")
    args = parser.parse_args(argv)

    postgresql = bool(os.environ.get('TRYTOND_DATABASE__URI'))
    if not postgresql:
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = str(bench_dir)
        db_file = bench_dir / 'bench_assessment.sqlite'
        if db_file.exists():
            db_file.unlink()
        os.environ['DB_NAME'] = 'bench_assessment'
    else:
        os.environ.setdefault('DB_NAME', f'bench_assessment_{os.getpid()}')
    if args.distributors is None:
        args.distributors = 10_000 if postgresql else 1_000
    if args.lines is None:
        args.lines = 1_000_000 if postgresql else 50_000

    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    import generate
    import setup_db

    print(f'backend: {backend.name}, database {DB_NAME}')
    today = dt.date.today()
    year = today.year - 1
    world = Namespace(start=dt.date(year, 1, 1), end=dt.date(year, 12, 31),
        first=dt.date(year - 1, 1, 1))

    start = time.perf_counter()
    if args.template:
        if not postgresql:
            raise SystemExit('--template needs PostgreSQL')
        with Transaction().start(None, 0, close=True, autocommit=True) as t:
            cursor = t.connection.cursor()
            cursor.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
            cursor.execute(f'CREATE DATABASE "{DB_NAME}" '
                f'TEMPLATE "{args.template}"')
        Pool(DB_NAME).init()
        print(f'clone {args.template}: {time.perf_counter() - start:.1f} s')
    else:
        drop_db()
        activate_module(['distributor_report'])
        print(f'activate modules: {time.perf_counter() - start:.1f} s')
        start = time.perf_counter()
        setup_db.setup_company(DB_NAME)
        generate.generate(DB_NAME, distributors=args.seed_distributors,
            products=40, stores=None, seed=42, verbose=False)
        print(f'generate the network of {args.seed_distributors} '
            f'distributors: {time.perf_counter() - start:.1f} s')
    with Transaction().start(DB_NAME, 0):
        built = backend.TableHandler.table_exist('bench_distributor')
    if not built:
        # (a clone of a database kept after a build is not built again)
        start = time.perf_counter()
        counts = generate.in_transaction(DB_NAME, build, world, args,
            backend.name == 'postgresql')
        print(f'bulk SQL: {time.perf_counter() - start:.1f} s')
        for name, count in counts.items():
            print(f'  {name:<34} {count:>10,}')

    with Transaction().start(DB_NAME, 0) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute('SELECT id FROM company_company ORDER BY id LIMIT 1')
        world.company, = cursor.fetchone()
    context = {'company': world.company}
    ok = True
    figures = []

    # (1) the assessment run ------------------------------------------
    with Transaction().start(DB_NAME, 0, context=context):
        kpis, queries = run_queries(world)
    sql_times, compute_times, run_times = [], [], []
    kpi_times = {}
    check = None
    for i in range(args.repeat):
        with Transaction().start(DB_NAME, 0, context=context) as transaction:
            cursor = transaction.connection.cursor()

            def bare():
                rows = 0
                for query in queries:
                    cursor.execute(*query)
                    rows += len(cursor.fetchall())
                return rows
            t, rows = timed(bare)
            sql_times += t
            for code, query in zip([k.code for k in kpis], queries):
                t, _ = timed(lambda: (cursor.execute(*query),
                        cursor.fetchall()))
                kpi_times[code] = min(kpi_times.get(code, t[0]), t[0])
            t, values = timed(lambda: compute(world))
            compute_times += t
            transaction.cache.clear()
            t, run_id = timed(lambda: assess(world))
            run_times += t
            if i == args.repeat - 1:
                check = check_run(world, run_id)
            transaction.rollback()
    ratio = min(run_times) / min(sql_times)
    print(f'\n(1) assessment run of {check["results"]:,} distributors, '
        f'{len(kpis)} KPIs, {world.start}..{world.end}')
    print(f'  bare SQL of the KPIs  {spread(sql_times)}  ({rows:,} rows)')
    for code, seconds in kpi_times.items():
        print(f'      {code:<26} {seconds:7.2f} s')
    print(f'  Kpi.compute           {spread(compute_times)}')
    print(f'  run (Run.process)     {spread(run_times)}')
    print(f'  ratio run / bare SQL {ratio:.2f}x')
    for line in check['lines']:
        print(f'  {line}')
    ok &= check['ok']
    figures.append(('assessment run, 10 KPIs',
            f'{min(run_times):.1f} s', '< 60 s',
            min(run_times) < 60))
    figures.append(('  ratio to bare KPI SQL', f'{ratio:.2f}x', '<= 1.5x',
            ratio <= 1.5))

    # (2) the sell-in analysis by territory and month -------------------
    analysis_context = dict(context, from_date=world.first,
        to_date=world.end, period='month')
    a_sql, a_orm, a_search = [], [], []
    same = None
    for i in range(args.repeat):
        with Transaction().start(DB_NAME, 0, context=analysis_context) as \
                transaction:
            t, expected = timed(lambda: analysis_sql(world))
            a_sql += t
            transaction.cache.clear()
            t, (rows_orm, search_time) = timed(analysis_orm)
            a_orm += t
            a_search.append(search_time)
            same = compare_analysis(expected, rows_orm)
    ratio_a = min(a_orm) / min(a_sql)
    print(f'\n(2) sell-in by territory and month, {world.first}..'
        f'{world.end}: {len(rows_orm):,} rows')
    print(f'  bare SQL aggregate    {spread(a_sql)}')
    print(f'  search + read (ORM)   {spread(a_orm)}  (search alone '
        f'{min(a_search):.2f} s)')
    print(f'  ratio {ratio_a:.2f}x, {same[1]}')
    ok &= same[0]
    figures.append(('sell-in territory x month', f'{ratio_a:.2f}x',
            '<= 1.5x', ratio_a <= 1.5))

    # (3) the Excel export --------------------------------------------
    with Transaction().start(DB_NAME, 0, context=context):
        export = export_sell_in(world, args.export_rows)
    print(f'\n(3) xlsx_export of {export["rows"]:,} sell-in lines '
        '(server-side cursor, streamed)')
    print(f'  time {export["time"]:.2f} s ({export["rate"]:,.0f} rows/s), '
        f'{export["size"] / 1e6:.1f} MB, {export["read_back"]:,} rows '
        'read back')
    print(f'  peak Python allocations (tracemalloc) '
        f'{export["peak"] / 1e6:.1f} MB, resident memory growth '
        f'(ru_maxrss) {export["rss"] / 1024:.0f} MB')
    ok &= export['read_back'] == export['rows']
    figures.append(('xlsx export 100,000 rows', f'{export["time"]:.1f} s',
            '(time)', None))
    figures.append(('  peak memory', f'{export["peak"] / 1e6:.0f} MB py, '
            f'+{export["rss"] / 1024:.0f} MB rss', '(streamed)', None))

    if args.profile:
        with Transaction().start(DB_NAME, 0, context=context) as transaction:
            profile('assessment run', lambda: assess(world))
            transaction.rollback()
        with Transaction().start(DB_NAME, 0, context=analysis_context):
            profile('analysis search + read', analysis_orm)

    print(f'\n{"figure":<30} {"measured":>28}  {"target":<10}')
    for name, value, target, met in figures:
        mark = '' if met is None else ('  ok' if met else '  MISSED')
        print(f'{name:<30} {value:>28}  {target:<10}{mark}')
    print('figures agree' if ok else 'FIGURES DISAGREE')
    if not args.keep:
        drop_db()
    return 0 if ok else 1


class Namespace:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


# The data ----------------------------------------------------------------

def build(world, args, postgresql):
    """Grow the generated network to the sizes asked for, in bulk SQL:
    answers the row counts"""
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    b = Bulk(cursor, postgresql)
    true = b.true()
    counts = {}
    n = args.distributors
    start, end, first = world.start, world.end, world.first
    period_days = (end - start).days + 1
    days = (end - first).days + 1
    company = b.one('SELECT id FROM company_company ORDER BY id LIMIT 1')

    # the distributors ---------------------------------------------------
    tiers = b.index_table('bench_tier', 'SELECT level * 100000 + id AS k, '
        'id AS tier FROM distributor_tier WHERE active = ' + true, 'k, tier')
    territories = b.index_table('bench_territory', 'SELECT t.id AS item FROM '
        'distributor_territory t WHERE NOT EXISTS (SELECT 1 FROM '
        'distributor_territory c WHERE c.parent = t.id)')
    active = ("is_distributor = " + true
        + " AND distributor_state = 'active'")
    existing = b.one(f'SELECT COUNT(*) FROM party_party WHERE {active}')
    template = b.one(f'SELECT id FROM party_party WHERE {active} '
        'ORDER BY id LIMIT 1')
    new = max(n - existing, 0)
    first_party = b.copy('party_party', template, new, {
            'name': "'Bench Distributor ' || g",
            'code': "'BA' || g", 'code_alnum': "'BA' || g",
            'code_digit': 'g',
            'distributor_code': "'BA' || g",
            'distributor_tier': 'bt.tier',
            'distributor_grade': "CASE g % 4 WHEN 0 THEN 'A' WHEN 1 THEN "
            "'B' WHEN 2 THEN 'C' ELSE 'D' END",
            'distributor_state': "'active'",
            'upstream': 'NULL',
            }, joins=f'JOIN bench_tier bt ON bt.i = g % {tiers}')
    if new:
        link = 'party_party-distributor_territory'
        link_first = b.next_id(link)
        b.execute(f'INSERT INTO "{link}" (id, party, territory, create_uid, '
            f'create_date) SELECT {link_first - 1} + g, '
            f'{first_party - 1} + g, bt.item, 0, {b.stamp(start, 0)} FROM '
            f'{b.series(new)} JOIN bench_territory bt ON bt.i = '
            f'g % {territories}')
        if postgresql:
            b.execute(f"SELECT setval(pg_get_serial_sequence('\"{link}\"', "
                f"'id'), (SELECT MAX(id) FROM \"{link}\"))")
    n = b.index_table('bench_distributor',
        f'SELECT id AS item FROM party_party WHERE {active}')
    counts['active distributors'] = n
    products = b.index_table('bench_product', 'SELECT p.id AS item FROM '
        'product_product p JOIN product_template t ON t.id = p.template '
        f"WHERE t.salable = {true} AND t.type = 'goods' AND p.active = "
        f'{true}')
    d = f'JOIN bench_distributor bd ON bd.i = g % {n}'

    # sell-in: sales and their lines over two years -----------------------
    per = 10
    sales = max(args.lines // per, 1)
    sale = b.one("SELECT s.id FROM sale_sale s JOIN party_party p ON "
        f"p.id = s.party WHERE p.is_distributor = {true} AND s.state IN "
        "('confirmed', 'processing', 'done') ORDER BY s.id LIMIT 1")
    line = b.one("SELECT id FROM sale_line WHERE sale = "
        f"{sale} AND type = 'line' AND product IS NOT NULL "
        "ORDER BY id LIMIT 1")
    sale_date = b.day(first, f'(g * 7919) % {days}')
    first_sale = b.copy('sale_sale', sale, sales, {
            'party': 'bd.item',
            'number': "'BS' || g", 'reference': 'NULL',
            'description': 'NULL',
            'sale_date': sale_date,
            'state': "CASE WHEN g % 20 = 0 THEN 'draft' WHEN g % 3 = 0 THEN "
            "'processing' WHEN g % 3 = 1 THEN 'done' ELSE 'confirmed' END",
            'origin': 'NULL',
            }, joins=d)
    promotion = b.one('SELECT id FROM sale_promotion WHERE dms_policy IS '
        'NOT NULL ORDER BY id LIMIT 1')
    b.copy('sale_line', line, sales * per, {
            'sale': f'{first_sale - 1} + 1 + (g - 1) / {per}',
            'product': 'bp.item',
            'quantity': 'CASE WHEN g % 50 = 0 THEN -1.0 ELSE '
            '1.0 + g % 7 END',
            'unit_price': '5 + g % 13 + (g % 100) / 100.0',
            'description': "'bench'",
            'sequence': f'(g - 1) % {per}',
            'gift': 'NULL',
            'promotion': (f'CASE WHEN g % 40 = 0 THEN {promotion} END'
                if promotion else 'NULL'),
            }, joins=f'JOIN bench_product bp ON bp.i = (g * 31) % '
        f'{products}')
    counts['sales'] = sales
    counts['sale lines (sell-in)'] = sales * per

    # targets: one per distributor for last year --------------------------
    target = b.one('SELECT id FROM distributor_target ORDER BY id LIMIT 1')
    if target is None:
        target = make_target(world, company)
    b.copy('distributor_target', target, n, {
            'distributor': 'bd.item', 'company': str(company),
            'start_date': f"{b.day(start, 0)}",
            'end_date': f"{b.day(end, 0)}",
            'category': 'NULL', 'quantity': 'NULL',
            'amount': f'{args.lines * 44 // (2 * n)} * (80 + g % 50) / 100.0',
            'state': "'confirmed'",
            **({'number': "'BT' || g"} if 'number' in b.columns(
                        'distributor_target') else {}),
            }, joins=d)
    counts['targets'] = n

    # stores, coverage plans and sell-out -------------------------------
    store = b.one(f'SELECT id FROM party_party WHERE is_store = {true} '
        'ORDER BY id LIMIT 1')
    stores = 2 * n
    first_store = b.copy('party_party', store, stores, {
            'name': "'Bench Store ' || g",
            'code': "'BST' || g", 'code_alnum': "'BST' || g",
            'code_digit': 'g', 'distributor_code': 'NULL',
            'store_distributor': 'bd.item',
            }, joins=d)
    b.index_table('bench_store',
        'SELECT id AS item, store_distributor AS distributor FROM '
        f'party_party WHERE id >= {first_store}', 'item, distributor')
    counts['stores'] = stores
    plan = b.one('SELECT id FROM distributor_coverage_plan ORDER BY id '
        'LIMIT 1')
    if plan:
        first_plan = b.copy('distributor_coverage_plan', plan, 2, {
                'name': "'Bench coverage ' || g",
                'state': "'running'",
                'start_date': b.day(start, '(g - 1) * 90'),
                'deadline': b.day(start, '(g - 1) * 90 + 180'),
                })
        pstore = b.one('SELECT id FROM distributor_coverage_plan_store '
            'ORDER BY id LIMIT 1')
        b.copy('distributor_coverage_plan_store', pstore, stores, {
                'plan': f'{first_plan - 1} + 1 + g % 2',
                'store': 'bs.item', 'distributor': 'bs.distributor',
                'territory': 'NULL',
                }, joins='JOIN bench_store bs ON bs.i = g - 1')
        pproduct = b.one('SELECT id FROM '
            '"distributor_coverage_plan-product_product" ORDER BY id LIMIT 1')
        b.copy('distributor_coverage_plan-product_product', pproduct, 6, {
                'plan': f'{first_plan - 1} + 1 + (g - 1) / 3',
                'product': 'bp.item',
                }, joins='JOIN bench_product bp ON bp.i = (g - 1) % 3')
        counts['coverage plan stores'] = stores
    order = b.one("SELECT id FROM distributor_channel_order WHERE state IN "
        "('delivered', 'received', 'done') AND buyer_kind = 'store' "
        "ORDER BY id LIMIT 1")
    if order:
        oline = b.one('SELECT id FROM distributor_channel_order_line WHERE '
            f'"order" = {order} ORDER BY id LIMIT 1')
        olines = max(args.lines // 5, 1)
        orders = max(olines // 4, 1)
        first_order = b.copy('distributor_channel_order', order, orders, {
                'seller': 'bs.distributor', 'buyer': 'bs.item',
                'buyer_kind': "'store'",
                'number': "'BO' || g",
                'state': "CASE WHEN g % 2 = 0 THEN 'done' ELSE 'received' "
                "END",
                'date': b.day(start, f'(g * 13) % {period_days}'),
                'delivered_date': b.day(start, f'(g * 13) % {period_days}'),
                }, joins=f'JOIN bench_store bs ON bs.i = g % {stores}')
        b.copy('distributor_channel_order_line', oline, orders * 4, {
                'order': f'{first_order - 1} + 1 + (g - 1) / 4',
                'product': 'bp.item',
                'quantity': '1.0 + g % 5',
                'delivered_quantity': '1.0 + g % 5',
                'received_quantity': '1.0 + g % 5',
                'unit_price': '8 + g % 11', 'discount': '0',
                'lot': 'NULL',
                }, joins=f'JOIN bench_product bp ON bp.i = (g - 1) % '
            f'{products}')
        counts['channel order lines (sell-out)'] = orders * 4

    # stock: a storage location per distributor, incoming moves, lots ---
    location = b.one("SELECT id FROM stock_location WHERE distributor_role "
        "= 'storage' ORDER BY id LIMIT 1")
    move = b.one("SELECT m.id FROM stock_move m JOIN stock_location l ON "
        "l.id = m.to_location WHERE l.distributor_role = 'storage' AND "
        "m.state = 'done' ORDER BY m.id LIMIT 1")
    if location and move:
        first_location = b.copy('stock_location', location, n, {
                'name': "'Bench storage ' || g", 'code': "'BL' || g",
                'distributor': 'bd.item',
                }, joins='JOIN bench_distributor bd ON bd.i = g - 1')
        lot = b.one('SELECT id FROM stock_lot ORDER BY id LIMIT 1')
        first_lot = b.copy('stock_lot', lot, 100, {
                'number': "'BLOT' || g", 'product': 'bp.item',
                'expiration_date': b.day(start, f'(g * 7) % {period_days}'),
                }, joins=f'JOIN bench_product bp ON bp.i = g % {products}'
            ) if lot else None
        moves = 10 * n
        b.copy('stock_move', move, moves, {
                'to_location': f'{first_location - 1} + 1 + (g - 1) / 10',
                'product': 'bp.item',
                'quantity': '10.0 + g % 90', 'internal_quantity':
                '10.0 + g % 90',
                'effective_date': b.day(start, f'(g * 11) % {period_days}'),
                'planned_date': b.day(start, f'(g * 11) % {period_days}'),
                'state': "'done'", 'shipment': 'NULL', 'origin': 'NULL',
                'lot': (f'CASE WHEN g % 20 = 0 THEN {first_lot} + g % 100 '
                    'END' if first_lot else 'NULL'),
                }, joins=f'JOIN bench_product bp ON bp.i = '
            f'((g - 1) / 10 + g) % {products}')
        counts['storage moves'] = moves

    # policies and a promotion, every distributor a recipient -----------
    recipient = b.one('SELECT id FROM distributor_policy_recipient ORDER BY '
        'id LIMIT 1')
    policy = b.one("SELECT id FROM distributor_policy WHERE state IN "
        "('published', 'closed') ORDER BY id LIMIT 1")
    if recipient and policy:
        first_policy = b.copy('distributor_policy', policy, 3, {
                'number': "'BPOL' || g", 'title': "'Bench policy ' || g",
                'kind': "'notice'" if False else 't.kind',
                'state': "'published'",
                'published_at': b.stamp(start, 'g * 60'),
                'start_date': b.day(start, 'g * 60'),
                'end_date': 'NULL', 'previous_version': 'NULL',
                })
        b.copy('distributor_policy_recipient', recipient, 3 * n, {
                'policy': f'{first_policy - 1} + 1 + (g - 1) / {n}',
                'distributor': 'bd.item',
                'acknowledged_at': 'CASE WHEN g % 3 <> 0 THEN '
                f'{b.stamp(start, 100)} END',
                'acknowledged_by': 'NULL', 'viewed_by': 'NULL',
                }, joins=d)
        counts['policy recipients'] = 3 * n
        if promotion:
            promo_policy = b.one('SELECT dms_policy FROM sale_promotion '
                f'WHERE id = {promotion}')
            b.execute('UPDATE distributor_policy SET state = \'published\', '
                f"start_date = {b.day(start, 0)}, end_date = "
                f"{b.day(end, 0)} WHERE id = {promo_policy}")
            b.execute(f"UPDATE sale_promotion SET start_date = NULL, "
                f"end_date = NULL WHERE id = {promotion}")
            b.copy('distributor_policy_recipient', recipient, n, {
                    'policy': str(promo_policy),
                    'distributor': 'bd.item',
                    }, joins=d, where=f'NOT EXISTS (SELECT 1 FROM '
                'distributor_policy_recipient r WHERE r.policy = '
                f'{promo_policy} AND r.distributor = bd.item)')
            counts['promotion recipients'] = n

    # receivables: posted lines, some overdue, some reconciled ----------
    move_line = b.one("SELECT l.id FROM account_move_line l JOIN "
        "account_move m ON m.id = l.move JOIN account_account a ON a.id = "
        "l.account JOIN account_account_type ty ON ty.id = a.type JOIN "
        "party_party p ON p.id = l.party WHERE ty.receivable = "
        f"{true} AND m.state = 'posted' AND p.is_distributor = {true} "
        "AND l.debit > 0 ORDER BY l.id LIMIT 1")
    if move_line:
        account_move = b.one(f'SELECT move FROM account_move_line WHERE id = '
            f'{move_line}')
        receivables = 20 * n
        date = b.day(start, f'(g * 17) % {period_days}')
        first_move = b.copy('account_move', account_move, receivables, {
                'number': "'BM' || g", 'date': date, 'post_date': date,
                'state': "'posted'", 'origin': 'NULL',
                'description': "'bench'",
                })
        reconciliation = b.one('SELECT id FROM account_move_reconciliation '
            'ORDER BY id LIMIT 1')
        b.copy('account_move_line', move_line, receivables, {
                'move': f'{first_move - 1} + g',
                'party': 'bd.item',
                'debit': 'CASE WHEN g % 5 = 0 THEN 0 ELSE 100 + g % 900 END',
                'credit': 'CASE WHEN g % 5 = 0 THEN 50 + g % 300 ELSE 0 END',
                'maturity_date': b.day(start, f'(g * 17) % {period_days} + '
                    '30'),
                'reconciliation': (f'CASE WHEN g % 7 = 0 THEN '
                    f'{reconciliation} END' if reconciliation else 'NULL'),
                'description': 'NULL', 'origin': 'NULL',
                'state': "'valid'",
                }, joins=d)
        counts['receivable lines'] = receivables

    # incidents and disputed statements -----------------------------------
    incidents = max(n // 5, 1)
    diversion = b.one('SELECT id FROM distributor_diversion_incident '
        'ORDER BY id LIMIT 1')
    if diversion:
        b.copy('distributor_diversion_incident', diversion, incidents, {
                'shipped_to': 'bd.item', 'state': "'confirmed'",
                'date': b.day(start, f'(g * 3) % {period_days}'),
                }, joins=f'JOIN bench_distributor bd ON bd.i = (g * 7) % {n}')
        counts['diversion incidents'] = incidents
    price = b.one('SELECT id FROM distributor_price_incident ORDER BY id '
        'LIMIT 1')
    if price:
        b.copy('distributor_price_incident', price, incidents, {
                'distributor': 'bd.item', 'state': "'confirmed'",
                'date': b.day(start, f'(g * 5) % {period_days}'),
                }, joins=f'JOIN bench_distributor bd ON bd.i = (g * 11) % '
            f'{n}')
        counts['price incidents'] = incidents
    statement = b.one("SELECT id FROM distributor_account_statement WHERE "
        "kind = 'distributor' ORDER BY id LIMIT 1")
    log = b.one('SELECT id FROM distributor_account_statement_log ORDER BY '
        'id LIMIT 1')
    if statement and log:
        disputed = max(n // 10, 1)
        first_statement = b.copy('distributor_account_statement', statement,
            disputed, {
                'party': 'bd.item', 'number': "'BST' || g",
                'state': "'disputed'",
                'start_date': b.day(start, '((g % 12) * 30)'),
                'end_date': b.day(start, '((g % 12) * 30) + 29'),
                }, joins=f'JOIN bench_distributor bd ON bd.i = (g * 13) % '
            f'{n}')
        b.copy('distributor_account_statement_log', log, disputed, {
                'document': f'{first_statement - 1} + g',
                'from_state': "'sent'", 'to_state': "'disputed'",
                'create_date': b.stamp(start, '((g % 12) * 30) + 35'),
                })
        counts['disputed statements'] = disputed

    for table in ['party_party', 'party_party-distributor_territory',
            'sale_sale', 'sale_line', 'distributor_target',
            'distributor_channel_order', 'distributor_channel_order_line',
            'distributor_coverage_plan_store', 'stock_location',
            'stock_move', 'stock_lot', 'distributor_policy_recipient',
            'account_move', 'account_move_line',
            'distributor_diversion_incident', 'distributor_price_incident',
            'distributor_account_statement',
            'distributor_account_statement_log']:
        b.execute(f'ANALYZE "{table}"')
    return counts


def make_target(world, company):
    "A confirmed target made through the model (the template of the copies)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from distributor.access import trusted
    pool = Pool()
    Target = pool.get('distributor.target')
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT item FROM bench_distributor WHERE i = 0')
    party, = cursor.fetchone()
    with Transaction().set_context(company=company), trusted():
        target, = Target.create([{'company': company, 'distributor': party,
                    'start_date': world.start - dt.timedelta(days=400),
                    'end_date': world.start - dt.timedelta(days=370),
                    'amount': Decimal(1000)}])
        Target.confirm([target])
    return target.id


# (1) the assessment run ------------------------------------------------

def standard():
    "The shipped standard template and its KPIs"
    pool = Pool()
    Template = pool.get('distributor.assessment.template')
    ModelData = pool.get('ir.model.data')
    template = Template(ModelData.get_id(
            'distributor_assessment', 'template_standard'))
    return template, [l.kpi for l in template.lines]


def active_scope(ids=None):
    "The run's distributors as a scope query (column party)"
    from sql import Literal
    Party = Pool().get('party.party')
    party = Party.__table__()
    where = ((party.is_distributor == Literal(True))
        & (party.distributor_state == 'active'))
    if ids is not None:
        where &= party.id.in_(list(ids))
    return party.select(party.id.as_('party'), where=where)


def run_queries(world):
    """The KPIs of the standard template and the SQL of their queries as
    Kpi.compute issues them over the active distributors (the floor)"""
    Kpi = Pool().get('distributor.assessment.kpi')
    _, kpis = standard()
    captured = []

    def capture(cls, query, convert):
        captured.append(tuple(query))
        return {}
    Kpi._fetch = classmethod(capture)
    try:
        Kpi.compute(kpis, world.start, world.end, active_scope())
    finally:
        del Kpi._fetch
    if len(captured) != len(kpis):
        raise SystemExit(f'{len(captured)} queries for {len(kpis)} KPIs')
    return kpis, captured


def compute(world):
    Kpi = Pool().get('distributor.assessment.kpi')
    _, kpis = standard()
    return Kpi.compute(kpis, world.start, world.end, active_scope())


def assess(world):
    """An assessment run over every active distributor with the standard
    template, processed as the queue task does (without its commits)"""
    from distributor.access import trusted
    Run = Pool().get('distributor.assessment.run')
    template, _ = standard()
    with trusted():
        run, = Run.create([{'company': world.company,
                    'start_date': world.start, 'end_date': world.end,
                    'template': template.id}])
        Run._computing([run])
    Run.process([run])
    return run.id


def check_run(world, run_id):
    """Results = the active distributors, every KPI value equal to
    Kpi.compute's, and a few scores equal to a recomputation"""
    from trytond.transaction import Transaction
    from distributor_assessment.template import weighted_score
    pool = Pool()
    Run = pool.get('distributor.assessment.run')
    Kpi = pool.get('distributor.assessment.kpi')
    Result = pool.get('distributor.assessment.result')
    run = Run(run_id)
    template, kpis = standard()
    lines, ok = [], True
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT COUNT(*) FROM bench_distributor')
    expected, = cursor.fetchone()
    cursor.execute('SELECT COUNT(*) FROM distributor_assessment_result '
        'WHERE run = %s' % int(run_id))
    results, = cursor.fetchone()
    good = results == expected and run.state == 'computed'
    ok &= good
    lines.append(f'run {run.state}, {results:,} results (expected '
        f'{expected:,}), empty {run.empty}: ' + ('ok' if good else 'WRONG'))
    # every KPI value against Kpi.compute over the same distributors
    values = Kpi.compute(kpis, world.start, world.end, active_scope())
    cursor.execute('SELECT r.distributor, k.kpi, k.value FROM '
        'distributor_assessment_result_kpi k JOIN '
        'distributor_assessment_result r ON r.id = k.result '
        'WHERE r.run = %s' % int(run_id))
    stored = {(p, k): dec(v) for p, k, v in cursor}
    wrong = [(p, k) for k, by_party in values.items()
        for p, v in by_party.items() if stored.get((p, k), 'x') != dec(v)]
    ok &= not wrong
    applicable = {kpi.code: sum(1 for v in values[kpi.id].values()
            if v is not None) for kpi in kpis}
    lines.append(f'{len(stored):,} KPI values stored, '
        + (f'{len(wrong)} differ from Kpi.compute, e.g. {wrong[0]}'
            if wrong else 'all equal to Kpi.compute'))
    lines.append('applicable values per KPI: ' + ', '.join(
            f'{c} {n:,}' for c, n in applicable.items()))
    # a few scores recomputed: the KPIs of those distributors alone,
    # scored by the template's lines
    results = Result.search([('run', '=', run_id)], order=[('rank', 'ASC')])
    sample = results[:2] + results[len(results) // 2:len(results) // 2 + 2] \
        + results[-2:]
    few = Kpi.compute(kpis, world.start, world.end,
        active_scope([r.distributor.id for r in sample]))
    for result in sample:
        party = result.distributor.id
        pairs = [(line.weight, line.score(few[line.kpi.id].get(party)))
            for line in template.lines]
        score = weighted_score(pairs)
        grade = template.grade(score)
        good = (score == result.computed_score and grade == result.grade)
        ok &= good
        lines.append(f'distributor {party}: score {result.computed_score} '
            f'grade {result.grade} rank {result.rank} / recomputed {score} '
            f'{grade}: ' + ('same' if good else 'DIFFERENT'))
    return {'ok': ok, 'lines': lines, 'results': results and len(results)}


# (2) the sell-in analysis by territory and month -------------------------

ANALYSIS = 'distributor.report.sell_in.territory.time_series'


def analysis_sql(world):
    """One SQL aggregate of the same figures: the sell-in lines of the
    period under each territory of their distributor and above, by
    month"""
    from sql.aggregate import Count, Sum
    from trytond.transaction import Transaction
    from distributor_assessment import sales
    from distributor_report.analysis import period_start
    lines = sales.sell_in_lines()
    pairs = sales.distributor_territories()
    month = period_start(lines.date, 'month')
    cursor = Transaction().connection.cursor()
    rows = lines.join(pairs,
        condition=pairs.distributor == lines.distributor).select(
        pairs.territory.as_('territory'), month.as_('month'),
        lines.amount.as_('amount'), lines.quantity.as_('quantity'),
        lines.sale.as_('sale'),
        where=(lines.date >= world.first) & (lines.date <= world.end)
        & (lines.company == world.company))
    cursor.execute(*rows.select(rows.territory, rows.month,
            Sum(rows.amount), Sum(rows.quantity),
            Count(rows.sale, distinct=True),
            group_by=[rows.territory, rows.month]))
    return {(t, str(m)[:10]): (dec(a), round(float(q or 0), 6), int(c))
        for t, m, a, q, c in cursor}


def analysis_orm():
    """search + read of every row, as the client's list does: (rows, the
    seconds of the search alone)"""
    Model = Pool().get(ANALYSIS)
    start = time.perf_counter()
    records = Model.search([])
    search = time.perf_counter() - start
    rows = Model.read([r.id for r in records],
        ['territory', 'date', 'amount', 'quantity', 'number',
            'distributor_count'])
    return rows, search


def compare_analysis(expected, rows):
    got = {(r['territory'], str(r['date'])[:10]): (dec(r['amount']),
            round(float(r['quantity'] or 0), 6), int(r['number']))
        for r in rows}
    total = sum((v[0] for v in expected.values()), Decimal(0))
    if got == expected:
        return True, (f'same figures ({len(got):,} rows, amount under the '
            f'roots and below {total:,})')
    diff = [k for k in set(got) | set(expected)
        if got.get(k) != expected.get(k)]
    return False, (f'DIFFERENT figures: {len(diff)} rows differ, e.g. '
        f'{diff[0]}: {got.get(diff[0])} != {expected.get(diff[0])}')


# (3) the Excel export -------------------------------------------------

def export_sell_in(world, count):
    """xlsx_export of count sell-in lines streamed from a server-side
    cursor, in a process of its own (its memory alone): the figures"""
    import json
    import subprocess
    env = dict(os.environ, BENCH_EXPORT=json.dumps({
                'rows': count, 'company': world.company,
                'first': str(world.first), 'end': str(world.end)}))
    process = subprocess.run([sys.executable, __file__], env=env,
        capture_output=True, text=True)
    if process.returncode:
        print(process.stdout, process.stderr)
        raise SystemExit('the export failed')
    return json.loads(process.stdout.strip().splitlines()[-1])


def _export_child(spec):
    import io
    import json

    import openpyxl
    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    Pool(DB_NAME).init()
    with Transaction().start(DB_NAME, 0,
            context={'company': spec['company']}) as transaction:
        from distributor_assessment import output, sales
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        lines = sales.sell_in_lines()
        party = Party.__table__()
        product = Product.__table__()
        template = Template.__table__()
        query = (lines
            .join(party, condition=party.id == lines.distributor)
            .join(product, condition=product.id == lines.product)
            .join(template, condition=template.id == product.template)
            .select(lines.date, party.distributor_code, party.name,
                product.code, template.name, lines.quantity, lines.amount,
                lines.sale,
                where=(lines.date >= dt.date.fromisoformat(spec['first']))
                & (lines.date <= dt.date.fromisoformat(spec['end']))
                & (lines.company == spec['company']),
                order_by=[lines.id.asc], limit=spec['rows']))
        columns = [
            output.Column('Date', 'date', 11),
            output.Column('Code', 'text', 10),
            output.Column('Distributor', 'text', 28),
            output.Column('Product Code', 'text', 12),
            output.Column('Product', 'text', 24),
            output.Column('Quantity', 'number', 10),
            output.Column('Amount', 'amount', 14),
            output.Column('Sale', 'integer', 10),
            ]
        filters = [('From Date', spec['first']), ('To Date', spec['end'])]

        def rows(name):
            "the rows from a server-side cursor (PostgreSQL)"
            if backend.name == 'postgresql':
                cursor = transaction.connection.cursor(name)
                cursor.itersize = 2_000
            else:
                cursor = transaction.connection.cursor()
            cursor.execute(*query)
            for row in cursor:
                yield row
            cursor.close()

        def export(name):
            return output.xlsx_export("Sell-in lines", filters, columns,
                rows(name), count=spec['rows'],
                chart={'type': 'column', 'title': 'Amount', 'category': 2,
                    'value': 6})
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times = []
        for i in range(2):
            start = time.perf_counter()
            content = export(f'bench_export_{i}')
            times.append(time.perf_counter() - start)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        export('bench_export_traced')
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        workbook = openpyxl.load_workbook(io.BytesIO(content),
            read_only=True)
        sheet = workbook.worksheets[0]
        header = next(i for i, row in enumerate(
                sheet.iter_rows(values_only=True), 1)
            if row and row[0] == 'Date')
        read_back = sum(1 for row in sheet.iter_rows(min_row=header + 1,
                    values_only=True) if row and row[0] is not None)
        workbook.close()
        transaction.rollback()
    print(json.dumps({'rows': spec['rows'], 'time': min(times),
                'rate': spec['rows'] / min(times), 'size': len(content),
                'peak': peak, 'rss': rss - rss_before,
                'read_back': read_back}))


def profile(name, func):
    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    print(f'\nprofile of the {name} (cumulative, top 25):')
    pstats.Stats(profiler).sort_stats('cumulative').print_stats(25)


def Pool():
    from trytond.pool import Pool as Pool_
    return Pool_()


if __name__ == '__main__':
    if os.environ.get('BENCH_EXPORT'):
        import json
        _export_child(json.loads(os.environ['BENCH_EXPORT']))
        sys.exit(0)
    sys.exit(main())
