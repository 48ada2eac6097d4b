# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The KPIs of the assessments: for each code a small situation of D1 and
D2 in a quarter of last year (the world's own activity is dated today,
outside it), the value per distributor computed by hand, the not
applicable (None) cases, and D3 (in the scope, without any activity)
answered with 0 or None, never missing"""
import datetime as dt
from decimal import Decimal

from sql import Null

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import order
from distributor_stock.tests.test_module import create_lot
from distributor_stock.tests.tools import move_stock
from distributor_store.tests.tools import delivered_order

from ..exceptions import KpiError
from ..kpi import KpiValidationError

D = Decimal


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def days_ago(date):
    return (Pool().get('ir.date').today() - date).days


def sell_in(party, lines, date, state='confirmed'):
    """A brand sale to party (lines: [(product, quantity, unit price)])
    dated date, in state"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    sale = order(party, [(p, q) for p, q, _ in lines])
    sale_t, line_t = Sale.__table__(), SaleLine.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*sale_t.update([sale_t.state, sale_t.sale_date],
            [state, date], where=sale_t.id == sale.id))
    for line, (_, _, price) in zip(Sale(sale.id).lines, lines):
        cursor.execute(*line_t.update([line_t.unit_price], [D(price)],
                where=line_t.id == line.id))
    return Sale(sale.id)


def receivable(party, amount, date, maturity=None):
    """A posted move of party's receivable (amount < 0: a payment not
    reconciled), dated date in SQL"""
    pool = Pool()
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Period = pool.get('account.period')
    today = pool.get('ir.date').today()
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True)], limit=1)
    revenue, = Account.search([('type.revenue', '=', True),
            ('closed', '!=', True)], limit=1)
    debit, credit = (amount, D(0)) if amount > 0 else (D(0), -amount)
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(receivable.company, date=today),
                'date': today,
                'lines': [('create', [{
                                'account': receivable.id, 'party': party,
                                'debit': debit, 'credit': credit,
                                'maturity_date': maturity,
                                }, {
                                'account': revenue.id,
                                'debit': credit, 'credit': debit,
                                }])],
                }])
    Move.post([move])
    move_t, line_t = Move.__table__(), MoveLine.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*move_t.update([move_t.date], [date],
            where=move_t.id == move.id))
    cursor.execute(*line_t.update([line_t.maturity_date], [maturity],
            where=(line_t.move == move.id) & (line_t.party != Null)))
    return move


class KpiTestCase(PortalTestCase):
    "The KPIs computed over a quarter of last year, by hand and by SQL"
    modules = ['distributor_assessment']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        with Transaction().set_context(company=world.company):
            cls._build(world)
        return world

    @classmethod
    def _build(cls, world):
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Target = pool.get('distributor.target')
        Plan = pool.get('distributor.coverage.plan')
        Check = pool.get('distributor.store.check')
        Policy = pool.get('distributor.policy')
        Recipient = pool.get('distributor.policy.recipient')
        SaleLine = pool.get('sale.line')
        Incident = pool.get('distributor.diversion.incident')
        PriceIncident = pool.get('distributor.price.incident')
        Statement = pool.get('distributor.account.statement')
        StatementLog = pool.get('distributor.account.statement.log')
        Company = pool.get('company.company')
        cursor = Transaction().connection.cursor()
        today = pool.get('ir.date').today()
        year = today.year - 1
        start, end = dt.date(year, 1, 1), dt.date(year, 3, 31)
        world.start, world.end = start, end
        d1, d2 = Party(world.d1), Party(world.d2)
        p1, p2 = Product(world.products.p1), Product(world.products.p2)
        Party.write([d1], {'credit_limit_amount': D(1000000)})

        # sell-in: D1 300.00 in the quarter (an edge day included), 150.00
        # in the same quarter a year before; a line the day after the
        # quarter and a draft sale in it not counted; D2 only 80.00 a
        # year before, nothing in the quarter
        promoted = sell_in(d1, [(p1, 100, '2.00')], dt.date(year, 2, 1))
        sell_in(d1, [(p1, 50, '2.00')], end)
        sell_in(d1, [(p1, 10, '3.00')], end + dt.timedelta(days=1))
        sell_in(d1, [(p1, 40, '2.00')], dt.date(year, 2, 2), state='draft')
        sell_in(d1, [(p1, 30, '5.00')], dt.date(year - 1, 3, 15))
        sell_in(d2, [(p1, 40, '2.00')], dt.date(year - 1, 2, 10))

        # targets: D1's confirmed one without category in the quarter
        # (400.00) counts; one of a category, a draft one, one lying
        # partly outside do not
        targets = Target.create([
                {'company': world.company, 'distributor': d1.id,
                    'start_date': start, 'end_date': end,
                    'amount': D(400)},
                {'company': world.company, 'distributor': d1.id,
                    'start_date': start, 'end_date': end,
                    'category': world.products.drinks,
                    'amount': D(50)},
                {'company': world.company, 'distributor': d2.id,
                    'start_date': start - dt.timedelta(days=31),
                    'end_date': end, 'amount': D(100)},
                {'company': world.company, 'distributor': d1.id,
                    'start_date': start - dt.timedelta(days=365),
                    'end_date': start - dt.timedelta(days=300),
                    'amount': D(10)},
                ])
        target_t = Target.__table__()
        cursor.execute(*target_t.update([target_t.state], ['confirmed'],
                where=target_t.id.in_([t.id for t in targets[:3]])))

        # coverage: a plan of D1's 3 active stores × P1, P2 running in the
        # quarter; covered: (S1, P1) by the world's deliveries, (S2, P2)
        # by a shelf check after the start: 2 of 6 pairs
        plan, = Plan.create([{'name': "Q1 plan",
                    'owner_distributor': d1.id,
                    'start_date': dt.date(year, 1, 15),
                    'deadline': dt.date(year, 2, 15),
                    'products': [('add', [p1.id, p2.id])]}])
        Plan.start([plan])
        world.plan_stores = len(Plan(plan.id).stores)
        check, = Check.create([{'store': world.s2,
                    'date': dt.date(year, 2, 1),
                    'lines': [('create', [{'product': p2.id,
                                    'quantity': 2}])]}])
        Check.confirm([check])
        # D2's plan cancelled: not applicable
        plan2, = Plan.create([{'name': "Q1 plan D2",
                    'owner_distributor': d2.id,
                    'start_date': start, 'deadline': end,
                    'products': [('add', [p1.id])]}])
        Plan.cancel([plan2])

        # stock: D1 holds P1 100 + 7 of an expired lot, P2 30 + 5 of a lot
        # expiring on the last day, an expired lot gone; it sold 180 P1
        # to S1 in the quarter (2 a day: 53.5 days of cover, in the band)
        # and no P2 (outside the band): 1 of 2 products in the band
        first = dt.date(year, 1, 10)
        move_stock(d1, p1, 100, days_ago=days_ago(first))
        move_stock(d1, p2, 30, days_ago=days_ago(first))
        expired = create_lot(p1, 'EXP-1',
            expiration_days=-days_ago(dt.date(year, 3, 1)))
        last_day = create_lot(p2, 'EXP-2',
            expiration_days=-days_ago(end))
        gone = create_lot(p1, 'EXP-3',
            expiration_days=-days_ago(dt.date(year, 2, 1)))
        delivered_order(d1, Party(world.s1), [(p1, 180)],
            days_ago=days_ago(dt.date(year, 3, 1)))
        # (after the delivery, which would pick the lots otherwise)
        move_stock(d1, p1, 7, lot=expired, days_ago=days_ago(first))
        move_stock(d1, p2, 5, lot=last_day, days_ago=days_ago(first))
        move_stock(d1, p1, 4, lot=gone, days_ago=days_ago(first))
        move_stock(d1, p1, 4, lot=gone, days_ago=days_ago(first),
            sellout=True)
        # D2's stock arrives after the quarter
        move_stock(d2, p1, 50, days_ago=days_ago(end) - 1)

        # policies published in the quarter: D1 received 2 and
        # acknowledged 1, D2 received 2 and acknowledged none; one
        # published after the quarter and one withdrawn do not count
        def policy(title, kind='notice', published=None, state=None,
                rules=None, dates=None, distributors=(d1, d2)):
            record, = Policy.create([{
                        'kind': kind, 'title': title,
                        'company': world.company,
                        'start_date': today,
                        'distributors': [('add',
                                [d.id for d in distributors])],
                        'promotion_rules': [('create', rules or [])],
                        }])
            Policy.publish([record])
            policy_t = Policy.__table__()
            columns, values = [], []
            if published:
                columns.append(policy_t.published_at)
                values.append(dt.datetime.combine(published, dt.time(9)))
            if state:
                columns.append(policy_t.state)
                values.append(state)
            if dates:
                columns += [policy_t.start_date, policy_t.end_date]
                values += list(dates)
            if columns:
                cursor.execute(*policy_t.update(columns, values,
                        where=policy_t.id == record.id))
            return Policy(record.id)
        read1 = policy("Notice 1", published=dt.date(year, 1, 20))
        policy("Notice 2", published=end)
        policy("Notice 3", published=end + dt.timedelta(days=1))
        policy("Notice 4", published=dt.date(year, 2, 1),
            state='withdrawn')
        recipient_t = Recipient.__table__()
        cursor.execute(*recipient_t.update([recipient_t.acknowledged_at],
                [dt.datetime.combine(dt.date(year, 1, 25), dt.time(9))],
                where=(recipient_t.policy == read1.id)
                & (recipient_t.distributor == d1.id)))

        # promotions valid in the quarter: A (D1, D2; D1 ordered on it),
        # B (D1, D2; nobody ordered), C (after the quarter): D1 1 of 2,
        # D2 0 of 2
        rule = [{'name': "Cola 10% off", 'products': [('add', [p1.id])],
                'discount_percentage': D('0.1')}]
        promo_a = policy("Promotion A", kind='promotion', rules=rule,
            dates=(dt.date(year, 1, 1), dt.date(year, 2, 28)))
        policy("Promotion B", kind='promotion', rules=rule,
            dates=(dt.date(year - 1, 12, 1), None))
        policy("Promotion C", kind='promotion', rules=rule,
            dates=(end + dt.timedelta(days=1), None))
        line_t = SaleLine.__table__()
        cursor.execute(*line_t.update([line_t.promotion],
                [promo_a.sale_promotions[0].id],
                where=line_t.sale == promoted.id))

        # receivables at the quarter's end: D1 100.00 overdue, 300.00 not
        # due yet and an unapplied payment of 50.00 (left out): 25 %;
        # D2's invoice after the quarter does not count: 0
        receivable(d1, D(100), dt.date(year, 1, 10), dt.date(year, 2, 15))
        receivable(d1, D(300), dt.date(year, 3, 10), dt.date(year, 4, 30))
        receivable(d1, D(-50), dt.date(year, 3, 1))
        receivable(d2, D(200), end + dt.timedelta(days=1), end)

        # incidents in the quarter: D1 2 confirmed diversions + 1 confirmed
        # price incident (an open and a dismissed one not counted), D2 1
        # confirmed diversion (another one after the quarter)
        lot = create_lot(p1, 'DIV-1')

        def diversion(party, date, state):
            incident, = Incident.create([{
                        'date': date, 'store': world.s3,
                        'store_distributor': d2.id, 'shipped_to': party.id,
                        'product': p1.id, 'lot': lot.id, 'quantity': 1}])
            if state == 'confirmed':
                Incident.confirm([incident])
            elif state == 'dismissed':
                Incident.dismiss([incident])
        for party, date, state in [
                (d1, dt.date(year, 1, 5), 'confirmed'),
                (d1, end, 'confirmed'),
                (d1, dt.date(year, 2, 5), 'open'),
                (d1, dt.date(year, 2, 6), 'dismissed'),
                (d2, dt.date(year, 3, 5), 'confirmed'),
                (d2, end + dt.timedelta(days=1), 'confirmed'),
                ]:
            diversion(party, date, state)
        prices = PriceIncident.create([{
                    'date': date, 'store': world.s1, 'distributor': d1.id,
                    'product': p1.id, 'price_seen': D(1)}
                for date in [dt.date(year, 2, 10), dt.date(year, 2, 11)]])
        PriceIncident.confirm(prices[:1])

        # statements of D1 disputed in the quarter: A twice, B once (2);
        # C before it; D2's E once in it (1)
        company = Company(world.company)

        def statement(party, month, disputes):
            record, = Statement.create([{
                        'kind': 'distributor', 'company': world.company,
                        'issuer': company.party.id, 'party': party.id,
                        'start_date': dt.date(year - 1, month, 1),
                        'end_date': dt.date(year - 1, month, 28)}])
            log_t = StatementLog.__table__()
            for date in disputes:
                cursor.execute(*log_t.insert(
                        [log_t.document, log_t.from_state, log_t.to_state,
                            log_t.create_uid, log_t.create_date],
                        [[record.id, 'sent', 'disputed', 0,
                                dt.datetime.combine(date, dt.time(10))]]))
        statement(d1, 1, [dt.date(year, 1, 3), dt.date(year, 3, 31)])
        statement(d1, 2, [dt.date(year, 2, 3)])
        statement(d1, 3, [start - dt.timedelta(days=1)])
        statement(d2, 4, [dt.date(year, 2, 3)])

    # helpers -----------------------------------------------------------

    def compute(self, code, start=None, end=None):
        """{party: value} of the KPI of code over the quarter (or the
        dates given) for D1, D2 and D3"""
        def func():
            pool = Pool()
            Kpi = pool.get('distributor.assessment.kpi')
            Party = pool.get('party.party')
            party = Party.__table__()
            scope = party.select(party.id.as_('party'),
                where=party.id.in_([self.world.d1, self.world.d2,
                        self.world.d3]))
            kpi, = Kpi.search([('code', '=', code)])
            with Transaction().set_context(company=self.world.company):
                values = Kpi.compute([kpi], start or self.world.start,
                    end or self.world.end, scope)
            return values[kpi.id]
        return self.read(func)

    def assertValues(self, code, d1, d2, d3):
        w = self.world
        values = self.compute(code)
        self.assertEqual(values, {w.d1: d1, w.d2: d2, w.d3: d3})
        for value in values.values():
            self.assertTrue(value is None or isinstance(value, Decimal))

    # tests -------------------------------------------------------------

    def test_shipped(self):
        "Ten KPIs shipped, one per code, with units and directions"
        def func():
            Kpi = Pool().get('distributor.assessment.kpi')
            kpis = Kpi.search([])
            return {k.code: (k.unit, k.direction, k.band_min, k.band_max,
                    bool(k.description)) for k in kpis}
        kpis = self.read(func)
        self.assertEqual(len(kpis), 10)
        self.assertEqual(kpis['stock_cover'][:4],
            ('percent', 'higher', 15, 60))
        self.assertEqual(kpis['incidents'][:2], ('count', 'lower'))
        self.assertEqual(kpis['overdue_ratio'][:2], ('percent', 'lower'))
        self.assertTrue(all(v[4] for v in kpis.values()))

    def test_sales_attainment(self):
        "300.00 sold ÷ 400.00 target; no target in the period: None"
        self.assertValues('sales_attainment', D('75.00'), None, None)

    def test_sales_growth(self):
        "(300 − 150) ÷ 150; nothing in the quarter: −100 %; nothing: None"
        self.assertValues('sales_growth', D('100.00'), D('-100.00'), None)

    def test_coverage_rate(self):
        "2 of 6 pairs covered; a cancelled plan or none: None"
        self.assertEqual(self.world.plan_stores, 3)
        self.assertValues('coverage_rate', D('33.33'), None, None)

    def test_stock_cover(self):
        "P1 in the band, P2 without sell-out out of it; no stock: None"
        self.assertValues('stock_cover', D('50.00'), None, None)
        # a band that P1's 53.5 days miss: 0 of 2
        def func():
            Kpi = Pool().get('distributor.assessment.kpi')
            kpi, = Kpi.search([('code', '=', 'stock_cover')])
            Kpi.write([kpi], {'band_min': 10, 'band_max': 50})
        self.write(func)
        try:
            self.assertValues('stock_cover', D('0.00'), None, None)
        finally:
            def reset():
                Kpi = Pool().get('distributor.assessment.kpi')
                kpi, = Kpi.search([('code', '=', 'stock_cover')])
                Kpi.write([kpi], {'band_min': 15, 'band_max': 60})
            self.write(reset)

    def test_expired_stock(self):
        "7 units of the expired lot still in stock; nothing: 0"
        self.assertValues('expired_stock', D('7.00'), D('0.00'), D('0.00'))

    def test_policy_ack(self):
        "1 of 2 acknowledged, 0 of 2; none received: None"
        self.assertValues('policy_ack', D('50.00'), D('0.00'), None)

    def test_promotion_participation(self):
        "Ordered on 1 of 2 promotions, on none of 2; none: None"
        self.assertValues('promotion_participation', D('50.00'),
            D('0.00'), None)

    def test_overdue_ratio(self):
        "100 overdue of 400 open; no receivable at the date: 0"
        self.assertValues('overdue_ratio', D('25.00'), D('0.00'),
            D('0.00'))

    def test_incidents(self):
        "2 diversions + 1 price incident, 1 diversion, none: 0"
        self.assertValues('incidents', D(3), D(1), D(0))

    def test_statement_disputes(self):
        "2 statements disputed (one twice), 1, none: 0"
        self.assertValues('statement_disputes', D(2), D(1), D(0))

    def test_bad_input(self):
        "A period ending before it starts, a band upside down: refused"
        with self.assertRaises(KpiError):
            self.compute('incidents', self.world.end, self.world.start)

        def func():
            Kpi = Pool().get('distributor.assessment.kpi')
            kpi, = Kpi.search([('code', '=', 'stock_cover')])
            with self.assertRaises(KpiValidationError):
                Kpi.write([kpi], {'band_min': 70})
            Transaction().rollback()
        self.write(func)

    def test_access(self):
        "Managers edit the KPIs, reps and accountants read them only"
        def func():
            Kpi = Pool().get('distributor.assessment.kpi')
            kpi, = Kpi.search([('code', '=', 'incidents')])
            for login in ['rep', 'accountant']:
                with acting(user(login)):
                    self.assertEqual(len(Kpi.search([])), 10)
                    with self.assertRaises(AccessError):
                        Kpi.write([Kpi(kpi.id)], {'name': "Changed"})
            with acting(user('manager')):
                Kpi.write([Kpi(kpi.id)], {'name': "Incidents"})
                with self.assertRaises(AccessError):
                    Kpi.create([{'code': 'incidents', 'name': "Copy",
                                'unit': 'count', 'direction': 'lower'}])
            with acting(user('plain')):
                with self.assertRaises(AccessError):
                    Kpi.search([])
            Transaction().rollback()
        self.write(func)
