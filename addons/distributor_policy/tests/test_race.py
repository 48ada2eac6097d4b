# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Two orders spending one rebate balance at the same moment, as two
phones do: trytond started as ./dms run starts it (on SQLite a copy of the
test database in a file, on PostgreSQL the test database itself), two
portal sessions posting their orders over HTTP at once.  Exactly one
passes, the other gets the balance's refusal, the ledger never goes below
zero and its balance stays the sum of its entries."""
import http.cookiejar
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

from distributor_portal.tests.tools import (
    PASSWORD, PortalTestCase, build_portal_world)

ROOT = Path(__file__).resolve().parents[3]
# the balance, then what both orders ask in each race: one passes
START = Decimal('300.00')
RACES = [Decimal('200.00'), Decimal('100.00')]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Phone:
    "A portal API client over HTTP with its session cookie"

    def __init__(self, url, email):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None
        status, body = self.call('POST', '/session',
            {'email': email, 'password': PASSWORD})
        assert status == 200, (status, body)
        self.csrf = body['csrf_token']

    def call(self, method, path, body=None):
        headers = {'Content-Type': 'application/json'}
        if self.csrf:
            headers['X-CSRF-Token'] = self.csrf
        request = urllib.request.Request(
            f'{self.url}/portal/api/v1{path}', method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, json.loads(response.read() or 'null')
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors='replace')
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text


class DeductionRaceTestCase(PortalTestCase):
    "Deductions racing for one rebate balance, over HTTP"
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        w = build_portal_world()
        Ledger = Pool().get('distributor.rebate.ledger')
        Ledger.dms_post([{'party': w.d1, 'kind': 'adjustment',
                    'amount': START, 'reason': "Race test"}])
        return SimpleNamespace(d1=w.d1, p1=w.products.p1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp(prefix='dms-policy-race-'))
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

    def ledger(self, phone):
        "(balance, sum of the entries, kinds) as the finance page reads"
        status, body = phone.call('GET', '/rebates/ledger?limit=200')
        self.assertEqual(status, 200, body)
        total = sum((Decimal(str(e['amount'])) for e in body['items']),
            Decimal(0))
        return (Decimal(str(body['balance'])), total,
            [e['kind'] for e in body['items']])

    def test_two_orders_one_balance(self):
        """Two orders each asking what the balance can pay once, placed
        at the same moment by two colleagues: one is placed with its
        deduction, the other refused with the balance's message"""
        phones = [Phone(self.url, email)
            for email in ['d1@example.com', 'd1-orders@example.com']]
        finance = Phone(self.url, 'd1-finance@example.com')
        balance, total, kinds = self.ledger(finance)
        self.assertEqual((balance, total), (START, START))
        for index, amount in enumerate(RACES):
            body = {'lines': [{'product': self.world.p1, 'quantity': 30}],
                'rebate_deduction': float(amount)}
            barrier = threading.Barrier(len(phones))
            outcomes = [None] * len(phones)

            def run(i, phone):
                barrier.wait()
                outcomes[i] = phone.call('POST', '/orders', body)
            threads = [threading.Thread(target=run, args=(i, p))
                for i, p in enumerate(phones)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses = sorted(status for status, _ in outcomes)
            self.assertEqual(statuses, [201, 422],
                f'{outcomes}\n{self.server_log()}')
            placed, = [b for s, b in outcomes if s == 201]
            refused, = [b for s, b in outcomes if s == 422]
            self.assertEqual(refused['code'], 'channel_rule', refused)
            self.assertEqual(placed['state'], 'submitted')
            balance, total, kinds = self.ledger(finance)
            self.assertEqual(balance, START - sum(RACES[:index + 1]))
            self.assertEqual(balance, total)
            self.assertEqual(kinds.count('deduction'), index + 1)
        self.assertEqual(balance, 0)
