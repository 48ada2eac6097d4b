# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Shelf checks at stores and the diversion incidents (窜货) they reveal:
a lot found at a store of another distributor than the ones it was
shipped to"""
import datetime as dt

from sql import Null
from sql.aggregate import Max

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor import validation
from distributor.access import entry_point
from distributor.inbox import notify_staff
from distributor.document import Document, DocumentLine, DocumentLog
from distributor.exceptions import RecordNotFound

from .exceptions import StoreError

INCIDENT_STATES = [
    ('open', "Open"),
    ('confirmed', "Confirmed"),
    ('dismissed', "Dismissed"),
    ]


class ShelfCheck(Document, ModelSQL, ModelView):
    """Shelf Check

    What was found on a store's shelf (products, lots, quantities), by a
    sales rep or the distributor: it confirms coverage, gives the store's
    stock for replenishment, and a lot shipped to another distributor
    raises a diversion incident."""
    __name__ = 'distributor.store.check'
    _dms_editable_states = {'draft'}
    _dms_workflow_fields = {'distributor', 'incidents', 'state_logs'}
    _dms_log_model = 'distributor.store.check.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='RESTRICT',
        domain=[('is_store', '=', True)], states=_draft)
    distributor = fields.Many2One(
        'party.party', "Distributor", readonly=True,
        help="The store's distributor when the check was done.")
    date = fields.Date("Date", required=True, states=_draft)
    lines = fields.One2Many(
        'distributor.store.check.line', 'check', "Lines", states=_draft)
    note = fields.Text("Note", states=_draft)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", readonly=True, required=True, sort=False)
    incidents = fields.One2Many(
        'distributor.diversion.incident', 'check', "Incidents",
        readonly=True)
    state_logs = fields.One2Many(
        'distributor.store.check.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.store, Index.Range()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_shelf_check': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return f'{self.store.rec_name} @ {self.date}'

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def confirm(cls, checks):
        pool = Pool()
        Incident = pool.get('distributor.diversion.incident')
        cls.dms_serialize(checks)
        for check in checks:
            if not check.lines:
                raise StoreError(gettext(
                        'distributor_store.msg_check_no_lines',
                        check=check.rec_name))
            for line in check.lines:
                if line.quantity is None or line.quantity < 0:
                    raise StoreError(gettext(
                            'distributor_store.msg_check_quantity',
                            check=check.rec_name,
                            product=line.product.rec_name))
            check.distributor = check.store.store_distributor
        cls.save(checks)
        Incident.detect(checks)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store'],
            'store': ['store']})
    def dms_shelf_check(cls, party, store, scans, note=None):
        """Record a shelf check of a store from scanned codes (see
        product.product dms_resolve_scans) and confirm it.  party is the
        store's distributor, or the store itself.  Returns the check id
        and the incidents raised."""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('distributor.store.check.line')
        if store != party and store.store_distributor != party:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=store.__names__()['model'], id=store.id))
        note = validation.text(note, gettext(
                'distributor_store.msg_field_note'))
        scanned = Product.dms_resolve_scans(scans)
        totals = {}
        for scan in scanned:
            key = (scan['product'], scan['lot'])
            totals[key] = totals.get(key, 0) + scan['quantity']
        check = cls(store=store, date=cls.default_date(), note=note,
            lines=[Line(product=p, lot=l, quantity=q)
                for (p, l), q in totals.items()])
        check.save()
        cls.confirm([check])
        check = cls(check.id)
        return {
            'check': check.id,
            'incidents': [{
                    'id': i.id,
                    'product': i.product.code,
                    'lot': i.lot.number,
                    'shipped_to': i.shipped_to.rec_name
                    if i.shipped_to else None,
                    } for i in check.incidents],
            }


class ShelfCheckLine(DocumentLine, ModelSQL, ModelView):
    "Shelf Check Line"
    __name__ = 'distributor.store.check.line'
    _dms_document = 'check'

    check = fields.Many2One(
        'distributor.store.check', "Check", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT')
    lot = fields.Many2One(
        'stock.lot', "Lot", ondelete='RESTRICT',
        domain=[('product', '=', Eval('product', -1))])
    quantity = fields.Float(
        "Quantity on Shelf", required=True,
        domain=[('quantity', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.check, Index.Range())),
                Index(t, (t.product, Index.Range())),
                })



class ShelfCheckLog(DocumentLog, ModelSQL, ModelView):
    "State history of a shelf check"
    __name__ = 'distributor.store.check.log'

    document = fields.Many2One(
        'distributor.store.check', "Shelf Check", required=True,
        ondelete='CASCADE', readonly=True)


class DiversionIncident(Document, ModelSQL, ModelView):
    """Diversion Incident (窜货)

    A lot found at a store whose distributor never received it: who it
    was shipped to, where it was found, and the evidence; channel
    managers confirm or dismiss it, and confirmed incidents count against
    the distributor it was shipped to."""
    __name__ = 'distributor.diversion.incident'
    # raised by the shelf checks, decided by the channel managers: only
    # the note is theirs to write
    _dms_editable_states = set()
    _dms_deletable_states = set()
    _dms_free_fields = {'note'}
    _dms_workflow_fields = {
        'date', 'store', 'store_distributor', 'shipped_to', 'product',
        'lot', 'quantity', 'check', 'evidence', 'decided_by', 'state_logs'}
    _dms_log_model = 'distributor.diversion.incident.log'

    date = fields.Date("Date", required=True, readonly=True)
    store = fields.Many2One(
        'party.party', "Found at Store", required=True, readonly=True,
        ondelete='RESTRICT')
    store_distributor = fields.Many2One(
        'party.party', "Store's Distributor", readonly=True,
        ondelete='RESTRICT')
    shipped_to = fields.Many2One(
        'party.party', "Shipped to", readonly=True, ondelete='RESTRICT',
        help="The distributor that received the lot last before it "
        "surfaced at the store.")
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT')
    lot = fields.Many2One(
        'stock.lot', "Lot", required=True, readonly=True,
        ondelete='RESTRICT')
    quantity = fields.Float("Quantity Found", readonly=True)
    check = fields.Many2One(
        'distributor.store.check', "Shelf Check", readonly=True,
        ondelete='RESTRICT')
    evidence = fields.Text("Evidence", readonly=True)
    state = fields.Selection(
        INCIDENT_STATES, "State", readonly=True, required=True, sort=False)
    note = fields.Text("Note")
    decided_by = fields.Many2One('res.user', "Decided by", readonly=True)
    state_logs = fields.One2Many(
        'distributor.diversion.incident.log', 'document', "State History",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.shipped_to, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'confirmed'),
            ('open', 'dismissed'),
            ('confirmed', 'open'),
            ('dismissed', 'open'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'dismiss': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') == 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_rec_name(self, name):
        return f'{self.lot.rec_name} @ {self.store.rec_name}'

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, incidents):
        cls.write(list(incidents), {'decided_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('dismissed')
    def dismiss(cls, incidents):
        cls.write(list(incidents), {'decided_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, incidents):
        cls.write(list(incidents), {'decided_by': None})

    @classmethod
    def receivers(cls, lot_ids):
        """{lot id: [(distributor id, last date)]} of the distributors
        whose stock (storage or incoming transit) received each lot,
        latest first"""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move = Move.__table__()
        location = Location.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        if not lot_ids:
            return result
        cursor.execute(*move.join(location,
                condition=move.to_location == location.id
                ).select(move.lot, location.distributor,
                Max(move.effective_date),
                where=move.lot.in_(list(lot_ids))
                & (move.state == 'done')
                & (location.distributor != Null)
                & location.distributor_role.in_(['storage', 'transit']),
                group_by=[move.lot, location.distributor]))
        for lot, distributor, date in cursor:
            result.setdefault(lot, []).append((distributor, date))
        for lot in result:
            result[lot].sort(key=lambda r: (r[1] or dt.date.min, r[0]),
                reverse=True)
        return result

    @classmethod
    def detect(cls, checks):
        """Raise an incident for each lot found at a store whose
        distributor is not one of those the lot was shipped to"""
        pool = Pool()
        Party = pool.get('party.party')
        lot_ids = {l.lot.id for c in checks for l in c.lines if l.lot}
        receivers = cls.receivers(lot_ids)
        incidents = []
        for check in checks:
            owner = check.store.store_distributor
            # the distributors that supplied the store before a move
            # still had the right to deliver what is on its shelf
            owners = {owner.id} | {m.from_distributor.id
                for m in check.store.store_moves if m.from_distributor}
            for line in check.lines:
                if not line.lot or line.lot.id not in receivers:
                    continue
                got = receivers[line.lot.id]
                if owners & {d for d, _ in got}:
                    continue
                shipped_to = Party(got[0][0])
                evidence = '\n'.join(
                    [gettext('distributor_store.msg_incident_evidence_check',
                            check=check.rec_name,
                            user=check.create_uid.rec_name
                            if check.create_uid else '',
                            quantity=line.quantity)]
                    + [gettext(
                            'distributor_store.msg_incident_evidence_receipt',
                            distributor=Party(d).rec_name, date=date)
                        for d, date in got])
                incidents.append(cls(date=check.date, store=check.store,
                        store_distributor=owner, shipped_to=shipped_to,
                        product=line.product, lot=line.lot,
                        quantity=line.quantity, check=check,
                        evidence=evidence))
        cls.save(incidents)
        if incidents:
            cls._notify(incidents)
        return incidents

    @classmethod
    def _notify(cls, incidents):
        "Tell the channel managers (res.notification)"
        notify_staff([(i, i.shipped_to, 'distributor_store.'
                    'msg_incident_notification', {
                        'lot': i.lot.rec_name,
                        'store': i.store.rec_name,
                        'distributor': i.shipped_to.rec_name,
                        }) for i in incidents],
            'distributor_store.act_incident_form', reps=False)


class DiversionIncidentLog(DocumentLog, ModelSQL, ModelView):
    "State history of a diversion incident"
    __name__ = 'distributor.diversion.incident.log'

    document = fields.Many2One(
        'distributor.diversion.incident', "Incident", required=True,
        ondelete='CASCADE', readonly=True)
