# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The sales analysis in the portal, through HTTP as a phone and an API
client do: D1 reads its sell-in (brand sales and its upstream's
deliveries) and sell-out by month as SVG charts, its totals and top
products over 6, 12 or 24 months, every figure as the sales created here
(and the one definition of sales.py) make it; D3 sees what D1 delivered to
it as its sell-in; S1 reads its purchases by month; nobody sees another
party's figures (the entry points answer another party like a missing
one); a store is refused the distributor's endpoint and the reverse; a
period outside 6, 12, 24 is refused with its code and message"""
import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_assessment import sales
from distributor_portal import web
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import order
from distributor_store.tests.tools import delivered_order

from ..portal_model import month_start

API = web.API
D = Decimal
CENT = D('0.01')
MESSAGE = re.compile(r'<p class="message">(.*?)</p>', re.S)


def money(value):
    return f'{D(value).quantize(CENT):,}'


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def brand_sale(party, lines, date, state='confirmed'):
    """A brand sale to party (lines: [(product, quantity, unit price)])
    dated date, in state (set in SQL)"""
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
    return sale


def channel_sale(seller, buyer, product, quantity, price, discount, date):
    "A channel order delivered from seller to buyer on date at price"
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Line = pool.get('distributor.channel.order.line')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    record = delivered_order(Party(seller), Party(buyer),
        [(Product(product), quantity)])
    order_t, line_t = Order.__table__(), Line.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*order_t.update([order_t.delivered_date], [date],
            where=order_t.id == record.id))
    cursor.execute(*line_t.update([line_t.unit_price, line_t.discount],
            [D(price), D(discount)], where=line_t.order == record.id))
    return record


class PortalAnalysisTestCase(PortalTestCase):
    "The analysis pages and endpoints of the portal"
    modules = ['distributor_report']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            m = {back: month_start(today, back) for back in range(25)}
            p1, p2 = world.products.p1, world.products.p2
            Product = pool.get('product.product')
            d1, d2 = Party(world.d1), Party(world.d2)
            # D1's brand sales: 1,000.00 last month, 250.50 three months
            # back, 70.00 twenty months back (in 24 months only); a draft
            # one not counted; D2's 999.00 never D1's
            brand_sale(d1, [(Product(p1), 100, '10.00')],
                m[1] + dt.timedelta(days=9))
            brand_sale(d1, [(Product(p1), 40, '10.00')],
                m[1] + dt.timedelta(days=9), state='draft')
            brand_sale(d1, [(Product(p2), 10, '25.05')],
                m[3] + dt.timedelta(days=4))
            brand_sale(d1, [(Product(p1), 7, '10.00')], m[20])
            brand_sale(d2, [(Product(p1), 111, '9.00')],
                m[1] + dt.timedelta(days=2))
            # D1's deliveries: to S1 48.00 two months back and 54.00
            # (10 % off) eight months back (not in 6 months), to its
            # downstream D3 60.00 two months back; D2's to S3 55.00
            channel_sale(world.d1, world.s1, p1, 4, '12', '0',
                m[2] + dt.timedelta(days=3))
            channel_sale(world.d1, world.s1, p2, 2, '30', '0.1',
                m[8] + dt.timedelta(days=6))
            channel_sale(world.d1, world.d3, p2, 3, '20', '0',
                m[2] + dt.timedelta(days=3))
            channel_sale(world.d2, world.s3, p1, 5, '11', '0',
                m[2] + dt.timedelta(days=1))
            months = {back: m[back].strftime('%Y-%m') for back in m}
            return SimpleNamespace(**vars(world), today=today,
                months=months)

    # helpers ------------------------------------------------------------

    def expected(self, party, months, side):
        """{month: (quantity, amount)} and {product: amount} of party's
        lines over the last months, by hand from the rows of sales.py:
        side 'in' (brand sales and deliveries to party), 'out' (party's
        deliveries) or 'purchases' (deliveries to the store party)"""
        w = self.world
        start = month_start(w.today, months - 1)
        end = month_start(w.today, -1)

        def read():
            cursor = Transaction().connection.cursor()
            rows = []
            if side == 'in':
                lines = sales.sell_in_lines()
                cursor.execute(*lines.select(lines.date, lines.product,
                        lines.quantity, lines.amount,
                        where=lines.distributor == party))
                rows += cursor.fetchall()
            lines = sales.sell_out_lines()
            column = (lines.distributor if side == 'out'
                else lines.buyer)
            cursor.execute(*lines.select(lines.date, lines.product,
                    lines.quantity, lines.amount, where=column == party))
            rows += cursor.fetchall()
            by_month = defaultdict(lambda: [0.0, D(0)])
            by_product = defaultdict(D)
            for date, product, quantity, amount in rows:
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date[:10])
                if date is None or not (start <= date < end):
                    continue
                amount = D(str(amount)).quantize(CENT)
                key = date.strftime('%Y-%m')
                by_month[key][0] += float(quantity)
                by_month[key][1] += amount
                by_product[product] += amount
            return ({k: (v[0], v[1]) for k, v in by_month.items()},
                dict(by_product))
        return self.read(read)

    def api(self, email, path):
        "GET path of the API as email (signed in once for the class)"
        clients = type(self).__dict__.get('_api_clients')
        if clients is None:
            clients = type(self)._api_clients = {}
        if email not in clients:
            clients[email] = self.client(email, api=True)
        return clients[email].api('GET', API + path)

    # tests --------------------------------------------------------------

    def test_distributor_page(self):
        """D1's page: the two charts of 12 months with the amounts by
        month, the totals, the top products; 6 and 24 months"""
        w = self.world
        months = w.months
        client = self.client('d1-view@example.com')
        response = client.get('/portal/analysis')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('data-months="12" aria-current="page"', html)
        sell_in, products_in = self.expected(w.d1, 12, 'in')
        sell_out, products_out = self.expected(w.d1, 12, 'out')
        # the months by hand: what was created here
        self.assertEqual(sell_in[months[1]][1], D('1000.00'))
        self.assertEqual(sell_in[months[3]][1], D('250.50'))
        self.assertEqual(sell_out[months[2]][1], D('108.00'))
        self.assertEqual(sell_out[months[8]][1], D('54.00'))
        self.assertNotIn(months[20], sell_in)
        for chart, expected in [('sell-in', sell_in),
                ('sell-out', sell_out)]:
            section = html.split(f'id="chart-{chart}"')[1].split(
                '</section>')[0]
            bars = re.findall(
                r'<g data-month="([\d-]+)" data-value="([-\d.]+)">', section)
            self.assertEqual([b[0] for b in bars],
                [months[back] for back in range(11, -1, -1)])
            self.assertEqual({k: D(v) for k, v in bars},
                {months[back]: expected.get(months[back], (0, D(0)))[1]
                    for back in range(12)})
            # the amounts are written beside the bars
            for key, (_, amount) in expected.items():
                self.assertIn(f'{key}: {money(amount)}</title>', section)
        total_in = sum((v[1] for v in sell_in.values()), D(0))
        total_out = sum((v[1] for v in sell_out.values()), D(0))
        self.assertIn(f'id="total-sell-in">{money(total_in)}<', html)
        self.assertIn(f'id="total-sell-out">{money(total_out)}<', html)
        for product in (w.products.p1, w.products.p2):
            self.assertIn(f'data-product="{product}"', html)
        row = html.split(f'data-product="{w.products.p2}"')[1].split(
            '</tr>')[0]
        self.assertIn(money(products_in[w.products.p2]), row)
        self.assertIn(money(products_out[w.products.p2]), row)
        # no foreign figure: D2's 999.00 and 55.00
        self.assertNotIn('999.00', html)
        # 24 months: 70.00 twenty months back; 6 months: no 54.00
        html = client.get('/portal/analysis?months=24').get_data(
            as_text=True)
        self.assertIn(f'data-month="{months[20]}" data-value="70.00"', html)
        self.assertEqual(html.split('id="chart-sell-in"')[1].split(
                '</section>')[0].count('<g data-month='), 24)
        html = client.get('/portal/analysis?months=6').get_data(
            as_text=True)
        self.assertEqual(html.split('id="chart-sell-out"')[1].split(
                '</section>')[0].count('<g data-month='), 6)
        self.assertNotIn(f'data-month="{months[8]}"', html)
        self.assertIn(f'data-month="{months[2]}" data-value="108.00"', html)

    def test_distributor_api(self):
        """The JSON of D1 matches the figures by hand; D3's sell-in has
        what D1 delivered to it; D2 sees its own only"""
        w = self.world
        months = w.months
        status, body = self.api('d1@example.com', '/analysis/sales')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['months'], 12)
        self.assertEqual(body['party'], {'id': w.d1,
                'name': body['party']['name']})
        self.assertEqual(body['start'], month_start(w.today, 11).isoformat())
        sell_in, products_in = self.expected(w.d1, 12, 'in')
        sell_out, products_out = self.expected(w.d1, 12, 'out')
        self.assertEqual(len(body['by_month']), 12)
        for row in body['by_month']:
            self.assertEqual(D(row['sell_in']),
                sell_in.get(row['month'], (0, D(0)))[1], row)
            self.assertEqual(D(row['sell_out']),
                sell_out.get(row['month'], (0, D(0)))[1], row)
            self.assertAlmostEqual(row['sell_in_quantity'],
                sell_in.get(row['month'], (0.0, 0))[0])
        self.assertEqual(D(body['totals']['sell_in']),
            sum((v[1] for v in sell_in.values()), D(0)))
        self.assertEqual(D(body['totals']['sell_out']),
            sum((v[1] for v in sell_out.values()), D(0)))
        top = {p['product']['id']: p for p in body['top_products']}
        self.assertEqual({k: D(v['sell_in']) for k, v in top.items()},
            {k: products_in.get(k, D('0.00')) for k in top})
        self.assertEqual({k: D(v['sell_out']) for k, v in top.items()},
            {k: products_out.get(k, D('0.00')) for k in top})
        self.assertEqual(set(top), set(products_in) | set(products_out))
        totals = [D(p['sell_in']) + D(p['sell_out'])
            for p in body['top_products']]
        self.assertEqual(totals, sorted(totals, reverse=True))
        # D3: D1's delivery of 60.00 is its sell-in
        status, body = self.api('d3@example.com', '/analysis/sales')
        self.assertEqual(status, 200, body)
        row, = [r for r in body['by_month'] if r['month'] == months[2]]
        self.assertEqual(row['sell_in'], '60.00')
        # D2: its own 999.00, none of D1's
        status, body = self.api('d2@example.com', '/analysis/sales')
        row, = [r for r in body['by_month'] if r['month'] == months[1]]
        self.assertEqual(row['sell_in'], '999.00')
        row, = [r for r in body['by_month'] if r['month'] == months[3]]
        self.assertEqual(row['sell_in'], '0.00')
        # a party in the query is no party: the caller's own figures
        status, other = self.api('d2@example.com',
            f'/analysis/sales?party={w.d1}')
        self.assertEqual(other, body)
        # 24 months
        status, body = self.api('d1@example.com',
            '/analysis/sales?months=24')
        self.assertEqual((status, len(body['by_month'])), (200, 24))
        row, = [r for r in body['by_month'] if r['month'] == months[20]]
        self.assertEqual(row['sell_in'], '70.00')

    def test_store_purchases(self):
        """S1 reads its purchases by month (page and JSON); S2 has none of
        them; S3's are D2's delivery only"""
        w = self.world
        months = w.months
        expected, _ = self.expected(w.s1, 12, 'purchases')
        self.assertEqual(expected[months[2]], (4.0, D('48.00')))
        self.assertEqual(expected[months[8]], (2.0, D('54.00')))
        client = self.client('s1-orders@example.com')
        response = client.get('/portal/analysis')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('id="chart-purchases"', html)
        self.assertNotIn('id="chart-sell-in"', html)
        for key, (quantity, amount) in expected.items():
            self.assertIn(f'data-month="{key}" data-value="{amount}"', html)
            row = html.split(f'<tr data-month="{key}">')[1].split(
                '</tr>')[0]
            self.assertIn(f'data-field="amount">{money(amount)}<', row)
        row = html.split(f'<tr data-month="{months[2]}">')[1].split(
            '</tr>')[0]
        self.assertIn('data-field="orders">1<', row)
        self.assertIn('data-field="quantity">4<', row)
        total = sum((v[1] for v in expected.values()), D(0))
        self.assertIn(f'id="total-amount">{money(total)}<', html)
        status, body = self.api('s1@example.com', '/analysis/purchases')
        self.assertEqual(status, 200, body)
        self.assertEqual({r['month']: (r['quantity'], D(r['amount']))
                for r in body['by_month'] if r['orders']}, expected)
        self.assertEqual(D(body['totals']['amount']), total)
        # 6 months: the purchase eight months back is out
        status, body = self.api('s1@example.com',
            '/analysis/purchases?months=6')
        self.assertNotIn(months[8], [r['month'] for r in body['by_month']])
        # S3: D2's 55.00 only
        status, body = self.api('s3@example.com', '/analysis/purchases')
        row, = [r for r in body['by_month'] if r['month'] == months[2]]
        self.assertEqual((row['amount'], row['orders']), ('55.00', 1))
        self.assertNotIn('48.00', str(body))

    def test_refused(self):
        """A store may not call the distributor's endpoint nor the
        reverse; a period outside 6, 12, 24 is refused (JSON: 400
        invalid_input; the page: its message); not signed in: 401"""
        status, body = self.api('s1@example.com', '/analysis/sales')
        self.assertEqual((status, body['code']), (403, 'forbidden'))
        status, body = self.api('d1@example.com', '/analysis/purchases')
        self.assertEqual((status, body['code']), (403, 'forbidden'))
        for value in ['7', '0', '-12', 'abc', '12.5', '120000000000']:
            for email, path in [('d1@example.com', '/analysis/sales'),
                    ('s1@example.com', '/analysis/purchases')]:
                status, body = self.api(email, f'{path}?months={value}')
                self.assertEqual((status, body['code']),
                    (400, 'invalid_input'), (email, value))
                self.assertIn('6, 12, 24', body['message'])
        response = self.client('d1@example.com').get(
            '/portal/analysis?months=7')
        self.assertEqual(response.status_code, 400)
        message = MESSAGE.search(response.get_data(as_text=True)).group(1)
        self.assertIn('6, 12, 24', message)
        status, body = self.client().api('GET', API + '/analysis/sales')
        self.assertEqual((status, body['code']), (401, 'unauthorized'))
        # the navigation shows the page to distributors and stores
        for email in ['d1-view@example.com', 's1-orders@example.com']:
            html = self.client(email).get('/portal/').get_data(as_text=True)
            self.assertIn('href="/portal/analysis"', html, email)
        # the OpenAPI document describes both endpoints
        document = self.client().get(API + '/openapi.json').get_json()
        for path in ['/analysis/sales', '/analysis/purchases']:
            self.assertIn(API + path, document['paths'])

    def test_entry_points(self):
        """The entry points as each caller: a portal account reads its own
        party only (another, even one in its reach, answers like a missing
        one); staff by their groups and reach; the periods checked"""
        w = self.world

        def check():
            Model = Pool().get('distributor.report.portal')
            with acting(identity(w, 'd1@example.com'), company=w.company):
                own = Model.dms_sales_analysis(w.d1)
                for party in [w.d2, w.d3, 2 ** 31 - 1]:
                    with self.assertRaises(RecordNotFound):
                        Model.dms_sales_analysis(party)
                with self.assertRaises(RecordNotFound):
                    # S1 is d1's store: its purchases are its own
                    Model.dms_store_purchases(w.s1)
            with acting(identity(w, 's1@example.com'), company=w.company):
                purchases = Model.dms_store_purchases(w.s1, months=6)
                self.assertEqual(purchases['months'], 6)
                for party in [w.s2, w.s3]:
                    with self.assertRaises(RecordNotFound):
                        Model.dms_store_purchases(party)
            with acting(user('manager'), company=w.company):
                self.assertEqual(Model.dms_sales_analysis(w.d1), own)
                for months in [1, '12', None, True, 12.0]:
                    with self.assertRaises(Exception) as cm:
                        Model.dms_sales_analysis(w.d1, months)
                    self.assertIn(type(cm.exception).__name__,
                        {'InputError'})
            with acting(user('rep'), company=w.company):
                self.assertEqual(Model.dms_sales_analysis(w.d1), own)
                with self.assertRaises(RecordNotFound):
                    Model.dms_sales_analysis(w.d2)
            for login in ['plain', 'accountant']:
                with acting(user(login), company=w.company):
                    with self.assertRaises(EntryPointRefused):
                        Model.dms_sales_analysis(w.d1)
        self.read(check)
