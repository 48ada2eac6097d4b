# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The demo / benchmark generator builds a consistent, repeatable network"
import hashlib
import sys
import unittest
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from trytond.modules.company.tests import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from distributor.demo import Part

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

import generate  # noqa: E402
import setup_db  # noqa: E402
# the demo is what ./dms run serves, on SQLite; the SQL it goes through
# (levels, turnover, rules) is run on PostgreSQL by the module tests
BACKENDS = {'sqlite'}
# the parts of each module's demo.py, in the order the runner walks them
DISTRIBUTOR_PARTS = [
    'territories', 'tiers', 'tags', 'products', 'staff', 'distributors']
ALL_PARTS = DISTRIBUTOR_PARTS + [
    'sale setup', 'stock setup', 'orders', 'stock activity',
    'stores', 'store pricing', 'store orders', 'store activity']


def walked():
    "The names of the parts the runner walks for the activated modules"
    with Transaction().start(DB_NAME, 0, readonly=True):
        _, demos = generate.demo_modules(Pool())
        return [part.name for part in generate.walk(demos)]


class WalkTestCase(unittest.TestCase):
    "The order in which the runner walks the parts of the modules' demos"

    @staticmethod
    def names(*modules):
        return [part.name for part in generate.walk(
                [SimpleNamespace(PARTS=[Part(*p) for p in parts])
                    for parts in modules])]

    def test_module_order(self):
        "Module after module, each in the order of its parts"
        self.assertEqual(self.names(
                [('a1', None), ('a2', None)], [('b1', None)]),
            ['a1', 'a2', 'b1'])

    def test_before(self):
        "A part runs just before the part it names, if that one runs"
        self.assertEqual(self.names(
                [('a1', None), ('a2', None), ('a3', None)],
                [('b1', None, 'a2'), ('b2', None), ('b3', None, 'a2')],
                [('c1', None, 'b1'), ('c2', None, 'missing')]),
            ['a1', 'c1', 'b1', 'b3', 'a2', 'a3', 'b2', 'c2'])

    def test_refused(self):
        "Two parts of one name, or parts before one another, are refused"
        with self.assertRaises(ValueError):
            self.names([('a', None)], [('a', None)])
        with self.assertRaises(ValueError):
            self.names([('a', None, 'b')], [('b', None, 'a')])


def digest():
    "A fingerprint of the network: codes, names, tiers, upstreams, states"
    with Transaction().start(DB_NAME, 0, readonly=True):
        Party = Pool().get('party.party')
        rows = [(p.distributor_code, p.name, p.distributor_tier.code,
                p.upstream.distributor_code if p.upstream else '',
                ','.join(t.code for t in p.territories),
                p.distributor_state, p.distributor_grade or '')
            for p in Party.search([('is_distributor', '=', True)],
                order=[('distributor_code', 'ASC')])]
    return hashlib.sha256(repr(rows).encode()).hexdigest(), rows


class GenerateTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['distributor'])

    def setUp(self):
        # each test starts from the activated modules and a company
        drop_db()
        activate_module(['distributor'])
        with Transaction().start(DB_NAME, 0) as transaction:
            create_company()
            transaction.commit()

    def test_network(self):
        self.assertEqual(walked(), DISTRIBUTOR_PARTS)
        counts = generate.generate(
            DB_NAME, distributors=40, products=12, seed=7, verbose=False)
        self.assertEqual(sum(counts.values()), 40)
        first, rows = digest()

        tiers = Counter(code[0] for code, _ in counts)
        self.assertEqual(sum(n for (t, _), n in counts.items()
                if t == 'T1'), 4)
        self.assertEqual(sum(n for (t, _), n in counts.items()
                if t == 'T2'), 10)
        self.assertTrue(tiers)
        states = {s for (_, s) in counts}
        self.assertLessEqual({'active', 'frozen', 'draft', 'terminated'},
            states)

        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Party = pool.get('party.party')
            Territory = pool.get('distributor.territory')
            Template = pool.get('product.template')
            User = pool.get('res.user')
            Qualification = pool.get('distributor.qualification')
            kinds = Counter(t.kind for t in Territory.search([]))
            self.assertGreaterEqual(kinds['region'], 2)
            self.assertGreaterEqual(kinds['province'], 6)
            self.assertGreaterEqual(kinds['city'] + kinds['county'], 30)
            self.assertEqual(Template.search_count([]), 12)
            for party in Party.search([('is_distributor', '=', True)]):
                self.assertEqual(len(party.qualifications) >= 1, True)
                if not party.upstream:
                    continue
                self.assertLess(party.upstream.distributor_tier.level,
                    party.distributor_tier.level)
                area = party.upstream.distributor_area()
                for territory in party.territories:
                    self.assertIn(territory.id, area)
                self.assertIsNotNone(party.sales_rep)
            logins = {u.login for u in User.search([])}
            self.assertLessEqual(
                {'rep1', 'rep2', 'manager', 'accountant', 'dmsadmin'},
                logins)
            statuses = Counter(q.status for q in Qualification.search([]))
            self.assertGreaterEqual(statuses['expiring'], 1)
            self.assertEqual(statuses['expired'], 2)

        # a second run adds no distributor
        generate.generate(DB_NAME, distributors=40, products=12, seed=7,
            verbose=False)
        self.assertEqual(digest()[0], first)

    def test_same_seed_same_network(self):
        "Two databases generated with one seed hold the same network"
        generate.generate(
            DB_NAME, distributors=25, products=5, seed=11, verbose=False)
        first, rows = digest()
        self.assertEqual(len(rows), 25)
        drop_db()
        activate_module(['distributor'])
        with Transaction().start(DB_NAME, 0) as transaction:
            create_company()
            transaction.commit()
        generate.generate(
            DB_NAME, distributors=25, products=5, seed=11, verbose=False)
        self.assertEqual(digest()[0], first)
        drop_db()
        activate_module(['distributor'])


def store_digest():
    "A fingerprint of the stores and channel orders"
    with Transaction().start(DB_NAME, 0, readonly=True):
        pool = Pool()
        Party = pool.get('party.party')
        Order = pool.get('distributor.channel.order')
        stores = [(s.name, s.store_distributor.distributor_code,
                s.store_territory.code, s.store_size, s.cooperation_type,
                s.store_state, str(s.latitude))
            for s in Party.search([('is_store', '=', True)],
                order=[('id', 'ASC')])]
        orders = [(o.number, o.seller.name, o.buyer.name, o.state,
                [(l.product.code, l.quantity, str(l.unit_price))
                    for l in o.lines])
            for o in Order.search([], order=[('id', 'ASC')])]
    return hashlib.sha256(repr((stores, orders)).encode()).hexdigest()


class GenerateStoresTestCase(unittest.TestCase):
    """The demo of every module: distributor orders, channel stock, stores,
    channel orders and store activity"""

    @classmethod
    def setUpClass(cls):
        drop_db()
        cls.addClassCleanup(drop_db)
        activate_module(['distributor_store'])
        # the brand with its chart of accounts and fiscal year, as
        # scripts/setup_db.py makes it
        generate.in_transaction(DB_NAME, setup_db._setup_company)
        generate.generate(DB_NAME, distributors=30, products=10, stores=40,
            seed=5, verbose=False)

    def test_parts(self):
        "Every module's demo runs, the stock setup before the orders"
        self.assertEqual(walked(), ALL_PARTS)

    def test_sale(self):
        "distributor_sale: prices, deposits, orders in every state"
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Tier = pool.get('distributor.tier')
            Template = pool.get('product.template')
            Floor = pool.get('distributor.price_floor')
            Configuration = pool.get('distributor.configuration')
            MoveLine = pool.get('account.move.line')
            Sale = pool.get('sale.sale')
            Discrepancy = pool.get('distributor.sale.discrepancy')

            for tier in Tier.search([]):
                self.assertTrue(tier.price_list)
                self.assertTrue(tier.minimum_order_amount)
            self.assertFalse(Template.search([('salable', '=', False)]))
            self.assertTrue(Floor.search([]))
            self.assertTrue(Configuration(1).instalment_payment_term)
            # the deposits of the prepaid distributors, posted
            deposits = MoveLine.search([('account.type.deposit', '=', True)])
            self.assertTrue(deposits)
            for line in deposits:
                self.assertEqual(line.party.settlement_method, 'prepaid')
                self.assertEqual(line.move.state, 'posted')

            orders = Sale.search([('distributor_order', '=', True)])
            self.assertLessEqual({'draft', 'submitted', 'rejected',
                    'approved', 'shipped', 'received', 'done', 'cancelled'},
                {o.channel_state for o in orders})
            self.assertLessEqual({'regular', 'promotion', 'return'},
                {o.order_kind for o in orders})
            resolved, = Discrepancy.search([('state', '=', 'resolved')])
            self.assertEqual(resolved.resolution, 'credit')

    def test_stock(self):
        "distributor_stock: levels, lots, transfers, a count, alerts"
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Party = pool.get('party.party')
            Limit = pool.get('distributor.stock.limit')
            Lot = pool.get('stock.lot')
            Level = pool.get('distributor.stock.level')
            Transfer = pool.get('distributor.stock.transfer')
            Inventory = pool.get('stock.inventory')
            Alert = pool.get('distributor.stock.alert')

            active = Party.search([('is_distributor', '=', True),
                    ('distributor_state', '=', 'active')])
            self.assertTrue(all(p.distributor_warehouse for p in active))
            self.assertTrue(Limit.search([]))
            self.assertTrue(Lot.search([('expiration_date', '!=', None)]))
            self.assertTrue(Level.levels(active, lots=False))
            self.assertLessEqual(
                {'requested', 'approved', 'shipped', 'received', 'done'},
                {t.state for t in Transfer.search([])})
            inventory, = Inventory.search([('state', '=', 'draft')])
            self.assertTrue([l for l in inventory.lines
                    if l.variance_reason == 'damaged'])
            self.assertTrue(Alert.search([('state', '=', 'open')]))

    def test_stores(self):
        first = store_digest()
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Party = pool.get('party.party')
            Order = pool.get('distributor.channel.order')
            Bound = pool.get('distributor.store.price.bound')
            Price = pool.get('distributor.store.price')
            Promotion = pool.get('distributor.store.promotion')
            Plan = pool.get('distributor.coverage.plan')
            Incident = pool.get('distributor.diversion.incident')
            Limit = pool.get('distributor.store.limit')
            Payment = pool.get('distributor.store.payment')
            Log = pool.get('distributor.store.move.log')

            stores = Party.search([('is_store', '=', True)])
            self.assertEqual(len(stores), 40)
            for store in stores:
                self.assertTrue(store.store_in_area(), store.rec_name)
                self.assertTrue(store.store_size)
                self.assertTrue(store.cooperation_type)
            states = Counter(s.store_state for s in stores)
            self.assertGreaterEqual(states['closed'], 1)
            self.assertGreater(states['active'], states['closed'])
            self.assertTrue(any(s.latitude is not None for s in stores))
            self.assertTrue(any(s.categories for s in stores))
            self.assertGreater(len({s.store_distributor for s in stores}),
                5)
            self.assertEqual(Log.search_count([]), 1)
            self.assertTrue(Party.search(
                    [('is_terminal_customer', '=', True)]))

            bounds = Bound.search([])
            self.assertTrue([b for b in bounds if not b.territory])
            self.assertTrue([b for b in bounds if b.territory])
            prices = Price.search([])
            self.assertTrue(prices)
            for price in prices:
                self.assertTrue(
                    price.min_price <= price.price <= price.max_price)

            orders = Order.search([])
            self.assertLessEqual({'draft', 'submitted', 'approved',
                    'rejected', 'cancelled', 'delivered', 'received',
                    'done'}, {o.state for o in orders})
            approved = Order.search([('state', '=', 'approved')])
            self.assertEqual(
                len([o for o in approved if o.backordered]), 1)
            self.assertTrue([o for o in approved if not o.backordered])
            for order in orders:
                if order.state in {'rejected', 'cancelled'}:
                    self.assertTrue(order.reason)
                if order.state == 'received':
                    self.assertGreater(order.open_discrepancies, 0)
                if order.state in {'delivered', 'received', 'done'}:
                    self.assertGreater(order.billed_amount, 0)
            kinds = {o.buyer_kind for o in orders}
            self.assertLessEqual({'store', 'distributor', 'customer'},
                kinds)

            promotions = Promotion.search([('state', '=', 'active')])
            self.assertEqual({p.kind for p in promotions},
                {'percentage', 'threshold', 'buy_get'})
            used = {p.kind for p in promotions if p.usage_orders}
            self.assertLessEqual({'percentage', 'threshold', 'buy_get'},
                used)
            self.assertTrue(Order.search(
                    [('lines.promotion_gift', '=', True)]))

            plan, = Plan.search([('state', '=', 'running')])
            self.assertGreater(plan.pair_count, 1)
            self.assertGreater(plan.progress, 0)
            self.assertLess(plan.progress, 1)

            incident, = Incident.search([])
            self.assertEqual(incident.state, 'open')
            self.assertNotEqual(incident.shipped_to,
                incident.store.store_distributor)

            self.assertTrue(Limit.search([]))
            payments = Counter(p.state for p in Payment.search([]))
            self.assertGreaterEqual(payments['posted'], 1)

        # a second run adds nothing
        generate.generate(DB_NAME, distributors=30, products=10, stores=40,
            seed=5, verbose=False)
        self.assertEqual(store_digest(), first)
