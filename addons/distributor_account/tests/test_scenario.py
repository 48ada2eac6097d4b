# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""A distributor's quarter, end to end, as the roles that act:

D1 settles by instalments (40 % at 30 days, the rest at 60).  Its orders
are placed in the portal (d1-orders), approved by the channel manager,
shipped and invoiced (the invoices posted as root: see _invoice); the bank
statements of the accountant pay them (a payment naming an invoice pays
it: an instalment in full, others in part) and raise a deposit (预付款);
a rebate credit note is settled.  The statements of July, August and
September are generated in turn (July by the batch run), sent, August's
disputed on a line by d1-finance and resolved by the accountant with a
correcting credit note that September's statement shows, each confirmed;
confirmed months refuse regeneration and a statement of the whole quarter
overlaps them.  At the quarter's end the aging holds the open instalments
by due date; the PDF and the workbook of the three statements are parsed
back for their numbers.

The figures, by hand (p1 at 9.00 on D1's tier price list; the quarter is
the last full one, named here as if it were the third)::

    Jun 25  O1 invoice 900: 360 due Jul 25, 540 due Aug 24  (opening 900)
    Jul  5  bank 360 "INVn" (O1)        pays O1's first instalment
    Jul 10  O2 invoice 1,800: 720 due Aug 9, 1,080 due Sep 8
    Jul 20  bank 500 "预付款"            deposit
            July: 900 + 1,800 - 860 = 1,840
    Aug  9  bank 720 (O2)               pays O2's first instalment
    Aug 12  O3 invoice 2,700: 1,080 due Sep 11, 1,620 due Oct 11
    Aug 20  bank 1,000 (O3)             part payment (disputed: 1,100?)
    Aug 28  rebate credit note 150
            August: 1,840 + 2,700 - 1,870 = 2,670
    Sep  3  correcting credit note 100  (the dispute's resolution)
    Sep 15  O4 invoice 900: 360 due Oct 15, 540 due Nov 14
    Sep 25  bank 500 (O2)               part payment
            September: 2,670 + 900 - 600 = 2,970

    Aging at Sep 30 (receivable, the deposit apart): current 1,620 + 360
    + 540 = 2,520; 1-30 days 1,080 (Sep 8) + 1,080 (Sep 11) = 2,160;
    31-60 days 540 (Aug 24); unapplied credits -1,750; total 3,470
    (= September's closing 2,970 + the deposit 500)."""
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pypdf

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.account.tests import get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.exceptions import ChannelOrderError
from distributor_sale.tests.tools import run_tasks, ship

from ..exceptions import StatementError

D = Decimal
REFUSED = (AccessError, AccessButtonError, EntryPointRefused)
CENT = D('0.01')


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _portal(world, email, party):
    """Act as the portal account email of party, as the portal runs its
    handlers (its identity, the company, the web user and its party)"""
    return acting(_identity(world, email), company=world.company,
        dms_web_user=world.accounts[email], dms_portal_party=party)


def _money(value):
    return f'{D(value).quantize(CENT):,}'


def _backdate(move, date):
    """Date a posted move (and its invoice) back in SQL, its due dates
    moved by as many days (they were computed from the posting day)"""
    pool = Pool()
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Invoice = pool.get('account.invoice')
    Period = pool.get('account.period')
    move = Move(move.id)
    shift = date - move.date
    move_t = Move.__table__()
    line_t = MoveLine.__table__()
    invoice_t = Invoice.__table__()
    cursor = Transaction().connection.cursor()
    period = Period.find(move.company, date=date).id
    cursor.execute(*move_t.update([move_t.date, move_t.period],
            [date, period], where=move_t.id == move.id))
    for line in move.lines:
        if line.maturity_date:
            cursor.execute(*line_t.update([line_t.maturity_date],
                    [line.maturity_date + shift],
                    where=line_t.id == line.id))
    cursor.execute(*invoice_t.update(
            [invoice_t.invoice_date, invoice_t.accounting_date], [date, date],
            where=invoice_t.move == move.id))
    # the records read before hold the old dates
    for cache in Transaction().cache.values():
        cache.clear()


class ScenarioTestCase(PortalTestCase):
    "A distributor's quarter: orders to statements, aging and outputs"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        StatementJournal = pool.get('account.statement.journal')
        InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Configuration = pool.get('distributor.configuration')
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Date = pool.get('ir.date')
        FiscalYear = pool.get('account.fiscalyear')
        with Transaction().set_context(company=world.company):
            today = Date.today()
            # the last full quarter (with a fiscal year of its own when it
            # is last year's)
            start = today.replace(day=1, month=(today.month - 1) // 3 * 3 + 1)
            start = (start - dt.timedelta(days=1)).replace(day=1)
            start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
            # (and the first order is invoiced 6 days before it)
            for date in [start - dt.timedelta(days=6), start]:
                if not FiscalYear.search([('start_date', '<=', date),
                            ('end_date', '>=', date)]):
                    fiscalyear = set_invoice_sequences(get_fiscalyear(
                            Company(world.company), today=date))
                    fiscalyear.save()
                    FiscalYear.create_period([fiscalyear])
            months = []
            for month in range(start.month, start.month + 3):
                first = start.replace(month=month)
                months.append((first, (first + dt.timedelta(days=31)
                            ).replace(day=1) - dt.timedelta(days=1)))
            # invoices numbered like INV1: what a bank payment names
            for sequence in InvoiceSequence.search([]):
                sequence.out_invoice_sequence.prefix = 'INV'
                sequence.out_invoice_sequence.save()
            revenue, = Account.search([('type.revenue', '=', True),
                    ('closed', '!=', True)], limit=1)
            rebates, = Account.create([{
                        'name': "Sales Rebates", 'code': '4.9',
                        'type': revenue.type.id, 'company': world.company,
                        }])
            term, = PaymentTerm.create([{
                        'name': "40 % at 30 days, the rest at 60",
                        'lines': [('create', [{
                                        'type': 'percent',
                                        'ratio': D('0.4'),
                                        'divisor': D('2.5'),
                                        'relativedeltas': [('create', [{
                                                        'days': 30}])],
                                        }, {
                                        'type': 'remainder',
                                        'relativedeltas': [('create', [{
                                                        'days': 60}])],
                                        }])],
                        }])
            config = Configuration(1)
            config.rebate_account = rebates
            config.instalment_payment_term = term
            config.save()
            Party.write([Party(world.d1)], {
                    'settlement_method': 'instalment'})
            bank, = Account.search([
                    ('type.statement', '=', 'balance'),
                    ('type.assets', '=', True),
                    ('type.receivable', '=', False),
                    ('type.payable', '=', False),
                    ('type.deposit', '=', False),
                    ('closed', '!=', True),
                    ('company', '=', world.company),
                    ], order=[('code', 'ASC')], limit=1)
            journal, = Journal.create([{
                        'name': "Bank", 'code': 'BANK',
                        'type': 'statement'}])
            statement_journal, = StatementJournal.create([{
                        'name': "Bank", 'journal': journal.id,
                        'account': bank.id, 'validation': 'amount',
                        'company': world.company,
                        'currency': Company(world.company).currency.id,
                        }])
            return SimpleNamespace(**vars(world), months=months,
                q_start=months[0][0], q_end=months[2][1], term=term.id,
                revenue=revenue.id, rebates=rebates.id,
                journal=statement_journal.id)

    def setUp(self):
        super().setUp()
        self.w = self.world
        self._extras = {}

    def write(self, func):
        """Run func() as root in a transaction, then commit; its result.
        The locks the sequences ask for (a transaction started again with
        them) are kept for the next steps: they need the same"""
        extras = self._extras
        while True:
            with Transaction().start(DB_NAME, 1, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    error.fix(extras)
                    continue
                transaction.commit()
                return result

    def day(self, month, day):
        "The day of the quarter's month (1, 2, 3)"
        return self.w.months[month - 1][0].replace(day=day)

    # the roles' acts ----------------------------------------------------

    def _order(self, quantity):
        "d1-orders places and submits an order of p1 in the portal"
        w = self.w
        Sale = Pool().get('sale.sale')
        with _portal(w, 'd1-orders@example.com', w.d1):
            sale_id = Sale.dms_create_order(w.d1,
                [{'product': w.products.p1, 'quantity': quantity}],
                reference=f'PO-{quantity}', submit=True)
        return sale_id

    def _approve(self, sale_ids):
        "The channel manager approves the orders"
        Sale = Pool().get('sale.sale')
        with acting(_user('manager'), company=self.w.company):
            Sale.dms_approve(Sale.browse(sale_ids))
        run_tasks()

    def _invoice(self, sale_id, date):
        """The order shipped; its invoice posted, dated date
        (back in SQL: invoices are numbered in date order)"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        Invoice = pool.get('account.invoice')
        sale = ship(Sale(sale_id))
        invoice, = sale.invoices
        self.assertEqual(invoice.state, 'draft')
        # posted by Tryton's accounting (the DMS accountant group has no
        # write access to account.invoice: see the report)
        with Transaction().set_context(company=self.w.company):
            Invoice.post([invoice])
        invoice = Invoice(invoice.id)
        _backdate(invoice.move, date)
        return Invoice(invoice.id)

    def _bank(self, date, origins):
        """The accountant's bank statement of date: origins [(amount,
        description, party or None)] matched by the rules, validated and
        posted; its lines"""
        pool = Pool()
        Statement = pool.get('account.statement')
        Queue = pool.get('ir.queue')
        total = sum(D(o[0]) for o in origins)
        with acting(_user('accountant'), company=self.w.company):
            statement, = Statement.create([{
                        'name': f"Bank {date.isoformat()}",
                        'journal': self.w.journal,
                        'date': date,
                        'start_balance': D(0),
                        'end_balance': total,
                        'total_amount': total,
                        'number_of_lines': len(origins),
                        'origins': [('create', [{
                                        'date': date,
                                        'amount': D(o[0]),
                                        'description': o[1],
                                        'party': o[2],
                                        } for o in origins])],
                        }])
            Statement.apply_rules([statement])
            Statement.validate_statement([statement])
            Statement.post([statement])
        transaction = Transaction()
        while transaction.tasks:
            Queue(transaction.tasks.pop()).run()
        statement = Statement(statement.id)
        self.assertEqual(statement.state, 'posted')
        return list(statement.lines)

    def _generate(self, month):
        "The accountant generates d1's statement of the month"
        w = self.w
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Party = pool.get('party.party')
        start, end = w.months[month - 1]
        with acting(_user('accountant'), company=w.company):
            statements, skipped = Statement.generate('distributor',
                [Party(w.d1)], start, end)
        self.assertEqual(skipped, [])
        statement, = statements
        return statement.id

    def _send(self, statement_id):
        Statement = Pool().get('distributor.account.statement')
        with acting(_user('accountant'), company=self.w.company):
            Statement.send(Statement.browse([statement_id]))

    def _confirm(self, statement_id, comment=None):
        "d1-finance confirms the statement in the portal"
        w = self.w
        Statement = Pool().get('distributor.account.statement')
        with _portal(w, 'd1-finance@example.com', w.d1):
            values = Statement.dms_confirm_statement(w.d1, statement_id,
                comment=comment)
        self.assertEqual(values['state'], 'confirmed')
        return values

    # checks ---------------------------------------------------------------

    def _figures(self, statement_id, opening, debit, credit, closing,
            settled, open_):
        "The statement's figures, and they add up line by line"
        Statement = Pool().get('distributor.account.statement')
        statement = Statement(statement_id)
        self.assertEqual((statement.opening_balance, statement.total_debit,
                statement.total_credit, statement.closing_balance,
                statement.settled_amount, statement.open_amount),
            tuple(D(x) for x in [opening, debit, credit, closing, settled,
                    open_]))
        balance = statement.opening_balance
        for line in statement.lines:
            balance += line.debit - line.credit
            self.assertEqual(line.balance, balance)
        self.assertEqual(balance, statement.closing_balance)
        self.assertEqual(statement.opening_balance + statement.total_debit
            - statement.total_credit, statement.closing_balance)
        self.assertEqual(sum(l.debit for l in statement.lines),
            statement.total_debit)
        self.assertEqual(sum(l.credit for l in statement.lines),
            statement.total_credit)
        self.assertEqual(len(statement.lines), statement.line_count)
        self.assertTrue(statement.consistent)
        return statement

    def _lines(self, statement):
        "[(kind, date, number, debit, credit, maturity date)]"
        return [(l.kind, l.date, l.number, l.debit, l.credit,
                l.maturity_date) for l in statement.lines]

    # the scenario ---------------------------------------------------------

    def test_quarter(self):
        "Orders to invoices, payments, statements, aging, PDF and Excel"
        w = self.w
        day = self.day
        q_end = w.q_end
        Y = SimpleNamespace()

        # ------------------------------------------------------------------
        # the orders of the quarter: placed in the portal, approved by the
        # channel manager (before anything is overdue)
        def orders():
            Sale = Pool().get('sale.sale')
            Y.o1, Y.o2, Y.o3 = [self._order(q) for q in [100, 200, 300]]
            sales = Sale.browse([Y.o1, Y.o2, Y.o3])
            self.assertEqual({s.channel_state for s in sales},
                {'submitted'})
            # instalments: the configured term on every order of d1
            self.assertEqual({s.payment_term.id for s in sales}, {w.term})
            self.assertEqual([s.total_amount for s in sales],
                [D(900), D(1800), D(2700)])
            # d1 may not approve its own orders
            with _portal(w, 'd1-orders@example.com', w.d1):
                with self.assertRaises(REFUSED):
                    Sale.dms_approve_orders([Y.o1])
            self._approve([Y.o1, Y.o2, Y.o3])
            self.assertEqual({s.channel_state for s in Sale.browse(
                            [Y.o1, Y.o2, Y.o3])}, {'approved'})
            return vars(Y).copy()
        vars(Y).update(self.write(orders))

        # ------------------------------------------------------------------
        # June and July
        def july():
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Line = pool.get('account.statement.line')
            i1 = self._invoice(Y.o1, day(1, 1) - dt.timedelta(days=6))
            i2 = self._invoice(Y.o2, day(1, 10))
            self.assertEqual(i1.total_amount, D(900))
            self.assertEqual(
                sorted((l.maturity_date, l.debit) for l in i1.lines_to_pay),
                [(i1.invoice_date + dt.timedelta(days=30), D(360)),
                    (i1.invoice_date + dt.timedelta(days=60), D(540))])
            self.assertEqual(
                sorted((l.maturity_date, l.debit) for l in i2.lines_to_pay),
                [(day(1, 10) + dt.timedelta(days=30), D(720)),
                    (day(1, 10) + dt.timedelta(days=60), D(1080))])
            paid = self._bank(day(1, 5), [
                    (360, f"货款 {i1.number} 第一期", None)])
            deposit = self._bank(day(1, 20), [(500, "预付款", w.d1)])
            with acting(_user('accountant')):
                paid, deposit = Line.browse(paid), Line.browse(deposit)
                self.assertEqual([(l.dms_match, l.dms_reconciliation,
                            l.party.id, l.amount) for l in paid],
                    [('invoice', 'reconciled', w.d1, D(360))])
                self.assertEqual([(l.dms_match, l.amount) for l in deposit],
                    [('deposit', D(500))])
                self.assertTrue(deposit[0].account.type.deposit)
            i1 = Invoice(i1.id)
            self.assertEqual(i1.state, 'posted')
            self.assertEqual(i1.amount_to_pay, D(540))
            return {'i1': i1.id, 'i2': i2.id, 'n1': i1.number,
                'n2': i2.number}
        vars(Y).update(self.write(july))

        def july_statement():
            pool = Pool()
            Statement = pool.get('distributor.account.statement')
            Run = pool.get('distributor.account.statement.run')
            Generate = pool.get('distributor.account.statement.generate',
                type='wizard')
            Party = pool.get('party.party')
            # the batch run of the month, as the accountant
            with acting(_user('accountant'), company=w.company):
                session_id, _, _ = Generate.create()
            with acting(_user('accountant'), check_access=False,
                    company=w.company):
                session = Generate(session_id)
                session.start.start_date, session.start.end_date = (
                    w.months[0])
                session.start.territory = None
                session.start.tier = None
                session.start.distributors = [Party(w.d1)]
                session.transition_run()
            run_tasks()
            run, = Run.search([])
            self.assertEqual((run.state, run.total, run.statements,
                    run.skipped, run.progress), ('done', 1, 1, 0, 1.0))
            statement, = Statement.search([('party', '=', w.d1)])
            self.assertEqual(statement.state, 'draft')
            # settled / open: what was paid and credited settles the
            # opening balance first, then the period's charges; July's
            # payments (860) do not cover the opening 900: all July's
            # charges are open
            self._figures(statement.id, 900, 1800, 860, 1840, 0, 1800)
            self.assertEqual(
                [(k, d, dr, cr, m) for k, d, _, dr, cr, m in
                    self._lines(statement)], [
                    ('payment', day(1, 5), D(0), D(360), None),
                    ('invoice', day(1, 10), D(720), D(0),
                        day(1, 10) + dt.timedelta(days=30)),
                    ('invoice', day(1, 10), D(1080), D(0),
                        day(1, 10) + dt.timedelta(days=60)),
                    ('deposit', day(1, 20), D(0), D(500), None),
                    ])
            self.assertEqual([l.number for l in statement.lines
                    if l.kind == 'invoice'], [Y.n2] * 2)
            Sale = pool.get('sale.sale')
            self.assertEqual([l.reference for l in statement.lines
                    if l.kind == 'invoice'], [Sale(Y.o2).number] * 2)
            self.assertEqual([l.reconciled for l in statement.lines],
                [True, False, False, False])
            self._send(statement.id)
            self.assertEqual(Statement(statement.id).state, 'sent')
            # d1 reads it in the portal, d2 does not find it
            with _portal(w, 'd1-finance@example.com', w.d1):
                listed = Statement.dms_list_statements(w.d1)
                self.assertEqual([(s['id'], s['state'], s['closing_balance'])
                        for s in listed],
                    [(statement.id, 'sent', '1840.00')])
            with _portal(w, 'd2@example.com', w.d2):
                with self.assertRaises(RecordNotFound):
                    Statement.dms_statement_detail(w.d2, statement.id)
            return {'jul': statement.id}
        vars(Y).update(self.write(july_statement))

        # ------------------------------------------------------------------
        # August
        def august():
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Line = pool.get('account.statement.line')
            Ledger = pool.get('distributor.rebate.ledger')
            Party = pool.get('party.party')
            first = self._bank(day(2, 9), [(720, f"{Y.n2}", None)])
            i3 = self._invoice(Y.o3, day(2, 12))
            part = self._bank(day(2, 20), [
                    (1000, f"part payment {i3.number.lower()}", None)])
            with acting(_user('accountant')):
                first, part = Line.browse(first), Line.browse(part)
                self.assertEqual([(l.dms_match, l.dms_reconciliation,
                            l.dms_invoice.id) for l in first + part],
                    [('invoice', 'reconciled', Y.i2),
                        ('invoice', 'partial', i3.id)])
            i2, i3 = Invoice.browse([Y.i2, i3.id])
            self.assertEqual((i2.state, i2.amount_to_pay),
                ('posted', D(1080)))
            self.assertEqual((i3.state, i3.amount_to_pay),
                ('posted', D(1700)))
            # the quarter's rebate, settled as a credit note
            with Transaction().set_context(company=w.company):
                rebate = Ledger.dms_credit_note(Party(w.d1), D(150),
                    "Q rebate")
            _backdate(rebate.move, day(2, 28))
            self.assertEqual(rebate.total_amount, D(-150))
            return {'i3': i3.id, 'n3': i3.number, 'rebate': rebate.id,
                'n_rebate': rebate.number}
        vars(Y).update(self.write(august))

        def july_again():
            # July regenerated after August's payment: the same statement,
            # back to draft, the same figures (the period's), its first
            # instalment's line now reconciled; sent again and confirmed
            # by d1-finance
            Statement = Pool().get('distributor.account.statement')
            with acting(_user('accountant'), company=w.company):
                Statement.regenerate(Statement.browse([Y.jul]))
            statement = self._figures(
                Y.jul, 900, 1800, 860, 1840, 0, 1800)
            self.assertEqual(statement.state, 'draft')
            self.assertEqual([l.reconciled for l in statement.lines],
                [True, True, False, False])
            self._send(Y.jul)
            self._confirm(Y.jul, comment="OK")
        self.write(july_again)

        def august_statement():
            Statement = Pool().get('distributor.account.statement')
            aug = self._generate(2)
            self.assertNotEqual(aug, Y.jul)
            # the period's credits 1,870 settle the opening 1,840, then 30
            # of August's charges
            statement = self._figures(aug, 1840, 2700, 1870, 2670, 30,
                2670)
            self.assertEqual(statement.opening_balance,
                Statement(Y.jul).closing_balance)
            self.assertEqual(
                [(k, d, dr, cr) for k, d, _, dr, cr, _ in
                    self._lines(statement)], [
                    ('payment', day(2, 9), D(0), D(720)),
                    ('invoice', day(2, 12), D(1080), D(0)),
                    ('invoice', day(2, 12), D(1620), D(0)),
                    ('payment', day(2, 20), D(0), D(1000)),
                    ('rebate', day(2, 28), D(0), D(150)),
                    ])
            self.assertEqual(statement.lines[-1].number, Y.n_rebate)
            self._send(aug)
            return {'aug': aug}
        vars(Y).update(self.write(august_statement))

        def dispute():
            Statement = Pool().get('distributor.account.statement')
            with _portal(w, 'd1-finance@example.com', w.d1):
                detail = Statement.dms_statement_detail(w.d1, Y.aug)
                line = detail['lines'][3]
                self.assertEqual((line['kind'], line['credit']),
                    ('payment', '1000.00'))
                values = Statement.dms_dispute_statement(w.d1, Y.aug,
                    lines=[{'line': line['id'],
                            'comment': "We paid 1,100, not 1,000"}])
                self.assertEqual(values['state'], 'disputed')
                # disputed: not confirmable until answered
                with self.assertRaises(StatementError):
                    Statement.dms_confirm_statement(w.d1, Y.aug)
            # the view-only account may not dispute
            with _portal(w, 'd1-view@example.com', w.d1):
                with self.assertRaises(REFUSED):
                    Statement.dms_dispute_statement(w.d1, Y.aug,
                        comment="?")
            return {'disputed_line': line['id']}
        vars(Y).update(self.write(dispute))

        def resolve():
            pool = Pool()
            Statement = pool.get('distributor.account.statement')
            Invoice = pool.get('account.invoice')
            Account = pool.get('account.account')
            Resolve = pool.get('distributor.account.statement.resolve',
                type='wizard')
            record = Statement(Y.aug)
            self.assertEqual(record.disputed_lines, 1)
            self.assertEqual([l.id for l in record.lines if l.disputed],
                [Y.disputed_line])
            with acting(_user('accountant'), check_access=False,
                    company=w.company, active_model=Statement.__name__,
                    active_id=Y.aug, active_ids=[Y.aug]):
                session_id, _, _ = Resolve.create()
                session = Resolve(session_id)
                session.start.answer = "100 came with the next transfer"
                session.start.credit_amount = D(100)
                session.start.credit_account = Account(w.revenue)
                session.start.credit_description = "Correction"
                session.transition_resolve()
            record = Statement(Y.aug)
            self.assertEqual(record.state, 'resolved')
            note, = Invoice.search([('reference', '=', record.number)])
            self.assertEqual((note.state, note.total_amount),
                ('posted', D(-100)))
            self.assertIn(note.number, record.messages[-1].body)
            # the correction is dated early in September
            _backdate(note.move, day(3, 3))
            # August itself does not change: it is confirmed as it reads
            self._figures(Y.aug, 1840, 2700, 1870, 2670, 30, 2670)
            self._confirm(Y.aug)
            record = Statement(Y.aug)
            self.assertEqual([m.kind for m in record.messages],
                ['dispute', 'answer', 'confirmation'])
            self.assertEqual([(l.from_state, l.to_state)
                    for l in reversed(record.state_logs)], [
                    ('draft', 'sent'), ('sent', 'disputed'),
                    ('disputed', 'resolved'), ('resolved', 'confirmed')])
            return {'note': note.id, 'n_note': note.number}
        vars(Y).update(self.write(resolve))

        def frozen():
            # confirmed months refuse regeneration; nor may a statement of
            # the whole quarter overlap them; nothing written
            pool = Pool()
            Statement = pool.get('distributor.account.statement')
            Party = pool.get('party.party')
            count = Statement.search([], count=True)
            for statement in [Y.jul, Y.aug]:
                # the button is refused on a confirmed statement, and the
                # method itself refuses it
                with acting(_user('accountant'), company=w.company):
                    with self.assertRaises(AccessButtonError):
                        Statement.regenerate(Statement.browse([statement]))
                with self.assertRaises(StatementError):
                    Statement.regenerate(Statement.browse([statement]))
            with self.assertRaises(StatementError):
                self._generate(2)
            with acting(_user('accountant'), company=w.company):
                with self.assertRaises(StatementError) as cm:
                    Statement.generate('distributor', [Party(w.d1)],
                        w.q_start, q_end)
            self.assertIn(Statement(Y.jul).number, str(cm.exception))
            self.assertEqual(Statement.search([], count=True), count)
            self.assertEqual(Statement(Y.aug).state, 'confirmed')
        self.read(frozen)

        # ------------------------------------------------------------------
        # September: a new order, held by the overdue instalments until the
        # channel manager overrides; invoiced; a part payment
        def september_order():
            pool = Pool()
            Sale = pool.get('sale.sale')
            Override = pool.get('distributor.account.override_overdue',
                type='wizard')
            o4 = self._order(100)
            with acting(_user('manager'), company=w.company):
                with self.assertRaises(ChannelOrderError):
                    Sale.dms_approve(Sale.browse([o4]))
            self.assertEqual(Sale(o4).channel_state, 'submitted')
            with acting(_user('manager'), check_access=False,
                    company=w.company, active_model='sale.sale',
                    active_id=o4, active_ids=[o4]):
                session_id, _, _ = Override.create()
                session = Override(session_id)
                session.start.reason = "Paid by the end of the month"
                session.transition_apply()
            self.assertEqual(Sale(o4).overdue_override_reason,
                "Paid by the end of the month")
            self._approve([o4])
            self.assertEqual(Sale(o4).channel_state, 'approved')
            return {'o4': o4}
        vars(Y).update(self.write(september_order))

        def september():
            Line = Pool().get('account.statement.line')
            i4 = self._invoice(Y.o4, day(3, 15))
            part = self._bank(day(3, 25), [(500, f"{Y.n2} 部分", None)])
            with acting(_user('accountant')):
                part = Line.browse(part)
                self.assertEqual([(l.dms_invoice.id, l.dms_reconciliation)
                        for l in part], [(Y.i2, 'partial')])
            return {'i4': i4.id, 'n4': i4.number}
        vars(Y).update(self.write(september))

        def september_statement():
            Statement = Pool().get('distributor.account.statement')
            sep = self._generate(3)
            statement = self._figures(sep, 2670, 900, 600, 2970, 0, 900)
            self.assertEqual(statement.opening_balance,
                Statement(Y.aug).closing_balance)
            # the correcting credit note of August's dispute is here
            self.assertEqual(
                [(k, d, n, dr, cr, m) for k, d, n, dr, cr, m in
                    self._lines(statement) if k != 'payment'], [
                    ('credit_note', day(3, 3), Y.n_note, D(0), D(100),
                        day(3, 3)),
                    ('invoice', day(3, 15), Y.n4, D(360), D(0),
                        day(3, 15) + dt.timedelta(days=30)),
                    ('invoice', day(3, 15), Y.n4, D(540), D(0),
                        day(3, 15) + dt.timedelta(days=60)),
                    ])
            self.assertEqual([(l.kind, l.date, l.credit)
                    for l in statement.lines if l.kind == 'payment'],
                [('payment', day(3, 25), D(500))])
            self._send(sep)
            self._confirm(sep)
            # the quarter's three statements chain up
            jul, aug, sep_ = Statement.browse([Y.jul, Y.aug, sep])
            self.assertEqual(aug.opening_balance, jul.closing_balance)
            self.assertEqual(sep_.opening_balance, aug.closing_balance)
            self.assertEqual(jul.opening_balance
                + sum(s.total_debit - s.total_credit
                    for s in [jul, aug, sep_]), sep_.closing_balance)
            self.assertEqual({s.state for s in [jul, aug, sep_]},
                {'confirmed'})
            return {'sep': sep}
        vars(Y).update(self.write(september_statement))

        # ------------------------------------------------------------------
        # the aging at the quarter's end, as the accountant
        def aging():
            pool = Pool()
            Aging = pool.get('distributor.account.aging')
            AgingLine = pool.get('distributor.account.aging.line')
            with acting(_user('accountant'), company=w.company,
                    date=q_end):
                row, = Aging.search([('party', '=', w.d1)])
                buckets = (row.current, row.days_1_30, row.days_31_60,
                    row.days_61_90, row.days_over_90, row.credits,
                    row.total, row.overdue, row.oldest_due_date)
                lines = AgingLine.search([('party', '=', w.d1)])
                drill = [(l.due_date, l.amount, l.bucket, l.days_overdue,
                        l.number) for l in lines]
            # by hand: the open instalments by due date
            i1_date = day(1, 1) - dt.timedelta(days=6)
            instalments = [
                (i1_date + dt.timedelta(days=60), D(540), Y.n1),
                (day(1, 10) + dt.timedelta(days=60), D(1080), Y.n2),
                (day(2, 12) + dt.timedelta(days=30), D(1080), Y.n3),
                (day(2, 12) + dt.timedelta(days=60), D(1620), Y.n3),
                (day(3, 15) + dt.timedelta(days=30), D(360), Y.n4),
                (day(3, 15) + dt.timedelta(days=60), D(540), Y.n4),
                ]

            def bucket(due):
                days = (q_end - due).days
                if days <= 0:
                    return 'current'
                for key, limit in [('1_30', 30), ('31_60', 60),
                        ('61_90', 90)]:
                    if days <= limit:
                        return key
                return 'over_90'
            sums = {}
            for due, amount, _ in instalments:
                sums[bucket(due)] = sums.get(bucket(due), D(0)) + amount
            credits = D(-1750)
            self.assertEqual(buckets[:8], (
                    sums.get('current', 0), sums.get('1_30', 0),
                    sums.get('31_60', 0), sums.get('61_90', 0),
                    sums.get('over_90', 0), credits,
                    sum(sums.values()) + credits,
                    sum(v for k, v in sums.items() if k != 'current')))
            # and so: 2,520 / 2,160 / 540, 3,470 in all
            self.assertEqual(buckets[:8], (D(2520), D(2160), D(540), D(0),
                    D(0), D(-1750), D(3470), D(2700)))
            self.assertEqual(buckets[8], instalments[0][0])
            self.assertEqual(
                [(d, a, b, max((q_end - d).days, 0), n)
                    for d, a, b, _, n in drill if b != 'credit'],
                [(d, a, bucket(d), max((q_end - d).days, 0), n)
                    for d, a, n in sorted(instalments)])
            self.assertEqual(sorted(a for _, a, b, _, _ in drill
                    if b == 'credit'),
                [D(-1000), D(-500), D(-150), D(-100)])
            # the aging is the statement's closing with the deposit aside
            Statement = pool.get('distributor.account.statement')
            self.assertEqual(buckets[6],
                Statement(Y.sep).closing_balance + D(500))
            summary = Aging.summary(pool.get('party.party')(w.d1),
                date=q_end, company=w.company)
            self.assertEqual(summary['deposit'], D(500))
            self.assertEqual(summary['balance'], D(3470))
        self.read(aging)

        # ------------------------------------------------------------------
        # the PDF and the workbook of the three statements, parsed back
        def outputs():
            pool = Pool()
            Statement = pool.get('distributor.account.statement')
            PDF = pool.get('distributor.account.statement.pdf',
                type='report')
            XLSX = pool.get('distributor.account.statement.xlsx',
                type='report')
            ids = [Y.jul, Y.aug, Y.sep]
            values = []
            for statement in Statement.browse(ids):
                values.append(SimpleNamespace(number=statement.number,
                        start=statement.start_date, end=statement.end_date,
                        opening=statement.opening_balance,
                        debit=statement.total_debit,
                        credit=statement.total_credit,
                        closing=statement.closing_balance,
                        lines=[(l.number or '', l.debit, l.credit,
                                l.balance) for l in statement.lines]))
            with acting(_user('accountant'), company=w.company):
                pdf_ext, pdf, _, _ = PDF.execute(ids, {})
                xlsx_ext, xlsx, _, _ = XLSX.execute(ids, {})
            return values, pdf_ext, bytes(pdf), xlsx_ext, bytes(xlsx)
        values, pdf_ext, pdf, xlsx_ext, xlsx = self.read(outputs)

        self.assertEqual((pdf_ext, xlsx_ext), ('pdf', 'xlsx'))
        pages = [p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
        for value in values:
            text = '\n'.join(t for t in pages if value.number in t)
            self.assertTrue(text, value.number)
            for amount in [value.opening, value.debit, value.credit,
                    value.closing]:
                self.assertIn(_money(amount), text)
            for number, debit, credit, balance in value.lines:
                self.assertIn(number, text)
                for amount in [debit, credit, balance]:
                    if amount:
                        self.assertIn(_money(amount), text)
        self.assertIn(_money(2970), pages[-1] if pages else '')

        workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
        self.assertEqual(workbook.sheetnames, [v.number for v in values])
        for value, sheet in zip(values, workbook.worksheets):
            rows = list(sheet.iter_rows(values_only=True))
            header = next(i for i, r in enumerate(rows)
                if isinstance(r[0], str) and r[0].startswith("日期"))
            opening = rows[header + 1]
            self.assertEqual(opening[0].date(), value.start)
            self.assertEqual(D(str(opening[8])).quantize(CENT),
                value.opening)
            body = rows[header + 2:header + 2 + len(value.lines)]
            self.assertEqual([(r[2] or '', D(str(r[6] or 0)).quantize(CENT),
                        D(str(r[7] or 0)).quantize(CENT),
                        D(str(r[8])).quantize(CENT)) for r in body],
                value.lines)
            totals = rows[header + 2 + len(value.lines)]
            closing = rows[header + 3 + len(value.lines)]
            self.assertEqual((D(str(totals[6])).quantize(CENT),
                    D(str(totals[7])).quantize(CENT)),
                (value.debit, value.credit))
            self.assertEqual(closing[0].date(), value.end)
            self.assertEqual(D(str(closing[8])).quantize(CENT),
                value.closing)
        self.assertEqual([v.closing for v in values],
            [D(1840), D(2670), D(2970)])

