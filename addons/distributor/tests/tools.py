# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Builders shared by the tests of the distributor modules (pool based)"
import datetime as dt
from contextlib import contextmanager
from functools import wraps
from types import SimpleNamespace

from trytond.cache import Cache
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

# the locks the tests of this process turned out to need (see
# with_transaction)
_LOCKS = {'_lock_tables': set(), '_lock_records': {}}


def with_transaction(user=1, context=None):
    """trytond's with_transaction, that starts each test with the locks the
    tests before it needed.

    Code that locks a table or rows it did not create (Tryton's sequences,
    singletons, sales being processed, account periods) raises a
    TransactionError when the transaction did not declare the lock, and
    the test starts over with it declared, as trytond's dispatcher does for
    a request: a test that runs into four locks runs five times, its
    fixture built five times.  Learning the locks once per process keeps
    the behaviour (the locks are taken, on PostgreSQL too) and saves the
    reruns."""
    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            while True:
                extras = {
                    '_lock_tables': sorted(_LOCKS['_lock_tables']),
                    '_lock_records': {t: sorted(ids)
                        for t, ids in _LOCKS['_lock_records'].items()},
                    }
                with Transaction().start(DB_NAME, user, context=context,
                        **extras) as transaction:
                    try:
                        return func(*args, **kwargs)
                    except TransactionError as error:
                        transaction.rollback()
                        transaction.tasks.clear()
                        learned = {}
                        error.fix(learned)
                        _LOCKS['_lock_tables'].update(
                            learned.get('_lock_tables', []))
                        for table, ids in learned.get(
                                '_lock_records', {}).items():
                            _LOCKS['_lock_records'].setdefault(
                                table, set()).update(ids)
                        continue
                    finally:
                        transaction.rollback()
                        transaction.tasks.clear()
                        Cache.drop(DB_NAME)
        return wrapper
    return decorator


@contextmanager
def count_queries():
    """Count the SQL statements the block sends to the database, on
    SQLite (its trace callback) and on PostgreSQL (a cursor class of the
    connection): yields an object whose count and statements grow"""
    from trytond import backend
    counter = SimpleNamespace(count=0, statements=[])

    def seen(statement):
        statement = str(statement)
        if statement.split(None, 1)[0].upper() not in {
                'SAVEPOINT', 'RELEASE'}:
            counter.count += 1
            counter.statements.append(statement)
    connection = Transaction().connection
    if backend.name == 'sqlite':
        connection.set_trace_callback(seen)
        try:
            yield counter
        finally:
            connection.set_trace_callback(None)
    else:
        factory = connection.cursor_factory

        class Counting(factory):
            def execute(self, query, *args, **kwargs):
                seen(query)
                return super().execute(query, *args, **kwargs)
        connection.cursor_factory = Counting
        try:
            yield counter
        finally:
            connection.cursor_factory = factory


@contextmanager
def network():
    "A company with the three tiers and the territory tree, as context"
    company = create_company()
    with set_company(company):
        yield company, create_tiers(), create_territories()


def create_tiers():
    "Three tiers: national agent > regional > county"
    Tier = Pool().get('distributor.tier')
    t1, t2, t3 = Tier.create([
            {'code': 'T1', 'name': "National Agent", 'level': 1},
            {'code': 'T2', 'name': "Regional Distributor", 'level': 2},
            {'code': 'T3', 'name': "County Distributor", 'level': 3},
            ])
    Tier.write([t1], {'downstream_tiers': [('add', [t2.id, t3.id])]},
        [t2], {'downstream_tiers': [('add', [t3.id])]})
    return t1, t2, t3


def create_territories():
    """East region with Jiangsu (Nanjing, Suzhou) and Zhejiang (Hangzhou),
    South region with Guangdong (Guangzhou)"""
    Territory = Pool().get('distributor.territory')
    east, south = Territory.create([
            {'code': 'EC', 'name': "East", 'kind': 'region'},
            {'code': 'SC', 'name': "South", 'kind': 'region'},
            ])
    js, zj, gd = Territory.create([
            {'code': 'EC-JS', 'name': "Jiangsu", 'kind': 'province',
                'parent': east.id},
            {'code': 'EC-ZJ', 'name': "Zhejiang", 'kind': 'province',
                'parent': east.id},
            {'code': 'SC-GD', 'name': "Guangdong", 'kind': 'province',
                'parent': south.id},
            ])
    nj, sz, hz, gz = Territory.create([
            {'code': 'EC-JS-NJ', 'name': "Nanjing", 'kind': 'city',
                'parent': js.id},
            {'code': 'EC-JS-SZ', 'name': "Suzhou", 'kind': 'city',
                'parent': js.id},
            {'code': 'EC-ZJ-HZ', 'name': "Hangzhou", 'kind': 'city',
                'parent': zj.id},
            {'code': 'SC-GD-GZ', 'name': "Guangzhou", 'kind': 'city',
                'parent': gd.id},
            ])
    return SimpleNamespace(east=east, south=south, js=js, zj=zj, gd=gd,
        nj=nj, sz=sz, hz=hz, gz=gz)


def license_values(number, today=None, days=3650, start=-365):
    today = today or Pool().get('ir.date').today()
    return {
        'type': 'business_license',
        'number': number,
        'valid_from': today + dt.timedelta(days=start),
        'valid_to': today + dt.timedelta(days=days) if days else None,
        }


def create_distributor(code, tier, territories, upstream=None,
        activate=True, **values):
    "Create a distributor with a valid business license"
    Party = Pool().get('party.party')
    party, = Party.create([{
                'name': values.pop('name', f"Distributor {code}"),
                'is_distributor': True,
                'distributor_code': code,
                'distributor_tier': tier.id if tier else None,
                'upstream': upstream.id if upstream else None,
                'territories': [('add', [t.id for t in territories])],
                'qualifications': [('create', [license_values(f'BL-{code}')])],
                **values,
                }])
    if activate:
        Party.change_distributor_state([party], 'active')
    return party


# Staff: who calls the entry points ------------------------------------

# the groups of the roles of the README's security model
ROLE_GROUPS = {
    'admin': ['distributor.group_dms_admin'],
    'manager': ['distributor.group_channel_manager'],
    'rep': ['distributor.group_sales_rep'],
    'accountant': ['distributor.group_dms_accountant'],
    'plain': [],
    }


def make_user(login, groups, employee=None):
    """Create a user of the context's company in groups (xml ids
    'module.id'), employee becoming its employee"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    company = Transaction().context.get('company')
    user, = User.create([{
                'login': login,
                'name': login,
                'groups': [('add', [
                            ModelData.get_id(*g.split('.')) for g in groups])],
                'companies': [('add', [company])] if company else [],
                'company': company,
                'employees': [('add', [employee.id])] if employee else [],
                'employee': employee.id if employee else None,
                }])
    return user


def staff_user(role, login=None, employee=None):
    """The user of role (a key of ROLE_GROUPS) named login (the role by
    default), created in the context's company on first use"""
    User = Pool().get('res.user')
    login = login or role
    users = User.search([('login', '=', login)], limit=1)
    if users:
        return users[0]
    return make_user(login, ROLE_GROUPS[role], employee)


def channel_manager(login='manager'):
    "The channel manager: every distributor, store and document"
    return staff_user('manager', login)


def sales_rep(territories=(), employee=None, login='rep'):
    """The sales rep named login, created on first use with employee (a
    new employee by default), made a rep of territories (sub-territories
    included): it reaches their parties and documents only"""
    from trytond.modules.company.tests import create_employee
    pool = Pool()
    User = pool.get('res.user')
    Company = pool.get('company.company')
    Territory = pool.get('distributor.territory')
    users = User.search([('login', '=', login)], limit=1)
    if users:
        user, = users
    else:
        if employee is None:
            employee = create_employee(
                Company(Transaction().context['company']), f"Rep {login}")
        user = make_user(login, ROLE_GROUPS['rep'], employee)
    if territories:
        Territory.write(list(territories), {
                'reps': [('add', [user.employee.id])]})
    return user


@contextmanager
def acting(user, check_access=True, **context):
    """Run the block as user with access checked, as an RPC call does (the
    groups of buttons and entry points, access rows, record rules); user
    None is the root user.  Without check_access, as the states of a
    wizard run once Tryton checked who may run it (Wizard.execute).

    Records instantiated in the block keep reading as user: instantiate
    what the test goes on with outside of it."""
    transaction = Transaction()
    with transaction.set_user(user.id if user else 0), \
            transaction.set_context(_check_access=check_access, **context):
        yield user
