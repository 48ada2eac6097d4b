# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The price policy: tier bounds on store prices and channel orders,
retail prices and the price incidents of shelf checks, roles, locks and
the portal's prices page"""
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.exceptions import (
    DocumentLockedError, EntryPointRefused, RecordNotFound)
from distributor.tests.tools import acting, channel_manager, staff_user
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_store.tests.tools import channel_order

from ..exceptions import PriceError
from . import test_promotion


class PriceTestCase(PortalTestCase):
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Bound = pool.get('distributor.tier.price.bound')
        Retail = pool.get('distributor.retail.price')
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        p1 = world.products.p1
        tier = Party(world.d1).distributor_tier
        zj, = Territory.search([('code', '=', 'EC-ZJ')])
        bounds = Bound.create([{
                    'tier': tier.id, 'product': p1, 'buyer': 'store',
                    'min_price': Decimal(10), 'max_price': Decimal(14),
                    }, {
                    'tier': tier.id, 'product': p1, 'buyer': 'distributor',
                    'min_price': Decimal(8), 'max_price': Decimal(12),
                    }])
        Retail.create([{
                    'product': p1, 'guide_price': Decimal(15),
                    'promo_min': Decimal(12), 'promo_max': Decimal(14),
                    }, {
                    'product': p1, 'territory': zj.id,
                    'guide_price': Decimal(16),
                    'promo_min': Decimal(13), 'promo_max': Decimal(15),
                    }])
        world.store_bound, world.down_bound = [b.id for b in bounds]
        world.tier = tier.id
        return world

    def run_(self, func):
        return test_promotion.scratch(self.world.company, func)

    def test_store_price_within_tier_bound(self):
        "A store price outside the tier's store bound is refused"
        w = self.world

        def check():
            pool = Pool()
            Price = pool.get('distributor.store.price')
            price, = Price.search([('distributor', '=', w.d1),
                    ('product', '=', w.products.p1)])
            self.assertEqual(price.price, Decimal(11))
            self.assertEqual(
                (price.min_price, price.max_price),
                (Decimal(10), Decimal(14)))
            with acting(channel_manager()):
                with self.assertRaisesRegex(PriceError, '15'):
                    Price.dms_set_prices(w.d1, {w.products.p1: '15'})
                with self.assertRaises(PriceError):
                    Price.write([price], {'price': Decimal('9.5')})
                Price.dms_set_prices(w.d1, {w.products.p1: '13.5'})
            self.assertEqual(Price(price.id).price, Decimal('13.5'))
            # a bound the prices set already break is refused
            Bound = pool.get('distributor.tier.price.bound')
            with self.assertRaises(PriceError):
                Bound.write([Bound(w.store_bound)],
                    {'max_price': Decimal(12)})
            with self.assertRaises(PriceError):
                Bound.write([Bound(w.store_bound)],
                    {'min_price': Decimal(20)})
        self.run_(check)

    def test_channel_order_within_tier_bound(self):
        "An order to a downstream distributor priced outside the tier's "
        "distributor bound is refused at submission and approval"
        w = self.world

        def check():
            pool = Pool()
            Party = pool.get('party.party')
            Order = pool.get('distributor.channel.order')
            Bound = pool.get('distributor.tier.price.bound')
            d1, d3, s1 = Party.browse([w.d1, w.d3, w.s1])
            p1 = pool.get('product.product')(w.products.p1)
            # 11 lies within [8, 12] (downstream) and [10, 14] (stores)
            order = channel_order(d1, d3, [(p1, 2)])
            self.assertEqual(order.state, 'submitted')
            self.assertEqual(channel_order(d1, s1, [(p1, 2)]).state,
                'submitted')
            Bound.write([Bound(w.down_bound)], {'max_price': Decimal(10)})
            with self.assertRaisesRegex(PriceError,
                    r'11.*Cola.*8.*10'):
                channel_order(d1, d3, [(p1, 2)])
            with acting(channel_manager()):
                with self.assertRaisesRegex(PriceError, 'Cola'):
                    Order.approve([order])
            self.assertEqual(Order(order.id).state, 'submitted')
        self.run_(check)

    def test_shelf_check_price_incident(self):
        "A retail price outside the range opens an incident naming the "
        "store and its distributor, notified; inside: none"
        w = self.world

        def check():
            pool = Pool()
            Check = pool.get('distributor.store.check')
            Incident = pool.get('distributor.price.incident')
            Message = pool.get('distributor.message')
            Notification = pool.get('res.notification')
            p1 = w.products.p1
            before = Message.search_count([('party', '=', w.d1)])
            notified = Notification.search_count([])
            base = Incident.incident_count(w.d1)
            with acting(staff_user('manager')):
                result = Check.dms_price_check(w.d1, w.s1, [
                        {'product': p1, 'quantity': 3, 'price': '9.5'}])
            incident, = result['incidents']
            self.assertEqual(incident['store']['id'], w.s1)
            self.assertEqual(incident['distributor']['id'], w.d1)
            self.assertEqual(incident['price_seen'], Decimal('9.5'))
            self.assertEqual(
                (incident['min_price'], incident['max_price']),
                (Decimal(12), Decimal(15)))
            record = Incident(incident['id'])
            self.assertEqual(record.state, 'open')
            self.assertEqual(record.check.id, result['check'])
            self.assertEqual(
                Message.search_count([('party', '=', w.d1)]), before + 1)
            message, = Message.search([('party', '=', w.d1)], limit=1)
            self.assertIn("Price incident", message.subject)
            self.assertGreater(Notification.search_count([]), notified)
            self.assertEqual(Incident.incident_count(w.d1), base + 1)
            self.assertEqual(Incident.incident_count(w.d2), 0)

            # inside the range: no incident
            with acting(staff_user('manager')):
                result = Check.dms_price_check(w.d1, w.s1, [
                        {'product': p1, 'quantity': 3, 'price': '13'}])
            self.assertEqual(result['incidents'], [])
            # Hangzhou (Zhejiang): its own range, from 13
            with acting(staff_user('manager')):
                result = Check.dms_price_check(w.d2, w.s3, [
                        {'product': p1, 'quantity': 1, 'price': '12.5'}])
            incident, = result['incidents']
            self.assertEqual(incident['distributor']['id'], w.d2)
            self.assertEqual(incident['min_price'], Decimal(13))

            # the form: a check with retail prices confirmed by the rep
            rep = staff_user('rep')
            with acting(rep):
                check, = Check.create([{'store': w.s1, 'lines': [
                                ('create', [{'product': p1, 'quantity': 1,
                                            'retail_price': Decimal(20)}])]
                            }])
                Check.confirm([check])
            check = Check(check.id)
            self.assertEqual(len(check.price_incidents), 1)
            self.assertEqual(Incident.incident_count(w.d1), base + 2)
        self.run_(check)

    def test_roles_and_locks(self):
        "Who may record prices and decide incidents; incidents locked"
        w = self.world

        def check():
            pool = Pool()
            Check = pool.get('distributor.store.check')
            Incident = pool.get('distributor.price.incident')
            p1 = w.products.p1
            lines = [{'product': p1, 'quantity': 1, 'price': '5'}]
            with acting(staff_user('plain')):
                with self.assertRaises(EntryPointRefused):
                    Check.dms_price_check(w.d1, w.s1, lines)
            with acting(staff_user('rep')):
                # the rep reaches Jiangsu only
                with self.assertRaises(RecordNotFound):
                    Check.dms_price_check(w.d2, w.s3, lines)
                result = Check.dms_price_check(w.d1, w.s1, lines)
                # a store of another distributor
                with self.assertRaises(RecordNotFound):
                    Check.dms_price_check(w.d1, w.s3, lines)
            # bad input: nothing written
            with acting(channel_manager()):
                for bad in [[{'product': p1, 'quantity': 1,
                                'price': '-1'}],
                        [{'product': p1, 'quantity': 1, 'price': 'x'}],
                        [{'product': p1, 'quantity': 1, 'price': '1',
                                'lot': 'L'}],
                        []]:
                    count = Check.search_count([])
                    with self.assertRaises(UserError):
                        Check.dms_price_check(w.d1, w.s1, bad)
                    self.assertEqual(Check.search_count([]), count)
            incident = Incident(result['incidents'][0]['id'])
            with acting(staff_user('accountant')):
                with self.assertRaises((UserError, AccessError)):
                    Incident.confirm([incident])
            with acting(staff_user('rep')):
                Incident.dismiss([incident])
            incident = Incident(incident.id)
            self.assertEqual(incident.state, 'dismissed')
            self.assertEqual(incident.state_logs[0].to_state, 'dismissed')
            with acting(channel_manager()):
                for values in [{'price_seen': Decimal(13)},
                        {'state': 'open'}, {'store': w.s2}]:
                    with self.assertRaises(DocumentLockedError):
                        Incident.write([incident], values)
                with self.assertRaises(DocumentLockedError):
                    Incident.delete([incident])
                Incident.write([incident], {'note': "Seen twice"})
                Incident.reopen([incident])
                Incident.confirm([incident])
            incident = Incident(incident.id)
            self.assertEqual(incident.state, 'confirmed')
            self.assertEqual(incident.note, "Seen twice")
            with acting(staff_user('rep')):
                with self.assertRaises(UserError):
                    Incident.reopen([incident])
        self.run_(check)

    def test_portal(self):
        "The prices page and endpoints: bounds, incidents of my stores"
        w = self.world

        def record():
            pool = Pool()
            Check = pool.get('distributor.store.check')
            with Transaction().set_context(company=w.company):
                Check.dms_price_check(w.d1, w.s1, [
                        {'product': w.products.p1, 'quantity': 1,
                            'price': '30'}])
        self.write(record)
        client = self.client('d1@example.com')
        response = client.get('/portal/policies/prices')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertIn(f'data-product="{w.products.p1}"', text)
        self.assertIn('10.0000', text)
        self.assertIn('30.0000', text)
        status, body = client.api('GET', '/portal/api/v1/price-bounds')
        self.assertEqual(status, 200)
        row, = [r for r in body['items'] if r['product'] == w.products.p1]
        self.assertEqual((row['store_min'], row['store_max']),
            ('10.0000', '14.0000'))
        self.assertEqual((row['distributor_min'], row['distributor_max']),
            ('8.0000', '12.0000'))
        self.assertEqual((row['guide_price'], row['promo_min']),
            ('15.0000', '12.0000'))
        status, body = client.api('GET',
            '/portal/api/v1/price-incidents?limit=1')
        self.assertEqual(status, 200)
        self.assertEqual(body['total'], 1)
        self.assertEqual(body['items'][0]['store']['id'], w.s1)

        other = self.client('d2@example.com')
        status, body = other.api('GET', '/portal/api/v1/price-incidents')
        self.assertEqual((status, body['total']), (200, 0))
        status, body = other.api('GET', '/portal/api/v1/price-bounds')
        row, = [r for r in body['items'] if r['product'] == w.products.p1]
        # D2 is in Zhejiang: its retail range
        self.assertEqual(row['guide_price'], '16.0000')
