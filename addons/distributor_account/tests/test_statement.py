# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Statements of account: the figures of a quarter (opening, every
movement, closing: opening + movements = closing on every statement), the
flow sent → disputed (per line) → resolved with a correcting credit note →
confirmed, frozen once confirmed, overlapping periods refused, the batch
run with progress (regenerating replaces, confirmed skipped), store
statements between a distributor and its store, roles both ways and raw
writes refused"""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import run_tasks

from ..exceptions import StatementError, StatementValidationError

REFUSED = (AccessError, AccessButtonError, EntryPointRefused)
D = Decimal


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def backdate(move, date):
    "Date a posted move (and its invoice) back in SQL"
    pool = Pool()
    Move = pool.get('account.move')
    Invoice = pool.get('account.invoice')
    Period = pool.get('account.period')
    move_t, invoice_t = Move.__table__(), Invoice.__table__()
    cursor = Transaction().connection.cursor()
    period = Period.find(move.company, date=date).id
    cursor.execute(*move_t.update([move_t.date, move_t.period],
            [date, period], where=move_t.id == move.id))
    cursor.execute(*invoice_t.update(
            [invoice_t.invoice_date, invoice_t.accounting_date], [date, date],
            where=invoice_t.move == move.id))


def invoice(party, amount, date, term=None, account=None, quantity=1):
    """A posted customer invoice of one line (negative quantity: a credit
    note), dated date"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Account = pool.get('account.account')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    Journal = pool.get('account.journal')
    company = Company(Transaction().context['company'])
    party = Party(party)
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True)], limit=1)
    if account is None:
        account, = Account.search([('type.revenue', '=', True),
                ('closed', '!=', True)], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    record = Invoice(type='out', party=party, company=company,
        currency=company.currency, account=receivable,
        invoice_address=party.address_get(type='invoice'), journal=journal,
        payment_term=term)
    record.lines = [Line(invoice=record, type='line', quantity=quantity,
            unit_price=D(amount), account=account, taxes=[],
            description="Goods", company=company,
            currency=company.currency)]
    record.save()
    Invoice.post([record])
    backdate(record.move, date)
    return Invoice(record.id)


def movement(party, amount, date, account):
    """A posted move: cash against account for party (amount > 0: party
    paid, credit on account)"""
    pool = Pool()
    Move = pool.get('account.move')
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Period = pool.get('account.period')
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(cash.company, date=date),
                'date': date,
                'description': "Bank transfer",
                'lines': [('create', [{
                                'account': cash.id,
                                'debit': amount, 'credit': D(0),
                                }, {
                                'account': account.id, 'party': party,
                                'debit': D(0), 'credit': amount,
                                }])],
                }])
    Move.post([move])
    return move


class StatementTestCase(PortalTestCase):
    "Statements of account of distributors and of stores"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Configuration = pool.get('distributor.configuration')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Ledger = pool.get('distributor.rebate.ledger')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            year = today.year
            q_start, q_end = dt.date(year, 4, 1), dt.date(year, 6, 30)
            revenue, = Account.search([('type.revenue', '=', True),
                    ('closed', '!=', True)], limit=1)
            receivable, = Account.search([('type.receivable', '=', True),
                    ('closed', '!=', True)], limit=1)
            deposit, = Account.search([('type.deposit', '=', True)],
                limit=1)
            rebates, = Account.create([{
                        'name': "Sales Rebates", 'code': '4.9',
                        'type': revenue.type.id, 'company': world.company,
                        }])
            config = Configuration(1)
            config.rebate_account = rebates
            config.save()
            term, = PaymentTerm.create([{
                        'name': "Two instalments",
                        'lines': [('create', [{
                                        'type': 'percent',
                                        'ratio': D('0.5'), 'divisor': D(2),
                                        'relativedeltas': [('create', [{
                                                        'days': 30}])],
                                        }, {
                                        'type': 'remainder',
                                        'relativedeltas': [('create', [{
                                                        'days': 60}])],
                                        }])],
                        }])
            d1, d2 = world.d1, world.d2
            # before the quarter: 1,000 owed (the opening balance)
            invoice(d1, 1000, dt.date(year, 3, 20))
            # the quarter
            i1 = invoice(d1, 3000, dt.date(year, 4, 10))
            payment = movement(d1, D(1200), dt.date(year, 4, 25),
                receivable)
            backdate(payment, dt.date(year, 4, 25))
            dep = movement(d1, D(500), dt.date(year, 5, 5), deposit)
            i2 = invoice(d1, 2000, dt.date(year, 5, 15), term=term)
            credit = invoice(d1, 300, dt.date(year, 5, 20), quantity=-1)
            rebate = Ledger.dms_credit_note(pool.get('party.party')(d1),
                D(150), "Q1 rebate")
            backdate(rebate.move, dt.date(year, 6, 10))
            # after the quarter
            invoice(d1, 700, dt.date(year, 7, 2))
            # d2 has its own
            invoice(d2, 999, dt.date(year, 4, 12))
            return SimpleNamespace(**vars(world), q_start=q_start,
                q_end=q_end, q3_start=dt.date(year, 7, 1),
                q3_end=dt.date(year, 9, 30), i1=i1.id, i2=i2.id,
                credit=credit.id,
                rebate=rebate.id, payment=payment.id, dep=dep.id,
                year=year, revenue=revenue.id)

    def setUp(self):
        super().setUp()
        self.w = self.world

    def scratch(self, func):
        "Run func() as root in a transaction rolled back afterwards"
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    return func()
                except TransactionError as error:
                    # the sequences lock their records: start again
                    # with the locks the transaction asks for
                    transaction.rollback()
                    error.fix(extras)
                    continue
                finally:
                    transaction.rollback()
                    transaction.tasks.clear()

    def _generate(self, party=None, start=None, end=None):
        w = self.w
        Statement = Pool().get('distributor.account.statement')
        with Transaction().set_context(company=w.company):
            statements, _ = Statement.generate('distributor',
                [Pool().get('party.party')(party or w.d1)],
                start or w.q_start, end or w.q_end)
        return statements[0].id

    def _check_adds_up(self, statement):
        "opening + movements = closing, line by line and in total"
        balance = statement.opening_balance
        for line in statement.lines:
            balance += line.debit - line.credit
            self.assertEqual(line.balance, balance)
        self.assertEqual(balance, statement.closing_balance)
        self.assertEqual(statement.opening_balance + statement.total_debit
            - statement.total_credit, statement.closing_balance)
        self.assertEqual(len(statement.lines), statement.line_count)
        self.assertTrue(statement.consistent)

    def test_quarter_figures(self):
        "The quarter of d1: every movement once, balances add up"
        w = self.w

        def check():
            Statement = Pool().get('distributor.account.statement')
            statement = Statement(self._generate())
            self.assertEqual(statement.state, 'draft')
            self.assertEqual(statement.opening_balance, D(1000))
            # 3,000 + 2,000 (two instalments) charged; paid 1,200,
            # deposit 500, credit note 300, rebate 150
            self.assertEqual(statement.total_debit, D(5000))
            self.assertEqual(statement.total_credit, D(2150))
            self.assertEqual(statement.closing_balance, D(3850))
            self._check_adds_up(statement)
            kinds = [l.kind for l in statement.lines]
            self.assertEqual(kinds, ['invoice', 'payment', 'deposit',
                    'invoice', 'invoice', 'credit_note', 'rebate'])
            instalments = [l for l in statement.lines
                if l.invoice and l.invoice.id == w.i2]
            self.assertEqual([l.debit for l in instalments],
                [D(1000), D(1000)])
            self.assertEqual(len({l.maturity_date for l in instalments}), 2)
            numbers = {l.number for l in statement.lines if l.invoice}
            Invoice = Pool().get('account.invoice')
            self.assertIn(Invoice(w.i1).number, numbers)
            # first in, first out: the 2,150 paid and credited settle the
            # opening 1,000, then 1,150 of the period's 5,000
            self.assertEqual(statement.settled_amount, D(1150))
            self.assertEqual(statement.open_amount, D(3850))
            # queries: by document number and by period
            found = Statement.search([
                    ('document_number', '=', Invoice(w.i2).number)])
            self.assertEqual([s.id for s in found], [statement.id])
            # generating again replaces the draft (same record)
            self.assertEqual(self._generate(), statement.id)
            # d2's statement has only its own line
            other = Statement(self._generate(w.d2))
            self.assertEqual(other.total_debit, D(999))
            self._check_adds_up(other)
        self.scratch(check)

    def test_bad_periods(self):
        "End before start, overlaps, no receivable: refused, nothing saved"
        w = self.w
        # the first quarter (the others are used by the tests that commit)
        start, end = dt.date(w.year, 1, 1), dt.date(w.year, 3, 31)

        def check():
            Statement = Pool().get('distributor.account.statement')
            statement = self._generate(start=start, end=end)
            before = Statement.search([], count=True)
            with self.assertRaises(StatementError):
                self._generate(start=end, end=start)
            # overlaps the open statement of the quarter
            with self.assertRaises(StatementError) as cm:
                self._generate(start=start + dt.timedelta(days=30),
                    end=end + dt.timedelta(days=30))
            self.assertIn(Statement(statement).number, str(cm.exception))
            with self.assertRaises(StatementValidationError):
                with Transaction().set_context(company=w.company):
                    Statement.create([{'party': w.d1,
                                'start_date': end,
                                'end_date': end + dt.timedelta(days=3)}])
            self.assertEqual(Statement.search([], count=True), before)
            # a distributor without receivable account
            Configuration = Pool().get('account.configuration')
            Party = Pool().get('party.party')
            with Transaction().set_context(company=w.company):
                config = Configuration(1)
                config.default_account_receivable = None
                config.save()
                party = Party(w.d2)
                party.account_receivable = None
                party.save()
            with self.assertRaises(StatementError) as cm:
                self._generate(party=w.d2, start=start, end=end)
            self.assertIn(party.rec_name, str(cm.exception))
            self.assertEqual(Statement.search([], count=True), before)
        self.scratch(check)

    def test_flow_dispute_resolve_confirm(self):
        "Sent, a line disputed, answered with a credit note, confirmed"
        # one transaction, rolled back: the other tests keep Q2 open

        def flow():
            w = self.w
            statement = run(lambda: self._generate())

            Statement = Pool().get('distributor.account.statement')

            def send():
                with acting(user('accountant'), company=w.company):
                    Statement.send(Statement.browse([statement]))
            run(send)

            def foreign():
                # d2 does not see d1's statement; nor may d1 dispute for its
                # store or confirm as the view-only account
                with acting(identity(w, 'd2@example.com')):
                    with self.assertRaises(RecordNotFound):
                        Statement.dms_confirm_statement(w.d2, statement)
                    with self.assertRaises(RecordNotFound):
                        Statement.dms_statement_detail(w.d2, statement)
                with acting(identity(w, 'd1-view@example.com')):
                    with self.assertRaises(REFUSED):
                        Statement.dms_confirm_statement(w.d1, statement)
                with acting(user('plain')):
                    with self.assertRaises(REFUSED):
                        Statement.send(Statement.browse([statement]))
            run(foreign)

            def dispute():
                with acting(identity(w, 'd1-finance@example.com')):
                    detail = Statement.dms_statement_detail(w.d1, statement)
                    line = detail['lines'][1]
                    self.assertEqual(line['kind'], 'payment')
                    with self.assertRaises(UserError):
                        Statement.dms_dispute_statement(w.d1, statement)
                    with self.assertRaises(RecordNotFound):
                        Statement.dms_dispute_statement(w.d1, statement,
                            lines=[{'line': 1, 'comment': "?"}])
                    Statement.dms_dispute_statement(w.d1, statement,
                        comment="Please check",
                        lines=[{'line': line['id'],
                                'comment': "We paid 1,500, not 1,200"}])
                return line['id']
            line_id = run(dispute)

            def resolve():
                Resolve = Pool().get('distributor.account.statement.resolve',
                    type='wizard')
                record = Statement(statement)
                self.assertEqual(record.state, 'disputed')
                self.assertEqual(record.disputed_lines, 1)
                disputed = [l for l in record.lines if l.disputed]
                self.assertEqual([l.id for l in disputed], [line_id])
                with acting(user('accountant'), check_access=False,
                        company=w.company, active_model=Statement.__name__,
                        active_id=statement, active_ids=[statement]):
                    session_id, _, _ = Resolve.create()
                    session = Resolve(session_id)
                    session.start.answer = "300 were on another invoice"
                    session.start.credit_amount = D(300)
                    session.start.credit_account = Pool().get(
                        'account.account')(w.revenue)
                    session.start.credit_description = "Correction"
                    session.transition_resolve()
                record = Statement(statement)
                self.assertEqual(record.state, 'resolved')
                answer = record.messages[-1]
                self.assertEqual(answer.kind, 'answer')
                Invoice = Pool().get('account.invoice')
                note, = Invoice.search([('reference', '=', record.number)])
                self.assertEqual(note.state, 'posted')
                self.assertEqual(note.total_amount, D(-300))
                self.assertIn(note.number, answer.body)
            run(resolve)

            def confirm():
                with acting(identity(w, 'd1-finance@example.com')):
                    values = Statement.dms_confirm_statement(w.d1, statement,
                        comment="OK")
                    self.assertEqual(values['state'], 'confirmed')
                    with self.assertRaises(StatementError):
                        Statement.dms_dispute_statement(w.d1, statement,
                            comment="Again")
            run(confirm)

            def frozen():
                record = Statement(statement)
                self.assertEqual(record.state, 'confirmed')
                self.assertIsNotNone(record.confirmed_at)
                self.assertEqual([m.kind for m in record.messages],
                    ['dispute', 'dispute', 'answer', 'confirmation'])
                self.assertEqual([(l.from_state, l.to_state)
                        for l in reversed(record.state_logs)], [
                        ('draft', 'sent'),
                        ('sent', 'disputed'), ('disputed', 'resolved'),
                        ('resolved', 'confirmed')])
                with acting(user('accountant'), company=w.company):
                    with self.assertRaises(UserError):
                        Statement.regenerate([record])
                    with self.assertRaises(UserError):
                        Statement.write([record], {'opening_balance': 0})
                    with self.assertRaises(UserError):
                        Statement.delete([record])
                    Message = Pool().get(
                        'distributor.account.statement.message')
                    with self.assertRaises(UserError):
                        Message.write(list(record.messages), {'body': "x"})
                    with self.assertRaises(UserError):
                        Message.create([{'statement': statement,
                                    'kind': 'comment', 'body': "x"}])
                # a new period overlapping the confirmed one: refused
                with self.assertRaises(StatementError):
                    self._generate(start=w.q_end, end=w.q_end
                        + dt.timedelta(days=31))
            run(frozen)

        def run(func):
            return func()

        self.scratch(flow)

    def test_batch_run(self):
        "A run for every distributor: progress, replaced, confirmed skipped"
        w = self.w

        def first():
            Statement = Pool().get('distributor.account.statement')
            Run = Pool().get('distributor.account.statement.run')
            Generate = Pool().get('distributor.account.statement.generate',
                type='wizard')
            with acting(user('accountant'), company=w.company):
                session_id, _, _ = Generate.create()
            with acting(user('accountant'), check_access=False,
                    company=w.company):
                session = Generate(session_id)
                session.start.start_date = w.q3_start
                session.start.end_date = w.q3_end
                session.start.territory = None
                session.start.tier = None
                session.start.distributors = []
                session.transition_run()
            run_tasks()
            run, = Run.search([])
            self.assertEqual(run.state, 'done')
            self.assertEqual(run.progress, 1.0)
            self.assertEqual(run.statements, run.total)
            self.assertGreaterEqual(run.total, 2)
            statements = Statement.search([('kind', '=', 'distributor')])
            self.assertEqual(len(statements), run.total)
            for statement in statements:
                self._check_adds_up(statement)
            d1, = [s for s in statements if s.party.id == w.d1]
            Statement.send([d1])
            Statement.confirm([d1])
            return d1.id, {s.id for s in statements}
        confirmed, ids = self.write(first)

        def second():
            Statement = Pool().get('distributor.account.statement')
            Run = Pool().get('distributor.account.statement.run')
            with Transaction().set_context(company=w.company):
                Run.enqueue(w.q3_start, w.q3_end)
            run_tasks()
            run = Run.search([], order=[('id', 'DESC')])[0]
            self.assertEqual(run.skipped, 1)
            self.assertEqual(run.statements, run.total - 1)
            statements = Statement.search([('kind', '=', 'distributor')])
            # replaced in place: the same statements, none added
            self.assertEqual({s.id for s in statements}, ids)
            self.assertEqual(Statement(confirmed).state, 'confirmed')
        self.write(second)

    def test_store_statement(self):
        "d1 ↔ its store s1: generated, sent, confirmed by s1 only"
        w = self.w
        today = self.read(lambda: Pool().get('ir.date').today())

        def generate():
            Statement = Pool().get('distributor.account.statement')
            Payment = Pool().get('distributor.store.payment')
            with acting(identity(w, 'd1-finance@example.com')):
                Payment.dms_record_payment(w.d1, w.s1, '80', today,
                    'cash', 'R-1')
                ids = Statement.dms_generate_store_statements(w.d1,
                    today.replace(day=1).isoformat(), today.isoformat(),
                    stores=[w.s1])
                self.assertEqual(len(ids), 1)
                with self.assertRaises(RecordNotFound):
                    Statement.dms_generate_store_statements(w.d1,
                        today.isoformat(), today.isoformat(),
                        stores=[w.s3])
                Statement.dms_send_statement(w.d1, ids[0])
            return ids[0]
        statement = self.write(generate)

        def check():
            Statement = Pool().get('distributor.account.statement')
            record = Statement(statement)
            self.assertEqual(record.kind, 'store')
            self.assertEqual(record.issuer.id, w.d1)
            self._check_adds_up(record)
            self.assertIn('store_payment', [l.kind for l in record.lines])
            self.assertGreaterEqual(record.total_credit, D(80))
            # the brand's staff do not see store statements
            with acting(user('accountant')):
                self.assertEqual(Statement.search(
                        [('id', '=', statement)]), [])
            # another distributor, or d1 for its store: refused
            with acting(identity(w, 'd2@example.com')):
                with self.assertRaises(RecordNotFound):
                    Statement.dms_statement_detail(w.d2, statement)
            with acting(identity(w, 'd1@example.com')):
                with self.assertRaises(StatementError):
                    Statement.dms_confirm_statement(w.s1, statement)
                with self.assertRaises(RecordNotFound):
                    Statement.dms_confirm_statement(w.d1, statement)
        self.read(check)

        def confirm():
            Statement = Pool().get('distributor.account.statement')
            with acting(identity(w, 's1@example.com')):
                listed = Statement.dms_list_statements(w.s1)
                self.assertEqual([s['id'] for s in listed], [statement])
                values = Statement.dms_confirm_statement(w.s1, statement)
                self.assertEqual(values['state'], 'confirmed')
        self.write(confirm)
