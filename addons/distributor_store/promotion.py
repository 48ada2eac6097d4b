# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Store promotions run by a distributor within the brand's policy"
import math
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count, Sum

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor import validation
from distributor.access import entry_point, resolve, trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, serialize)
from distributor.exceptions import InputError, RecordNotFound

from .exceptions import StorePromotionError

KINDS = [
    ('percentage', "Percentage Off"),
    ('threshold', "Amount Off Above a Threshold (满减)"),
    ('buy_get', "Buy X Get Y (买赠)"),
    ]
STATES = [
    ('draft', "Draft"),
    ('active', "Active"),
    ('closed', "Closed"),
    ]
ZERO = Decimal(0)
# the values of dms_save_promotion: those of every kind, and each kind's
PROMOTION_VALUES = {'name', 'kind', 'products', 'stores', 'start_date',
    'end_date'}
KIND_VALUES = {
    'percentage': {'percentage'},
    'threshold': {'threshold_amount', 'amount_off'},
    'buy_get': {'buy_quantity', 'gift_product', 'gift_quantity'},
    }
PROMOTION_ACTIONS = {
    # action: (the state it acts from, the workflow button)
    'activate': ('draft', 'activate'),
    'close': ('active', 'close'),
    }


class Promotion(Document, ModelSQL, ModelView):
    """Store Promotion

    A distributor's promotion for its stores: a percentage off, an amount
    off above a threshold (满减) or gifts for quantities bought (买赠),
    over a period, for all or some of its stores and products; applied
    automatically to their channel orders."""
    __name__ = 'distributor.store.promotion'
    _dms_editable_states = {'draft'}
    _dms_workflow_fields = {'usages', 'state_logs'}
    _dms_log_model = 'distributor.store.promotion.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    name = fields.Char("Name", required=True, states=_draft)
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        domain=[('is_distributor', '=', True)], states=_draft)
    kind = fields.Selection(KINDS, "Kind", required=True, states=_draft)
    percentage = fields.Numeric(
        "Percentage", digits=(1, 4),
        domain=['OR', ('percentage', '=', None),
            [('percentage', '>', 0), ('percentage', '<=', 1)]],
        states={
            'invisible': Eval('kind') != 'percentage',
            'required': Eval('kind') == 'percentage',
            'readonly': Eval('state') != 'draft',
            },
        help="The share taken off the price, e.g. 0.1 for 10 %.")
    threshold_amount = fields.Numeric(
        "Threshold", digits=(16, 2),
        states={
            'invisible': Eval('kind') != 'threshold',
            'required': Eval('kind') == 'threshold',
            'readonly': Eval('state') != 'draft',
            })
    amount_off = fields.Numeric(
        "Amount Off", digits=(16, 2),
        states={
            'invisible': Eval('kind') != 'threshold',
            'required': Eval('kind') == 'threshold',
            'readonly': Eval('state') != 'draft',
            })
    buy_quantity = fields.Float(
        "Buy Quantity",
        states={
            'invisible': Eval('kind') != 'buy_get',
            'required': Eval('kind') == 'buy_get',
            'readonly': Eval('state') != 'draft',
            })
    gift_product = fields.Many2One(
        'product.product', "Gift Product", ondelete='RESTRICT',
        states={
            'invisible': Eval('kind') != 'buy_get',
            'required': Eval('kind') == 'buy_get',
            'readonly': Eval('state') != 'draft',
            })
    gift_quantity = fields.Float(
        "Gift Quantity",
        states={
            'invisible': Eval('kind') != 'buy_get',
            'required': Eval('kind') == 'buy_get',
            'readonly': Eval('state') != 'draft',
            })
    products = fields.Many2Many(
        'distributor.store.promotion-product.product', 'promotion',
        'product', "Products", states=_draft,
        help="The products it applies to (and count towards a threshold); "
        "empty for all.")
    stores = fields.Many2Many(
        'distributor.store.promotion-party.party', 'promotion', 'store',
        "Stores",
        domain=[('is_store', '=', True),
            ('store_distributor', '=', Eval('distributor', -1))],
        states=_draft,
        help="The stores it targets; empty for all the distributor's "
        "stores.")
    start_date = fields.Date("Start Date", required=True, states=_draft)
    end_date = fields.Date(
        "End Date", required=True, states=_draft,
        domain=[('end_date', '>=', Eval('start_date', None))])
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    usage_orders = fields.Function(
        fields.Integer("Orders"), 'get_usage')
    usage_discount = fields.Function(
        fields.Numeric("Discount Given", digits=(16, 2)), 'get_usage')
    usage_gift_quantity = fields.Function(
        fields.Float("Gifts Given"), 'get_usage')
    usages = fields.One2Many(
        'distributor.store.promotion.usage', 'promotion', "Usage",
        readonly=True)
    state_logs = fields.One2Many(
        'distributor.store.promotion.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.distributor, Index.Range()),
                (t.state, Index.Equality(cardinality='low'))))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'active'),
            ('active', 'closed'),
            ('active', 'draft'),
            }
        cls._buttons.update({
                'activate': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_list_promotions': RPC(),
                'dms_save_promotion': RPC(readonly=False),
                'dms_promotion_action': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def get_usage(cls, promotions, names):
        Usage = Pool().get('distributor.store.promotion.usage')
        usage = Usage.__table__()
        cursor = Transaction().connection.cursor()
        ids = [p.id for p in promotions]
        result = {n: {i: None for i in ids} for n in names}
        for name in names:
            for i in ids:
                result[name][i] = (0 if name == 'usage_orders'
                    else ZERO if name == 'usage_discount' else 0.0)
        cursor.execute(*usage.select(usage.promotion,
                Count(usage.order), Sum(usage.discount_amount),
                Sum(usage.gift_quantity),
                where=usage.promotion.in_(ids or [-1]),
                group_by=[usage.promotion]))
        for promotion, orders, discount, gifts in cursor:
            values = {'usage_orders': orders,
                'usage_discount': Decimal(str(discount or 0)).quantize(
                    Decimal('0.01')),
                'usage_gift_quantity': gifts or 0.0}
            for name in names:
                result[name][promotion] = values[name]
        return result

    @property
    def rate(self):
        """The share of the price the promotion takes at most: its
        percentage, the amount off over its threshold, and for buy X get Y
        the value of the gifts over the value of the goods bought and
        given, at the distributor's store prices; the goods bought are
        valued at the cheapest qualifying product (the largest share),
        or, when every product qualifies, at the gift's price"""
        if self.kind == 'percentage':
            return self.percentage or ZERO
        if self.kind == 'threshold':
            if not self.threshold_amount:
                return Decimal(1)
            return (self.amount_off or ZERO) / self.threshold_amount
        buy = Decimal(str(self.buy_quantity or 0))
        gifts = Decimal(str(self.gift_quantity or 0))
        gift_price = bought_price = Decimal(1)
        distributor = getattr(self, 'distributor', None)
        gift_product = getattr(self, 'gift_product', None)
        if distributor and gift_product:
            Price = Pool().get('distributor.store.price')
            goods = list(getattr(self, 'products', None) or [])
            prices = Price.prices_for(distributor, goods + [gift_product])
            gift_price = prices[gift_product.id]
            bought_price = min(
                (prices[p.id] for p in goods), default=gift_price)
        total = buy * bought_price + gifts * gift_price
        return gifts * gift_price / total if total else ZERO

    def overlaps(self, other):
        if other.distributor != self.distributor:
            return False
        if other.end_date < self.start_date or (
                other.start_date > self.end_date):
            return False
        if self.stores and other.stores and not (
                set(self.stores) & set(other.stores)):
            return False
        if self.products and other.products and not (
                set(self.products) & set(other.products)):
            return False
        return True

    @classmethod
    def check_policy(cls, promotions):
        """The brand's policy: values that make sense, and promotions that
        overlap (distributor, dates, stores, products) do not take more
        than the maximum discount together"""
        Configuration = Pool().get('distributor.configuration')
        maximum = Configuration(1).store_promotion_max_discount
        for promotion in promotions:
            if promotion.kind == 'threshold' and not (
                    promotion.amount_off and promotion.amount_off > 0
                    and promotion.threshold_amount
                    and promotion.threshold_amount > promotion.amount_off):
                raise StorePromotionError(gettext(
                        'distributor_store.msg_promotion_threshold',
                        promotion=promotion.rec_name))
            if promotion.kind == 'buy_get' and not (
                    promotion.buy_quantity and promotion.buy_quantity > 0
                    and promotion.gift_quantity
                    and promotion.gift_quantity > 0
                    and promotion.gift_product):
                raise StorePromotionError(gettext(
                        'distributor_store.msg_promotion_buy_get',
                        promotion=promotion.rec_name))
            if promotion.kind == 'percentage' and not (
                    promotion.percentage and promotion.percentage > 0):
                raise StorePromotionError(gettext(
                        'distributor_store.msg_promotion_percentage',
                        promotion=promotion.rec_name))
            others = [p for p in cls.search([
                        ('distributor', '=', promotion.distributor.id),
                        ('state', '=', 'active'),
                        ('id', '!=', promotion.id),
                        ('start_date', '<=', promotion.end_date),
                        ('end_date', '>=', promotion.start_date),
                        ]) if promotion.overlaps(p)]
            total = promotion.rate + sum((p.rate for p in others), ZERO)
            if total > maximum:
                raise StorePromotionError(gettext(
                        'distributor_store.msg_promotion_stack',
                        promotion=promotion.rec_name,
                        rate=f'{promotion.rate:.0%}',
                        total=f'{total:.0%}',
                        maximum=f'{maximum:.0%}',
                        others=', '.join(p.rec_name for p in others)
                        or '-'))

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, promotions):
        Party = Pool().get('party.party')
        # promotions of the same distributor are activated one after the
        # other, here as in concurrent calls, so that each is checked
        # against the others
        serialize(Party, {p.distributor for p in promotions})
        for promotion in promotions:
            cls.check_policy([promotion])
            cls.write([promotion], {'state': 'active'})
        cls._announce(promotions)

    @classmethod
    def _announce(cls, promotions):
        """Post the promotions to the stores they target (all the active
        stores of the distributor when none is named): their inbox in
        the portal"""
        pool = Pool()
        Party = pool.get('party.party')
        Message = pool.get('distributor.message')
        items = []
        with trusted():
            for promotion in promotions:
                if promotion.stores:
                    stores = [s for s in promotion.stores
                        if s.store_state == 'active']
                else:
                    stores = Party.search([
                            ('is_store', '=', True),
                            ('store_distributor', '=',
                                promotion.distributor.id),
                            ('store_state', '=', 'active'),
                            ], order=[('id', 'ASC')])
                for store in stores:
                    items.append((store,
                            'distributor_store.msg_message_promotion',
                            promotion, {
                                'promotion': promotion.name,
                                'distributor': promotion.distributor.rec_name,
                                'start': promotion.start_date.isoformat(),
                                'end': promotion.end_date.isoformat(),
                                }, None))
            Message.post(items)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, promotions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, promotions):
        pass

    @classmethod
    def applicable(cls, orders):
        """{order id: the active promotions of its seller for its store on
        its date}, in one search for all the orders"""
        orders = [o for o in orders if o.buyer.is_store]
        if not orders:
            return {}
        promotions = cls.search([
                ('distributor', 'in', list({o.seller.id for o in orders})),
                ('state', '=', 'active'),
                ('start_date', '<=', max(o.date for o in orders)),
                ('end_date', '>=', min(o.date for o in orders)),
                ], order=[('id', 'ASC')])
        return {o.id: [p for p in promotions
                if p.distributor == o.seller
                and p.start_date <= o.date <= p.end_date
                and (not p.stores or o.buyer in p.stores)]
            for o in orders}

    def qualifies(self, product):
        return not self.products or product in self.products

    @classmethod
    def apply(cls, orders):
        """Price the orders with the promotions in force: percentages on
        the qualifying lines (capped by the policy), the threshold amount
        off once per order, gift lines for buy X get Y; each promotion
        used leaves a usage record"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        Usage = pool.get('distributor.store.promotion.usage')
        Price = pool.get('distributor.store.price')
        Configuration = pool.get('distributor.configuration')
        maximum = Configuration(1).store_promotion_max_discount
        usages, gifts, lines_to_save = [], [], []
        orders = Order.browse(list(map(int, orders)))
        applicable = cls.applicable(orders)
        for order in orders:
            promotions = applicable.get(order.id, [])
            discount_amount = ZERO
            lines = [l for l in order.lines if not l.promotion_gift]
            used = defaultdict(lambda: [ZERO, 0.0])
            for line in lines:
                rates = [(p, p.percentage) for p in promotions
                    if p.kind == 'percentage' and p.qualifies(line.product)]
                if not rates:
                    continue
                rate = min(sum((r for _, r in rates), ZERO), maximum)
                line.discount = rate
                line.unit_price = line.base_price
                line.promotion = max(rates, key=lambda r: r[1])[0]
                lines_to_save.append(line)
                gross = Decimal(str(line.quantity)) * line.base_price
                share = sum((r for _, r in rates), ZERO)
                for promotion, r in rates:
                    used[promotion][0] += (gross * rate * r / share
                        ).quantize(Decimal('0.01'))
            for promotion in promotions:
                if promotion.kind == 'threshold':
                    base = sum((l._amount(l.quantity) for l in lines
                            if promotion.qualifies(l.product)), ZERO)
                    if base >= promotion.threshold_amount:
                        discount_amount += promotion.amount_off
                        used[promotion][0] += promotion.amount_off
                elif promotion.kind == 'buy_get':
                    bought = sum(l.quantity for l in lines
                        if promotion.qualifies(l.product))
                    times = math.floor(bought / promotion.buy_quantity
                        + 1e-9)
                    if times > 0:
                        product = promotion.gift_product
                        quantity = product.default_uom.round(
                            times * promotion.gift_quantity)
                        price = Price.prices_for(
                            order.seller, [product])[product.id]
                        gifts.append(Line(order=order, product=product,
                                quantity=quantity, base_price=price,
                                unit_price=price, discount=Decimal(1),
                                promotion=promotion, promotion_gift=True))
                        used[promotion][0] += (Decimal(str(quantity))
                            * price).quantize(Decimal('0.01'))
                        used[promotion][1] += quantity
            order.discount_amount = discount_amount
            for promotion, (amount, gift_quantity) in used.items():
                usages.append(Usage(promotion=promotion, order=order,
                        discount_amount=amount, gift_quantity=gift_quantity))
        Line.save(lines_to_save + gifts)
        Order.save(orders)
        Usage.save(usages)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']})
    def dms_list_promotions(cls, party):
        """The active promotions a distributor runs, or that target a
        store, as dicts"""
        if party.is_store:
            promotions = [p for p in cls.search([
                        ('distributor', '=', party.store_distributor.id),
                        ('state', '=', 'active'),
                        ]) if not p.stores or party in p.stores]
        else:
            promotions = cls.search([
                    ('distributor', '=', party.id),
                    ('state', 'in', ['draft', 'active']),
                    ])
        return [{
                'id': p.id,
                'name': p.name,
                'kind': p.kind,
                'start_date': p.start_date.isoformat(),
                'end_date': p.end_date.isoformat(),
                'percentage': str(p.percentage) if p.percentage else None,
                'threshold': str(p.threshold_amount)
                if p.threshold_amount else None,
                'amount_off': str(p.amount_off) if p.amount_off else None,
                'buy_quantity': p.buy_quantity,
                'gift_product': p.gift_product.code
                if p.gift_product else None,
                'gift_quantity': p.gift_quantity,
                'products': [x.code for x in p.products],
                } for p in promotions]


    @classmethod
    def _dms_own(cls, party, promotions):
        "The promotions must be the distributor's: else as if missing"
        for promotion in promotions:
            if promotion.distributor != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=promotion.id))
        return promotions

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        record={'promotion': None})
    def dms_save_promotion(cls, party, values, promotion=None):
        """Create (or update promotion, a draft) a store promotion of the
        distributor from values: name, kind, the values of the kind
        (percentage; threshold_amount and amount_off; buy_quantity,
        gift_product (id or code) and gift_quantity), products (ids or
        codes, empty for all), stores (ids of its stores, empty for all),
        start_date, end_date; every value is checked before anything is
        written; returns the promotion's id"""
        Party = Pool().get('party.party')
        validation.keys(values, 'values',
            PROMOTION_VALUES.union(*KIND_VALUES.values()))
        if promotion is not None:
            cls._dms_own(party, [promotion])
            cls.dms_check_state([promotion], {'draft'})
        else:
            promotion = cls(distributor=party, products=[], stores=[])
            for name in ['name', 'kind', 'start_date', 'end_date']:
                if values.get(name) in (None, ''):
                    raise InputError(gettext(
                            'distributor.msg_input_required',
                            field=cls._dms_label(name)))
        label = cls._dms_label
        if 'kind' in values:
            promotion.kind = validation.choice(values['kind'],
                label('kind'), KINDS)
        # only the values of the kind; the other kinds' are cleared
        validation.keys(values, 'values',
            PROMOTION_VALUES | KIND_VALUES[promotion.kind])
        for kind, names in KIND_VALUES.items():
            if kind != promotion.kind:
                for name in names:
                    setattr(promotion, name, None)
        if 'name' in values:
            promotion.name = validation.text(values['name'], label('name'),
                size=128, required=True, multiline=False)
        for name in ['start_date', 'end_date']:
            if name in values:
                setattr(promotion, name, validation.date(values[name],
                        label(name)))
        if 'percentage' in values:
            promotion.percentage = validation.number(values['percentage'],
                label('percentage'), digits=4, positive=True, maximum=1)
        for name in ['threshold_amount', 'amount_off']:
            if name in values:
                setattr(promotion, name, validation.amount(values[name],
                        label(name), positive=True))
        for name in ['buy_quantity', 'gift_quantity']:
            if name in values:
                setattr(promotion, name, validation.quantity(values[name],
                        label(name)))
        if 'gift_product' in values:
            promotion.gift_product, = cls._dms_products(
                [values['gift_product']], label('gift_product'))
        if 'products' in values:
            promotion.products = cls._dms_products(values['products'],
                label('products'))
        if 'stores' in values:
            stores = values['stores']
            if stores is not None and not isinstance(stores, (list, tuple)):
                raise InputError(gettext(
                        'distributor.msg_input_ids', field=label('stores')))
            promotion.stores = resolve(Party, list(stores or []),
                label('stores'), domain=[
                    ('is_store', '=', True),
                    ('store_distributor', '=', party.id),
                    ])
        if promotion.end_date < promotion.start_date:
            raise InputError(gettext(
                    'distributor.msg_input_minimum',
                    field=label('end_date'),
                    value=promotion.end_date.isoformat(),
                    minimum=promotion.start_date.isoformat()))
        for name in KIND_VALUES[promotion.kind]:
            if getattr(promotion, name, None) is None:
                raise InputError(gettext(
                        'distributor.msg_input_required',
                        field=label(name)))
        validation.check_record_fields([promotion])
        promotion.save()
        return promotion.id

    @classmethod
    def _dms_label(cls, name):
        return cls.fields_get([name])[name]['string']

    @classmethod
    def _dms_products(cls, values, field):
        "The products of a list of ids or codes"
        Product = Pool().get('product.product')
        if values is None:
            return []
        if not isinstance(values, (list, tuple)):
            raise InputError(gettext(
                    'distributor.msg_input_ids', field=field))
        if len(values) > validation.limits().max_lines:
            raise InputError(gettext(
                    'distributor.msg_input_too_many_lines', field=field,
                    maximum=validation.limits().max_lines,
                    count=len(values)))
        for value in values:
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                raise InputError(gettext(
                        'distributor.msg_input_id', field=field,
                        value=str(value)[:40]))
        return list(dict.fromkeys(p for p, _ in
                Product.dms_resolve_products_lots(
                    [(v, None) for v in values])))

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'promotions': None})
    def dms_promotion_action(cls, party, promotions, action):
        """Run the workflow action (activate, close) on the distributor's
        promotions; activate checks the brand's promotion policy"""
        action = validation.choice(action, 'action',
            list(PROMOTION_ACTIONS))
        state, button = PROMOTION_ACTIONS[action]
        cls._dms_own(party, promotions)
        cls.dms_check_state(promotions, {state})
        getattr(cls, button)(promotions)
        return [p.id for p in promotions]


class PromotionLog(DocumentLog, ModelSQL, ModelView):
    "State history of a store promotion"
    __name__ = 'distributor.store.promotion.log'

    document = fields.Many2One(
        'distributor.store.promotion', "Promotion", required=True,
        ondelete='CASCADE', readonly=True)


class PromotionProduct(DocumentLine, ModelSQL):
    "Store Promotion - Product"
    __name__ = 'distributor.store.promotion-product.product'
    _dms_document = 'promotion'
    promotion = fields.Many2One(
        'distributor.store.promotion', "Promotion", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')


class PromotionStore(DocumentLine, ModelSQL):
    "Store Promotion - Store"
    __name__ = 'distributor.store.promotion-party.party'
    _dms_document = 'promotion'
    promotion = fields.Many2One(
        'distributor.store.promotion', "Promotion", required=True,
        ondelete='CASCADE')
    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='CASCADE')


class PromotionUsage(ModelSQL, ModelView):
    "Store Promotion Usage"
    __name__ = 'distributor.store.promotion.usage'

    promotion = fields.Many2One(
        'distributor.store.promotion', "Promotion", required=True,
        readonly=True, ondelete='CASCADE')
    order = fields.Many2One(
        'distributor.channel.order', "Order", required=True, readonly=True,
        ondelete='CASCADE')
    store = fields.Function(
        fields.Many2One('party.party', "Store"), 'get_store')
    date = fields.Function(fields.Date("Date"), 'get_date')
    discount_amount = fields.Numeric(
        "Discount", digits=(16, 2), readonly=True)
    gift_quantity = fields.Float("Gift Quantity", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('promotion')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.promotion, Index.Range())),
                Index(t, (t.order, Index.Range())),
                })

    def get_store(self, name):
        return self.order.buyer.id

    def get_date(self, name):
        return self.order.date
