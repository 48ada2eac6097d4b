# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_employee)
from trytond.pool import Pool
from trytond.tests.test_tryton import USER, ModuleTestCase

from distributor.exceptions import (
    DocumentLockedError, EntryPointRefused, InputError, RecordNotFound)
from distributor.tests.tools import (
    acting, channel_manager, create_distributor, make_user, sales_rep,
    staff_user, with_transaction)
from distributor_sale.exceptions import (
    ChannelOrderError, OrderStateError, ReceiptError)

from .tools import add_deposit, order, run_tasks, sale_network, ship


class DistributorSaleTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Distributor Sale module"
    module = 'distributor_sale'
    extras = []

    # Regular flow ------------------------------------------------------

    @with_transaction()
    def test_regular_order_end_to_end(self):
        "Regular order: submit, approve, ship, receive in full, done"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Notification = pool.get('res.notification')
        Message = pool.get('distributor.message')
        with sale_network() as n:
            rep = create_employee(n.company, "Rep East")
            rep_user = sales_rep([n.territories.js], rep)
            n.d1.sales_rep = rep
            n.d1.save()
            sale = order(n.d1, [(n.products.p1, 10)], rep_user,
                reference='PO-1')
            self.assertEqual(sale.channel_state, 'draft')
            self.assertTrue(sale.distributor_order)
            self.assertEqual(sale.price_list, n.price_list)
            line, = sale.lines
            # tier price list: 10 * 0.9
            self.assertEqual(line.unit_price, Decimal('9.0000'))
            self.assertEqual(sale.untaxed_amount, Decimal('90.00'))
            self.assertIn('✔', sale.rule_checks)
            self.assertNotIn('✘', sale.rule_checks)

            with acting(rep_user):
                Sale.dms_submit([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'submitted')
            self.assertEqual(sale.state, 'draft')
            self.assertEqual(sale.distributor_tier, n.tiers[1])
            self.assertEqual(sale.order_territory, n.territories.nj)
            self.assertEqual(sale.invoice_method, 'fulfillment')
            self.assertTrue(sale.submitted_at)
            notified = {x.user for x in Notification.search([
                        ('records', '=', str([sale.id]))])}
            self.assertIn(rep_user, notified)
            self.assertIn(pool.get('res.user')(USER), notified)

            with acting(rep_user):
                Sale.dms_approve([sale])
            run_tasks()
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'approved')
            self.assertEqual(sale.state, 'processing')
            self.assertEqual(len(sale.shipments), 1)
            self.assertTrue(sale.approved_by)
            self.assertEqual(
                [m.subject for m in Message.search(
                        [('party', '=', n.d1.id)])],
                [f"Your order {sale.rec_name} is approved."])

            sale = ship(sale)
            self.assertEqual(sale.channel_state, 'shipped')
            self.assertEqual(sale.shipment_state, 'sent')
            self.assertEqual(len(sale.invoices), 1)

            with acting(rep_user):
                Sale.dms_confirm_receipt([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'done')
            self.assertEqual(sale.lines[0].received_quantity, 10)
            self.assertFalse(sale.discrepancies)
            self.assertEqual(
                [(l.from_state, l.to_state)
                    for l in reversed(sale.channel_logs)],
                [('draft', 'submitted'), ('submitted', 'approved'),
                    ('approved', 'shipped'), ('shipped', 'received'),
                    ('received', 'done')])

    @with_transaction()
    def test_partial_receipt_discrepancy_credit(self):
        "A shortfall opens a discrepancy; a credit note resolves it"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        Message = pool.get('distributor.message')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10), (n.products.p2, 6)])
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            sale = ship(sale)
            line1, line2 = sale.lines
            self.assertEqual(line2.shipped_quantity, 6)

            with acting(manager):
                with self.assertRaises(ReceiptError):
                    Sale.dms_confirm_receipt([sale], {line2.id: 7})
                with self.assertRaises(InputError):
                    Sale.dms_confirm_receipt([sale], {line2.id: -1})
                with self.assertRaises(InputError):
                    Sale.dms_confirm_receipt([sale], {line2.id: 'six'})
                with self.assertRaises(InputError):
                    Sale.dms_confirm_receipt(
                        [sale], {line2.id: float('nan')})
            self.assertEqual(Sale(sale.id).channel_state, 'shipped')

            with acting(manager):
                Sale.dms_confirm_receipt(
                    [sale], {line2.id: 4}, note="Two bottles broken")
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'received')
            discrepancy, = sale.discrepancies
            self.assertEqual(discrepancy.state, 'open')
            self.assertEqual(discrepancy.missing_quantity, 2)
            self.assertEqual(discrepancy.missing_amount, Decimal('36.00'))
            self.assertEqual(discrepancy.line, line2)

            # the resolve wizard of a channel manager (its states run
            # once Tryton checked who may run it)
            with acting(manager, check_access=False):
                Discrepancy.resolve_discrepancies(
                    [discrepancy], 'credit', "Carrier damage")
            discrepancy = Discrepancy(discrepancy.id)
            self.assertEqual(discrepancy.state, 'resolved')
            credit = discrepancy.credit_note
            self.assertEqual(credit.state, 'draft')
            self.assertEqual(credit.total_amount, Decimal('-36.00'))
            self.assertEqual(credit.party, n.d1)
            self.assertEqual(Sale(sale.id).channel_state, 'done')
            self.assertIn("credited", Message.search(
                    [('party', '=', n.d1.id)])[0].subject)
            with acting(manager, check_access=False), \
                    self.assertRaises(OrderStateError):
                Discrepancy.resolve_discrepancies([discrepancy], 'credit')

    @with_transaction()
    def test_discrepancy_reship(self):
        "A reshipment resolution makes a new order for the missing quantity"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            sale = ship(sale)
            with acting(manager):
                Sale.dms_confirm_receipt([sale], {sale.lines[0].id: 7})
            discrepancy, = Sale(sale.id).discrepancies
            # the resolve wizard of a channel manager
            with acting(manager, check_access=False):
                Discrepancy.resolve_discrepancies([discrepancy], 'reship')
            reship = Discrepancy(discrepancy.id).reship_order
            self.assertEqual(reship.channel_state, 'draft')
            self.assertEqual(reship.party, n.d1)
            self.assertEqual(reship.lines[0].quantity, 3)
            self.assertEqual(reship.lines[0].unit_price, Decimal('9.0000'))

    # Rejection and resubmission -----------------------------------------

    @with_transaction()
    def test_reject_and_resubmit(self):
        "A rejection needs a reason; the order is corrected and resubmitted"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        Message = pool.get('distributor.message')
        with sale_network() as n:
            rep = sales_rep([n.territories.js])
            sale = order(n.d1, [(n.products.p1, 10)], rep)
            with acting(rep):
                Sale.dms_submit([sale])
                with self.assertRaises(InputError):
                    Sale.dms_reject_orders([sale], '  ')
            self.assertEqual(Sale(sale.id).channel_state, 'submitted')
            with acting(rep):
                Sale.dms_reject_orders([sale], "Order 20 please")
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'rejected')
            self.assertEqual(sale.rejection_reason, "Order 20 please")
            message, = Message.search([('party', '=', n.d1.id)])
            self.assertEqual(message.body, "Order 20 please")
            with acting(rep):
                Line.write(list(sale.lines), {'quantity': 20})
                Sale.dms_submit([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'submitted')
            self.assertEqual(sale.untaxed_amount, Decimal('180.00'))
            with acting(rep), self.assertRaises(InputError):
                Sale.dms_reject_orders([sale], "")

    # Promotion and return ----------------------------------------------

    @with_transaction()
    def test_promotion_order_with_gift(self):
        "Promotion orders may carry free gifts, exempt from the floor"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10), (n.products.p2, 6, True)],
                kind='promotion')
            gift = sale.lines[1]
            self.assertTrue(gift.gift)
            self.assertEqual(gift.unit_price, Decimal(0))
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            self.assertEqual(Sale(sale.id).channel_state, 'approved')

            regular = order(n.d1, [(n.products.p1, 10),
                    (n.products.p2, 6, True)])
            with acting(manager), \
                    self.assertRaisesRegex(ChannelOrderError, 'gift'):
                Sale.dms_submit([regular])
            self.assertEqual(Sale(regular.id).channel_state, 'draft')

    @with_transaction()
    def test_return_order(self):
        "A return is approved, received by the brand and credited"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Return = pool.get('stock.shipment.out.return')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 4)], kind='return')
            self.assertEqual(sale.lines[0].quantity, -4)
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            run_tasks()
            sale = Sale(sale.id)
            self.assertFalse(sale.shipments)
            shipment, = sale.shipment_returns
            Return.receive([shipment])
            Return.do([shipment])
            Sale.process([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'done')
            invoice, = sale.invoices
            self.assertEqual(invoice.total_amount, Decimal('-36.00'))

            positive = order(n.d1, [(n.products.p1, 4)], kind='return')
            Pool().get('sale.line').write(
                list(positive.lines), {'quantity': 4})
            with acting(manager), \
                    self.assertRaisesRegex(ChannelOrderError, 'negative'):
                Sale.dms_submit([positive])

    # Batch -------------------------------------------------------------

    @with_transaction()
    def test_batch_approval_mixed(self):
        "Good orders go through, bad ones are left untouched with reasons"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        with sale_network() as n:
            manager = channel_manager()
            # credit limit 1000: 600 + 300 pass, the next 300 would not
            good1 = order(n.d1, [(n.products.p1, 60)])
            good2 = order(n.d1, [(n.products.p1, 30)])
            over = order(n.d1, [(n.products.p1, 60)])
            frozen = order(n.d2, [(n.products.p1, 10)])
            add_deposit(n.d2, Decimal(1000), n.accounts)
            with acting(manager):
                Sale.dms_submit([good1, good2, over, frozen])
            Party.change_distributor_state([n.d2], 'frozen', "Audit")
            approved_before = Sale(good1.id)
            self.assertEqual(approved_before.channel_state, 'submitted')

            # the batch wizard of a channel manager
            with acting(manager, check_access=False):
                refused = Sale.dms_approve_batch(
                    [good1, good2, over, frozen])
            reasons = {s.id: m for s, m in refused}
            self.assertEqual(set(reasons), {over.id, frozen.id})
            self.assertIn('credit limit', reasons[over.id])
            self.assertIn('frozen', reasons[frozen.id].lower())
            self.assertEqual(
                [Sale(s.id).channel_state
                    for s in [good1, good2, over, frozen]],
                ['approved', 'approved', 'submitted', 'submitted'])
            self.assertEqual(Sale(over.id).state, 'draft')

            with acting(manager, check_access=False):
                refused = Sale.dms_reject_batch(
                    [good1, over, frozen], "Not this month")
            self.assertEqual([s.id for s, _ in refused], [good1.id])
            self.assertEqual(Sale(over.id).channel_state, 'rejected')

    @with_transaction()
    def test_batch_wizard(self):
        "The batch wizard reports what it did and what it left"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Batch = pool.get('distributor.sale.batch', type='wizard')
        with sale_network() as n:
            manager = channel_manager()
            good = order(n.d1, [(n.products.p1, 10)])
            draft = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([good])
            context = dict(active_model='sale.sale',
                active_ids=[good.id, draft.id], active_id=good.id)
            # as its client: the session created with access checked,
            # the states run without (the wizard checked its own)
            with acting(manager, **context):
                session_id, _, _ = Batch.create()
            with acting(manager, check_access=False, **context):
                batch = Batch(session_id)
                batch.start.action = 'approve'
                batch.start.reason = None
                self.assertEqual(batch.transition_run(), 'result')
                result = batch.default_result(None)
            self.assertEqual(result['done'], [good.id])
            self.assertEqual(result['refused'], [draft.id])
            self.assertIn('Draft', result['reasons'])

    # Channel rules: each passes and fails -------------------------------

    def _failing(self, sale, pattern):
        "Submitting the order as the channel manager fails on pattern"
        Sale = Pool().get('sale.sale')
        with acting(channel_manager()), \
                self.assertRaisesRegex(ChannelOrderError, pattern):
            Sale.dms_submit([sale])
        self.assertEqual(Sale(sale.id).channel_state, 'draft')
        self.assertIsNone(Sale(sale.id).submitted_at)

    @with_transaction()
    def test_rule_trade(self):
        "Frozen and terminated distributors may not order"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            Party.change_distributor_state([n.d1], 'frozen', "Overdue")
            self._failing(sale, 'Frozen')
            Party.change_distributor_state([n.d1], 'active')
            with acting(channel_manager()):
                Sale.dms_submit([sale])
            self.assertEqual(Sale(sale.id).channel_state, 'submitted')

    @with_transaction()
    def test_rule_trade_licence(self):
        "An expired business licence stops orders after the grace days"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Qualification = pool.get('distributor.qualification')
        Configuration = pool.get('distributor.configuration')
        Date = pool.get('ir.date')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            Qualification.write(list(n.d1.qualifications), {
                    'valid_to': Date.today() - dt.timedelta(days=2)})
            self.assertEqual(n.d1.distributor_state, 'active')
            self._failing(sale, 'expired on')
            Configuration.write([Configuration(1)], {
                    'licence_grace_days': 7})
            with acting(channel_manager()):
                Sale.dms_submit([sale])
            self.assertEqual(Sale(sale.id).channel_state, 'submitted')

    @with_transaction()
    def test_rule_supplier(self):
        """A distributor with an upstream orders from it, not from the
        brand, unless its tier buys from the brand"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        Tier = pool.get('distributor.tier')
        Address = pool.get('party.address')
        with sale_network() as n:
            t3 = n.tiers[2]
            county = create_distributor('C1', t3, [n.territories.nj],
                upstream=n.d1,
                authorized_categories=[('add', [n.products.drinks.id])])
            Address.create([{'party': county.id, 'street': "Xinjiekou 2",
                        'territory': n.territories.nj.id}])
            self.assertFalse(county.dms_buys_from_brand())
            sale = order(county, [(n.products.p1, 10)])
            self._failing(sale, 'buys from its upstream "Distributor D1"')
            # its upstream buys from the brand
            self.assertTrue(n.d1.dms_buys_from_brand())
            # a tier configured to buy direct
            Tier.write([t3], {'buys_from_brand': True})
            county = type(county)(county.id)
            self.assertTrue(county.dms_buys_from_brand())
            with acting(channel_manager()):
                Sale.dms_submit([sale])
            self.assertEqual(Sale(sale.id).channel_state, 'submitted')

    @with_transaction()
    def test_rule_lines_quantity(self):
        "Regular orders need positive quantities"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        with sale_network() as n:
            with self.assertRaises(InputError):
                order(n.d1, [(n.products.p1, 0)])
            with self.assertRaises(InputError):
                order(n.d1, [(n.products.p1, -3)])
            sale = order(n.d1, [(n.products.p1, 10)])
            Line.write(list(sale.lines), {'quantity': -10})
            self._failing(sale, 'must be positive')
            Line.write(list(sale.lines), {'quantity': 10})
            with acting(channel_manager()):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_unknown_product(self):
        "Unknown product codes are refused by the API"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n, acting(channel_manager()):
            with self.assertRaisesRegex(ChannelOrderError, 'NOPE'):
                Sale.dms_create_order(n.d1.id, [
                        {'product': 'NOPE', 'quantity': 1}])
            sale_id = Sale.dms_create_order(n.d1.id, [
                    {'product': 'P1', 'quantity': 10}])
            self.assertEqual(Sale(sale_id).lines[0].product, n.products.p1)

    @with_transaction()
    def test_api_bad_input(self):
        "The API refuses unknown kinds, methods, addresses and lines"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        lines = [{'product': 'P1', 'quantity': 10}]
        with sale_network() as n:
            manager = channel_manager()
            address = n.d2.addresses[0].id
            with acting(manager):
                with self.assertRaisesRegex(InputError, 'gift-box'):
                    Sale.dms_create_order(n.d1.id, lines, kind='gift-box')
                with self.assertRaisesRegex(InputError, 'drone'):
                    Sale.dms_create_order(
                        n.d1.id, lines, delivery_method='drone')
                # an address of another distributor: as if it did not
                # exist
                with self.assertRaises(RecordNotFound):
                    Sale.dms_create_order(n.d1.id, lines, address=address)
                with self.assertRaises(InputError):
                    Sale.dms_create_order(n.d1.id, [])
                with self.assertRaises(InputError):
                    Sale.dms_create_order(n.d1.id, [
                            {'product': 'P1', 'quantity': 'ten'}])
            self.assertEqual(Sale.search([('party', '=', n.d1.id)]), [])

            # a line without product
            sale = order(n.d1, [(n.products.p1, 10)])
            Line.write(list(sale.lines), {'product': None})
            self._failing(sale, 'no product for sale')

            # receipt of a line of another order
            other = order(n.d1, [(n.products.p1, 10)], submit=True)
            shipped = order(n.d1, [(n.products.p1, 10)], submit=True)
            with acting(manager):
                Sale.dms_approve([shipped])
            shipped = ship(shipped)
            with acting(manager), self.assertRaises(ReceiptError):
                Sale.dms_confirm_receipt(
                    [shipped], {other.lines[0].id: 10})
            self.assertEqual(Sale(shipped.id).channel_state, 'shipped')

    @with_transaction()
    def test_rule_categories(self):
        "Products outside the authorized categories are refused"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            # snacks are not authorized; juice is, below drinks
            self._failing(order(n.d1, [(n.products.p3, 20)]),
                'not authorized')
            juice = order(n.d1, [(n.products.p2, 6)])
            with acting(channel_manager()):
                Sale.dms_submit([juice])

    @with_transaction()
    def test_rule_territory(self):
        "The delivery address must lie in the distributor's territories"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Address = pool.get('party.address')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            address = sale.shipment_address
            Address.write([address], {'territory': n.territories.gz.id})
            self._failing(sale, 'outside the territories')
            Address.write([address], {'territory': None})
            self._failing(sale, 'unknown')
            sale.shipment_address = None
            sale.save()
            self._failing(sale, 'no delivery address')
            # a sub-territory is inside
            Address.write([address], {'territory': n.territories.sz.id})
            sale.shipment_address = address
            sale.save()
            with acting(channel_manager()):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_territory_from_subdivision(self):
        "Without a territory the address's subdivision places it"
        pool = Pool()
        Address = pool.get('party.address')
        Country = pool.get('country.country')
        Subdivision = pool.get('country.subdivision')
        Territory = pool.get('distributor.territory')
        with sale_network() as n:
            cn, = Country.create([{'name': "China", 'code': 'CN'}])
            js, = Subdivision.create([{'name': "Jiangsu", 'code': 'CN-JS',
                        'type': 'province', 'country': cn.id}])
            nj, = Subdivision.create([{'name': "Nanjing", 'code': 'CN-JS-NJ',
                        'type': 'city', 'country': cn.id, 'parent': js.id}])
            Territory.write([n.territories.js], {'subdivision': js.id})
            address, = Address.create([{'party': n.d1.id,
                        'country': cn.id, 'subdivision': nj.id}])
            self.assertEqual(
                address.get_sales_territory(), n.territories.js)
            Territory.write([n.territories.nj], {'subdivision': nj.id})
            self.assertEqual(
                address.get_sales_territory(), n.territories.nj)

    @with_transaction()
    def test_rule_price_list(self):
        "Orders are priced with the tier's price list"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            sale.price_list = None
            sale.save()
            self._failing(sale, 'price list')
            sale.price_list = n.price_list
            sale.save()
            with acting(channel_manager()):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_price_floor_and_override(self):
        "Below the floor needs a channel manager's override with a reason"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10)])
            Line.write(list(sale.lines), {'unit_price': Decimal('7.5')})
            self._failing(sale, 'below the floor')
            # the override wizard of a channel manager
            with acting(manager, check_access=False):
                with self.assertRaises(InputError):
                    Sale.dms_override_floor_prices([sale], '')
                Sale.dms_override_floor_prices([sale], "Launch deal")
            line, = Sale(sale.id).lines
            self.assertEqual(line.floor_override_reason, "Launch deal")
            self.assertEqual(line.floor_override_by, manager)
            with acting(manager):
                Sale.dms_submit([sale])
            # at the floor is fine
            other = order(n.d1, [(n.products.p1, 10)])
            Line.write(list(other.lines), {'unit_price': Decimal('8')})
            with acting(manager):
                Sale.dms_submit([other])
            with acting(manager, check_access=False), \
                    self.assertRaises(OrderStateError):
                Sale.dms_override_floor_prices([other], "Nothing below")

    @with_transaction()
    def test_rule_minimum_amount(self):
        "The tier's minimum order amount"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            self._failing(order(n.d1, [(n.products.p1, 5)]), 'minimum')
            sale = order(n.d1, [(n.products.p1, 6)])
            with acting(channel_manager()):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_pack_multiple(self):
        "Quantities in multiples of the product's pack"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            self._failing(order(n.d1, [(n.products.p2, 7)]), 'pack of 6')
            sale = order(n.d1, [(n.products.p2, 12)])
            with acting(channel_manager()):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_credit_limit(self):
        "Credit distributors stay within their limit, approved orders count"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            manager = channel_manager()
            first = order(n.d1, [(n.products.p1, 100)])  # 900
            with acting(manager):
                Sale.dms_submit([first])
                Sale.dms_approve([first])
            run_tasks()
            second = order(n.d1, [(n.products.p1, 20)])  # 180 > 100 left
            self._failing(second, 'credit limit')
            third = order(n.d1, [(n.products.p1, 10)])  # 90 fits
            with acting(manager):
                Sale.dms_submit([third])

    @with_transaction()
    def test_rule_deposit(self):
        "Prepaid distributors need a deposit covering approved orders"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d2, [(n.products.p1, 10)])  # 90
            self._failing(sale, 'deposit')
            add_deposit(n.d2, Decimal(100), n.accounts)
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            run_tasks()
            # 90 of the 100 are taken by the approved order
            self._failing(order(n.d2, [(n.products.p1, 10)]), 'deposit')
            add_deposit(n.d2, Decimal(100), n.accounts)
            sale = order(n.d2, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([sale])

    @with_transaction()
    def test_rule_instalment(self):
        "Instalment distributors get the configured instalment term"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        Term = pool.get('account.invoice.payment_term')
        Configuration = pool.get('distributor.configuration')
        with sale_network() as n:
            Party.write([n.d1], {'settlement_method': 'instalment'})
            sale = order(n.d1, [(n.products.p1, 10)])
            self._failing(sale, 'instalment')
            term, = Term.create([{
                        'name': "2 instalments",
                        'lines': [('create', [
                                    {'type': 'percent',
                                        'ratio': Decimal('0.5'),
                                        'divisor': Decimal('2'),
                                        'relativedeltas': [('create', [
                                                    {'months': 2}])]},
                                    {'type': 'remainder',
                                        'relativedeltas': [('create', [
                                                    {'months': 3}])]},
                                    ])],
                        }])
            config = Configuration(1)
            config.instalment_payment_term = term
            config.save()
            with acting(channel_manager()):
                Sale.dms_submit([sale])
            self.assertEqual(Sale(sale.id).payment_term, term)

    # Approval ----------------------------------------------------------

    @with_transaction()
    def test_approve_twice_refused(self):
        "Approving an approved order is refused and changes nothing"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10)])
            # the button is not shown on a draft or approved order
            # (Tryton refuses its click): a client calls the API
            with acting(manager):
                with self.assertRaisesRegex(OrderStateError, 'Draft'):
                    Sale.dms_approve_orders([sale.id])
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
            run_tasks()
            approved_at = Sale(sale.id).approved_at
            with acting(manager), self.assertRaisesRegex(
                    OrderStateError, 'already approved'):
                Sale.dms_approve_orders([sale.id])
            sale = Sale(sale.id)
            self.assertEqual(sale.approved_at, approved_at)
            self.assertEqual(len(sale.shipments), 1)

    @with_transaction()
    def test_tryton_buttons_refused(self):
        "Tryton's quote and confirm cannot bypass the approval"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            for method in [Sale.quote, Sale.confirm]:
                with self.assertRaises(OrderStateError):
                    method([sale])
            self.assertEqual(Sale(sale.id).state, 'draft')

    # Cancellation ------------------------------------------------------

    @with_transaction()
    def test_cancel(self):
        "Cancel before shipment with a reason, never after"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            manager = channel_manager()
            draft = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                with self.assertRaises(InputError):
                    Sale.dms_cancel_orders([draft], '')
                Sale.dms_cancel_orders([draft], "Typo")
            draft = Sale(draft.id)
            self.assertEqual(
                (draft.channel_state, draft.state), ('cancelled', 'cancelled'))

            approved = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([approved])
                Sale.dms_approve([approved])
            run_tasks()
            with acting(manager):
                Sale.dms_cancel_orders([approved], "Customer changed mind")
            approved = Sale(approved.id)
            self.assertEqual(approved.channel_state, 'cancelled')
            self.assertEqual(approved.state, 'cancelled')
            self.assertEqual(approved.shipments[0].state, 'cancelled')
            self.assertEqual(approved.cancel_reason, "Customer changed mind")

            shipped = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([shipped])
                Sale.dms_approve([shipped])
            shipped = ship(shipped)
            with acting(manager), self.assertRaises(OrderStateError):
                Sale.dms_cancel_orders([shipped], "Too late")
            self.assertEqual(Sale(shipped.id).channel_state, 'shipped')

    # State guards ------------------------------------------------------

    @with_transaction()
    def test_guards_raw_writes(self):
        "Submitted orders refuse raw writes of lines, prices, party, totals"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Line.write(list(sale.lines), {'unit_price': Decimal(9)})
                Sale.write([sale], {'reference': 'PO-9'})
                # the workflow's own fields never come from a client
                for values in [{'channel_state': 'approved'},
                        {'approved_by': USER}, {'submitted_at': None},
                        {'state': 'done'}, {'number': 'X'},
                        {'shipment_state': 'sent'}]:
                    with self.assertRaises(DocumentLockedError):
                        Sale.write([sale], values)
                with self.assertRaises(DocumentLockedError):
                    Line.write(list(sale.lines), {
                            'floor_override_reason': "self-approved"})
                with self.assertRaises(DocumentLockedError):
                    Sale.create([{'party': n.d1.id,
                                'company': n.company.id,
                                'channel_state': 'approved'}])
            self.assertEqual(Sale(sale.id).channel_state, 'draft')
            with acting(manager):
                Sale.dms_submit([sale])
            states = []
            for step in ['submitted', 'approved', 'shipped', 'done']:
                if step == 'approved':
                    with acting(manager):
                        Sale.dms_approve([sale])
                    run_tasks()
                elif step == 'shipped':
                    ship(sale)
                elif step == 'done':
                    with acting(manager):
                        Sale.dms_confirm_receipt([sale])
                sale = Sale(sale.id)
                states.append(sale.channel_state)
                line, = sale.lines
                with acting(manager):
                    for values in [{'unit_price': Decimal(1)},
                            {'quantity': 1000}, {'product': n.products.p2.id}]:
                        with self.assertRaises(DocumentLockedError):
                            Line.write([line], values)
                    for values in [{'party': n.d2.id},
                            {'untaxed_amount_cache': Decimal(1)},
                            {'total_amount_cache': Decimal(1)},
                            {'price_list': None},
                            {'channel_state': 'draft'},
                            {'lines': [('delete', [line.id])]}]:
                        with self.assertRaises(DocumentLockedError):
                            Sale.write([sale], values)
                    with self.assertRaises(DocumentLockedError):
                        Line.create([{'sale': sale.id, 'type': 'line',
                                    'product': n.products.p1.id,
                                    'quantity': 1, 'unit': n.products.unit.id,
                                    'unit_price': Decimal(1)}])
                    with self.assertRaises((DocumentLockedError, AccessError)):
                        Line.delete([line])
                    with self.assertRaises((DocumentLockedError, AccessError)):
                        Sale.delete([sale])
                    Sale.write([sale], {'comment': f"note {step}"})
                sale = Sale(sale.id)
                self.assertEqual(sale.lines[0].unit_price, Decimal('9'))
                self.assertEqual(sale.party, n.d1)
                self.assertEqual(sale.untaxed_amount, Decimal('90.00'))
            self.assertEqual(
                states, ['submitted', 'approved', 'shipped', 'done'])

    @with_transaction()
    def test_plain_tryton_allows_raw_price_write(self):
        "The contrast: Tryton alone lets a confirmed line's price change"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        Party = pool.get('party.party')
        with sale_network() as n:
            customer, = Party.create([{'name': "Walk-in",
                        'addresses': [('create', [{}])]}])
            sale = Sale(party=customer, company=n.company)
            sale.on_change_party()
            sale.lines = [Line(type='line', product=n.products.p1,
                    quantity=1, unit=n.products.unit,
                    unit_price=Decimal(10))]
            sale.save()
            Sale.quote([sale])
            Sale.confirm([sale])
            with acting(make_user('sales', ['sale.group_sale'])):
                Line.write(list(sale.lines), {'unit_price': Decimal(1)})
            self.assertEqual(Sale(sale.id).lines[0].unit_price, Decimal(1))

    @with_transaction()
    def test_copy(self):
        "A copy is a new draft without approval; a frozen one cannot go"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        with sale_network() as n:
            manager = channel_manager()
            sale = order(n.d1, [(n.products.p1, 10)])
            with acting(manager):
                Sale.dms_submit([sale])
                Sale.dms_approve([sale])
                copy, = Sale.copy([sale])
            copy = Sale(copy.id)
            self.assertEqual(copy.channel_state, 'draft')
            self.assertEqual(copy.state, 'draft')
            self.assertIsNone(copy.approved_by)
            self.assertIsNone(copy.approved_at)
            self.assertFalse(copy.channel_logs)
            Party.change_distributor_state([n.d1], 'frozen', "Overdue")
            self._failing(copy, 'Frozen')

    # Notifications -----------------------------------------------------

    @with_transaction()
    def test_reminder(self):
        "Orders waiting too long are recalled once per period"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Notification = pool.get('res.notification')
        with sale_network() as n:
            sale = order(n.d1, [(n.products.p1, 10)])
            with acting(channel_manager()):
                Sale.dms_submit([sale])
            # the reminder is a scheduled task: it runs as the system
            self.assertEqual(Sale.dms_remind_pending(), [])
            Sale.write([sale], {
                    'submitted_at': dt.datetime.now() - dt.timedelta(
                        hours=25)})
            self.assertEqual(Sale.dms_remind_pending(), [sale])
            self.assertTrue(Notification.search([
                        ('label', 'like', '%too long%')]))
            self.assertEqual(Sale.dms_remind_pending(), [])

    # Access ------------------------------------------------------------

    @with_transaction()
    def test_access_by_role(self):
        "Reps approve in their territory and do not see the others"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            rep_east = sales_rep([n.territories.east], login='east')
            rep_south = sales_rep([n.territories.south], login='south')
            accountant = staff_user('accountant')
            manager = channel_manager()
            # the rep of the East orders for its distributor
            sale = order(n.d1, [(n.products.p1, 10)], rep_east, submit=True)
            other = order(n.d1, [(n.products.p1, 10)], rep_east,
                submit=True)
            third = order(n.d1, [(n.products.p1, 10)], rep_east,
                submit=True)

            with acting(rep_south):
                self.assertEqual(Sale.search([
                            ('distributor_order', '=', True)]), [])
                with self.assertRaises(AccessError):
                    Sale.read([sale.id], ['number'])
                with self.assertRaises(AccessError):
                    Sale.dms_approve([Sale(sale.id)])
            with acting(accountant):
                self.assertEqual(len(Sale.search([])), 3)
                with self.assertRaises(AccessButtonError):
                    Sale.dms_approve([Sale(sale.id)])
                # the RPC methods obey the same rights as the buttons
                with self.assertRaises(EntryPointRefused):
                    Sale.dms_reject_orders([third.id], "No")
                with self.assertRaises(EntryPointRefused):
                    Sale.dms_cancel_orders([third.id], "No")
            with acting(rep_east):
                self.assertEqual(
                    {s.id for s in Sale.search([])},
                    {sale.id, other.id, third.id})
                Sale.dms_reject_orders([third.id], "Wrong address")
                with self.assertRaises(AccessButtonError):
                    Sale.dms_override_floor([Sale(sale.id)])
                Sale.dms_approve([Sale(sale.id)])
            with acting(manager):
                Sale.dms_approve([Sale(other.id)])
            self.assertEqual(
                [Sale(s.id).channel_state for s in [sale, other, third]],
                ['approved', 'approved', 'rejected'])

    @with_transaction()
    def test_rule_report_reach(self):
        """The rule report of an order its rep reaches; another
        territory's rep reaches neither the order nor its distributor"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            rep_east = sales_rep([n.territories.east], login='east')
            rep_south = sales_rep([n.territories.south], login='south')
            sale = order(n.d1, [(n.products.p1, 10)], submit=True)
            for user in [channel_manager(), rep_east,
                    staff_user('accountant')]:
                with self.subTest(user=user.login), acting(user):
                    report = Sale.dms_rule_report([sale.id])[sale.id]
                    self.assertEqual(len(report), 10)
                    self.assertTrue(all(r['ok'] for r in report))
            with acting(rep_south):
                with self.assertRaises(AccessError):
                    Sale.dms_rule_report([sale.id])
                with self.assertRaises(AccessError):
                    Sale.dms_create_order(n.d1.id, [
                            {'product': 'P1', 'quantity': 10}])

del ModuleTestCase
