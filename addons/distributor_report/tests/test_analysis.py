# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The analyses and rankings: sell-in to D1..D4 over three months of 2025
(and one of 2024) by distributor, month, tier, category and territory
(the tree rolled up: a parent counts its distinct distributors once, D1
lying in Jiangsu and in two of its cities), sell-out from delivered
channel orders, channel stock, receivables, the rankings with their ties,
the sales rep limited to D1's side, the filters of the context"""
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting
from distributor_account.tests import test_statement as account_tools
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

D = Decimal
JAN, FEB, MAR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)
PERIOD = {'from_date': dt.date(2025, 1, 1), 'to_date': dt.date(2025, 3, 31)}


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def sale(party, date, lines):
    """A confirmed sale of the brand to party dated date (the workflow
    is not what is tested: its state is set in SQL); lines: [(product,
    quantity, unit price)]"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Company = pool.get('company.company')
    Product = pool.get('product.product')
    Party = pool.get('party.party')
    company = Company(Transaction().context['company'])
    party = Party(party)
    record, = Sale.create([{
                'company': company.id,
                'currency': company.currency.id,
                'party': party.id,
                'invoice_address': getattr(
                    party.address_get(type='invoice'), 'id', None),
                'shipment_address': getattr(
                    party.address_get(type='delivery'), 'id', None),
                'sale_date': date,
                'lines': [('create', [{
                                'type': 'line',
                                'product': p,
                                'unit': Product(p).default_uom.id,
                                'quantity': q,
                                'unit_price': D(price),
                                } for p, q, price in lines])],
                }])
    table = Sale.__table__()
    Transaction().connection.cursor().execute(*table.update(
            [table.state], ['confirmed'], where=table.id == record.id))
    return record


class AnalysisTestCase(PortalTestCase):
    "Analyses and rankings"
    modules = ['distributor_report']

    @classmethod
    def build_world(cls):
        w = build_portal_world()
        with Transaction().set_context(company=w.company):
            return cls._build(w)

    @classmethod
    def _build(cls, w):
        from distributor_store.tests.tools import delivered_order
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        Order = pool.get('distributor.channel.order')
        OrderLine = pool.get('distributor.channel.order.line')
        p1, p2 = w.products.p1, w.products.p2
        w.t = {t.code: t.id for t in Territory.search([])}
        # D1 in Jiangsu and in two of its cities: counted once above
        Party.write([Party(w.d1)], {'territories': [('add', [
                            w.t['EC-JS-NJ'], w.t['EC-JS-SZ']])]})
        sale(w.d1, dt.date(2025, 1, 10), [(p1, 10, 10)])
        sale(w.d1, dt.date(2025, 2, 15), [(p2, 5, 20)])
        sale(w.d1, dt.date(2025, 3, 20), [(p1, 20, 10)])
        sale(w.d2, dt.date(2025, 1, 20), [(p1, 30, 10)])
        sale(w.d2, dt.date(2025, 2, 5), [(p2, 10, 20)])
        sale(w.d3, dt.date(2025, 2, 25), [(p1, 5, 10)])
        sale(w.d4, dt.date(2025, 3, 1), [(p2, 20, 20)])
        # the same period a year before
        sale(w.d1, dt.date(2024, 2, 1), [(p1, 20, 10)])
        sale(w.d2, dt.date(2024, 1, 15), [(p1, 25, 20)])
        # D1 800 and D2 500 to reach over the period (confirmed in SQL:
        # their workflow is distributor_assessment's)
        Target = pool.get('distributor.target')
        targets = Target.create([{
                    'company': w.company,
                    'distributor': d,
                    'start_date': dt.date(2025, 1, 1),
                    'end_date': dt.date(2025, 3, 31),
                    'amount': D(a),
                    } for d, a in [(w.d1, 800), (w.d2, 500)]])
        table = Target.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.state], ['confirmed'],
                where=table.id.in_([t.id for t in targets])))
        cursor = Transaction().connection.cursor()
        # receivables: D1 invoiced 300 (40 days ago, due then) and paid
        # 100 (not applied yet); D2 invoiced 200 (10 days ago)
        Account = pool.get('account.account')
        receivable, = Account.search([('type.receivable', '=', True),
                ('closed', '!=', True)], limit=1)
        w.today = today = pool.get('ir.date').today()
        MoveLine = pool.get('account.move.line')
        move_line = MoveLine.__table__()
        for party, amount, days in [(w.d1, 300, 40), (w.d2, 200, 10)]:
            date = today - dt.timedelta(days=days)
            invoice = account_tools.invoice(party, amount, date)
            # due on its date (the helper dates the move only)
            cursor.execute(*move_line.update([move_line.maturity_date],
                    [date], where=(move_line.move == invoice.move.id)
                    & (move_line.maturity_date != None)))  # noqa: E711
        account_tools.movement(w.d1, D(100), today - dt.timedelta(days=5),
            receivable)
        # sell-out: delivered channel orders, dated in SQL
        order_table = Order.__table__()
        line_table = OrderLine.__table__()
        for seller, buyer, product, quantity, price, date in [
                (w.d1, w.s1, p1, 4, 12, dt.date(2025, 2, 10)),
                (w.d2, w.s3, p2, 3, 25, dt.date(2025, 3, 5))]:
            order = delivered_order(Party(seller), Party(buyer),
                [(pool.get('product.product')(product), quantity)])
            cursor.execute(*order_table.update([order_table.delivered_date],
                    [date], where=order_table.id == order.id))
            cursor.execute(*line_table.update(
                    [line_table.unit_price, line_table.discount],
                    [D(price), D(0)], where=line_table.order == order.id))
        return w

    def rows(self, model, key, fields, login=None, domain=None,
            **context):
        """{key value: (fields)} of the model's rows under the context (as
        login, access checked; root by default)"""
        def read():
            pool = Pool()
            Model = pool.get(model)
            ctx = {'company': self.world.company, 'period': 'month',
                **PERIOD, **context}
            who = user(login) if login else None
            with acting(who, **ctx):
                records = Model.search(domain or [])
                result = {}
                for record in Model.read([r.id for r in records],
                        [key] + list(fields)):
                    value = record[key]
                    if isinstance(value, dt.datetime):
                        value = value.date()
                    result[value] = tuple(record[f] for f in fields)
                return result
        return self.read(read)

    def test_sell_in_per_distributor(self):
        "Sell-in per distributor: amount, quantity, orders, target"
        w = self.world
        rows = self.rows('distributor.report.sell_in.distributor',
            'distributor', ['amount', 'quantity', 'number'])
        self.assertEqual(rows, {
                w.d1: (D('400.00'), 35, 3),
                w.d2: (D('500.00'), 40, 2),
                w.d3: (D('50.00'), 5, 1),
                w.d4: (D('400.00'), 20, 1),
                })
        rows = self.rows('distributor.report.sell_in.distributor',
            'distributor', ['target', 'attainment'])
        self.assertEqual(rows[w.d1], (D('800.00'), D('50.00')))
        self.assertEqual(rows[w.d2], (D('500.00'), D('100.00')))
        self.assertEqual(rows[w.d3], (None, None))
        # the trend of each row: a sparkline of its time series
        trend, = self.rows('distributor.report.sell_in.distributor',
            'distributor', ['amount_trend'])[w.d1]

        self.assertEqual(len(trend), 3)
        # a target outside the period does not count
        rows = self.rows('distributor.report.sell_in.distributor',
            'distributor', ['target'], to_date=dt.date(2025, 2, 28))
        self.assertEqual(rows[w.d1], (None,))

    def test_sell_in_time_series(self):
        "The whole sell-in per month, quarter and year; a distributor's"
        w = self.world
        model = 'distributor.report.sell_in.time_series'
        self.assertEqual(self.rows(model, 'date', ['amount', 'number']), {
                JAN: (D('400.00'), 2),
                FEB: (D('350.00'), 3),
                MAR: (D('600.00'), 2),
                })
        self.assertEqual(self.rows(model, 'date', ['amount'],
                period='quarter'), {JAN: (D('1350.00'),)})
        self.assertEqual(self.rows(model, 'date', ['amount'],
                period='year'), {JAN: (D('1350.00'),)})
        weeks = self.rows(model, 'date', ['amount'], period='week')
        # 2025-01-10 is a Friday: its week starts on Monday the 6th
        self.assertEqual(weeks[dt.date(2025, 1, 6)], (D('100.00'),))
        self.assertTrue(all(d.weekday() == 0 for d in weeks))
        self.assertEqual(sum(v for v, in weeks.values()), D('1350.00'))
        main = self.rows('distributor.report.sell_in', 'company',
            ['amount', 'quantity'])
        self.assertEqual(main, {w.company: (D('1350.00'), 100)})
        d1 = self.rows('distributor.report.sell_in.distributor.time_series',
            'date', ['amount'], distributor=w.d1)
        self.assertEqual(d1, {JAN: (D('100.00'),), FEB: (D('100.00'),),
                MAR: (D('200.00'),)})

    def test_sell_in_per_tier_and_category(self):
        "Per tier; per category, a parent with its children's products"
        w = self.world
        Tier = 'distributor.tier'

        def tiers():
            T = Pool().get(Tier)
            return {t.code: t.id for t in T.search([])}
        codes = self.read(tiers)
        rows = self.rows('distributor.report.sell_in.tier', 'tier',
            ['amount', 'distributor_count'])
        self.assertEqual(rows, {
                codes['T2']: (D('900.00'), 2),
                codes['T3']: (D('450.00'), 2)})
        rows = self.rows('distributor.report.sell_in.category', 'category',
            ['amount', 'quantity'])
        self.assertEqual(rows[w.products.drinks], (D('1350.00'), 100))
        self.assertEqual(rows[w.products.juice], (D('700.00'), 35))
        self.assertNotIn(w.products.snacks, rows)
        rows = self.rows('distributor.report.sell_in.product', 'product',
            ['amount'])
        self.assertEqual(rows, {w.products.p1: (D('650.00'),),
                w.products.p2: (D('700.00'),)})

    def test_territory_tree(self):
        "The territory tree: each distributor once under each territory"
        w = self.world
        t = w.t
        rows = self.rows('distributor.report.sell_in.territory', 'territory',
            ['amount', 'distributor_count', 'parent'])
        self.assertEqual(rows, {
                t['EC']: (D('1350.00'), 4, None),
                t['EC-JS']: (D('450.00'), 2, t['EC']),
                t['EC-JS-NJ']: (D('450.00'), 2, t['EC-JS']),
                t['EC-JS-SZ']: (D('400.00'), 1, t['EC-JS']),
                t['EC-ZJ']: (D('900.00'), 2, t['EC']),
                t['EC-ZJ-HZ']: (D('400.00'), 1, t['EC-ZJ']),
                })

        def children():
            Model = Pool().get('distributor.report.sell_in.territory')
            with Transaction().set_context(company=w.company, **PERIOD):
                js = Model(t['EC-JS'])
                return sorted(c.territory.id for c in js.children)
        self.assertEqual(self.read(children),
            sorted([t['EC-JS-NJ'], t['EC-JS-SZ']]))
        series = self.rows(
            'distributor.report.sell_in.territory.time_series', 'date',
            ['amount'], domain=[('territory', '=', t['EC-JS'])])
        # Jiangsu's distributors each month
        self.assertEqual(series, {JAN: (D('100.00'),),
                FEB: (D('150.00'),), MAR: (D('200.00'),)})

    def test_filters(self):
        "Each filter of the context narrows the rows"
        w = self.world
        model = 'distributor.report.sell_in.distributor'

        def tier_t3():
            T = Pool().get('distributor.tier')
            t3, = T.search([('code', '=', 'T3')])
            return t3.id
        self.assertEqual(set(self.rows(model, 'distributor', [],
                    tier=self.read(tier_t3))), {w.d3, w.d4})
        self.assertEqual(set(self.rows(model, 'distributor', [],
                    territory=w.t['EC-ZJ'])), {w.d2, w.d4})
        self.assertEqual(self.rows(model, 'distributor', ['amount'],
                product=w.products.p2), {
                w.d1: (D('100.00'),), w.d2: (D('200.00'),),
                w.d4: (D('400.00'),)})
        self.assertEqual(self.rows(model, 'distributor', ['amount'],
                category=w.products.juice),
            self.rows(model, 'distributor', ['amount'],
                product=w.products.p2))
        self.assertEqual(self.rows(model, 'distributor', ['amount'],
                distributor=w.d2), {w.d2: (D('500.00'),)})
        self.assertEqual(self.rows(model, 'distributor', ['amount'],
                from_date=FEB, to_date=dt.date(2025, 2, 28)), {
                w.d1: (D('100.00'),), w.d2: (D('200.00'),),
                w.d3: (D('50.00'),)})
        self.assertEqual(self.rows(model, 'distributor', [],
                company=-1), {})

    def test_sell_out(self):
        "Sell-out from the delivered channel orders, by seller and month"
        w = self.world
        self.assertEqual(self.rows('distributor.report.sell_out.distributor',
                'distributor', ['amount', 'quantity', 'number']), {
                w.d1: (D('48.00'), 4, 1), w.d2: (D('75.00'), 3, 1)})
        self.assertEqual(self.rows('distributor.report.sell_out.time_series',
                'date', ['amount']), {
                FEB: (D('48.00'),), MAR: (D('75.00'),)})
        rows = self.rows('distributor.report.sell_out.territory',
            'territory', ['amount'])
        self.assertEqual(rows[w.t['EC']], (D('123.00'),))
        self.assertEqual(rows[w.t['EC-JS']], (D('48.00'),))

    def test_rep_and_roles(self):
        "The rep reads D1's side only; a plain user nothing"
        w = self.world
        t = w.t
        rows = self.rows('distributor.report.sell_in.distributor',
            'distributor', ['amount'], login='rep')
        self.assertEqual(rows, {w.d1: (D('400.00'),), w.d3: (D('50.00'),)})
        self.assertEqual(self.rows('distributor.report.sell_in', 'company',
                ['amount'], login='rep'), {w.company: (D('450.00'),)})
        self.assertEqual(set(self.rows(
                    'distributor.report.sell_in.territory', 'territory', [],
                    login='rep')),
            {t['EC-JS'], t['EC-JS-NJ'], t['EC-JS-SZ']})
        self.assertEqual(set(self.rows(
                    'distributor.report.ranking.distributor', 'distributor',
                    [], login='rep')), {w.d1, w.d3})
        # the stock and the receivables of D1's side only
        for model in ['distributor.report.stock.distributor',
                'distributor.report.receivable.distributor']:
            rows = self.rows(model, 'distributor', [], login='rep',
                from_date=dt.date(2000, 1, 1), to_date=dt.date.today(),
                date=dt.date.today())
            self.assertIn(w.d1, rows)
            self.assertFalse({w.d2, w.d4} & set(rows))
        for login in ['manager', 'accountant']:
            self.assertEqual(len(self.rows(
                        'distributor.report.sell_in.distributor',
                        'distributor', [], login=login)), 4)
        for model in ['distributor.report.sell_in.distributor',
                'distributor.report.stock.distributor',
                'distributor.report.receivable.distributor',
                'distributor.report.ranking.product']:
            with self.assertRaises(AccessError):
                self.rows(model, 'id', [], login='plain')

    def test_rankings(self):
        "By sell-in (a tie shares its rank), growth, attainment"
        w = self.world
        rows = self.rows('distributor.report.ranking.distributor',
            'distributor', ['amount', 'rank_amount', 'growth',
                'rank_growth', 'rank_attainment'])
        self.assertEqual({d: r[:2] for d, r in rows.items()}, {
                w.d2: (D('500.00'), 1),
                w.d1: (D('400.00'), 2),
                w.d4: (D('400.00'), 2),
                w.d3: (D('50.00'), 4)})
        # growth: D1 200 → 400, D2 500 → 500, the others none before
        self.assertEqual(rows[w.d1][2:4], (D('100.00'), 1))
        self.assertEqual(rows[w.d2][2:4], (D('0.00'), 2))
        self.assertEqual(rows[w.d3][2:4], (None, 3))
        self.assertEqual(rows[w.d4][2:4], (None, 3))
        # attainment: D2 100 %, D1 50 %, the others without target last
        self.assertEqual(rows[w.d2][4], 1)
        self.assertEqual(rows[w.d1][4], 2)
        self.assertEqual(rows[w.d3][4], 3)
        self.assertEqual(rows[w.d4][4], 3)
        rows = self.rows('distributor.report.ranking.distributor',
            'distributor', ['rank_amount'], territory=w.t['EC-JS'])
        self.assertEqual(rows, {w.d1: (1,), w.d3: (2,)})
        # products per territory, both directions
        rows = self.rows(
            'distributor.report.ranking.product', 'id',
            ['territory', 'product', 'amount', 'rank_top', 'rank_bottom'],
            limit=1)
        by_territory = {}
        for territory, product, amount, top, bottom in rows.values():
            by_territory.setdefault(territory, set()).add(
                (product, amount, top, bottom))
        p1, p2 = w.products.p1, w.products.p2
        self.assertEqual(by_territory[w.t['EC-ZJ']], {
                (p2, D('600.00'), 1, 2), (p1, D('300.00'), 2, 1)})
        self.assertEqual(by_territory[w.t['EC-JS']], {
                (p1, D('350.00'), 1, 2), (p2, D('100.00'), 2, 1)})
        self.assertEqual(by_territory[w.t['EC-ZJ-HZ']], {
                (p2, D('400.00'), 1, 1)})

    def test_stock_and_receivables(self):
        "Channel stock at a date; receivables against the aging"
        w = self.world
        today = self.read(lambda: Pool().get('ir.date').today())

        def levels():
            Level = Pool().get('distributor.stock.level')
            result = {}
            for level in Level.search([]):
                key = level.distributor.id
                result[key] = result.get(key, 0) + level.quantity
            return {k: v for k, v in result.items() if v}
        rows = self.rows('distributor.report.stock.distributor',
            'distributor', ['quantity'], date=today)
        self.assertEqual({k: v for k, (v,) in rows.items()},
            self.read(levels))
        self.assertEqual(self.rows('distributor.report.stock.distributor',
                'distributor', ['quantity'], date=dt.date(2000, 1, 1)), {})
        east = self.rows('distributor.report.stock.territory', 'territory',
            ['quantity'], date=today)[w.t['EC']][0]
        self.assertEqual(east, sum(self.read(levels).values()))

        period = {'from_date': today - dt.timedelta(days=60),
            'to_date': today}
        rows = self.rows('distributor.report.receivable.distributor',
            'distributor', ['invoiced', 'collected', 'balance', 'overdue'],
            **period)
        self.assertEqual(rows, {
                w.d1: (D('300.00'), D('100.00'), D('200.00'), D('300.00')),
                w.d2: (D('200.00'), D('0.00'), D('200.00'), D('200.00')),
                })
        # at a date before the payment: nothing collected yet
        rows = self.rows('distributor.report.receivable.distributor',
            'distributor', ['collected', 'balance'],
            from_date=period['from_date'], to_date=today - dt.timedelta(
                days=7))
        self.assertEqual(rows[w.d1], (D('0.00'), D('300.00')))

        def aging():
            Aging = Pool().get('distributor.account.aging')
            with Transaction().set_context(company=w.company, date=today):
                return {a.party.id: a.total for a in Aging.search([])}
        rows = self.rows('distributor.report.receivable.distributor',
            'distributor', ['balance'], from_date=dt.date(2000, 1, 1),
            to_date=today)
        self.assertEqual({k: v for k, (v,) in rows.items() if v},
            {k: v for k, v in self.read(aging).items() if v})
        balance = sum(v for v, in rows.values())
        # per territory: East holds every distributor once
        east = self.rows('distributor.report.receivable.territory',
            'territory', ['balance'], from_date=dt.date(2000, 1, 1),
            to_date=today)[w.t['EC']]
        self.assertEqual(east, (balance,))
        tiers = self.rows('distributor.report.receivable.tier', 'tier',
            ['balance', 'invoiced', 'collected'],
            from_date=dt.date(2000, 1, 1), to_date=today)
        self.assertEqual(sum(b for b, _, _ in tiers.values()), balance)
        # what was invoiced less what was collected is what is open
        invoiced = sum(i for _, i, _ in tiers.values())
        collected = sum(c for _, _, c in tiers.values())
        self.assertEqual(invoiced - collected, balance)
        series = self.rows('distributor.report.receivable.time_series',
            'date', ['invoiced', 'collected'],
            from_date=dt.date(2000, 1, 1), to_date=today)
        self.assertEqual(sum(i for i, _ in series.values()), invoiced)
