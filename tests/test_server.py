# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The server as ./dms run serves it, over HTTP (JSON-RPC): a refused call
leaves nothing, and two people acting at once never break a rule.

The database is built here (the modules, a small network, users with
passwords), then trytond runs on it with config/trytond.conf, as
./dms run starts it: on SQLite a copy of the test database in a file, on
PostgreSQL the test database itself.  The cache's clean timeout is one
second, so that the requests run the path that once turned transactions
into autocommit."""
import base64
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction, TransactionError

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = 'dms-test-password'
# how often each race runs
TRIALS = 3


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class RPCError(Exception):
    "A JSON-RPC error answer (a refusal), or an HTTP error status"

    def __init__(self, message, status=200):
        super().__init__(message)
        self.message = message
        self.status = status


def _decode(value):
    "Tryton's JSON classes (Decimal, dates) as Python values"
    kind = value.get('__class__')
    if kind == 'Decimal':
        return Decimal(value['decimal'])
    return value


def decimal(value):
    "A Decimal as Tryton's JSON-RPC takes it"
    return {'__class__': 'Decimal', 'decimal': str(value)}


class Client:
    "A JSON-RPC client with its own session, as the web client has"

    def __init__(self, url, database, login, password=PASSWORD):
        self.url = f'{url}{database}/rpc/'
        self.authorization = None
        user_id, session = self.call(
            'common.db.login', login, {'password': password}, 'en')[:2]
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.authorization = f'Session {token}'
        # the context a client sends: the user's preferences
        self.context = self.call(
            'model.res.user.get_preferences', True, {})

    def call(self, method, *params):
        body = json.dumps({'id': 1, 'method': method,
                'params': list(params)}).encode()
        request = urllib.request.Request(self.url, data=body,
            headers={'Content-Type': 'application/json'})
        if self.authorization:
            request.add_header('Authorization', self.authorization)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.loads(response.read(), object_hook=_decode)
        except urllib.error.HTTPError as error:
            raise RPCError(error.read().decode(errors='replace'),
                status=error.code)
        if answer.get('error'):
            error = answer['error']
            if (isinstance(error, list) and len(error) > 1
                    and isinstance(error[1], list) and error[1]):
                message = str(error[1][0])
            else:
                message = str(error)
            raise RPCError(message)
        return answer['result']

    def model(self, model, method, *args):
        return self.call(
            f'model.{model}.{method}', *args, getattr(self, 'context', {}))


class ServerTestCase(unittest.TestCase):
    "trytond serving the embedded default's configuration"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['distributor_store'])
        cls.world = cls._build()
        cls.tmp = Path(tempfile.mkdtemp(prefix='dms-server-'))
        cls.port = free_port()
        settings = [f'[web]\nlisten = 127.0.0.1:{cls.port}\n']
        if backend.name == 'sqlite':
            cls.database = 'dms'
            (cls.tmp / 'db').mkdir()
            source = backend.Database(DB_NAME).connect()._conn
            with sqlite3.connect(cls.tmp / 'db' / 'dms.sqlite') as target:
                source.backup(target)
            target.close()
            settings.append(f'[database]\npath = {cls.tmp / "db"}\n')
        else:
            cls.database = DB_NAME
            settings.append('[database]\nuri = '
                f'{os.environ["TRYTOND_DATABASE__URI"]}\npath =\n')
        (cls.tmp / 'paths.conf').write_text(''.join(settings))
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        env['TRYTOND_CACHE__CLEAN_TIMEOUT'] = '1'
        trytond = str(Path(sys.executable).parent / 'trytond')
        cls.log = open(cls.tmp / 'trytond.log', 'w')
        cls.server = subprocess.Popen([trytond,
                '-c', str(ROOT / 'config' / 'trytond.conf'),
                str(cls.tmp / 'paths.conf'), '-d', cls.database],
            env=env, cwd=ROOT, stdout=cls.log, stderr=subprocess.STDOUT)
        cls.url = f'http://127.0.0.1:{cls.port}/'
        for _ in range(240):
            try:
                cls.admin = Client(cls.url, cls.database, 'admin')
                break
            except (OSError, RPCError):
                time.sleep(0.25)
        else:
            cls.log.flush()
            log = (cls.tmp / 'trytond.log').read_text()[-3000:]
            cls.tearDownClass()
            raise AssertionError(f'trytond did not start:\n{log}')
        cls.races = 0

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if hasattr(cls, 'server'):
            cls.server.terminate()
            cls.server.wait(timeout=30)
            cls.log.close()
        if hasattr(cls, 'tmp'):
            shutil.rmtree(cls.tmp, ignore_errors=True)
        path = os.environ.get('DMS_TRUST_FIGURES')
        if path and getattr(cls, 'races', 0):
            with open(path, 'a') as file:
                file.write(f'races_{backend.name}={cls.races}\n')
        # the data was committed: the next test class starts afresh
        drop_db()

    @classmethod
    def _build(cls):
        """A small network with users, committed; restarted as the server
        does for the table locks it asks"""
        extras = {}
        while True:
            try:
                with Transaction().start(
                        DB_NAME, 0, **extras) as transaction:
                    world = cls._build_world()
                    transaction.commit()
                return world
            except TransactionError as error:
                error.fix(extras)

    @classmethod
    def _build_world(cls):
        "D1 on credit; submitted orders for the races"
        from trytond.modules.company.tests import create_employee
        from distributor_sale.tests.tools import order, sale_network

        pool = Pool()
        User = pool.get('res.user')
        Territory = pool.get('distributor.territory')
        ModelData = pool.get('ir.model.data')
        with sale_network() as n:
            east = create_employee(n.company, "Rep East")
            south = create_employee(n.company, "Rep South")
            Territory.write([n.territories.east], {
                    'reps': [('add', [east.id])]},
                [n.territories.south], {
                    'reps': [('add', [south.id])]})
            rep_group = ModelData.get_id('distributor', 'group_sales_rep')
            manager_group = ModelData.get_id(
                'distributor', 'group_channel_manager')
            admin = User(1)
            User.write([admin], {'password': PASSWORD,
                    'companies': [('add', [n.company.id])],
                    'company': n.company.id})
            User.create([{
                        'login': login, 'name': login,
                        'password': PASSWORD,
                        'groups': [('add', groups)],
                        'companies': [('add', [n.company.id])],
                        'company': n.company.id,
                        'employees': [('add', employees)],
                        'employee': employees[0] if employees else None,
                        } for login, groups, employees in [
                        ('manager', [manager_group], []),
                        ('manager2', [manager_group], []),
                        ('rep_east', [rep_group], [east.id]),
                        ('rep_south', [rep_group], [south.id]),
                        ]])
            world = {
                'd1': n.d1.id, 'east': n.territories.east.id,
                'nj': n.territories.nj.id,
                'gd': n.territories.gd.id,
                'p1': n.products.p1.id,
                # each 630 on credit: the two exceed the limit
                'credit_pairs': [[order(n.d1, [(n.products.p1, 70)],
                            submit=True).id for _ in range(2)]
                    for _ in range(TRIALS)],
                'same': [order(n.d1, [(n.products.p1, 10)],
                        submit=True).id for _ in range(TRIALS)],
                }
            n.d1.credit_limit_amount = Decimal(1000 + 700 * TRIALS)
            n.d1.save()
        return world

    # A refused call leaves nothing ---------------------------------------

    def test_refused_calls_leave_nothing(self):
        """Calls refused for their reach, their rights or their rules write
        nothing, even once the cache's clean timeout has passed"""
        rep = Client(self.url, self.database, 'rep_south')
        w = self.world

        def count(model, domain):
            return self.admin.model(model, 'search_count', domain)
        before = {
            'party': count('party.party', []),
            'sale': count('sale.sale', []),
            'line': count('sale.line', []),
            'log': count('distributor.sale.log', []),
            }
        refusals = [
            # a distributor in another region
            ('party.party', 'create', [{'name': "Intruder",
                        'is_distributor': True,
                        'territories': [['add', [w['nj']]]]}]),
            # the rep's region, but a channel field of the managers
            ('party.party', 'create', [{'name': "Graded",
                        'is_distributor': True, 'distributor_grade': 'A',
                        'territories': [['add', [w['gd']]]]}]),
            # an order for a distributor out of reach
            ('sale.sale', 'dms_create_order', w['d1'],
                [{'product': 'P1', 'quantity': 1}]),
            ]
        for model, method, *args in refusals:
            for _ in range(3):
                # past the cache's clean timeout: the sync path runs
                time.sleep(1.1)
                with self.subTest(model=model, method=method):
                    with self.assertRaises(RPCError) as context:
                        rep.model(model, method, *args)
                    self.assertEqual(context.exception.status, 200)
        # refused by its rules after the order was written: the order goes
        # with the refusal
        manager = Client(self.url, self.database, 'manager')
        for _ in range(3):
            time.sleep(1.1)
            with self.assertRaises(RPCError) as context:
                manager.model('sale.sale', 'dms_create_order', w['d1'],
                    [{'product': 'P1', 'quantity': 1}], 'regular', None,
                    None, 'brand', None, True)
            self.assertIn('minimum', context.exception.message)
        after = {
            'party': count('party.party', []),
            'sale': count('sale.sale', []),
            'line': count('sale.line', []),
            'log': count('distributor.sale.log', []),
            }
        self.assertEqual(after, before)

    # Two people at once ----------------------------------------------------

    def _race(self, calls):
        """Run the calls at the same moment, each with its own client;
        return [(result or None, RPCError or None)]"""
        barrier = threading.Barrier(len(calls))
        outcomes = [None] * len(calls)

        def run(index, client, model, method, args):
            barrier.wait()
            try:
                outcomes[index] = (client.model(model, method, *args), None)
            except RPCError as error:
                outcomes[index] = (None, error)
        threads = [threading.Thread(target=run, args=(i, *call))
            for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        type(self).races += 1
        return outcomes

    def _clients(self):
        return (Client(self.url, self.database, 'manager'),
            Client(self.url, self.database, 'manager2'))

    def _check_one_wins(self, outcomes, message):
        errors = [e for _, e in outcomes if e is not None]
        self.assertEqual(len(errors), 1, outcomes)
        error, = errors
        # the business answer, never a 503
        self.assertEqual(error.status, 200, (error.status, error.message))
        self.assertIn(message, error.message)

    def test_same_order_approved_twice_at_once(self):
        "Two approvals of one order: one approval, one shipment"
        first, second = self._clients()
        for sale_id in self.world['same']:
            outcomes = self._race([
                    (first, 'sale.sale', 'dms_approve_orders', [[sale_id]]),
                    (second, 'sale.sale', 'dms_approve_orders', [[sale_id]]),
                    ])
            self._check_one_wins(outcomes, 'already approved')
            sale, = self.admin.model('sale.sale', 'read', [sale_id],
                ['channel_state', 'shipments', 'channel_logs'])
            self.assertEqual(sale['channel_state'], 'approved')
            self.assertEqual(len(sale['shipments']), 1)
            logs = self.admin.model('distributor.sale.log', 'read',
                sale['channel_logs'], ['to_state'])
            self.assertEqual(
                [l['to_state'] for l in logs].count('approved'), 1)

    def test_credit_limit_approvals_at_once(self):
        """Two orders that together pass the credit limit, approved at
        once: exactly one is approved"""
        first, second = self._clients()
        for index, (a, b) in enumerate(self.world['credit_pairs']):
            # the limit leaves room for exactly one more order each time
            self.admin.model('party.party', 'write', [self.world['d1']], {
                    'credit_limit_amount': decimal(
                        self._credit_used() + Decimal(1000))})
            outcomes = self._race([
                    (first, 'sale.sale', 'dms_approve_orders', [[a]]),
                    (second, 'sale.sale', 'dms_approve_orders', [[b]]),
                    ])
            self._check_one_wins(outcomes, 'credit')
            states = [s['channel_state'] for s in self.admin.model(
                    'sale.sale', 'read', [a, b], ['channel_state'])]
            self.assertEqual(sorted(states), ['approved', 'submitted'])

    def _credit_used(self):
        party, = self.admin.model('party.party', 'read',
            [self.world['d1']], ['credit_amount'])
        return Decimal(str(party['credit_amount']))
