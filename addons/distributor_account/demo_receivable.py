# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's receivables: the open invoice lines of the distributors (the
rebate demo posts some) get due dates spread over the aging buckets (not
yet due, 1-30, 31-60, 61-90 and over 90 days overdue), one distributor
gets an instalment invoice (the instalment payment term of the
configuration) whose instalments fall in different buckets, and the
settlement reminders of the day are sent (inbox and reps).  Adds
demo.receivable_lines (the number of lines aged).

Only the generator imports this file (through demo.py)."""
import datetime as dt
from decimal import Decimal

from distributor.demo import Part

# days overdue given to the open invoice lines in turn (negative: days to
# the due date)
SPREAD = [-10, 12, 45, 75, 120, 5, 35]
# the instalments of the instalment invoice: days overdue of each
INSTALMENT_DAYS = [40, -20, -50]


def _open_lines(demo):
    "The open receivable debit lines of the distributors, oldest first"
    MoveLine = demo.pool.get('account.move.line')
    return MoveLine.search([
            ('account.type.receivable', '=', True),
            ('move.state', '=', 'posted'),
            ('reconciliation', '=', None),
            ('party.is_distributor', '=', True),
            ('debit', '>', 0),
            ('move.company', '=', demo.company.id),
            ], order=[('id', 'ASC')])


def _set_due(demo, lines, days):
    "Give the lines their due dates, days overdue at demo.today each"
    from trytond.transaction import Transaction
    MoveLine = demo.pool.get('account.move.line')
    table = MoveLine.__table__()
    cursor = Transaction().connection.cursor()
    for line, overdue in zip(lines, days):
        cursor.execute(*table.update([table.maturity_date],
                [demo.today - dt.timedelta(days=overdue)],
                where=table.id == line.id))


def _instalment_invoice(demo, party, product):
    "A posted invoice of the party on the instalment payment term"
    pool = demo.pool
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Configuration = pool.get('distributor.configuration')
    term = Configuration(1).instalment_payment_term
    if not term:
        return None
    company = demo.company
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True), ('company', '=', company.id)], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    invoice = Invoice(type='out', party=party, invoice_date=demo.today,
        company=company, currency=company.currency,
        account=party.account_receivable or receivable,
        invoice_address=party.address_get(type='invoice'),
        journal=journal, payment_term=term,
        description="分期付款演示开票")
    invoice.lines = [Line(type='line', product=product, quantity=600,
            unit=product.sale_uom or product.default_uom,
            unit_price=Decimal(30), taxes=[], company=company,
            currency=company.currency,
            account=product.account_revenue_used)]
    invoice.save()
    Invoice.post([invoice])
    return Invoice(invoice.id)


def receivables(demo):
    """Aged receivables and an instalment invoice, once (a second run
    finds overdue lines and adds nothing)"""
    pool = demo.pool
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    Reminder = pool.get('distributor.account.reminder')
    demo.receivable_lines = 0
    lines = _open_lines(demo)
    if any(l.maturity_date and l.maturity_date < demo.today
            for l in lines):
        print('overdue receivables already there: none added')
        return
    parties = Party.search([
            ('is_distributor', '=', True),
            ('distributor_state', '=', 'active'),
            ('upstream', '=', None),
            ('addresses', '!=', None),
            ], order=[('id', 'ASC')], limit=8)
    products = Product.search([('salable', '=', True)],
        order=[('id', 'ASC')], limit=1)
    if not parties or not products:
        print('no distributors or products: no receivables demo')
        return
    # the distributors with orders awaiting approval keep their
    # receivables current: overdue ones would block those approvals
    # (the overdue rule)
    Sale = pool.get('sale.sale')
    waiting = {s.party.id for s in Sale.search([
                ('distributor_order', '=', True),
                ('channel_state', '=', 'submitted')])}
    # one distributor on instalments: not one the invoices above age
    invoiced = {l.party.id for l in lines}
    candidates = [p for p in parties if p.id not in waiting] or parties
    instalment_party = next(
        (p for p in candidates if p.id not in invoiced), candidates[-1])
    invoice = _instalment_invoice(demo, instalment_party, products[0])
    current = [l for l in lines if l.party.id in waiting]
    lines = [l for l in lines if l.party.id not in waiting]
    _set_due(demo, current, [-10] * len(current))
    spread = (SPREAD * (len(lines) // len(SPREAD) + 1))[:len(lines)]
    _set_due(demo, lines, spread)
    count = len(lines) + len(current)
    if invoice:
        instalments = sorted((l for l in invoice.move.lines
                if l.account == invoice.account),
            key=lambda l: (l.maturity_date, l.id))
        _set_due(demo, instalments, INSTALMENT_DAYS)
        count += len(instalments)
    demo.receivable_lines = count
    sent = Reminder.send_reminders(demo.today)
    demo.report.append(f'  receivables {count} open lines aged'
        + (f' (instalments of {instalment_party.rec_name})'
            if invoice else '')
        + f', reminders: {sent["due"]} due, {sent["overdue"]} overdue')


PARTS = [
    Part('receivables', receivables),
    ]
