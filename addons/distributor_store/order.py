# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Channel orders: what a distributor sells on, to its stores, its
terminal customers and its downstream distributors.  They move channel
stock and write nothing in the brand's books.

The document, its lines, workflow, notifications and wizards; its rules
are in order_rule.py, its portal API in order_api.py, its stock hooks in
stock.py."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, ReasonWizard, serialize)
from distributor_stock.exceptions import TransferError
from distributor_stock.level import storage_moves
from distributor_stock.transfer import pick_lots

from .exceptions import StoreOrderError

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('delivered', "Delivered"),
    ('received', "Received"),
    ('done', "Done"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]
BUYER_KINDS = [
    (None, ""),
    ('store', "Store"),
    ('distributor', "Downstream Distributor"),
    ('customer', "Terminal Customer"),
    ]
RESOLUTIONS = [
    (None, ""),
    ('return', "Returned to the Seller"),
    ('write_off', "Written Off"),
    ]
# the states in which the goods have left the seller
DELIVERED = ['delivered', 'received', 'done']
ZERO = Decimal(0)


def _now():
    return dt.datetime.now()


def _today():
    return Pool().get('ir.date').today()


def _prices(moves):
    "Keep the unit price only on the moves Tryton values (customer side)"
    for move in moves:
        if not move.on_change_with_unit_price_required():
            move.unit_price = None
            move.currency = None


class ChannelOrder(Document, ModelSQL, ModelView):
    """Channel Order

    A sale inside the channel: a store, a terminal customer or a
    downstream distributor buys from its own distributor, which approves
    and delivers from its own stock."""
    __name__ = 'distributor.channel.order'
    _rec_name = 'number'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'rejected', 'cancelled'}
    _dms_free_fields = {'comment'}
    _dms_workflow_fields = {
        'number', 'discount_amount', 'billed_amount',
        'delivered_date', 'submitted_by', 'submitted_at', 'approved_by',
        'approved_at', 'delivered_by', 'delivered_at', 'received_by',
        'received_at', 'reason', 'promotion_usages', 'state_logs'}
    _dms_log_model = 'distributor.channel.order.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    seller = fields.Many2One(
        'party.party', "Seller", required=True, ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)], states=_draft,
        context={'company': Eval('company', -1)}, depends={'company'})
    buyer = fields.Many2One(
        'party.party', "Buyer", required=True, ondelete='RESTRICT',
        domain=['OR',
            ('store_distributor', '=', Eval('seller', -1)),
            ('customer_distributor', '=', Eval('seller', -1)),
            ('upstream', '=', Eval('seller', -1)),
            ],
        states=_draft,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="A store or terminal customer of the seller, or one of its "
        "downstream distributors.")
    buyer_kind = fields.Selection(
        BUYER_KINDS, "Buyer Kind", readonly=True)
    delivery_address = fields.Many2One(
        'party.address', "Delivery Address", ondelete='RESTRICT',
        domain=[('party', '=', Eval('buyer', -1))], states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    lines = fields.One2Many(
        'distributor.channel.order.line', 'order', "Lines", states=_draft)
    subtotal = fields.Function(
        fields.Numeric("Subtotal", digits='currency'), 'get_amounts')
    discount_amount = fields.Numeric(
        "Threshold Discount", digits='currency', readonly=True,
        help="Amount taken off by threshold promotions (满减).")
    total_amount = fields.Function(
        fields.Numeric("Total", digits='currency'), 'get_amounts')
    billed_amount = fields.Numeric(
        "Billed Amount", digits='currency', readonly=True,
        help="What the buyer owes: the delivered goods, then the received "
        "goods, at the order's prices less its discounts.")
    delivered_date = fields.Date("Delivery Date", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    backordered = fields.Function(
        fields.Boolean("Back-ordered",
            help="Approved, but the seller's stock does not cover it yet."),
        'get_backordered', searcher='search_backordered')
    submitted_by = fields.Many2One('res.user', "Submitted by", readonly=True)
    submitted_at = fields.DateTime("Submitted at", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved by", readonly=True)
    approved_at = fields.DateTime("Approved at", readonly=True)
    delivered_by = fields.Many2One('res.user', "Delivered by", readonly=True)
    delivered_at = fields.DateTime("Delivered at", readonly=True)
    received_by = fields.Many2One('res.user', "Received by", readonly=True)
    received_at = fields.DateTime("Received at", readonly=True)
    reason = fields.Text(
        "Reason", readonly=True, states={'invisible': ~Eval('reason')},
        help="Why the order was rejected or cancelled.")
    comment = fields.Text("Comment")
    promotion_usages = fields.One2Many(
        'distributor.store.promotion.usage', 'order', "Promotions",
        readonly=True)
    moves = fields.Function(
        fields.Many2Many('stock.move', None, None, "Moves"), 'get_moves')
    open_discrepancies = fields.Function(
        fields.Integer("Open Discrepancies"), 'get_open_discrepancies')
    state_logs = fields.One2Many(
        'distributor.channel.order.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.seller, Index.Range())),
                Index(t, (t.buyer, Index.Range()),
                    (t.delivered_date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'delivered'),
            ('delivered', 'received'),
            ('delivered', 'done'),
            ('received', 'done'),
            ('draft', 'cancelled'),
            ('submitted', 'cancelled'),
            ('approved', 'cancelled'),
            ('rejected', 'draft'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'deliver': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                'receive': {
                    'invisible': Eval('state') != 'delivered',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ((Eval('state') != 'received')
                        | ~Eval('open_discrepancies', 0)),
                    'depends': ['state', 'open_discrepancies'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'submitted', 'approved']),
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_currency(cls):
        Company = Pool().get('company.company')
        company = Transaction().context.get('company')
        if company is not None and company >= 0:
            return Company(company).currency.id

    @classmethod
    def default_date(cls):
        return _today()

    @classmethod
    def default_discount_amount(cls):
        return ZERO

    @fields.depends('buyer', 'seller')
    def on_change_buyer(self):
        if self.buyer and not self.seller:
            self.seller = (self.buyer.store_distributor
                or self.buyer.customer_distributor or self.buyer.upstream)
        if self.buyer:
            self.buyer_kind = self.kind_of(self.buyer)

    @staticmethod
    def kind_of(party):
        if party.is_store:
            return 'store'
        if party.is_terminal_customer:
            return 'customer'
        if party.is_distributor:
            return 'distributor'
        return None

    @classmethod
    def get_amounts(cls, orders, names):
        result = {n: {} for n in names}
        for order in orders:
            subtotal = sum((l.amount or ZERO for l in order.lines), ZERO)
            if 'subtotal' in names:
                result['subtotal'][order.id] = subtotal
            if 'total_amount' in names:
                result['total_amount'][order.id] = max(
                    subtotal - (order.discount_amount or ZERO), ZERO)
        return result

    def get_moves(self, name):
        return [m.id for l in self.lines for m in l.moves]

    def get_open_discrepancies(self, name):
        return sum(1 for l in self.lines if l.discrepancy_state == 'open')

    @classmethod
    def _shortages(cls, orders):
        """{order id: [(product, wanted, available)]} of approved orders
        the seller's storage cannot cover now"""
        Level = Pool().get('distributor.stock.level')
        orders = [o for o in orders if o.state == 'approved']
        if not orders:
            return {}
        sellers = {o.seller for o in orders}
        products = {l.product for o in orders for l in o.lines}
        stock = defaultdict(float)
        for (party, product, _), quantity in Level.levels(
                sellers, products, lots=False).items():
            stock[(party, product)] += quantity
        result = {}
        for order in orders:
            wanted = defaultdict(float)
            for line in order.lines:
                wanted[line.product] += line.quantity or 0
            short = [(product, quantity,
                    stock.get((order.seller.id, product.id), 0.0))
                for product, quantity in wanted.items()
                if quantity > stock.get((order.seller.id, product.id), 0.0)
                + 1e-9]
            if short:
                result[order.id] = short
        return result

    @classmethod
    def _backordered_query(cls, where=None):
        """The ids of the approved orders (under where) whose seller's
        storage cannot cover a product now, in one query: the searcher and
        the getter share it"""
        pool = Pool()
        Line = pool.get('distributor.channel.order.line')
        order = cls.__table__()
        line = Line.__table__()
        condition = order.state == 'approved'
        if where is not None:
            condition &= where(order)
        wanted = line.join(order, condition=line.order == order.id).select(
            order.id.as_('order'), order.seller.as_('seller'),
            line.product.as_('product'), Sum(line.quantity).as_('quantity'),
            where=condition,
            group_by=[order.id, order.seller, line.product])
        sellers = order.select(order.seller, where=condition)
        moves = storage_moves(
            location_where=lambda l: l.distributor.in_(sellers))
        stock = moves.select(moves.distributor, moves.product,
            Sum(moves.qty).as_('quantity'),
            group_by=[moves.distributor, moves.product])
        return wanted.join(stock, 'LEFT',
            condition=(stock.distributor == wanted.seller)
            & (stock.product == wanted.product)
            ).select(wanted.order,
                where=wanted.quantity
                > Coalesce(stock.quantity, 0) + 1e-9,
                group_by=[wanted.order])

    @classmethod
    def get_backordered(cls, orders, name):
        cursor = Transaction().connection.cursor()
        result = {o.id: False for o in orders}
        for sub in grouped_slice([o.id for o in orders], MAX_QUERY_PARAMS):
            sub = list(sub)
            cursor.execute(*cls._backordered_query(
                    lambda order: reduce_ids(order.id, sub)))
            result.update((order_id, True) for order_id, in cursor)
        return result

    @classmethod
    def search_backordered(cls, name, clause):
        _, operator, value = clause
        query = cls._backordered_query()
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('date', cls.default_date())
        default.setdefault('lines', None)
        new = super().copy(orders, default=default)
        Line = Pool().get('distributor.channel.order.line')
        for order, copy in zip(orders, new):
            Line.copy([l for l in order.lines if not l.promotion_gift],
                default={'order': copy.id})
        return new

    @classmethod
    def preprocess_values(cls, mode, values):
        """The buyer kind follows the buyer whatever a client sends; an
        order is numbered at creation, so that refusals can name it (the
        document base has checked the client's values before)"""
        pool = Pool()
        Party = pool.get('party.party')
        Configuration = pool.get('distributor.configuration')
        values = super().preprocess_values(mode, values)
        values.pop('buyer_kind', None)
        if values.get('buyer'):
            values['buyer_kind'] = cls.kind_of(Party(values['buyer']))
        if mode == 'create' and not values.get('number'):
            values['number'] = (
                Configuration(1).channel_order_sequence.get())
        return values

    # Workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, orders):
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        Line = pool.get('distributor.channel.order.line')
        Promotion = pool.get('distributor.store.promotion')
        sequence = Configuration(1).channel_order_sequence
        cls.dms_serialize(orders)
        Line.delete([l for o in orders for l in o.lines if l.promotion_gift])
        orders = cls.browse(list(map(int, orders)))
        for order in orders:
            order.check_parties()
            order.check_lines()
            order.set_prices()
            Line.save(order.lines)
        Promotion.apply(orders)
        for order in cls.browse(list(map(int, orders))):
            if not order.number:
                order.number = sequence.get()
            order.submitted_by = Transaction().user
            order.submitted_at = _now()
            order.reason = None
            order.save()
        cls._notify(orders, 'seller', 'msg_message_order_submitted')

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, orders):
        cls.dms_serialize(orders)
        for order in orders:
            order.check_parties()
        cls.write(list(orders), {
                'approved_by': Transaction().user,
                'approved_at': _now(),
                })
        cls._notify(orders, 'buyer', 'msg_message_order_approved')

    @classmethod
    @ModelView.button_action('distributor_store.wizard_order_reject')
    def reject(cls, orders):
        pass

    @classmethod
    def reject_orders(cls, orders, reason):
        "Reject submitted orders with a reason (its wizard, the API)"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(orders)
        orders = cls.browse(list(map(int, orders)))
        cls.dms_check_state(orders, {'submitted'})
        with trusted():
            cls.write(list(orders), {'reason': reason})
            cls._rejected(orders)
            cls._notify(orders, 'buyer', 'msg_message_order_rejected')

    @classmethod
    @Workflow.transition('rejected')
    def _rejected(cls, orders):
        cls._drop_promotions(orders)

    @classmethod
    @ModelView.button_action('distributor_store.wizard_order_cancel')
    def cancel(cls, orders):
        pass

    @classmethod
    def cancel_orders(cls, orders, reason):
        "Cancel orders not delivered yet, with a reason"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(orders)
        orders = cls.browse(list(map(int, orders)))
        cls.dms_check_state(orders, {'draft', 'submitted', 'approved'})
        with trusted():
            cls.write(list(orders), {'reason': reason})
            cls._cancelled(orders)

    @classmethod
    @Workflow.transition('cancelled')
    def _cancelled(cls, orders):
        cls._drop_promotions(orders)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, orders):
        pool = Pool()
        Line = pool.get('distributor.channel.order.line')
        cls._drop_promotions(orders)
        Line.delete([l for o in orders for l in o.lines if l.promotion_gift])
        cls.write(list(orders), {'discount_amount': ZERO})

    @classmethod
    def _drop_promotions(cls, orders):
        """Promotions count only on live orders: their usage goes with a
        rejection or cancellation; back to draft, gifts and discounts go
        too (they are applied again on submission)"""
        pool = Pool()
        Usage = pool.get('distributor.store.promotion.usage')
        Usage.delete([u for o in orders for u in o.promotion_usages])

    @classmethod
    @ModelView.button
    def deliver(cls, orders):
        """Deliver approved orders from the seller's storage, lots that
        expire first out: into the downstream distributor's transit, or to
        the customer location for stores and terminal customers.  An order
        the stock does not cover stays approved (back-ordered) and the
        delivery is refused, naming what is missing."""
        pool = Pool()
        Move = pool.get('stock.move')
        Party = pool.get('party.party')
        # deliveries of the same seller take turns for its stock
        cls.dms_serialize(orders)
        orders = cls.browse(list(map(int, orders)))
        serialize(Party, {o.seller for o in orders})
        cls.dms_check_state(orders, {'approved'})
        short = cls._shortages(orders)
        if short:
            order = cls(next(iter(short)))
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_backordered',
                    order=order.rec_name, distributor=order.seller.rec_name,
                    missing=', '.join(
                        f'{p.rec_name} {q:g}/{a:g}'
                        for p, q, a in short[order.id])))
        today = _today()
        moves = []
        for order in orders:
            order.check_parties()
            storage = order.seller.distributor_storage
            if order.kind_of(order.buyer) == 'distributor':
                to_location = order.buyer.distributor_transit
            else:
                to_location = order.buyer.customer_location
            for line in order.lines:
                try:
                    picked = pick_lots(storage, line.product,
                        line.quantity, line.lot)
                except TransferError as exception:
                    raise StoreOrderError(gettext(
                            'distributor_store.msg_order_backordered',
                            order=order.rec_name,
                            distributor=order.seller.rec_name,
                            missing=exception.message)) from exception
                for lot, quantity in picked:
                    moves.append(Move(
                            from_location=storage, to_location=to_location,
                            product=line.product, lot=lot,
                            quantity=quantity, unit=line.product.default_uom,
                            company=order.company, effective_date=today,
                            planned_date=today,
                            unit_price=line.net_price,
                            currency=order.currency, origin=line))
        _prices(moves)
        Move.save(moves)
        if not Move.assign_try(moves, with_childs=False):
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_backordered',
                    order=', '.join(o.rec_name for o in orders),
                    distributor=orders[0].seller.rec_name, missing=''))
        Move.do(moves)
        Line = pool.get('distributor.channel.order.line')
        lines = []
        for order in orders:
            for line in order.lines:
                line.delivered_quantity = line.quantity
                lines.append(line)
        Line.save(lines)
        for order in orders:
            order.delivered_by = Transaction().user
            order.delivered_at = _now()
            order.delivered_date = today
        cls.save(orders)
        cls._update_billed(orders)
        cls._delivered(orders)
        cls._notify(orders, 'buyer', 'msg_message_order_delivered')
        # the sellers' stock went down: their alerts follow at once
        Alert = pool.get('distributor.stock.alert')
        Alert.refresh(list({o.seller for o in orders}))

    @classmethod
    @Workflow.transition('delivered')
    def _delivered(cls, orders):
        pass

    @classmethod
    def _update_billed(cls, orders):
        """billed = Σ quantity × net price (received, else delivered) less
        the threshold discount, in proportion of what was received"""
        for order in cls.browse(list(map(int, orders))):
            ordered = sum((l.amount or ZERO for l in order.lines), ZERO)
            billed = sum((l.billed_amount for l in order.lines), ZERO)
            discount = order.discount_amount or ZERO
            if ordered and discount:
                discount = (discount * billed / ordered)
            order.billed_amount = order.currency.round(
                max(billed - discount, ZERO))
            order.save()

    @classmethod
    @ModelView.button_action('distributor_store.wizard_order_receive')
    def receive(cls, orders):
        pass

    @classmethod
    def receive_orders(cls, orders, quantities=None):
        """Confirm the receipt of delivered orders: quantities maps line
        ids to the received quantity (the delivered one when missing).
        Goods for a downstream distributor enter its storage; a shortfall
        is an open discrepancy to resolve."""
        pool = Pool()
        Move = pool.get('stock.move')
        Line = pool.get('distributor.channel.order.line')
        quantities = validation.id_mapping(quantities, gettext(
                'distributor_store.msg_field_quantities'))
        cls.dms_serialize(orders)
        orders = cls.browse(list(map(int, orders)))
        cls.dms_check_state(orders, {'delivered'})
        known = {l.id for o in orders for l in o.lines}
        for line_id in quantities:
            if line_id not in known:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_line_unknown',
                        line=line_id))
        today = _today()
        moves, lines = [], []
        for order in orders:
            for line in order.lines:
                received = line.check_received(quantities.get(
                        line.id, line.delivered_quantity))
                line.received_quantity = received
                missing = line.unit.round(line.delivered_quantity - received)
                line.discrepancy_state = 'open' if missing > 0 else None
                lines.append(line)
                if order.kind_of(order.buyer) == 'distributor' and received:
                    for lot, quantity in line.delivered_lots(received):
                        moves.append(Move(
                                from_location=order.buyer.distributor_transit,
                                to_location=order.buyer.distributor_storage,
                                product=line.product, lot=lot,
                                quantity=quantity,
                                unit=line.product.default_uom,
                                company=order.company, effective_date=today,
                                planned_date=today,
                                unit_price=line.net_price,
                                currency=order.currency, origin=line))
        Line.save(lines)
        if moves:
            _prices(moves)
            Move.save(moves)
            Move.do(moves)
        for order in orders:
            order.received_by = Transaction().user
            order.received_at = _now()
        cls.save(orders)
        cls._update_billed(orders)
        complete = [o for o in orders if not o.open_discrepancies]
        cls._received([o for o in orders if o not in complete])
        cls._done(complete)
        if any(o.kind_of(o.buyer) == 'distributor' for o in orders):
            Alert = pool.get('distributor.stock.alert')
            Alert.refresh([o.buyer for o in orders
                    if o.kind_of(o.buyer) == 'distributor'])
        return [o.id for o in orders]

    @classmethod
    @Workflow.transition('received')
    def _received(cls, orders):
        pass

    @classmethod
    @Workflow.transition('done')
    def _done(cls, orders):
        pass

    @classmethod
    @ModelView.button_action('distributor_store.wizard_order_resolve')
    def resolve(cls, orders):
        pass

    @classmethod
    def resolve_lines(cls, resolutions):
        """Resolve open discrepancies: resolutions maps line ids to
        'return' (the missing goods go back to the seller's storage) or
        'write_off' (to the seller's lost and found)"""
        pool = Pool()
        Line = pool.get('distributor.channel.order.line')
        Move = pool.get('stock.move')
        lines = Line.browse([int(k) for k in resolutions])
        today = _today()
        moves = []
        for line in lines:
            order = line.order
            if order.state != 'received' or line.discrepancy_state != 'open':
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_no_discrepancy',
                        order=order.rec_name, product=line.product.rec_name))
            resolution = resolutions[line.id] if line.id in resolutions \
                else resolutions[str(line.id)]
            if resolution not in {'return', 'write_off'}:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_resolution',
                        resolution=resolution))
            if order.kind_of(order.buyer) == 'distributor':
                from_location = order.buyer.distributor_transit
            else:
                from_location = order.buyer.customer_location
            seller_wh = order.seller.distributor_warehouse
            to_location = (order.seller.distributor_storage
                if resolution == 'return'
                else seller_wh.lost_found_used)
            missing = line.unit.round(
                line.delivered_quantity - line.received_quantity)
            for lot, quantity in line.delivered_lots(
                    missing, skip=line.received_quantity):
                moves.append(Move(
                        from_location=from_location,
                        to_location=to_location, product=line.product,
                        lot=lot, quantity=quantity,
                        unit=line.product.default_uom,
                        company=order.company, effective_date=today,
                        planned_date=today, unit_price=line.net_price,
                        currency=order.currency, origin=line))
            line.resolution = resolution
            line.discrepancy_state = 'resolved'
        _prices(moves)
        Move.save(moves)
        with Transaction().set_context(_skip_warnings=True):
            Move.do(moves)
        Line.save(lines)
        orders = cls.browse(list({l.order.id for l in lines}))
        cls._done([o for o in orders if not o.open_discrepancies])
        returned = {l.order.seller for l in lines if l.resolution == 'return'}
        if returned:
            Alert = pool.get('distributor.stock.alert')
            Alert.refresh(list(returned))

    @classmethod
    def _notify(cls, orders, side, msg_id):
        """Post a message to the seller, or to a buyer that is a
        distributor or a store (their inbox in the portal)"""
        Message = Pool().get('distributor.message')
        items = []
        for order in orders:
            party = getattr(order, side)
            if party.is_distributor or party.is_store:
                items.append((party, 'distributor_store.' + msg_id, order,
                        {'order': order.rec_name or '',
                            'buyer': order.buyer.rec_name,
                            'seller': order.seller.rec_name},
                        order.reason))
        Message.post(items)

    @classmethod
    def purchase_totals(cls, buyers):
        "{buyer id: (orders, billed amount)} of the delivered orders"
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = list(map(int, buyers))
        result = {}
        for sub in grouped_slice(ids, MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.buyer, Count(line.id),
                    Sum(line.billed_amount),
                    where=reduce_ids(line.buyer, list(sub))
                    & line.state.in_(DELIVERED),
                    group_by=[line.buyer]))
            for buyer, count, amount in cursor:
                result[buyer] = (count, Decimal(str(amount or 0)))
        return result

class ChannelOrderLine(DocumentLine, ModelSQL, ModelView):
    "Channel Order Line"
    __name__ = 'distributor.channel.order.line'
    _dms_document = 'order'
    _dms_workflow_fields = {
        'base_price', 'unit_price', 'discount', 'promotion',
        'promotion_gift', 'delivered_quantity', 'received_quantity',
        'discrepancy_state', 'resolution'}

    _draft = {'readonly': Eval('order_state', 'draft') != 'draft'}

    order = fields.Many2One(
        'distributor.channel.order', "Order", required=True,
        ondelete='CASCADE')
    order_state = fields.Function(
        fields.Selection(STATES, "Order State"), 'on_change_with_order_state')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'goods')], states=_draft)
    lot = fields.Many2One(
        'stock.lot', "Lot", ondelete='RESTRICT',
        domain=[('product', '=', Eval('product', -1))], states=_draft,
        help="Leave empty to deliver the lots that expire first.")
    quantity = fields.Float(
        "Quantity", digits='unit', required=True, states=_draft,
        domain=[If(Eval('order_state', 'draft') == 'draft',
                ('quantity', '>', 0), ())])
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    base_price = fields.Numeric(
        "List Price", digits=(16, 4), readonly=True,
        help="The seller's store price before promotions.")
    unit_price = fields.Numeric("Unit Price", digits=(16, 4), readonly=True)
    discount = fields.Numeric(
        "Discount", digits=(1, 4), readonly=True,
        help="The share taken off by percentage promotions.")
    net_price = fields.Function(
        fields.Numeric("Net Price", digits=(16, 4)), 'get_net_price')
    amount = fields.Function(
        fields.Numeric("Amount", digits=(16, 2)), 'get_amount')
    promotion = fields.Many2One(
        'distributor.store.promotion', "Promotion", readonly=True,
        ondelete='RESTRICT')
    promotion_gift = fields.Boolean("Gift", readonly=True)
    delivered_quantity = fields.Float(
        "Delivered", digits='unit', readonly=True)
    received_quantity = fields.Float(
        "Received", digits='unit', readonly=True)
    discrepancy_state = fields.Selection([
            (None, ""),
            ('open', "Open"),
            ('resolved', "Resolved"),
            ], "Discrepancy", readonly=True)
    resolution = fields.Selection(RESOLUTIONS, "Resolution", readonly=True)
    moves = fields.One2Many('stock.move', 'origin', "Moves", readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.order, Index.Range())),
                Index(t, (t.product, Index.Range())),
                })

    @classmethod
    def default_promotion_gift(cls):
        return False

    @fields.depends('order', '_parent_order.state')
    def on_change_with_order_state(self, name=None):
        return self.order.state if self.order else 'draft'

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    def get_net_price(self, name):
        if self.unit_price is None:
            return None
        return (self.unit_price * (1 - (self.discount or ZERO))).quantize(
            Decimal('0.0001'))

    def _amount(self, quantity):
        if self.unit_price is None or quantity is None:
            return ZERO
        return (Decimal(str(quantity)) * self.net_price).quantize(
            Decimal('0.01'))

    def get_amount(self, name):
        return self._amount(self.quantity)

    @property
    def billed_amount(self):
        if self.received_quantity is not None:
            return self._amount(self.received_quantity)
        return self._amount(self.delivered_quantity)

    def get_rec_name(self, name):
        return f'{self.order.rec_name} - {self.product.rec_name}'

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        for name in ['delivered_quantity', 'received_quantity',
                'discrepancy_state', 'resolution', 'moves', 'promotion']:
            default.setdefault(name)
        return super().copy(lines, default=default)

    def check_received(self, received):
        value = validation.quantity(received, self.product.rec_name,
            unit=self.unit, allow_zero=True)
        if value > (self.delivered_quantity or 0):
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_received_above',
                    product=self.product.rec_name, received=value,
                    delivered=self.delivered_quantity))
        return value

    def delivered_lots(self, quantity, skip=0):
        """[(lot, quantity)] of the delivery moves covering quantity after
        skipping skip, in the order they were delivered"""
        storage = self.order.seller.distributor_storage
        result = []
        for move in sorted(self.moves, key=lambda m: m.id):
            if move.state != 'done' or move.from_location != storage:
                continue
            available = move.internal_quantity
            if skip:
                used = min(skip, available)
                skip = self.unit.round(skip - used)
                available = self.unit.round(available - used)
            if available <= 0 or quantity <= 0:
                continue
            take = min(available, quantity)
            result.append((move.lot, take))
            quantity = self.unit.round(quantity - take)
        return result


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # stores get messages too (their orders, the promotions)
        cls.party.string = "Recipient"

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'distributor.channel.order', 'distributor.store.promotion']


class ChannelOrderLog(DocumentLog, ModelSQL, ModelView):
    "State history of a channel order"
    __name__ = 'distributor.channel.order.log'

    document = fields.Many2One(
        'distributor.channel.order', "Order", required=True,
        ondelete='CASCADE', readonly=True)


class OrderReject(ReasonWizard):
    "Reject Channel Orders"
    __name__ = 'distributor.channel.order.reject'
    _method = 'reject_orders'


class OrderCancel(ReasonWizard):
    "Cancel Channel Orders"
    __name__ = 'distributor.channel.order.cancel'
    _method = 'cancel_orders'


class OrderReceiveStart(ModelView):
    "Confirm the receipt of a channel order"
    __name__ = 'distributor.channel.order.receive.start'
    lines = fields.One2Many(
        'distributor.channel.order.receive.line', None, "Lines")


class OrderReceiveLine(ModelView):
    "Received quantity of a channel order line"
    __name__ = 'distributor.channel.order.receive.line'
    line = fields.Many2One(
        'distributor.channel.order.line', "Line", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    delivered_quantity = fields.Float(
        "Delivered", digits='unit', readonly=True)
    received_quantity = fields.Float(
        "Received", digits='unit', required=True,
        domain=[('received_quantity', '>=', 0),
            ('received_quantity', '<=', Eval('delivered_quantity', 0))])


class OrderReceive(Wizard):
    "Receive Channel Orders"
    __name__ = 'distributor.channel.order.receive'
    start = StateView('distributor.channel.order.receive.start',
        'distributor_store.order_receive_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        return {'lines': [{
                    'line': l.id,
                    'product': l.product.id,
                    'unit': l.unit.id,
                    'delivered_quantity': l.delivered_quantity,
                    'received_quantity': l.delivered_quantity,
                    } for o in self.records if o.state == 'delivered'
                for l in o.lines]}

    def transition_apply(self):
        self.model.receive_orders(self.records, {
                l.line.id: l.received_quantity for l in self.start.lines})
        return 'end'

    def end(self):
        return 'reload'


class OrderResolveStart(ModelView):
    "Resolve the discrepancies of a channel order"
    __name__ = 'distributor.channel.order.resolve.start'
    resolution = fields.Selection(
        RESOLUTIONS[1:], "Resolution", required=True,
        help="What happened to the goods that did not arrive.")


class OrderResolve(Wizard):
    "Resolve Channel Order Discrepancies"
    __name__ = 'distributor.channel.order.resolve'
    start = StateView('distributor.channel.order.resolve.start',
        'distributor_store.order_resolve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Resolve", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def transition_apply(self):
        self.model.resolve_lines({l.id: self.start.resolution
                for o in self.records for l in o.lines
                if l.discrepancy_state == 'open'})
        return 'end'

    def end(self):
        return 'reload'
