# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Rebates: accruals crossing tiers in both modes (amount and quantity
basis, scope by category, credit notes netted), tier validation, the
settlement as credit note and as ledger balance (once per period), the
deduction of the balance on orders (within the balance, never twice,
given back on rejection), the ledger invariant and its guard, roles both
ways, and the portal's progress, ledger and deduction"""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import EntryPointRefused
from distributor.tests.tools import acting, count_queries
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import order

from ..exceptions import LedgerError, RebateError
from ..rebate import split_periods, tier_outcome

API = '/portal/api/v1'
REFUSED = (AccessError, AccessButtonError, EntryPointRefused)
D = Decimal


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _invoice(party, lines, date):
    "A posted customer invoice (negative quantities: a credit note)"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Product = pool.get('product.product')
    Account = pool.get('account.account')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    Journal = pool.get('account.journal')
    company = Company(Transaction().context['company'])
    party = Party(party)
    address = party.address_get(type='invoice')
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True), ('company', '=', company.id)], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    invoice = Invoice(type='out', party=party, invoice_date=date,
        company=company, currency=company.currency, account=receivable,
        invoice_address=address, journal=journal, payment_term=None)
    invoice_lines = []
    for product, quantity, price in lines:
        product = Product(product)
        line = Line(invoice=invoice, type='line', product=product,
            quantity=quantity, unit=product.default_uom,
            unit_price=D(price), taxes=[], company=invoice.company,
            currency=invoice.currency)
        line.account = product.account_revenue_used
        invoice_lines.append(line)
    invoice.lines = invoice_lines
    invoice.save()
    Invoice.post([invoice])
    return invoice


def _policy(title, distributors, programs, publish=True, start=None,
        end=None):
    """A rebate policy of distributors with programs [(values, tiers)];
    tiers [(threshold, rate or amount per unit)]"""
    pool = Pool()
    Policy = pool.get('distributor.policy')
    today = pool.get('ir.date').today()
    start = start or today.replace(month=1, day=1)
    end = end or today.replace(month=12, day=31)
    program_values = []
    for values, tiers in programs:
        basis = values.get('basis', 'amount')
        field = 'rate' if basis == 'amount' else 'amount_per_unit'
        program_values.append({
                'name': values.pop('name', title),
                'start_date': values.pop('start_date', start),
                'end_date': values.pop('end_date', end),
                'period': values.pop('period', 'year'),
                **values,
                'tiers': [('create', [{'threshold': D(t), field: D(v)}
                            for t, v in tiers])],
                })
    policy, = Policy.create([{
                'title': title, 'kind': 'rebate', 'body': '<p>Rebate</p>',
                'start_date': start, 'end_date': end,
                'distributors': [('add', list(distributors))],
                'rebate_programs': [('create', program_values)],
                }])
    if publish:
        Policy.publish([policy])
    return Policy(policy.id)


class RebateTestCase(PortalTestCase):
    "Rebate programs, accruals, settlements, the ledger and deductions"
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Configuration = pool.get('distributor.configuration')
        Product = pool.get('product.product')
        Ledger = pool.get('distributor.rebate.ledger')
        Template = pool.get('product.template')
        Date = pool.get('ir.date')
        p = world.products
        with Transaction().set_context(company=world.company):
            today = Date.today()
            revenue, = Account.search([('type.revenue', '=', True),
                    ('closed', '!=', True)], limit=1)
            config = Configuration(1)
            config.rebate_account = revenue
            config.save()
            # the invoices below use d1's credit
            Party = pool.get('party.party')
            Party.write([Party(world.d1)], {
                    'credit_limit_amount': D(100000)})
            Sale = pool.get('sale.sale')
            deduction = Sale._rebate_product()
            # the deduction is invoiced with the goods: an account
            Template.write([deduction.template], {
                    'account_category': Product(
                        p.p1).template.account_category.id})
            drinks, = Category.search([('name', '=', 'Drinks')])
            d1, d2 = world.d1, world.d2
            # this year's programs of d1 and d2: drinks by amount (both
            # modes) and P1 by quantity
            tiers = [(1000, 2), (2000, 3)]
            year = _policy("Annual rebate", [d1, d2], [
                    ({'name': "Drinks whole", 'tier_mode': 'whole',
                            'categories': [('add', [drinks.id])]}, tiers),
                    ({'name': "Drinks marginal", 'tier_mode': 'marginal',
                            'categories': [('add', [drinks.id])]}, tiers),
                    ({'name': "Cola units", 'basis': 'quantity',
                            'products': [('add', [p.p1])]},
                        [(50, '0.5'), (100, 1)]),
                    ])
            by_name = {r.name: r for r in year.rebate_programs}
            whole = by_name["Drinks whole"]
            marginal = by_name["Drinks marginal"]
            units = by_name["Cola units"]
            # d1: drinks 150 × 10 + 60 × 20 (juice, a sub-category) - a
            # credit note of 20 × 10 = 2,500; snacks 500 out of scope
            _invoice(d1, [(p.p1, 150, 10), (p.p2, 60, 20), (p.p3, 100, 5)],
                today)
            _invoice(d1, [(p.p1, -20, 10)], today)
            _invoice(d2, [(p.p1, 30, 10)], today)
            # a closed period (since January 1st until yesterday) to
            # settle: every product, 1 % and 5 %; d1 bought snacks for
            # 1,000 on January 1st
            first = today.replace(month=1, day=1)
            past = None
            if today > first:
                past = _policy("Past rebate", [d1], [
                        ({'name': "Past credit", 'period': 'custom'},
                            [(0, 1)]),
                        ({'name': "Past balance", 'period': 'custom'},
                            [(0, 5)]),
                        ], start=first, end=today - dt.timedelta(days=1))
                # posted today, dated back (invoices are numbered in date
                # order: the world posted some today already)
                old = _invoice(d1, [(p.p3, 200, 5)], today)
                table = Pool().get('account.invoice').__table__()
                Transaction().connection.cursor().execute(*table.update(
                        [table.invoice_date], [first],
                        where=table.id == old.id))
            # d1 starts with a balance of 100 (an adjustment)
            Ledger.dms_post([{'party': d1, 'kind': 'adjustment',
                        'amount': D(100), 'reason': "Opening balance"}])
            past_programs = {r.name: r for r in past.rebate_programs} \
                if past else {}
            return SimpleNamespace(**vars(world), year=year.id,
                whole=whole.id, marginal=marginal.id, units=units.id,
                past_credit=past_programs["Past credit"].id if past else None,
                past_balance=(past_programs["Past balance"].id if past
                    else None),
                first=first, today=today, drinks=drinks.id,
                deduction=deduction.id)

    def setUp(self):
        super().setUp()
        self.w = self.world

    # helpers

    def _scratch(self, func):
        "Run func() as root in a transaction rolled back afterwards"
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 1, context={
                        'company': self.w.company},
                    **extras) as transaction:
                try:
                    return func()
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    error.fix(extras)
                    continue
                finally:
                    transaction.rollback()
                    transaction.tasks.clear()

    # Pure computations --------------------------------------------------

    def test_tier_outcome_modes(self):
        "The docstring's example: whole 75,000, marginal 35,000"
        tiers = [(D(1000000), D('0.02')), (D(2000000), D('0.03'))]
        whole = tier_outcome(tiers, 'whole', D(2500000))
        self.assertEqual(whole.amount, D('75000.00'))
        self.assertEqual(whole.threshold, D(2000000))
        self.assertIsNone(whole.next_threshold)
        marginal = tier_outcome(tiers, 'marginal', D(2500000))
        self.assertEqual(marginal.amount, D('35000.00'))
        below = tier_outcome(tiers, 'whole', D(400000))
        self.assertIsNone(below.index)
        self.assertEqual(below.amount, D('0.00'))
        self.assertEqual(below.gap, D(600000))
        middle = tier_outcome(tiers, 'marginal', D(1500000))
        self.assertEqual(middle.amount, D('10000.00'))
        self.assertEqual(middle.gap, D(500000))
        self.assertEqual(tier_outcome(tiers, 'whole', D(-5)).amount, 0)
        self.assertEqual(split_periods('quarter', dt.date(2026, 2, 10),
                dt.date(2026, 8, 5)), [
                (dt.date(2026, 2, 10), dt.date(2026, 3, 31)),
                (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
                (dt.date(2026, 7, 1), dt.date(2026, 8, 5))])
        self.assertEqual(len(split_periods('month', dt.date(2026, 1, 1),
                    dt.date(2026, 12, 31))), 12)
        self.assertEqual(split_periods('year', dt.date(2025, 7, 1),
                dt.date(2026, 3, 1)), [
                (dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
                (dt.date(2026, 1, 1), dt.date(2026, 3, 1))])

    # Accruals -----------------------------------------------------------

    def test_accrual_both_modes(self):
        "Accruals of a run: volumes net of credit notes, tiers, gaps"
        w = self.w

        def run():
            pool = Pool()
            Program = pool.get('distributor.rebate.program')
            Accrual = pool.get('distributor.rebate.accrual')
            Run = pool.get('distributor.rebate.run')
            whole, marginal, units = Program.browse(
                [w.whole, w.marginal, w.units])
            with acting(_user('manager')):
                Program.compute_now([whole, marginal, units])
            runs = Run.search([('program', 'in', [w.whole, w.marginal,
                            w.units])])
            self.assertEqual({r.state for r in runs}, {'queued'})
            Run.process(runs)
            runs = Run.browse(runs)
            self.assertEqual({r.state for r in runs}, {'done'})
            self.assertEqual({r.progress for r in runs}, {1.0})
            self.assertEqual(sum(r.rows for r in runs), 6)
            result = {}
            for program in [whole, marginal, units]:
                start = program.period_at(w.today)[0]
                for party, a in Accrual.of(program, start).items():
                    result[program.name, party] = (a.volume,
                        a.tier_threshold, a.accrued_amount, a.gap)
            return result
        result = self._scratch(run)
        d1, d2 = w.d1, w.d2
        self.assertEqual(result["Drinks whole", d1],
            (D('2500.00'), D('2000.00'), D('75.00'), None))
        self.assertEqual(result["Drinks marginal", d1],
            (D('2500.00'), D('2000.00'), D('35.00'), None))
        self.assertEqual(result["Drinks whole", d2],
            (D('300.00'), None, D('0.00'), D('700.00')))
        # 130 units: tier 100 at 1 per unit on the whole volume
        self.assertEqual(result["Cola units", d1],
            (D('130.00'), D('100.00'), D('130.00'), None))
        self.assertEqual(result["Cola units", d2],
            (D('30.00'), None, D('0.00'), D('20.00')))

    def test_accrual_nightly_and_queries(self):
        "The nightly run covers running programs, one aggregate each"
        w = self.w

        def run():
            pool = Pool()
            Run = pool.get('distributor.rebate.run')
            Accrual = pool.get('distributor.rebate.accrual')
            Program = pool.get('distributor.rebate.program')
            run, = Run.compute_nightly()
            Transaction().tasks.clear()
            with count_queries() as counter:
                Accrual.compute([Program(w.whole)])
            aggregates = [q for q in counter.statements
                if 'SUM' in q.upper() and 'account_invoice' in q]
            self.assertEqual(len(aggregates), 1)
            Run.process([run])
            run = Run(run.id)
            return run.state, run.total, run.done
        state, total, done = self._scratch(run)
        self.assertEqual(state, 'done')
        self.assertEqual((total, done), (3, 3))

    # Tiers --------------------------------------------------------------

    def test_tier_validation(self):
        "Tiers refused with nothing written; publication checks programs"
        w = self.w

        def run():
            pool = Pool()
            Program = pool.get('distributor.rebate.program')
            Policy = pool.get('distributor.policy')
            before = Program.search_count([])
            for tiers, error in [
                    ([(1000, 2), (1000, 3)], ValidationError),
                    ([(1000, 3), (2000, 2)], ValidationError),
                    ([(1000, -1)], ValidationError),
                    ([(-5, 1)], ValidationError),
                    ]:
                with self.assertRaises(error):
                    with Transaction().new_transaction() as t:
                        try:
                            _policy("Bad tiers", [w.d1], [({}, tiers)],
                                publish=False)
                        finally:
                            t.rollback()
            self.assertEqual(Program.search_count([]), before)
            # no program, no tiers: not published
            policy = _policy("No program", [w.d1], [], publish=False)
            with self.assertRaises(RebateError):
                Policy.publish([policy])
            policy = _policy("No tiers", [w.d1], [({}, [])], publish=False)
            with self.assertRaises(RebateError):
                Policy.publish([policy])
            self.assertEqual(Policy(policy.id).state, 'draft')
            # published: the programs are locked
            program = Program(w.whole)
            with acting(_user('manager')):
                with self.assertRaises(UserError):
                    Program.write([program], {'name': "Changed"})
        self._scratch(run)

    # Settlements --------------------------------------------------------

    def test_settlement_credit_note_and_ledger(self):
        "Settled as a credit note, as ledger balance; a period only once"
        w = self.w
        if not w.past_credit:
            self.skipTest("no closed period on January 1st")

        def run():
            pool = Pool()
            Settlement = pool.get('distributor.rebate.settlement')
            Ledger = pool.get('distributor.rebate.ledger')
            Program = pool.get('distributor.rebate.program')
            Line = pool.get('distributor.rebate.settlement.line')
            credit, balance = Program.browse([w.past_credit, w.past_balance])
            span = credit.periods()[0]
            manager = _user('manager')
            accountant = _user('accountant')
            with acting(manager):
                s1, s2 = Settlement.create([{
                            'program': credit.id, 'method': 'credit_note',
                            'period_start': span[0], 'period_end': span[1],
                            }, {
                            'program': balance.id, 'method': 'ledger',
                            'period_start': span[0], 'period_end': span[1],
                            }])
                Settlement.compute([s1, s2])
            s1, s2 = Settlement.browse([s1, s2])
            line, = s1.lines
            self.assertEqual((line.party.id, line.volume, line.amount),
                (w.d1, D('1000.00'), D('10.00')))
            # the accountant may not approve, the manager may
            with acting(accountant):
                with self.assertRaises(REFUSED):
                    Settlement.approve([s1])
            # a changed amount needs a reason
            with acting(manager):
                Line = pool.get('distributor.rebate.settlement.line')
                Line.write([s2.lines[0]], {'approved_amount': D('40.00')})
                with self.assertRaises(RebateError):
                    Settlement.approve([s2])
                Line.write([s2.lines[0]], {'reason': "Late delivery"})
                Settlement.approve([s1, s2])
            # the computed amount is the workflow's
            with acting(manager):
                with self.assertRaises(UserError):
                    Line.write([s2.lines[0]], {'amount': D(1)})
            before = Ledger.balance(w.d1)
            with acting(accountant):
                Settlement.settle([s1, s2])
            s1, s2 = Settlement.browse([s1, s2])
            self.assertEqual((s1.state, s2.state), ('settled', 'settled'))
            invoice = s1.lines[0].invoice
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.total_amount, D('-10.00'))
            receivable = [l for l in invoice.move.lines
                if l.account.type.receivable]
            self.assertEqual(len(receivable), 1)
            self.assertEqual(receivable[0].credit, D('10.00'))
            self.assertEqual(receivable[0].party.id, w.d1)
            self.assertEqual(Ledger.balance(w.d1), before + D('40.00'))
            entry = s2.lines[0].ledger_entry
            self.assertEqual((entry.kind, entry.amount),
                ('settlement', D('40.00')))
            # settling the period again is refused
            with acting(manager):
                again, = Settlement.create([{
                            'program': balance.id, 'method': 'ledger',
                            'period_start': span[0], 'period_end': span[1],
                            }])
                with self.assertRaises(RebateError):
                    Settlement.compute([again])
            # an open period cannot be settled
            whole = Program(w.whole)
            period = whole.period_at(w.today)
            with acting(manager):
                current, = Settlement.create([{
                            'program': whole.id, 'method': 'ledger',
                            'period_start': period[0],
                            'period_end': period[1]}])
                with self.assertRaises(RebateError):
                    Settlement.compute([current])
        self._scratch(run)

    # The ledger and deductions ------------------------------------------

    def test_ledger_guard_and_invariant(self):
        "Raw writes refused; adjustments by managers; balance = sum"
        w = self.w

        def run():
            pool = Pool()
            Ledger = pool.get('distributor.rebate.ledger')
            Party = pool.get('party.party')
            entry, = Ledger.search([('party', '=', w.d1)])
            for login in ['manager', 'admin', 'accountant']:
                with acting(_user(login)):
                    with self.assertRaises(UserError):
                        Ledger.write([entry], {'amount': D(1000)})
                    with self.assertRaises(UserError):
                        Ledger.delete([entry])
                    with self.assertRaises(UserError):
                        Ledger.create([{'party': w.d1, 'kind': 'settlement',
                                    'amount': D(5)}])
            # adjustments: managers (reason required), not accountants
            with acting(_user('accountant')):
                with self.assertRaises(REFUSED):
                    Ledger.dms_adjust(w.d1, D(5), "Correction")
            with acting(_user('manager')):
                with self.assertRaises(UserError):
                    Ledger.dms_adjust(w.d1, D(5), "")
                with self.assertRaises(LedgerError):
                    Ledger.dms_adjust(w.d1, D(-500), "Too much")
                Ledger.dms_adjust(w.d1, D('-25.50'), "Correction")
                created, = Ledger.create([{'party': w.d1,
                            'amount': D('5.50'), 'reason': "Form"}])
                self.assertEqual(created.kind, 'adjustment')
            # the rep reaches d1 (Jiangsu) only
            with acting(_user('rep')):
                self.assertTrue(Ledger.search([('party', '=', w.d1)]))
                self.assertFalse(Ledger.search([('party', '=', w.d2)]))
            entries = Ledger.search([('party', '=', w.d1)])
            total = sum(e.amount for e in entries)
            self.assertEqual(total, D('80.00'))
            self.assertEqual(Ledger.balance(w.d1), total)
            self.assertEqual(Party(w.d1).rebate_balance, total)
            latest = Ledger.search([('party', '=', w.d1)], limit=1)[0]
            self.assertEqual(latest.running_balance, total)
            self.assertEqual(Ledger.balance(w.d2), 0)
            # dms_post serialises on the party before reading the balance
            with count_queries() as counter:
                Ledger.dms_post([{'party': w.d1, 'kind': 'adjustment',
                            'amount': D(1), 'reason': "x"}])
            statements = [q.upper() for q in counter.statements]
            update = next(i for i, q in enumerate(statements)
                if q.startswith('UPDATE') and 'PARTY_PARTY' in q)
            read = next(i for i, q in enumerate(statements)
                if 'SUM' in q and 'DISTRIBUTOR_REBATE_LEDGER' in q)
            self.assertLess(update, read)
        self._scratch(run)

    def test_deduction_on_orders(self):
        "Within the balance, never twice, given back on rejection"
        w = self.w

        def run():
            pool = Pool()
            Sale = pool.get('sale.sale')
            Ledger = pool.get('distributor.rebate.ledger')
            manager = _user('manager')
            sale = Sale(w.own.sale_draft)
            orders = _identity(w, 'd1-orders@example.com')
            view = _identity(w, 'd1-view@example.com')
            foreign = _identity(w, 'd2@example.com')
            goods = sale.untaxed_amount
            # roles and reach
            with acting(view):
                with self.assertRaises(REFUSED):
                    Sale.dms_set_rebate_deduction(w.d1, sale.id, 10)
            with acting(foreign):
                with self.assertRaises(UserError):
                    Sale.dms_set_rebate_deduction(w.d1, sale.id, 10)
            with acting(orders):
                with self.assertRaises(LedgerError):
                    Sale.dms_set_rebate_deduction(w.d1, sale.id, 150)
                # more than the goods (90), within the balance (100)
                self.assertEqual(goods, D('90.00'))
                with self.assertRaises(RebateError):
                    Sale.dms_set_rebate_deduction(w.d1, sale.id, 91)
                result = Sale.dms_set_rebate_deduction(w.d1, sale.id, 30)
                # idempotent
                result = Sale.dms_set_rebate_deduction(w.d1, sale.id, 30)
            self.assertEqual(result['rebate_deduction'], '30.00')
            self.assertEqual(Ledger.balance(w.d1), D(100))
            with acting(manager):
                Sale.dms_submit([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'submitted')
            self.assertEqual(sale.untaxed_amount, goods - 30)
            self.assertEqual(Ledger.balance(w.d1), D(70))
            self.assertEqual(sale.rebate_deducted, D(30))
            # rejected: given back; submitted again: taken once more
            with acting(manager):
                Sale.dms_reject_orders([sale], "Wrong address")
            self.assertEqual(Ledger.balance(w.d1), D(100))
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([Sale(sale.id)])
            self.assertEqual(Ledger.balance(w.d1), D(70))
            kinds = [e.kind for e in Ledger.search([
                        ('origin', '=', str(sale))],
                    order=[('id', 'ASC')])]
            self.assertEqual(kinds, ['deduction', 'reversal', 'deduction'])
            # two orders for one balance of 70: one passes
            first = order(Pool().get('party.party')(w.d1),
                [(Pool().get('product.product')(w.products.p1), 10)])
            second = order(Pool().get('party.party')(w.d1),
                [(Pool().get('product.product')(w.products.p1), 10)])
            with acting(orders):
                Sale.dms_set_rebate_deduction(w.d1, first.id, 50)
                Sale.dms_set_rebate_deduction(w.d1, second.id, 50)
            with acting(manager):
                Sale.dms_submit([first])
                with self.assertRaises(LedgerError):
                    Sale.dms_submit([Sale(second.id)])
            self.assertEqual(Sale(second.id).channel_state, 'draft')
            self.assertEqual(Ledger.balance(w.d1), D(20))
            # cancelled: given back
            with acting(manager):
                Sale.dms_cancel_orders([Sale(first.id)], "No longer needed")
            self.assertEqual(Ledger.balance(w.d1), D(70))
            entries = Ledger.search([('party', '=', w.d1)])
            self.assertEqual(sum(e.amount for e in entries),
                Ledger.balance(w.d1))
        self._scratch(run)

    # The portal ---------------------------------------------------------

    def test_portal_rebates(self):
        "Progress for every role, ledger for finance, deduction for orders"
        w = self.w
        d1 = self.client('d1@example.com')
        page = d1.get('/portal/rebates')
        self.assertEqual(page.status_code, 200)
        html = page.get_data(as_text=True)
        self.assertIn('Drinks whole', html)
        self.assertIn('2,500.00', html)
        self.assertIn('75.00', html)
        self.assertIn('100.00', html)   # the balance
        status, body = d1.api('GET', f'{API}/rebates')
        self.assertEqual(status, 200)
        programs = {p['name']: p for p in body['programs']}
        self.assertEqual(programs['Drinks whole']['volume'], '2500.00')
        self.assertEqual(programs['Drinks whole']['accrued_amount'], '75.00')
        self.assertEqual(body['balance'], '100.00')
        # d2 sees its own figures only
        d2 = self.client('d2@example.com')
        status, body = d2.api('GET', f'{API}/rebates')
        self.assertEqual(status, 200)
        programs = {p['name']: p for p in body['programs']}
        self.assertEqual(programs['Drinks whole']['volume'], '300.00')
        self.assertEqual(programs['Drinks whole']['gap'], '700.00')
        self.assertNotIn('2,500.00', d2.get('/portal/rebates').get_data(
                as_text=True))
        status, body = d2.api('GET', f'{API}/rebates/ledger')
        self.assertEqual((status, body['total'], body['balance']),
            (200, 0, '0.00'))
        # view: progress yes, ledger and deductions no
        view = self.client('d1-view@example.com')
        self.assertEqual(view.get('/portal/rebates').status_code, 200)
        self.assertEqual(view.get('/portal/rebates/ledger').status_code, 403)
        status, body = view.api('GET', f'{API}/rebates')
        self.assertIsNone(body['balance'])
        status, _ = view.api('POST',
            f'{API}/orders/{w.own.sale_draft}/rebate-deduction',
            {'amount': 10})
        self.assertEqual(status, 403)
        finance = self.client('d1-finance@example.com')
        page = finance.get('/portal/rebates/ledger')
        self.assertEqual(page.status_code, 200)
        self.assertIn('Opening balance', page.get_data(as_text=True))
        status, body = finance.api('GET', f'{API}/rebates/ledger?limit=1')
        self.assertEqual((status, body['total'], body['balance']),
            (200, 1, '100.00'))
        self.assertEqual(body['items'][0]['balance'], '100.00')
        # orders: set a deduction on a draft order; d2 may not touch it
        orders = self.client('d1-orders@example.com', api=True)
        status, body = orders.api('POST',
            f'{API}/orders/{w.own.sale_draft}/rebate-deduction',
            {'amount': 20})
        self.assertEqual(status, 200, body)
        self.assertEqual(body['rebate_deduction'], '20.00')
        status, body = orders.api('POST',
            f'{API}/orders/{w.own.sale_draft}/rebate-deduction',
            {'amount': 500})
        self.assertEqual(status, 422)
        status, _ = d2.api('POST',
            f'{API}/orders/{w.own.sale_draft}/rebate-deduction',
            {'amount': 5})
        self.assertEqual(status, 404)
        page = self.client('d1-orders@example.com')
        html = page.get('/portal/rebates').get_data(as_text=True)
        self.assertIn('rebate-deduction', html)
        response = page.post('/portal/rebates/deduction', {
                'sale': w.own.sale_draft, 'amount': '0'})
        self.assertEqual(response.status_code, 303)
        response = page.post('/portal/rebates/deduction', {
                'sale': w.own.sale_draft, 'amount': '999'})
        self.assertEqual(response.status_code, 422)

        def check():
            Sale = Pool().get('sale.sale')
            return Sale(w.own.sale_draft).rebate_deduction
        self.assertIn(self.read(check), (None, D(0)))


del PortalTestCase
