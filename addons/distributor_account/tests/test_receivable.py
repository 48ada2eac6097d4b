# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Receivables: the aging buckets of invoices at chosen due dates (each
instalment in its own), the territory and tier filters and roll-ups, a
rep's reach, reconciled lines dropping out, the overdue block of
approvals and its override (both ways), the reminders sent once and again
after the overdue interval, and the portal's summary and instalments
(own party and a foreign one)"""
import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.exceptions import ChannelOrderError

from ..receivable import BUCKET_COLUMNS

D = Decimal
DAY = dt.timedelta(days=1)
REFUSED = (AccessError, AccessButtonError, EntryPointRefused)


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _invoice(party, amount, dues, product, term=None):
    """A posted customer invoice of amount, its receivable lines then due
    on dues (one per instalment, in order)"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    MoveLine = pool.get('account.move.line')
    Product = pool.get('product.product')
    Account = pool.get('account.account')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    Journal = pool.get('account.journal')
    Date = pool.get('ir.date')
    company = Company(Transaction().context['company'])
    party = Party(party)
    product = Product(product)
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True), ('company', '=', company.id)], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    invoice = Invoice(type='out', party=party, invoice_date=Date.today(),
        company=company, currency=company.currency, account=receivable,
        invoice_address=party.address_get(type='invoice'), journal=journal,
        payment_term=term)
    line = Line(invoice=invoice, type='line', product=product, quantity=1,
        unit=product.default_uom, unit_price=D(amount), taxes=[],
        company=company, currency=company.currency,
        account=product.account_revenue_used)
    invoice.lines = [line]
    invoice.save()
    Invoice.post([invoice])
    invoice = Invoice(invoice.id)
    lines = sorted((l for l in invoice.move.lines
            if l.account == receivable), key=lambda l: (l.maturity_date, l.id))
    assert len(lines) == len(dues), (lines, dues)
    table = MoveLine.__table__()
    cursor = Transaction().connection.cursor()
    for line, due in zip(lines, dues):
        cursor.execute(*table.update([table.maturity_date], [due],
                where=table.id == line.id))
    return invoice


def _pay(invoice):
    "Pay the invoice in full and reconcile"
    pool = Pool()
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Period = pool.get('account.period')
    Date = pool.get('ir.date')
    today = Date.today()
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    line, = [l for l in invoice.move.lines if l.account == invoice.account]
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(invoice.company, date=today),
                'date': today,
                'lines': [('create', [{
                                'account': cash.id,
                                'debit': invoice.total_amount,
                                'credit': D(0),
                                }, {
                                'account': invoice.account.id,
                                'party': invoice.party.id,
                                'debit': D(0),
                                'credit': invoice.total_amount,
                                }])],
                }])
    Move.post([move])
    payment, = [l for l in move.lines if l.account == invoice.account]
    MoveLine.reconcile([line, payment])


class ReceivableTestCase(PortalTestCase):
    "Aging, the overdue block, reminders and the portal's receivables"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Date = pool.get('ir.date')
        with Transaction().set_context(company=world.company):
            today = Date.today()
            p1 = world.products.p1
            rep = _user('rep')
            Party.write([Party(world.d1)], {
                    'credit_limit_amount': D(100000),
                    'sales_rep': rep.employee.id,
                    })
            term, = PaymentTerm.create([{
                        'name': "40 % now, the rest in 30 days",
                        'lines': [('create', [{
                                        'type': 'percent',
                                        'ratio': D('0.4'), 'divisor': D('2.5'),
                                        'relativedeltas': [('create', [
                                                    {'days': 0}])],
                                        }, {
                                        'type': 'remainder',
                                        'relativedeltas': [('create', [
                                                    {'days': 30}])],
                                        }])],
                        }])
            d1, d2 = world.d1, world.d2
            # d1: 100 due in 2 days, 200 five days overdue, 300 45 days
            # overdue, an instalment invoice of 1,000: 400 (100 days
            # overdue) and 600 (70 days), and 50 paid (dropped)
            _invoice(d1, 100, [today + 2 * DAY], p1)
            _invoice(d1, 200, [today - 5 * DAY], p1)
            _invoice(d1, 300, [today - 45 * DAY], p1)
            instalments = _invoice(d1, 1000,
                [today - 100 * DAY, today - 70 * DAY], p1, term=term)
            paid = _invoice(d1, 50, [today - 200 * DAY], p1)
            _pay(paid)
            # d2: 70 overdue 40 days
            _invoice(d2, 70, [today - 40 * DAY], p1)
            return SimpleNamespace(**vars(world), today=today,
                instalments=instalments.id, paid=paid.id, term=term.id)

    def _aging(self, login, **context):
        "{party: {column: amount}} of the aging as login"
        world = self.world

        def read():
            Aging = Pool().get('distributor.account.aging')
            with acting(_user(login), company=world.company, **context):
                rows = Aging.search([])
                return {r.party.id: {
                        **{c: getattr(r, c) for c in BUCKET_COLUMNS.values()},
                        'total': r.total, 'overdue': r.overdue,
                        'oldest': r.oldest_due_date,
                        'lines': r.line_count,
                        } for r in rows}
        return self.read(read)

    def test_aging_buckets(self):
        "Each line, each instalment, in the bucket of its due date"
        world = self.world
        aging = self._aging('manager')
        d1 = aging[world.d1]
        self.assertEqual(
            {k: d1[k] for k in ['current', 'days_1_30', 'days_31_60',
                    'days_61_90', 'days_over_90', 'credits', 'total',
                    'overdue']},
            {'current': D(100), 'days_1_30': D(200), 'days_31_60': D(300),
                'days_61_90': D(600), 'days_over_90': D(400),
                'credits': D(0), 'total': D(1600), 'overdue': D(1500)})
        # the paid invoice is reconciled: not there
        self.assertEqual(d1['lines'], 5)
        self.assertEqual(d1['oldest'], world.today - 100 * DAY)
        self.assertEqual(aging[world.d2]['days_31_60'], D(70))
        # at an earlier date: the invoices posted today were not there
        self.assertNotIn(world.d1,
            self._aging('manager', date=world.today - DAY))
        # a month later everything has aged
        later = self._aging('manager', date=world.today + 31 * DAY)[
            world.d1]
        self.assertEqual((later['current'], later['days_1_30'],
                later['days_31_60'], later['days_61_90'],
                later['days_over_90']),
            (D(0), D(100), D(200), D(300), D(1000)))

    def test_aging_lines_drill_down(self):
        "One line per instalment with its invoice, bucket and days overdue"
        world = self.world

        def read():
            Line = Pool().get('distributor.account.aging.line')
            with acting(_user('accountant'), company=world.company):
                lines = Line.search([('party', '=', world.d1)])
                return [(l.amount, l.bucket, l.days_overdue,
                        l.invoice.id if l.invoice else None,
                        str(l.document) if l.document else None, l.number)
                    for l in lines]
        lines = self.read(read)
        self.assertEqual([(a, b, d) for a, b, d, *_ in lines], [
                (D(400), 'over_90', 100), (D(600), '61_90', 70),
                (D(300), '31_60', 45), (D(200), '1_30', 5),
                (D(100), 'current', 0)])
        self.assertEqual({i for _, _, _, i, _, _ in lines[:2]},
            {world.instalments})
        self.assertEqual(lines[0][4], f'account.invoice,{world.instalments}')
        self.assertTrue(all(n for *_, n in lines))

    def test_aging_filters_and_rollups(self):
        "Territory (with sub-territories) and tier filters, roll-ups"
        world = self.world

        def read():
            pool = Pool()
            Territory = pool.get('distributor.territory')
            Party = pool.get('party.party')
            ByTerritory = pool.get('distributor.account.aging.territory')
            ByTier = pool.get('distributor.account.aging.tier')
            east, = Territory.search([('code', '=', 'EC')])
            js, = Territory.search([('code', '=', 'EC-JS')])
            tier = Party(world.d1).distributor_tier
            result = SimpleNamespace(east=east.id, js=js.id, tier=tier.id)
            with acting(_user('manager'), company=world.company):
                result.territories = {r.territory.id: (
                        r.distributor_count, r.total, r.overdue)
                    for r in ByTerritory.search([])}
                result.tiers = {r.tier.id: (r.distributor_count, r.total)
                    for r in ByTier.search([])}
            with acting(_user('rep'), company=world.company):
                result.rep_territories = {r.territory.id: r.total
                    for r in ByTerritory.search([])}
                result.rep_tiers = {r.tier.id: r.total
                    for r in ByTier.search([])}
            return result
        r = self.read(read)
        self.assertEqual(r.territories[r.east], (2, D(1670), D(1570)))
        self.assertEqual(r.territories[r.js], (1, D(1600), D(1500)))
        self.assertEqual(r.tiers[r.tier], (2, D(1670)))
        # a rep: its territories only, and only its distributors' amounts
        self.assertNotIn(r.east, r.rep_territories)
        self.assertEqual(r.rep_territories[r.js], D(1600))
        self.assertEqual(r.rep_tiers, {r.tier: D(1600)})
        # filters of the context
        self.assertEqual(set(self._aging('manager', territory=r.east)),
            {world.d1, world.d2})
        self.assertEqual(set(self._aging('manager', territory=r.js)),
            {world.d1})
        self.assertEqual(set(self._aging('manager', tier=r.tier)),
            {world.d1, world.d2})
        rep_employee = self.read(lambda: _user('rep').employee.id)
        self.assertEqual(set(self._aging('manager',
                    sales_rep=rep_employee)), {world.d1})

    def test_aging_reach(self):
        "A rep sees the aging of its territories; a portal user none"
        world = self.world
        self.assertEqual(set(self._aging('rep')), {world.d1})
        self.assertEqual(set(self._aging('accountant')),
            {world.d1, world.d2})

        def portal():
            Aging = Pool().get('distributor.account.aging')
            with acting(_identity(world, 'd1@example.com')):
                Aging.search([])
        with self.assertRaises(AccessError):
            self.read(portal)

    def test_overdue_blocks_approval(self):
        "Refused with the amount and date, overridden by a manager only"
        world = self.world
        sale_id = world.own.sale_submitted

        def approve(login):
            Sale = Pool().get('sale.sale')
            with acting(_user(login), company=world.company):
                Sale.dms_approve([Sale(sale_id)])
        with self.assertRaises(ChannelOrderError) as cm:
            self.write(lambda: approve('manager'))
        message = cm.exception.message
        self.assertRegex(message, r'1,?500\.00')
        self.assertIn('overdue', message)

        def date_text():
            Lang = Pool().get('ir.lang')
            return Lang.get().strftime(world.today - 100 * DAY)
        self.assertIn(self.read(date_text), message)

        # the rule report shows it too
        def report():
            Sale = Pool().get('sale.sale')
            return Sale(sale_id).rule_checks
        self.assertIn('✘', self.read(report))

        # neither a rep nor an accountant may override
        for login in ['rep', 'accountant']:
            def override(login=login):
                Sale = Pool().get('sale.sale')
                with acting(_user(login), company=world.company):
                    Sale.dms_override_overdue([Sale(sale_id)])
            with self.subTest(login=login), \
                    self.assertRaises(AccessButtonError):
                self.write(override)

        def manager_override(reason):
            Sale = Pool().get('sale.sale')
            with acting(_user('manager'), check_access=False,
                    company=world.company):
                Sale.dms_override_overdue_block([Sale(sale_id)], reason)
        # a reason is required, nothing written without one
        with self.assertRaises(Exception):
            self.write(lambda: manager_override(''))
        self.assertIsNone(self.read(
                lambda: Pool().get('sale.sale')(sale_id).overdue_override_at))
        self.write(lambda: manager_override("Paid by wire, in transit"))
        self.write(lambda: approve('manager'))

        def check():
            Sale = Pool().get('sale.sale')
            sale = Sale(sale_id)
            return (sale.channel_state, sale.overdue_override_by.login,
                sale.overdue_override_reason,
                bool(sale.overdue_override_at),
                [l.reason for l in sale.channel_logs if l.reason])
        state, by, reason, at, logs = self.read(check)
        self.assertEqual((state, by, reason, at),
            ('approved', 'manager', "Paid by wire, in transit", True))
        self.assertTrue(any("Paid by wire" in l for l in logs))

        # the override is a workflow field: no client writes it
        def write_field():
            Sale = Pool().get('sale.sale')
            with acting(_user('manager'), company=world.company):
                Sale.write([Sale(sale_id)],
                    {'overdue_override_reason': "x"})
        with self.assertRaises(Exception):
            self.write(write_field)

    def test_reminders(self):
        "Due soon once, overdue again after the interval, never twice"
        world = self.world
        today = world.today

        def send(date):
            Reminder = Pool().get('distributor.account.reminder')
            with Transaction().set_context(company=world.company):
                return Reminder.send_reminders(date)
        self.assertEqual(self.write(lambda: send(today)),
            {'due': 1, 'overdue': 5})
        self.assertEqual(self.write(lambda: send(today)),
            {'due': 0, 'overdue': 0})
        # 3 days later: the 100 is overdue now; the others wait
        self.assertEqual(self.write(lambda: send(today + 3 * DAY)),
            {'due': 0, 'overdue': 1})
        # after the interval (7 days) the overdue ones again
        self.assertEqual(self.write(lambda: send(today + 7 * DAY)),
            {'due': 0, 'overdue': 5})

        def read():
            pool = Pool()
            Message = pool.get('distributor.message')
            Notification = pool.get('res.notification')
            Reminder = pool.get('distributor.account.reminder')
            messages = Message.search([('party', '=', world.d1),
                    ('subject', 'ilike', '%reminder%')])
            overdue = Message.search([('party', '=', world.d1),
                    ('subject', 'ilike', '%overdue notice%')])
            notices = Notification.search([
                    ('user', '=', _user('rep').id),
                    ('model', '=', 'distributor.account.reminder')])
            with acting(_user('rep')):
                reached = {r.party.id for r in Reminder.search([])}
            with acting(_user('accountant')):
                everyone = {r.party.id for r in Reminder.search([])}
            return (len(messages), len(overdue), len(notices), reached,
                everyone, messages[0].body if messages else '')
        due, overdue, notices, reached, everyone, body = self.read(read)
        self.assertEqual((due, overdue), (1, 3))
        self.assertIn('100.00', body)
        # d1's rep: due, overdue, overdue (3 days later), overdue again
        self.assertEqual(notices, 4)
        self.assertEqual(reached, {world.d1})
        self.assertEqual(everyone, {world.d1, world.d2})

        # nobody else writes reminders
        def create():
            Reminder = Pool().get('distributor.account.reminder')
            with acting(_user('accountant')):
                Reminder.create([{'company': world.company,
                            'party': world.d1, 'move_line': 1,
                            'kind': 'due', 'date': today}])
        with self.assertRaises(AccessError):
            self.write(create)

    def test_portal_receivables(self):
        "The summary and instalments of its own party only, finance role"
        world = self.world

        def call(email, method, party):
            Aging = Pool().get('distributor.account.aging')
            with acting(_identity(world, email)):
                return getattr(Aging, method)(party)
        summary = self.read(
            lambda: call('d1-finance@example.com', 'dms_receivables',
                world.d1))
        self.assertEqual({k: summary[k] for k in [
                    'balance', 'overdue_amount', 'not_yet_due',
                    'deposit_balance', 'credit_limit', 'oldest_due_date']},
            {'balance': '1600.00', 'overdue_amount': '1500.00',
                'not_yet_due': '100.00', 'deposit_balance': '0.00',
                'credit_limit': '100000.00',
                'oldest_due_date': (world.today - 100 * DAY).isoformat()})
        self.assertEqual(summary['aging'], {'current': '100.00',
                '1_30': '200.00', '31_60': '300.00', '61_90': '600.00',
                'over_90': '400.00', 'credit': '0.00'})
        self.assertEqual(D(summary['credit_available']),
            D(summary['credit_limit']) - D(summary['credit_used']))
        instalments = self.read(
            lambda: call('d1@example.com', 'dms_instalments', world.d1))
        self.assertEqual([(i['amount'], i['status'], i['days_overdue'],
                    i['days_to_due']) for i in instalments], [
                ('400.00', 'overdue', 100, 0), ('600.00', 'overdue', 70, 0),
                ('300.00', 'overdue', 45, 0), ('200.00', 'overdue', 5, 0),
                ('100.00', 'due', 0, 2)])
        self.assertTrue(all(re.match(r'\d{4}-\d\d-\d\d$', i['due_date'])
                for i in instalments))
        # a foreign party answers like one that does not exist
        for method in ['dms_receivables', 'dms_instalments']:
            with self.subTest(method=method), \
                    self.assertRaises(RecordNotFound):
                self.read(lambda: call('d1-finance@example.com', method,
                        world.d2))
        # the orders role has no finance rights
        with self.assertRaises(EntryPointRefused):
            self.read(lambda: call('d1-orders@example.com',
                    'dms_receivables', world.d1))
        # staff: the deposit of the prepaid d2
        d2 = self.read(lambda: call_staff(world, 'accountant', world.d2))
        self.assertEqual(d2['deposit_balance'], '100000.00')
        self.assertEqual(d2['overdue_amount'], '70.00')
        # a rep outside d2's territories does not reach it
        with self.assertRaises(RecordNotFound):
            self.read(lambda: call_staff(world, 'rep', world.d2))


def call_staff(world, login, party):
    Aging = Pool().get('distributor.account.aging')
    with acting(_user(login), company=world.company):
        return Aging.dms_receivables(party)
