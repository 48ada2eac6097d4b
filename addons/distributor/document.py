# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The document base: what every channel document shares.

A document (channel order, transfer, count, shelf check, store payment,
store promotion, coverage plan, distributor order, and the policies,
claims and statements still to come) is a Tryton workflow whose state
only its transitions change.  The base:

- keeps the workflow fields (the state, who and when, reasons, numbers)
  out of reach of clients: a create from outside may only give them their
  default, a write from outside may not name them;
- locks the document and its lines once it leaves its editable states, on
  every path: write, delete, copy, a line created on it or moved into it
  (only its free fields, a note or a comment, stay open);
- logs each change of state (who, when, from, to, why) in the document's
  log model;
- checks the document's text and number fields with the validation layer;
- gives one wizard to ask for a reason (reject, cancel, ...).

"From outside" is a client call with access checked (RPC, the portal); the
workflow's own writes run trusted (access.trusted) and pass."""
import weakref
from contextlib import contextmanager

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.backend import MAX_QUERY_PARAMS

from . import validation
from .access import check_rules, is_trusted, trusted
from .exceptions import DocumentLockedError, DocumentStateError

_EMPTY = (None, '', False, [], ())
# per transaction: the reason the next state changes are logged with
_REASONS = weakref.WeakKeyDictionary()


def serialize(Model, records):
    """Make concurrent writers of these records take turns.

    On PostgreSQL (repeatable read) the rows are updated in place: a
    transaction that touches them after another one has, or while it has
    not committed yet, waits for it and then fails with a serialization
    error, which trytond's dispatcher retries in a fresh snapshot: the
    second caller then sees what the first did (an order already approved,
    the credit already used) and gets the business answer.  On SQLite the
    write lock taken when a transaction starts (see sqlite.py) already
    serialises writers; the update is harmless.

    Call it first thing, before reading what a limit depends on."""
    ids = sorted({int(r) for r in records if int(r) >= 0})
    if not ids:
        return
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
        cursor.execute(*table.update(
                [table.write_date], [table.write_date],
                where=reduce_ids(table.id, sub_ids)))


def _from_outside():
    transaction = Transaction()
    return bool(transaction.user and transaction.check_access
        and not is_trusted())


def _label(Model, name):
    return Model.fields_get([name])[name]['string']


def _state_label(Model, field, value):
    selection = Model.fields_get([field])[field].get('selection') or []
    return dict(selection).get(value, value or '')


class _Guarded:
    "Workflow fields and locks, shared by documents and their lines"
    __slots__ = ()
    # set by the workflow only
    _dms_workflow_fields = set()
    # open in every state to those who may write the document
    _dms_free_fields = set()

    @classmethod
    def _dms_check_workflow_create(cls, vlist):
        "A client creates with the workflow fields at their default only"
        for values in vlist:
            for name in cls._dms_workflow_fields & set(values):
                value = values[name]
                if value in _EMPTY:
                    continue
                default = getattr(cls, 'default_' + name, None)
                if default is not None and value == default():
                    continue
                raise DocumentLockedError(gettext(
                        'distributor.msg_document_workflow_field',
                        field=_label(cls, name),
                        document=cls.__names__()['model']))

    @classmethod
    def _dms_check_workflow_write(cls, records, values):
        forbidden = sorted(cls._dms_workflow_fields & set(values))
        if forbidden:
            raise DocumentLockedError(gettext(
                    'distributor.msg_document_workflow_field',
                    field=_label(cls, forbidden[0]),
                    document=', '.join(r.rec_name for r in records[:3])))

    @classmethod
    def _dms_locking_values(cls, values):
        "Whether writing values changes what a lock protects"
        return bool(set(values) - cls._dms_free_fields)


class Document(_Guarded, Workflow):
    """The base of the project's documents (a mixin before ModelSQL)

    A document sets _dms_editable_states, _dms_workflow_fields,
    _dms_free_fields and _dms_log_model (its DocumentLog); _dms_state is
    the state it guards and logs, Tryton's workflow field by default."""
    __slots__ = ()
    # where the ordering side may still change the document
    _dms_editable_states = {'draft'}
    # where it may be deleted (by default: where it may be edited)
    _dms_deletable_states = None
    # the states whose log takes the document's reason field
    _dms_reason_states = {'rejected', 'cancelled'}
    _dms_reason_field = 'reason'
    _dms_log_model = None

    # the state the document base guards and logs (by default Tryton's
    # workflow field)
    _dms_state = None

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        if cls._dms_state is None:
            cls._dms_state = cls._transition_state
        cls._dms_workflow_fields = set(cls._dms_workflow_fields) | {
            cls._transition_state, cls._dms_state}

    @classmethod
    def _dms_is_editable(cls, record):
        return getattr(record, cls._dms_state) in cls._dms_editable_states

    @classmethod
    def create(cls, vlist):
        if _from_outside():
            cls._dms_check_workflow_create(vlist)
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if not external:
            return
        if mode in {'write', 'delete'}:
            check_rules(cls, records, mode)
        if mode == 'write':
            cls._dms_check_workflow_write(records, values)
            if cls._dms_locking_values(values):
                cls.dms_check_editable(records)
        elif mode == 'delete':
            deletable = cls._dms_deletable_states
            if deletable is None:
                deletable = cls._dms_editable_states
            cls._dms_refuse_states(records, deletable, DocumentLockedError,
                'distributor.msg_document_delete')

    @classmethod
    def dms_serialize(cls, records):
        "Make concurrent writers of the documents take turns (serialize)"
        serialize(cls, records)

    @classmethod
    def dms_check_editable(cls, records):
        "Refuse the records that left their editable states"
        for record in records:
            if not cls._dms_is_editable(record):
                state = getattr(record, cls._dms_state)
                raise DocumentLockedError(gettext(
                        'distributor.msg_document_locked',
                        document=record.rec_name,
                        state=_state_label(
                            cls, cls._dms_state, state)))

    @classmethod
    def write(cls, *args):
        field = cls._dms_state
        changes = []
        actions = iter(args)
        for records, values in zip(actions, actions):
            if field in values:
                changes.extend((r.id, getattr(r, field), values[field])
                    for r in records if getattr(r, field) != values[field])
        super().write(*args)
        if changes:
            cls._dms_log_changes(changes)

    @classmethod
    @contextmanager
    def dms_reason(cls, reason):
        "Log the state changes made in the block with reason"
        transaction = Transaction()
        previous = _REASONS.get(transaction)
        _REASONS[transaction] = reason
        try:
            yield
        finally:
            _REASONS[transaction] = previous

    @classmethod
    def _dms_log_reason(cls, record, to_state):
        "The reason a change of record to to_state is logged with"
        reason = _REASONS.get(Transaction())
        if reason is None and to_state in cls._dms_reason_states and (
                cls._dms_reason_field in cls._fields):
            reason = getattr(record, cls._dms_reason_field)
        return reason

    @classmethod
    def _dms_log_changes(cls, changes):
        "Record (id, from, to) changes of state in the document's log"
        if not cls._dms_log_model:
            return
        pool = Pool()
        Log = pool.get(cls._dms_log_model)
        user = Transaction().user or None
        records = {r.id: r for r in cls.browse([c[0] for c in changes])}
        vlist = []
        for id_, from_state, to_state in changes:
            reason = cls._dms_log_reason(records[id_], to_state)
            vlist.append({
                    'document': id_,
                    'from_state': from_state,
                    'to_state': to_state,
                    'user': user,
                    'reason': reason,
                    })
        with trusted():
            Log.create(vlist)

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default is not None else {}
        for name in cls._dms_workflow_fields:
            field = cls._fields.get(name)
            if field is None or isinstance(field, fields.Function):
                continue
            if field._type in {'one2many', 'many2many'}:
                default.setdefault(name, None)
            else:
                default_method = getattr(cls, 'default_' + name, None)
                default.setdefault(
                    name, default_method() if default_method else None)
        return super().copy(records, default=default)

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        validation.check_record_fields(records, field_names)

    # Helpers of the workflow methods -----------------------------------

    @classmethod
    def dms_check_state(cls, records, states):
        "Refuse the records that are not in one of states"
        cls._dms_refuse_states(records, states, DocumentStateError,
            'distributor.msg_document_state')

    @classmethod
    def _dms_refuse_states(cls, records, states, exception, message):
        for record in records:
            state = getattr(record, cls._dms_state)
            if state not in states:
                raise exception(gettext(message,
                        document=record.rec_name,
                        state=_state_label(cls, cls._dms_state, state)))

    @staticmethod
    def dms_check_reason(reason):
        "A reason is required: a bounded text without control characters"
        return validation.text(reason, gettext('distributor.msg_reason'),
            required=True)


class DocumentLine(_Guarded):
    """The base of a document's lines (a mixin before ModelSQL): locked
    with their document, moved only between editable documents

    A line sets _dms_document (the Many2One to its document)."""
    __slots__ = ()
    _dms_document = None

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add(cls._dms_document)

    @classmethod
    def _dms_documents(cls, ids):
        field = getattr(cls, cls._dms_document)
        Document_ = Pool().get(field.model_name)
        ids = {i for i in ids if isinstance(i, int) and i >= 0}
        return Document_.browse(list(ids)), Document_

    @classmethod
    def create(cls, vlist):
        if _from_outside():
            cls._dms_check_workflow_create(vlist)
            documents, Document_ = cls._dms_documents(
                v.get(cls._dms_document) for v in vlist)
            Document_.dms_check_editable(documents)
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if not external or mode == 'create':
            return
        if mode == 'write':
            cls._dms_check_workflow_write(lines, values)
            if not cls._dms_locking_values(values):
                return
        documents, Document_ = cls._dms_documents(
            getattr(l, cls._dms_document).id for l in lines)
        Document_.dms_check_editable(documents)
        if mode == 'write' and values.get(cls._dms_document) is not None:
            targets, _ = cls._dms_documents([values[cls._dms_document]])
            Document_.dms_check_editable(targets)

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        for name in cls._dms_workflow_fields:
            field = cls._fields.get(name)
            if field is None or isinstance(field, fields.Function):
                continue
            default.setdefault(name, None)
        return super().copy(lines, default=default)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        validation.check_record_fields(lines, field_names)


class DocumentLog:
    """The state history of a document (a mixin before ModelSQL): who,
    when, from which state to which, why.  Read with the document, written
    by its workflow only.

    A log sets document (a Many2One to its document) and the selection
    of from_state and to_state."""
    __slots__ = ()
    from_state = fields.Selection('get_states', "From", readonly=True)
    to_state = fields.Selection('get_states', "To", readonly=True)
    user = fields.Many2One(
        'res.user', "User", readonly=True, ondelete='RESTRICT')
    reason = fields.Text("Reason", readonly=True)
    date = fields.Function(fields.Date("Date"), 'get_date')
    time = fields.Function(fields.Time("Time"), 'get_date')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('document')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_states(cls):
        Document_ = Pool().get(cls.document.model_name)
        field = Document_._dms_state
        return [(None, '')] + list(
            Document_.fields_get([field])[field]['selection'])

    @classmethod
    def get_date(cls, logs, names):
        result = {n: {} for n in names}
        for log in logs:
            if 'date' in names:
                result['date'][log.id] = log.create_date.date()
            if 'time' in names:
                result['time'][log.id] = log.create_date.time().replace(
                    microsecond=0)
        return result

    @classmethod
    def create(cls, vlist):
        if _from_outside():
            raise DocumentLockedError(gettext(
                    'distributor.msg_document_log_readonly'))
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'} and external:
            raise DocumentLockedError(gettext(
                    'distributor.msg_document_log_readonly'))


class WorkflowRecords:
    """Records the workflow alone creates, changes and deletes (a mixin
    before ModelSQL: accruals, runs, the conversation of a document...):
    a client's create, write or delete is refused with the message
    _dms_readonly_message ('module.msg_id') as a _dms_readonly_error"""
    __slots__ = ()
    _dms_readonly_message = None
    _dms_readonly_error = DocumentLockedError

    @classmethod
    def _dms_refuse_outside(cls):
        raise cls._dms_readonly_error(gettext(cls._dms_readonly_message))

    @classmethod
    def create(cls, vlist):
        if _from_outside():
            cls._dms_refuse_outside()
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'} and external:
            cls._dms_refuse_outside()


class ReasonStart(ModelView):
    "Reason"
    __name__ = 'distributor.reason.start'
    reason = fields.Text("Reason", required=True)


class ReasonWizard(Wizard):
    """Ask for a reason, then call the document's method
    (records, reason); a subclass names the method in _method"""
    start = StateView('distributor.reason.start',
        'distributor.reason_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("OK", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()
    _method = None

    def transition_apply(self):
        getattr(self.model, self._method)(
            list(self.records), self.start.reason)
        return 'end'

    def end(self):
        return 'reload'

