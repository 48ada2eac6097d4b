# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary: who may call an entry point, and for which party.

Every way into the project's models is an entry point that states who may
call it and for which party, checked before anything runs:

- **buttons**: ``ModelView.button``; who: the groups of their
  ``ir.model.button`` (data); for which party: the record rules on the
  records clicked (Tryton checks both);
- **wizards**: who: the groups of their ``ir.action.wizard`` (data); for
  which party: the record rules on the active records (Tryton checks both);
- **RPC methods** (and the portal's routes, which call them): the
  ``entry_point`` decorator below; who: the groups of the
  ``ir.model.button`` named like the method (data; without groups nobody but
  the system may call it); for which party: every party id and record
  argument is resolved through ``resolve`` under the caller's record
  rules.

Staff reach the parties their record rules let them read (a sales rep: its
territories); a portal user (``distributor_portal``) its own party, its
downstream distributors and its stores, through the same rules.  An id the
caller may not reach is refused exactly like an id that does not exist.

Only after these checks does code run without access checks, through
``trusted()``; an entry point called from trusted code does not check
again (the outer call decided)."""
import functools
import inspect
import weakref
from contextlib import contextmanager

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from .exceptions import EntryPointRefused, InputError, RecordNotFound

_TRUSTED = weakref.WeakKeyDictionary()
# the transactions running the body of an entry point a client called
_CHECKED = weakref.WeakKeyDictionary()


@contextmanager
def trusted():
    """Run the block without access checks, once the caller's right and
    reach are checked: the one way the project leaves Tryton's checks"""
    transaction = Transaction()
    _TRUSTED[transaction] = _TRUSTED.get(transaction, 0) + 1
    try:
        with without_check_access():
            yield
    finally:
        _TRUSTED[transaction] -= 1


def is_trusted():
    "Whether the caller's rights need no check (system, or checked above)"
    transaction = Transaction()
    return (not transaction.user
        or not transaction.check_access
        or _TRUSTED.get(transaction, 0) > 0)


def check_rights(Model_, name):
    """Refuse the caller unless it belongs to a group of the
    ir.model.button name of the model"""
    pool = Pool()
    Button = pool.get('ir.model.button')
    User = pool.get('res.user')
    if not Transaction().user:
        return
    groups = Button.get_groups(Model_.__name__, name)
    if not groups or not (groups & set(User.get_groups())):
        with trusted():
            buttons = Button.search([
                    ('model', '=', Model_.__name__), ('name', '=', name)],
                limit=1)
        raise EntryPointRefused(gettext('distributor.msg_entry_point_denied',
                action=buttons[0].string if buttons else name,
                **Model_.__names__()))


def check_rules(Model_, records, mode):
    """Refuse records the caller's record rules keep from it, before a
    check of the records' own state could name them (check_modification
    runs before Tryton's rule check on write and delete)"""
    Rule = Pool().get('ir.rule')
    ids = [r.id for r in records if r.id is not None and r.id >= 0]
    if ids and Transaction().user:
        with check_access():
            Rule.check(Model_.__name__, ids, mode)


def check_caller(Model_, name):
    """Within an entry point a client called, check that the caller may
    also use the entry point name (an option that does more, like submit
    on creation); from code, nothing to check"""
    transaction = Transaction()
    if _CHECKED.get(transaction, 0) > 0:
        check_rights(Model_, name)


def has_rights(Model_, name):
    "Whether the caller may use the entry point (see check_rights)"
    try:
        check_rights(Model_, name)
    except EntryPointRefused:
        return False
    return True


# ids are 32-bit on PostgreSQL: a larger one names no record
MAX_ID = 2 ** 31 - 1


def _id(value, field):
    "An integer id (or a record's id); anything else names the field"
    if isinstance(value, Model):
        value = value.id
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(gettext('distributor.msg_input_id',
                field=field, value=str(value)[:40]))
    return value


def resolve(Model_, values, field, domain=None, many=True):
    """The records of Model_ with the given ids that the caller reaches
    (its record rules, when access is checked) and that match domain.

    A missing id and an id out of reach get the same RecordNotFound, so
    that nothing tells one from the other."""
    if values is None:
        return [] if many else None
    if many:
        if isinstance(values, (int, Model)) or not isinstance(
                values, (list, tuple)):
            raise InputError(gettext('distributor.msg_input_ids',
                    field=field))
        ids = [_id(v, field) for v in values]
    else:
        ids = [_id(values, field)]
    unique = list(dict.fromkeys(ids))
    found = {r.id: r for r in Model_.search(
            [('id', 'in', [i for i in unique if 0 < i <= MAX_ID])]
            + (domain or []), order=[])}
    for id_ in unique:
        if id_ not in found:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=Model_.__names__()['model'], id=id_))
    records = [found[i] for i in ids]
    return records if many else records[0]


class EntryPoint:
    "The declaration of an RPC method: its party and record arguments"
    __slots__ = ('parties', 'records', 'record', 'optional')

    def __init__(self, parties=None, records=None, record=None,
            optional=()):
        self.parties = dict(parties or {})
        self.records = dict(records or {})
        self.record = dict(record or {})
        self.optional = set(optional)


def entry_point(parties=None, records=None, record=None, optional=()):
    """Declare a classmethod that clients call as an entry point.

    parties maps argument names to the kinds of party they hold
    ('distributor', 'store', ...: see party.party dms_kind_domain), as an
    id, a record or None; records maps argument names to the model name of
    the records (ids or instances) they hold, None for the method's own
    model; record likewise for a single record.  Each is replaced by the
    records it resolves to (see resolve).  An argument may be None when
    its parameter defaults to None or is named in optional.

    Called with access checked (RPC, the portal), the caller must belong to
    a group of the ir.model.button named after the method, and the records
    are resolved under its record rules; the body then runs trusted.
    Called from code, the ids are resolved without rules."""
    declaration = EntryPoint(parties, records, record, optional)

    def decorator(func):
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(cls, *args, **kwargs):
            pool = Pool()
            Party = pool.get('party.party')
            try:
                bound = signature.bind(cls, *args, **kwargs)
            except TypeError:
                raise InputError(gettext(
                        'distributor.msg_input_arguments',
                        method=func.__name__))
            checked = not is_trusted()
            if checked:
                check_rights(cls, func.__name__)
            arguments = bound.arguments

            def given(name):
                "Whether the argument is there (None only if optional)"
                if arguments.get(name) is not None:
                    return True
                if name not in declaration.optional and (
                        signature.parameters[name].default
                        is inspect.Parameter.empty):
                    raise InputError(gettext('distributor.msg_input_required',
                            field=name))
                return False
            for name, kinds in declaration.parties.items():
                if given(name):
                    arguments[name] = resolve(Party, arguments[name], name,
                        domain=Party.dms_kind_domain(kinds), many=False)
            for name, model in declaration.records.items():
                if given(name):
                    Target = pool.get(model) if model else cls
                    arguments[name] = resolve(
                        Target, arguments[name], name)
            for name, model in declaration.record.items():
                if given(name):
                    Target = pool.get(model) if model else cls
                    arguments[name] = resolve(
                        Target, arguments[name], name, many=False)
            if checked:
                transaction = Transaction()
                _CHECKED[transaction] = _CHECKED.get(transaction, 0) + 1
                try:
                    with trusted():
                        return func(*bound.args, **bound.kwargs)
                finally:
                    _CHECKED[transaction] -= 1
            return func(*bound.args, **bound.kwargs)
        wrapper.entry_point = declaration
        return wrapper
    return decorator


def entry_points(Model_):
    "{name: EntryPoint} of the RPC methods the model declares"
    result = {}
    for name in Model_.__rpc__:
        method = getattr(Model_, name, None)
        declaration = getattr(method, 'entry_point', None)
        if declaration is not None:
            result[name] = declaration
    return result
