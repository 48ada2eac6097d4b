# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import math
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model import ModelSingleton, ModelSQL
from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_employee
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction

from distributor_sale.exceptions import ChannelOrderError
from distributor_stock.replenishment import replenishment_levels
from distributor_stock.tests.test_module import create_lot, levels
from distributor_stock.tests.tools import move_stock
from distributor_store.coverage import unpair_id
from distributor.exceptions import InputError, RecordNotFound
from distributor.tests.tools import (
    acting, channel_manager, sales_rep, staff_user, with_transaction)
from distributor_store.exceptions import (
    CoverageError, DiversionError, StoreError, StoreOrderError,
    StorePriceError, StorePromotionError, StoreValidationError)

from .tools import channel_order, create_store, delivered_order, store_network


def today():
    return Pool().get('ir.date').today()


class DistributorStoreTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Distributor Store module"
    module = 'distributor_store'
    extras = []

    @with_transaction()
    def test_every_model_has_denying_default_access(self):
        "Every model of the module has a default access row that denies"
        pool = Pool()
        Access = pool.get('ir.model.access')
        IrModel = pool.get('ir.model')
        checked = 0
        for name, Model in pool.iterobject():
            if (not issubclass(Model, ModelSQL)
                    or callable(getattr(Model, 'table_query', None))
                    or issubclass(Model, ModelSingleton)):
                continue
            model, = IrModel.search([('name', '=', name)])
            if model.module != 'distributor_store':
                continue
            checked += 1
            with self.subTest(model=name):
                default, = Access.search([
                        ('model', '=', name), ('group', '=', None)])
                self.assertFalse(default.perm_read or default.perm_write
                    or default.perm_create or default.perm_delete)
        self.assertGreaterEqual(checked, 15)

    # Stores --------------------------------------------------------------

    @with_transaction()
    def test_store_rules(self):
        "A store lies in its distributor's territories; moves are logged"
        pool = Pool()
        Party = pool.get('party.party')
        with store_network() as n:
            t = n.territories
            with self.assertRaises(StoreValidationError):
                create_store("Outside", n.d1, t.hz)
            spare = create_store("Spare", n.d1, t.nj)
            with self.assertRaises(StoreValidationError):
                Party.write([spare], {'store_territory': t.gz.id})
            # the distributor changes only through the Move Store action
            with self.assertRaises(StoreError):
                Party.write([n.s1], {'store_distributor': n.d2.id})
            # the Move Store wizard of a channel manager (its states run
            # once Tryton checked who may run it)
            manager = channel_manager()
            with acting(manager, check_access=False):
                # moving into a territory the new distributor does not
                # cover
                with self.assertRaises(StoreValidationError):
                    Party.move_stores([n.s1], n.d2, None, "Reorganisation")
                with self.assertRaises(InputError):
                    Party.move_stores([n.s1], n.d2, t.hz, " ")
            # an open order blocks the move
            channel_order(n.d1, n.s1, [(n.products.p1, 1)], submit=False)
            with acting(manager, check_access=False):
                with self.assertRaises(StoreError):
                    Party.move_stores([n.s1], n.d2, t.hz, "Reorganisation")
                log, = Party.move_stores(
                    [n.s2], n.d2, t.hz, "Reorganisation")
            log = type(log)(log.id)
            s2 = Party(n.s2.id)
            self.assertEqual((s2.store_distributor, s2.store_territory),
                (n.d2, t.hz))
            self.assertEqual((log.from_distributor, log.to_distributor,
                    log.from_territory, log.reason),
                (n.d1, n.d2, t.sz, "Reorganisation"))
            self.assertEqual(list(s2.store_moves), [log])
            with acting(manager):
                Party.store_close([n.s3])
            self.assertEqual(Party(n.s3.id).store_state, 'closed')
            with self.assertRaises(StoreOrderError):
                channel_order(n.d2, n.s3, [(n.products.p1, 1)])
            # a customer's usual store is one of its distributor's
            with self.assertRaises(UserError):
                Party.write([n.c1], {'customer_store': n.s3.id})

    # Channel orders ------------------------------------------------------

    @with_transaction()
    def test_store_order_flow(self):
        """Priced from the store price list, approved, delivered from
        stock (sell-out), received short, resolved, billed"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Price = pool.get('distributor.store.price')
        Turnover = pool.get('distributor.stock.turnover')
        Message = pool.get('distributor.message')
        Limit = pool.get('distributor.stock.limit')
        Alert = pool.get('distributor.stock.alert')
        with store_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            Price.create([{'distributor': n.d1.id, 'product': p1.id,
                        'price': Decimal('12.5')}])
            move_stock(n.d1, p1, 30)
            move_stock(n.d1, p2, 10)
            Limit.create([{'party': n.d1.id, 'product': p1.id,
                        'min_quantity': 25, 'max_quantity': 40}])
            order = channel_order(n.d1, n.s1, [(p1, 10), (p2, 4)])
            self.assertEqual(order.state, 'submitted')
            self.assertTrue(order.number.startswith('CO'))
            self.assertEqual(order.buyer_kind, 'store')
            line1, line2 = order.lines
            # own price, else the list price (no bound for P2)
            self.assertEqual(line1.unit_price, Decimal('12.5'))
            self.assertEqual(line2.unit_price, Decimal(20))
            self.assertEqual(order.total_amount, Decimal('205.00'))
            self.assertTrue(Message.search([('party', '=', n.d1.id),
                        ('origin', '=', str(order))]))
            manager = channel_manager()
            with acting(manager):
                Order.approve([order])
                Order.deliver([order])
            order = Order(order.id)
            self.assertEqual(order.state, 'delivered')
            self.assertEqual(order.billed_amount, Decimal('205.00'))
            # the store follows its order in its inbox
            self.assertEqual(len(Message.search([('party', '=', n.s1.id),
                            ('origin', '=', str(order))])), 2)
            self.assertEqual(levels(n.d1, p1), {(p1.id, None): 20})
            # the delivery took the seller below its minimum: alerted
            alert, = Alert.search([('party', '=', n.d1.id),
                    ('state', '=', 'open')])
            self.assertEqual((alert.product, alert.kind, alert.quantity),
                (p1, 'low', 20))
            with Transaction().set_context(
                    date=today(), days=7):
                turnover, = Turnover.search([
                        ('distributor', '=', n.d1.id),
                        ('product', '=', p1.id)])
                self.assertEqual(turnover.sellout, 10)
            # the store counts 8 of 10 and 3 of 4 (the receive and
            # resolve wizards of a channel manager)
            with acting(manager, check_access=False):
                Order.receive_orders([order], {line1.id: 8, line2.id: 3})
            order = Order(order.id)
            self.assertEqual(order.state, 'received')
            self.assertEqual(order.open_discrepancies, 2)
            self.assertEqual(order.billed_amount, Decimal('160.00'))
            with acting(manager, check_access=False):
                Order.resolve_lines(
                    {line1.id: 'return', line2.id: 'write_off'})
            order = Order(order.id)
            self.assertEqual(order.state, 'done')
            self.assertEqual(levels(n.d1, p1), {(p1.id, None): 22})
            self.assertEqual(levels(n.d1, p2), {(p2.id, None): 6})
            self.assertEqual(Alert(alert.id).quantity, 22)
            # the 2 units back in storage are no longer sold out; the
            # unit written off was
            with Transaction().set_context(
                    date=today(), days=7):
                sellout = {t.product: t.sellout for t in Turnover.search([
                            ('distributor', '=', n.d1.id)])}
                self.assertEqual(sellout, {p1: 8, p2: 4})

    @with_transaction()
    def test_downstream_replenished_by_upstream(self):
        """A distributor with an upstream orders from it: its brand orders
        are refused and its alerts become channel orders to the upstream,
        counted as on order"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        Order = pool.get('distributor.channel.order')
        Limit = pool.get('distributor.stock.limit')
        Alert = pool.get('distributor.stock.alert')
        with store_network() as n:
            p1 = n.products.p1
            rep = sales_rep([n.territories.js])
            with acting(rep):
                sale = Sale.dms_create_order(n.d3.id,
                    [{'product': 'P1', 'quantity': 10}])
                with self.assertRaisesRegex(ChannelOrderError, 'upstream'):
                    Sale.dms_submit([Sale(sale)])
            Limit.create([{'party': n.d3.id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 30}])
            move_stock(n.d3, p1, 4)
            Alert.refresh([n.d3])
            alert, = Alert.search([('party', '=', n.d3.id),
                    ('state', '=', 'open')])
            self.assertEqual((alert.kind, alert.suggested_quantity),
                ('low', 26))
            with acting(rep):
                result = Alert.dms_order_alerts(n.d3.id, [alert.id])
            self.assertEqual(result['model'], 'distributor.channel.order')
            order = Order(result['id'])
            self.assertEqual((order.seller, order.buyer, order.state),
                (n.d1, n.d3, 'draft'))
            self.assertEqual([(l.product, l.quantity) for l in order.lines],
                [(p1, 26)])
            self.assertEqual(Alert(alert.id).state, 'ordered')
            self.assertEqual(Alert(alert.id).order, order)
            # submitted, it counts as on order: no new alert
            with acting(channel_manager()):
                Order.submit([order])
            Alert.refresh([n.d3])
            self.assertEqual(Alert.search([('party', '=', n.d3.id),
                        ('state', '=', 'open')]), [])

    @with_transaction()
    def test_downstream_distributor_order(self):
        "A sub-distributor orders from its upstream; goods enter its stock"
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Turnover = pool.get('distributor.stock.turnover')
        with store_network() as n:
            p1 = n.products.p1
            move_stock(n.d1, p1, 50)
            manager = channel_manager()
            with acting(manager):
                order = Order.dms_create_channel_order(
                    n.d3.id, [{'product': 'P1', 'quantity': 20}],
                    submit=True)
            order = Order(order)
            self.assertEqual((order.seller, order.buyer, order.buyer_kind),
                (n.d1, n.d3, 'distributor'))
            with acting(manager):
                with self.assertRaises(AccessError):
                    Order.dms_approve_channel_orders(n.d3.id, [order.id])
                Order.dms_approve_channel_orders(n.d1.id, [order.id])
                Order.dms_deliver_channel_orders(n.d1.id, [order.id])
            self.assertEqual(levels(n.d1, p1), {(p1.id, None): 30})
            self.assertEqual(levels(n.d3, p1), {})
            # the buyer confirms by scanning 19 units
            with acting(manager):
                Order.dms_receive_channel_order(n.d3.id, order.id,
                    scans=[{'code': 'P1', 'quantity': 19}])
            order = Order(order.id)
            self.assertEqual(levels(n.d3, p1), {(p1.id, None): 19})
            self.assertEqual(order.state, 'received')
            # the missing unit goes back to the seller, whose sell-out
            # it leaves; the buyer's own sell-out is untouched (the
            # resolve wizard)
            with acting(manager, check_access=False):
                Order.resolve_lines({order.lines[0].id: 'return'})
            self.assertEqual(Order(order.id).state, 'done')
            self.assertEqual(levels(n.d1, p1), {(p1.id, None): 31})
            with Transaction().set_context(date=today(), days=7):
                sellout = {(t.distributor, t.product): t.sellout
                    for t in Turnover.search([])}
                self.assertEqual(sellout, {(n.d1, p1): 19, (n.d3, p1): 0})
            with acting(manager):
                orders = Order.search([('buyer', '=', n.d3.id)])
            self.assertEqual([o.state for o in orders], ['done'])

    @with_transaction()
    def test_anti_diversion(self):
        "Sales outside the seller's own channel are refused, nothing kept"
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Party = pool.get('party.party')
        with store_network() as n:
            p1, p3 = n.products.p1, n.products.p3
            count = Order.search_count([])
            manager = channel_manager()
            buyers = [(b.rec_name, b.id) for b in [n.s3, n.d2]]
            with acting(manager):
                # another distributor's store, a distributor that is not
                # a downstream, a customer of another distributor
                for name, buyer in buyers:
                    with self.subTest(buyer=name):
                        with self.assertRaises(DiversionError):
                            Order.dms_create_channel_order(n.d1.id,
                                [{'product': 'P1', 'quantity': 1}],
                                buyer=buyer)
                with self.assertRaises(DiversionError):
                    Order.dms_create_channel_order(n.d2.id,
                        [{'product': 'P1', 'quantity': 1}], buyer=n.c1.id)
                # unauthorized product, quantity not positive
                with self.assertRaises(StoreOrderError):
                    Order.dms_create_channel_order(n.d1.id,
                        [{'product': p3.id, 'quantity': 1}], buyer=n.s1.id)
                for quantity in [0, -2, 'x', float('inf')]:
                    with self.assertRaises(InputError):
                        Order.dms_create_channel_order(n.d1.id,
                            [{'product': 'P1', 'quantity': quantity}],
                            buyer=n.s1.id)
            self.assertEqual(Order.search_count([]), count)
            # a store left outside when its distributor's territories
            # change cannot be delivered
            order = channel_order(n.d1, n.s2, [(p1, 1)])
            move_stock(n.d1, p1, 1)
            with acting(manager):
                Order.approve([order])
            Party.write([n.d1], {'territories': [
                        ('remove', [n.territories.js.id]),
                        ('add', [n.territories.nj.id])]})
            with acting(manager), self.assertRaises(DiversionError):
                Order.deliver([order])
            self.assertEqual(Order(order.id).state, 'approved')
            # a store buys from its own distributor only
            with acting(manager):
                order = Order.dms_create_channel_order(
                    n.s1.id, [{'product': 'P1', 'quantity': 2}])
            order = Order(order)
            self.assertEqual((order.seller, order.buyer), (n.d1, n.s1))

    @with_transaction()
    def test_backorder_reject_cancel_lock(self):
        "Short stock back-orders; reasons required; submitted is locked"
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        with store_network() as n:
            p1 = n.products.p1
            move_stock(n.d1, p1, 3)
            manager = channel_manager()
            order = channel_order(n.d1, n.s1, [(p1, 5)])
            with acting(manager):
                Order.approve([order])
            self.assertTrue(Order(order.id).backordered)
            self.assertEqual(Order.search([('backordered', '=', True)]),
                [order])
            with acting(manager), self.assertRaises(StoreOrderError):
                Order.deliver([order])
            self.assertEqual(Order(order.id).state, 'approved')
            move_stock(n.d1, p1, 2)
            self.assertFalse(Order(order.id).backordered)
            with acting(manager):
                Order.deliver([order])
            self.assertEqual(levels(n.d1, p1), {})

            first = channel_order(n.d1, n.s1, [(p1, 1)])
            second = channel_order(n.d1, n.s2, [(p1, 1)])
            # the reject and cancel wizards of a channel manager
            with acting(manager, check_access=False):
                with self.assertRaises(InputError):
                    Order.reject_orders([first, second], ' ')
                Order.reject_orders([first, second], "Out of season")
            self.assertEqual({o.state for o in Order.browse(
                        [first.id, second.id])}, {'rejected'})
            # the workflow ignores an approval of a rejected order; a
            # client's click is refused (the button is not shown)
            Order.approve([first])
            self.assertEqual(Order(first.id).state, 'rejected')
            with acting(manager), self.assertRaises(AccessButtonError):
                Order.approve([first])
            self.assertEqual(Order(first.id).state, 'rejected')
            with acting(manager):
                Order.draft([first])
            with acting(manager, check_access=False):
                Order.cancel_orders([first], "Store closed for works")
            self.assertEqual(Order(first.id).state, 'cancelled')
            third = channel_order(n.d1, n.s1, [(p1, 1)])
            with acting(manager):
                with self.assertRaises(AccessError):
                    Order.write([third], {'date': today()})
                with self.assertRaises(AccessError):
                    pool.get('distributor.channel.order.line').write(
                        list(third.lines), {'quantity': 9})
                Order.write([third], {'comment': "Deliver before noon"})

    # Diversion -----------------------------------------------------------

    @with_transaction()
    def test_diversion_incident_from_scanned_lot(self):
        "A lot found at a store of another distributor raises an incident"
        pool = Pool()
        Check = pool.get('distributor.store.check')
        Incident = pool.get('distributor.diversion.incident')
        Order = pool.get('distributor.channel.order')
        with store_network() as n:
            p1 = n.products.p1
            lot_d2 = create_lot(p1, 'LOT-ZJ')
            lot_d1 = create_lot(p1, 'LOT-JS')
            move_stock(n.d2, p1, 10, lot=lot_d2)
            move_stock(n.d1, p1, 10, lot=lot_d1)
            manager = channel_manager()
            # D1's own lot at its store is fine; D2's lot is diverted
            with acting(manager):
                result = Check.dms_shelf_check(n.d1.id, n.s1.id, [
                        {'code': 'P1', 'lot': 'LOT-JS', 'quantity': 3},
                        {'code': 'P1', 'lot': 'LOT-ZJ', 'quantity': 2},
                        ])
            incident, = Incident.search([])
            self.assertEqual(result['incidents'][0]['id'], incident.id)
            self.assertEqual((incident.store, incident.store_distributor,
                    incident.shipped_to, incident.lot, incident.quantity,
                    incident.state),
                (n.s1, n.d1, n.d2, lot_d2, 2, 'open'))
            self.assertIn('LOT-ZJ', incident.rec_name)
            self.assertIn(n.d2.rec_name, incident.evidence)
            # the channel managers are told
            notification, = pool.get('res.notification').search([
                    ('user', '=', manager.id)])
            self.assertIn('LOT-ZJ', notification.label)
            self.assertEqual(notification.records, str([incident.id]))
            with acting(manager):
                Incident.confirm([incident])
            self.assertEqual(Incident(incident.id).state, 'confirmed')
            # a lot sold on by D1 to its sub-distributor D3 is D3's too
            order = channel_order(n.d1, n.d3, [(p1, 4)])
            with acting(manager):
                Order.approve([order])
                Order.deliver([order])
            s4 = create_store("Store of D3", n.d3, n.territories.nj)
            with acting(manager):
                Check.dms_shelf_check(n.d3.id, s4.id,
                    [{'code': 'P1', 'lot': 'LOT-JS'}])
            self.assertEqual(Incident.search_count([]), 1)
            # another distributor's store cannot be checked through D1
            with acting(manager), self.assertRaises(AccessError):
                Check.dms_shelf_check(n.d1.id, n.s3.id, ['P1'])
            # goods D1 delivered before its store moved to D2 (the Move
            # Store wizard) are no diversion
            with acting(manager, check_access=False):
                pool.get('party.party').move_stores(
                    [n.s2], n.d2, n.territories.hz, "Reorganisation")
            with acting(manager):
                Check.dms_shelf_check(n.d2.id, n.s2.id,
                    [{'code': 'P1', 'lot': 'LOT-JS'}])
            self.assertEqual(Incident.search_count([]), 1)

    # Replenishment -------------------------------------------------------

    @with_transaction()
    def test_store_replenishment(self):
        "Min/max and velocity suggestions turn into draft store orders"
        pool = Pool()
        Limit = pool.get('distributor.store.limit')
        Config = pool.get('distributor.configuration')
        Order = pool.get('distributor.channel.order')
        Check = pool.get('distributor.store.check')
        with store_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            config = Config(1)
            # S1 received 6 P1 ten days ago and 3 two days ago
            delivered_order(n.d1, n.s1, [(p1, 6)], days_ago=10)
            delivered_order(n.d1, n.s1, [(p1, 3)], days_ago=2)
            Limit.create([{'store': n.s2.id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 24},
                    {'store': n.s1.id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 20}])
            suggestions = {(s['store'], s['product']): s
                for s in Limit.suggestions([n.s1, n.s2])}
            # S2: min/max only, nothing in stock
            s2 = suggestions[(n.s2.id, p1.id)]
            self.assertEqual((s2['stock'], s2['suggested_quantity']),
                (0, 24))
            # S1: the channel's formula on the store's demand (9 units
            # over the window: 6 then 3, so s1 = 9 and s2 = 36 + 9)
            days = config.stock_history_days
            z = 1.6449
            daily, safety, level, target = replenishment_levels(
                9, 45, days, z, config.store_lead_time_days,
                config.stock_review_days, 10, 20)
            s1 = suggestions[(n.s1.id, p1.id)]
            self.assertAlmostEqual(s1['daily_demand'], round(daily, 2))
            self.assertAlmostEqual(s1['reorder_level'], round(level, 2))
            self.assertAlmostEqual(s1['target_quantity'], round(target, 2))
            # without a shelf check: received over the estimate window
            # (14 days) less the demand over it
            stock = 9 - daily * config.store_shelf_life_days
            self.assertAlmostEqual(s1['stock'], round(stock, 2))
            self.assertEqual(s1['suggested_quantity'],
                math.ceil(target - stock))
            # a shelf check gives the stock: 5 on the shelf today
            manager = channel_manager()
            with acting(manager):
                Check.dms_shelf_check(n.d1.id, n.s1.id,
                    [{'code': 'P1', 'quantity': 5}])
            s1, = [s for s in Limit.suggestions([n.s1])
                if s['product'] == p1.id]
            self.assertEqual((s1['stock'], s1['suggested_quantity']),
                (5, 15))
            # a store's demand is what it confirmed: 1 of 4 delivered
            order = delivered_order(n.d1, n.s1, [(p2, 4)], days_ago=1)
            self.assertEqual(Limit._demand([n.s1.id], today()
                    - dt.timedelta(days=days - 1), today())[
                    (n.s1.id, p2.id)], (4, 16))
            # the receive wizard of a channel manager
            with acting(manager, check_access=False):
                Order.receive_orders([order], {order.lines[0].id: 1})
            self.assertEqual(Limit._demand([n.s1.id], today()
                    - dt.timedelta(days=days - 1), today())[
                    (n.s1.id, p2.id)], (1, 1))
            self.assertEqual(Limit._received_since([n.s1.id],
                    {n.s1.id: today() - dt.timedelta(days=5)})[
                    (n.s1.id, p2.id)],
                [(today() - dt.timedelta(days=1), 1)])
            # the replenish wizard of a channel manager
            with acting(manager, check_access=False):
                orders = Limit.create_orders([{'store': n.s2.id,
                            'product': p1.id, 'quantity': 24},
                        {'store': n.s2.id, 'product': p2.id,
                            'quantity': 6}])
            order, = Order.browse(orders)
            self.assertEqual((order.seller, order.buyer, order.state),
                (n.d1, n.s2, 'draft'))
            self.assertEqual(sorted(l.quantity for l in order.lines),
                [6, 24])
            # what is on order counts in the position
            suggestions = {(s['store'], s['product']): s
                for s in Limit.suggestions([n.s2])}
            self.assertNotIn((n.s2.id, p1.id), suggestions)
            with acting(manager):
                ids = Limit.dms_order_store_suggestions(n.d1.id, [
                        {'store': n.s1.id, 'product': p1.id,
                            'quantity': 2}])
            self.assertEqual(Order(ids[0]).buyer, n.s1)
            with acting(manager), self.assertRaises(RecordNotFound):
                Limit.dms_order_store_suggestions(n.d1.id, [
                        {'store': n.s3.id, 'product': p1.id,
                            'quantity': 2}])

    # Coverage ------------------------------------------------------------

    def test_pair_ids(self):
        "The ids of the coverage views give back the two rows they pair"
        for first, second in [(1, 1), (1, 2), (2, 1), (7, 1_000_003),
                (2_000_000_000, 3), (2**31 - 1, 2**31 - 1),
                (123_456_789_012, 98_765)]:
            n = first + second
            value = n * (n + 1) // 2 + second
            self.assertEqual(unpair_id(value), (first, second))

    @with_transaction()
    def test_coverage_plan(self):
        "Progress counts each (store, product) pair once, since the start"
        pool = Pool()
        Plan = pool.get('distributor.coverage.plan')
        Context = pool.get('distributor.coverage.context')
        Progress = pool.get('distributor.coverage.progress')
        Missing = pool.get('distributor.coverage.missing')
        Check = pool.get('distributor.store.check')
        with store_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            # delivered before the plan: does not count
            delivered_order(n.d1, n.s1, [(p2, 1)], days_ago=5)
            plan, = Plan.create([{
                        'name': "Summer drinks",
                        'owner_distributor': n.d1.id,
                        'start_date': today() - dt.timedelta(days=1),
                        'deadline': today() + dt.timedelta(days=30),
                        'territories': [('add', [n.territories.js.id])],
                        'products': [('add', [p1.id, p2.id])],
                        }])
            empty, = Plan.create([{
                        'name': "Nowhere",
                        'start_date': today(),
                        'deadline': today(),
                        'territories': [('add', [n.territories.gz.id])],
                        'products': [('add', [p1.id])],
                        }])
            manager = channel_manager()
            with acting(manager), self.assertRaises(CoverageError):
                Plan.start([empty])
            Plan.write([empty], {'territories': [
                        ('remove', [n.territories.gz.id])]})
            with acting(manager):
                with self.assertRaises(CoverageError):
                    Plan.start([empty])
                Plan.start([plan])
            plan = Plan(plan.id)
            self.assertEqual({s.store for s in plan.stores}, {n.s1, n.s2})
            # a distributor's plan without criteria targets its stores
            own, = Plan.create([{
                        'name': "D2 everywhere", 'owner_distributor': n.d2.id,
                        'start_date': today(), 'deadline': today(),
                        'products': [('add', [p1.id])]}])
            with acting(manager):
                Plan.start([own])
            self.assertEqual([s.store for s in Plan(own.id).stores], [n.s3])
            self.assertEqual((plan.pair_count, plan.covered_count),
                (4, 0))
            delivered_order(n.d1, n.s1, [(p1, 2)])
            delivered_order(n.d1, n.s1, [(p1, 3)])
            plan = Plan(plan.id)
            self.assertEqual((plan.covered_count, plan.progress), (1, 0.25))
            # a shelf check finding P2 at S2 covers that pair
            with acting(manager):
                Check.dms_shelf_check(n.d1.id, n.s2.id, ['P2'])
            plan = Plan(plan.id)
            self.assertEqual(plan.covered_count, 2)
            rows = {(r.product, r.territory): (r.pairs, r.covered)
                for r in Progress.search([('plan', '=', plan.id)])}
            nj, sz = n.territories.nj, n.territories.sz
            self.assertEqual(rows, {(p1, nj): (1, 1), (p1, sz): (1, 0),
                    (p2, nj): (1, 0), (p2, sz): (1, 1)})
            missing = {(m.store, m.product) for m in Missing.search(
                    [('plan', '=', plan.id)])}
            self.assertEqual(missing, {(n.s2, p1), (n.s1, p2)})
            # the plan's own actions put it in the context: same rows
            with Transaction().set_context(coverage_plan=plan.id):
                self.assertEqual({(m.store, m.product) for m in
                        Missing.search([])}, missing)
                self.assertEqual(sum(r.covered for r in Progress.search([])),
                    2)
            # the menu entries' context: the latest running plan
            self.assertEqual(Context.default_coverage_plan(), own.id)
            with Transaction().set_context(coverage_plan=own.id):
                self.assertEqual({(m.store, m.product) for m in
                        Missing.search([])}, {(n.s3, p1)})
            with acting(manager):
                Plan.close([own])
            self.assertEqual(Context.default_coverage_plan(), plan.id)
            with acting(manager):
                progress, = Plan.dms_plan_progress(n.d1.id)
            self.assertEqual((progress['pairs'], progress['covered']), (4, 2))

    # Prices and promotions -------------------------------------------------

    @with_transaction()
    def test_store_prices_within_bounds(self):
        "Store prices stay within the brand's bounds, territory first"
        pool = Pool()
        Bound = pool.get('distributor.store.price.bound')
        Price = pool.get('distributor.store.price')
        with store_network() as n:
            p1 = n.products.p1
            with self.assertRaises(StorePriceError):
                Bound.create([{'product': p1.id, 'guide_price': 10,
                            'min_price': 11, 'max_price': 12}])
            Bound.create([
                    {'product': p1.id, 'guide_price': Decimal(10),
                        'min_price': Decimal(8), 'max_price': Decimal(13)},
                    {'product': p1.id, 'territory': n.territories.js.id,
                        'guide_price': Decimal(10),
                        'min_price': Decimal(9), 'max_price': Decimal(11)},
                    ])
            # D1 (Jiangsu) follows the Jiangsu bound, D2 the general one
            with self.assertRaises(StorePriceError):
                Price.create([{'distributor': n.d1.id, 'product': p1.id,
                            'price': Decimal(12)}])
            Price.create([{'distributor': n.d2.id, 'product': p1.id,
                        'price': Decimal(12)}])
            manager = channel_manager()
            with acting(manager), self.assertRaises(StorePriceError):
                Price.dms_set_prices(n.d1.id, {p1.id: '8.5'})
            self.assertFalse(Price.search([('distributor', '=', n.d1.id),
                        ('price', '=', Decimal('8.5'))]))
            with acting(manager):
                Price.dms_set_prices(n.d1.id, {p1.id: '10.5'})
                listed, = Price.dms_list_prices(n.d1.id)
            self.assertEqual(tuple(Decimal(listed[k]) for k in [
                        'price', 'min_price', 'max_price']),
                (Decimal('10.5'), 9, 11))
            # a store order uses the guide price without an own price
            order = channel_order(n.d2, n.s3, [(p1, 1)])
            self.assertEqual(order.lines[0].unit_price, Decimal(12))
            order = channel_order(n.d1, n.s1, [(p1, 1)])
            self.assertEqual(order.lines[0].unit_price, Decimal('10.5'))
            # tightened bounds refuse the existing price on submission
            with self.assertRaises(StorePriceError):
                Bound.write(Bound.search([('territory', '!=', None)]),
                    {'max_price': Decimal(10)})

    @with_transaction()
    def test_store_promotions(self):
        "Percentage, threshold and gifts applied on orders; policy cap"
        pool = Pool()
        Promotion = pool.get('distributor.store.promotion')
        Order = pool.get('distributor.channel.order')
        with store_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            start, end = today(), today() + dt.timedelta(days=10)
            common = {'distributor': n.d1.id, 'start_date': start,
                'end_date': end}
            pct, threshold, gift, extra, other = Promotion.create([
                    dict(common, name="Cola 10%", kind='percentage',
                        percentage=Decimal('0.1'),
                        products=[('add', [p1.id])]),
                    dict(common, name="100 off 10", kind='threshold',
                        threshold_amount=Decimal(100),
                        amount_off=Decimal(10)),
                    dict(common, name="Buy 10 juice get 1", kind='buy_get',
                        buy_quantity=10, gift_product=p2.id,
                        gift_quantity=1, products=[('add', [p2.id])],
                        stores=[('add', [n.s1.id])]),
                    dict(common, name="Cola 15% more", kind='percentage',
                        percentage=Decimal('0.15'),
                        products=[('add', [p1.id])]),
                    dict(common, name="Juice 10%", kind='percentage',
                        percentage=Decimal('0.1'),
                        products=[('add', [p2.id])]),
                    ])
            manager = channel_manager()
            with acting(manager):
                Promotion.activate([pct, threshold, gift])
            # the stores targeted (all of D1's without a list) are told
            Message = pool.get('distributor.message')
            told = {(m.party, m.origin) for m in Message.search([
                        ('origin', 'like', 'distributor.store.promotion,%')])}
            self.assertEqual(told, {(n.s1, pct), (n.s2, pct),
                    (n.s1, threshold), (n.s2, threshold), (n.s1, gift)})
            # 10% + 10% (threshold) + 15% would exceed the 30% policy
            with acting(manager), self.assertRaises(StorePromotionError):
                Promotion.activate([extra])
            self.assertEqual(Promotion(extra.id).state, 'draft')
            # juice: 10% + 10% + gifts 1/11 stays within 30%
            with acting(manager):
                Promotion.activate([other])
            with self.assertRaises(StorePromotionError):
                Promotion.create([dict(common, name="Bad", kind='threshold',
                            threshold_amount=Decimal(5),
                            amount_off=Decimal(6))]) and \
                    Promotion.activate(Promotion.search(
                            [('name', '=', "Bad")]))
            # the gifts' share is in value: buy 4 cola (10) get 1 juice
            # (20) gives away 20 / 60, beyond the policy, although it is
            # only one unit in five
            costly, = Promotion.create([dict(common, distributor=n.d2.id,
                        name="4 cola get a juice", kind='buy_get',
                        buy_quantity=4, gift_product=p2.id, gift_quantity=1,
                        products=[('add', [p1.id])])])
            self.assertEqual(round(costly.rate, 4), Decimal('0.3333'))
            with acting(manager), self.assertRaises(StorePromotionError):
                Promotion.activate([costly])
            Promotion.write([costly], {'buy_quantity': 8})
            self.assertEqual(Promotion(costly.id).rate, Decimal('0.2'))
            with acting(manager):
                Promotion.activate([costly])
            move_stock(n.d1, p1, 10)
            move_stock(n.d1, p2, 30)
            order = channel_order(n.d1, n.s1, [(p1, 10), (p2, 20)])
            lines = {(l.product, l.promotion_gift): l for l in order.lines}
            cola = lines[(p1, False)]
            juice = lines[(p2, False)]
            self.assertEqual((cola.discount, cola.amount),
                (Decimal('0.1'), Decimal('90.00')))
            self.assertEqual((juice.discount, juice.amount),
                (Decimal('0.1'), Decimal('360.00')))
            free = lines[(p2, True)]
            self.assertEqual((free.quantity, free.amount), (2, 0))
            self.assertEqual(order.discount_amount, Decimal(10))
            self.assertEqual(order.total_amount, Decimal('440.00'))
            # S2 is not targeted by the gift promotion
            order2 = channel_order(n.d1, n.s2, [(p2, 10)])
            self.assertFalse(any(l.promotion_gift for l in order2.lines))
            with acting(manager):
                Order.approve([order])
                Order.deliver([order])
            self.assertEqual(levels(n.d1, p2), {(p2.id, None): 8})
            self.assertEqual(Order(order.id).billed_amount,
                Decimal('440.00'))
            gift = Promotion(gift.id)
            self.assertEqual((gift.usage_orders, gift.usage_gift_quantity,
                    gift.usage_discount), (1, 2, Decimal('40.00')))
            # a rejected order no longer counts (the reject wizard)
            with acting(manager, check_access=False):
                Order.reject_orders([order2], "Duplicate")
            other = Promotion(other.id)
            self.assertEqual(other.usage_orders, 1)
            with acting(manager):
                listed = Promotion.dms_list_promotions(n.s2.id)
            self.assertNotIn(gift.id, [p['id'] for p in listed])

    # Statements ------------------------------------------------------------

    @with_transaction()
    def test_store_statement(self):
        "Opening, deliveries, payments and closing per store and period"
        pool = Pool()
        Payment = pool.get('distributor.store.payment')
        Statement = pool.get('distributor.store.statement')
        with store_network() as n:
            p1 = n.products.p1
            manager = channel_manager()
            delivered_order(n.d1, n.s1, [(p1, 10)], days_ago=40)
            with acting(manager):
                Payment.dms_record_payment(n.d1.id, n.s1.id, '60',
                    date=(today() - dt.timedelta(days=35)).isoformat())
            delivered_order(n.d1, n.s1, [(p1, 5)], days_ago=3)
            with acting(manager):
                Payment.dms_record_payment(n.d1.id, n.s1.id, 30,
                    method='wechat')
                with self.assertRaises(UserError):
                    Payment.dms_record_payment(n.d1.id, n.s1.id, -5)
                with self.assertRaises(AccessError):
                    Payment.dms_record_payment(n.d1.id, n.s3.id, 5)
            start = today() - dt.timedelta(days=10)
            result = Statement.statement(n.d1, n.s1, start, today())
            self.assertEqual(result['opening_balance'], Decimal('40.00'))
            self.assertEqual(result['delivered_amount'], Decimal('50.00'))
            self.assertEqual(result['paid_amount'], Decimal('30.00'))
            self.assertEqual(result['closing_balance'], Decimal('60.00'))
            self.assertEqual([l['balance'] for l in result['lines']],
                [Decimal('90.00'), Decimal('60.00')])
            with Transaction().set_context(start_date=start,
                    end_date=today()):
                row, = Statement.search([('store', '=', n.s1.id)])
                self.assertEqual((row.opening_balance, row.delivered_amount,
                        row.paid_amount, row.closing_balance),
                    (40, 50, 30, 60))
            with acting(manager):
                api = Statement.dms_store_statement(n.s1.id, n.s1.id,
                    start.isoformat(), today().isoformat())
                self.assertEqual(api['closing_balance'], '60.00')
                with self.assertRaises(AccessError):
                    Statement.dms_store_statement(n.d2.id, n.s1.id,
                        start.isoformat(), today().isoformat())
            payment, = Payment.search([('method', '=', 'wechat')])
            with acting(manager):
                with self.assertRaises(AccessError):
                    Payment.write([payment], {'amount': 1})

    # Portal API and access -------------------------------------------------

    @with_transaction()
    def test_portal_api(self):
        "The portal's methods keep to the caller's own records"
        pool = Pool()
        Party = pool.get('party.party')
        Order = pool.get('distributor.channel.order')
        # that each is declared and callable over RPC by the roles is
        # the trust test's (distributor_store/tests/test_trust.py)
        with store_network() as n:
            manager = channel_manager()
            with acting(manager):
                store_id = Party.dms_save_store(n.d1.id, {
                        'name': "New Store",
                        'territory': n.territories.nj.id,
                        'size': 'medium', 'cooperation': 'key_account'})
            self.assertEqual(Party(store_id).store_distributor, n.d1)
            with acting(manager):
                with self.assertRaises(StoreValidationError):
                    Party.dms_save_store(n.d1.id, {
                            'name': "Far Store",
                            'territory': n.territories.gz.id})
                with self.assertRaises(AccessError):
                    Party.dms_save_store(
                        n.d2.id, {'name': "Mine"}, store_id)
                self.assertEqual(sorted(s['name'] for s in
                        Party.dms_list_stores(n.d1.id)),
                    ["New Store", "Store Nanjing", "Store Suzhou"])
                customer_id = Party.dms_save_customer(n.d1.id, {
                        'name': "Mr Li", 'store': n.s1.id})
            delivered_order(n.d1, Party(customer_id),
                [(n.products.p1, 2)])
            with acting(manager):
                customer, = [c for c in Party.dms_list_customers(n.d1.id)
                    if c['id'] == customer_id]
                self.assertEqual((customer['orders'],
                        Decimal(customer['amount'])), (1, 20))
                order_id = Order.dms_create_channel_order(n.s1.id,
                    [{'product': 'P1', 'quantity': 1}], submit=True)
                with self.assertRaises(AccessError):
                    Order.dms_reject_channel_orders(
                        n.d2.id, [order_id], "No")
                Order.dms_cancel_channel_orders(n.s1.id, [order_id],
                    "Ordered twice")
            self.assertEqual(Order(order_id).state, 'cancelled')

    @with_transaction()
    def test_access_per_role(self):
        "Reps reach the stores and orders of their territories only"
        pool = Pool()
        Party = pool.get('party.party')
        Order = pool.get('distributor.channel.order')
        Plan = pool.get('distributor.coverage.plan')
        with store_network() as n:
            p1 = n.products.p1
            channel_order(n.d1, n.s1, [(p1, 1)])
            channel_order(n.d2, n.s3, [(p1, 1)])
            rep_user = sales_rep([n.territories.zj],
                create_employee(n.company, "Rep Zhejiang"))
            accountant = staff_user('accountant')
            manager = channel_manager()
            stores = [('is_store', '=', True)]
            for user, expected_stores, expected_orders in [
                    (rep_user, {n.s3}, {n.d2}),
                    (manager, {n.s1, n.s2, n.s3}, {n.d1, n.d2}),
                    (accountant, {n.s1, n.s2, n.s3}, {n.d1, n.d2})]:
                with self.subTest(user=user.login), acting(user):
                    self.assertEqual(set(Party.search(stores)),
                        expected_stores)
                    self.assertEqual(
                        {o.seller for o in Order.search([])},
                        expected_orders)
            with acting(rep_user):
                with self.assertRaises(AccessError):
                    Order.create([{'seller': n.d2.id, 'buyer': n.s3.id}])
                with self.assertRaises(AccessError):
                    Plan.create([{'name': "Mine", 'start_date': today(),
                                'deadline': today()}])
            with acting(accountant):
                with self.assertRaises(AccessError):
                    Order.write(Order.search([]), {'comment': "x"})
                # read-only: not even a draft payment
                with self.assertRaises(AccessError):
                    pool.get('distributor.store.payment').create([{
                                'distributor': n.d1.id, 'store': n.s1.id,
                                'amount': 10}])
            # a channel manager runs the whole flow from the back office
            move_stock(n.d2, p1, 5)
            with acting(manager, company=n.company.id):
                order, = Order.search([('seller', '=', n.d2.id)])
                Order.approve([order])
                Order.deliver([order])
                Order.dms_receive_channel_order(order.buyer.id, order.id)
                self.assertEqual(Order(order.id).state, 'done')
            # the rep reads the messages of its distributors and stores
            Message = pool.get('distributor.message')
            self.assertEqual({m.party for m in Message.search([])},
                {n.d1, n.d2, n.s3})
            with acting(rep_user):
                self.assertEqual({m.party for m in Message.search([])},
                    {n.d2, n.s3})


del ModuleTestCase
