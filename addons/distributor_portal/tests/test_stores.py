# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Stores and customers: stores, store prices within the brand's bounds,
promotions, coverage, shelf checks, store payments and statements,
through the pages and the API"""
import datetime as dt
import re
from decimal import Decimal

from trytond.pool import Pool

from .. import i18n
from .tools import PortalTestCase, build_portal_world

API = '/portal/api/v1'


class PortalStoresTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Bound = pool.get('distributor.store.price.bound')
        Product = pool.get('product.product')
        Bound.create([{
                    'product': world.products.p1,
                    'guide_price': Decimal(12), 'min_price': Decimal(10),
                    'max_price': Decimal(15),
                    }, {
                    'product': world.products.p2,
                    'guide_price': Decimal(20), 'min_price': Decimal(18),
                    'max_price': Decimal(25),
                    }])
        world.p1_code = Product(world.products.p1).code
        # the spare store (no orders) is below its minimum of P1: a
        # suggestion no other test of the class orders away
        StoreLimit = pool.get('distributor.store.limit')
        StoreLimit.create([{'store': world.own.spare_store,
                    'product': world.products.p1,
                    'min_quantity': 10, 'max_quantity': 20}])
        Party = pool.get('party.party')
        world.c_foreign, world.c_down = [c.id for c in Party.create([{
                        'name': "Customer Foreign",
                        'is_terminal_customer': True,
                        'customer_distributor': world.d2,
                        }, {
                        'name': "Customer Downstream",
                        'is_terminal_customer': True,
                        'customer_distributor': world.d3,
                        }])]
        return world

    def _promotion_state(self, promotion):
        def read():
            Promotion = Pool().get('distributor.store.promotion')
            record = Promotion(promotion)
            return record.state, len(record.state_logs)
        return self.read(read)

    def _store_state(self, store):
        def read():
            return Pool().get('party.party')(store).store_state
        return self.read(read)

    def _prices(self, distributor):
        def read():
            Price = Pool().get('distributor.store.price')
            return {p.product.id: p.price for p in Price.search([
                        ('distributor', '=', distributor)])}
        return self.read(read)

    def test_stores_list_own_only(self):
        "d1 lists its own stores only, in the page and the API"
        w = self.world
        client = self.client('d1@example.com')
        response = client.get('/portal/stores')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'data-store="{w.s1}"', html)
        self.assertNotIn(f'data-store="{w.s3}"', html)

        status, body = client.api('GET', f'{API}/stores')
        self.assertEqual(status, 200)
        ids = {s['id'] for s in body['items']}

        def own_stores():
            Party = Pool().get('party.party')
            return {p.id for p in Party.search([('is_store', '=', True),
                        ('store_distributor', '=', w.d1)])}
        own = self.read(own_stores)
        # S1, S2, the closed and the spare store of D1 (and those other
        # tests of the class added)
        self.assertTrue({w.s1, w.s2, w.own.closed_store,
                w.own.spare_store} <= own)
        self.assertEqual(body['total'], len(own))
        self.assertEqual(ids, own)
        self.assertNotIn(w.s3, ids)
        closed, = [s for s in body['items']
            if s['id'] == w.own.closed_store]
        self.assertEqual(closed['state'], 'closed')

        status, body = client.api('GET', f'{API}/stores/{w.s1}')
        self.assertEqual(status, 200)
        self.assertEqual(body['name'], "Store Nanjing")
        self.assertEqual(body['size'], 'small')

    def test_store_add_and_edit(self):
        "d1 adds a store and edits it, through the page and the API"
        w = self.world
        client = self.client('d1@example.com')
        client.get('/portal/stores')
        response = client.post('/portal/stores', {
                'name': "Store Gulou", 'territory': str(w.own.territory),
                'size': 'medium', 'cooperation': 'chain',
                'contact': "Ms Li", 'idempotency_key': 'new-store-0001'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        store_id = int(response.headers['Location'].rsplit('/', 1)[1])

        def read_store():
            Party = Pool().get('party.party')
            store = Party(store_id)
            return (store.name, store.is_store, store.store_distributor.id,
                store.store_size, store.cooperation_type,
                store.store_contact)
        self.assertEqual(self.read(read_store), ("Store Gulou", True, w.d1,
                'medium', 'chain', "Ms Li"))

        response = client.get(f'/portal/stores/{store_id}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Store Gulou", response.get_data(as_text=True))
        response = client.post(f'/portal/stores/{store_id}', {
                'name': "Store Gulou 2", 'territory': str(w.own.territory),
                'size': 'large', 'cooperation': 'chain', 'contact': ''})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.read(read_store), ("Store Gulou 2", True,
                w.d1, 'large', 'chain', None))

        status, body = client.api('PUT', f'{API}/stores/{store_id}',
            {'contact': "Mr Zhao"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body['contact'], "Mr Zhao")
        status, body = client.api('POST', f'{API}/stores',
            {'name': "Store API", 'territory': w.own.territory})
        self.assertEqual(status, 201, body)
        self.assertTrue(body['id'])

    def test_customers(self):
        "d1-orders adds a terminal customer; the list shows it"
        w = self.world
        client = self.client('d1-orders@example.com')
        response = client.get('/portal/stores/customers')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Customer Wang", response.get_data(as_text=True))
        status, body = client.api('POST', f'{API}/stores/customers',
            {'name': "Customer Zhou", 'store': w.s1})
        self.assertEqual(status, 201, body)
        status, body = client.api('GET', f'{API}/stores/customers')
        self.assertEqual(status, 200)
        self.assertEqual(sorted(c['name'] for c in body['items']),
            ["Customer Wang", "Customer Zhou"])
        zhou, = [c for c in body['items'] if c['name'] == "Customer Zhou"]
        self.assertEqual(zhou['store'], w.s1)

    def test_prices_within_bounds(self):
        "A price inside the bounds is set; one outside refuses all"
        w = self.world
        client = self.client('d1@example.com')
        response = client.get('/portal/stores/prices')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'name="price-{w.products.p1}"', html)
        self.assertIn('15.0000', html)
        self.assertIn('10.0000', html)
        status, body = client.api('GET', f'{API}/stores/prices')
        self.assertEqual(status, 200)
        p1, = [p for p in body['items'] if p['product'] == w.products.p1]
        self.assertEqual(tuple(Decimal(p1[k]) for k in [
                    'price', 'min_price', 'guide_price', 'max_price']),
            (Decimal(11), Decimal(10), Decimal(12), Decimal(15)))

        response = client.post('/portal/stores/prices', {
                f'price-{w.products.p1}': '13.5'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        self.assertEqual(self._prices(w.d1)[w.products.p1], Decimal('13.5'))

        # p2 fine, p1 above its maximum: nothing written
        status, body = client.api('PUT', f'{API}/stores/prices',
            {'prices': [{'product': w.products.p2, 'price': 19},
                    {'product': w.products.p1, 'price': 16}]})
        self.assertEqual(status, 422, body)
        self.assertIn('15', body['message'])
        prices = self._prices(w.d1)
        self.assertEqual(prices[w.products.p1], Decimal('13.5'))
        self.assertNotIn(w.products.p2, prices)
        # the page: refused with the model's message too
        response = client.post('/portal/stores/prices', {
                f'price-{w.products.p1}': '9'})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(self._prices(w.d1)[w.products.p1], Decimal('13.5'))

        status, body = client.api('PUT', f'{API}/stores/prices',
            {'prices': [{'product': w.products.p2, 'price': 19}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(self._prices(w.d1)[w.products.p2], Decimal(19))

    def test_promotions_and_coverage(self):
        "Promotions (draft and active) and the running plan's progress"
        w = self.world
        client = self.client('d1@example.com')
        status, body = client.api('GET', f'{API}/stores/promotions')
        self.assertEqual(status, 200)
        # (and those other tests of the class set up)
        self.assertLessEqual({(w.own.promotion_draft, 'draft'),
                (w.own.promotion_active, 'active')},
            {(p['id'], p['state']) for p in body['items']})
        response = client.get('/portal/stores/promotions')
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'data-promotion="{w.own.promotion_active}"',
            response.get_data(as_text=True))

        status, body = client.api('GET', f'{API}/stores/coverage')
        self.assertEqual(status, 200)
        self.assertEqual([p['plan'] for p in body['items']],
            [w.own.plan_running])
        plan, = body['items']
        self.assertEqual(plan['pairs'], plan['covered'] + len(
                plan['missing']))
        response = client.get('/portal/stores/coverage')
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'data-plan="{w.own.plan_running}"',
            response.get_data(as_text=True))

    def test_shelf_check(self):
        "d1 records a shelf check from entered codes; it is listed"
        w = self.world

        def count():
            Check = Pool().get('distributor.store.check')
            return Check.search_count([('store', '=', w.s1),
                    ('state', '=', 'done')])
        before = self.read(count)
        client = self.client('d1@example.com')
        client.get(f'/portal/stores/{w.s1}')
        response = client.post(f'/portal/stores/{w.s1}/checks', {
                'scans': f'{w.p1_code} 4\n{w.p1_code}\n',
                'idempotency_key': 'shelf-check-0001'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        self.assertEqual(self.read(count), before + 1)

        def last():
            Check = Pool().get('distributor.store.check')
            check, = Check.search([('store', '=', w.s1),
                    ('state', '=', 'done')], order=[('id', 'DESC')],
                limit=1)
            return [(l.product.id, l.quantity) for l in check.lines]
        self.assertEqual(self.read(last), [(w.products.p1, 5.0)])

        status, body = client.api('POST', f'{API}/stores/{w.s1}/checks',
            {'scans': [{'code': w.p1_code, 'quantity': 2}]})
        self.assertEqual(status, 201, body)
        status, body = client.api('GET', f'{API}/stores/{w.s1}/checks')
        self.assertEqual(status, 200)
        self.assertEqual(
            len([c for c in body['items'] if c['state'] == 'done']),
            before + 2)
        # an unknown code refuses the check: nothing written
        status, body = client.api('POST', f'{API}/stores/{w.s1}/checks',
            {'scans': ['NO-SUCH-CODE']})
        self.assertIn(status, {400, 422}, body)
        self.assertEqual(self.read(count), before + 2)

    def test_payment_and_statement(self):
        "d1-finance records a payment; the closing balance drops by it"
        w = self.world
        client = self.client('d1-finance@example.com')
        status, before = client.api('GET', f'{API}/stores/{w.s1}/statement')
        self.assertEqual(status, 200, before)
        response = client.get(f'/portal/stores/{w.s1}')
        self.assertEqual(response.status_code, 200)
        response = client.post(f'/portal/stores/{w.s1}/payments', {
                'amount': '25.50', 'method': 'wechat',
                'reference': 'WX-1', 'idempotency_key': 'payment-0001'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        status, after = client.api('GET', f'{API}/stores/{w.s1}/statement')
        self.assertEqual(status, 200)
        self.assertEqual(Decimal(after['closing_balance']),
            Decimal(before['closing_balance']) - Decimal('25.50'))
        self.assertEqual(Decimal(after['paid_amount']),
            Decimal(before['paid_amount']) + Decimal('25.50'))
        self.assertIn('WX-1', [l['reference'] for l in after['lines']])

        status, body = client.api('POST', f'{API}/stores/{w.s1}/payments',
            {'amount': 4.5, 'method': 'cash'})
        self.assertEqual(status, 201, body)
        status, last = client.api('GET', f'{API}/stores/{w.s1}/statement')
        self.assertEqual(Decimal(last['closing_balance']),
            Decimal(before['closing_balance']) - Decimal(30))
        response = client.get(f'/portal/stores/{w.s1}/statement')
        self.assertEqual(response.status_code, 200)

        # the store reads its own statement: the same closing balance
        store = self.client('s1@example.com')
        response = store.get('/portal/statement')
        self.assertEqual(response.status_code, 200)
        status, own = store.api('GET', f'{API}/statement')
        self.assertEqual(status, 200, own)
        self.assertEqual(own['closing_balance'], last['closing_balance'])
        status, own = store.api('GET',
            f'{API}/statement?start=2000-01-01&end=2000-01-31')
        self.assertEqual(status, 200)
        self.assertEqual(own['lines'], [])
        # a store may not manage stores
        status, body = store.api('GET', f'{API}/stores')
        self.assertEqual(status, 403)

    def test_view_only_refused(self):
        "d1-view reads but every write is refused (403), nothing written"
        w = self.world
        client = self.client('d1-view@example.com')
        self.assertEqual(client.get('/portal/stores').status_code, 200)
        self.assertEqual(client.get(f'/portal/stores/{w.s1}').status_code,
            200)
        prices = self._prices(w.d1)
        status, _ = client.api('PUT', f'{API}/stores/prices',
            {'prices': [{'product': w.products.p1, 'price': 12}]})
        self.assertEqual(status, 403)
        self.assertEqual(self._prices(w.d1), prices)
        for path, body in [
                (f'{API}/stores', {'name': "X", 'territory': w.own.territory}),
                (f'{API}/stores/customers', {'name': "X"}),
                (f'{API}/stores/{w.s1}/checks', {'scans': [w.p1_code]}),
                (f'{API}/stores/{w.s1}/payments', {'amount': 1}),
                ]:
            status, _ = client.api('POST', path, body)
            self.assertEqual(status, 403, path)
        response = client.post(f'/portal/stores/{w.s1}/payments',
            {'amount': '1'})
        self.assertEqual(response.status_code, 403)
        response = client.post(f'/portal/stores/{w.s1}', {'name': "X"})
        self.assertEqual(response.status_code, 403)

    def test_foreign_store_not_found(self):
        "Another distributor's store answers like a missing one"
        w = self.world
        client = self.client('d1@example.com')
        for path in [f'{API}/stores/{{}}', f'{API}/stores/{{}}/statement',
                f'{API}/stores/{{}}/checks']:
            status, foreign = client.api('GET', path.format(w.foreign.store))
            self.assertEqual(status, 404)
            status, missing = client.api('GET', path.format(999999))
            self.assertEqual(status, 404)
            self.assertEqual(foreign, missing)

        def error_card(response):
            "The error of a page (the rest names the page's own path)"
            html = response.get_data(as_text=True)
            start = html.index('<section class="card error"')
            return html[start:html.index('</section>', start)]
        response = client.get(f'/portal/stores/{w.foreign.store}')
        self.assertEqual(response.status_code, 404)
        foreign = error_card(response)
        response = client.get('/portal/stores/999999')
        self.assertEqual(response.status_code, 404)
        self.assertEqual(foreign, error_card(response))

        finance = self.client('d1-finance@example.com')
        status, foreign = finance.api('POST',
            f'{API}/stores/{w.foreign.store}/payments', {'amount': 5})
        self.assertEqual(status, 404)
        status, missing = finance.api('POST',
            f'{API}/stores/999999/payments', {'amount': 5})
        self.assertEqual(foreign, missing)

        def payments():
            Payment = Pool().get('distributor.store.payment')
            return Payment.search_count([('store', '=', w.foreign.store)])
        self.assertEqual(self.read(payments), 1)
        # the downstream distributor is no store of d1 either
        status, _ = client.api('GET', f'{API}/stores/{w.d3}')
        self.assertEqual(status, 404)

    def test_promotion_lifecycle(self):
        """d1 sets up a promotion, activates it within the brand's policy,
        is refused a second one beyond the maximum, closes the first"""
        w = self.world
        client = self.client('d1@example.com')
        today = self.read(lambda: Pool().get('ir.date').today())
        end = (today + dt.timedelta(days=5)).isoformat()
        status, body = client.api('POST', f'{API}/stores/promotions', {
                'name': "Spring 10", 'kind': 'percentage',
                'percentage': 0.1, 'products': [w.p1_code],
                'stores': [w.s1], 'start_date': today.isoformat(),
                'end_date': end})
        self.assertEqual(status, 201, body)
        first = body['id']
        self.assertEqual((body['state'], Decimal(body['percentage']),
                body['products'], [x['id'] for x in body['stores']]),
            ('draft', Decimal('0.1'), [w.p1_code], [w.s1]))

        def read_promotion():
            record = Pool().get('distributor.store.promotion')(first)
            return (record.distributor.id, record.kind, record.percentage,
                [p.id for p in record.products],
                [x.id for x in record.stores])
        self.assertEqual(self.read(read_promotion), (w.d1, 'percentage',
                Decimal('0.1'), [w.products.p1], [w.s1]))
        # a draft is changed; values of another kind are refused
        status, body = client.api('PUT', f'{API}/stores/promotions/{first}',
            {'name': "Spring 10 %"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body['name'], "Spring 10 %")
        status, body = client.api('PUT', f'{API}/stores/promotions/{first}',
            {'amount_off': 5})
        self.assertEqual(status, 400, body)
        # another distributor's store may not be targeted
        status, body = client.api('PUT', f'{API}/stores/promotions/{first}',
            {'stores': [w.s3]})
        self.assertEqual(status, 404, body)
        self.assertEqual(self.read(read_promotion)[4], [w.s1])

        status, body = client.api('POST',
            f'{API}/stores/promotions/{first}/activate')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['state'], 'active')
        self.assertEqual(self._promotion_state(first), ('active', 1))
        # an active promotion is no longer changed
        status, body = client.api('PUT', f'{API}/stores/promotions/{first}',
            {'name': "Renamed"})
        self.assertEqual(status, 422, body)

        # 25 % on everything, over it (10 %) and the active one (5 %):
        # 40 % above the brand's 30 %
        response = client.get('/portal/stores/promotions')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('id="new-promotion"', html)
        self.assertIn(f'/portal/stores/promotions/{first}/close', html)
        response = client.post('/portal/stores/promotions', {
                'name': "Too much", 'kind': 'percentage',
                'percentage': '25', 'threshold_amount': '',
                'start_date': today.isoformat(), 'end_date': end,
                'idempotency_key': 'promotion-0001'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        second = int(response.headers['Location'].rsplit('-', 1)[1])

        def messages():
            Message = Pool().get('distributor.message')
            return Message.search_count([])
        posted = self.read(messages)
        status, body = client.api('POST',
            f'{API}/stores/promotions/{second}/activate')
        self.assertEqual(status, 422, body)
        self.assertIn('40%', body['message'])
        self.assertIn('30%', body['message'])
        self.assertEqual(self._promotion_state(second), ('draft', 0))
        self.assertEqual(self.read(messages), posted)
        response = client.post(
            f'/portal/stores/promotions/{second}/activate', {})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(self._promotion_state(second), ('draft', 0))

        response = client.post(f'/portal/stores/promotions/{first}/close',
            {})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._promotion_state(first), ('closed', 2))
        status, body = client.api('POST',
            f'{API}/stores/promotions/{first}/close')
        self.assertEqual(status, 422, body)
        self.assertEqual(self._promotion_state(first), ('closed', 2))

    def test_store_close_reopen(self):
        "d1 closes a store from its page and reopens it through the API"
        w = self.world
        store = w.own.spare_store
        client = self.client('d1@example.com')
        response = client.get(f'/portal/stores/{store}')
        self.assertIn('id="close-store"', response.get_data(as_text=True))
        response = client.post(f'/portal/stores/{store}/close', {})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        self.assertEqual(self._store_state(store), 'closed')
        response = client.get(f'/portal/stores/{store}')
        self.assertIn('id="reopen-store"', response.get_data(as_text=True))
        status, body = client.api('POST', f'{API}/stores/{store}/reopen')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['state'], 'active')
        self.assertEqual(self._store_state(store), 'active')

    def test_customer_edit(self):
        "d1-orders changes a terminal customer, then sets it back"
        w = self.world
        client = self.client('d1-orders@example.com')

        def read_customer():
            customer = Pool().get('party.party')(w.c1)
            return (customer.name, customer.customer_store.id
                if customer.customer_store else None)
        self.assertEqual(self.read(read_customer), ("Customer Wang", w.s1))
        response = client.get(f'/portal/stores/customers/{w.c1}')
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="edit-customer"', response.get_data(as_text=True))
        response = client.post(f'/portal/stores/customers/{w.c1}', {
                'name': "Customer Wang Jr", 'store': str(w.s2)})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        self.assertEqual(self.read(read_customer),
            ("Customer Wang Jr", w.s2))
        # a store of another distributor is refused: nothing written
        status, body = client.api('PUT', f'{API}/stores/customers/{w.c1}',
            {'store': w.s3})
        self.assertIn(status, {404, 422}, body)
        self.assertEqual(self.read(read_customer),
            ("Customer Wang Jr", w.s2))
        status, body = client.api('PUT', f'{API}/stores/customers/{w.c1}',
            {'name': "Customer Wang", 'store': None})
        self.assertEqual(status, 200, body)
        self.assertEqual((body['name'], body['store']),
            ("Customer Wang", None))
        status, body = client.api('PUT', f'{API}/stores/customers/{w.c1}',
            {'store': w.s1})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.read(read_customer), ("Customer Wang", w.s1))

    def test_foreign_promotion_store_customer(self):
        """Another distributor's promotion, store or customer (and the
        downstream distributor's customer) answer like missing ones"""
        w = self.world
        client = self.client('d1@example.com')
        before = self._promotion_state(w.foreign.promotion_draft)
        for method, path, body in [
                ('GET', f'{API}/stores/promotions/{{}}', None),
                ('PUT', f'{API}/stores/promotions/{{}}', {'name': "X"}),
                ('POST', f'{API}/stores/promotions/{{}}/activate', None),
                ('POST', f'{API}/stores/promotions/{{}}/close', None),
                ]:
            status, foreign = client.api(method,
                path.format(w.foreign.promotion_draft), body)
            self.assertEqual(status, 404, path)
            status, missing = client.api(method, path.format(999999), body)
            self.assertEqual(status, 404, path)
            self.assertEqual(foreign, missing)
        self.assertEqual(self._promotion_state(w.foreign.promotion_draft),
            before)
        response = client.post(
            f'/portal/stores/promotions/{w.foreign.promotion_draft}/activate',
            {})
        self.assertEqual(response.status_code, 404)

        for action in ['close', 'reopen']:
            status, foreign = client.api('POST',
                f'{API}/stores/{w.foreign.store}/{action}')
            self.assertEqual(status, 404)
            status, missing = client.api('POST',
                f'{API}/stores/999999/{action}')
            self.assertEqual(foreign, missing)
        self.assertEqual(self._store_state(w.foreign.store), 'active')
        response = client.post(f'/portal/stores/{w.foreign.store}/close', {})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._store_state(w.foreign.store), 'active')

        for customer in [w.c_foreign, w.c_down, w.s1]:
            status, foreign = client.api('PUT',
                f'{API}/stores/customers/{customer}', {'name': "X"})
            self.assertEqual(status, 404, customer)
            status, missing = client.api('PUT',
                f'{API}/stores/customers/999999', {'name': "X"})
            self.assertEqual(foreign, missing)
            response = client.get(f'/portal/stores/customers/{customer}')
            self.assertEqual(response.status_code, 404)

        def names():
            Party = Pool().get('party.party')
            return [p.name for p in Party.browse([w.c_foreign, w.c_down])]
        self.assertEqual(self.read(names),
            ["Customer Foreign", "Customer Downstream"])

    def test_view_only_refused_new_actions(self):
        """d1-view may not set up, activate or close promotions, close
        stores nor change customers (403, nothing written)"""
        w = self.world
        client = self.client('d1-view@example.com')
        response = client.get('/portal/stores/promotions')
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="new-promotion"',
            response.get_data(as_text=True))

        def count():
            Promotion = Pool().get('distributor.store.promotion')
            return Promotion.search_count([('distributor', '=', w.d1)])
        promotions = self.read(count)
        draft = self._promotion_state(w.own.promotion_draft)
        today = self.read(lambda: Pool().get('ir.date').today()).isoformat()
        for method, path, body in [
                ('POST', f'{API}/stores/promotions', {'name': "X",
                        'kind': 'percentage', 'percentage': 0.1,
                        'start_date': today, 'end_date': today}),
                ('PUT', f'{API}/stores/promotions/{w.own.promotion_draft}',
                    {'name': "X"}),
                ('POST',
                    f'{API}/stores/promotions/{w.own.promotion_draft}/'
                    'activate', None),
                ('POST',
                    f'{API}/stores/promotions/{w.own.promotion_active}/close',
                    None),
                ('POST', f'{API}/stores/{w.s1}/close', None),
                ('PUT', f'{API}/stores/customers/{w.c1}', {'name': "X"}),
                ]:
            status, _ = client.api(method, path, body)
            self.assertEqual(status, 403, path)
        for path in ['/portal/stores/promotions',
                f'/portal/stores/promotions/{w.own.promotion_draft}/activate',
                f'/portal/stores/{w.s1}/close',
                f'/portal/stores/customers/{w.c1}']:
            response = client.post(path, {'name': "X"})
            self.assertEqual(response.status_code, 403, path)
        self.assertEqual(self.read(count), promotions)
        self.assertEqual(self._promotion_state(w.own.promotion_draft), draft)
        self.assertEqual(self._store_state(w.s1), 'active')
        # a store's account manages no promotions
        store = self.client('s1@example.com')
        status, _ = store.api('POST',
            f'{API}/stores/promotions/{w.own.promotion_draft}/activate')
        self.assertEqual(status, 403)

    def _suggestions(self, distributor):
        "The model's suggestions, as root, for the distributor's stores"
        def read():
            pool = Pool()
            Party = pool.get('party.party')
            Limit = pool.get('distributor.store.limit')
            stores = Party.search([('is_store', '=', True),
                    ('store_distributor', '=', distributor),
                    ('store_state', '=', 'active')])
            return {(r['store'], r['product']): r['suggested_quantity']
                for r in Limit.suggestions(stores)}
        return self.read(read)

    def _channel_orders(self, buyers):
        "{id: (seller, buyer, state, [(product, quantity)])} of buyers"
        def read():
            Order = Pool().get('distributor.channel.order')
            return {o.id: (o.seller.id, o.buyer.id, o.state,
                    sorted((l.product.id, l.quantity) for l in o.lines))
                for o in Order.search([('buyer', 'in', buyers)])}
        return self.read(read)

    def test_replenish_page(self):
        """The replenishment page and the API list the model's suggestions
        for d1's stores; every role reads them, a store may not"""
        w = self.world
        expected = self._suggestions(w.d1)
        self.assertIn((w.own.spare_store, w.products.p1), expected)
        self.assertTrue(all(s in {w.s1, w.s2, w.own.spare_store}
                for s, _ in expected))
        client = self.client('d1-orders@example.com')
        response = client.get('/portal/stores')
        self.assertIn('href="/portal/stores/replenish"',
            response.get_data(as_text=True))
        response = client.get('/portal/stores/replenish')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        inputs = {(int(m.group(1)), int(m.group(2))): float(m.group(3))
            for m in re.finditer(
                r'name="quantity-(\d+)-(\d+)" value="([\d.]+)"', html)}
        self.assertEqual(inputs, expected)
        for store in {s for s, _ in expected}:
            self.assertIn(f'name="stores" value="{store}" checked', html)
        self.assertIn('name="idempotency_key"', html)

        status, body = client.api('GET', f'{API}/stores/replenish')
        self.assertEqual(status, 200, body)
        self.assertEqual({(g['store'], l['product']): l['suggested_quantity']
                for g in body['items'] for l in g['lines']}, expected)
        spare, = [g for g in body['items']
            if g['store'] == w.own.spare_store]
        line, = spare['lines']
        # no stock; on order what the form test may have ordered
        self.assertEqual((line['stock'], line['target_quantity']), (0, 20))
        self.assertEqual(line['suggested_quantity'], 20 - line['on_order'])

        # read only: the suggestions without the form
        view = self.client('d1-view@example.com')
        response = view.get('/portal/stores/replenish')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertNotIn('name="quantity-', html)
        self.assertEqual(html.count('data-product="'), len(expected))
        for store, product in expected:
            self.assertIn(f'data-store="{store}"', html)
        # a store has no stores to replenish
        store = self.client('s1@example.com')
        self.assertEqual(store.get('/portal/stores/replenish').status_code,
            403)
        status, _ = store.api('GET', f'{API}/stores/replenish')
        self.assertEqual(status, 403)

    def test_replenish_order_api(self):
        """d1-orders orders replenishment lines: one draft channel order
        per store, sold by d1, with the quantities given"""
        w = self.world
        p1, p2 = w.products.p1, w.products.p2
        before = self._channel_orders([w.s1, w.s2])
        client = self.client('d1-orders@example.com', api=True)
        status, body = client.api('POST', f'{API}/stores/replenish', {
                'lines': [
                    {'store': w.s1, 'product': p1, 'quantity': 4},
                    {'store': w.s2, 'product': p1, 'quantity': 5},
                    {'store': w.s1, 'product': p2, 'quantity': 3},
                    ]}, headers={'Idempotency-Key': 'replenish-api-0001'})
        self.assertEqual(status, 201, body)
        self.assertEqual(len(body['orders']), 2)
        after = self._channel_orders([w.s1, w.s2])
        made = {k: v for k, v in after.items() if k not in before}
        self.assertEqual(set(made), set(body['orders']))
        self.assertEqual(sorted(made.values()), sorted([
                    (w.d1, w.s1, 'submitted', sorted([(p1, 4), (p2, 3)])),
                    (w.d1, w.s2, 'submitted', [(p1, 5)]),
                    ]))

    def test_replenish_order_form(self):
        """The form orders the ticked stores' lines as entered (0 or empty
        skipped) and shows the drafts in the orders of the stores"""
        w = self.world
        p1, p2 = w.products.p1, w.products.p2
        spare = w.own.spare_store
        before = self._channel_orders([w.s1, w.s2, spare])
        client = self.client('d1-orders@example.com')
        response = client.get('/portal/stores/replenish')
        key = re.search(r'name="idempotency_key" value="([^"]+)"',
            response.get_data(as_text=True)).group(1)
        response = client.post('/portal/stores/replenish', {
                'idempotency_key': key,
                'stores': [str(spare), str(w.s2)],
                f'quantity-{spare}-{p1}': '7',
                f'quantity-{spare}-{p2}': '0',
                f'quantity-{w.s2}-{p1}': '',
                # not ticked
                f'quantity-{w.s1}-{p1}': '9',
                })
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:1000])
        self.assertEqual(response.headers['Location'],
            '/portal/orders?tab=incoming')
        after = self._channel_orders([w.s1, w.s2, spare])
        made = [v for k, v in after.items() if k not in before]
        self.assertEqual(made, [(w.d1, spare, 'submitted', [(p1, 7)])])
        response = client.get('/portal/orders?tab=incoming')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        flash = re.search(r'<div class="flash" role="status">([^<]*)</div>',
            html).group(1)
        self.assertIn(flash, {i18n.translate(text, lang)
                for text in ["1 order is submitted."]
                for lang in ['en', 'zh_CN']})
        order, = [k for k in after if k not in before]
        self.assertIn(f'/portal/channel-orders/{order}', html)
        # the same form again (a double click): no second order
        response = client.post('/portal/stores/replenish', {
                'idempotency_key': key,
                'stores': [str(spare)],
                f'quantity-{spare}-{p1}': '7',
                })
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._channel_orders([w.s1, w.s2, spare]), after)
        # nothing ticked: nothing ordered
        response = client.post('/portal/stores/replenish', {
                'idempotency_key': 'replenish-none-0001',
                f'quantity-{spare}-{p1}': '7',
                })
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers['Location'],
            '/portal/stores/replenish')
        self.assertEqual(self._channel_orders([w.s1, w.s2, spare]), after)

    def test_replenish_refused(self):
        """Another distributor's store answers 404 and nothing is written;
        view-only and store accounts are refused (403)"""
        w = self.world
        p1 = w.products.p1
        buyers = [w.s1, w.s2, w.s3, w.own.spare_store]
        before = self._channel_orders(buyers)
        client = self.client('d1-orders@example.com', api=True)
        status, body = client.api('POST', f'{API}/stores/replenish', {
                'lines': [
                    {'store': w.s1, 'product': p1, 'quantity': 4},
                    {'store': w.s3, 'product': p1, 'quantity': 5},
                    ]}, headers={'Idempotency-Key': 'replenish-d2-0001'})
        self.assertEqual(status, 404, body)
        status, missing = client.api('POST', f'{API}/stores/replenish', {
                'lines': [
                    {'store': w.s1, 'product': p1, 'quantity': 4},
                    {'store': 999999, 'product': p1, 'quantity': 5},
                    ]}, headers={'Idempotency-Key': 'replenish-d2-0002'})
        self.assertEqual(status, 404, missing)
        self.assertEqual(body, missing)
        # the downstream distributor is no store
        status, _ = client.api('POST', f'{API}/stores/replenish', {
                'lines': [{'store': w.d3, 'product': p1, 'quantity': 4}]},
            headers={'Idempotency-Key': 'replenish-d3-0001'})
        self.assertEqual(status, 404)
        status, _ = client.api('POST', f'{API}/stores/replenish', {
                'lines': [{'store': w.s1, 'product': p1, 'quantity': 0}]},
            headers={'Idempotency-Key': 'replenish-zero-001'})
        self.assertEqual(status, 400)
        self.assertEqual(self._channel_orders(buyers), before)

        lines = {'lines': [{'store': w.s1, 'product': p1, 'quantity': 4}]}
        for email in ['d1-view@example.com', 's1@example.com',
                's1-orders@example.com', 'd1-stock@example.com']:
            other = self.client(email, api=True)
            status, _ = other.api('POST', f'{API}/stores/replenish', lines,
                headers={'Idempotency-Key': 'replenish-403-0001'})
            self.assertEqual(status, 403, email)
        view = self.client('d1-view@example.com')
        view.get('/portal/stores/replenish')
        response = view.post('/portal/stores/replenish', {
                'idempotency_key': 'replenish-view-001',
                'stores': [str(w.s1)], f'quantity-{w.s1}-{p1}': '4'})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._channel_orders(buyers), before)

    def test_replenish_idempotent(self):
        "The same Idempotency-Key twice makes the orders once"
        w = self.world
        before = self._channel_orders([w.s2])
        client = self.client('d1@example.com', api=True)
        headers = {'Idempotency-Key': 'replenish-twice-001'}
        body = {'lines': [
                {'store': w.s2, 'product': w.products.p2, 'quantity': 6}]}
        status, first = client.api('POST', f'{API}/stores/replenish', body,
            headers=headers)
        self.assertEqual(status, 201, first)
        status, second = client.api('POST', f'{API}/stores/replenish', body,
            headers=headers)
        self.assertEqual(status, 201, second)
        self.assertEqual(first, second)
        after = self._channel_orders([w.s2])
        made = {k: v for k, v in after.items() if k not in before}
        self.assertEqual(list(made), first['orders'])
        self.assertEqual(list(made.values()),
            [(w.d1, w.s2, 'submitted', [(w.products.p2, 6)])])
