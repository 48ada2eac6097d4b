# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""A statement confirmed while being regenerated ends in one consistent
state: trytond started as ./dms run starts it (on SQLite a copy of the
test database in a file, on PostgreSQL the test database itself), two
sessions calling at the same moment over HTTP, several times.

Store statements: the distributor (d1) generates its store statements of
the period again while its store (s1) confirms the statement.  Brand
statements: the accountant generates the statement again while the
distributor (d1) confirms it.  Both are calls of the entry points through
trytond's JSON-RPC, as the portal identities and the accountant (the
portal has no statement API yet: once it has, the portal calls replace
these).  Each time exactly one passes: the statement is confirmed with
its figures unchanged and the regeneration refused, or generated again
(back to draft) and the confirmation refused, with the business message,
never a server error; and its figures always equal its lines."""
import base64
import datetime as dt
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
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from distributor_portal.tests.tools import PortalTestCase, build_portal_world

from .test_statement import invoice

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = 'race-Pa55-word'
# the rounds of each race (a statement of its own month each)
ROUNDS = 4
BRAND_ROUNDS = 2
# the head start of the regeneration every other race (seconds)
STAGGER = 0.05
D = Decimal


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Caller:
    "A JSON-RPC client of trytond, signed in as login"

    def __init__(self, url, database, login):
        self.url = f'{url}/{database}/rpc/'
        self.auth = None
        status, body = self.post('common.db.login',
            [login, {'password': PASSWORD}, 'en'])
        assert status == 200 and 'result' in body, (status, body)
        user_id, session = body['result'][:2]
        self.auth = 'Session ' + base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        # the context a client sends: the user's preferences
        status, body = self.post('model.res.user.get_preferences',
            [True, {}])
        assert status == 200 and 'result' in body, (status, body)
        self.context = dict(body['result'], language='en')

    def post(self, method, params):
        headers = {'Content-Type': 'application/json'}
        if self.auth:
            headers['Authorization'] = self.auth
        request = urllib.request.Request(self.url, method='POST',
            data=json.dumps({'id': 1, 'method': method,
                    'params': params}).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or 'null')
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors='replace')
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text

    def call(self, model, method, *args):
        "(status, result or None, error or None) of a model's method"
        status, body = self.post(f'model.{model}.{method}',
            [*args, self.context])
        if not isinstance(body, dict):
            return status, None, body
        return status, body.get('result'), body.get('error')


def _month(year, month):
    start = dt.date(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
        days=1)
    return start, end


class StatementRaceTestCase(PortalTestCase):
    "Confirmations racing with regenerations, over HTTP"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        """Store statements of s1 (issued by d1) and brand statements of
        d1, sent, one a month, each with movements; passwords for the
        callers' users (a portal identity has none: it signs in through
        the portal)"""
        w = build_portal_world()
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Payment = pool.get('distributor.store.payment')
        Party = pool.get('party.party')
        User = pool.get('res.user')
        WebUser = pool.get('web.user')
        d1, s1 = Party(w.d1), Party(w.s1)
        with Transaction().set_context(company=w.company):
            year = pool.get('ir.date').today().year
            stores, brands = [], []
            for month in range(1, ROUNDS + 1):
                start, end = _month(year, month)
                payment = Payment.dms_record_payment(d1, s1,
                    str(10 * month), start + dt.timedelta(days=9),
                    'cash', f'R-{month}')
                Payment.dms_record_payment(d1, s1, '5',
                    start + dt.timedelta(days=19), 'cash', f'S-{month}')
                assert payment
                statement, = Statement.generate('store', [s1], start, end,
                    issuer=d1)[0]
                stores.append(statement)
            for month in range(6, 6 + BRAND_ROUNDS):
                start, end = _month(year, month)
                invoice(d1.id, 100 * month, start + dt.timedelta(days=4))
                statement, = Statement.generate('distributor', [d1], start,
                    end)[0]
                brands.append(statement)
            Statement.send(stores + brands)
            for statement in stores + brands:
                assert statement.line_count, statement.rec_name
                assert Statement(statement.id).consistent
            logins = {}
            for email in ['d1@example.com', 's1@example.com']:
                logins[email] = WebUser(w.accounts[email]).dms_user
            logins['accountant'], = User.search(
                [('login', '=', 'accountant')])
            User.write(list(logins.values()), {'password': PASSWORD})
        return SimpleNamespace(d1=w.d1, s1=w.s1,
            logins={k: u.login for k, u in logins.items()},
            stores=[(s.id, s.start_date.isoformat(), s.end_date.isoformat())
                for s in stores],
            brands=[s.id for s in brands])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp(prefix='dms-account-race-'))
        port = free_port()
        settings = [f'[web]\nlisten = 127.0.0.1:{port}\n']
        if backend.name == 'sqlite':
            database = 'dms'
            (cls.tmp / 'db').mkdir()
            source = backend.Database(DB_NAME).connect()._conn
            with sqlite3.connect(cls.tmp / 'db' / 'dms.sqlite') as target:
                source.backup(target)
            target.close()
            settings.append(f'[database]\npath = {cls.tmp / "db"}\n')
        else:
            database = DB_NAME
            settings.append('[database]\nuri = '
                f'{os.environ["TRYTOND_DATABASE__URI"]}\npath =\n')
        settings.append(f'[portal]\ndatabase = {database}\n')
        (cls.tmp / 'paths.conf').write_text(''.join(settings))
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        env['TRYTOND_CACHE__CLEAN_TIMEOUT'] = '1'
        cls.log = open(cls.tmp / 'trytond.log', 'w')
        cls.server = subprocess.Popen([
                str(Path(sys.executable).parent / 'trytond'),
                '-c', str(ROOT / 'config' / 'trytond.conf'),
                str(cls.tmp / 'paths.conf'), '-d', database],
            env=env, cwd=ROOT, stdout=cls.log, stderr=subprocess.STDOUT)
        cls.url = f'http://127.0.0.1:{port}'
        cls.database = database
        for _ in range(480):
            try:
                with urllib.request.urlopen(cls.url + '/portal/login',
                        timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            cls.tearDownClass()
            raise AssertionError('trytond did not start')

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, 'server', None):
            cls.server.terminate()
            cls.server.wait(timeout=30)
            cls.log.close()
            cls.server = None
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def server_log(self):
        return (self.tmp / 'trytond.log').read_text(errors='replace')[-3000:]

    def caller(self, key):
        return Caller(self.url, self.database, self.world.logins[key])

    def race(self, index, *calls):
        """Run the calls at the same moment; their answers.  Every other
        race the last call starts a few milliseconds late, so that the
        first one may win too (on SQLite the confirmation, the lighter
        call, wins every pure race)"""
        barrier = threading.Barrier(len(calls))
        outcomes = [None] * len(calls)
        late = len(calls) - 1 if index % 2 else None

        def run(i, call):
            barrier.wait()
            if i == late:
                time.sleep(STAGGER)
            outcomes[i] = call()
        threads = [threading.Thread(target=run, args=(i, c))
            for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    def check_figures(self, detail):
        "The figures of the statement equal its lines"
        opening = D(detail['opening_balance'])
        debit, credit = D(detail['total_debit']), D(detail['total_credit'])
        self.assertEqual(opening + debit - credit,
            D(detail['closing_balance']))
        lines = detail['lines']
        self.assertEqual(len(lines), detail['line_count'])
        self.assertEqual(sum((D(l['debit']) for l in lines), D(0)), debit)
        self.assertEqual(sum((D(l['credit']) for l in lines), D(0)), credit)
        balance = opening
        for line in lines:
            balance += D(line['debit']) - D(line['credit'])
            self.assertEqual(D(line['balance']), balance)
        self.assertEqual(balance, D(detail['closing_balance']))
        self.assertTrue(detail['consistent'])

    def business_error(self, answer, *messages):
        "A refusal with a business message, not a server error"
        status, result, error = answer
        self.assertEqual(status, 200, f'{answer}\n{self.server_log()}')
        self.assertIsNone(result)
        self.assertIsInstance(error, list, answer)
        self.assertEqual(error[0], 'UserError', answer)
        text = json.dumps(error, ensure_ascii=False)
        self.assertTrue(any(m in text for m in messages), answer)

    def settle(self, statement, generated, confirmed, before, after):
        """One outcome of generated (the regeneration's answer) and
        confirmed (the confirmation's): ('confirmed' | 'regenerated')"""
        log = self.server_log
        self.assertEqual(generated[0], 200, f'{generated}\n{log()}')
        self.assertEqual(confirmed[0], 200, f'{confirmed}\n{log()}')
        passed = [generated[2] is None, confirmed[2] is None]
        self.assertEqual(sum(passed), 1,
            f'{generated}\n{confirmed}\n{log()}')
        figures = ['opening_balance', 'total_debit', 'total_credit',
            'closing_balance', 'line_count']
        if confirmed[2] is None:
            self.assertEqual(after['state'], 'confirmed')
            self.assertEqual(confirmed[1]['state'], 'confirmed')
            self.assertEqual({k: after[k] for k in figures},
                {k: before[k] for k in figures})
            # the period's confirmed statement is frozen (the button of a
            # confirmed statement is hidden: Tryton refuses it the same)
            self.business_error(generated, 'confirmed',
                'You can not call')
            return 'confirmed'
        self.assertEqual(after['state'], 'draft')
        self.assertNotEqual(after['generated_at'], before['generated_at'])
        self.business_error(confirmed, 'cannot be confirmed')
        return 'regenerated'

    def test_store_statement_confirmed_while_regenerated(self):
        """s1 confirms its statement while d1 generates its store
        statements of the same period again, several times"""
        w = self.world
        d1, s1 = self.caller('d1@example.com'), self.caller('s1@example.com')
        model = 'distributor.account.statement'
        outcomes = []
        for index, (statement, start, end) in enumerate(w.stores):
            status, before, error = d1.call(model, 'dms_statement_detail',
                w.d1, statement)
            self.assertIsNone(error, error)
            self.assertEqual(before['state'], 'sent')
            self.check_figures(before)
            generated, confirmed = self.race(index,
                lambda: d1.call(model, 'dms_generate_store_statements',
                    w.d1, start, end, [w.s1]),
                lambda: s1.call(model, 'dms_confirm_statement', w.s1,
                    statement, "Agreed"))
            _, after, error = d1.call(model, 'dms_statement_detail', w.d1,
                statement)
            self.assertIsNone(error, error)
            self.check_figures(after)
            if generated[2] is None:
                self.assertEqual(generated[1], [statement])
            outcomes.append(self.settle(statement, generated, confirmed,
                    before, after))
        _count(outcomes)
        print(f"\n{self.id()}: {outcomes}", file=sys.stderr)

    def test_brand_statement_confirmed_while_regenerated(self):
        """d1 confirms its statement while the accountant generates it
        again"""
        w = self.world
        d1, accountant = (self.caller('d1@example.com'),
            self.caller('accountant'))
        model = 'distributor.account.statement'
        outcomes = []
        for index, statement in enumerate(w.brands):
            _, before, error = d1.call(model, 'dms_statement_detail', w.d1,
                statement)
            self.assertIsNone(error, error)
            self.assertEqual(before['state'], 'sent')
            self.check_figures(before)
            generated, confirmed = self.race(index,
                lambda: accountant.call(model, 'regenerate', [statement]),
                lambda: d1.call(model, 'dms_confirm_statement', w.d1,
                    statement, "Agreed"))
            # the distributor reads its statement once sent: regenerated
            # (a draft again), the accountant sends it back to read it
            if generated[2] is None:
                _, _, error = accountant.call(model, 'send', [statement])
                self.assertIsNone(error, error)
            _, after, error = d1.call(model, 'dms_statement_detail', w.d1,
                statement)
            self.assertIsNone(error, error)
            self.check_figures(after)
            if generated[2] is None:
                after = dict(after, state='draft')
            outcomes.append(self.settle(statement, generated, confirmed,
                    before, after))
        _count(outcomes)
        print(f"\n{self.id()}: {outcomes}", file=sys.stderr)


def _count(outcomes):
    "The races run, in the figures of the test run (scripts/run_tests.py)"
    path = os.environ.get('DMS_TRUST_FIGURES')
    if path:
        with open(path, 'a') as file:
            file.write(f'races_{backend.name}={len(outcomes)}\n')
