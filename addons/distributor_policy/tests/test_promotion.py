# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Purchase discounts and promotions on distributor orders: a published
promotion policy prices the orders of its recipients only, thresholds,
gifts within the entitlement, closing the policy, the locks and the
roles, and the portal's promotions page"""
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import DocumentLockedError, EntryPointRefused
from distributor.tests.tools import acting, channel_manager, staff_user
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_sale.exceptions import ChannelOrderError


def scratch(company, func):
    """func() as root in a transaction with the company, rolled back (and
    restarted with the locks it turned out to need)"""
    extras = {}
    while True:
        with Transaction().start(DB_NAME, 0, context={'company': company},
                **extras) as transaction:
            try:
                return func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            finally:
                transaction.rollback()


def create_policy(world, title, rules, distributors, kind='promotion',
        publish=True):
    "A promotion policy of rules (dicts) targeting distributors"
    Policy = Pool().get('distributor.policy')
    today = Pool().get('ir.date').today()
    policy, = Policy.create([{
                'kind': kind,
                'title': title,
                'company': world.company,
                'start_date': today - dt.timedelta(days=1),
                'end_date': today + dt.timedelta(days=30),
                'distributors': [('add', list(distributors))],
                'promotion_rules': [('create', rules)],
                }])
    if publish:
        Policy.publish([policy])
    return Policy(policy.id)


class PromotionTestCase(PortalTestCase):
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        p1, p2 = world.products.p1, world.products.p2
        with Transaction().set_context(company=world.company):
            # room on D1's credit for the orders of the tests
            Party.write([Party(world.d1)], {
                    'credit_limit_amount': Decimal(100000)})
            policy = create_policy(world, "Summer Cola", [{
                        'name': "Cola 20% off",
                        'products': [('add', [p1])],
                        'min_quantity': 20,
                        'discount_percentage': Decimal('0.2'),
                        }, {
                        'name': "Cola gift",
                        'products': [('add', [p1])],
                        'gift_product': p1,
                        'gift_quantity': 1,
                        'gift_per_quantity': 10,
                        }, {
                        'name': "Juice 2 off",
                        'products': [('add', [p2])],
                        'min_amount': Decimal(300),
                        'discount_amount': Decimal(2),
                        }], [world.d1])
        world.policy = policy.id
        world.rules = [r.id for r in policy.promotion_rules]
        world.sale_promotions = [p.id for p in policy.sale_promotions]
        return world

    def run_(self, func):
        return scratch(self.world.company, func)

    def order(self, party, lines, kind='regular', submit=True):
        "An order entered and submitted by the channel manager"
        Sale = Pool().get('sale.sale')
        with acting(channel_manager()):
            sale_id = Sale.dms_create_order(party, [
                    {'product': p, 'quantity': q,
                        **({'gift': True} if g else {})}
                    for p, q, *g in lines], kind=kind, submit=submit)
        return Sale(sale_id)

    def test_publish_creates_promotions(self):
        "One sale promotion per discount rule, with the policy's dates"
        def check():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            policy = Policy(self.world.policy)
            promotions = sorted(policy.sale_promotions,
                key=lambda p: p.dms_rule.id)
            self.assertEqual(len(promotions), 2)
            cola, juice = promotions
            self.assertEqual(cola.formula,
                "unit_price * (1 - Decimal('0.2'))")
            self.assertEqual(cola.quantity, 20)
            self.assertEqual(juice.formula, "unit_price - Decimal('2')")
            self.assertEqual(cola.start_date, policy.start_date)
            self.assertEqual(cola.end_date, policy.end_date)
            self.assertEqual(cola.dms_policy, policy)
        self.run_(check)

    def test_promotion_prices_targeted_distributor_only(self):
        "D1 (a recipient) gets 20% off from 20 units, D2 does not"
        w = self.world

        def check():
            pool = Pool()
            Sale = pool.get('sale.sale')
            p1 = w.products.p1
            sale = self.order(w.d1, [(p1, 20)])
            line, = sale.lines
            # the tier price list: 10 * 0.9, 20% off: under the floor (8)
            self.assertEqual(line.unit_price, Decimal('7.2000'))
            self.assertEqual(line.original_unit_price, Decimal('9.0000'))
            self.assertEqual(line.dms_policy.id, w.policy)
            self.assertEqual(line.promotion.dms_policy.id, w.policy)
            self.assertEqual(sale.channel_state, 'submitted')
            with acting(channel_manager()):
                Sale.dms_approve([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.channel_state, 'approved')
            self.assertEqual(sale.state, 'confirmed')
            line, = sale.lines
            self.assertEqual(line.unit_price, Decimal('7.2000'))
            self.assertEqual(line.dms_policy.id, w.policy)
            self.assertEqual(
                sale.untaxed_amount, Decimal('144.00'))

            other = self.order(w.d2, [(p1, 20)])
            line, = other.lines
            self.assertEqual(line.unit_price, Decimal('9.0000'))
            self.assertIsNone(line.promotion)
            self.assertIsNone(line.dms_policy)
        self.run_(check)

    def test_thresholds(self):
        "Below the quantity or amount threshold: no discount"
        w = self.world

        def check():
            sale = self.order(w.d1, [(w.products.p1, 10)])
            line, = sale.lines
            self.assertEqual(line.unit_price, Decimal('9.0000'))
            self.assertIsNone(line.dms_policy)
            # P2 at 18 (packs of 6): 216 under 300, then 324
            sale = self.order(w.d1, [(w.products.p2, 12)])
            line, = sale.lines
            self.assertEqual(line.unit_price, Decimal('18.0000'))
            sale = self.order(w.d1, [(w.products.p2, 18)])
            line, = sale.lines
            self.assertEqual(line.unit_price, Decimal('16.0000'))
            self.assertEqual(line.dms_policy.id, w.policy)
        self.run_(check)

    def test_gifts(self):
        "A gift within the entitlement passes; without promotion or above, "
        "it is refused at submission and at approval"
        w = self.world
        p1, p2 = w.products.p1, w.products.p2

        def check():
            pool = Pool()
            Sale = pool.get('sale.sale')
            Policy = pool.get('distributor.policy')
            # 20 bought: 2 free
            sale = self.order(w.d1, [(p1, 20), (p1, 2, True)],
                kind='promotion')
            self.assertEqual(sale.channel_state, 'submitted')
            gift, = [l for l in sale.lines if l.gift]
            self.assertEqual(gift.unit_price, Decimal(0))
            self.assertEqual(gift.dms_policy.id, w.policy)
            with self.assertRaisesRegex(ChannelOrderError,
                    r'3 free "\[P1\] Cola.*grant 2'):
                self.order(w.d1, [(p1, 20), (p1, 3, True)],
                    kind='promotion')
            # no gift rule for P2; no promotion for D2
            with self.assertRaisesRegex(ChannelOrderError, 'Orange Juice'):
                self.order(w.d1, [(p1, 20), (p2, 6, True)],
                    kind='promotion')
            with self.assertRaisesRegex(ChannelOrderError, 'Cola'):
                self.order(w.d2, [(p1, 20), (p1, 1, True)],
                    kind='promotion')
            # the policy closes before the approval: the gift is refused
            Policy.close([Policy(w.policy)])
            with self.assertRaisesRegex(ChannelOrderError, 'Cola'):
                with acting(channel_manager()):
                    Sale.dms_approve([sale])
            self.assertEqual(Sale(sale.id).channel_state, 'submitted')
        self.run_(check)

    def test_close_stops_promotion(self):
        "Closing the policy ends its sale promotions: no more discount"
        w = self.world

        def check():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            Promotion = pool.get('sale.promotion')
            today = pool.get('ir.date').today()
            Policy.close([Policy(w.policy)])
            promotions = Promotion.browse(w.sale_promotions)
            self.assertTrue(all(not p.active for p in promotions))
            self.assertTrue(all(p.end_date == today for p in promotions))
            sale = self.order(w.d1, [(w.products.p1, 20)])
            line, = sale.lines
            self.assertEqual(line.unit_price, Decimal('9.0000'))
            self.assertIsNone(line.dms_policy)
        self.run_(check)

    def test_locks_and_bad_input(self):
        "Rules locked past draft, sale promotions written by the policy "
        "only, incomplete policies refused"
        w = self.world

        def check():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            Rule = pool.get('distributor.policy.promotion')
            Promotion = pool.get('sale.promotion')
            manager = channel_manager()
            rule = Rule(w.rules[0])
            with acting(manager):
                with self.assertRaises(DocumentLockedError):
                    Rule.write([rule], {
                            'discount_percentage': Decimal('0.5')})
                with self.assertRaises(DocumentLockedError):
                    Rule.create([{'policy': w.policy, 'name': "More",
                                'discount_amount': Decimal(1)}])
                promotion = Promotion(w.sale_promotions[0])
                with self.assertRaises(UserError):
                    Promotion.write([promotion], {'formula': 'unit_price'})
                with self.assertRaises(UserError):
                    Promotion.delete([promotion])
            self.assertEqual(Rule(rule.id).discount_percentage,
                Decimal('0.2'))
            # a promotion policy without rules, rules giving nothing or
            # two discounts
            draft = create_policy(w, "Empty", [], [w.d1], publish=False)
            with self.assertRaisesRegex(UserError, 'promotion rule'):
                Policy.publish([draft])
            self.assertEqual(Policy(draft.id).state, 'draft')
            for values in [{}, {'discount_amount': Decimal(1),
                        'discount_percentage': Decimal('0.1')},
                    {'discount_percentage': Decimal('1.5')},
                    {'discount_amount': Decimal(-1)},
                    {'gift_product': w.products.p1, 'gift_quantity': 1}]:
                with self.assertRaises(UserError):
                    Rule.create([dict(values, policy=draft.id, name="Bad")])
            notice = create_policy(w, "Notice", [], [w.d1], kind='notice',
                publish=False)
            with self.assertRaises(UserError):
                Rule.create([{'policy': notice.id, 'name': "X",
                            'discount_amount': Decimal(1)}])
        self.run_(check)

    def test_entry_point_roles(self):
        "dms_list_promotions: staff and portal groups, for a reachable party"
        w = self.world

        def check():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            with acting(channel_manager()):
                result = Policy.dms_list_promotions(w.d1)
            self.assertEqual([p['id'] for p in result], [w.policy])
            texts = [r['text'] for r in result[0]['rules']]
            self.assertIn("20% off [P1] Cola", texts[0])
            self.assertIn("from 20 units", texts[0])
            self.assertIn("1 free", texts[1])
            with acting(channel_manager()):
                self.assertEqual(Policy.dms_list_promotions(w.d2), [])
            with acting(staff_user('plain')):
                with self.assertRaises(EntryPointRefused):
                    Policy.dms_list_promotions(w.d1)
        self.run_(check)

    def test_portal(self):
        "The promotions page and endpoint: D1 sees its promotion, D2 not"
        client = self.client('d1@example.com')
        response = client.get('/portal/policies/promotions')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertIn("Summer Cola", text)
        self.assertIn(f'data-policy="{self.world.policy}"', text)
        self.assertIn('id="policy-tabs"', text)
        status, body = client.api('GET', '/portal/api/v1/promotions')
        self.assertEqual(status, 200)
        self.assertEqual([p['id'] for p in body['items']],
            [self.world.policy])
        self.assertEqual(len(body['items'][0]['rules']), 3)

        other = self.client('d2@example.com')
        text = other.get('/portal/policies/promotions').get_data(
            as_text=True)
        self.assertNotIn("Summer Cola", text)
        self.assertIn('id="no-promotions"', text)
        status, body = other.api('GET', '/portal/api/v1/promotions')
        self.assertEqual((status, body['items']), (200, []))
        # stores have no policies
        store = self.client('s1@example.com')
        self.assertEqual(
            store.get('/portal/policies/promotions').status_code, 403)
