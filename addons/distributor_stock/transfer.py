# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Stock transfers between distributors, or between the brand and one"
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, ReasonWizard)
from distributor.exceptions import RecordNotFound

from .exceptions import TransferError

STATES = [
    ('draft', "Draft"),
    ('requested', "Requested"),
    ('approved', "Approved"),
    ('shipped', "Shipped"),
    ('received', "Received"),
    ('done', "Done"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]


def _now():
    return dt.datetime.now()


def _user():
    return Transaction().user


def pick_lots(location, product, quantity, lot=None):
    """[(lot, quantity)] of the product to take from the location, in its
    default unit: the given lot, or the available lots expired first out
    (stock without lot last); what is not available is refused"""
    pool = Pool()
    Product = pool.get('product.product')
    Lot = pool.get('stock.lot')
    Date = pool.get('ir.date')
    unit = product.default_uom
    with Transaction().set_context(
            stock_date_end=Date.today(), stock_assign=True, forecast=False):
        quantities = Product.products_by_location(
            [location.id], grouping=('product', 'lot'),
            grouping_filter=([product.id],))
    available = {k[2]: q for k, q in quantities.items() if q > 0}
    if lot:
        if available.get(lot.id, 0) < quantity:
            raise TransferError(gettext(
                    'distributor_stock.msg_transfer_short',
                    product=product.rec_name, lot=lot.rec_name,
                    quantity=quantity, available=available.get(lot.id, 0),
                    location=location.rec_name))
        return [(lot, quantity)]
    far = dt.date.max

    def expiry(lot):
        dates = [d for d in [lot.expiration_date,
                lot.shelf_life_expiration_date] if d]
        return (min(dates) if dates else far, lot.id)
    lots = Lot.browse([l for l in available if l])
    order = [(l, available[l.id]) for l in sorted(lots, key=expiry)]
    if None in available:
        order.append((None, available[None]))
    total = sum(q for _, q in order)
    if unit.round(total - quantity) < 0:
        raise TransferError(gettext(
                'distributor_stock.msg_transfer_short',
                product=product.rec_name, lot='',
                quantity=quantity, available=unit.round(total),
                location=location.rec_name))
    result, remaining = [], quantity
    for lot, available_quantity in order:
        if remaining <= 0:
            break
        take = min(available_quantity, remaining)
        result.append((lot, take))
        remaining = unit.round(remaining - take)
    return result


class Transfer(Document, ModelSQL, ModelView):
    """Stock Transfer

    Goods moved from one distributor's stock to another's, or between the
    brand's warehouse and a distributor: requested, approved by a channel
    manager (and by the giving distributor), shipped through the channel
    transit location and confirmed on receipt."""
    __name__ = 'distributor.stock.transfer'
    _rec_name = 'number'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'rejected', 'cancelled'}
    _dms_free_fields = {'note'}
    _dms_workflow_fields = {
        'number', 'from_location', 'to_location', 'requested_by',
        'requested_at', 'manager_approved_by', 'manager_approved_at',
        'giver_approved_by', 'giver_approved_at', 'shipped_at',
        'received_by', 'received_at', 'reason', 'state_logs'}
    _dms_log_model = 'distributor.stock.transfer.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    from_party = fields.Many2One(
        'party.party', "From Distributor", ondelete='RESTRICT',
        domain=[('is_distributor', '=', True),
            ('id', '!=', Eval('to_party', -1))],
        context={'company': Eval('company', -1)}, depends={'company'},
        states=_draft,
        help="Empty when the brand's warehouse gives the goods.")
    to_party = fields.Many2One(
        'party.party', "To Distributor", ondelete='RESTRICT',
        domain=[('is_distributor', '=', True),
            ('id', '!=', Eval('from_party', -1))],
        context={'company': Eval('company', -1)}, depends={'company'},
        states=_draft,
        help="Empty when the goods go back to the brand's warehouse.")
    from_location = fields.Many2One(
        'stock.location', "From Location", readonly=True)
    to_location = fields.Many2One(
        'stock.location', "To Location", readonly=True)
    date = fields.Date("Date", required=True, states=_draft)
    lines = fields.One2Many(
        'distributor.stock.transfer.line', 'transfer', "Lines",
        states=_draft)
    note = fields.Text("Note")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested by", readonly=True)
    requested_at = fields.DateTime("Requested at", readonly=True)
    manager_approved_by = fields.Many2One(
        'res.user', "Approved by (Brand)", readonly=True)
    manager_approved_at = fields.DateTime(
        "Approved at (Brand)", readonly=True)
    giver_approved_by = fields.Many2One(
        'res.user', "Approved by (Giver)", readonly=True)
    giver_approved_at = fields.DateTime(
        "Approved at (Giver)", readonly=True)
    shipped_at = fields.DateTime("Shipped at", readonly=True)
    received_by = fields.Many2One('res.user', "Received by", readonly=True)
    received_at = fields.DateTime("Received at", readonly=True)
    reason = fields.Text(
        "Reason", readonly=True,
        states={'invisible': ~Eval('reason')},
        help="Why the transfer was rejected or cancelled.")
    moves = fields.Function(
        fields.Many2Many('stock.move', None, None, "Moves"),
        'get_moves')
    open_discrepancies = fields.Function(
        fields.Integer("Open Discrepancies"), 'get_open_discrepancies')
    state_logs = fields.One2Many(
        'distributor.stock.transfer.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.from_party, Index.Range())),
                Index(t, (t.to_party, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'requested'),
            ('requested', 'approved'),
            ('requested', 'rejected'),
            ('approved', 'shipped'),
            ('shipped', 'received'),
            ('shipped', 'done'),
            ('received', 'done'),
            ('draft', 'cancelled'),
            ('requested', 'cancelled'),
            ('approved', 'cancelled'),
            ('rejected', 'draft'),
            }
        cls._buttons.update({
                'request': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': ((Eval('state') != 'requested')
                        | Bool(Eval('manager_approved_at'))),
                    'depends': ['state', 'manager_approved_at'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'ship': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                'receive': {
                    'invisible': Eval('state') != 'shipped',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ((Eval('state') != 'received')
                        | ~Eval('open_discrepancies', 0)),
                    'depends': ['state', 'open_discrepancies'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'requested', 'approved']),
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_create_transfer': RPC(readonly=False),
                'giver_approve': RPC(readonly=False),
                'receive_transfers': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_moves(self, name):
        return [m.id for l in self.lines for m in l.moves]

    @property
    def dms_label(self):
        "The name of the transfer, saved or not yet"
        if self.id is not None and self.id >= 0:
            return self.rec_name
        number = getattr(self, 'number', None)
        if number:
            return number
        brand = gettext('distributor_stock.msg_transfer_brand')
        return '%s → %s' % (
            self.from_party.rec_name if self.from_party else brand,
            self.to_party.rec_name if self.to_party else brand)

    def get_open_discrepancies(self, name):
        return sum(1 for l in self.lines if l.discrepancy_state == 'open')

    # Locations -------------------------------------------------------

    def _side_location(self, party):
        Location = Pool().get('stock.location')
        if party is None:
            return Location.brand_storage()
        if not party.distributor_storage:
            raise TransferError(gettext(
                    'distributor_stock.msg_transfer_no_warehouse',
                    distributor=party.rec_name))
        return party.distributor_storage

    # Workflow --------------------------------------------------------

    @classmethod
    def check_requestable(cls, transfers):
        "The rules of a transfer, checked on request and on approval"
        pool = Pool()
        Party = pool.get('party.party')
        for transfer in transfers:
            if not transfer.from_party and not transfer.to_party:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_no_distributor',
                        transfer=transfer.dms_label))
            if transfer.from_party == transfer.to_party:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_same_party',
                        transfer=transfer.dms_label))
            for party in [transfer.from_party, transfer.to_party]:
                refusal = party.trade_refusal() if party else None
                if refusal:
                    raise TransferError(gettext(
                            'distributor_stock.msg_transfer_party_frozen',
                            transfer=transfer.dms_label, reason=refusal))
            if not transfer.lines:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_no_lines',
                        transfer=transfer.dms_label))
            if len(transfer.lines) > validation.limits().max_lines:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_too_many_lines',
                        transfer=transfer.dms_label,
                        maximum=validation.limits().max_lines))
            receiver = transfer.to_party
            allowed = None
            if receiver:
                allowed = Party.dms_authorized_products(
                    [receiver], [l.product for l in transfer.lines])[
                    receiver.id]
            for line in transfer.lines:
                line.check_values()
                if allowed is not None and line.product.id not in allowed:
                    raise TransferError(gettext(
                            'distributor_stock.msg_transfer_unauthorized',
                            transfer=transfer.dms_label,
                            product=line.product.rec_name,
                            distributor=receiver.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('requested')
    def request(cls, transfers):
        Configuration = Pool().get('distributor.configuration')
        cls.check_requestable(transfers)
        sequence = Configuration(1).transfer_sequence
        for transfer in transfers:
            if not transfer.number:
                transfer.number = sequence.get()
            transfer.from_location = transfer._side_location(
                transfer.from_party)
            transfer.to_location = transfer._side_location(
                transfer.to_party)
            transfer.requested_by = _user()
            transfer.requested_at = _now()
            transfer.manager_approved_by = None
            transfer.manager_approved_at = None
            transfer.giver_approved_by = None
            transfer.giver_approved_at = None
            transfer.reason = None
        cls.save(transfers)

    @classmethod
    @ModelView.button
    def approve(cls, transfers):
        "The channel manager's approval"
        cls.dms_serialize(transfers)
        transfers = cls.browse(list(map(int, transfers)))
        cls.dms_check_state(transfers, {'requested'})
        for transfer in transfers:
            if transfer.manager_approved_at:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_already_approved',
                        transfer=transfer.rec_name))
        cls.check_requestable(transfers)
        cls.write(list(transfers), {
                'manager_approved_by': _user(),
                'manager_approved_at': _now(),
                })
        cls._approve_if_complete(transfers)

    @classmethod
    @entry_point(records={'transfers': None},
        parties={'party': ['distributor']})
    def giver_approve(cls, transfers, party):
        """The giving distributor's approval, given by a user acting for
        party (the portal) or by staff for it"""
        cls.dms_serialize(transfers)
        transfers = cls.browse(list(map(int, transfers)))
        for transfer in transfers:
            if transfer.from_party != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=transfer.id))
        cls.dms_check_state(transfers, {'requested'})
        for transfer in transfers:
            if transfer.giver_approved_at:
                raise TransferError(gettext(
                        'distributor_stock.msg_transfer_already_approved',
                        transfer=transfer.rec_name))
        with trusted():
            cls.write(transfers, {
                    'giver_approved_by': _user(),
                    'giver_approved_at': _now(),
                    })
            cls._approve_if_complete(transfers)

    @classmethod
    def _approve_if_complete(cls, transfers):
        transfers = cls.browse(list(map(int, transfers)))
        complete = [t for t in transfers if t.manager_approved_at
            and (not t.from_party or t.giver_approved_at)]
        if complete:
            cls._approved(complete)
            cls._notify(complete, 'msg_message_transfer_approved')

    @classmethod
    @Workflow.transition('approved')
    def _approved(cls, transfers):
        pass

    @classmethod
    @ModelView.button_action('distributor_stock.wizard_transfer_reject')
    def reject(cls, transfers):
        pass

    @classmethod
    def reject_transfers(cls, transfers, reason):
        "Reject requested transfers (their wizard)"
        reason = cls.dms_check_reason(reason)
        cls.dms_check_state(transfers, {'requested'})
        cls.write(list(transfers), {'reason': reason})
        cls._rejected(transfers)
        cls._notify(transfers, 'msg_message_transfer_rejected')

    @classmethod
    @Workflow.transition('rejected')
    def _rejected(cls, transfers):
        pass

    @classmethod
    @ModelView.button_action('distributor_stock.wizard_transfer_cancel')
    def cancel(cls, transfers):
        pass

    @classmethod
    def cancel_transfers(cls, transfers, reason):
        "Cancel transfers not shipped yet (their wizard)"
        reason = cls.dms_check_reason(reason)
        cls.dms_check_state(transfers, {'draft', 'requested', 'approved'})
        cls.write(list(transfers), {'reason': reason})
        cls._cancelled(transfers)

    @classmethod
    @Workflow.transition('cancelled')
    def _cancelled(cls, transfers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, transfers):
        pass

    @classmethod
    @ModelView.button
    def ship(cls, transfers):
        """Ship approved transfers: only stock actually available at the
        giver leaves, lots picked first expired first out when the line
        names none"""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        cls.dms_serialize(transfers)
        transfers = cls.browse(list(map(int, transfers)))
        cls.dms_check_state(transfers, {'approved'})
        transit = Location.channel_transit()
        moves = []
        for transfer in transfers:
            for line in transfer.lines:
                for lot, quantity in line.pick_lots():
                    moves.append(Move(
                            from_location=transfer.from_location,
                            to_location=transit,
                            product=line.product,
                            lot=lot,
                            quantity=quantity,
                            unit=line.product.default_uom,
                            company=transfer.company,
                            effective_date=pool.get('ir.date').today(),
                            origin=line))
        Move.save(moves)
        if not Move.assign_try(moves, with_childs=False):
            Move.delete([m for m in moves if m.state == 'draft'])
            raise TransferError(gettext(
                    'distributor_stock.msg_transfer_not_available',
                    transfer=', '.join(t.rec_name for t in transfers)))
        Move.do(moves)
        cls.write(transfers, {'shipped_at': _now()})
        cls._shipped(transfers)
        cls._notify(transfers, 'msg_message_transfer_shipped')

    @classmethod
    @Workflow.transition('shipped')
    def _shipped(cls, transfers):
        pass

    @classmethod
    @ModelView.button_action('distributor_stock.wizard_transfer_receive')
    def receive(cls, transfers):
        pass

    @classmethod
    @entry_point(records={'transfers': None},
        parties={'party': ['distributor']})
    def receive_transfers(cls, transfers, quantities=None, note=None,
            scans=None, party=None):
        """Confirm the receipt of shipped transfers.

        quantities maps line ids to the received quantity (lines not given
        are received as shipped); scans (see product.product
        dms_resolve_scans) give the received quantities instead.  A
        shortfall opens a discrepancy on the line.  party: the receiving
        distributor the caller acts for."""
        pool = Pool()
        Move = pool.get('stock.move')
        Line = pool.get('distributor.stock.transfer.line')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        Alert = pool.get('distributor.stock.alert')
        Date = pool.get('ir.date')
        quantities = validation.id_mapping(quantities, gettext(
                'distributor_stock.msg_field_quantities'))
        note = validation.text(note, gettext(
                'distributor_stock.msg_field_note'))
        if not transfers:
            return
        cls.dms_serialize(transfers)
        transfers = cls.browse(list(map(int, transfers)))
        if party is not None:
            for transfer in transfers:
                if transfer.to_party != party:
                    raise RecordNotFound(gettext(
                            'distributor.msg_record_not_found',
                            model=cls.__names__()['model'], id=transfer.id))
        cls.dms_check_state(transfers, {'shipped'})
        lines = {l.id: l for t in transfers for l in t.lines}
        if scans is not None:
            quantities = Product.dms_scan_quantities(
                Product.dms_resolve_scans(scans),
                {i: (l.product, l.lot) for i, l in lines.items()})
        unknown = set(quantities) - set(lines)
        if unknown:
            raise TransferError(gettext(
                    'distributor_stock.msg_transfer_unknown_line',
                    line=sorted(unknown)[0]))
        transit = Location.channel_transit()
        today = Date.today()
        moves, to_write, gaps = [], [], set()
        for line_id, line in lines.items():
            shipped = line.shipped_quantity
            received = quantities.get(line_id, shipped)
            received = line.check_received(received, shipped)
            to_write.extend([[line], {
                        'received_quantity': received,
                        'discrepancy_state': (
                            'open' if received < shipped else None),
                        }])
            if received < shipped:
                gaps.add(line.transfer.id)
            for lot, quantity in line.shipped_lots(received):
                moves.append(Move(
                        from_location=transit,
                        to_location=line.transfer.to_location,
                        product=line.product, lot=lot, quantity=quantity,
                        unit=line.product.default_uom,
                        company=line.transfer.company,
                        effective_date=today, origin=line))
        with trusted():
            Line.write(*to_write)
            Move.save(moves)
            Move.do(moves)
            cls.write(transfers, {
                    'received_by': _user(),
                    'received_at': _now(),
                    'note': note if note else None,
                    })
            complete = [t for t in transfers if t.id not in gaps]
            partial = [t for t in transfers if t.id in gaps]
            if complete:
                cls._done(complete)
            if partial:
                cls._received(partial)
            parties = {t.to_party for t in transfers if t.to_party} | {
                t.from_party for t in transfers if t.from_party}
            Alert.refresh(list(parties))

    @classmethod
    @Workflow.transition('received')
    def _received(cls, transfers):
        pass

    @classmethod
    @Workflow.transition('done')
    def _done(cls, transfers):
        pass

    @classmethod
    @ModelView.button_action('distributor_stock.wizard_transfer_resolve')
    def resolve(cls, transfers):
        pass

    @classmethod
    def _notify(cls, transfers, msg_id):
        Message = Pool().get('distributor.message')
        items = []
        for transfer in transfers:
            for party in [transfer.from_party, transfer.to_party]:
                if party:
                    items.append((party, 'distributor_stock.' + msg_id,
                            transfer, {'transfer': transfer.rec_name},
                            transfer.reason))
        Message.post(items)

    # API -------------------------------------------------------------

    @classmethod
    @entry_point(parties={
            'from_party': ['distributor'], 'to_party': ['distributor']},
        optional={'from_party', 'to_party'})
    def dms_create_transfer(cls, from_party, to_party, lines, note=None,
            request=True):
        """Create (and request) a transfer; a party of None is the brand.
        lines are dicts with product (id or code), quantity and optionally
        lot (id or number).  Returns the transfer id."""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('distributor.stock.transfer.line')
        field = gettext('distributor_stock.msg_field_lines')
        lines = validation.lines(lines, field)
        for values in lines:
            validation.keys(values, field, {'product', 'lot', 'quantity'})
        note = validation.text(note, gettext(
                'distributor_stock.msg_field_note'))
        request = validation.flag(request, 'request')
        transfer = cls(from_party=from_party, to_party=to_party, note=note)
        resolved = Product.dms_resolve_products_lots(
            [(v.get('product'), v.get('lot')) for v in lines])
        transfer.lines = [Line(product=product, lot=lot,
                quantity=validation.quantity(values.get('quantity'),
                    product.rec_name, unit=product.default_uom))
            for values, (product, lot) in zip(lines, resolved)]
        # the rules are checked before anything is written
        if request:
            cls.check_requestable([transfer])
        transfer.save()
        if request:
            cls.request([transfer])
        return transfer.id


class TransferLine(DocumentLine, ModelSQL, ModelView):
    "Stock Transfer Line"
    __name__ = 'distributor.stock.transfer.line'
    _dms_document = 'transfer'
    _dms_workflow_fields = {
        'received_quantity', 'discrepancy_state', 'resolution',
        'resolution_note'}

    transfer = fields.Many2One(
        'distributor.stock.transfer', "Transfer", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'goods')])
    lot = fields.Many2One(
        'stock.lot', "Lot", ondelete='RESTRICT',
        domain=[('product', '=', Eval('product', -1))],
        help="Leave empty to ship the lots expiring first.")
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    quantity = fields.Float(
        "Quantity", digits='unit', required=True,
        domain=[('quantity', '>', 0)])
    shipped_quantity = fields.Function(
        fields.Float("Shipped", digits='unit'), 'get_shipped_quantity')
    received_quantity = fields.Float(
        "Received", digits='unit', readonly=True)
    missing_quantity = fields.Function(
        fields.Float("Missing", digits='unit'), 'get_missing_quantity')
    discrepancy_state = fields.Selection([
            (None, ""),
            ('open', "Open"),
            ('resolved', "Resolved"),
            ], "Discrepancy", readonly=True)
    resolution = fields.Selection([
            (None, ""),
            ('return', "Returned to the Giver"),
            ('write_off', "Written Off"),
            ], "Resolution", readonly=True)
    resolution_note = fields.Text("Resolution Note", readonly=True)
    moves = fields.One2Many('stock.move', 'origin', "Moves", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.transfer, Index.Range())))

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    def get_rec_name(self, name):
        return f'{self.transfer.rec_name} - {self.product.rec_name}'

    def get_shipped_quantity(self, name):
        transit = Pool().get('stock.location').channel_transit()
        return sum(m.internal_quantity for m in self.moves
            if m.state == 'done' and m.to_location == transit
            and m.from_location == self.transfer.from_location)

    def get_missing_quantity(self, name):
        if self.received_quantity is None:
            return None
        return self.unit.round(
            self.shipped_quantity - self.received_quantity)

    def check_values(self):
        if self.quantity is None or not self.quantity > 0:
            raise TransferError(gettext(
                    'distributor_stock.msg_quantity_invalid',
                    product=self.product.rec_name, quantity=self.quantity))
        if self.lot and self.lot.product != self.product:
            raise TransferError(gettext(
                    'distributor_stock.msg_lot_other_product',
                    lot=self.lot.rec_name, product=self.product.rec_name))

    def check_received(self, received, shipped):
        value = validation.quantity(received, self.product.rec_name,
            unit=self.unit, allow_zero=True)
        if value > shipped:
            raise TransferError(gettext(
                    'distributor_stock.msg_received_above_shipped',
                    product=self.product.rec_name, received=value,
                    shipped=shipped))
        return value

    def pick_lots(self):
        """[(lot, quantity)] to ship from the giver (see pick_lots)"""
        return pick_lots(self.transfer.from_location, self.product,
            self.quantity, self.lot)

    def shipped_lots(self, quantity):
        """[(lot, quantity)] of the shipped moves covering quantity, in
        the order they were shipped"""
        transit = Pool().get('stock.location').channel_transit()
        by_lot = defaultdict(float)
        for move in sorted(self.moves, key=lambda m: m.id):
            if (move.state == 'done' and move.to_location == transit
                    and move.from_location == self.transfer.from_location):
                by_lot[move.lot] += move.internal_quantity
        result, remaining = [], quantity
        for lot, shipped in by_lot.items():
            if remaining <= 0:
                break
            take = min(shipped, remaining)
            result.append((lot, take))
            remaining = self.unit.round(remaining - take)
        return result

    @classmethod
    def resolve_discrepancies(cls, lines, resolution, note=None):
        """Resolve open shortfalls: the missing goods go back to the giver
        (found in transit) or are written off to lost and found"""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Transfer = pool.get('distributor.stock.transfer')
        Date = pool.get('ir.date')
        if resolution not in {'return', 'write_off'}:
            raise TransferError(gettext(
                    'distributor_stock.msg_unknown_resolution',
                    resolution=resolution))
        lines = cls.browse(list(map(int, lines)))
        for line in lines:
            if line.discrepancy_state != 'open':
                raise TransferError(gettext(
                        'distributor_stock.msg_discrepancy_not_open',
                        line=line.rec_name))
        transit = Location.channel_transit()
        moves = []
        for line in lines:
            missing = line.missing_quantity
            received = line.received_quantity
            if resolution == 'return':
                to_location = line.transfer.from_location
            else:
                to_location = (line.transfer.to_location.lost_found_used
                    or line.transfer.from_location.lost_found_used)
            # the missing goods are those after the received ones
            for lot, quantity in line.shipped_lots(received + missing):
                skip = min(quantity, received)
                received -= skip
                if quantity - skip > 0:
                    moves.append(Move(
                            from_location=transit, to_location=to_location,
                            product=line.product, lot=lot,
                            quantity=quantity - skip,
                            unit=line.product.default_uom,
                            company=line.transfer.company,
                            effective_date=Date.today(), origin=line))
        with trusted():
            Move.save(moves)
            Move.do(moves)
            cls.write(lines, {
                    'discrepancy_state': 'resolved',
                    'resolution': resolution,
                    'resolution_note': note,
                    })
            transfers = Transfer.browse(list({l.transfer.id for l in lines}))
            done = [t for t in transfers if t.state == 'received'
                and not t.open_discrepancies]
            if done:
                Transfer._done(done)


class TransferLog(DocumentLog, ModelSQL, ModelView):
    "State history of a stock transfer"
    __name__ = 'distributor.stock.transfer.log'

    document = fields.Many2One(
        'distributor.stock.transfer', "Transfer", required=True,
        ondelete='CASCADE', readonly=True)


class TransferReject(ReasonWizard):
    "Reject Transfers"
    __name__ = 'distributor.stock.transfer.reject'
    _method = 'reject_transfers'


class TransferCancel(ReasonWizard):
    "Cancel Transfers"
    __name__ = 'distributor.stock.transfer.cancel'
    _method = 'cancel_transfers'


class TransferReceiveStart(ModelView):
    "Confirm the receipt of a transfer"
    __name__ = 'distributor.stock.transfer.receive.start'
    lines = fields.One2Many(
        'distributor.stock.transfer.receive.line', None, "Lines")
    note = fields.Text("Note")


class TransferReceiveLine(ModelView):
    "Received quantity of a transfer line"
    __name__ = 'distributor.stock.transfer.receive.line'
    line = fields.Many2One(
        'distributor.stock.transfer.line', "Line", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    shipped_quantity = fields.Float(
        "Shipped", digits='unit', readonly=True)
    received_quantity = fields.Float(
        "Received", digits='unit', required=True,
        domain=[('received_quantity', '>=', 0),
            If(Eval('shipped_quantity', None) != None,  # noqa: E711
                ('received_quantity', '<=', Eval('shipped_quantity', 0)),
                ())])


class TransferReceive(Wizard):
    "Receive Transfer"
    __name__ = 'distributor.stock.transfer.receive'
    start = StateView('distributor.stock.transfer.receive.start',
        'distributor_stock.transfer_receive_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()

    def default_start(self, fields):
        return {
            'lines': [{
                    'line': l.id,
                    'product': l.product.id,
                    'lot': l.lot.id if l.lot else None,
                    'unit': l.unit.id,
                    'shipped_quantity': l.shipped_quantity,
                    'received_quantity': l.shipped_quantity,
                    } for l in self.record.lines],
            }

    def transition_confirm(self):
        self.model.receive_transfers([self.record], {
                l.line.id: l.received_quantity for l in self.start.lines},
            note=self.start.note)
        return 'end'

    def end(self):
        return 'reload'


class TransferResolveStart(ModelView):
    "Resolve the discrepancies of a transfer"
    __name__ = 'distributor.stock.transfer.resolve.start'
    resolution = fields.Selection([
            ('return', "Return the Missing Goods to the Giver"),
            ('write_off', "Write Off"),
            ], "Resolution", required=True)
    note = fields.Text("Note")


class TransferResolve(Wizard):
    "Resolve Transfer Discrepancies"
    __name__ = 'distributor.stock.transfer.resolve'
    start = StateView('distributor.stock.transfer.resolve.start',
        'distributor_stock.transfer_resolve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Resolve", 'resolve', 'tryton-ok', default=True),
            ])
    resolve = StateTransition()

    def transition_resolve(self):
        Line = Pool().get('distributor.stock.transfer.line')
        Line.resolve_discrepancies(
            [l for l in self.record.lines if l.discrepancy_state == 'open'],
            self.start.resolution, self.start.note)
        return 'end'

    def end(self):
        return 'reload'
