# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import weakref
from contextlib import contextmanager
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import (
    Button, StateTransition, StateView, Wizard)

from .exceptions import (
    ChannelOrderError, OrderLockedError, OrderStateError, ReceiptError)

KINDS = [
    ('regular', "Regular"),
    ('promotion', "Promotion"),
    ('return', "Return"),
    ]
CHANNEL_STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('rejected', "Rejected"),
    ('approved', "Approved"),
    ('shipped', "Shipped"),
    ('received', "Received"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]
DELIVERY_METHODS = [
    ('brand', "Brand Delivery"),
    ('carrier', "Carrier"),
    ('pickup', "Self Pickup"),
    ]
# The states in which the ordering side may still change the order
EDITABLE = {'draft', 'rejected'}
# The channel rules, in the order they are checked and shown
RULES = [
    'trade', 'lines', 'categories', 'territory', 'price_list',
    'price_floor', 'minimum', 'pack', 'settlement',
    ]
# Sale fields the channel order header copies from the party or locks
_LOCKED_HEADER = [
    'party', 'invoice_party', 'shipment_party', 'invoice_address',
    'shipment_address', 'price_list', 'payment_term', 'currency',
    'warehouse', 'lines', 'company', 'reference', 'sale_date',
    'invoice_method', 'shipment_method',
    ]


# Set by the workflow only, never by a client call
WORKFLOW_FIELDS = {
    'channel_state', 'distributor_tier', 'order_territory',
    'submitted_by', 'submitted_at', 'approved_by', 'approved_at',
    'rejected_by', 'rejected_at', 'rejection_reason',
    'cancelled_by', 'cancelled_at', 'cancel_reason',
    'received_by', 'received_at', 'reminded_at', 'channel_logs',
    'discrepancies',
    }
LINE_WORKFLOW_FIELDS = {
    'floor_override_by', 'floor_override_reason', 'received_quantity',
    }


def _check_workflow_fields(Model, records, names, workflow_fields):
    forbidden = sorted(set(names) & workflow_fields)
    if forbidden:
        field = Model.fields_get([forbidden[0]])[forbidden[0]]['string']
        raise OrderLockedError(gettext(
                'distributor_sale.msg_workflow_field',
                field=field,
                record=', '.join(r.rec_name for r in records[:3])))


# Per transaction: the depth of channel workflow calls in progress and the
# orders whose rules were checked.  Not context keys: changing the context
# would make Tryton read every record again under the new context.
_WORKFLOW = weakref.WeakKeyDictionary()
_RULES_CHECKED = weakref.WeakKeyDictionary()


@contextmanager
def workflow():
    "The channel workflow itself changes locked orders within"
    transaction = Transaction()
    _WORKFLOW[transaction] = _WORKFLOW.get(transaction, 0) + 1
    try:
        yield
    finally:
        _WORKFLOW[transaction] -= 1


def in_workflow():
    return _WORKFLOW.get(Transaction(), 0) > 0


def _now():
    return dt.datetime.now()


def _user():
    return Transaction().user or None


def _selection_string(Model, field, value):
    return dict(Model.fields_get([field])[field]['selection']).get(
        value, value or '')


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    distributor_order = fields.Function(
        fields.Boolean(
            "Distributor Order",
            help="Whether the customer is a distributor: the order then "
            "follows the channel workflow and rules."),
        'get_distributor_order', searcher='search_distributor_order')
    order_kind = fields.Selection(
        KINDS, "Order Kind", required=True, sort=False,
        states={
            'readonly': ~Eval('channel_state').in_(list(EDITABLE)),
            'invisible': ~Eval('distributor_order', False),
            })
    channel_state = fields.Selection(
        CHANNEL_STATES, "Channel State", required=True, readonly=True,
        sort=False,
        states={
            'invisible': ~Eval('distributor_order', False),
            })
    channel_state_string = channel_state.translated('channel_state')
    delivery_method = fields.Selection(
        DELIVERY_METHODS, "Delivery Method", required=True, sort=False,
        states={
            'readonly': ~Eval('channel_state').in_(list(EDITABLE)),
            'invisible': ~Eval('distributor_order', False),
            })
    distributor_tier = fields.Many2One(
        'distributor.tier', "Tier at Order", readonly=True,
        ondelete='RESTRICT',
        help="The distributor's tier when the order was submitted.")
    order_territory = fields.Many2One(
        'distributor.territory', "Territory at Order", readonly=True,
        ondelete='RESTRICT',
        help="The sales territory of the delivery address when the order "
        "was submitted.")
    submitted_by = fields.Many2One(
        'res.user', "Submitted By", readonly=True, ondelete='RESTRICT')
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    approved_by = fields.Many2One(
        'res.user', "Approved By", readonly=True, ondelete='RESTRICT')
    approved_at = fields.DateTime("Approved At", readonly=True)
    rejected_by = fields.Many2One(
        'res.user', "Rejected By", readonly=True, ondelete='RESTRICT')
    rejected_at = fields.DateTime("Rejected At", readonly=True)
    rejection_reason = fields.Text("Rejection Reason", readonly=True)
    cancelled_by = fields.Many2One(
        'res.user', "Cancelled By", readonly=True, ondelete='RESTRICT')
    cancelled_at = fields.DateTime("Cancelled At", readonly=True)
    cancel_reason = fields.Text("Cancellation Reason", readonly=True)
    received_by = fields.Many2One(
        'res.user', "Received By", readonly=True, ondelete='RESTRICT')
    received_at = fields.DateTime("Received At", readonly=True)
    reminded_at = fields.DateTime("Reminded At", readonly=True)
    channel_logs = fields.One2Many(
        'distributor.sale.log', 'sale', "Channel History", readonly=True)
    discrepancies = fields.One2Many(
        'distributor.sale.discrepancy', 'sale', "Discrepancies",
        readonly=True)
    rule_checks = fields.Function(
        fields.Text("Channel Rule Checks"), 'get_rule_checks',
        loading='lazy')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        locked = (Eval('distributor_order', False)
            & ~Eval('channel_state', 'draft').in_(list(EDITABLE)))
        for name in _LOCKED_HEADER:
            field = getattr(cls, name, None)
            if field is None:
                continue
            field.states = field.states.copy() if field.states else {}
            readonly = field.states.get('readonly')
            field.states['readonly'] = (
                (readonly | locked) if readonly is not None else locked)
        # Distributor orders go through the channel buttons only
        for name in ['quote', 'confirm', 'draft', 'cancel', 'modify_header']:
            if name in cls._buttons:
                button = cls._buttons[name]
                button['invisible'] = (
                    button.get('invisible', False)
                    | Eval('distributor_order', False))
                button.setdefault('depends', [])
                if 'distributor_order' not in button['depends']:
                    button['depends'] = list(button['depends']) + [
                        'distributor_order']
        cls._buttons.update({
                'dms_submit': {
                    'invisible': (~Eval('distributor_order', False)
                        | ~Eval('channel_state').in_(list(EDITABLE))),
                    'depends': ['distributor_order', 'channel_state'],
                    'icon': 'tryton-forward',
                    },
                'dms_approve': {
                    'invisible': Eval('channel_state') != 'submitted',
                    'depends': ['channel_state'],
                    'icon': 'tryton-ok',
                    },
                'dms_reject': {
                    'invisible': Eval('channel_state') != 'submitted',
                    'depends': ['channel_state'],
                    'icon': 'tryton-cancel',
                    },
                'dms_cancel': {
                    'invisible': (~Eval('distributor_order', False)
                        | ~Eval('channel_state').in_(
                            ['draft', 'submitted', 'rejected', 'approved'])),
                    'depends': ['distributor_order', 'channel_state'],
                    'icon': 'tryton-cancel',
                    },
                'dms_override_floor': {
                    'invisible': (~Eval('distributor_order', False)
                        | ~Eval('channel_state').in_(
                            ['draft', 'submitted', 'rejected'])),
                    'depends': ['distributor_order', 'channel_state'],
                    'icon': 'tryton-warning',
                    },
                'dms_receive': {
                    'invisible': Eval('channel_state') != 'shipped',
                    'depends': ['channel_state'],
                    'icon': 'tryton-ok',
                    },
                })
        cls.__rpc__.update({
                'dms_create_order': RPC(readonly=False),
                'dms_cancel_orders': RPC(readonly=False, instantiate=0),
                'dms_reject_orders': RPC(readonly=False, instantiate=0),
                'dms_confirm_receipt': RPC(readonly=False, instantiate=0),
                'dms_list_orders': RPC(),
                'dms_rule_report': RPC(instantiate=0),
                })

    @classmethod
    def default_order_kind(cls):
        return 'regular'

    @classmethod
    def default_channel_state(cls):
        return 'draft'

    @classmethod
    def default_delivery_method(cls):
        return 'brand'

    def get_distributor_order(self, name):
        return bool(self.party and self.party.is_distributor)

    @classmethod
    def search_distributor_order(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        return [('party.is_distributor', operator, value)]

    @fields.depends('party', 'price_list')
    def on_change_party(self):
        super().on_change_party()
        party = self.party
        if party and party.is_distributor:
            tier = party.distributor_tier
            if tier and tier.price_list:
                self.price_list = tier.price_list

    # State guards ------------------------------------------------------

    @classmethod
    def _dms_free_fields(cls):
        "Fields anyone may still write on a submitted distributor order"
        return {'comment', 'description'}

    @classmethod
    def check_modification(cls, mode, sales, values=None, external=False):
        super().check_modification(
            mode, sales, values=values, external=external)
        if in_workflow():
            return
        if mode == 'write' and external:
            _check_workflow_fields(cls, sales, values, WORKFLOW_FIELDS)
            if not (set(values) - cls._dms_free_fields()):
                return
            for sale in sales:
                if (sale.distributor_order
                        and sale.channel_state not in EDITABLE):
                    raise OrderLockedError(gettext(
                            'distributor_sale.msg_order_locked',
                            order=sale.rec_name,
                            state=sale.channel_state_string))
        elif mode == 'delete':
            for sale in sales:
                if (sale.distributor_order and sale.channel_state
                        not in {'draft', 'rejected', 'cancelled'}):
                    raise OrderLockedError(gettext(
                            'distributor_sale.msg_order_delete',
                            order=sale.rec_name,
                            state=sale.channel_state_string))

    @classmethod
    def create(cls, vlist):
        transaction = Transaction()
        if (transaction.user and transaction.check_access
                and not in_workflow()):
            for values in vlist:
                _check_workflow_fields(cls, [], {k for k, v in values.items()
                        if v not in (None, 'draft', [])}, WORKFLOW_FIELDS)
        return super().create(vlist)

    @classmethod
    def _dms_refuse_outside_workflow(cls, sales):
        if in_workflow():
            return
        for sale in sales:
            if sale.distributor_order:
                raise OrderStateError(gettext(
                        'distributor_sale.msg_use_channel_workflow',
                        order=sale.rec_name))

    @classmethod
    def quote(cls, sales):
        cls._dms_refuse_outside_workflow(sales)
        super().quote(sales)

    @classmethod
    def confirm(cls, sales):
        cls._dms_refuse_outside_workflow(sales)
        super().confirm(sales)

    @classmethod
    def draft(cls, sales):
        cls._dms_refuse_outside_workflow(sales)
        super().draft(sales)

    @classmethod
    def cancel(cls, sales):
        cls._dms_refuse_outside_workflow(sales)
        super().cancel(sales)

    def must_check_credit_limit(self):
        # The channel rules have checked the credit (cumulatively over a
        # batch) before approval: Tryton's check would lock the tables and
        # compute it again
        if self.id in _RULES_CHECKED.get(Transaction(), ()):
            return False
        return super().must_check_credit_limit()

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        for name in [
                'distributor_tier', 'order_territory',
                'submitted_by', 'submitted_at', 'approved_by', 'approved_at',
                'rejected_by', 'rejected_at', 'rejection_reason',
                'cancelled_by', 'cancelled_at', 'cancel_reason',
                'received_by', 'received_at', 'reminded_at']:
            default.setdefault(name, None)
        default.setdefault('channel_state', 'draft')
        default.setdefault('channel_logs', None)
        default.setdefault('discrepancies', None)
        return super().copy(sales, default=default)

    # Channel rules -----------------------------------------------------

    @classmethod
    def get_rule_checks(cls, sales, name):
        result = {s.id: None for s in sales}
        to_check = []
        for sale in sales:
            if not sale.distributor_order:
                continue
            if sale.channel_state in {'draft', 'rejected', 'submitted'}:
                to_check.append(sale)
            elif sale.approved_at:
                result[sale.id] = gettext(
                    'distributor_sale.msg_rules_passed_at_approval',
                    date=sale.approved_at.replace(microsecond=0))
        if to_check:
            outcomes = cls._dms_rule_outcomes(to_check)
            for sale in to_check:
                result[sale.id] = cls._format_outcome(outcomes[sale.id])
        return result

    @classmethod
    def _format_outcome(cls, outcome):
        lines = []
        for rule, message in outcome:
            label = cls._dms_rule_label(rule)
            if message is None:
                lines.append(f'✔ {label}')
            else:
                lines.append(f'✘ {label}: {message}')
        return '\n'.join(lines)

    @classmethod
    def _dms_rule_label(cls, rule):
        "The name of a rule (modules adding rules extend it)"
        return gettext(f'distributor_sale.msg_rule_{rule}')

    @classmethod
    def dms_rule_report(cls, sales):
        "RPC: the outcome of every channel rule for each order"
        outcomes = cls._dms_rule_outcomes(sales)
        return {s.id: [{'rule': r, 'ok': m is None, 'message': m}
                for r, m in outcomes[s.id]] for s in sales}

    @classmethod
    def check_channel_rules(cls, sales):
        "Raise ChannelOrderError on the first rule an order breaks"
        outcomes = cls._dms_rule_outcomes(sales)
        for sale in sales:
            for rule, message in outcomes[sale.id]:
                if message is not None:
                    raise ChannelOrderError(message)

    @classmethod
    def _dms_rule_outcomes(cls, sales, cumulative=False):
        """Return {sale id: [(rule, None or error message)]}.

        The one implementation of the channel rules, used on submission,
        on approval (one by one or in batch) and on the order form.
        With cumulative, the credit and deposit an order uses count for
        the next orders of the same distributor, and only for the orders
        that pass every rule."""
        pool = Pool()
        Territory = pool.get('distributor.territory')
        Category = pool.get('product.category')
        PriceFloor = pool.get('distributor.price_floor')
        Configuration = pool.get('distributor.configuration')
        Uom = pool.get('product.uom')
        Party = pool.get('party.party')
        Lang = pool.get('ir.lang')

        lang = Lang.get()
        sales = list(sales)
        parties = {s.party for s in sales if s.party}
        areas, authorized = {}, {}
        for party in parties:
            areas[party.id] = Territory.area(party.territories)
            if party.authorized_categories:
                authorized[party.id] = set(map(int, Category.search([
                                ('parent', 'child_of',
                                    list(map(int, party.authorized_categories)
                                        )),
                                ], order=[])))
            else:
                authorized[party.id] = set()
        pairs = set()
        for sale in sales:
            tier = sale.party.distributor_tier if sale.party else None
            for line in sale.line_lines:
                if tier and line.product:
                    pairs.add((tier.id, line.product.id))
        floors = PriceFloor.floors(pairs)

        credit_parties = [p for p in parties
            if p.settlement_method == 'credit']
        prepaid_parties = [p for p in parties
            if p.settlement_method == 'prepaid']
        credit_used, limits = {}, {}
        company = sales[0].company if sales else None
        if credit_parties and company:
            with Transaction().set_context(company=company.id):
                for party in Party.browse(credit_parties):
                    credit_used[party.id] = party.credit_amount
                    limits[party.id] = party.get_multivalue(
                        'credit_limit_amount', company=company.id)
        deposits, committed = {}, {}
        if prepaid_parties and company:
            with Transaction().set_context(company=company.id):
                for party in Party.browse(prepaid_parties):
                    deposits[party.id] = party.deposit or Decimal(0)
            committed = cls._dms_committed_amounts(
                prepaid_parties, exclude=sales)
        config = Configuration(1)
        pending = defaultdict(Decimal)

        result = {}
        for sale in sales:
            outcome = []
            party = sale.party
            tier = party.distributor_tier
            order = sale.rec_name

            def add(rule, msg_id=None, **kwargs):
                outcome.append((rule, gettext(
                            'distributor_sale.' + msg_id, order=order,
                            **kwargs) if msg_id else None))

            # trade
            if party.may_trade():
                add('trade')
            else:
                add('trade', 'msg_rule_trade_failed',
                    distributor=party.rec_name,
                    state=_selection_string(
                        Party, 'distributor_state', party.distributor_state)
                    if party.is_distributor else '')
            # lines: products, signs, gifts
            error = None
            if not sale.line_lines:
                error = ('msg_rule_lines_empty', {})
            for line in sale.line_lines:
                if error:
                    break
                if not line.product or not line.product.salable:
                    error = ('msg_rule_lines_product', {
                            'line': line.rec_name})
                elif sale.order_kind == 'return':
                    if (line.quantity or 0) >= 0:
                        error = ('msg_rule_lines_return_quantity', {
                                'product': line.product.rec_name})
                elif (line.quantity or 0) <= 0:
                    error = ('msg_rule_lines_quantity', {
                            'product': line.product.rec_name,
                            'quantity': line.quantity or 0})
                if not error and line.gift and sale.order_kind != 'promotion':
                    error = ('msg_rule_lines_gift', {
                            'product': line.product.rec_name})
            if error:
                add('lines', error[0], **error[1])
            else:
                add('lines')
            # authorized categories
            error = None
            for line in sale.line_lines:
                if not line.product:
                    continue
                categories = set(map(int, line.product.categories))
                if not categories & authorized[party.id]:
                    error = {'product': line.product.rec_name,
                        'distributor': party.rec_name}
                    break
            if error:
                add('categories', 'msg_rule_categories_failed', **error)
            else:
                add('categories')
            # territory of the delivery address
            address = sale.shipment_address
            territory = address.get_sales_territory() if address else None
            if not address:
                add('territory', 'msg_rule_territory_no_address')
            elif not territory:
                add('territory', 'msg_rule_territory_unknown',
                    address=address.rec_name)
            elif territory.id not in areas[party.id]:
                add('territory', 'msg_rule_territory_failed',
                    address=address.rec_name, territory=territory.rec_name,
                    distributor=party.rec_name)
            else:
                add('territory')
            # tier price list
            if tier and tier.price_list and sale.price_list != tier.price_list:
                add('price_list', 'msg_rule_price_list_failed',
                    tier=tier.rec_name, price_list=tier.price_list.rec_name)
            else:
                add('price_list')
            # price floor
            error = None
            if sale.order_kind != 'return':
                for line in sale.line_lines:
                    if not line.product or line.gift:
                        continue
                    floor = floors.get((tier.id if tier else None,
                            line.product.id))
                    if floor is None:
                        continue
                    if line.product.sale_uom and line.unit and (
                            line.unit != line.product.sale_uom):
                        floor = Uom.compute_price(
                            line.product.sale_uom, floor, line.unit)
                    if ((line.unit_price or 0) < floor
                            and not line.floor_override_by):
                        error = {
                            'product': line.product.rec_name,
                            'price': lang.currency(
                                line.unit_price or 0, sale.currency),
                            'floor': lang.currency(floor, sale.currency),
                            'tier': tier.rec_name}
                        break
            if error:
                add('price_floor', 'msg_rule_price_floor_failed', **error)
            else:
                add('price_floor')
            # minimum order amount
            minimum = tier.minimum_order_amount if tier else None
            if (minimum and sale.order_kind != 'return'
                    and sale.untaxed_amount < minimum):
                add('minimum', 'msg_rule_minimum_failed',
                    amount=lang.currency(sale.untaxed_amount, sale.currency),
                    minimum=lang.currency(minimum, sale.currency))
            else:
                add('minimum')
            # pack multiples
            error = None
            for line in sale.line_lines:
                if not line.product or not line.unit:
                    continue
                pack = line.product.template.pack_quantity
                if not pack:
                    continue
                quantity = abs(Uom.compute_qty(
                        line.unit, line.quantity or 0,
                        line.product.sale_uom, round=False))
                ratio = quantity / pack
                if abs(ratio - round(ratio)) > 1e-6:
                    error = {'product': line.product.rec_name,
                        'quantity': line.quantity, 'pack': pack}
                    break
            if error:
                add('pack', 'msg_rule_pack_failed', **error)
            else:
                add('pack')
            # settlement
            amount = Decimal(0)
            method = party.settlement_method
            if sale.order_kind == 'return' or not method:
                add('settlement')
            elif method == 'credit':
                amount = sale.credit_limit_amount
                limit = limits.get(party.id)
                used = credit_used.get(party.id, 0) + pending[party.id]
                if limit is not None and used + amount > limit:
                    add('settlement', 'msg_rule_credit_failed',
                        distributor=party.rec_name,
                        amount=lang.currency(amount, company.currency),
                        used=lang.currency(used, company.currency),
                        limit=lang.currency(limit, company.currency))
                else:
                    add('settlement')
            elif method == 'prepaid':
                amount = sale.total_amount
                available = (deposits.get(party.id, Decimal(0))
                    - committed.get(party.id, Decimal(0))
                    - pending[party.id])
                if amount > available:
                    add('settlement', 'msg_rule_deposit_failed',
                        distributor=party.rec_name,
                        amount=lang.currency(amount, sale.currency),
                        available=lang.currency(
                            max(available, 0), sale.currency))
                else:
                    add('settlement')
            elif method == 'instalment':
                term = config.instalment_payment_term
                if not term:
                    add('settlement', 'msg_rule_instalment_no_term')
                elif sale.payment_term != term:
                    add('settlement', 'msg_rule_instalment_failed',
                        term=term.rec_name)
                else:
                    add('settlement')
            if cumulative and all(m is None for _, m in outcome):
                pending[party.id] += amount
            result[sale.id] = outcome
        return result

    @classmethod
    def _dms_committed_amounts(cls, parties, exclude=()):
        """Total of the approved orders of prepaid distributors not
        invoiced yet: the deposit they will use"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        excluded = [s.id for s in exclude if s.id is not None and s.id >= 0]
        where = (table.state.in_(['confirmed', 'processing'])
            & table.invoice_state.in_(['none', 'pending']))
        if excluded:
            where &= ~table.id.in_(excluded)
        in_max = 1000
        for sub in grouped_slice([p.id for p in parties], in_max):
            cursor.execute(*table.select(
                    table.party,
                    Sum(table.total_amount_cache),
                    where=where & fields.SQL_OPERATORS['in'](
                        table.party, list(sub)),
                    group_by=[table.party]))
            for party_id, amount in cursor:
                if amount is not None:
                    result[party_id] = Decimal(str(amount))
        return result

    # Workflow ----------------------------------------------------------

    @classmethod
    def _dms_log(cls, sales, to_state, reason=None):
        pool = Pool()
        Log = pool.get('distributor.sale.log')
        user = _user()
        Log.create([{
                    'sale': s.id,
                    'from_state': s.channel_state,
                    'to_state': to_state,
                    'user': user,
                    'reason': reason,
                    } for s in sales])

    @classmethod
    def _dms_check_state(cls, sales, states, action):
        for sale in sales:
            if not sale.distributor_order:
                raise OrderStateError(gettext(
                        'distributor_sale.msg_not_distributor_order',
                        order=sale.rec_name))
            if sale.channel_state not in states:
                raise OrderStateError(gettext(
                        'distributor_sale.msg_wrong_state',
                        order=sale.rec_name,
                        state=sale.channel_state_string,
                        action=gettext(
                            f'distributor_sale.msg_action_{action}')))

    @classmethod
    def _dms_prepare(cls, sales):
        "Set what the order takes from the distributor before the checks"
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        config = Configuration(1)
        to_save = []
        for sale in sales:
            changed = False
            if sale.invoice_method != 'fulfillment':
                sale.invoice_method = 'fulfillment'
                changed = True
            if (sale.party.settlement_method == 'instalment'
                    and config.instalment_payment_term
                    and sale.payment_term != config.instalment_payment_term):
                sale.payment_term = config.instalment_payment_term
                changed = True
            if changed:
                to_save.append(sale)
        if to_save:
            cls.save(to_save)

    @classmethod
    @ModelView.button
    def dms_submit(cls, sales):
        "Submit the orders for approval after checking the channel rules"
        if not sales:
            return
        with workflow():
            sales = cls.browse(sales)
            cls._dms_check_state(sales, EDITABLE, 'submit')
            cls._dms_prepare(sales)
            sales = cls.browse(sales)
            cls.check_channel_rules(sales)
            now = _now()
            to_write = []
            for sale in sales:
                territory = sale.shipment_address.get_sales_territory()
                to_write.extend([[sale], {
                            'distributor_tier': (
                                sale.party.distributor_tier.id
                                if sale.party.distributor_tier else None),
                            'order_territory': territory.id,
                            }])
            cls._dms_log(sales, 'submitted')
            cls.write(*to_write)
            # staff and distributor refer to the order by its number
            cls.set_number(sales)
            cls.write(sales, {
                    'channel_state': 'submitted',
                    'submitted_by': _user(),
                    'submitted_at': now,
                    'reminded_at': None,
                    })
            cls._dms_notify_staff(sales, 'msg_notify_submitted')

    @classmethod
    @ModelView.button
    def dms_approve(cls, sales):
        "Approve submitted orders: quotation and confirmation, which ship"
        if not sales:
            return
        refused = cls.dms_approve_batch(sales, _strict=True)
        if refused:
            sale, message = refused[0]
            raise ChannelOrderError(message)

    @classmethod
    def dms_approve_batch(cls, sales, _strict=False):
        """Approve the orders that pass the rules, leave the others
        untouched; return [(order, reason)] of those refused

        With _strict (one by one from the button), an order in the wrong
        state raises instead and nothing is approved."""
        with workflow():
            cls.lock(sales)
            # Read the states after the lock: another session may just
            # have approved them
            sales = cls.browse(list(map(int, sales)))
            if _strict:
                cls._dms_check_state(sales, {'submitted'}, 'approve')
            refused, candidates = [], []
            for sale in sales:
                if not sale.distributor_order:
                    refused.append((sale, gettext(
                                'distributor_sale.msg_not_distributor_order',
                                order=sale.rec_name)))
                elif sale.channel_state != 'submitted':
                    refused.append((sale, gettext(
                                'distributor_sale.msg_wrong_state',
                                order=sale.rec_name,
                                state=sale.channel_state_string,
                                action=gettext(
                                    'distributor_sale.msg_action_approve'))))
                else:
                    candidates.append(sale)
            if not candidates:
                return refused
            cls._dms_lock_credit(candidates)
            outcomes = cls._dms_rule_outcomes(candidates, cumulative=True)
            good = []
            for sale in candidates:
                errors = [m for _, m in outcomes[sale.id] if m is not None]
                if errors:
                    refused.append((sale, errors[0]))
                else:
                    good.append(sale)
            if good:
                cls._dms_log(good, 'approved')
                cls.write(good, {
                        'channel_state': 'approved',
                        'approved_by': _user(),
                        'approved_at': _now(),
                        })
                _RULES_CHECKED.setdefault(Transaction(), set()).update(
                    s.id for s in good)
                cls.quote(good)
                cls.confirm(good)
                cls._dms_notify_distributor(good, 'msg_message_approved')
        return refused

    @classmethod
    def _dms_lock_credit(cls, sales):
        "Lock as Tryton's credit limit check does for credit settlement"
        pool = Pool()
        Party = pool.get('party.party')
        if any(s.party.settlement_method == 'credit'
                and s.order_kind != 'return' for s in sales):
            for model in Party._credit_limit_to_lock():
                pool.get(model).lock()

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_reject')
    def dms_reject(cls, sales):
        pass

    @classmethod
    def _dms_check_caller(cls, sales, button):
        """Over RPC the workflow methods obey what their button does:
        write access, the button's groups and the record rules"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Button = pool.get('ir.model.button')
        User = pool.get('res.user')
        transaction = Transaction()
        if not (transaction.user and transaction.check_access):
            return
        ModelAccess.check(cls.__name__, 'write')
        groups = Button.get_groups(cls.__name__, button)
        if groups and not (groups & set(User.get_groups())):
            raise AccessButtonError(gettext(
                    'ir.msg_access_button_error', button=button,
                    **cls.__names__()))
        cls.read([s.id for s in sales], ['id'])

    @classmethod
    def dms_reject_orders(cls, sales, reason):
        "Reject submitted orders with a mandatory reason"
        cls._dms_check_caller(sales, 'dms_reject')
        reason = (reason or '').strip()
        if not reason:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_reason_required'))
        with workflow(), without_check_access():
            cls.lock(sales)
            sales = cls.browse(list(map(int, sales)))
            cls._dms_check_state(sales, {'submitted'}, 'reject')
            cls._dms_log(sales, 'rejected', reason)
            cls.write(sales, {
                    'channel_state': 'rejected',
                    'rejected_by': _user(),
                    'rejected_at': _now(),
                    'rejection_reason': reason,
                    })
            cls._dms_notify_distributor(
                sales, 'msg_message_rejected', body=reason)

    @classmethod
    def dms_reject_batch(cls, sales, reason):
        """Reject the submitted orders among sales with the reason; return
        [(order, reason)] of those left untouched"""
        reason = (reason or '').strip()
        if not reason:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_reason_required'))
        sales = cls.browse(list(map(int, sales)))
        good = [s for s in sales
            if s.distributor_order and s.channel_state == 'submitted']
        refused = [(s, gettext('distributor_sale.msg_wrong_state',
                    order=s.rec_name, state=s.channel_state_string,
                    action=gettext('distributor_sale.msg_action_reject')))
            for s in sales if s not in good]
        if good:
            cls.dms_reject_orders(good, reason)
        return refused

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_cancel')
    def dms_cancel(cls, sales):
        pass

    @classmethod
    def dms_cancel_orders(cls, sales, reason):
        """Cancel orders not shipped yet, with a mandatory reason: their
        waiting shipments and draft invoices are cancelled"""
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        ShipmentOutReturn = pool.get('stock.shipment.out.return')
        Invoice = pool.get('account.invoice')
        Line = pool.get('sale.line')
        cls._dms_check_caller(sales, 'dms_cancel')
        reason = (reason or '').strip()
        if not reason:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_reason_required'))
        with workflow(), without_check_access():
            cls.lock(sales)
            sales = cls.browse(list(map(int, sales)))
            cls._dms_check_state(
                sales, {'draft', 'submitted', 'rejected', 'approved'},
                'cancel')
            shipments, returns, invoices = [], [], []
            for sale in sales:
                if sale.channel_state != 'approved':
                    continue
                for shipment in sale.shipments:
                    if shipment.state in {'shipped', 'done'}:
                        raise OrderStateError(gettext(
                                'distributor_sale.msg_cancel_shipped',
                                order=sale.rec_name,
                                shipment=shipment.rec_name))
                    if shipment.state != 'cancelled':
                        shipments.append(shipment)
                for shipment in sale.shipment_returns:
                    if shipment.state in {'received', 'done'}:
                        raise OrderStateError(gettext(
                                'distributor_sale.msg_cancel_shipped',
                                order=sale.rec_name,
                                shipment=shipment.rec_name))
                    if shipment.state != 'cancelled':
                        returns.append(shipment)
                for invoice in sale.invoices:
                    if invoice.state not in {'draft', 'cancelled'}:
                        raise OrderStateError(gettext(
                                'distributor_sale.msg_cancel_invoiced',
                                order=sale.rec_name,
                                invoice=invoice.rec_name))
                    if invoice.state == 'draft':
                        invoices.append(invoice)
            if shipments:
                ShipmentOut.cancel(shipments)
            if returns:
                ShipmentOutReturn.cancel(returns)
            if invoices:
                Invoice.cancel(invoices)
            approved = [s for s in sales if s.channel_state == 'approved']
            # the cancelled moves and invoices are ignored, as Tryton's
            # exception wizards do, in one write per model
            line_args, sale_args = [], []
            for sale in approved:
                for line in sale.line_lines:
                    moves = [m.id for m in line.moves
                        if m.state == 'cancelled'
                        and m not in line.moves_ignored]
                    if moves:
                        line_args.extend([[line], {
                                    'moves_ignored': [('add', moves)]}])
                ignored = [i.id for i in sale.invoices
                    if i.state == 'cancelled']
                if ignored:
                    sale_args.extend([[sale], {
                                'invoices_ignored': [('add', ignored)]}])
            if line_args:
                Line.write(*line_args)
            if sale_args:
                cls.write(*sale_args)
            cls._dms_log(sales, 'cancelled', reason)
            cls.write(sales, {
                    'channel_state': 'cancelled',
                    'cancelled_by': _user(),
                    'cancelled_at': _now(),
                    'cancel_reason': reason,
                    })
            drafts = [s for s in sales if s.state in {'draft', 'quotation'}]
            if drafts:
                cls.cancel(drafts)
            if approved:
                cls.write(approved, {'state': 'cancelled'})
            cls._dms_notify_distributor(
                [s for s in sales if s.submitted_at],
                'msg_message_cancelled', body=reason)

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_override_floor')
    def dms_override_floor(cls, sales):
        pass

    @classmethod
    def dms_override_floor_prices(cls, sales, reason):
        """Let the lines priced below the tier's floor through, recording
        who allowed it and why (channel managers only)"""
        pool = Pool()
        Line = pool.get('sale.line')
        PriceFloor = pool.get('distributor.price_floor')
        reason = (reason or '').strip()
        if not reason:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_reason_required'))
        with workflow():
            sales = cls.browse(list(map(int, sales)))
            cls._dms_check_state(
                sales, {'draft', 'submitted', 'rejected'}, 'override')
            pairs = {(s.party.distributor_tier.id, l.product.id)
                for s in sales if s.party.distributor_tier
                for l in s.line_lines if l.product}
            floors = PriceFloor.floors(pairs)
            lines = []
            for sale in sales:
                tier = sale.party.distributor_tier
                for line in sale.line_lines:
                    floor = floors.get(
                        (tier.id if tier else None,
                            line.product.id if line.product else None))
                    if floor is not None and (line.unit_price or 0) < floor:
                        lines.append(line)
            if not lines:
                raise OrderStateError(gettext(
                        'distributor_sale.msg_no_line_below_floor'))
            Line.write(lines, {
                    'floor_override_by': _user(),
                    'floor_override_reason': reason,
                    })
            cls._dms_log(
                sales, None, gettext(
                    'distributor_sale.msg_log_floor_override',
                    reason=reason))

    @classmethod
    def process(cls, sales):
        super().process(sales)
        cls._dms_sync_shipment(sales)

    @classmethod
    def _dms_sync_shipment(cls, sales):
        "Follow Tryton's shipment state: shipped, or done for returns"
        sales = cls.browse([s.id for s in sales])
        # only distributor orders are ever approved
        shipped = [s for s in sales
            if s.channel_state == 'approved' and s.shipment_state == 'sent']
        if not shipped:
            return
        goods = [s for s in shipped if s.order_kind != 'return']
        returns = [s for s in shipped if s.order_kind == 'return']
        if goods:
            cls._dms_log(goods, 'shipped')
            cls.write(goods, {'channel_state': 'shipped'})
            cls._dms_notify_distributor(goods, 'msg_message_shipped')
        if returns:
            cls._dms_log(returns, 'done')
            cls.write(returns, {
                    'channel_state': 'done',
                    'received_at': _now(),
                    })
            cls._dms_notify_distributor(
                returns, 'msg_message_return_received')

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_receive')
    def dms_receive(cls, sales):
        pass

    @classmethod
    def dms_confirm_receipt(cls, sales, quantities=None, note=None):
        """The distributor confirms receipt of shipped orders.

        quantities maps sale line ids to the received quantity (in the line
        unit); lines not given are received as shipped.  A shortfall opens
        a discrepancy for staff to resolve."""
        pool = Pool()
        Line = pool.get('sale.line')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        cls._dms_check_caller(sales, 'dms_receive')
        quantities = {int(k): v for k, v in (quantities or {}).items()}
        with workflow(), without_check_access():
            cls.lock(sales)
            sales = cls.browse(list(map(int, sales)))
            cls._dms_check_state(sales, {'shipped'}, 'receive')
            lines_of = {l.id: l for s in sales for l in s.line_lines}
            unknown = set(quantities) - set(lines_of)
            if unknown:
                raise ReceiptError(gettext(
                        'distributor_sale.msg_receipt_unknown_line',
                        line=sorted(unknown)[0]))
            to_write, discrepancies = [], []
            for line_id, line in lines_of.items():
                shipped = line.dms_shipped_quantity
                received = quantities.get(line_id, shipped)
                try:
                    received = float(received)
                except (TypeError, ValueError):
                    raise ReceiptError(gettext(
                            'distributor_sale.msg_receipt_quantity_invalid',
                            product=line.product.rec_name,
                            quantity=received))
                if received < 0:
                    raise ReceiptError(gettext(
                            'distributor_sale.msg_receipt_quantity_invalid',
                            product=line.product.rec_name,
                            quantity=received))
                received = line.unit.round(received)
                if received > shipped:
                    raise ReceiptError(gettext(
                            'distributor_sale.msg_receipt_above_shipped',
                            product=line.product.rec_name,
                            received=received, shipped=shipped))
                to_write.extend([[line], {'received_quantity': received}])
                if received < shipped:
                    discrepancies.append({
                            'sale': line.sale.id,
                            'line': line.id,
                            'shipped_quantity': shipped,
                            'received_quantity': received,
                            'note': note,
                            })
            if to_write:
                Line.write(*to_write)
            if discrepancies:
                Discrepancy.create(discrepancies)
            with_gap = {d['sale'] for d in discrepancies}
            cls._dms_log(sales, 'received', note)
            cls.write(sales, {
                    'channel_state': 'received',
                    'received_by': _user(),
                    'received_at': _now(),
                    })
            complete = [s for s in sales if s.id not in with_gap]
            if complete:
                cls._dms_done(complete)
            if with_gap:
                cls._dms_notify_staff(
                    [s for s in sales if s.id in with_gap],
                    'msg_notify_discrepancy')

    @classmethod
    def _dms_done(cls, sales):
        sales = cls.browse([s.id for s in sales])
        cls._dms_log(sales, 'done')
        cls.write(sales, {'channel_state': 'done'})

    # Notifications -----------------------------------------------------

    @classmethod
    def _dms_staff_users(cls, sales):
        "{sale: users} the sales rep of the distributor and channel managers"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        manager_group = ModelData.get_id(
            'distributor', 'group_channel_manager')
        with without_check_access():
            managers = User.search([('groups', '=', manager_group)])
            reps = {s.party.sales_rep for s in sales if s.party.sales_rep}
            rep_users = defaultdict(list)
            if reps:
                for user in User.search([
                            ('employees', 'in', list(map(int, reps))),
                            ]):
                    for employee in user.employees:
                        rep_users[employee.id].append(user)
        result = {}
        for sale in sales:
            users = set(managers)
            if sale.party.sales_rep:
                users.update(rep_users[sale.party.sales_rep.id])
            result[sale] = users
        return result

    @classmethod
    def _dms_notify_staff(cls, sales, msg_id):
        pool = Pool()
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        Action = pool.get('ir.action')
        action_id = Action.get_action_id(ModelData.get_id(
                'distributor_sale', 'act_order_form'))
        vlist = []
        for sale, users in cls._dms_staff_users(sales).items():
            for user in users:
                with Transaction().set_context(language=user.language.code
                        if user.language else None):
                    label = gettext('distributor_sale.' + msg_id,
                        order=sale.rec_name, distributor=sale.party.rec_name)
                vlist.append({
                        'user': user.id,
                        'label': label,
                        'icon': 'tryton-sale',
                        'model': cls.__name__,
                        'records': str([sale.id]),
                        'action': action_id,
                        })
        with without_check_access():
            Notification.create(vlist)

    @classmethod
    def _dms_notify_distributor(cls, sales, msg_id, body=None):
        Message = Pool().get('distributor.message')
        with without_check_access():
            Message.post([(s.party, 'distributor_sale.' + msg_id, s,
                        {'order': s.rec_name}, body) for s in sales])

    @classmethod
    def dms_remind_pending(cls):
        """Scheduled task: recall the orders waiting for approval longer
        than configured to the sales reps and channel managers"""
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        config = Configuration(1)
        limit = _now() - dt.timedelta(hours=config.approval_reminder_hours)
        sales = cls.search([
                ('channel_state', '=', 'submitted'),
                ('submitted_at', '<=', limit),
                ['OR',
                    ('reminded_at', '=', None),
                    ('reminded_at', '<=', limit),
                    ],
                ])
        if sales:
            with workflow():
                cls._dms_notify_staff(sales, 'msg_notify_reminder')
                cls.write(sales, {'reminded_at': _now()})
        return sales

    # API for the portal ------------------------------------------------

    @classmethod
    def _dms_check_party(cls, party_id):
        "The distributor the caller acts for, if the caller may reach it"
        pool = Pool()
        Party = pool.get('party.party')
        parties = Party.search([
                ('id', '=', int(party_id)),
                ('is_distributor', '=', True),
                ])
        if not parties:
            raise AccessError(gettext(
                    'distributor_sale.msg_party_unreachable',
                    party=party_id))
        return parties[0]

    @classmethod
    def dms_create_order(cls, party_id, lines, kind='regular', address=None,
            reference=None, delivery_method='brand', comment=None,
            submit=False):
        """Create an order of the distributor, priced by its tier's price
        list, and submit it when asked.

        lines are dicts with product (id or code), quantity (positive,
        negated for returns) and optionally gift.  Returns the order id."""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('sale.line')
        Address = pool.get('party.address')
        party = cls._dms_check_party(party_id)
        if kind not in dict(KINDS):
            raise ChannelOrderError(gettext(
                    'distributor_sale.msg_unknown_kind', kind=kind))
        if delivery_method not in dict(DELIVERY_METHODS):
            raise ChannelOrderError(gettext(
                    'distributor_sale.msg_unknown_delivery_method',
                    method=delivery_method))
        if not lines:
            raise ChannelOrderError(gettext(
                    'distributor_sale.msg_rule_lines_empty', order=''))
        sale = cls(party=party, order_kind=kind,
            delivery_method=delivery_method, reference=reference,
            comment=comment)
        for name, value in cls.default_get(
                ['company', 'currency', 'warehouse', 'invoice_method',
                    'shipment_method', 'payment_term'],
                with_rec_name=False).items():
            setattr(sale, name, value)
        sale.on_change_party()
        if address is not None:
            addresses = Address.search([
                    ('id', '=', int(address)), ('party', '=', party.id)])
            if not addresses:
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_unknown_address',
                        address=address))
            sale.shipment_address, = addresses
        sale_lines = []
        for values in lines:
            key = values.get('product')
            if isinstance(key, int):
                products = Product.search([('id', '=', key)])
            else:
                products = Product.search([('code', '=', str(key or ''))])
            if not products or not products[0].salable:
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_unknown_product',
                        product=key))
            product, = products
            try:
                quantity = float(values.get('quantity'))
            except (TypeError, ValueError):
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_rule_lines_quantity',
                        order='', product=product.rec_name,
                        quantity=values.get('quantity')))
            if quantity <= 0:
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_rule_lines_quantity',
                        order='', product=product.rec_name,
                        quantity=quantity))
            if kind == 'return':
                quantity = -quantity
            line = Line(sale=sale, type='line', product=product,
                quantity=quantity, gift=bool(values.get('gift')))
            line.on_change_product()
            line.quantity = quantity
            line.on_change_quantity()
            if line.gift:
                line.unit_price = Decimal(0)
            sale_lines.append(line)
        sale.lines = sale_lines
        sale.save()
        if submit:
            cls._dms_check_caller([sale], 'dms_submit')
            cls.dms_submit([sale])
        return sale.id

    @classmethod
    def dms_list_orders(cls, party_id, states=None, offset=0, limit=50):
        "The orders of a distributor the caller may reach, newest first"
        party = cls._dms_check_party(party_id)
        domain = [('party', '=', party.id)]
        if states:
            domain.append(('channel_state', 'in', list(states)))
        sales = cls.search(domain, offset=offset, limit=limit,
            order=[('create_date', 'DESC'), ('id', 'DESC')])
        return [{
                'id': s.id,
                'number': s.number,
                'reference': s.reference,
                'kind': s.order_kind,
                'state': s.channel_state,
                'date': s.sale_date or s.create_date.date(),
                'untaxed_amount': s.untaxed_amount,
                'total_amount': s.total_amount,
                'currency': s.currency.code,
                'lines': [{
                        'id': l.id,
                        'product': l.product.code if l.product else None,
                        'quantity': l.quantity,
                        'unit_price': l.unit_price,
                        'received_quantity': l.received_quantity,
                        } for l in s.line_lines],
                } for s in sales]


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    gift = fields.Boolean(
        "Gift",
        states={
            'invisible': Eval('type') != 'line',
            'readonly': Eval('sale_state') != 'draft',
            },
        help="A free item of a promotion order: priced at zero and exempt "
        "from the price floor.")
    floor_override_by = fields.Many2One(
        'res.user', "Floor Override By", readonly=True, ondelete='RESTRICT')
    floor_override_reason = fields.Char(
        "Floor Override Reason", readonly=True)
    received_quantity = fields.Float(
        "Received Quantity", digits='unit', readonly=True,
        states={
            'invisible': ~Bool(Eval('received_quantity')),
            })
    shipped_quantity = fields.Function(
        fields.Float("Shipped Quantity", digits='unit'),
        'get_shipped_quantity')

    @property
    def dms_shipped_quantity(self):
        pool = Pool()
        Uom = pool.get('product.uom')
        quantity = 0
        for move in self.moves:
            if move.state == 'done' and move.to_location.type == 'customer':
                quantity += Uom.compute_qty(
                    move.unit, move.quantity, self.unit, round=False)
        return self.unit.round(quantity) if self.unit else quantity

    def get_shipped_quantity(self, name):
        if self.type != 'line' or not self.product:
            return None
        return self.dms_shipped_quantity

    @fields.depends('gift')
    def compute_unit_price(self):
        price = super().compute_unit_price()
        if self.gift:
            return Decimal(0)
        return price

    @fields.depends('gift', 'unit_price', methods=['on_change_quantity'])
    def on_change_gift(self):
        self.on_change_quantity()

    @classmethod
    def _dms_free_fields(cls):
        return {'note', 'description'}

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        pool = Pool()
        Sale = pool.get('sale.sale')
        super().check_modification(
            mode, lines, values=values, external=external)
        if in_workflow() or not external:
            return
        if mode == 'write':
            _check_workflow_fields(cls, lines, values, LINE_WORKFLOW_FIELDS)
            if not (set(values) - cls._dms_free_fields()):
                return
        sales = {l.sale for l in lines if l.sale}
        if values and values.get('sale'):
            sales.add(Sale(values['sale']))
        for sale in sales:
            if sale.distributor_order and sale.channel_state not in EDITABLE:
                raise OrderLockedError(gettext(
                        'distributor_sale.msg_order_locked',
                        order=sale.rec_name,
                        state=sale.channel_state_string))

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Sale = pool.get('sale.sale')
        transaction = Transaction()
        # Refuse before inserting anything
        if (transaction.user and transaction.check_access
                and not in_workflow()):
            for values in vlist:
                _check_workflow_fields(cls, [], {k for k, v in values.items()
                        if v not in (None, [])}, LINE_WORKFLOW_FIELDS)
            sale_ids = {v['sale'] for v in vlist
                if isinstance(v.get('sale'), int) and v['sale'] >= 0}
            for sale in Sale.browse(list(sale_ids)):
                if (sale.distributor_order
                        and sale.channel_state not in EDITABLE):
                    raise OrderLockedError(gettext(
                            'distributor_sale.msg_order_locked',
                            order=sale.rec_name,
                            state=sale.channel_state_string))
        return super().create(vlist)

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('floor_override_by', None)
        default.setdefault('floor_override_reason', None)
        default.setdefault('received_quantity', None)
        return super().copy(lines, default=default)


class OrderLog(ModelSQL, ModelView):
    "Channel history of a distributor order: who, when, from which state"
    __name__ = 'distributor.sale.log'

    sale = fields.Many2One(
        'sale.sale', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    from_state = fields.Selection(
        [(None, '')] + CHANNEL_STATES, "From", readonly=True)
    to_state = fields.Selection(
        [(None, '')] + CHANNEL_STATES, "To", readonly=True)
    user = fields.Many2One(
        'res.user', "User", readonly=True, ondelete='RESTRICT')
    reason = fields.Text("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls.__access__.add('sale')

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'distributor_sale.msg_log_read_only'))


class Discrepancy(ModelSQL, ModelView):
    "Shortfall between what the brand shipped and the distributor received"
    __name__ = 'distributor.sale.discrepancy'

    sale = fields.Many2One(
        'sale.sale', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    line = fields.Many2One(
        'sale.line', "Order Line", required=True, ondelete='CASCADE',
        readonly=True)
    party = fields.Function(
        fields.Many2One('party.party', "Distributor"), 'get_party',
        searcher='search_party')
    product = fields.Function(
        fields.Many2One('product.product', "Product"), 'get_product')
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_product')
    shipped_quantity = fields.Float(
        "Shipped Quantity", digits='unit', readonly=True, required=True)
    received_quantity = fields.Float(
        "Received Quantity", digits='unit', readonly=True, required=True)
    missing_quantity = fields.Function(
        fields.Float("Missing Quantity", digits='unit'),
        'get_missing_quantity')
    missing_amount = fields.Function(
        Monetary("Missing Amount", currency='currency', digits='currency'),
        'get_missing_quantity')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_product')
    note = fields.Text("Distributor's Note", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('resolved', "Resolved"),
            ], "State", required=True, readonly=True, sort=False)
    resolution = fields.Selection([
            (None, ''),
            ('credit', "Credit Note"),
            ('reship', "Reshipment"),
            ('write_off', "Write-off"),
            ], "Resolution", readonly=True, sort=False)
    resolution_note = fields.Text("Resolution Note", readonly=True)
    resolved_by = fields.Many2One(
        'res.user', "Resolved By", readonly=True, ondelete='RESTRICT')
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    credit_note = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True, ondelete='RESTRICT')
    reship_order = fields.Many2One(
        'sale.sale', "Reshipment Order", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sale')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'resolve': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_party(self, name):
        return self.sale.party.id

    @classmethod
    def search_party(cls, name, clause):
        return [('sale.party' + clause[0][len(name):], *clause[1:])]

    def get_product(self, name):
        if name == 'currency':
            return self.sale.currency.id
        value = getattr(self.line, name)
        return value.id if value else None

    def get_missing_quantity(self, name):
        missing = self.shipped_quantity - self.received_quantity
        if name == 'missing_amount':
            return self.sale.currency.round(
                Decimal(str(missing)) * (self.line.unit_price or 0))
        return missing

    def get_rec_name(self, name):
        return f'{self.sale.rec_name} / {self.line.product.rec_name}'

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_resolve')
    def resolve(cls, discrepancies):
        pass

    @classmethod
    def resolve_discrepancies(cls, discrepancies, resolution, note=None):
        """Resolve open discrepancies: a draft credit note for the missing
        quantity, a reshipment order, or a write-off"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        if resolution not in {'credit', 'reship', 'write_off'}:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_unknown_resolution',
                    resolution=resolution))
        for discrepancy in discrepancies:
            if discrepancy.state != 'open':
                raise OrderStateError(gettext(
                        'distributor_sale.msg_discrepancy_resolved',
                        discrepancy=discrepancy.rec_name))
        with workflow():
            for discrepancy in discrepancies:
                values = {
                    'state': 'resolved',
                    'resolution': resolution,
                    'resolution_note': note,
                    'resolved_by': _user(),
                    'resolved_at': _now(),
                    }
                if resolution == 'credit':
                    values['credit_note'] = discrepancy._credit_note().id
                elif resolution == 'reship':
                    values['reship_order'] = discrepancy._reship().id
                cls.write([discrepancy], values)
            Message = pool.get('distributor.message')
            with without_check_access():
                Message.post([(d.sale.party,
                            'distributor_sale.msg_message_discrepancy_'
                            + resolution, d,
                            {'order': d.sale.rec_name,
                                'product': d.line.product.rec_name,
                                'quantity': d.missing_quantity},
                            note) for d in discrepancies])
            sales = {d.sale for d in discrepancies}
            done = [s for s in Sale.browse(list(sales))
                if s.channel_state == 'received'
                and all(d.state == 'resolved' for d in s.discrepancies)]
            if done:
                Sale._dms_done(done)

    def _credit_note(self):
        "A draft credit note for the missing quantity at the order's price"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        sale, line = self.sale, self.line
        invoice = sale._get_invoice()
        invoice.invoice_date = None
        invoice_line = InvoiceLine(
            invoice=invoice, type='line', company=sale.company,
            currency=sale.currency, product=line.product,
            quantity=-self.missing_quantity, unit=line.unit,
            unit_price=line.unit_price, taxes=line.taxes,
            description=gettext('distributor_sale.msg_credit_description',
                order=sale.rec_name, product=line.product.rec_name),
            origin=line)
        invoice_line.account = line.product.account_revenue_used
        invoice.lines = [invoice_line]
        invoice.save()
        Invoice.update_taxes([invoice])
        return invoice

    def _reship(self):
        "A new order for the missing quantity, to submit like any order"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        sale, = Sale.copy([self.sale], default={
                'lines': None,
                'order_kind': 'regular',
                'comment': gettext('distributor_sale.msg_reship_comment',
                    order=self.sale.rec_name),
                })
        Line.copy([self.line], default={
                'sale': sale.id,
                'quantity': self.missing_quantity,
                })
        return sale


class ReasonStart(ModelView):
    "Reason of a rejection, a cancellation or an override"
    __name__ = 'distributor.sale.reason.start'
    reason = fields.Text("Reason", required=True)


class _ReasonWizard(Wizard):
    start = StateView('distributor.sale.reason.start',
        'distributor_sale.reason_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("OK", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()
    _method = None

    def transition_apply(self):
        getattr(self.model, self._method)(self.records, self.start.reason)
        return 'end'


class Reject(_ReasonWizard):
    "Reject distributor orders"
    __name__ = 'distributor.sale.reject'
    _method = 'dms_reject_orders'


class Cancel(_ReasonWizard):
    "Cancel distributor orders"
    __name__ = 'distributor.sale.cancel'
    _method = 'dms_cancel_orders'


class OverrideFloor(_ReasonWizard):
    "Allow prices below the tier's floor"
    __name__ = 'distributor.sale.override_floor'
    _method = 'dms_override_floor_prices'


class BatchStart(ModelView):
    "Approve or reject many orders"
    __name__ = 'distributor.sale.batch.start'
    action = fields.Selection([
            ('approve', "Approve"),
            ('reject', "Reject"),
            ], "Action", required=True)
    reason = fields.Text("Reason",
        states={
            'required': Eval('action') == 'reject',
            'invisible': Eval('action') != 'reject',
            })
    orders = fields.Many2Many(
        'sale.sale', None, None, "Orders", readonly=True)

    @classmethod
    def default_action(cls):
        return 'approve'


class BatchResult(ModelView):
    "Result of a batch approval or rejection"
    __name__ = 'distributor.sale.batch.result'
    done = fields.Many2Many(
        'sale.sale', None, None, "Processed Orders", readonly=True)
    refused = fields.Many2Many(
        'sale.sale', None, None, "Orders Left Untouched", readonly=True)
    reasons = fields.Text("Reasons", readonly=True)


class Batch(Wizard):
    "Approve or reject many distributor orders at once"
    __name__ = 'distributor.sale.batch'
    start = StateView('distributor.sale.batch.start',
        'distributor_sale.batch_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Run", 'run', 'tryton-ok', default=True),
            ])
    run = StateTransition()
    result = StateView('distributor.sale.batch.result',
        'distributor_sale.batch_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        return {'orders': [r.id for r in self.records]}

    def transition_run(self):
        Sale = Pool().get('sale.sale')
        sales = list(self.records)
        if self.start.action == 'approve':
            refused = Sale.dms_approve_batch(sales)
        else:
            refused = Sale.dms_reject_batch(sales, self.start.reason)
        refused_ids = {s.id for s, _ in refused}
        self.result.done = [s for s in sales if s.id not in refused_ids]
        self.result.refused = [s for s, _ in refused]
        self.result.reasons = '\n'.join(m for _, m in refused)
        return 'result'

    def default_result(self, fields):
        return {
            'done': [s.id for s in self.result.done],
            'refused': [s.id for s in self.result.refused],
            'reasons': self.result.reasons,
            }


class ReceiveStart(ModelView):
    "Confirm the receipt of an order"
    __name__ = 'distributor.sale.receive.start'
    lines = fields.One2Many(
        'distributor.sale.receive.line', None, "Lines")
    note = fields.Text("Note")


class ReceiveLine(ModelView):
    "Received quantity of an order line"
    __name__ = 'distributor.sale.receive.line'
    line = fields.Many2One('sale.line', "Order Line", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    shipped_quantity = fields.Float(
        "Shipped Quantity", digits='unit', readonly=True)
    received_quantity = fields.Float(
        "Received Quantity", digits='unit', required=True,
        domain=[
            ('received_quantity', '>=', 0),
            ('received_quantity', '<=', Eval('shipped_quantity', 0)),
            ])


class Receive(Wizard):
    "Confirm the receipt of an order, line by line"
    __name__ = 'distributor.sale.receive'
    start = StateView('distributor.sale.receive.start',
        'distributor_sale.receive_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()

    def default_start(self, fields):
        lines = []
        for line in self.record.line_lines:
            shipped = line.dms_shipped_quantity
            lines.append({
                    'line': line.id,
                    'product': line.product.id if line.product else None,
                    'unit': line.unit.id if line.unit else None,
                    'shipped_quantity': shipped,
                    'received_quantity': shipped,
                    })
        return {'lines': lines}

    def transition_confirm(self):
        self.model.dms_confirm_receipt([self.record], {
                l.line.id: l.received_quantity for l in self.start.lines},
            note=self.start.note)
        return 'end'


class ResolveStart(ModelView):
    "Resolve discrepancies"
    __name__ = 'distributor.sale.resolve.start'
    resolution = fields.Selection([
            ('credit', "Credit Note"),
            ('reship', "Reshipment"),
            ('write_off', "Write-off"),
            ], "Resolution", required=True)
    note = fields.Text("Note")


class Resolve(Wizard):
    "Resolve receipt discrepancies"
    __name__ = 'distributor.sale.resolve'
    start = StateView('distributor.sale.resolve.start',
        'distributor_sale.resolve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Resolve", 'resolve', 'tryton-ok', default=True),
            ])
    resolve = StateTransition()

    def transition_resolve(self):
        self.model.resolve_discrepancies(
            self.records, self.start.resolution, self.start.note)
        return 'end'

