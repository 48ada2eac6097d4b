# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Ordering through the portal: the catalogue and its cart, channel rule
refusals, idempotent submissions, order details, receipts and the
seller's approvals and deliveries"""
import re
from decimal import Decimal

from trytond.pool import Pool

from .tools import PortalTestCase, build_portal_world


def _sales(party):
    Sale = Pool().get('sale.sale')
    return Sale.search_count([('party', '=', party)])


def _channel_orders(buyer):
    Order = Pool().get('distributor.channel.order')
    return Order.search_count([('buyer', '=', buyer)])


class PortalOrdersTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        """The portal world with, for D1, two more shipped brand orders
        (received by scans) and three more channel orders of S1 (two
        submitted, one approved: acted on through the API)"""
        from distributor_sale.tests.tools import order, ship
        from distributor_store.tests.tools import channel_order
        from trytond.modules.company.tests import set_company
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Sale = pool.get('sale.sale')
        Order = pool.get('distributor.channel.order')
        Company = pool.get('company.company')
        StoreLimit = pool.get('distributor.store.limit')
        d1, s1 = Party(world.d1), Party(world.s1)
        p1 = Product(world.products.p1)
        world.p1_code = p1.code
        world.scan_sales = []
        with set_company(Company(world.company)):
            for _ in range(2):
                sale = order(d1, [(p1, 10)], submit=True)
                Sale.dms_approve([sale])
                world.scan_sales.append(ship(sale).id)
            orders = [channel_order(d1, s1, [(p1, 2)]) for _ in range(3)]
            Order.approve([orders[2]])
            # S1 has P1 on order: a limit on P2 gives it a suggestion
            StoreLimit.create([{'store': s1.id,
                        'product': world.products.p2,
                        'min_quantity': 10, 'max_quantity': 20}])
        world.api_submitted = [o.id for o in orders[:2]]
        world.api_approved = orders[2].id
        return world

    def test_catalogue_prices(self):
        "A distributor sees its authorized products at its tier price"
        w = self.world
        client = self.client('d1-orders@example.com', api=True)
        status, body = client.api('GET', '/portal/api/v1/catalogue')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['mode'], 'brand')
        prices = {p['code']: Decimal(str(p['price']))
            for p in body['products']}
        # drinks only (P3 is a snack); the tier's price list: 90 %
        self.assertEqual(prices, {'P1': Decimal(9), 'P2': Decimal(18)})
        status, body = client.api('GET', '/portal/api/v1/catalogue?q=cola')
        self.assertEqual([p['id'] for p in body['products']],
            [w.products.p1])

    def test_rule_error_then_order(self):
        "A refused cart shows the error on its line and writes nothing"
        w = self.world
        p2 = w.products.p2
        client = self.client('d1-orders@example.com')
        page = client.get('/portal/catalogue').get_data(as_text=True)
        key = re.search(r'name="idempotency_key" value="([^"]+)"',
            page).group(1)
        before = self.read(lambda: _sales(w.d1))
        # P2 comes in packs of 6
        response = client.post('/portal/catalogue', {
                'idempotency_key': key, f'qty_{p2}': '5',
                'kind': 'regular'})
        self.assertEqual(response.status_code, 422)
        page = response.get_data(as_text=True)
        self.assertIn('id="cart-error"', page)
        self.assertIn('Orange Juice', re.search(
                r'id="cart-error">(.*?)</section>', page, re.S).group(1))
        self.assertRegex(page,
            rf'data-product="{p2}" class="error"')
        self.assertIn(f'name="qty_{p2}" min="0" step="any" '
            'inputmode="decimal" value="5"', page)
        self.assertEqual(self.read(lambda: _sales(w.d1)), before)

        key = re.search(r'name="idempotency_key" value="([^"]+)"',
            page).group(1)
        response = client.post('/portal/catalogue', {
                'idempotency_key': key, f'qty_{p2}': '6',
                'kind': 'regular'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])
        location = response.headers['Location']
        sale_id = int(location.rsplit('/', 1)[1])
        # the same key again: the same answer, no second order
        again = client.post('/portal/catalogue', {
                'idempotency_key': key, f'qty_{p2}': '6',
                'kind': 'regular'})
        self.assertEqual(again.status_code, 303)
        self.assertEqual(again.headers['Location'], location)
        self.assertEqual(self.read(lambda: _sales(w.d1)), before + 1)

        def check():
            Sale = Pool().get('sale.sale')
            sale = Sale(sale_id)
            return (sale.party.id, sale.channel_state, sale.untaxed_amount,
                [(l.product.id, l.quantity) for l in sale.line_lines])
        self.assertEqual(self.read(check),
            (w.d1, 'submitted', Decimal(108), [(p2, 6)]))
        page = client.get(location)
        self.assertEqual(page.status_code, 200)
        self.assertIn('id="timeline"', page.get_data(as_text=True))

    def test_api_idempotent(self):
        "The API: one order for two calls with one Idempotency-Key"
        w = self.world
        client = self.client('d1-orders@example.com', api=True)
        before = self.read(lambda: _sales(w.d1))
        body = {'lines': [{'product': w.products.p1, 'quantity': 10}]}
        headers = {'Idempotency-Key': 'orders-test-key-1'}
        status, first = client.api('POST', '/portal/api/v1/orders', body,
            headers=headers)
        self.assertEqual(status, 201, first)
        self.assertEqual(Decimal(str(first['untaxed_amount'])), Decimal(90))
        status, second = client.api('POST', '/portal/api/v1/orders', body,
            headers=headers)
        self.assertEqual(status, 201)
        self.assertEqual(second['id'], first['id'])
        self.assertEqual(self.read(lambda: _sales(w.d1)), before + 1)
        # a refusal names the product in details
        status, refused = client.api('POST', '/portal/api/v1/orders',
            {'lines': [{'product': w.products.p2, 'quantity': 5}]})
        self.assertEqual(status, 422)
        self.assertEqual(refused['details']['products'], [w.products.p2])
        self.assertEqual(self.read(lambda: _sales(w.d1)), before + 1)

    def test_rejection_reason(self):
        "A rejected order shows its reason and its timeline"
        w = self.world
        client = self.client('d1-orders@example.com')
        response = client.get(f'/portal/channel-orders/{w.own.co_rejected}')
        self.assertEqual(response.status_code, 200)
        page = response.get_data(as_text=True)
        self.assertRegex(page, r'id="reason">[^<]*No</p>')
        self.assertIn('<p class="reason">No</p>', page)
        # the store (the buyer) sees it too
        store = self.client('s1@example.com')
        page = store.get(f'/portal/channel-orders/{w.own.co_rejected}'
            ).get_data(as_text=True)
        self.assertRegex(page, r'id="reason">[^<]*No</p>')

    def test_receipt_shortfall(self):
        "A receipt below the shipped quantity opens a discrepancy"
        w = self.world
        sale_id = w.own.sale_shipped

        def lines():
            Sale = Pool().get('sale.sale')
            sale = Sale(sale_id)
            return ([(l.id, l.dms_shipped_quantity) for l in sale.line_lines],
                sale.channel_state, len(sale.discrepancies))
        (line, shipped), = self.read(lines)[0]
        self.assertEqual(shipped, 10)
        client = self.client('d1-orders@example.com')
        page = client.get(f'/portal/orders/{sale_id}').get_data(as_text=True)
        self.assertIn(f'name="qty_{line}"', page)
        response = client.post(f'/portal/orders/{sale_id}/receive',
            {f'qty_{line}': '7'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])

        def check():
            Sale = Pool().get('sale.sale')
            sale = Sale(sale_id)
            return (sale.channel_state, sale.line_lines[0].received_quantity,
                [(d.shipped_quantity, d.received_quantity)
                    for d in sale.discrepancies])
        self.assertEqual(self.read(check), ('received', 7, [(10, 7)]))

    def test_seller_approves_and_delivers(self):
        "The distributor approves a store's order and delivers another"
        w = self.world
        Order = 'distributor.channel.order'

        def state(id_):
            return Pool().get(Order)(id_).state
        client = self.client('d1@example.com')
        page = client.get('/portal/orders?tab=incoming').get_data(
            as_text=True)
        self.assertIn(f'data-order="{w.own.co_submitted}"', page)
        response = client.post(
            f'/portal/channel-orders/{w.own.co_submitted}/approve')
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])
        self.assertEqual(self.read(lambda: state(w.own.co_submitted)),
            'approved')
        # the foreign side's orders are out of reach: 404, nothing written
        for path in [f'/portal/channel-orders/{w.foreign.co_submitted}',
                f'/portal/orders/{w.foreign.sale_submitted}']:
            self.assertEqual(client.get(path).status_code, 404, path)
        response = client.post(
            f'/portal/channel-orders/{w.foreign.co_submitted}/approve')
        self.assertEqual(response.status_code, 404)
        status, _ = client.api('POST', '/portal/api/v1/channel-orders/approve',
            {'ids': [w.foreign.co_down_submitted]})
        self.assertEqual(status, 404)
        self.assertEqual(self.read(lambda: state(w.foreign.co_submitted)),
            'submitted')
        self.assertEqual(
            self.read(lambda: state(w.foreign.co_down_submitted)),
            'submitted')

    def test_seller_delivers(self):
        "The distributor delivers an approved order of its store"
        w = self.world

        def state(id_):
            return Pool().get('distributor.channel.order')(id_).state
        client = self.client('d1-stock@example.com')
        response = client.post(
            f'/portal/channel-orders/{w.own.co_approved}/deliver')
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])
        self.assertEqual(self.read(lambda: state(w.own.co_approved)),
            'delivered')

    def test_store_orders(self):
        "A store orders from its distributor at the store price"
        w = self.world
        client = self.client('s1@example.com')
        page = client.get('/portal/catalogue').get_data(as_text=True)
        self.assertIn(f'data-product="{w.products.p1}"', page)
        key = re.search(r'name="idempotency_key" value="([^"]+)"',
            page).group(1)
        before = self.read(lambda: _channel_orders(w.s1))
        response = client.post('/portal/catalogue', {
                'idempotency_key': key, f'qty_{w.products.p1}': '3'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])
        order_id = int(response.headers['Location'].rsplit('/', 1)[1])
        self.assertEqual(self.read(lambda: _channel_orders(w.s1)),
            before + 1)

        def check():
            order = Pool().get('distributor.channel.order')(order_id)
            return (order.seller.id, order.buyer.id, order.state,
                order.total_amount)
        self.assertEqual(self.read(check),
            (w.d1, w.s1, 'submitted', Decimal(33)))

    def test_view_refused(self):
        "A view-only account may not order: 403, nothing written"
        w = self.world
        client = self.client('d1-view@example.com')
        before = self.read(lambda: _sales(w.d1))
        response = client.post('/portal/catalogue', {
                'idempotency_key': 'view-only-key-1',
                f'qty_{w.products.p1}': '10'})
        self.assertEqual(response.status_code, 403)
        status, _ = client.api('POST', '/portal/api/v1/orders',
            {'lines': [{'product': w.products.p1, 'quantity': 10}]})
        self.assertEqual(status, 403)
        self.assertEqual(self.read(lambda: _sales(w.d1)), before)
        # reading is allowed
        self.assertEqual(client.get('/portal/orders').status_code, 200)

    def _cart(self, page):
        "{product id: quantity} of the cart's filled inputs"
        return {int(p): Decimal(q) for p, q in re.findall(
                r'name="qty_(\d+)" [^>]*value="([^"]+)"', page)}

    def test_prefill_from_alerts(self):
        """A distributor's cart is filled from its open below-minimum
        alerts, in the order's unit; nothing is written; a store may not"""
        w = self.world

        def expected():
            pool = Pool()
            Alert = pool.get('distributor.stock.alert')
            Uom = pool.get('product.uom')
            return {a.product.id: Decimal(str(Uom.compute_qty(
                            a.product.default_uom, a.suggested_quantity,
                            a.product.sale_uom or a.product.default_uom)))
                for a in Alert.search([('party', '=', w.d1),
                        ('kind', '=', 'low'), ('state', '=', 'open')])}

        def alerts():
            Alert = Pool().get('distributor.stock.alert')
            return sorted((a.id, a.state) for a in Alert.search(
                    [('party', '=', w.d1)]))
        wanted = self.read(expected)
        self.assertIn(w.products.p2, wanted)
        self.assertTrue(all(q > 0 for q in wanted.values()))
        before = self.read(lambda: (_sales(w.d1), alerts()))
        client = self.client('d1-orders@example.com')
        page = client.get('/portal/catalogue').get_data(as_text=True)
        self.assertIn('href="/portal/catalogue?from=alerts"', page)
        self.assertEqual(self._cart(page), {})
        response = client.get('/portal/catalogue?from=alerts')
        self.assertEqual(response.status_code, 200)
        page = response.get_data(as_text=True)
        self.assertIn('id="prefill"', page)
        self.assertEqual(self._cart(page), wanted)
        self.assertEqual(self.read(lambda: (_sales(w.d1), alerts())),
            before)
        # the suggestions are a store's; an unknown source is refused
        for source in ['suggestions', 'nothing']:
            self.assertEqual(client.get(
                    f'/portal/catalogue?from={source}').status_code, 400)
        store = self.client('s1@example.com')
        self.assertEqual(
            store.get('/portal/catalogue?from=alerts').status_code, 400)

    def test_prefill_from_suggestions(self):
        "A store's cart is filled from its replenishment suggestions"
        w = self.world

        def expected():
            pool = Pool()
            Limit = pool.get('distributor.store.limit')
            Party = pool.get('party.party')
            return {r['product']: Decimal(str(r['suggested_quantity']))
                for r in Limit.suggestions([Party(w.s1)])
                if r['store'] == w.s1}
        wanted = self.read(expected)
        self.assertIn(w.products.p2, wanted)
        self.assertTrue(all(q > 0 for q in wanted.values()))
        before = self.read(lambda: _channel_orders(w.s1))
        client = self.client('s1-orders@example.com')
        page = client.get('/portal/catalogue').get_data(as_text=True)
        self.assertIn('href="/portal/catalogue?from=suggestions"', page)
        response = client.get('/portal/catalogue?from=suggestions')
        self.assertEqual(response.status_code, 200)
        page = response.get_data(as_text=True)
        self.assertEqual(self._cart(page), wanted)
        self.assertEqual(self.read(lambda: _channel_orders(w.s1)), before)

    def test_receipt_by_scans(self):
        """A shipped brand order is received from scanned codes (page and
        API); an unknown code or a view account writes nothing"""
        w = self.world
        page_sale, api_sale = w.scan_sales

        def state(sale_id):
            Sale = Pool().get('sale.sale')
            sale = Sale(sale_id)
            return (sale.channel_state,
                [l.received_quantity for l in sale.line_lines],
                [(d.shipped_quantity, d.received_quantity)
                    for d in sale.discrepancies])
        shipped = ('shipped', [None], [])
        self.assertEqual(self.read(lambda: state(page_sale)), shipped)
        client = self.client('d1-stock@example.com')
        page = client.get(f'/portal/orders/{page_sale}').get_data(
            as_text=True)
        self.assertIn('<textarea name="scans"', page)
        # an unknown code: refused, nothing written
        response = client.post(f'/portal/orders/{page_sale}/receive',
            {'scans': f'{w.p1_code} 4\nNO-SUCH-CODE\n'})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(self.read(lambda: state(page_sale)), shipped)
        # the scans win over the quantities: 4 + 2 + 1 = 7 received
        response = client.post(f'/portal/orders/{page_sale}/receive', {
                'scans': f'{w.p1_code} 4\n{w.p1_code}*2\n{w.p1_code}\n',
                'qty_1': '10'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:2000])
        self.assertEqual(self.read(lambda: state(page_sale)),
            ('received', [7], [(10, 7)]))

        view = self.client('d1-view@example.com', api=True)
        status, _ = view.api('POST', f'/portal/api/v1/orders/{api_sale}'
            '/receive', {'scans': [w.p1_code]})
        self.assertEqual(status, 403)
        api = self.client('d1-orders@example.com', api=True)
        status, body = api.api('POST', f'/portal/api/v1/orders/{api_sale}'
            '/receive', {'scans': [w.p1_code], 'lines': []})
        self.assertEqual(status, 400, body)
        status, body = api.api('POST', f'/portal/api/v1/orders/{api_sale}'
            '/receive', {'scans': ['NO-SUCH-CODE']})
        self.assertEqual(status, 422, body)
        self.assertEqual(self.read(lambda: state(api_sale)), shipped)
        status, body = api.api('POST', f'/portal/api/v1/orders/{api_sale}'
            '/receive', {'scans': [{'code': w.p1_code, 'quantity': 9},
                    w.p1_code], 'note': 'scanned'})
        self.assertEqual(status, 200, body)
        # all received, no discrepancy: done
        self.assertEqual(body['state'], 'done')
        self.assertEqual([l['received_quantity'] for l in body['lines']],
            [10])
        self.assertEqual(self.read(lambda: state(api_sale)),
            ('done', [10], []))
        # received already: refused
        status, body = api.api('POST', f'/portal/api/v1/orders/{api_sale}'
            '/receive', {'scans': [w.p1_code]})
        self.assertEqual(status, 422, body)
        self.assertEqual(self.read(lambda: state(api_sale)),
            ('done', [10], []))

    def test_api_single_order_actions(self):
        """The seller approves, rejects and delivers one order through the
        API; the wrong role, a store or another party's order write
        nothing"""
        w = self.world
        to_approve, to_reject = w.api_submitted
        API = '/portal/api/v1/channel-orders'

        def states(*ids):
            Order = Pool().get('distributor.channel.order')
            return [(o.state, o.reason) for o in Order.browse(ids)]
        ours = (to_approve, to_reject, w.api_approved)
        initial = [('submitted', None), ('submitted', None),
            ('approved', None)]
        self.assertEqual(self.read(lambda: states(*ours)), initial)
        foreign = (w.foreign.co_submitted, w.foreign.co_approved)
        foreign_before = self.read(lambda: states(*foreign))

        stock = self.client('d1-stock@example.com', api=True)
        store = self.client('s1@example.com', api=True)
        orders = self.client('d1-orders@example.com', api=True)
        finance = self.client('d1-finance@example.com', api=True)
        for client, path, body, status in [
                (stock, f'{to_approve}/approve', None, 403),
                (finance, f'{w.api_approved}/deliver', None, 403),
                (finance, f'{to_reject}/reject', {'reason': 'x'}, 403),
                (store, f'{to_approve}/approve', None, 403),
                (orders, f'{to_reject}/reject', {}, 400),
                (orders, f'{w.foreign.co_submitted}/approve', None, 404),
                (orders, f'{w.foreign.co_submitted}/reject',
                    {'reason': 'x'}, 404),
                (stock, f'{w.foreign.co_approved}/deliver', None, 404),
                ]:
            got, answer = client.api('POST', f'{API}/{path}', body)
            self.assertEqual(got, status, (path, answer))
        self.assertEqual(self.read(lambda: states(*ours)), initial)
        self.assertEqual(self.read(lambda: states(*foreign)),
            foreign_before)

        status, body = orders.api('POST', f'{API}/{to_approve}/approve')
        self.assertEqual(status, 200, body)
        self.assertEqual((body['id'], body['state']),
            (to_approve, 'approved'))
        # twice (a replay): the model's transition does nothing again
        status, body = orders.api('POST', f'{API}/{to_approve}/approve')
        self.assertEqual(status, 200, body)
        self.assertEqual([s['state'] for s in body['timeline']],
            ['submitted', 'approved'])
        status, body = orders.api('POST', f'{API}/{to_reject}/reject',
            {'reason': 'Out of season'})
        self.assertEqual(status, 200, body)
        self.assertEqual((body['state'], body['reason']),
            ('rejected', 'Out of season'))
        status, body = stock.api('POST', f'{API}/{w.api_approved}/deliver')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['state'], 'delivered')
        self.assertEqual([l['delivered_quantity'] for l in body['lines']],
            [2])
        self.assertEqual(self.read(lambda: states(*ours)),
            [('approved', None), ('rejected', 'Out of season'),
                ('delivered', None)])

