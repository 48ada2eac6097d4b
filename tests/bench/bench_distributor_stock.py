#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of channel stock: levels and replenishment suggestions.

Builds, on a throwaway database, D distributors (1,000 by default, each
activated with its warehouse tree), P products (200), tier min/max levels
for every product, and M done stock moves (1,000,000): receipts into the
distributors' storage and sell-out over 60 days.  The moves are loaded by
the database's bulk path (COPY on PostgreSQL), not the ORM: loading a
million moves through Move.create would take hours and measures nothing
of this module.  Then, in the same run, it times:

- all channel stock levels in one call (distributor.stock.level levels():
  Tryton's products_by_location over every distributor storage, per
  product and lot) against one hand-written SQL SUM ... GROUP BY over the
  same moves, and prints the ratio (target <= 2);
- all replenishment suggestions (distributor.stock.alert
  compute_suggestions(): levels, on order, sell-out statistics, limits,
  expiry) and prints the time (target: under a minute) and the peak
  memory (Python allocations traced in a second run, and the process's
  peak resident size);
- persisting them as alerts (refresh(), first run), for information.

    .venv/bin/python tests/bench/bench_distributor_stock.py \\
        [--distributors D] [--products P] [--moves M]

SQLite by default (a file under var/bench, smaller figures advised);
PostgreSQL when TRYTOND_DATABASE__URI is set (the figures the issue asks
for).  Figures, not assertions."""
import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BATCH = 40
sys.path.insert(0, str(ROOT / 'scripts'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int, default=1000)
    parser.add_argument('--products', type=int, default=200)
    parser.add_argument('--moves', type=int, default=1_000_000)
    args = parser.parse_args(argv)

    if not os.environ.get('TRYTOND_DATABASE__URI'):
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = str(bench_dir)
        db_file = bench_dir / 'bench_distributor_stock.sqlite'
        if db_file.exists():
            db_file.unlink()
        os.environ['DB_NAME'] = 'bench_distributor_stock'
    else:
        os.environ.setdefault(
            'DB_NAME', f'bench_distributor_stock_{os.getpid()}')

    from sql import Union
    from sql.aggregate import Sum

    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    from distributor.tests.tools import license_values, network
    from generate import in_transaction

    print(f'backend: {backend.name}')
    start = time.perf_counter()
    drop_db()
    activate_module(['distributor_stock'])
    print(f'activate modules: {time.perf_counter() - start:.1f} s')
    rng = random.Random(42)

    def setup():
        pool = Pool()
        Party = pool.get('party.party')
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        Limit = pool.get('distributor.stock.limit')
        with network() as (company, tiers, territories):
            unit, = Uom.search([('name', '=', 'Unit')])
            drinks, = Category.create([{'name': "Drinks"}])
            templates = []
            # batches of BATCH: Tryton checks EXCLUDE constraints with one
            # nested OR per record, which overflows SQLite's parser
            for i in range(0, args.products, BATCH):
                templates += Template.create([{
                            'name': f"Product {j}", 'type': 'goods',
                            'salable': True, 'code': f'B{j:04d}',
                            'default_uom': unit.id, 'sale_uom': unit.id,
                            'list_price': Decimal(10),
                            'pack_quantity': rng.choice([None, 6, 12]),
                            'categories': [('add', [drinks.id])],
                            'products': [('create', [{}])],
                            } for j in range(i, min(i + BATCH,
                                    args.products))])
            products = [t.products[0] for t in templates]
            leaves = [territories.nj, territories.sz, territories.hz]
            parties = []
            for i in range(0, args.distributors, BATCH):
                batch = Party.create([{
                            'name': f"Distributor {j}",
                            'is_distributor': True,
                            'distributor_code': f'B{j:05d}',
                            'distributor_tier': tiers[2].id,
                            'territories': [('add', [
                                        leaves[j % len(leaves)].id])],
                            'qualifications': [('create', [
                                        license_values(f'BL-{j}')])],
                            } for j in range(i, min(i + BATCH,
                                    args.distributors))])
                Party.change_distributor_state(batch, 'active')
                parties += batch
            for i in range(0, len(products), BATCH):
                Limit.create([{'tier': tiers[2].id, 'product': p.id,
                            'min_quantity': 20, 'max_quantity': 80}
                        for p in products[i:i + BATCH]])
            parties = Party.browse(parties)
            return (company.id, company.currency.id, unit.id,
                [p.id for p in products],
                [p.distributor_storage.id for p in parties])
    start = time.perf_counter()
    company_id, currency_id, unit_id, product_ids, storage_ids = (
        in_transaction(DB_NAME, setup))
    print(f'build {args.distributors} distributors (warehouse trees), '
        f'{args.products} products, limits: '
        f'{time.perf_counter() - start:.1f} s')

    def load_moves():
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        supplier, = Location.search([('code', '=', 'SUP')])
        customer, = Location.search([('code', '=', 'CUS')])
        today = pool.get('ir.date').today()
        columns = ['product', 'unit', 'quantity', 'internal_quantity',
            'from_location', 'to_location', 'effective_date',
            'planned_date', 'state', 'company', 'currency', 'unit_price',
            'create_uid', 'create_date']
        now = dt.datetime.now()

        pairs = len(product_ids) * len(storage_ids)

        def rows():
            # a receipt per distributor and product 59 days ago, then
            # sell-out on random days of the last 30
            for i in range(args.moves):
                product = product_ids[i % len(product_ids)]
                storage = storage_ids[(i // len(product_ids))
                    % len(storage_ids)]
                if i < pairs:
                    quantity = float(rng.randrange(40, 160))
                    date = today - dt.timedelta(days=59)
                    yield (product, unit_id, quantity, quantity,
                        supplier.id, storage, date, date, 'done',
                        company_id, currency_id, Decimal(10), 0, now)
                else:
                    quantity = float(rng.randrange(1, 12))
                    date = today - dt.timedelta(days=rng.randrange(30))
                    yield (product, unit_id, quantity, quantity,
                        storage, customer.id, date, date, 'done',
                        company_id, currency_id, Decimal(10), 0, now)
        cursor = Transaction().connection.cursor()
        table = Move._table
        if backend.name == 'postgresql':
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) '
                    'FROM STDIN') as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            cursor.executemany(
                f'INSERT INTO "{table}" ({", ".join(columns)}) '
                f'VALUES ({", ".join("?" * len(columns))})',
                ((*r[:11], float(r[11]), *r[12:]) for r in rows()))
        if backend.name == 'postgresql':
            cursor.execute(f'ANALYZE "{table}"')
    start = time.perf_counter()
    in_transaction(DB_NAME, load_moves)
    print(f'load {args.moves:,} done moves (bulk): '
        f'{time.perf_counter() - start:.1f} s')

    def raw_sql():
        pool = Pool()
        Move = pool.get('stock.move')
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        storages = storage_ids
        inside = Union(
            move.select(move.to_location.as_('location'), move.product,
                move.lot, move.internal_quantity.as_('qty'),
                where=(move.state == 'done')
                & move.to_location.in_(storages)),
            move.select(move.from_location.as_('location'), move.product,
                move.lot, (-move.internal_quantity).as_('qty'),
                where=(move.state == 'done')
                & move.from_location.in_(storages)),
            all_=True)
        cursor.execute(*inside.select(inside.location, inside.product,
                inside.lot, Sum(inside.qty),
                group_by=[inside.location, inside.product, inside.lot]))
        return len(cursor.fetchall())

    def levels():
        Level = Pool().get('distributor.stock.level')
        return len(Level.levels())

    def suggestions():
        Alert = Pool().get('distributor.stock.alert')
        return len(Alert.compute_suggestions())

    def refresh():
        Alert = Pool().get('distributor.stock.alert')
        Alert.refresh()
        return Alert.search([], count=True)

    def timed(func, runs=3):
        best, result = None, None
        for _ in range(runs):
            with Transaction().start(DB_NAME, 0, context={
                        'company': company_id}) as transaction:
                start = time.perf_counter()
                result = func()
                elapsed = time.perf_counter() - start
                if func is refresh:
                    transaction.commit()
                else:
                    transaction.rollback()
            best = elapsed if best is None else min(best, elapsed)
        return best, result

    timed(levels, 1)  # warm the caches
    sql_time, sql_rows = timed(raw_sql)
    level_time, level_rows = timed(levels)
    print(f'all stock levels: levels() {level_time:.2f} s ({level_rows:,} '
        f'levels) vs SQL SUM GROUP BY {sql_time:.2f} s ({sql_rows:,} '
        f'rows): ratio {level_time / sql_time:.2f}x (target <= 2)')
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    suggest_time, count = timed(suggestions)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    timed(suggestions, 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f'all replenishment suggestions: {suggest_time:.2f} s '
        f'({count:,} suggestions for {args.distributors * args.products:,} '
        f'distributor x product pairs; target < 60 s), peak Python '
        f'allocations {peak / 2 ** 20:.0f} MiB, process peak RSS '
        f'{rss_after / 1024:.0f} MiB (was {rss_before / 1024:.0f} MiB)')
    refresh_time, alerts = timed(refresh, 1)
    print(f'persist them as alerts (first refresh): {refresh_time:.1f} s '
        f'({alerts:,} alerts)')
    drop_db()
    return 0


if __name__ == '__main__':
    sys.exit(main())
