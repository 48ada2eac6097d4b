# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Distributor orders: the brand's sales to its distributors, with the
channel workflow over Tryton's sale workflow.

The channel workflow (submit, approve or reject, ship, receive) is the only
way a distributor order moves: its buttons and entry points drive Tryton's
own quote, confirm and cancel, and the channel state follows
(``_dms_channel_transitions``).  Neither Tryton's state nor the channel
state nor the other workflow fields can be written by a client; an order
is locked with its lines once submitted (the document base)."""
import datetime as dt
import weakref
from contextlib import contextmanager
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import check_caller, entry_point, resolve, trusted
from distributor.inbox import notify_staff
from distributor.document import (
    Document, DocumentLine, DocumentLog, ReasonWizard, serialize)

from .exceptions import ChannelOrderError, OrderStateError, ReceiptError

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
# the states after an approval
APPROVED = {'approved', 'shipped', 'received', 'done'}
# Sale fields the channel order header copies from the party or locks
_LOCKED_HEADER = [
    'party', 'invoice_party', 'shipment_party', 'invoice_address',
    'shipment_address', 'price_list', 'payment_term', 'currency',
    'warehouse', 'lines', 'company', 'reference', 'sale_date',
    'invoice_method', 'shipment_method',
    ]
# Set by the workflow only, never by a client call
WORKFLOW_FIELDS = {
    'state', 'number', 'shipment_state', 'invoice_state',
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

# Per transaction: the depth of channel workflow calls in progress, and
# the orders whose rules were checked.  Not context keys: changing the
# context would make Tryton read every record again under the new context.
_WORKFLOW = weakref.WeakKeyDictionary()
_RULES_CHECKED = weakref.WeakKeyDictionary()


@contextmanager
def channel_workflow():
    "The channel workflow itself drives Tryton's sale workflow within"
    transaction = Transaction()
    _WORKFLOW[transaction] = _WORKFLOW.get(transaction, 0) + 1
    try:
        yield
    finally:
        _WORKFLOW[transaction] -= 1


def in_channel_workflow():
    return _WORKFLOW.get(Transaction(), 0) > 0


def _now():
    return dt.datetime.now()


def _user():
    return Transaction().user or None


class Sale(Document, metaclass=PoolMeta):
    __name__ = 'sale.sale'
    _dms_state = 'channel_state'
    _dms_editable_states = EDITABLE
    _dms_deletable_states = {'draft', 'rejected', 'cancelled'}
    _dms_free_fields = {'comment', 'description'}
    _dms_workflow_fields = WORKFLOW_FIELDS
    _dms_log_model = 'distributor.sale.log'

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
        'distributor.sale.log', 'document', "Channel History",
        readonly=True)
    discrepancies = fields.One2Many(
        'distributor.sale.discrepancy', 'sale', "Discrepancies",
        readonly=True)
    rule_checks = fields.Function(
        fields.Text("Channel Rule Checks"), 'get_rule_checks',
        loading='lazy')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._dms_channel_transitions = {
            ('draft', 'submitted'),
            ('rejected', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'shipped'),
            ('approved', 'done'),
            ('shipped', 'received'),
            ('received', 'done'),
            ('draft', 'cancelled'),
            ('submitted', 'cancelled'),
            ('rejected', 'cancelled'),
            ('approved', 'cancelled'),
            }
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
                'dms_approve_orders': RPC(readonly=False),
                'dms_cancel_orders': RPC(readonly=False),
                'dms_reject_orders': RPC(readonly=False),
                'dms_confirm_receipt': RPC(readonly=False),
                'dms_rule_report': RPC(),
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

    # The document base -------------------------------------------------

    @classmethod
    def _dms_is_editable(cls, record):
        return (not record.distributor_order
            or record.channel_state in EDITABLE)

    @classmethod
    def _dms_log_reason(cls, record, to_state):
        reason = super()._dms_log_reason(record, to_state)
        if reason is None:
            if to_state == 'rejected':
                reason = record.rejection_reason
            elif to_state == 'cancelled':
                reason = record.cancel_reason
        return reason

    @classmethod
    def _dms_set_channel_state(cls, sales, state, **values):
        """Move the orders to the channel state (a transition of
        _dms_channel_transitions), with the workflow's values"""
        for sale in sales:
            if (sale.channel_state, state) not in (
                    cls._dms_channel_transitions):
                raise OrderStateError(gettext(
                        'distributor_sale.msg_wrong_state',
                        order=sale.rec_name,
                        state=sale.channel_state_string,
                        action=_selection_label(cls, state)))
        with trusted():
            cls.write(list(sales), {'channel_state': state, **values})

    @classmethod
    def _dms_refuse_outside_workflow(cls, sales):
        if in_channel_workflow():
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
    @entry_point(records={'sales': None})
    def dms_rule_report(cls, sales):
        "The outcome of every channel rule for each order"
        outcomes = cls._dms_rule_outcomes(sales)
        return {s.id: [{'rule': r, 'ok': m is None, 'message': m}
                for r, m in outcomes[s.id]] for s in sales}

    # Workflow ----------------------------------------------------------

    @classmethod
    def _dms_check_state(cls, sales, states, action):
        for sale in sales:
            if not sale.distributor_order:
                raise OrderStateError(gettext(
                        'distributor_sale.msg_not_distributor_order',
                        order=sale.rec_name))
            if sale.channel_state not in states:
                if action == 'approve' and sale.channel_state in APPROVED:
                    raise OrderStateError(cls._dms_already_approved(sale))
                raise OrderStateError(gettext(
                        'distributor_sale.msg_wrong_state',
                        order=sale.rec_name,
                        state=sale.channel_state_string,
                        action=gettext(
                            f'distributor_sale.msg_action_{action}')))

    @classmethod
    def _dms_already_approved(cls, sale):
        return gettext('distributor_sale.msg_already_approved',
            order=sale.rec_name,
            user=sale.approved_by.rec_name if sale.approved_by else '',
            date=sale.approved_at.replace(microsecond=0)
            if sale.approved_at else '')

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
            with trusted():
                cls.save(to_save)

    @classmethod
    @ModelView.button
    def dms_submit(cls, sales):
        "Submit the orders for approval after checking the channel rules"
        if not sales:
            return
        cls.dms_serialize(sales)
        with channel_workflow(), trusted():
            sales = cls.browse(sales)
            cls._dms_check_state(sales, EDITABLE, 'submit')
            cls._dms_prepare(sales)
            sales = cls.browse(sales)
            cls.check_channel_rules(sales)
            territories = Pool().get('party.address').sales_territories(
                {s.shipment_address for s in sales})
            to_write = []
            for sale in sales:
                territory = territories[sale.shipment_address]
                to_write.extend([[sale], {
                            'distributor_tier': (
                                sale.party.distributor_tier.id
                                if sale.party.distributor_tier else None),
                            'order_territory': territory.id,
                            }])
            cls.write(*to_write)
            # staff and distributor refer to the order by its number
            cls.set_number(sales)
            cls._dms_set_channel_state(sales, 'submitted',
                submitted_by=_user(), submitted_at=_now(), reminded_at=None)
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
    @entry_point(records={'sales': None})
    def dms_approve_orders(cls, sales):
        """Approve submitted orders (the API): all or none; an order
        approved meanwhile by someone else is refused as such"""
        cls.dms_approve(sales)

    @classmethod
    def dms_approve_batch(cls, sales, _strict=False):
        """Approve the orders that pass the rules, leave the others
        untouched; return [(order, reason)] of those refused

        With _strict (one by one from the button), an order in the wrong
        state raises instead and nothing is approved."""
        pool = Pool()
        Party = pool.get('party.party')
        # before reading anything: a concurrent approval of the same
        # orders, or of orders using the same credit or deposit, waits
        # for this one and then sees what it did
        cls.dms_serialize(sales)
        sales = cls.browse(list(map(int, sales)))
        serialize(Party, [s.party for s in sales
                if s.party and s.party.settlement_method in {
                    'credit', 'prepaid'}])
        with channel_workflow(), trusted():
            if _strict:
                cls._dms_check_state(sales, {'submitted'}, 'approve')
            refused, candidates = [], []
            for sale in sales:
                if not sale.distributor_order:
                    refused.append((sale, gettext(
                                'distributor_sale.msg_not_distributor_order',
                                order=sale.rec_name)))
                elif sale.channel_state in APPROVED:
                    refused.append((sale, cls._dms_already_approved(sale)))
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
            outcomes = cls._dms_rule_outcomes(candidates, cumulative=True)
            good = []
            for sale in candidates:
                errors = [m for _, m in outcomes[sale.id] if m is not None]
                if errors:
                    refused.append((sale, errors[0]))
                else:
                    good.append(sale)
            if good:
                cls._dms_set_channel_state(good, 'approved',
                    approved_by=_user(), approved_at=_now())
                _RULES_CHECKED.setdefault(Transaction(), set()).update(
                    s.id for s in good)
                cls.quote(good)
                cls.confirm(good)
                cls._dms_notify_distributor(good, 'msg_message_approved')
        return refused

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_reject')
    def dms_reject(cls, sales):
        pass

    @classmethod
    @entry_point(records={'sales': None})
    def dms_reject_orders(cls, sales, reason):
        "Reject submitted orders with a mandatory reason"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(sales)
        with channel_workflow(), trusted():
            sales = cls.browse(list(map(int, sales)))
            cls._dms_check_state(sales, {'submitted'}, 'reject')
            cls._dms_set_channel_state(sales, 'rejected',
                rejected_by=_user(), rejected_at=_now(),
                rejection_reason=reason)
            cls._dms_notify_distributor(
                sales, 'msg_message_rejected', body=reason)

    @classmethod
    def dms_reject_batch(cls, sales, reason):
        """Reject the submitted orders among sales with the reason; return
        [(order, reason)] of those left untouched"""
        reason = cls.dms_check_reason(reason)
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
    @entry_point(records={'sales': None})
    def dms_cancel_orders(cls, sales, reason):
        """Cancel orders not shipped yet, with a mandatory reason: their
        waiting shipments and draft invoices are cancelled"""
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        ShipmentOutReturn = pool.get('stock.shipment.out.return')
        Invoice = pool.get('account.invoice')
        Line = pool.get('sale.line')
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(sales)
        with channel_workflow(), trusted():
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
            cls._dms_set_channel_state(sales, 'cancelled',
                cancelled_by=_user(), cancelled_at=_now(),
                cancel_reason=reason)
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
        who allowed it and why (its wizard: channel managers only)"""
        pool = Pool()
        Line = pool.get('sale.line')
        PriceFloor = pool.get('distributor.price_floor')
        reason = cls.dms_check_reason(reason)
        with channel_workflow(), trusted():
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
            with cls.dms_reason(gettext(
                        'distributor_sale.msg_log_floor_override',
                        reason=reason)):
                cls._dms_log_changes([(s.id, s.channel_state, None)
                        for s in sales])

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
            cls._dms_set_channel_state(goods, 'shipped')
            cls._dms_notify_distributor(goods, 'msg_message_shipped')
        if returns:
            cls._dms_set_channel_state(returns, 'done', received_at=_now())
            cls._dms_notify_distributor(
                returns, 'msg_message_return_received')

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_receive')
    def dms_receive(cls, sales):
        pass

    @classmethod
    @entry_point(records={'sales': None})
    def dms_confirm_receipt(cls, sales, quantities=None, note=None):
        """The distributor confirms receipt of shipped orders.

        quantities maps sale line ids to the received quantity (in the line
        unit); lines not given are received as shipped.  A shortfall opens
        a discrepancy for staff to resolve."""
        quantities = validation.id_mapping(
            quantities, gettext('distributor_sale.msg_field_quantities'))
        note = validation.text(
            note, gettext('distributor_sale.msg_field_note'))
        cls._dms_confirm_receipt(sales, quantities, note)

    @classmethod
    def _dms_confirm_receipt(cls, sales, quantities, note):
        """Record the received quantities ({line id: quantity}); modules
        extend it (distributor_stock moves the goods into stock)"""
        pool = Pool()
        Line = pool.get('sale.line')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        cls.dms_serialize(sales)
        with channel_workflow(), trusted():
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
                received = validation.quantity(
                    quantities.get(line_id, shipped), line.product.rec_name,
                    unit=line.unit, allow_zero=True)
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
            with cls.dms_reason(note):
                cls._dms_set_channel_state(sales, 'received',
                    received_by=_user(), received_at=_now())
            complete = [s for s in sales if s.id not in with_gap]
            if complete:
                cls._dms_done(complete)
            if with_gap:
                cls._dms_notify_staff(
                    [s for s in sales if s.id in with_gap],
                    'msg_notify_discrepancy')

    @classmethod
    def _dms_done(cls, sales):
        cls._dms_set_channel_state(cls.browse([s.id for s in sales]), 'done')

    # Notifications -----------------------------------------------------

    @classmethod
    def _dms_notify_staff(cls, sales, msg_id):
        "Tell the distributor's sales rep and the channel managers"
        notify_staff([(s, s.party, 'distributor_sale.' + msg_id,
                    {'order': s.rec_name, 'distributor': s.party.rec_name})
                for s in sales],
            'distributor_sale.act_order_form', icon='tryton-sale')

    @classmethod
    def _dms_notify_distributor(cls, sales, msg_id, body=None):
        "Post to the distributor's inbox"
        Message = Pool().get('distributor.message')
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
            cls._dms_notify_staff(sales, 'msg_notify_reminder')
            with trusted():
                cls.write(sales, {'reminded_at': _now()})
        return sales

    # API for the portal ------------------------------------------------

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_create_order(cls, party, lines, kind='regular', address=None,
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
        kind = validation.choice(kind, gettext(
                'distributor_sale.msg_field_kind'), KINDS)
        delivery_method = validation.choice(delivery_method, gettext(
                'distributor_sale.msg_field_delivery_method'),
            DELIVERY_METHODS)
        lines = validation.lines(lines, gettext(
                'distributor_sale.msg_field_lines'))
        reference = validation.text(reference, gettext(
                'distributor_sale.msg_field_reference'), size=128,
            multiline=False)
        comment = validation.text(comment, gettext(
                'distributor_sale.msg_field_comment'))
        submit = validation.flag(submit, 'submit')
        if submit:
            check_caller(cls, 'dms_submit')
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
            sale.shipment_address = resolve(Address, address, gettext(
                    'distributor_sale.msg_field_address'),
                domain=[('party', '=', party.id)], many=False)
        products = Product.dms_find_products(
            [values.get('product') for values in lines])
        sale_lines = []
        for values, product in zip(lines, products):
            validation.keys(values, gettext(
                    'distributor_sale.msg_field_lines'),
                {'product', 'quantity', 'gift'})
            quantity = validation.quantity(
                values.get('quantity'), product.rec_name,
                unit=product.sale_uom)
            if kind == 'return':
                quantity = -quantity
            gift = validation.flag(values.get('gift', False), 'gift')
            # priced once, for its quantity (the price list is
            # Tryton's, two queries a line)
            line = Line(sale=sale, type='line', product=product,
                quantity=quantity, gift=gift)
            line.on_change_product()
            line.quantity = quantity
            if line.gift:
                line.unit_price = Decimal(0)
            sale_lines.append(line)
        sale.lines = sale_lines
        sale.save()
        if submit:
            cls.dms_submit([sale])
        return sale.id


def _selection_label(Model, state):
    return dict(Model.fields_get(['channel_state'])['channel_state'][
            'selection']).get(state, state)


class SaleLine(DocumentLine, metaclass=PoolMeta):
    __name__ = 'sale.line'
    _dms_document = 'sale'
    _dms_workflow_fields = LINE_WORKFLOW_FIELDS
    _dms_free_fields = {'note', 'description'}

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
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        for line in lines:
            if (line.sale and line.sale.distributor_order
                    and line.unit_price is not None
                    and line.unit_price < 0):
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_negative_price',
                        product=line.product.rec_name
                        if line.product else line.rec_name))


class OrderLog(DocumentLog, ModelSQL, ModelView):
    "Channel history of a distributor order: who, when, from which state"
    __name__ = 'distributor.sale.log'

    document = fields.Many2One(
        'sale.sale', "Order", required=True, ondelete='CASCADE',
        readonly=True)

    @classmethod
    def __register__(cls, module_name):
        table = cls.__table_handler__(module_name)
        # Migration: the order was the field "sale"
        if table.column_exist('sale') and not table.column_exist(
                'document'):
            table.column_rename('sale', 'document')
        super().__register__(module_name)


class Reject(ReasonWizard):
    "Reject distributor orders"
    __name__ = 'distributor.sale.reject'
    _method = 'dms_reject_orders'


class Cancel(ReasonWizard):
    "Cancel distributor orders"
    __name__ = 'distributor.sale.cancel'
    _method = 'dms_cancel_orders'


class OverrideFloor(ReasonWizard):
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


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'sale.sale', 'distributor.sale.discrepancy']
