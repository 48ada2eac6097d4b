# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_employee
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction

from distributor_sale.exceptions import ChannelOrderError
from distributor_sale.tests.tools import order, run_tasks, sale_network
from distributor.exceptions import InputError, RecordNotFound
from distributor.tests.tools import (
    acting, channel_manager, create_distributor, sales_rep, staff_user,
    with_transaction)
from distributor_stock.exceptions import (
    ChannelStockError, CountError, ScanError, TransferError)
from distributor_stock.scan import ean13_valid

from .tools import brand_stock, move_stock, received_order


def levels(party, product=None):
    "{(product id, lot id): quantity} of the distributor"
    Level = Pool().get('distributor.stock.level')
    return {(p, l): q for (_, p, l), q in Level.levels(
                [party], [product] if product else None).items()}


def create_lot(product, number, expiration_days=None):
    pool = Pool()
    Lot = pool.get('stock.lot')
    Date = pool.get('ir.date')
    lot, = Lot.create([{
                'product': product.id,
                'number': number,
                'expiration_date': (Date.today()
                    + dt.timedelta(days=expiration_days)
                    if expiration_days is not None else None),
                }])
    return lot


class DistributorStockTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Distributor Stock module"
    module = 'distributor_stock'
    extras = []

    @with_transaction()
    def test_locations_on_activation(self):
        "Activation gives the distributor its warehouse tree"
        pool = Pool()
        Location = pool.get('stock.location')
        with sale_network() as n:
            warehouse = n.d1.distributor_warehouse
            self.assertEqual(warehouse.type, 'warehouse')
            self.assertEqual(warehouse.distributor, n.d1)
            self.assertEqual(n.d1.distributor_storage.type, 'storage')
            self.assertEqual(
                n.d1.distributor_storage.parent, warehouse)
            self.assertEqual(n.d1.customer_location, n.d1.distributor_transit)
            self.assertEqual(
                warehouse.lost_found_location.type, 'lost_found')
            self.assertEqual(n.d1.distributor_transit.parent.code,
                'CHANNEL-IN')
            self.assertEqual(warehouse.parent.code, 'CHANNEL')
            # the brand's own warehouse stays the default one
            default = Location(Location.get_default_warehouse())
            self.assertIsNone(default.distributor)
            self.assertEqual(default.code, 'WH')
            self.assertNotEqual(n.d1.distributor_warehouse,
                n.d2.distributor_warehouse)

    @with_transaction()
    def test_receipt_enters_distributor_stock(self):
        "Received quantities enter the stock; the shortfall is written off"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        Level = pool.get('distributor.stock.level')
        Territory = pool.get('distributor.territory')
        Tier = pool.get('distributor.tier')
        Category = pool.get('product.category')
        Product = pool.get('product.product')
        with sale_network() as n:
            manager = channel_manager()
            p1 = n.products.p1
            sale = order(n.d1, [(p1, 10)])
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            run_tasks()
            # approved, not shipped: nothing in the distributor's stock
            self.assertEqual(levels(n.d1), {})
            from distributor_sale.tests.tools import ship
            sale = ship(Sale(sale.id))
            # shipped: waiting in the transit, still not in stock
            self.assertEqual(levels(n.d1), {})
            self.assertEqual(Level.transit_levels([n.d1]),
                {(n.d1.id, p1.id): 10})
            line, = sale.lines
            with acting(manager):
                Sale.dms_confirm_receipt([sale], {line.id: 8})
            self.assertEqual(levels(n.d1), {(p1.id, None): 8})
            rows = Level.search([('distributor', '=', n.d1.id)])
            self.assertEqual([(r.product, r.quantity) for r in rows],
                [(p1, 8)])
            self.assertEqual(rows[0].tier, n.tiers[1])
            self.assertEqual(Level.transit_levels([n.d1]),
                {(n.d1.id, p1.id): 2})
            discrepancy, = Discrepancy.search([])
            # the resolve wizard of a channel manager (its states run
            # once Tryton checked who may run it)
            with acting(manager, check_access=False):
                Discrepancy.resolve_discrepancies([discrepancy], 'credit')
            self.assertEqual(Level.transit_levels([n.d1]), {})
            lost = n.d1.distributor_warehouse.lost_found_location
            with Transaction().set_context(locations=[lost.id]):
                self.assertEqual(Product(p1.id).quantity, 2)
            # totals by territory (sub-territories included), tier and
            # category
            east = n.territories.js.parent
            self.assertEqual(Territory(east.id).channel_stock, 8)
            self.assertEqual(Territory(n.territories.zj.id).channel_stock, 0)
            self.assertEqual(Tier(n.tiers[1].id).channel_stock, 8)
            self.assertEqual(Tier(n.tiers[0].id).channel_stock, 0)
            self.assertEqual(Category(n.products.drinks.id).channel_stock, 8)
            self.assertEqual(Category(n.products.snacks.id).channel_stock, 0)
            with Transaction().set_context(product=n.products.p2.id):
                self.assertEqual(Territory(east.id).channel_stock, 0)

    @with_transaction()
    def test_lots_carried_to_distributor(self):
        "The lots the brand ships are the lots the distributor holds"
        with sale_network() as n:
            p1 = n.products.p1
            lot = create_lot(p1, 'L-001', expiration_days=200)
            brand_stock(p1, 50, lot)
            received_order(n.d1, [(p1, 10)], lots={p1: lot})
            self.assertEqual(levels(n.d1), {(p1.id, lot.id): 10})

    @with_transaction()
    def test_suggestions_authorized_products_only(self):
        """Replenishment suggests only authorized products: a distributor
        without authorized categories is suggested nothing"""
        pool = Pool()
        Replenishment = pool.get('distributor.stock.alert')
        Limit = pool.get('distributor.stock.limit')
        Party = pool.get('party.party')
        with sale_network() as n:
            p1, p3 = n.products.p1, n.products.p3
            Limit.create([{'tier': n.tiers[1].id, 'product': p.id,
                        'min_quantity': 20, 'max_quantity': 50}
                    for p in [p1, p3]])
            move_stock(n.d1, p1, 3)
            move_stock(n.d1, p3, 3)

            def suggested():
                return {(s['party'], s['product'])
                    for s in Replenishment.compute_suggestions([n.d1])
                    if s['kind'] == 'low'}
            # drinks are authorized, snacks are not
            self.assertEqual(suggested(), {(n.d1.id, p1.id)})
            Party.write([n.d1], {'authorized_categories': [
                        ('remove', [n.products.drinks.id])]})
            self.assertEqual(suggested(), set())

    @with_transaction()
    def test_upstream_replenishes_downstream(self):
        """The alerts of a distributor with an upstream never become brand
        orders (without channel orders, they cannot be ordered)"""
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        Limit = pool.get('distributor.stock.limit')
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            p1 = n.products.p1
            county = create_distributor('C1', n.tiers[2],
                [n.territories.nj], upstream=n.d1,
                authorized_categories=[('add', [n.products.drinks.id])])
            Limit.create([{'party': county.id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 20}])
            Alert.refresh([county])
            alert, = Alert.search([('party', '=', county.id)])
            sales = Sale.search([], count=True)
            # the rep of the county's territory
            with acting(sales_rep([n.territories.js])), \
                    self.assertRaisesRegex(ChannelStockError, 'upstream'):
                Alert.dms_order_alerts(county.id, [alert.id])
            self.assertEqual(Sale.search([], count=True), sales)
            self.assertEqual(Alert(alert.id).state, 'open')

    @with_transaction()
    def test_alerts_min_max_expiry_and_order(self):
        "Below min, above max and near expiry raise alerts; an order "
        "comes from the suggestions"
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        Limit = pool.get('distributor.stock.limit')
        Sale = pool.get('sale.sale')
        Message = pool.get('distributor.message')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            Limit.create([
                    {'tier': n.tiers[1].id, 'product': p1.id,
                        'min_quantity': 20, 'max_quantity': 50},
                    {'tier': n.tiers[1].id, 'product': p2.id,
                        'min_quantity': 5, 'max_quantity': 14},
                    # snacks are not authorized for D1 nor D2: no alert
                    {'tier': n.tiers[1].id, 'product': n.products.p3.id,
                        'min_quantity': 5, 'max_quantity': 10},
                    # D2's own limit overrides the tier's
                    {'party': n.d2.id, 'product': p1.id,
                        'min_quantity': 0, 'max_quantity': 5},
                    ])
            lot = create_lot(p2, 'JUICE-1', expiration_days=10)
            move_stock(n.d1, p1, 8)
            move_stock(n.d1, p2, 3, lot=lot)
            move_stock(n.d2, p1, 12)
            move_stock(n.d2, p2, 30)
            rep = create_employee(n.company, "Rep Jiangsu")
            rep_user = sales_rep(employee=rep)
            n.d1.sales_rep = rep
            n.d1.save()
            created = Alert.refresh()
            notification, = pool.get('res.notification').search([
                    ('user', '=', rep_user.id)])
            self.assertIn('3', notification.label)
            got = {(a.party, a.product, a.kind): a.suggested_quantity
                for a in created}
            self.assertEqual(got, {
                    # 50 - 8
                    (n.d1, p1, 'low'): 42,
                    # 14 - 3 = 11, in packs of 6
                    (n.d1, p2, 'low'): 12,
                    (n.d1, p2, 'expiry'): 3,
                    (n.d2, p1, 'over'): 7,
                    (n.d2, p2, 'over'): 16,
                    })
            self.assertTrue(Message.search([('party', '=', n.d1.id),
                        ('subject', 'like', '%2 below minimum%')]))
            # a second refresh changes nothing
            self.assertEqual(Alert.refresh(), [])
            self.assertEqual(Alert.search([], count=True), 5)

            low = Alert.search([('party', '=', n.d1.id),
                    ('kind', '=', 'low')])
            manager = channel_manager()
            # the create orders wizard of a channel manager
            with acting(manager, check_access=False):
                sale, = Alert.create_replenishment_orders(low)
            sale = Sale(sale.id)
            self.assertEqual(sale.party, n.d1)
            self.assertEqual(sale.channel_state, 'draft')
            self.assertEqual(
                sorted((l.product.code, l.quantity) for l in sale.lines),
                [('P1', 42), ('P2', 12)])
            self.assertEqual({a.state for a in Alert.browse(low)},
                {'ordered'})
            # the order counts as on order: no new low alert
            with acting(manager):
                Sale.dms_submit([sale])
            Alert.refresh([n.d1])
            self.assertFalse(Alert.search([('party', '=', n.d1.id),
                        ('kind', '=', 'low'), ('state', '=', 'open')]))
            # an overstock alert cannot become an order
            over = Alert.search([('kind', '=', 'over')], limit=1)
            with acting(manager, check_access=False), \
                    self.assertRaises(ChannelStockError):
                Alert.create_replenishment_orders(over)
            # the stock leaves: the overstock alert resolves itself
            move_stock(n.d2, p1, 10, sellout=True)
            Alert.refresh([n.d2])
            alerts = {a.kind: a for a in Alert.search([
                        ('party', '=', n.d2.id), ('product', '=', p1.id)])}
            self.assertEqual(alerts['over'].state, 'resolved')
            # and the sell-out now says 2 left is too few: d = 10 / 30
            self.assertEqual(alerts['low'].state, 'open')
            self.assertEqual(alerts['low'].daily_sellout, 0.33)
            self.assertGreater(alerts['low'].reorder_level, 2)

    @with_transaction()
    def test_velocity_suggestion(self):
        "With sell-out history the reorder point follows the velocity"
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        Turnover = pool.get('distributor.stock.turnover')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            move_stock(n.d1, p1, 200, days_ago=40)
            move_stock(n.d1, p2, 100, days_ago=40)
            for day in range(30):
                move_stock(n.d1, p1, 6, days_ago=day, sellout=True)
                # P2 sells 10 every other day: variable
                if day % 2:
                    move_stock(n.d1, p2, 10 if day < 20 else 1,
                        days_ago=day, sellout=True)
            suggestions = {(s['product'], s['kind']): s
                for s in Alert.compute_suggestions([n.d1])}
            s1 = suggestions[(p1.id, 'low')]
            # stock 200 - 180 = 20; d = 6, s = 0, L = 7, R = 7
            self.assertEqual(s1['quantity'], 20)
            self.assertAlmostEqual(s1['daily_sellout'], 6)
            self.assertAlmostEqual(s1['safety_stock'], 0)
            self.assertAlmostEqual(s1['reorder_level'], 42)
            # the figures are those of the formula in the docstring
            self.assertIn('reorder point = d × L + safety stock',
                Alert.compute_suggestions.__doc__)
            self.assertAlmostEqual(s1['target_quantity'], 84)
            self.assertEqual(s1['suggested_quantity'], 64)
            s2 = suggestions[(p2.id, 'low')]
            self.assertGreater(s2['safety_stock'], 0)
            # pack multiples of 6
            self.assertEqual(s2['suggested_quantity'] % 6, 0)
            self.assertGreaterEqual(
                s2['quantity'] + s2['suggested_quantity'],
                s2['target_quantity'])

            row, = Turnover.search([('distributor', '=', n.d1.id),
                    ('product', '=', p1.id)])
            self.assertAlmostEqual(row.sellout, 180)
            self.assertAlmostEqual(row.daily_sellout, 6)
            self.assertAlmostEqual(row.days_of_cover, 20 / 6, places=3)
            # opening 200, closing 20: average 110
            self.assertAlmostEqual(row.turnover, 180 / 110, places=3)

    @with_transaction()
    def test_transfer_between_distributors(self):
        "Request, approvals on both sides, shipment, partial receipt, "
        "discrepancy returned to the giver"
        pool = Pool()
        Transfer = pool.get('distributor.stock.transfer')
        Line = pool.get('distributor.stock.transfer.line')
        Message = pool.get('distributor.message')
        with sale_network() as n:
            p1 = n.products.p1
            old = create_lot(p1, 'OLD', expiration_days=30)
            new = create_lot(p1, 'NEW', expiration_days=300)
            move_stock(n.d1, p1, 5, lot=new)
            move_stock(n.d1, p1, 4, lot=old)
            manager = channel_manager()
            with acting(manager):
                transfer_id = Transfer.dms_create_transfer(
                    n.d1.id, n.d2.id, [{'product': 'P1', 'quantity': 6}])
            transfer = Transfer(transfer_id)
            self.assertEqual(transfer.state, 'requested')
            self.assertTrue(transfer.number.startswith('TR'))
            with acting(manager):
                Transfer.approve([transfer])
            self.assertEqual(Transfer(transfer.id).state, 'requested')
            with acting(manager):
                with self.assertRaises(AccessError):
                    Transfer.giver_approve([transfer], n.d2.id)
                Transfer.giver_approve([transfer], n.d1.id)
            transfer = Transfer(transfer.id)
            self.assertEqual(transfer.state, 'approved')
            with acting(manager):
                Transfer.ship([transfer])
            # expired first out: the 4 of OLD, then 2 of NEW
            self.assertEqual(levels(n.d1), {(p1.id, new.id): 3})
            self.assertEqual(levels(n.d2), {})
            line, = Transfer(transfer.id).lines
            self.assertEqual(line.shipped_quantity, 6)
            with acting(manager):
                with self.assertRaises(TransferError):
                    Transfer.receive_transfers([transfer], {line.id: 7})
                Transfer.receive_transfers([transfer], {line.id: 5})
            transfer = Transfer(transfer.id)
            self.assertEqual(transfer.state, 'received')
            self.assertEqual(levels(n.d2),
                {(p1.id, old.id): 4, (p1.id, new.id): 1})
            line = Line(line.id)
            self.assertEqual(line.missing_quantity, 1)
            # the resolve wizard of a channel manager
            with acting(manager, check_access=False):
                Line.resolve_discrepancies([line], 'return')
            self.assertEqual(Transfer(transfer.id).state, 'done')
            self.assertEqual(levels(n.d1), {(p1.id, new.id): 4})
            self.assertTrue(Message.search([('party', '=', n.d2.id),
                        ('subject', 'like', '%shipped%')]))

    @with_transaction()
    def test_transfer_received_by_scans(self):
        "The receiver scans what arrived: the shortfall opens a discrepancy"
        pool = Pool()
        Transfer = pool.get('distributor.stock.transfer')
        Line = pool.get('distributor.stock.transfer.line')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            lot = create_lot(p2, 'J-1', expiration_days=90)
            move_stock(n.d1, p1, 10)
            move_stock(n.d1, p2, 12, lot=lot)
            manager = channel_manager()
            with acting(manager):
                transfer = Transfer.dms_create_transfer(n.d1.id, n.d2.id, [
                        {'product': 'P1', 'quantity': 4},
                        {'product': 'P2', 'lot': 'J-1', 'quantity': 6}])
                Transfer.approve([Transfer(transfer)])
                Transfer.giver_approve([transfer], n.d1.id)
                Transfer.ship([Transfer(transfer)])
                # a product not on the transfer is refused, nothing
                # received
                with self.assertRaises(ScanError):
                    Transfer.receive_transfers([transfer], scans=['P3'])
            transfer = Transfer(transfer)
            self.assertEqual(transfer.state, 'shipped')
            with acting(manager):
                # only the receiver confirms
                with self.assertRaises(AccessError):
                    Transfer.receive_transfers(
                        [transfer], scans=['P1'], party=n.d1.id)
                Transfer.receive_transfers([transfer], scans=[
                        {'code': 'P1', 'quantity': 4}, 'J-1', 'J-1', 'J-1'],
                    party=n.d2.id)
            self.assertEqual(Transfer(transfer.id).state, 'received')
            self.assertEqual(levels(n.d2),
                {(p1.id, None): 4, (p2.id, lot.id): 3})
            line, = Line.search([('discrepancy_state', '=', 'open')])
            self.assertEqual((line.product, line.missing_quantity), (p2, 3))
            with acting(manager, check_access=False):
                Line.resolve_discrepancies([line], 'write_off', "Broken")
            self.assertEqual(Transfer(transfer.id).state, 'done')
            lost = n.d2.distributor_warehouse.lost_found_location
            with Transaction().set_context(locations=[lost.id]):
                self.assertEqual(pool.get('product.product')(p2.id).quantity,
                    3)

    @with_transaction()
    def test_transfer_refusals(self):
        "Short stock, frozen receiver, bad quantities, lots of another "
        "product: refused and nothing moves"
        pool = Pool()
        Transfer = pool.get('distributor.stock.transfer')
        Party = pool.get('party.party')
        Move = pool.get('stock.move')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            move_stock(n.d1, p1, 5)
            moves = Move.search([], count=True)
            lot = create_lot(p2, 'J-9')
            manager = channel_manager()
            with acting(manager):
                for quantity in [-1, 0, 'abc', None, float('nan'), 1e18]:
                    with self.subTest(quantity=quantity):
                        with self.assertRaises(InputError):
                            Transfer.dms_create_transfer(n.d1.id, n.d2.id,
                                [{'product': p1.id, 'quantity': quantity}])
                with self.assertRaises(ScanError):
                    Transfer.dms_create_transfer(n.d1.id, n.d2.id,
                        [{'product': p1.id, 'lot': 'J-9', 'quantity': 1}])
                del lot
                with self.assertRaises(ScanError):
                    Transfer.dms_create_transfer(n.d1.id, n.d2.id,
                        [{'product': 'NOPE', 'quantity': 1}])
                # snacks are not authorized for D2
                with self.assertRaises(TransferError):
                    Transfer.dms_create_transfer(n.d1.id, n.d2.id,
                        [{'product': n.products.p3.id, 'quantity': 1}])
                transfer = Transfer.dms_create_transfer(
                    n.d1.id, None, [{'product': p1.id, 'quantity': 6}])
                Transfer.approve([Transfer(transfer)])
                Transfer.giver_approve([transfer], n.d1.id)
                with self.assertRaises(TransferError):
                    Transfer.ship([Transfer(transfer)])
            transfer = Transfer(transfer)
            self.assertEqual(transfer.state, 'approved')
            self.assertEqual(levels(n.d1), {(p1.id, None): 5})
            self.assertEqual(Move.search([], count=True), moves)
            # a frozen distributor receives nothing
            Party.change_distributor_state([n.d2], 'frozen', reason="Debt")
            with acting(manager):
                with self.assertRaises(TransferError):
                    Transfer.dms_create_transfer(n.d1.id, n.d2.id,
                        [{'product': p1.id, 'quantity': 1}])
                # requested transfers are locked for clients
                with self.assertRaises(AccessError):
                    Transfer.write([transfer], {'date': dt.date(2020, 1, 1)})

    @with_transaction()
    def test_transfer_from_brand(self):
        "The brand's warehouse gives stock to a distributor"
        pool = Pool()
        Transfer = pool.get('distributor.stock.transfer')
        with sale_network() as n:
            p1 = n.products.p1
            brand_stock(p1, 20)
            manager = channel_manager()
            with acting(manager):
                transfer = Transfer.dms_create_transfer(
                    None, n.d1.id, [{'product': p1.id, 'quantity': 12}])
                Transfer.approve([Transfer(transfer)])
            transfer = Transfer(transfer)
            # no giving distributor: the brand's approval is enough
            self.assertEqual(transfer.state, 'approved')
            with acting(manager):
                Transfer.ship([transfer])
                Transfer.receive_transfers([transfer])
            self.assertEqual(Transfer(transfer.id).state, 'done')
            self.assertEqual(levels(n.d1), {(p1.id, None): 12})

    @with_transaction()
    def test_count_with_variance(self):
        "A count: book quantities, scans, variance report, reasons"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Line = pool.get('stock.inventory.line')
        Variance = pool.get('distributor.stock.count.variance')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            move_stock(n.d1, p1, 10)
            move_stock(n.d1, p2, 6)
            pool.get('product.product').write([p1], {
                    'cost_price': Decimal('6.5')})
            manager = channel_manager()
            with acting(manager):
                inventory = Inventory.dms_start_count(n.d1.id)
            inventory = Inventory(inventory)
            self.assertEqual(inventory.distributor, n.d1)
            self.assertEqual(
                sorted((l.product.code, l.expected_quantity)
                    for l in inventory.lines),
                [('P1', 10), ('P2', 6)])
            with acting(manager):
                Inventory.dms_count_scans(inventory.id,
                    ['P1'] * 3 + [{'code': 'P1', 'quantity': 4}]
                    + [{'code': 'P2', 'quantity': 6}])
            inventory = Inventory(inventory.id)
            self.assertEqual(inventory.variance_quantity, -3)
            self.assertEqual(inventory.variance_lines, 1)
            with acting(manager):
                report = Inventory.dms_variance_report(inventory.id)
            self.assertEqual([(r['product_name'], r['variance_quantity'])
                    for r in report], [('[P1] Cola', -3)])
            row, = Variance.search([('inventory', '=', inventory.id)])
            self.assertEqual(row.variance_quantity, -3)
            self.assertEqual(row.variance_value, Decimal('-19.5'))
            self.assertEqual(inventory.variance_value, Decimal('-19.50'))
            line, = [l for l in inventory.lines if l.variance_quantity]
            with acting(manager):
                with self.assertRaises(CountError):
                    Inventory.confirm([inventory])
                Line.write([line], {'variance_reason': 'damaged'})
                # the manager confirms: the alerts follow, whatever the
                # manager reads of stock periods
                Inventory.confirm([inventory])
            self.assertEqual(levels(n.d1),
                {(p1.id, None): 7, (p2.id, None): 6})
            # a count of another distributor's stock is refused
            with acting(manager):
                other = Inventory.dms_start_count(n.d2.id)
                with self.assertRaises(AccessError):
                    Inventory.dms_count_scans(other, ['P1'], party=n.d1.id)
                with self.assertRaises(ScanError):
                    Inventory.dms_count_scans(other, ['UNKNOWN'])

    @with_transaction()
    def test_scanning(self):
        "EAN-13, product codes and lot numbers resolve; bad codes are "
        "refused with their reason"
        pool = Pool()
        Product = pool.get('product.product')
        Identifier = pool.get('product.identifier')
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            p1, p2 = n.products.p1, n.products.p2
            Identifier.create([{'product': p1.id, 'type': 'ean',
                        'code': '6901234567892'}])
            self.assertTrue(ean13_valid('6901234567892'))
            self.assertFalse(ean13_valid('6901234567893'))
            lot = create_lot(p2, 'LOT-P2')
            # the rep of the distributor scans
            rep = sales_rep([n.territories.js])
            with acting(rep):
                self.assertEqual(Product.dms_resolve_scans([
                            '6901234567892', {'code': 'P2', 'quantity': 2},
                            'LOT-P2']), [
                        {'product': p1.id, 'lot': None, 'quantity': 1},
                        {'product': p2.id, 'lot': None, 'quantity': 2},
                        {'product': p2.id, 'lot': lot.id, 'quantity': 1},
                        ])
                for bad in ['6901234567893', 'NOPE', '',
                        {'code': 'P1', 'lot': 'LOT-P2'}]:
                    with self.subTest(scan=bad):
                        with self.assertRaises(ScanError):
                            Product.dms_resolve_scans([bad])
                # what is not a scan at all is refused by the input checks
                for bad in [42, {'code': 'P1', 'quantity': -2},
                        {'code': 'P1', 'quantity': 'x'},
                        {'code': 'P1', 'colour': 'red'},
                        {'code': 'P1\x00'}]:
                    with self.subTest(scan=bad):
                        with self.assertRaises((InputError, ScanError)):
                            Product.dms_resolve_scans([bad])
                with self.assertRaises(InputError):
                    Product.dms_resolve_scans('P1')

            # a receipt by scans
            sale = order(n.d1, [(p1, 10)], rep)
            with acting(rep):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            from distributor_sale.tests.tools import ship
            sale = ship(Sale(sale.id))
            with acting(rep):
                with self.assertRaises(ScanError):
                    Sale.dms_receive_scans(sale.id, ['P2'])
                Sale.dms_receive_scans(sale.id,
                    [{'code': '6901234567892', 'quantity': 9}])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'received')
            self.assertEqual(levels(n.d1), {(p1.id, None): 9})

    @with_transaction()
    def test_return_needs_stock(self):
        "A return is checked against the distributor's stock and leaves "
        "it on approval"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Level = pool.get('distributor.stock.level')
        with sale_network() as n:
            p1 = n.products.p1
            move_stock(n.d1, p1, 3)
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 5)], kind='return')
            with acting(manager), self.assertRaises(ChannelOrderError):
                Sale.dms_submit([sale])
            self.assertIn('✘', Sale(sale.id).rule_checks)
            move_stock(n.d1, p1, 2)
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            self.assertEqual(levels(n.d1), {})
            self.assertEqual(Level.transit_levels([n.d1]),
                {(n.d1.id, p1.id): 5})

    @with_transaction()
    def test_portal_api(self):
        "The methods the portal calls keep to the caller's own records"
        pool = Pool()
        Level = pool.get('distributor.stock.level')
        Alert = pool.get('distributor.stock.alert')
        Limit = pool.get('distributor.stock.limit')
        Sale = pool.get('sale.sale')
        # that each is declared and callable over RPC by the roles is
        # the trust test's (distributor_store/tests/test_trust.py)
        with sale_network() as n:
            p1 = n.products.p1
            lot = create_lot(p1, 'L-9', expiration_days=20)
            move_stock(n.d1, p1, 4, lot=lot)
            manager = channel_manager()
            with acting(manager):
                levels_, = Level.dms_list_levels(n.d1.id)
                self.assertEqual((levels_['product_code'],
                        levels_['lot_number'], levels_['quantity']),
                    ('P1', 'L-9', 4))
                self.assertEqual(Level.dms_list_levels(n.d2.id), [])
            Limit.create([{'tier': n.tiers[1].id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 20}])
            Alert.refresh()
            with acting(manager):
                alerts = Alert.dms_list_alerts(n.d1.id)
                self.assertEqual(sorted(a['kind'] for a in alerts),
                    ['expiry', 'low'])
                low, = [a['id'] for a in alerts if a['kind'] == 'low']
                with self.assertRaises(RecordNotFound):
                    Alert.dms_order_alerts(n.d2.id, [low])
                result = Alert.dms_order_alerts(n.d1.id, [low])
            self.assertEqual(result['model'], 'sale.sale')
            sale = Sale(result['id'])
            self.assertEqual((sale.party, sale.lines[0].quantity),
                (n.d1, 16))

    @with_transaction()
    def test_access_per_role(self):
        "Reps see the stock of their territories only; accountants read"
        pool = Pool()
        Level = pool.get('distributor.stock.level')
        Alert = pool.get('distributor.stock.alert')
        Transfer = pool.get('distributor.stock.transfer')
        Inventory = pool.get('stock.inventory')
        with sale_network() as n:
            p1 = n.products.p1
            move_stock(n.d1, p1, 5)
            move_stock(n.d2, p1, 7)
            rep_user = sales_rep([n.territories.js])
            accountant = staff_user('accountant')
            manager = channel_manager()
            for user, expected in [(rep_user, {n.d1}),
                    (manager, {n.d1, n.d2}), (accountant, {n.d1, n.d2})]:
                with self.subTest(user=user.login), acting(user):
                    rows = Level.search([])
                    self.assertEqual({r.distributor for r in rows},
                        expected)
            with acting(rep_user):
                # reps follow the counts, the distributors make them
                with self.assertRaises(AccessError):
                    Inventory.dms_start_count(n.d1.id)
            with acting(manager):
                self.assertTrue(Inventory.dms_start_count(n.d1.id))
            with acting(accountant):
                with self.assertRaises(AccessError):
                    Transfer.create([{'to_party': n.d1.id}])
                with self.assertRaises(AccessError):
                    Alert.refresh()
                    Alert.write(Alert.search([]), {'suggested_quantity': 1})


del ModuleTestCase
