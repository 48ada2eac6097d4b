# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Walk the trust boundary of the activated modules: every way in the
project's code defines (buttons, declared RPC methods, wizards), how each
is declared, and helpers to call them as a role and undo what they did.

The tests of the last module (distributor_store today) call every entry
point as every role with these helpers: a method added later without a
declaration, or a role allowed where the expected table refuses it, fails
them."""
import copy
import inspect
from contextlib import contextmanager

from trytond.pool import Pool
from trytond.transaction import Transaction

from .tools import acting

PROJECT = 'distributor'

# Tryton's own entry points the project overrides: checked by Tryton (its
# button rights, its access rows) before the override adds to them
TRYTON_OVERRIDES = {
    ('sale.sale', 'process'),
    ('sale.sale', 'quote'),
    ('sale.sale', 'confirm'),
    ('sale.sale', 'draft'),
    ('sale.sale', 'cancel'),
    ('stock.inventory', 'confirm'),
    }


def _ours(func):
    func = inspect.unwrap(func)
    module = getattr(func, '__module__', '') or ''
    return module.split('.')[0].startswith(PROJECT)


def _definitions(Model, name):
    "The functions defining name along the class hierarchy"
    for klass in Model.__mro__:
        attribute = klass.__dict__.get(name)
        if attribute is None:
            continue
        yield getattr(attribute, '__func__', attribute)


def _button_wrapper(func):
    "Whether func is the wrapper ModelView.button puts around a method"
    code = getattr(func, '__code__', None)
    return bool(code and code.co_filename.replace('\\', '/').endswith(
            'trytond/model/modelview.py') and hasattr(func, '__wrapped__'))


def entry_points(pool=None):
    """[(model, name, kind)] of the RPC entry points the project defines:
    kind is 'button' (a ModelView.button of the project), 'rpc' (declared
    with access.entry_point), 'tryton' (an override of a Tryton entry
    point, see TRYTON_OVERRIDES) or 'undeclared'"""
    pool = pool or Pool()
    standard = {'read', 'write', 'create', 'delete', 'copy', 'search',
        'search_count', 'search_read', 'fields_get', 'default_get',
        'fields_view_get', 'view_toolbar_get', 'view_get', 'export_data',
        'export_data_domain', 'import_data', 'history_revisions',
        'on_change', 'on_change_with', 'on_change_notify', 'on_scan_code',
        'autocomplete', 'resources', 'pre_validate', 'model_access'}
    result = []
    for name, Model in pool.iterobject():
        # the selections of fields, which clients read (no party, no
        # write)
        selections = {f.selection for f in Model._fields.values()
            if isinstance(getattr(f, 'selection', None), str)}
        for method in sorted(Model.__rpc__):
            if (method in standard or method.startswith('on_change')
                    or method in selections):
                continue
            definitions = list(_definitions(Model, method))
            if not any(_ours(f) for f in definitions):
                continue
            if (name, method) in TRYTON_OVERRIDES:
                kind = 'tryton'
            elif method in Model._buttons and any(
                    _button_wrapper(f) and _ours(f) for f in definitions):
                kind = 'button'
            elif getattr(getattr(Model, method), 'entry_point',
                    None) is not None:
                kind = 'rpc'
            else:
                kind = 'undeclared'
            result.append((name, method, kind))
    return result


def wizards(pool=None):
    "[wizard name] of the wizards the project defines"
    pool = pool or Pool()
    return sorted(name for name, Wizard in pool.iterobject('wizard')
        if any(k.__module__.split('.')[0].startswith(PROJECT)
            for k in Wizard.__mro__))


def button_groups(model, name):
    "The groups of the ir.model.button of the entry point"
    Button = Pool().get('ir.model.button')
    return Button.get_groups(model, name)


def wizard_actions(wiz_name):
    "The ir.action.wizard records of a wizard"
    ActionWizard = Pool().get('ir.action.wizard')
    return ActionWizard.search([('wiz_name', '=', wiz_name)])


# run as user with access checked, as a client call does
as_user = acting


def _copy(value):
    "A copy of the containers of a transaction's bookkeeping"
    if isinstance(value, dict):
        result = copy.copy(value)
        for key, item in value.items():
            if isinstance(item, (list, set, dict)):
                result[key] = copy.copy(item)
        return result
    if isinstance(value, (list, set)):
        return copy.copy(value)
    return value


@contextmanager
def undone():
    """Undo what the block writes (a savepoint), with the transaction's
    caches and queued tasks, so that the next call sees the same world"""
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    cursor.execute('SAVEPOINT dms_trust')
    counter = transaction.counter
    saved = {name: _copy(getattr(transaction, name))
        for name in ['create_records', 'delete_records', 'trigger_records',
            'log_records', 'user_notifications', 'check_warnings',
            'timestamp']}
    try:
        yield counter
    finally:
        cursor.execute('ROLLBACK TO SAVEPOINT dms_trust')
        cursor.execute('RELEASE SAVEPOINT dms_trust')
        transaction.tasks.clear()
        for name, value in saved.items():
            setattr(transaction, name, value)
        for cache in transaction.cache.values():
            cache.clear()
        transaction.counter += 1
