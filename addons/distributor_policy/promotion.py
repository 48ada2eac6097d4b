# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Purchase discounts and promotions (采购折扣与促销) on distributor orders,
built on Tryton's sale_promotion.

A policy of kind purchase discount or promotion carries promotion rules
(products or categories, a quantity or amount threshold, a percentage or
an amount off per unit, free goods per quantity bought).  Publishing the
policy creates one ``sale.promotion`` per rule that gives a discount,
valid over the policy's dates and only for the sales of its recipients;
closing or withdrawing it ends them.  Those promotions belong to the
policy: nobody edits them by hand.

On a distributor order the promotions are applied when it is submitted
(the distributor sees the promoted prices and the channel rules check
them) and again when it is approved (Tryton's quote), so that a price or
a gift always comes from a promotion active at that time.  A gift line
(order kind "promotion") must be granted by an active gift rule of a
policy that targets the distributor, within the quantity it entitles to;
a promoted line may go below the tier's price floor."""
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count, Sum
from sql.operators import Mul

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from distributor.access import entry_point, is_trusted, trusted
from distributor.document import DocumentLine

from .exceptions import PromotionError

# the kinds of policy that carry promotion rules
PROMOTION_KINDS = {'discount', 'promotion'}
PRICE_DIGITS = (16, 4)
# the sale states in which an order counts as using a promotion
USED_STATES = ['confirmed', 'processing', 'done']


def _today():
    return Pool().get('ir.date').today()


def _number(value):
    "A number as people write it: 10, 2.5"
    if value is None:
        return ''
    if isinstance(value, float):
        return '%g' % value
    value = Decimal(value).normalize()
    return format(value, 'f')


class Policy(metaclass=PoolMeta):
    __name__ = 'distributor.policy'

    promotion_rules = fields.One2Many(
        'distributor.policy.promotion', 'policy', "Promotion Rules",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('kind').in_(sorted(PROMOTION_KINDS)),
            },
        help="What the policy grants on the orders of its recipients: "
        "discounts and free goods.")
    sale_promotions = fields.One2Many(
        'sale.promotion', 'dms_policy', "Sale Promotions", readonly=True,
        states={
            'invisible': ~Eval('kind').in_(sorted(PROMOTION_KINDS)),
            },
        context={'active_test': False},
        help="The promotions of Tryton created when the policy was "
        "published.")
    promotion_order_count = fields.Function(
        fields.Integer("Orders Using It",
            states={
                'invisible': ~Eval('kind').in_(sorted(PROMOTION_KINDS)),
                }),
        'get_promotion_usage')
    promotion_order_amount = fields.Function(
        fields.Numeric("Value of Promoted Lines", digits=(16, 2),
            states={
                'invisible': ~Eval('kind').in_(sorted(PROMOTION_KINDS)),
                }),
        'get_promotion_usage')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_list_promotions': RPC(),
                })

    @classmethod
    def copy(cls, policies, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('sale_promotions', None)
        return super().copy(policies, default=default)

    @classmethod
    def get_promotion_usage(cls, policies, names):
        """The confirmed orders priced by each policy's promotions and the
        value of their promoted lines (one query)"""
        pool = Pool()
        SaleLine = pool.get('sale.line')
        Sale = pool.get('sale.sale')
        Promotion = pool.get('sale.promotion')
        line = SaleLine.__table__()
        sale = Sale.__table__()
        promotion = Promotion.__table__()
        cursor = Transaction().connection.cursor()
        counts = {p.id: 0 for p in policies}
        amounts = {p.id: Decimal(0) for p in policies}
        for sub in grouped_slice([p.id for p in policies], MAX_QUERY_PARAMS):
            cursor.execute(*line
                .join(promotion, condition=line.promotion == promotion.id)
                .join(sale, condition=line.sale == sale.id)
                .select(promotion.dms_policy,
                    Count(sale.id, distinct=True),
                    Sum(Mul(line.quantity, line.unit_price)),
                    where=reduce_ids(promotion.dms_policy, list(sub))
                    & sale.state.in_(USED_STATES),
                    group_by=[promotion.dms_policy]))
            for policy_id, count, amount in cursor:
                counts[policy_id] = count or 0
                amounts[policy_id] = Decimal(str(amount or 0)).quantize(
                    Decimal('0.01'))
        result = {}
        if 'promotion_order_count' in names:
            result['promotion_order_count'] = counts
        if 'promotion_order_amount' in names:
            result['promotion_order_amount'] = amounts
        return result

    @classmethod
    def dms_check_publish(cls, policies):
        super().dms_check_publish(policies)
        for policy in policies:
            if policy.kind in PROMOTION_KINDS:
                if not policy.promotion_rules:
                    raise PromotionError(gettext(
                            'distributor_policy.msg_policy_no_rules',
                            policy=policy.rec_name))
            elif policy.promotion_rules:
                raise PromotionError(gettext(
                        'distributor_policy.msg_policy_rules_kind',
                        policy=policy.rec_name))

    @classmethod
    def dms_publish_hook(cls, policies):
        super().dms_publish_hook(policies)
        SalePromotion = Pool().get('sale.promotion')
        SalePromotion.dms_create_for(
            [p for p in policies if p.kind in PROMOTION_KINDS])

    @classmethod
    def dms_close_hook(cls, policies):
        super().dms_close_hook(policies)
        SalePromotion = Pool().get('sale.promotion')
        SalePromotion.dms_end_for(policies)

    @classmethod
    def dms_active_promotions(cls, party, date=None):
        """The published promotion policies that target party and are
        valid at date (today by default)"""
        if party is None:
            return []
        with trusted():
            return list(cls.dms_policies_for(party,
                    kinds=sorted(PROMOTION_KINDS), date=date or _today()))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_promotions(cls, party):
        """The promotions that apply to the distributor today: each policy
        with its dates and its rules, in words"""
        result = []
        for policy in cls.dms_active_promotions(party):
            result.append({
                    'id': policy.id,
                    'title': policy.title,
                    'kind': policy.kind,
                    'start_date': policy.start_date,
                    'end_date': policy.end_date,
                    'rules': [r.dms_describe() for r in
                        policy.promotion_rules],
                    })
        result.sort(key=lambda p: (p['end_date'] or dt.date.max, p['id']))
        return result


class PromotionRule(DocumentLine, ModelSQL, ModelView):
    """Promotion Rule

    What a purchase discount or promotion policy grants on an order: a
    percentage or an amount off per unit of its products (or categories)
    from a quantity or an amount, and free goods per quantity bought.
    Edited while the policy is a draft."""
    __name__ = 'distributor.policy.promotion'
    _dms_document = 'policy'

    _draft = {'readonly': Eval('policy_state', 'draft') != 'draft'}

    policy = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='CASCADE',
        domain=[('kind', 'in', sorted(PROMOTION_KINDS))], states=_draft)
    policy_state = fields.Function(
        fields.Selection('get_policy_states', "Policy State"),
        'on_change_with_policy_state')
    name = fields.Char("Name", required=True, states=_draft)
    products = fields.Many2Many(
        'distributor.policy.promotion-product.product', 'rule', 'product',
        "Products", states=_draft,
        help="The products the rule applies to (with the categories); "
        "none for every product.")
    categories = fields.Many2Many(
        'distributor.policy.promotion-product.category', 'rule', 'category',
        "Categories", states=_draft,
        help="The categories (and their sub-categories) the rule applies "
        "to.")
    min_quantity = fields.Float(
        "From Quantity", digits=(16, 4), states=_draft,
        domain=['OR', ('min_quantity', '=', None),
            ('min_quantity', '>=', 0)],
        help="The quantity of the rule's products an order must reach.")
    min_amount = fields.Numeric(
        "From Amount", digits=(16, 2), states=_draft,
        domain=['OR', ('min_amount', '=', None), ('min_amount', '>=', 0)],
        help="The amount (before discount, untaxed) of the rule's "
        "products an order must reach.")
    discount_percentage = fields.Numeric(
        "Percentage Off", digits=(16, 4), states=_draft,
        help="The share taken off the unit price (0.1 for 10 %).")
    discount_amount = fields.Numeric(
        "Amount Off per Unit", digits=PRICE_DIGITS, states=_draft)
    gift_product = fields.Many2One(
        'product.product', "Gift Product", ondelete='RESTRICT',
        domain=[('salable', '=', True)], states=_draft,
        help="A product the distributor may order for free (gift lines of "
        "a promotion order).")
    gift_quantity = fields.Float(
        "Free Quantity", digits=(16, 4),
        states={
            'readonly': _draft['readonly'],
            'required': Bool(Eval('gift_product')),
            'invisible': ~Eval('gift_product'),
            })
    gift_per_quantity = fields.Float(
        "per Quantity Bought", digits=(16, 4),
        states={
            'readonly': _draft['readonly'],
            'required': Bool(Eval('gift_product')),
            'invisible': ~Eval('gift_product'),
            },
        help="The free quantity is granted for each such quantity of the "
        "rule's products bought (e.g. 1 free per 10).")
    summary = fields.Function(fields.Char("Summary"), 'get_summary')

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.policy, Index.Range())))

    @classmethod
    def get_policy_states(cls):
        Policy = Pool().get('distributor.policy')
        return Policy.fields_get(['state'])['state']['selection']

    @fields.depends('policy', '_parent_policy.state')
    def on_change_with_policy_state(self, name=None):
        return self.policy.state if self.policy else 'draft'

    def get_summary(self, name):
        return self.dms_describe()['text']

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        for rule in rules:
            rule.check_values()

    def check_values(self):
        "A rule gives something, with sensible numbers"
        name = self.name or ''
        if (self.discount_percentage is None and self.discount_amount is None
                and not self.gift_product):
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_no_benefit', rule=name))
        if (self.discount_percentage is not None
                and self.discount_amount is not None):
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_two_discounts', rule=name))
        if self.discount_percentage is not None and not (
                0 < self.discount_percentage <= 1):
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_percentage', rule=name))
        if self.discount_amount is not None and self.discount_amount <= 0:
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_amount', rule=name))
        if ((self.min_quantity or 0) < 0 or (self.min_amount or 0) < 0):
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_threshold', rule=name))
        if self.gift_product and not (
                (self.gift_quantity or 0) > 0
                and (self.gift_per_quantity or 0) > 0):
            raise PromotionError(gettext(
                    'distributor_policy.msg_rule_gift', rule=name))
        if self.policy and self.policy.kind not in PROMOTION_KINDS:
            raise PromotionError(gettext(
                    'distributor_policy.msg_policy_rules_kind',
                    policy=self.policy.rec_name))

    @property
    def gives_discount(self):
        return (self.discount_percentage is not None
            or self.discount_amount is not None)

    def get_formula(self):
        "The sale_promotion formula of the discount (unit_price: list)"
        if self.discount_percentage is not None:
            share = _number(self.discount_percentage)
            return f"unit_price * (1 - Decimal('{share}'))"
        if self.discount_amount is not None:
            return f"unit_price - Decimal('{_number(self.discount_amount)}')"
        return None

    def applies_to(self, product):
        "Whether product is one of the rule's (its products, categories)"
        if product is None:
            return False
        if not self.products and not self.categories:
            return True
        if product in self.products:
            return True
        if self.categories:
            wanted = set(self.categories)
            for category in product.categories_all:
                while category:
                    if category in wanted:
                        return True
                    category = category.parent
        return False

    def bought(self, lines):
        """(quantity, amount) of the rule's products on the lines (not
        gifts), the amount at the price before promotion"""
        quantity, amount = 0.0, Decimal(0)
        for line in lines:
            if getattr(line, 'type', 'line') != 'line' or line.gift:
                continue
            if not self.applies_to(line.product):
                continue
            quantity += line.quantity or 0
            price = (line.original_unit_price
                if line.original_unit_price is not None
                else line.unit_price) or Decimal(0)
            amount += Decimal(str(line.quantity or 0)) * price
        return quantity, amount

    def reached(self, lines):
        "Whether the lines reach the rule's thresholds"
        quantity, amount = self.bought(lines)
        if self.min_quantity and quantity < self.min_quantity:
            return False
        if self.min_amount and amount < self.min_amount:
            return False
        return True

    def entitled(self, lines):
        """The free quantity of gift_product the lines entitle to:
        floor(bought / per quantity) * free quantity, once the
        thresholds are reached"""
        if not self.gift_product or not self.gift_per_quantity:
            return 0.0
        if not self.reached(lines):
            return 0.0
        quantity, _ = self.bought(lines)
        return math.floor(quantity / self.gift_per_quantity + 1e-9) * (
            self.gift_quantity or 0)

    def dms_describe(self):
        """The rule as a dict, with a text in words in the context's
        language ("10% off Cola from 20 units", "1 free Orange Juice per
        10 bought")"""
        names = [p.rec_name for p in self.products] + [
            c.rec_name for c in self.categories]
        products = ', '.join(names) if names else gettext(
            'distributor_policy.msg_summary_all_products')
        parts = []
        if self.discount_percentage is not None:
            parts.append(gettext('distributor_policy.msg_summary_percentage',
                    percentage=_number(self.discount_percentage * 100),
                    products=products))
        elif self.discount_amount is not None:
            parts.append(gettext('distributor_policy.msg_summary_amount',
                    amount=_number(self.discount_amount),
                    products=products))
        if self.gift_product:
            parts.append(gettext('distributor_policy.msg_summary_gift',
                    quantity=_number(self.gift_quantity),
                    gift=self.gift_product.rec_name,
                    per=_number(self.gift_per_quantity),
                    products=products))
        text = '; '.join(parts)
        if self.min_quantity:
            text += gettext('distributor_policy.msg_summary_min_quantity',
                quantity=_number(self.min_quantity))
        if self.min_amount:
            text += gettext('distributor_policy.msg_summary_min_amount',
                amount=_number(self.min_amount))
        return {
            'id': self.id,
            'name': self.name,
            'text': text,
            'products': [{'id': p.id, 'code': p.code, 'name': p.rec_name}
                for p in self.products],
            'categories': [{'id': c.id, 'name': c.rec_name}
                for c in self.categories],
            'min_quantity': self.min_quantity,
            'min_amount': self.min_amount,
            'discount_percentage': self.discount_percentage,
            'discount_amount': self.discount_amount,
            'gift_product': {'id': self.gift_product.id,
                'code': self.gift_product.code,
                'name': self.gift_product.rec_name}
            if self.gift_product else None,
            'gift_quantity': self.gift_quantity,
            'gift_per_quantity': self.gift_per_quantity,
            }


class PromotionRuleProduct(ModelSQL):
    "Promotion Rule - Product"
    __name__ = 'distributor.policy.promotion-product.product'

    rule = fields.Many2One(
        'distributor.policy.promotion', "Rule", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('rule')


class PromotionRuleCategory(ModelSQL):
    "Promotion Rule - Category"
    __name__ = 'distributor.policy.promotion-product.category'

    rule = fields.Many2One(
        'distributor.policy.promotion', "Rule", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'product.category', "Category", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('rule')


class SalePromotion(metaclass=PoolMeta):
    __name__ = 'sale.promotion'

    dms_policy = fields.Many2One(
        'distributor.policy', "Policy", readonly=True, ondelete='RESTRICT',
        help="The policy that created the promotion: it applies only to "
        "the policy's recipients, and changes only with the policy.")
    dms_rule = fields.Many2One(
        'distributor.policy.promotion', "Policy Rule", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.dms_policy, Index.Range())))

    @classmethod
    def _dms_from_outside(cls):
        transaction = Transaction()
        return bool(transaction.user and transaction.check_access
            and not is_trusted())

    @classmethod
    def create(cls, vlist):
        if cls._dms_from_outside():
            for values in vlist:
                if values.get('dms_policy') or values.get('dms_rule'):
                    raise PromotionError(gettext(
                            'distributor_policy.msg_sale_promotion_policy'))
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, promotions, values=None,
            external=False):
        super().check_modification(
            mode, promotions, values=values, external=external)
        if mode in {'write', 'delete'} and cls._dms_from_outside():
            for promotion in promotions:
                if promotion.dms_policy or (
                        values and (values.get('dms_policy')
                            or values.get('dms_rule'))):
                    raise PromotionError(gettext(
                            'distributor_policy.msg_sale_promotion_readonly',
                            promotion=promotion.rec_name,
                            policy=promotion.dms_policy.rec_name
                            if promotion.dms_policy else ''))

    @classmethod
    def copy(cls, promotions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dms_policy', None)
        default.setdefault('dms_rule', None)
        return super().copy(promotions, default=default)

    @classmethod
    def dms_create_for(cls, policies):
        """Create the promotions of the policies' rules that give a
        discount (a gift alone needs none: the gift rule checks it)"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Uom = pool.get('product.uom')
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        company_id = Transaction().context.get('company')
        vlist = []
        for policy in policies:
            company = getattr(policy, 'company', None)
            for rule in policy.promotion_rules:
                if not rule.gives_discount:
                    continue
                uom = (rule.products[0].sale_uom if rule.products
                    else unit)
                vlist.append({
                        'name': f'{policy.title} / {rule.name}'[:256],
                        'company': company.id if company else company_id,
                        'start_date': policy.start_date,
                        'end_date': policy.end_date,
                        'quantity': rule.min_quantity or None,
                        'unit': uom.id if rule.min_quantity else None,
                        'products': [('add', [p.id for p in rule.products])],
                        'categories': [
                            ('add', [c.id for c in rule.categories])],
                        'formula': rule.get_formula(),
                        'dms_policy': policy.id,
                        'dms_rule': rule.id,
                        })
        with trusted():
            return cls.create(vlist) if vlist else []

    @classmethod
    def dms_end_for(cls, policies):
        """End the promotions of closed or withdrawn policies: inactive,
        valid until today at the latest"""
        today = _today()
        with trusted():
            promotions = cls.search([
                    ('dms_policy', 'in', [p.id for p in policies]),
                    ('active', 'in', [True, False]),
                    ])
            to_write = []
            for promotion in promotions:
                values = {'active': False}
                if ((promotion.end_date is None or promotion.end_date > today)
                        and (promotion.start_date is None
                            or promotion.start_date <= today)):
                    values['end_date'] = today
                to_write.extend([[promotion], values])
            if to_write:
                cls.write(*to_write)
        return promotions

    @classmethod
    def _promotions_domain(cls, sale):
        domain = super()._promotions_domain(sale)
        party = sale.party.id if sale.party else -1
        domain.append(['OR',
                ('dms_policy', '=', None),
                [
                    ('dms_policy.state', '=', 'published'),
                    ('dms_policy.recipients.distributor', '=', party),
                    ],
                ])
        return domain

    def get_pattern(self, sale):
        pattern = super().get_pattern(sale)
        if self.dms_rule and self.dms_rule.min_amount:
            _, amount = self.dms_rule.bought(
                [l for l in sale.lines if l.type == 'line'])
            pattern['dms_amount'] = amount
        return pattern

    def is_valid_sale_line(self, line):
        # never a line that takes something off the order (a rebate
        # deduction, quantity -1) nor a gift
        if (line.quantity or 0) < 0 or getattr(line, 'gift', False):
            return False
        return super().is_valid_sale_line(line)

    def match(self, pattern):
        if 'dms_amount' in pattern:
            pattern = pattern.copy()
            amount = pattern.pop('dms_amount')
            if self.dms_rule and amount < (self.dms_rule.min_amount or 0):
                return False
        return super().match(pattern)


class _Lines:
    "A sale seen without some of its lines (for a rule to skip them)"

    def __init__(self, sale, skip):
        self._sale = sale
        self._skip = set(skip)

    def __getattr__(self, name):
        return getattr(self._sale, name)

    @property
    def line_lines(self):
        return [l for l in self._sale.line_lines if l not in self._skip]


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    def apply_promotion(self):
        # a distributor order is priced by the promotions active when it
        # is submitted and again when it is approved: a promotion that
        # ended meanwhile no longer prices it
        if self.distributor_order:
            self.unapply_promotion()
        super().apply_promotion()

    @classmethod
    def _dms_prepare(cls, sales):
        super()._dms_prepare(sales)
        cls.dms_apply_promotions(sales)

    @classmethod
    def dms_apply_promotions(cls, sales):
        """Price the distributor orders with the promotions that target
        them today (workflow code: trusted)"""
        sales = [s for s in cls.browse(list(map(int, sales)))
            if s.distributor_order and s.order_kind != 'return']
        if not sales:
            return
        with trusted():
            for sale in sales:
                sale.apply_promotion()
            cls.save(sales)

    @classmethod
    def _dms_set_channel_state(cls, sales, state, **values):
        super()._dms_set_channel_state(sales, state, **values)
        if state == 'rejected':
            # back in the distributor's hands at its prices before
            # promotion: submitting again prices it anew
            sales = cls.browse(list(map(int, sales)))
            with trusted():
                for sale in sales:
                    sale.unapply_promotion()
                cls.save(sales)

    # Channel rules -----------------------------------------------------

    @classmethod
    def _dms_rules(cls):
        rules = super()._dms_rules()
        position = rules.index('lines') + 1 if 'lines' in rules else len(
            rules)
        return rules[:position] + ['promotion_gifts'] + rules[position:]

    @classmethod
    def _dms_rule_label(cls, rule):
        if rule == 'promotion_gifts':
            return gettext('distributor_policy.msg_rule_promotion_gifts')
        return super()._dms_rule_label(rule)

    @classmethod
    def _dms_rule_context(cls, sales):
        pool = Pool()
        Policy = pool.get('distributor.policy')
        context = super()._dms_rule_context(sales)
        today = _today()
        context.dms_policies = {}
        for party in {s.party for s in sales if s.party}:
            context.dms_policies[party.id] = Policy.dms_active_promotions(
                party, today)
        return context

    @classmethod
    def dms_gift_entitlements(cls, sale, policies):
        """{product id: [(rule, free quantity)]} that the order's lines
        entitle to under the policies"""
        lines = [l for l in sale.line_lines]
        result = defaultdict(list)
        for policy in policies:
            for rule in policy.promotion_rules:
                if rule.gift_product:
                    result[rule.gift_product.id].append(
                        (rule, rule.entitled(lines)))
        return result

    @classmethod
    def _dms_rule_promotion_gifts(cls, sale, context):
        """A gift comes from an active promotion targeting the
        distributor, within the quantity it entitles to"""
        gifts = defaultdict(float)
        products = {}
        for line in sale.line_lines:
            if line.gift and line.product:
                gifts[line.product.id] += line.quantity or 0
                products[line.product.id] = line.product
        if not gifts:
            return None
        policies = context.dms_policies.get(
            sale.party.id if sale.party else None, [])
        entitlements = cls.dms_gift_entitlements(sale, policies)
        for product_id, quantity in gifts.items():
            product = products[product_id]
            granted = entitlements.get(product_id)
            if not granted:
                return gettext('distributor_policy.msg_gift_no_promotion',
                    order=context.order, product=product.rec_name)
            entitled = sum(q for _, q in granted)
            if quantity > entitled + 1e-9:
                return gettext(
                    'distributor_policy.msg_gift_above_entitlement',
                    order=context.order, product=product.rec_name,
                    quantity=_number(quantity), entitled=_number(entitled))
        return None

    @classmethod
    def _dms_rule_price_floor(cls, sale, context):
        """A line priced by an active promotion that targets the
        distributor may lie under the tier's floor"""
        active = {p.id for p in context.dms_policies.get(
                sale.party.id if sale.party else None, [])}
        promoted = [l for l in sale.line_lines
            if l.promotion and l.promotion.dms_policy
            and l.promotion.dms_policy.id in active]
        if promoted:
            sale = _Lines(sale, promoted)
        return super()._dms_rule_price_floor(sale, context)


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    dms_policy = fields.Function(
        fields.Many2One('distributor.policy', "Promotion Policy",
            states={
                'invisible': ~Eval('dms_policy'),
                },
            help="The policy whose promotion priced the line, or granted "
            "it as a gift."),
        'get_dms_policy')

    @classmethod
    def get_dms_policy(cls, lines, name):
        pool = Pool()
        Policy = pool.get('distributor.policy')
        Sale = pool.get('sale.sale')
        result = {}
        with trusted():
            lines = cls.browse(lines)
            gifts = defaultdict(list)
            for line in lines:
                result[line.id] = None
                if line.type != 'line':
                    continue
                if line.promotion and line.promotion.dms_policy:
                    result[line.id] = line.promotion.dms_policy.id
                elif line.gift and line.product and line.sale:
                    gifts[line.sale].append(line)
            for sale, gift_lines in gifts.items():
                date = (sale.submitted_at.date()
                    if getattr(sale, 'submitted_at', None) else None)
                policies = Policy.dms_active_promotions(sale.party, date)
                entitlements = Sale.dms_gift_entitlements(sale, policies)
                for line in gift_lines:
                    granted = [r for r, q in entitlements.get(
                            line.product.id, []) if q > 0]
                    if granted:
                        result[line.id] = granted[0].policy.id
        return result
