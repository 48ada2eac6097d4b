#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of coverage plans: the progress of a plan over its pairs.

Builds, on a throwaway database, D distributors (1,000 by default), S
stores (100,000) spread over them, P products (100), O channel orders
(100,000) of L lines in all (500,000) to the stores over 120 days (most
delivered, received or done; some still open, cancelled or rejected, a
few to distributors), C shelf checks (30,000) of 3 lines, and a running
coverage plan over T stores (20,000) x N products (50) started 60 days
ago, beside a smaller closed plan.  The rows are loaded by the database's
bulk path (COPY on PostgreSQL), not the ORM: creating and delivering
100,000 orders through the workflow would take hours and measures nothing
of the coverage.  Then, in the same run, it times:

- the plan's progress: distributor.coverage.plan coverage() (the ORM's
  one SQL) and a read of progress, covered_count and pair_count, against
  one hand-written SQL aggregate giving the same figures, which are
  checked equal; it prints the ratio (target <= 2);
- for information, the progress report of the plan
  (distributor.coverage.progress, per distributor, territory and product:
  the view's query whole, and its first page as the client reads it) and
  its missing pairs (distributor.coverage.missing: their count, and their
  first page); their totals are checked against the plan's.

    .venv/bin/python tests/bench/bench_distributor_store.py \\
        [--distributors D] [--stores S] [--products P] [--orders O] \\
        [--lines L] [--checks C] [--plan-stores T] [--plan-products N] \\
        [--runs R] [--keep]

SQLite by default (a file under var/bench, smaller figures advised);
PostgreSQL when TRYTOND_DATABASE__URI is set (the figures the issue asks
for).  Times are the best of R runs, each in its own transaction.
Figures, not assertions (but for the figures' agreement)."""
import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))

DELIVERED = ('delivered', 'received', 'done')
# state of the channel orders and its weight
ORDER_STATES = [
    ('done', 60), ('received', 10), ('delivered', 15), ('approved', 5),
    ('submitted', 3), ('draft', 2), ('cancelled', 3), ('rejected', 2)]

# The hand-written aggregate: the plan's stores, their count times its
# products' for the pairs ((plan, store) and (plan, product) are unique),
# and the covered pairs: the distinct (store, product) among the plan's
# that a delivery or a shelf check reached since the start.  The fastest
# form found (a LEFT JOIN of every pair to the distinct events, or CTEs,
# are slower).  %(p)s is the plan.
RAW_SQL = '''
SELECT
    (SELECT COUNT(*) FROM distributor_coverage_plan_store
        WHERE plan = %(p)s),
    (SELECT COUNT(*) FROM distributor_coverage_plan_store
        WHERE plan = %(p)s)
    * (SELECT COUNT(*) FROM "distributor_coverage_plan-product_product"
        WHERE plan = %(p)s),
    (SELECT COUNT(*) FROM (
        SELECT o.buyer, l.product
        FROM distributor_coverage_plan_store ps
        JOIN distributor_coverage_plan p ON p.id = ps.plan
        JOIN distributor_channel_order o ON o.buyer = ps.store
            AND o.delivered_date >= p.start_date
        JOIN distributor_channel_order_line l ON l."order" = o.id
        JOIN "distributor_coverage_plan-product_product" pp
            ON pp.plan = ps.plan AND pp.product = l.product
        WHERE ps.plan = %(p)s
            AND o.state IN ('delivered', 'received', 'done')
            AND o.buyer_kind = 'store'
            AND l.delivered_quantity > 0
        UNION
        SELECT k.store, kl.product
        FROM distributor_coverage_plan_store ps
        JOIN distributor_coverage_plan p ON p.id = ps.plan
        JOIN distributor_store_check k ON k.store = ps.store
            AND k.date >= p.start_date
        JOIN distributor_store_check_line kl ON kl."check" = k.id
        JOIN "distributor_coverage_plan-product_product" pp
            ON pp.plan = ps.plan AND pp.product = kl.product
        WHERE ps.plan = %(p)s
            AND k.state = 'done'
            AND kl.quantity > 0
        ) AS covered)
'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int, default=1000)
    parser.add_argument('--stores', type=int, default=100_000)
    parser.add_argument('--products', type=int, default=100)
    parser.add_argument('--orders', type=int, default=100_000)
    parser.add_argument('--lines', type=int, default=500_000)
    parser.add_argument('--checks', type=int, default=30_000)
    parser.add_argument('--plan-stores', type=int, default=20_000)
    parser.add_argument('--plan-products', type=int, default=50)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--keep', action='store_true',
        help="keep the database (to explain the queries)")
    args = parser.parse_args(argv)
    args.plan_stores = min(args.plan_stores, args.stores)
    args.plan_products = min(args.plan_products, args.products)

    if not os.environ.get('TRYTOND_DATABASE__URI'):
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = str(bench_dir)
        db_file = bench_dir / 'bench_distributor_store.sqlite'
        if db_file.exists():
            db_file.unlink()
        os.environ['DB_NAME'] = 'bench_distributor_store'
    else:
        os.environ.setdefault(
            'DB_NAME', f'bench_distributor_store_{os.getpid()}')

    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    from distributor.tests.tools import network
    from generate import in_transaction

    postgresql = backend.name == 'postgresql'
    param = '%s' if postgresql else '?'
    print(f'backend: {backend.name}')
    start = time.perf_counter()
    drop_db()
    activate_module(['distributor_store'])
    print(f'activate modules: {time.perf_counter() - start:.1f} s')
    rng = random.Random(42)

    def setup():
        pool = Pool()
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        with network() as (company, tiers, territories):
            unit, = Uom.search([('name', '=', 'Unit')])
            drinks, = Category.create([{'name': "Drinks"}])
            templates = []
            # by 20: SQLite's parser overflows on the validation of more
            for i in range(0, args.products, 20):
                templates += Template.create([{
                            'name': f"Product {j}", 'type': 'goods',
                            'salable': True, 'code': f'C{j:04d}',
                            'default_uom': unit.id, 'sale_uom': unit.id,
                            'list_price': Decimal(10),
                            'categories': [('add', [drinks.id])],
                            'products': [('create', [{}])],
                            } for j in range(i, min(i + 20,
                                    args.products))])
            leaves = [territories.nj, territories.sz, territories.hz,
                territories.gz]
            return (company.id, company.currency.id, tiers[2].id,
                [t.products[0].id for t in templates],
                [t.id for t in leaves])
    start = time.perf_counter()
    company_id, currency_id, tier_id, product_ids, leaf_ids = (
        in_transaction(DB_NAME, setup))
    print(f'build company, territories, {args.products} products: '
        f'{time.perf_counter() - start:.1f} s')

    def bulk(cursor, table, columns, rows):
        """Insert rows by the bulk path; return the new ids in the order
        of the rows (the identity is given row after row)"""
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')
        last, = cursor.fetchone()
        names = ', '.join(f'"{c}"' for c in columns)
        if postgresql:
            with cursor.copy(
                    f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f'INSERT INTO "{table}" ({names}) '
                f'VALUES ({", ".join("?" * len(columns))})', rows)
        cursor.execute(f'SELECT id FROM "{table}" WHERE id > {param} '
            'ORDER BY id', (last or 0,))
        return [i for i, in cursor]

    today = dt.date.today()
    plan_start = today - dt.timedelta(days=60)

    def load():
        pool = Pool()
        Plan = pool.get('distributor.coverage.plan')
        Party = pool.get('party.party')
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        Check = pool.get('distributor.store.check')
        CheckLine = pool.get('distributor.store.check.line')
        PlanStore = pool.get('distributor.coverage.plan.store')
        PartyTerritory = pool.get('party.party-distributor.territory')
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        counts = {}

        # distributors, each in one city
        distributors = bulk(cursor, Party._table, [
                'name', 'code', 'active', 'is_distributor',
                'distributor_code', 'distributor_tier', 'distributor_state',
                'is_store', 'is_terminal_customer', 'create_uid',
                'create_date'],
            ((f"Distributor {i}", f'BD{i:05d}', True, True, f'BD{i:05d}',
                    tier_id, 'active', False, False, 0, now)
                for i in range(args.distributors)))
        territory_of = {d: leaf_ids[i % len(leaf_ids)]
            for i, d in enumerate(distributors)}
        bulk(cursor, PartyTerritory._table, [
                'party', 'territory', 'create_uid', 'create_date'],
            ((d, t, 0, now) for d, t in territory_of.items()))

        # stores, a hundred per distributor by default, in its city; some
        # closed
        sizes = ['small', 'small', 'medium', 'medium', 'large',
            'hypermarket']
        cooperations = ['direct', 'franchise', 'chain', 'key_account']
        store_rows = []
        for i in range(args.stores):
            distributor = distributors[i % len(distributors)]
            store_rows.append((f"Store {i}", f'BS{i:06d}', True, False,
                    'draft', True, False, distributor,
                    territory_of[distributor],
                    'closed' if rng.random() < 0.03 else 'active',
                    rng.choice(sizes), rng.choice(cooperations), 0, now))
        stores = bulk(cursor, Party._table, [
                'name', 'code', 'active', 'is_distributor',
                'distributor_state', 'is_store', 'is_terminal_customer',
                'store_distributor', 'store_territory', 'store_state',
                'store_size', 'cooperation_type', 'create_uid',
                'create_date'], store_rows)
        store_info = {s: (r[7], r[8], r[9])
            for s, r in zip(stores, store_rows)}
        del store_rows
        counts['distributors'] = len(distributors)
        counts['stores'] = len(stores)

        # channel orders over 120 days, 5 lines each by default, products
        # drawn by a sales rank: the stores buy from their distributor, a
        # few distributors from another one
        weights = [1 / (k + 1) ** 0.8 for k in range(len(product_ids))]
        cum_weights = []
        for w in weights:
            cum_weights.append((cum_weights[-1] if cum_weights else 0) + w)
        states = [s for s, _ in ORDER_STATES]
        state_weights = [w for _, w in ORDER_STATES]
        order_rows, order_lines = [], []
        per_order, extra = divmod(args.lines, args.orders)
        for i in range(args.orders):
            if rng.random() < 0.03:
                buyer = rng.choice(distributors)
                seller = distributors[(distributors.index(buyer) + 1)
                    % len(distributors)]
                kind = 'distributor'
            else:
                buyer = rng.choice(stores)
                seller = store_info[buyer][0]
                kind = 'store'
            state, = rng.choices(states, state_weights)
            date = today - dt.timedelta(days=rng.randrange(120))
            delivered = None
            if state in DELIVERED:
                delivered = min(today,
                    date + dt.timedelta(days=rng.randrange(4)))
            order_rows.append((f'CO{i:07d}', company_id, currency_id, seller,
                    buyer, kind, date, delivered, state, Decimal(0), 0,
                    now))
            count = per_order + (1 if i < extra else 0)
            products = {}  # distinct, in the order drawn
            while len(products) < min(count, len(product_ids)):
                products.update(dict.fromkeys(rng.choices(
                            product_ids, cum_weights=cum_weights,
                            k=count - len(products))))
            order_lines.append((state, list(products)))
        orders = bulk(cursor, Order._table, [
                'number', 'company', 'currency', 'seller', 'buyer',
                'buyer_kind', 'date', 'delivered_date', 'state',
                'discount_amount', 'create_uid', 'create_date'],
            order_rows if postgresql else (
                (*r[:9], 0.0, *r[10:]) for r in order_rows))
        counts['orders'] = len(orders)
        counts['delivered orders'] = sum(
            1 for r in order_rows if r[8] in DELIVERED)
        del order_rows

        def line_rows():
            for order, (state, products) in zip(orders, order_lines):
                for product in products:
                    quantity = float(rng.randrange(1, 25))
                    if state in DELIVERED:
                        # a few lines short-delivered to nothing
                        delivered = (0.0 if rng.random() < 0.02
                            else quantity)
                    else:
                        delivered = None
                    yield (order, product, quantity, delivered, False, 0,
                        now)
        lines = bulk(cursor, Line._table, [
                'order', 'product', 'quantity', 'delivered_quantity',
                'promotion_gift', 'create_uid', 'create_date'],
            line_rows())
        counts['order lines'] = len(lines)

        # shelf checks over 120 days, most confirmed, 3 lines each, some
        # finding an empty shelf
        check_rows = []
        for i in range(args.checks):
            store = rng.choice(stores)
            check_rows.append((store, store_info[store][0],
                    today - dt.timedelta(days=rng.randrange(120)),
                    'done' if rng.random() < 0.9 else 'draft', 0, now))
        checks = bulk(cursor, Check._table, [
                'store', 'distributor', 'date', 'state', 'create_uid',
                'create_date'], check_rows)
        counts['shelf checks'] = len(checks)

        def check_line_rows():
            for check in checks:
                for product in rng.sample(product_ids,
                        min(3, len(product_ids))):
                    yield (check, product,
                        0.0 if rng.random() < 0.2
                        else float(rng.randrange(1, 30)), 0, now)
        counts['shelf check lines'] = len(bulk(cursor, CheckLine._table, [
                    'check', 'product', 'quantity', 'create_uid',
                    'create_date'], check_line_rows()))

        # the plan measured: active stores drawn at random and every
        # second product of the sales rank (best sellers and slow movers);
        # and an older closed plan beside it, on half as many stores and
        # products
        active = [s for s in stores if store_info[s][2] == 'active']
        targets = sorted(rng.sample(active, args.plan_stores))
        ranked = product_ids[::2] + product_ids[1::2]
        plan, old = Plan.create([{
                    'name': "Summer drinks",
                    'start_date': plan_start,
                    'deadline': today + dt.timedelta(days=30),
                    'products': [('add', ranked[:args.plan_products])],
                    }, {
                    'name': "Spring drinks",
                    'start_date': today - dt.timedelta(days=150),
                    'deadline': today - dt.timedelta(days=70),
                    'products': [('add', ranked[-(args.plan_products // 2
                                    or 1):])],
                    }])
        Plan.write([plan], {'state': 'running'}, [old], {'state': 'closed'})
        old_targets = rng.sample(active, args.plan_stores // 2)
        bulk(cursor, PlanStore._table, [
                'plan', 'store', 'distributor', 'territory', 'create_uid',
                'create_date'],
            [(plan.id, s, store_info[s][0], store_info[s][1], 0, now)
                for s in targets]
            + [(old.id, s, store_info[s][0], store_info[s][1], 0, now)
                for s in old_targets])
        if postgresql:
            for Model in [Party, Order, Line, Check, CheckLine, PlanStore,
                    pool.get('distributor.coverage.plan-product.product'),
                    Plan]:
                cursor.execute(f'ANALYZE "{Model._table}"')
        return plan.id, counts
    start = time.perf_counter()
    plan_id, counts = in_transaction(DB_NAME, load)
    print('load (bulk) ' + ', '.join(f'{v:,} {k}'
            for k, v in counts.items())
        + f': {time.perf_counter() - start:.1f} s')
    print(f'plan measured: {args.plan_stores:,} stores x '
        f'{args.plan_products} products = '
        f'{args.plan_stores * args.plan_products:,} pairs, started '
        f'{plan_start} (60 days ago), beside a closed plan of '
        f'{args.plan_stores // 2:,} stores')

    def raw_sql():
        cursor = Transaction().connection.cursor()
        if postgresql:
            cursor.execute(RAW_SQL, {'p': plan_id})
        else:
            cursor.execute(RAW_SQL.replace('%(p)s', ':p'), {'p': plan_id})
        return tuple(cursor.fetchone())

    def coverage():
        Plan = Pool().get('distributor.coverage.plan')
        return Plan.coverage([Plan(plan_id)])[plan_id]

    def read_progress():
        Plan = Pool().get('distributor.coverage.plan')
        record, = Plan.read([plan_id], [
                'progress', 'covered_count', 'pair_count', 'store_count'])
        return record

    report_fields = ['plan', 'distributor', 'territory', 'product', 'pairs',
        'covered', 'rate']

    def progress_report():
        """The whole report of the plan: the view's query filtered on the
        plan, fetched (reading tens of thousands of ids through the ORM
        is not what the client does: it reads pages)"""
        Progress = Pool().get('distributor.coverage.progress')
        report = Progress.table_query()
        cursor = Transaction().connection.cursor()
        cursor.execute(*report.select(report.distributor, report.territory,
                report.product, report.pairs, report.covered, report.rate,
                where=report.plan == plan_id))
        return [dict(zip(['distributor', 'territory', 'product', 'pairs',
                            'covered', 'rate'], r)) for r in cursor]

    def progress_page():
        "The first page of the report as the client shows it"
        Progress = Pool().get('distributor.coverage.progress')
        return Progress.search_read([('plan', '=', plan_id)], limit=1000,
            fields_names=report_fields)

    def missing_count():
        Missing = Pool().get('distributor.coverage.missing')
        return Missing.search_count([('plan', '=', plan_id)])

    def missing_page():
        Missing = Pool().get('distributor.coverage.missing')
        return Missing.search_read([('plan', '=', plan_id)], limit=1000,
            fields_names=['store', 'distributor', 'product'])

    def timed(func, runs=args.runs):
        times, result = [], None
        for _ in range(runs):
            with Transaction().start(DB_NAME, 0, context={
                        'company': company_id}) as transaction:
                start = time.perf_counter()
                result = func()
                times.append(time.perf_counter() - start)
                transaction.rollback()
        return min(times), statistics.median(times), result

    def missing_page_in_context():
        """The same page with the plan in the context, as the menu entry
        (its context form defaults to the latest running plan) and the
        plan's own action read it"""
        Missing = Pool().get('distributor.coverage.missing')
        with Transaction().set_context(coverage_plan=plan_id):
            return Missing.search_read([('plan', '=', plan_id)],
                limit=1000, fields_names=['store', 'distributor', 'product'])

    timed(raw_sql, 1)  # warm the caches
    timed(coverage, 1)
    sql_time, sql_median, (stores, pairs, covered) = timed(raw_sql)
    orm_time, orm_median, figures = timed(coverage)
    read_time, read_median, record = timed(read_progress)
    assert figures == (stores, pairs, covered), (figures, (
            stores, pairs, covered))
    assert (record['store_count'], record['pair_count'],
        record['covered_count']) == (stores, pairs, covered), record
    assert record['progress'] == round(covered / pairs, 4), record
    print(f'plan figures: {stores:,} stores, {pairs:,} pairs, {covered:,} '
        f'covered, progress {record["progress"]:.2%} (ORM and SQL agree)')
    print(f'one SQL aggregate (hand-written): {sql_time:.3f} s '
        f'(median {sql_median:.3f} s)')
    print(f'Plan.coverage(): {orm_time:.3f} s (median {orm_median:.3f} s): '
        f'ratio {orm_time / sql_time:.2f}x (target <= 2)')
    print(f'Plan.read(progress, covered_count, pair_count, store_count): '
        f'{read_time:.3f} s (median {read_median:.3f} s): ratio '
        f'{read_time / sql_time:.2f}x (target <= 2)')

    report_time, report_median, rows = timed(progress_report, 3)
    assert sum(r['pairs'] for r in rows) == pairs
    assert sum(r['covered'] for r in rows) == covered
    print(f'progress report of the plan (per distributor, territory and '
        f'product; the view\'s SQL, all rows): {report_time:.3f} s (median '
        f'{report_median:.3f} s, {len(rows):,} rows)')
    page_time, page_median, rows = timed(progress_page, 3)
    print(f'its first page as the client reads it (search_read, limit '
        f'1,000): {page_time:.3f} s '
        f'(median {page_median:.3f} s, {len(rows):,} rows)')
    missing_time, missing_median, missing = timed(missing_count, 3)
    assert missing == pairs - covered, (missing, pairs - covered)
    print(f'missing pairs of the plan (search_count): {missing_time:.3f} s '
        f'(median {missing_median:.3f} s, {missing:,} pairs)')
    page_time, page_median, rows = timed(missing_page, 3)
    print(f'their first page as the client reads it (search_read, limit '
        f'1,000): {page_time:.3f} s '
        f'(median {page_median:.3f} s, {len(rows):,} rows)')
    context_time, context_median, context_rows = timed(
        missing_page_in_context, 3)
    assert context_rows == rows
    print(f'the same page with the plan in the context (menu entry, '
        f'plan action): {context_time:.3f} s (median '
        f'{context_median:.3f} s)')
    if args.keep:
        print(f'database kept: {DB_NAME}')
    else:
        drop_db()
    return 0


if __name__ == '__main__':
    sys.exit(main())
