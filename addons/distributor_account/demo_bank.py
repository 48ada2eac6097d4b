# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's bank reconciliation: a bank journal on the bank account of
the chart (found by its type flags, the name telling the bank from the
cash when the types do not), a posted bank statement whose rules matched
a payment to a distributor's invoice and a prepaid distributor's deposit
(with a payment on account left open on the receivable), and a draft
statement with one payment naming nothing, left for the accountant to
match by hand.

Only the generator imports this file (through demo.py)."""
from decimal import Decimal

from distributor.demo import Part

STATEMENT = "工商银行 对账单"
DRAFT = "工商银行 对账单（待匹配）"


def _bank_account(demo):
    "The bank account: an asset of the balance that is nothing else"
    Account = demo.pool.get('account.account')
    accounts = Account.search([
            ('company', '=', demo.company.id),
            ('type.statement', '=', 'balance'),
            ('type.assets', '=', True),
            ('type.receivable', '=', False),
            ('type.payable', '=', False),
            ('type.deposit', '=', False),
            ('type.stock', '=', False),
            ('closed', '!=', True),
            ], order=[('code', 'ASC'), ('id', 'ASC')])
    for account in accounts:
        if '银行' in (account.name or '') or 'bank' in (
                account.name or '').lower():
            return account
    return accounts[0] if accounts else None


def _journal(demo, account):
    pool = demo.pool
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    journals = StatementJournal.search([
            ('company', '=', demo.company.id),
            ('account', '=', account.id)], limit=1)
    if journals:
        return journals[0]
    journal, = Journal.create([{
                'name': "银行日记账", 'code': 'BANK', 'type': 'statement'}])
    statement_journal, = StatementJournal.create([{
                'name': "工商银行 基本户",
                'journal': journal.id,
                'account': account.id,
                'validation': 'amount',
                'company': demo.company.id,
                'currency': demo.company.currency.id,
                }])
    return statement_journal


def bank(demo):
    """A posted statement (an invoice paid, a deposit, a payment on
    account) and a draft one with a payment to match by hand, once"""
    pool = demo.pool
    Statement = pool.get('account.statement')
    Line = pool.get('account.statement.line')
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    if Statement.search([('name', 'in', [STATEMENT, DRAFT])], limit=1):
        print('bank statements already there: none added')
        return
    account = _bank_account(demo)
    if not account:
        print('no bank account in the chart: no bank demo')
        return
    journal = _journal(demo, account)
    invoices = Invoice.search([
            ('company', '=', demo.company.id),
            ('type', '=', 'out'),
            ('state', '=', 'posted'),
            ('party.is_distributor', '=', True),
            ], order=[('number', 'ASC')], limit=1)
    distributors = Party.search([
            ('is_distributor', '=', True),
            ('distributor_state', '=', 'active'),
            ], order=[('distributor_code', 'ASC')])
    prepaid = [p for p in distributors if p.settlement_method == 'prepaid']
    on_credit = [p for p in distributors
        if p.settlement_method != 'prepaid'
        and (not invoices or p != invoices[0].party)]
    origins = []
    if invoices:
        invoice, = invoices
        origins.append({'amount': invoice.amount_to_pay,
                'description': f"货款 {invoice.number}",
                'party': invoice.party.id})
    if prepaid:
        origins.append({'amount': Decimal(20000),
                'description': "预付货款", 'party': prepaid[0].id})
    if on_credit:
        origins.append({'amount': Decimal(3500),
                'description': "网银转账", 'party': on_credit[0].id})
    if not origins:
        print('no distributor to pay: no bank demo')
        return
    for origin in origins:
        origin['date'] = demo.today
    statement, = Statement.create([{
                'name': STATEMENT,
                'company': demo.company.id,
                'journal': journal.id,
                'date': demo.today,
                'total_amount': sum(o['amount'] for o in origins),
                'origins': [('create', origins)],
                }])
    Statement.apply_rules([statement])
    statement = Statement(statement.id)
    # the payment naming nothing: on the receivable, reconciled later
    Line.create([{
                'statement': statement.id, 'origin': o.id, 'date': o.date,
                'amount': o.pending_amount, 'party': o.party.id,
                'number': o.number, 'description': o.description,
                'account': o.party.account_receivable_used.id}
            for o in statement.origins if o.pending_amount and o.party])
    Statement.validate_statement([statement])
    Statement.post([statement])
    # a payment for the accountant to match
    if distributors:
        Statement.create([{
                    'name': DRAFT,
                    'company': demo.company.id,
                    'journal': journal.id,
                    'date': demo.today,
                    'total_amount': Decimal('1280.50'),
                    'origins': [('create', [{
                                    'date': demo.today,
                                    'amount': Decimal('1280.50'),
                                    'description': "汇款 货款",
                                    }])],
                    }])
    statement = Statement(statement.id)
    demo.report.append(f'  bank statement {statement.state:<9} '
        f'{len(statement.lines)} lines, '
        f'{sum(1 for l in statement.lines if l.dms_match)} matched')


PARTS = [
    Part('bank', bank),
    ]
