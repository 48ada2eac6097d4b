#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the rebate accrual.

Builds, on a throwaway database, D distributors (1,000 by default) who
receive a published rebate policy with one program (invoiced amount of
the drinks category and its sub-categories, a year, two tiers), and L
posted customer invoice lines (1,000,000 by default) spread over their
invoices, products in and out of scope, credit notes included, inserted
with raw SQL (INSERT ... SELECT generate_series on PostgreSQL).  Then, in
the same run, it times:

- the accrual of the program for all its distributors
  (distributor.rebate.accrual compute: scope, recipients, one SQL
  aggregate, the tiers, the accrual rows replaced in bulk);
- one bare SQL aggregate over the same lines (the per-distributor sum of
  the same scope and period), the floor;

and prints both times and their ratio (target <= 2x), and checks that
both give the same volumes.

    .venv/bin/python tests/bench/bench_rebate_accrual.py \\
        [--distributors D] [--lines L]

PostgreSQL when TRYTOND_DATABASE__URI is set (the figures the issue asks
for: start a cluster with scripts/pg_cluster.sh and source its env);
SQLite otherwise (a file under var/bench, smaller sizes advised).
Figures, not assertions."""
import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))


def timed(func, repeat=3):
    "Best wall time of repeat runs and the last result"
    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int, default=1000)
    parser.add_argument('--lines', type=int, default=1000000)
    parser.add_argument('--lines-per-invoice', type=int, default=20)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args(argv)

    if not os.environ.get('TRYTOND_DATABASE__URI'):
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = str(bench_dir)
        db_file = bench_dir / 'bench_rebate_accrual.sqlite'
        if db_file.exists():
            db_file.unlink()
        os.environ['DB_NAME'] = 'bench_rebate_accrual'
    else:
        os.environ.setdefault(
            'DB_NAME', f'bench_rebate_accrual_{os.getpid()}')

    from sql import Cast
    from sql.aggregate import Sum
    from sql.functions import Round

    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    from generate import in_transaction
    from distributor_sale.tests.tools import sale_network

    print(f'backend: {backend.name}')
    start = time.perf_counter()
    drop_db()
    activate_module(['distributor_policy'])
    print(f'activate modules: {time.perf_counter() - start:.1f} s')

    today = dt.date.today()
    year_start, year_end = today.replace(month=1, day=1), today.replace(
        month=12, day=31)

    def setup():
        pool = Pool()
        Party = pool.get('party.party')
        Policy = pool.get('distributor.policy')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        Template = pool.get('product.template')
        with sale_network() as n:
            company = n.company
            tier = n.tiers[1]
            # the distributors (plain parties: the program reads its
            # policy's recipients, recorded below as publish records them)
            parties = Party.create([{
                        'name': f"Bench Distributor {i:05d}",
                        'is_distributor': True,
                        'distributor_code': f'RB{i:05d}',
                        'distributor_tier': tier.id,
                        } for i in range(args.distributors)])
            # products: p1, p2 (drinks, juice) and 3 more drinks in scope,
            # p3 (snacks) and 2 more snacks out of scope
            extra = Template.create([{
                        'name': f"Bench {i}", 'type': 'goods',
                        'salable': True, 'code': f'RBP{i}',
                        'default_uom': n.products.unit.id,
                        'sale_uom': n.products.unit.id,
                        'list_price': Decimal(10 + i),
                        'account_category': (
                            n.products.p1.account_category.id),
                        'categories': [('add', [(n.products.drinks
                                        if i < 3 else n.products.snacks).id])],
                        'products': [('create', [{}])],
                        } for i in range(5)])
            products = [n.products.p1.id, n.products.p2.id,
                n.products.p3.id] + [t.products[0].id for t in extra]
            policy, = Policy.create([{
                        'title': "Bench rebate", 'kind': 'rebate',
                        'body': '<p>Bench</p>',
                        'start_date': year_start, 'end_date': year_end,
                        'distributors': [('add', [n.d1.id])],
                        'rebate_programs': [('create', [{
                                        'name': "Drinks",
                                        'basis': 'amount',
                                        'period': 'year',
                                        'tier_mode': 'marginal',
                                        'start_date': year_start,
                                        'end_date': year_end,
                                        'categories': [('add', [
                                                    n.products.drinks.id])],
                                        'tiers': [('create', [
                                                    {'threshold': Decimal(
                                                            100000),
                                                        'rate': Decimal(2)},
                                                    {'threshold': Decimal(
                                                            200000),
                                                        'rate': Decimal(3)},
                                                    ])],
                                        }])],
                        }])
            Policy.publish([policy])
            Recipient = pool.get('distributor.policy.recipient')
            recipient = Recipient.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*recipient.delete(
                    where=recipient.policy == policy.id))
            for sub in range(0, len(parties), 500):
                cursor.execute(*recipient.insert(
                        [recipient.policy, recipient.distributor,
                            recipient.create_uid, recipient.create_date],
                        [[policy.id, p.id, 0, dt.datetime.now()]
                            for p in parties[sub:sub + 500]]))
            program, = Policy(policy.id).rebate_programs
            # a template invoice and line, copied by SQL
            receivable, = Account.search([('type.receivable', '=', True),
                    ('closed', '!=', True)], limit=1)
            journal, = Journal.search([('type', '=', 'revenue')], limit=1)
            invoice = Invoice(type='out', party=n.d1, company=company,
                currency=company.currency, account=receivable,
                journal=journal, invoice_date=today,
                invoice_address=n.d1.address_get(type='invoice'),
                payment_term=None)
            line = InvoiceLine(invoice=invoice, type='line',
                product=n.products.p1, quantity=1,
                unit=n.products.unit, unit_price=Decimal(10), taxes=[],
                account=n.accounts.revenue, company=company,
                currency=company.currency)
            invoice.lines = [line]
            invoice.save()
            return (company.id, program.id, [p.id for p in parties],
                products, invoice.id, invoice.lines[0].id)

    start = time.perf_counter()
    company_id, program_id, party_ids, products, template_invoice, \
        template_line = in_transaction(DB_NAME, setup)
    print(f'build {args.distributors} distributors and the program: '
        f'{time.perf_counter() - start:.1f} s')

    invoices = max(args.lines // args.lines_per_invoice, 1)
    lines = invoices * args.lines_per_invoice

    def insert():
        "Invoices and lines by raw SQL (copies of the template rows)"
        cursor = Transaction().connection.cursor()

        def columns(table):
            cursor.execute('SELECT * FROM "%s" WHERE 1 = 0' % table)
            return [c[0] for c in cursor.description if c[0] != 'id']
        n = len(party_ids)
        days = max((today - year_start).days, 1)
        invoice_columns = columns('account_invoice')
        line_columns = columns('account_invoice_line')
        parties_array = 'ARRAY[%s]' % ','.join(map(str, party_ids))
        products_array = 'ARRAY[%s]' % ','.join(map(str, products))
        if backend.name != 'postgresql':
            raise SystemExit('the raw SQL build needs PostgreSQL')
        invoice_values = {
            'party': f'({parties_array})[1 + (g %% {n})]',
            'state': "'posted'",
            'invoice_date': f"DATE '{year_start}' + (g %% {days})",
            'number': "'RB' || g",
            'move': 'NULL',
            'description': "'bench ' || g",
            }
        select = ', '.join(invoice_values.get(c, f't."{c}"')
            for c in invoice_columns)
        cursor.execute(
            'INSERT INTO account_invoice (%s) SELECT %s FROM '
            'account_invoice t, generate_series(1, %%s) g '
            'WHERE t.id = %%s' % (
                ', '.join(f'"{c}"' for c in invoice_columns), select),
            (invoices, template_invoice))
        cursor.execute("SELECT min(id), max(id) FROM account_invoice "
            "WHERE description LIKE 'bench %%'")
        first, last = cursor.fetchone()
        # every 10th line a credit note line (negative quantity)
        per = args.lines_per_invoice
        line_values = {
            'invoice': f'{first} + ((g - 1) / {per})',
            'product': f'({products_array})[1 + (g %% {len(products)})]',
            'quantity': 'CASE WHEN g %% 10 = 0 THEN -1.0 ELSE '
            '(1 + g %% 7)::float END',
            'unit_price': '(5 + g %% 13)::numeric',
            'origin': 'NULL',
            }
        select = ', '.join(line_values.get(c, f't."{c}"')
            for c in line_columns)
        cursor.execute(
            'INSERT INTO account_invoice_line (%s) SELECT %s FROM '
            'account_invoice_line t, generate_series(1, %%s) g '
            'WHERE t.id = %%s' % (
                ', '.join(f'"{c}"' for c in line_columns), select),
            (lines, template_line))
        cursor.execute('ANALYZE account_invoice')
        cursor.execute('ANALYZE account_invoice_line')
        return last - first + 1

    start = time.perf_counter()
    count = in_transaction(DB_NAME, insert)
    print(f'insert {count} invoices, {lines} lines (SQL): '
        f'{time.perf_counter() - start:.1f} s')

    def measure():
        pool = Pool()
        Program = pool.get('distributor.rebate.program')
        Accrual = pool.get('distributor.rebate.accrual')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Product = pool.get('product.product')
        program = Program(program_id)
        period = program.period_at(today)
        scope = sorted(p.id for p in Product.search([
                    ('template.categories', 'child_of',
                        [c.id for c in program.categories], 'parent')]))
        cursor = Transaction().connection.cursor()
        invoice, line = Invoice.__table__(), Line.__table__()

        def bare():
            "The floor: one aggregate over the same lines"
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id).select(
                    invoice.party,
                    Sum(Round(Cast(line.quantity, 'NUMERIC')
                            * line.unit_price, 2)),
                    where=(invoice.type == 'out')
                    & invoice.state.in_(['posted', 'paid'])
                    & (invoice.invoice_date >= period[0])
                    & (invoice.invoice_date <= period[1])
                    & (line.type == 'line')
                    & line.product.in_(scope)
                    & (invoice.company == company_id),
                    group_by=[invoice.party]))
            return {p: Decimal(str(v)).quantize(Decimal('0.01'))
                for p, v in cursor}

        def accrual():
            return Accrual.compute([Program(program_id)], date=today)
        sql_time, sql_result = timed(bare, args.repeat)
        model_time, _ = timed(accrual, args.repeat)
        model_result = {a.party.id: a.volume
            for a in Accrual.of(program, period[0]).values() if a.volume}
        rows = Accrual.search_count([('program', '=', program_id)])
        return sql_time, model_time, sql_result, model_result, rows

    with Transaction().start(DB_NAME, 0, context={'company': company_id}):
        sql_time, model_time, sql_result, model_result, rows = measure()
    ratio = model_time / sql_time if sql_time else float('inf')
    same = ('same volumes' if sql_result == model_result
        else 'DIFFERENT volumes')
    print(f'accrual of 1 program x {len(party_ids)} distributors over '
        f'{lines} lines ({rows} accrual rows)')
    print(f'  bare SQL aggregate  {sql_time * 1000:9.1f} ms')
    print(f'  accrual (models)    {model_time * 1000:9.1f} ms')
    print(f'  ratio {ratio:.2f}x (target <= 2.00x), {same}')
    drop_db()
    return 0


if __name__ == '__main__':
    sys.exit(main())
