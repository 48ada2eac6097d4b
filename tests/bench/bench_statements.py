#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the statements of account (对账单).

Builds, on a throwaway database, a company with the Chinese chart
(小企业会计准则: receivable 1122, advance receipts 2203), D distributors
(1,000 by default) and L posted receivable move lines (240,000) spread
evenly over M months (7) of last year: invoices (with their
account.invoice), credit notes and payments, some of them reconciled,
each move balanced by a revenue or cash line; plus P deposit lines
(20,000: received and used).  The rows are inserted with raw SQL
(INSERT ... SELECT generate_series), not the ORM.  The statements are
those of month M - 1: the opening balance reads every earlier month, the
last month is after the period.  Then, in the same run, it times:

(a) one bare SQL aggregate over the same lines: opening, debit, credit
    and count per party up to the end of the month (the floor);
(b) what a user triggers: a statement run (distributor.account.statement
    .run process) over every active distributor for the month, creating
    the statements (each repetition in a transaction rolled back), and,
    for information, the same run again once they exist (regenerating
    replaces their figures);
(c) reading one statement: its lines through the line view (an SQL view
    with window functions: search + read, as the client does) against
    the same view's query alone, and the whole statement detail
    (dms_values with lines and conversation, what the portal's detail
    returns).

It prints the times (best of R runs, with the median and the worst: the
machine may be shared), the ratio of (b) to (a) (target <= 2x), and
checks that the statements' opening, debit, credit and line count equal
(a)'s.

    .venv/bin/python tests/bench/bench_statements.py \\
        [--distributors D] [--lines L] [--deposits P] [--months M] \\
        [--repeat R] [--keep]

PostgreSQL: start a cluster with scripts/pg_cluster.sh and source its
env (the raw SQL build needs PostgreSQL).  Figures, not assertions (but
for the figures' agreement)."""
import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))

CENT = Decimal('0.01')

# the bare aggregate: the same lines as the statements' figures (posted
# moves of the company up to the end, on the receivable and deposit
# accounts of the company, of the parties), one row per party
BARE_SQL = '''
SELECT l.party,
    SUM(CASE WHEN m.date < %(start)s THEN l.debit - l.credit ELSE 0 END),
    SUM(CASE WHEN m.date >= %(start)s THEN l.debit ELSE 0 END),
    SUM(CASE WHEN m.date >= %(start)s THEN l.credit ELSE 0 END),
    SUM(CASE WHEN m.date >= %(start)s THEN 1 ELSE 0 END)
FROM account_move_line l
JOIN account_move m ON m.id = l.move
WHERE l.account = ANY(%(accounts)s)
    AND l.party = ANY(%(parties)s)
    AND m.state = 'posted' AND m.company = %(company)s
    AND m.date <= %(end)s
GROUP BY l.party
'''

FIGURES = ['opening_balance', 'total_debit', 'total_credit', 'line_count']


def timed(func, repeat, before=None, after=None):
    """The wall times of repeat runs of func (before and after each run,
    untimed) and the last result"""
    times, result = [], None
    for i in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
        if after:
            after(i)
    return times, result


def spread(times):
    "best (median, worst)"
    return (f'{min(times) * 1000:9.1f} ms  (median '
        f'{statistics.median(times) * 1000:.1f}, worst '
        f'{max(times) * 1000:.1f}, {len(times)} runs)')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int, default=1000)
    parser.add_argument('--lines', type=int, default=240_000,
        help="receivable move lines (besides the deposits)")
    parser.add_argument('--deposits', type=int, default=20_000,
        help="deposit move lines")
    parser.add_argument('--months', type=int, default=7)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--keep', action='store_true',
        help="keep the database (to explain the queries)")
    args = parser.parse_args(argv)
    args.months = max(2, min(args.months, 12))

    if not os.environ.get('TRYTOND_DATABASE__URI'):
        raise SystemExit('the raw SQL build needs PostgreSQL: start one '
            'with scripts/pg_cluster.sh and source its env')
    os.environ.setdefault('DB_NAME', f'bench_statements_{os.getpid()}')

    from trytond import backend
    from trytond.modules.account.tests import get_fiscalyear
    from trytond.modules.account_invoice.tests import set_invoice_sequences
    from trytond.modules.company.tests import create_company, set_company
    from trytond.model import fields
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    from generate import in_transaction

    if backend.name != 'postgresql':
        raise SystemExit('the raw SQL build needs PostgreSQL')
    print(f'backend: {backend.name}, database {DB_NAME}')
    start = time.perf_counter()
    drop_db()
    activate_module(['distributor_account'])
    print(f'activate modules: {time.perf_counter() - start:.1f} s')

    year = dt.date.today().year - 1
    month = args.months - 1
    period_start = dt.date(year, month, 1)
    period_end = dt.date(year, month + 1, 1) - dt.timedelta(days=1)

    def setup():
        "Company, Chinese chart, fiscal year, distributors, template moves"
        pool = Pool()
        Party = pool.get('party.party')
        Tier = pool.get('distributor.tier')
        Journal = pool.get('account.journal')
        FiscalYear = pool.get('account.fiscalyear')
        Period = pool.get('account.period')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        from distributor_account.chart import create_chart, get_account
        Currency = pool.get('currency.currency')
        currency, = Currency.search([('code', '=', 'CNY')], limit=1) or (
            Currency.create([{'name': "Yuan", 'code': 'CNY', 'symbol': '¥',
                            'rounding': CENT, 'digits': 2}]))
        company = create_company("对账基准公司", currency)
        with set_company(company):
            create_chart(company)
            fiscalyear = set_invoice_sequences(
                get_fiscalyear(company, today=dt.date(year, 1, 1)))
            fiscalyear.save()
            FiscalYear.create_period([fiscalyear])
            receivable = get_account(company, 'receivable')
            deposit = get_account(company, 'deposit')
            revenue = get_account(company, 'revenue')
            cash = get_account(company, 'bank')
            tier, = Tier.create([{'code': 'T1', 'name': "Bench Tier",
                        'level': 1}])
            parties = Party.create([{
                        'name': f"对账经销商 {i:05d}",
                        'is_distributor': True,
                        'distributor_code': f'ST{i:05d}',
                        'distributor_tier': tier.id,
                        } for i in range(args.distributors)])
            party_table = Party.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*party_table.update(
                    [party_table.distributor_state], ['active'],
                    where=party_table.id.in_([p.id for p in parties])))
            # templates: a posted invoice, a posted payment, reconciled
            journal_revenue, = Journal.search([('type', '=', 'revenue')],
                limit=1)
            journal_cash, = Journal.search([('type', '=', 'cash')],
                limit=1)
            party = parties[0]
            Address = pool.get('party.address')
            Address.create([{'party': party.id, 'street': "中山路 1 号"}])
            date = dt.date(year, 1, 15)
            invoice = Invoice(type='out', party=party, company=company,
                currency=company.currency, account=receivable,
                journal=journal_revenue, invoice_date=date,
                accounting_date=date,
                invoice_address=party.address_get(type='invoice'),
                payment_term=None)
            invoice.lines = [InvoiceLine(invoice=invoice, type='line',
                    quantity=1, unit_price=Decimal(100), account=revenue,
                    taxes=[], description="Goods", company=company,
                    currency=company.currency)]
            invoice.save()
            Invoice.post([invoice])
            payment, = Move.create([{
                        'journal': journal_cash.id,
                        'period': Period.find(company, date=date),
                        'date': date, 'description': "Bank transfer",
                        'lines': [('create', [{
                                        'account': cash.id,
                                        'debit': Decimal(100),
                                        'credit': Decimal(0),
                                        }, {
                                        'account': receivable.id,
                                        'party': party.id,
                                        'debit': Decimal(0),
                                        'credit': Decimal(100),
                                        }])],
                        }])
            Move.post([payment])
            to_reconcile = [l for l in invoice.move.lines + payment.lines
                if l.account == receivable]
            MoveLine.reconcile(to_reconcile)
            reconciliation, = Reconciliation.search([], limit=1)
            periods = {p.start_date.month: p.id
                for p in Period.search([('fiscalyear', '=', fiscalyear.id),
                        ('type', '=', 'standard')])}
            return SimpleNamespace(
                company=company.id, parties=[p.id for p in parties],
                receivable=receivable.id, deposit=deposit.id,
                revenue=revenue.id, cash=cash.id,
                journal_revenue=journal_revenue.id,
                journal_cash=journal_cash.id,
                invoice=invoice.id, move=invoice.move.id,
                line=to_reconcile[0].id,
                reconciliation=reconciliation.id,
                periods=[periods[m] for m in range(1, 13)])

    start = time.perf_counter()
    world = in_transaction(DB_NAME, setup)
    print(f'build the company, the chart, {args.distributors} '
        f'distributors: {time.perf_counter() - start:.1f} s')

    def insert():
        """Moves, their lines, invoices and reconciliations by raw SQL
        (copies of the template rows).  Row g of L + P:
        g <= L, g % 10 in 0..5: an invoice (receivable debit, revenue
        credit), 6: a credit note (receivable credit, revenue debit), 7..9:
        a payment (receivable credit, cash debit); g > L: a deposit, every
        other one received (deposit credit, cash debit) or used (deposit
        debit, revenue credit).  Invoices and payments before the period,
        two in three, are reconciled (one reconciliation per party)."""
        cursor = Transaction().connection.cursor()

        def columns(table):
            cursor.execute('SELECT * FROM "%s" WHERE 1 = 0' % table)
            return [c[0] for c in cursor.description]

        def copy(table, template, count, values, where='TRUE'):
            cols = columns(table)
            select = ', '.join(values.get(c, f't."{c}"') for c in cols)
            cursor.execute(
                'INSERT INTO "%s" (%s) SELECT %s FROM "%s" t, '
                'generate_series(1, %%s) g WHERE t.id = %%s AND %s '
                'ORDER BY g' % (
                    table, ', '.join(f'"{c}"' for c in cols), select,
                    table, where), (count, template))
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('\"%s\"', 'id'), "
                "(SELECT MAX(id) FROM \"%s\"))" % (table, table))

        def next_id(table):
            cursor.execute('SELECT COALESCE(MAX(id), 0) FROM "%s"' % table)
            return cursor.fetchone()[0]

        n, total = len(world.parties), args.lines + args.deposits
        parties = 'ARRAY[%s]::INTEGER[]' % ','.join(map(str, world.parties))
        periods = 'ARRAY[%s]::INTEGER[]' % ','.join(map(str, world.periods))
        party = f'({parties})[1 + (g %% {n})]'
        # the dates: evenly over the months, day 1..28
        month = f'(1 + ((g * 7919) %% {args.months}))'
        date = (f"make_date({year}, {month}, 1 + ((g / 13) %% 28))")
        kind = f'CASE WHEN g > {args.lines} THEN 10 ELSE g %% 10 END'
        # reconciled: invoices and payments before the period, 2 in 3
        reconciled = (f'(g <= {args.lines} AND g %% 10 <> 6 '
            f'AND {month} < {period_start.month} AND g %% 3 <> 0)')
        amount = 'ROUND(50 + (g %% 4999) + (g %% 100) / 100.0, 2)'

        first_rec = next_id('account_move_reconciliation') + 1
        copy('account_move_reconciliation', world.reconciliation, n, {
                'id': f'{first_rec - 1} + g',
                'name': "'BR' || g",
                })
        recs = f'{first_rec - 1} + 1 + (g %% {n})'

        first_move = next_id('account_move') + 1
        journal = (f'CASE WHEN {kind} < 7 OR (g > {args.lines} AND '
            f'g %% 2 = 1) THEN {world.journal_revenue} '
            f'ELSE {world.journal_cash} END')
        copy('account_move', world.move, total, {
                'id': f'{first_move - 1} + g',
                'number': "'BM' || g",
                'post_number': "'BP' || g",
                'date': date,
                'post_date': date,
                'period': f'({periods})[{month}]',
                'journal': journal,
                'origin': 'NULL',
                'description': "'bench ' || g",
                'state': "'posted'",
                })
        move_id = f'{first_move - 1} + g'
        first_line = next_id('account_move_line') + 1
        # the party's line (receivable or deposit)
        debit = (f'CASE WHEN {kind} < 6 OR (g > {args.lines} AND '
            f'g %% 2 = 1) THEN {amount} ELSE 0 END')
        credit = (f'CASE WHEN {kind} < 6 OR (g > {args.lines} AND '
            f'g %% 2 = 1) THEN 0 ELSE {amount} END')
        copy('account_move_line', world.line, total, {
                'id': f'{first_line - 1} + g',
                'move': move_id,
                'account': (f'CASE WHEN g > {args.lines} THEN '
                    f'{world.deposit} ELSE {world.receivable} END'),
                'party': party,
                'debit': debit,
                'credit': credit,
                'description': 'NULL',
                'maturity_date': (f'CASE WHEN {kind} < 6 THEN {date} + 30 '
                    'END'),
                'reconciliation': f'CASE WHEN {reconciled} THEN {recs} END',
                'state': "'valid'",
                })
        # the counterpart (revenue or cash), no party
        copy('account_move_line', world.line, total, {
                'id': f'{first_line - 1} + {total} + g',
                'move': move_id,
                'account': (f'CASE WHEN {journal} = {world.journal_revenue} '
                    f'THEN {world.revenue} ELSE {world.cash} END'),
                'party': 'NULL',
                'debit': credit,
                'credit': debit,
                'description': 'NULL',
                'maturity_date': 'NULL',
                'reconciliation': 'NULL',
                'state': "'valid'",
                })
        # the invoices of the invoice and credit note moves
        first_invoice = next_id('account_invoice') + 1
        copy('account_invoice', world.invoice, total, {
                'id': f'{first_invoice - 1} + g',
                'party': party,
                'number': "'BI' || g",
                'reference': 'NULL',
                'description': "'bench ' || g",
                'invoice_date': date,
                'accounting_date': date,
                'move': move_id,
                'state': "'posted'",
                }, where=f'g <= {args.lines} AND g %% 10 < 7')
        for table in ['account_move', 'account_move_line',
                'account_invoice', 'account_move_reconciliation']:
            cursor.execute(f'ANALYZE "{table}"')
        cursor.execute('SELECT COUNT(*) FROM account_invoice')
        return cursor.fetchone()[0]

    start = time.perf_counter()
    invoices = in_transaction(DB_NAME, insert)
    print(f'insert {args.lines + args.deposits} moves, '
        f'{2 * (args.lines + args.deposits)} move lines '
        f'({args.lines} receivable, {args.deposits} deposit), '
        f'{invoices} invoices (SQL): {time.perf_counter() - start:.1f} s')

    # (a) and (b) -----------------------------------------------------

    def bare():
        cursor = Transaction().connection.cursor()
        cursor.execute(BARE_SQL, {
                'start': period_start, 'end': period_end,
                'accounts': [world.receivable, world.deposit],
                'parties': world.parties,
                'company': world.company})
        return {row[0]: tuple(Decimal(str(v)).quantize(CENT)
                for v in row[1:4]) + (int(row[4]),) for row in cursor}

    def run():
        "A statement run over every active distributor for the month"
        Run = Pool().get('distributor.account.statement.run')
        from distributor.access import trusted
        with trusted():
            record, = Run.create([{'company': world.company,
                        'start_date': period_start,
                        'end_date': period_end}])
        Run.process([record])
        return Run(record.id)

    def figures():
        "The generated statements' figures by party"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT party, ' + ', '.join(FIGURES)
            + ' FROM distributor_account_statement WHERE start_date = %s '
            "AND end_date = %s AND kind = 'distributor' "
            "AND state <> 'cancelled'", (period_start, period_end))
        return {row[0]: tuple(Decimal(str(v or 0)).quantize(CENT)
                for v in row[1:4]) + (int(row[4] or 0),) for row in cursor}

    context = {'company': world.company}

    # interleaved: the floor, then the run, each time
    sql_times, run_times, regen_times = [], [], []
    sql_result = model_result = made = None
    for i in range(args.repeat):
        with Transaction().start(DB_NAME, 0, context=context):
            t, sql_result = timed(bare, 1)
            sql_times += t
        with Transaction().start(DB_NAME, 0, context=context) as transaction:
            t, record = timed(run, 1)
            run_times += t
            made = (record.state, record.total, record.statements,
                record.skipped)
            model_result = figures()
            # the same run again: the statements exist, replaced
            t, _ = timed(run, 1)
            regen_times += t
            if figures() != model_result:
                print('  regeneration changed the figures!')
            if i == args.repeat - 1:
                transaction.commit()
            else:
                transaction.rollback()

    lines_read = sum(v[3] for v in sql_result.values())
    with Transaction().start(DB_NAME, 0) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(
            'SELECT COUNT(*) FROM account_move_line l JOIN account_move m '
            'ON m.id = l.move WHERE l.party IS NOT NULL AND m.date <= %s',
            (period_end,))
        up_to_end, = cursor.fetchone()
    zero = (Decimal(0).quantize(CENT),) * 3 + (0,)
    expected = {p: sql_result.get(p, zero) for p in world.parties}
    same = expected == model_result
    ratio = min(run_times) / min(sql_times)
    print(f'statements of {len(world.parties)} distributors for '
        f'{period_start}..{period_end}: {up_to_end} receivable and deposit '
        f'lines up to the end ({lines_read} in the month); run {made[0]}, '
        f'{made[2]} statements, {made[3]} skipped')
    print(f'  (a) bare SQL aggregate   {spread(sql_times)}')
    print(f'  (b) statement run        {spread(run_times)}')
    print(f'      run again (replace)  {spread(regen_times)}')
    print(f'  ratio (b)/(a) {ratio:.2f}x (target <= 2.00x), '
        f'replace {min(regen_times) / min(sql_times):.2f}x, '
        + ('same figures' if same else 'DIFFERENT figures'))
    if not same:
        diff = [p for p in world.parties
            if expected[p] != model_result.get(p)]
        print(f'    {len(diff)} parties differ, e.g. {diff[0]}: '
            f'{expected[diff[0]]} != {model_result.get(diff[0])}')

    # (c) reading one statement ---------------------------------------
    with Transaction().start(DB_NAME, 0, context=context) as transaction:
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Line = pool.get('distributor.account.statement.line')
        cursor = transaction.connection.cursor()
        cursor.execute('SELECT id, line_count FROM '
            'distributor_account_statement WHERE start_date = %s '
            'ORDER BY line_count DESC, id LIMIT 1', (period_start,))
        statement_id, count = cursor.fetchone()
        names = [n for n, f in Line._fields.items()
            if not isinstance(f, fields.Function)]
        query = Line.table_query()

        def view_sql():
            cursor.execute(*query.select(*[getattr(query, n) for n in names],
                    where=query.statement == statement_id,
                    order_by=[query.sequence]))
            return cursor.fetchall()

        def view_orm():
            lines = Line.search([('statement', '=', statement_id)])
            return Line.read([l.id for l in lines],
                ['sequence', 'date', 'kind', 'number', 'reference',
                    'description', 'maturity_date', 'debit', 'credit',
                    'balance', 'move_line', 'origin', 'reconciled',
                    'disputed'])

        def detail():
            statement = Statement(statement_id)
            return Statement.dms_values(statement, statement.party,
                lines=True)

        def clear():
            transaction.cache.clear()

        sql_lines_times, rows = timed(view_sql, args.repeat)
        orm_lines_times, lines = timed(view_orm, args.repeat, before=clear)
        detail_times, values = timed(detail, args.repeat, before=clear)
        balance = values['lines'][-1]['balance'] if values['lines'] else None
        print(f'one statement ({count} lines; closing '
            f'{values["closing_balance"]}, last running balance '
            f'{balance}, consistent {values["consistent"]})')
        print(f'  line view query alone    {spread(sql_lines_times)}')
        print(f'  lines search + read      {spread(orm_lines_times)}  '
            f'{min(orm_lines_times) / min(sql_lines_times):.2f}x')
        print(f'  statement detail         {spread(detail_times)}  '
            f'{min(detail_times) / min(sql_lines_times):.2f}x')
        if len(rows) != count or len(lines) != count:
            print(f'  line count differs: {len(rows)} / {len(lines)} '
                f'!= {count}')
    if not args.keep:
        drop_db()
    return 0


if __name__ == '__main__':
    sys.exit(main())
