# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal's test harness: a committed world with portal accounts, and
a client that speaks to trytond's WSGI application in the process, with
cookies, as a browser or an API client does.

PortalTestCase builds its own database (dropped before and after), so
that each class passes alone and in any order."""
import copy
import json
import os
import re
import unittest
from types import SimpleNamespace

from werkzeug.test import Client

from trytond import backend
from trytond.cache import Cache
from trytond.config import config
from trytond.pool import Pool
from trytond.tests import test_tryton
from trytond.tests.test_tryton import (
    DB_CACHE, DB_NAME, activate_module, backup_db_cache, db_exist, drop_db,
    restore_db_cache)
from trytond.transaction import Transaction, TransactionError
from trytond.wsgi import app

PASSWORD = 'portal-test-Pa55'
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def portal_account(party, email, role='admin', password=PASSWORD):
    "A portal account of party (as root)"
    WebUser = Pool().get('web.user')
    user, = WebUser.create([{
                'email': email,
                'party': party.id,
                'dms_role': role,
                'password': password,
                }])
    return user


class PortalClient:
    """A browser or API client of the portal: keeps its cookies and the
    CSRF token of the last page (or of the API sign-in)"""

    def __init__(self):
        self.client = Client(app)
        self.csrf = None
        self.token = None

    def _remember(self, response):
        if response.mimetype == 'text/html':
            match = CSRF.search(response.get_data(as_text=True))
            if match and match.group(1):
                self.csrf = match.group(1)
        return response

    def get(self, path, **kwargs):
        headers = kwargs.pop('headers', {})
        if self.token:
            headers.setdefault('Authorization', f'Bearer {self.token}')
        return self._remember(self.client.get(path, headers=headers,
                **kwargs))

    def post(self, path, data=None, csrf=True, **kwargs):
        "A form post (with the page's CSRF token unless csrf is False)"
        data = dict(data or {})
        if csrf and self.csrf:
            data.setdefault('csrf_token', self.csrf)
        return self._remember(self.client.post(path, data=data, **kwargs))

    def api(self, method, path, body=None, csrf=True, headers=None,
            raw=None):
        "A JSON call; answers (status, decoded body)"
        headers = dict(headers or {})
        if self.token:
            headers.setdefault('Authorization', f'Bearer {self.token}')
        elif csrf and self.csrf:
            headers.setdefault('X-CSRF-Token', self.csrf)
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        response = self.client.open(path, method=method, data=data,
            headers=headers, content_type='application/json')
        text = response.get_data(as_text=True)
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return response.status_code, decoded

    def sign_in(self, email, password=PASSWORD):
        "Sign in through the page, as a person does"
        self.get('/portal/login')
        response = self.post('/portal/login', {
                'email': email, 'password': password})
        assert response.status_code == 303, (
            response.status_code, response.get_data(as_text=True)[:500])
        self.get('/portal/account')
        return response

    def sign_in_api(self, email, password=PASSWORD):
        "Sign in through the API; keeps the session's CSRF token"
        status, body = self.api('POST', '/portal/api/v1/session',
            {'email': email, 'password': password}, csrf=False)
        assert status == 200, (status, body)
        self.csrf = body['csrf_token']
        return body


# the base world of build_portal_world in this process: built once,
# committed and kept in the database cache, restored for the next classes
_BASE = {}


def _committed(build):
    """build() run as admin in a transaction, restarted with the locks it
    turned out to need, then committed; its result"""
    extras = {}
    while True:
        with Transaction().start(DB_NAME, 1, **extras) as transaction:
            try:
                result = build()
            except TransactionError as error:
                transaction.rollback()
                transaction.tasks.clear()
                error.fix(extras)
                continue
            transaction.commit()
            return result


def _drop_database():
    """Drop the test database but keep its pool loaded (drop_db stops it,
    and loading the pool of these modules again costs seconds)"""
    database = backend.Database(DB_NAME)
    database.close()
    if db_exist(DB_NAME):
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            database.drop(transaction.connection, DB_NAME)
    Cache.drop(DB_NAME)


def _restore_keeping_pool(name, modules):
    """Restore the base world's database from the cache under the pool
    still loaded with the same modules (trytond's restore_db_cache loads
    the pool again though no model changed); whether it did"""
    if not DB_CACHE or DB_NAME not in Pool.database_list():
        return False
    if _BASE.get('pool') != (tuple(modules),
            frozenset(Pool(DB_NAME)._modules)):
        return False
    cache_file = test_tryton._db_cache_file(DB_CACHE, name)
    _drop_database()
    if backend.name == 'sqlite':
        restored = test_tryton._sqlite_copy(cache_file, restore=True)
    else:
        restored = test_tryton._pg_restore(cache_file)
    Cache.drop(DB_NAME)
    return restored


class PortalTestCase(unittest.TestCase):
    """A test class with its own committed world (build_world), the
    portal serving its database.

    The database starts from build_portal_world's world: built by the
    first class of the process, then restored from the database cache
    (DB_CACHE) by the others, each adding its own data in build_world."""
    modules = ['distributor_portal']

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # no queue task left by an earlier class (see tearDownClass)
        Transaction().tasks.clear()
        name = '-'.join(cls.modules) + f'--portal-world-{os.getpid()}'
        if not ('world' in _BASE and _restore_keeping_pool(
                    name, cls.modules)):
            drop_db()
            if not ('world' in _BASE and restore_db_cache(name)):
                activate_module(cls.modules)
                _BASE['world'] = _committed(_build_portal_world)
                backup_db_cache(name)
        _BASE['loaded'] = True
        _BASE['pool'] = (tuple(cls.modules),
            frozenset(Pool(DB_NAME)._modules))
        cls._database = config.get('portal', 'database', default=None)
        if not config.has_section('portal'):
            config.add_section('portal')
        config.set('portal', 'database', DB_NAME)
        cls.world = _committed(cls.build_world)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        _BASE['loaded'] = False
        config.set('portal', 'database', cls._database or '')
        # the data was committed: the next class starts afresh (the pool
        # kept for the next portal class of the same modules)
        _drop_database()
        # the queue tasks trytond keeps for the thread (not per
        # transaction) name records of the database dropped: a later
        # class's run_tasks would read them
        Transaction().tasks.clear()

    @classmethod
    def build_world(cls):
        "The class's data, built as root in a transaction then committed"
        return SimpleNamespace()

    def client(self, email=None, api=False):
        "A new client, signed in as email (through the page or the API)"
        client = PortalClient()
        if email:
            if api:
                client.sign_in_api(email)
            else:
                client.sign_in(email)
        return client

    def write(self, func):
        "Run func() as root in a transaction, then commit; its result"
        return _committed(func)

    def read(self, func):
        "Run func() in a read-only transaction as root; its result"
        with Transaction().start(DB_NAME, 0, readonly=True):
            return func()


def ids(world):
    "Plain ids of a world's records (usable once its transaction ended)"
    return SimpleNamespace(**{k: getattr(v, 'id', v)
            for k, v in vars(world).items()})


# the accounts of build_portal_world: (side, party attribute, role, e-mail)
ACCOUNTS = [
    ('own', 'party', 'admin', 'd1@example.com'),
    ('own', 'party', 'orders', 'd1-orders@example.com'),
    ('own', 'party', 'stock', 'd1-stock@example.com'),
    ('own', 'party', 'finance', 'd1-finance@example.com'),
    ('own', 'party', 'view', 'd1-view@example.com'),
    ('own', 'downstream', 'admin', 'd3@example.com'),
    ('own', 'store', 'admin', 's1@example.com'),
    ('own', 'store', 'orders', 's1-orders@example.com'),
    ('foreign', 'party', 'admin', 'd2@example.com'),
    ('foreign', 'downstream', 'admin', 'd4@example.com'),
    ('foreign', 'store', 'admin', 's3@example.com'),
    ]


def build_portal_world():
    """The base world of a PortalTestCase (see _build_portal_world),
    already in its database: a copy of its ids"""
    assert _BASE.get('loaded'), "only in a PortalTestCase's build_world"
    return copy.deepcopy(_BASE['world'])


def _build_portal_world():
    """distributor_store's trust_world (D1 'own' and D2 'foreign', each
    with a downstream distributor, stores and documents in every state)
    with the portal accounts of ACCOUNTS; answers plain ids: the world
    (n), each side's records (own, foreign: their attributes' ids) and
    the accounts by e-mail"""
    from distributor_store.tests.tools import trust_world
    with trust_world() as n:
        accounts = {}
        for side, attribute, role, email in ACCOUNTS:
            party = getattr(n.sides[side], attribute)
            accounts[email] = portal_account(party, email, role).id

        def plain(namespace):
            return SimpleNamespace(**{k: (v.id if hasattr(v, 'id') else v)
                    for k, v in vars(namespace).items()
                    if hasattr(v, 'id') or isinstance(v, (int, str))})
        # {side: {model: [ids]}}: the records of each side by model
        models = {}
        for key, side in n.sides.items():
            models[key] = {}
            for value in vars(side).values():
                if hasattr(value, '__name__') and hasattr(value, 'id'):
                    models[key].setdefault(value.__name__, []).append(
                        value.id)
        return SimpleNamespace(
            models=models,
            company=n.company.id,
            products=plain(n.products),
            own=plain(n.sides['own']), foreign=plain(n.sides['foreign']),
            d1=n.d1.id, d2=n.d2.id, d3=n.d3.id, d4=n.d4.id, s1=n.s1.id,
            s2=n.s2.id,
            s3=n.s3.id, c1=n.c1.id,
            accounts=accounts)
