#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Load benchmark of the portal: simulated portal users against trytond
over loopback, with locust (run as a library).

Builds the demo (scripts/setup_db.py: the modules, the network and the
portal's demo accounts) on a throwaway database, adds portal accounts for
the simulated users (role orders, on distributors without upstream, on
downstream distributors and on stores, in turn), starts trytond on it as
./dms run does, then, in the same run:

1. browsing and ordering, for --seconds (120): --users (20) portal users
   each signed in through the API, opening the home page, the catalogue,
   their orders and their messages, and ordering through
   POST /portal/api/v1/orders (a brand order, or a channel order to the
   upstream or the store's distributor), beside one probe calling a bare
   JSON-RPC method (common.version) and a staff search
   (model.party.party.search, through /<db>/ with the admin's session);
   prints p50 and p95 of each page and endpoint, the orders submitted per
   second, and the ratio of the home page's p95 to the probes';
2. order submission, for --compare-seconds (30) each: --compare-users (4)
   users submitting brand orders through the API without pause, then as
   many JSON-RPC clients creating the same sale and quoting it as plain
   Tryton does (sale.sale create + quote as admin, for a customer that is
   no distributor: the channel workflow refuses Tryton's quote on a
   distributor's order); prints both throughputs and their ratio (the
   issue's target: the API at least 3 x plain Tryton).

    .venv/bin/python tests/bench/bench_portal_load.py [--seconds S] \\
        [--users U] [--compare-seconds C] [--compare-users N] \\
        [--distributors D] [--products P] [--stores T] [--reuse] [--keep]

SQLite by default (a file under var/bench); PostgreSQL when
TRYTOND_DATABASE__URI is set (the figures the issue asks for; e.g. a
cluster of scripts/pg_cluster.sh).  --reuse keeps the database of an
earlier run with --keep instead of building the demo again.  Figures,
not assertions."""
import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATABASE = 'portal_load'
PASSWORD = 'dms-demo'
ADMIN_PASSWORD = 'dms-admin'
API = '/portal/api/v1'
# the amount of an order placed by a simulated user
ORDER_AMOUNT = 6000
# what a browsing user does, and how often (weights)
BROWSE = [
    ('/portal/', 4),
    ('/portal/catalogue', 2),
    ('/portal/orders', 2),
    ('/portal/messages', 2),
    ]
ORDER_WEIGHT = 2
# the answer of a JSON-RPC call that failed
FAILED = object()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# Preparation (a process of its own: locust patches the standard library
# with gevent as it is imported) -----------------------------------------

def prepare(config, users, compare_users):
    """The bench's portal accounts and the values of the plain sales, as
    JSON on stdout: {accounts: [[email, kind]], brand: [email],
    plain: {party, address, products: {id: uom}}}"""
    from trytond import config as tconfig
    tconfig.update_etc([config])
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    sys.path.insert(0, str(ROOT / 'scripts'))
    from generate import in_transaction

    def run():
        pool = Pool()
        Party = pool.get('party.party')
        WebUser = pool.get('web.user')
        Product = pool.get('product.product')
        Company = pool.get('company.company')
        company, = Company.search([], limit=1)
        with Transaction().set_context(company=company.id):
            distributors = [p for p in Party.search([
                        ('is_distributor', '=', True),
                        ('distributor_state', '=', 'active'),
                        ], order=[('id', 'ASC')]) if p.may_trade()]
            agents = [p for p in distributors if not p.upstream]
            downstreams = [p for p in distributors if p.upstream
                and p.upstream.may_trade()]
            stores = Party.search([
                    ('is_store', '=', True),
                    ('store_state', '=', 'active'),
                    ], order=[('id', 'ASC')])
            stores = [s for s in stores if s.store_distributor.may_trade()]
            groups = [(g, k) for g, k in [(agents, 'brand'),
                    (downstreams, 'channel'), (stores, 'store')] if g]
            wanted = []
            for i in range(users):
                group, kind = groups[i % len(groups)]
                party = group[(i // len(groups)) % len(group)]
                wanted.append((f'bench-{i}@bench.dms', party, kind))
            for i in range(compare_users):
                wanted.append((f'bench-brand-{i}@bench.dms',
                        agents[i % len(agents)], 'brand'))
            # the brand ordering agents on credit with room for the
            # bench's orders: a refused order is not what is measured
            brand = list({p for _, p, k in wanted if k == 'brand'})
            Party.write(brand, {
                    'settlement_method': 'credit',
                    'credit_limit_amount': Decimal(10 ** 9),
                    })
            existing = {u.email for u in WebUser.search([
                        ('email', 'like', '%@bench.dms')])}
            WebUser.create([{'email': email, 'party': party.id,
                        'dms_role': 'orders', 'password': PASSWORD}
                    for email, party, _ in wanted if email not in existing])
            # a customer of plain Tryton for the plain sales
            customers = Party.search([('name', '=', 'Bench Customer')])
            if not customers:
                customers = Party.create([{'name': 'Bench Customer',
                            'addresses': [('create', [{
                                            'street': '1 Bench Road'}])]}])
            customer, = customers
            products = Product.search([('salable', '=', True)],
                order=[('id', 'ASC')])
            return {
                'accounts': [[e, k] for e, _, k in wanted
                    if not e.startswith('bench-brand-')],
                'brand': [e for e, _, k in wanted
                    if e.startswith('bench-brand-')],
                'plain': {
                    'party': customer.id,
                    'address': customer.addresses[0].id,
                    'products': {p.id: p.sale_uom.id for p in products},
                    },
                }
    Pool(DATABASE).init()
    result = in_transaction(DATABASE, run)
    json.dump(result, sys.stdout)


# The load -----------------------------------------------------------------

def percentile(entry, p):
    return entry.get_response_time_percentile(p) if entry.num_requests \
        else float('nan')


def run_phase(environment_class, user_classes, count, seconds, ready,
        reset):
    """Run count users of user_classes for seconds once they are all
    ready (signed in: ready() true, at most 120 s): the environment, its
    stats (and the counters of reset()) counted from then, and the seconds
    measured"""
    import gevent
    env = environment_class(user_classes=user_classes)
    runner = env.create_local_runner()
    runner.start(count, spawn_rate=count)
    for _ in range(1200):
        if ready():
            break
        gevent.sleep(0.1)
    # a second more: the first pages of the last users
    gevent.sleep(1)
    env.stats.reset_all()
    reset()
    started = time.perf_counter()
    gevent.sleep(seconds)
    elapsed = time.perf_counter() - started
    runner.quit()
    return env, elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=120)
    parser.add_argument('--users', type=int, default=20)
    parser.add_argument('--compare-seconds', type=float, default=30)
    parser.add_argument('--compare-users', type=int, default=4)
    parser.add_argument('--distributors', type=int, default=60)
    parser.add_argument('--products', type=int, default=40)
    parser.add_argument('--stores', type=int, default=120)
    parser.add_argument('--reuse', action='store_true',
        help="the database of an earlier run with --keep")
    parser.add_argument('--keep', action='store_true',
        help="keep the database (for --reuse)")
    parser.add_argument('--prepare', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        return prepare(args.prepare, args.users, args.compare_users)

    tmp = Path(tempfile.mkdtemp(prefix='dms-portal-load-'))
    port = free_port()
    uri = os.environ.get('TRYTOND_DATABASE__URI')
    if uri:
        backend, database_section = 'postgresql', f'uri = {uri}\npath =\n'
    else:
        backend = 'sqlite'
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        database_section = f'uri = sqlite://\npath = {bench_dir}\n'
    config = tmp / 'trytond.conf'
    config.write_text(f'''[database]
{database_section}busy_timeout = 60
[web]
listen = 127.0.0.1:{port}
[password]
length = 8
[portal]
database = {DATABASE}
''')
    env = {k: v for k, v in os.environ.items()
        if not k.startswith(('TRYTOND_', 'DB_'))}
    python = sys.executable
    print(f'backend: {backend}')
    if not args.reuse:
        drop(backend, env)
        start = time.perf_counter()
        subprocess.run([python, str(ROOT / 'scripts' / 'setup_db.py'),
                '-c', str(config), '-d', DATABASE,
                '--distributors', str(args.distributors),
                '--products', str(args.products),
                '--stores', str(args.stores)],
            check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f'demo built in {time.perf_counter() - start:.0f} s '
            f'({args.distributors} distributors, {args.products} products, '
            f'{args.stores} stores)')
    prepared = json.loads(subprocess.run([python, __file__,
                '--prepare', str(config), '--users', str(args.users),
                '--compare-users', str(args.compare_users)],
            check=True, env=env, cwd=ROOT, capture_output=True,
            text=True).stdout)
    log = open(tmp / 'trytond.log', 'w')
    server = subprocess.Popen([str(Path(python).parent / 'trytond'),
            '-c', str(config), '-d', DATABASE], env=env, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f'http://127.0.0.1:{port}'
        wait_for(url)
        bench(url, prepared, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        errors = (tmp / 'trytond.log').read_text(errors='replace')
        if 'Traceback' in errors:
            print('\nserver errors (the first):')
            start = errors.index('Traceback')
            print(errors[start:start + 3000])
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            drop(backend, env)
    return 0


def drop(backend, env):
    if backend == 'sqlite':
        for suffix in ['', '-wal', '-shm']:
            path = ROOT / 'var' / 'bench' / f'{DATABASE}.sqlite{suffix}'
            if path.exists():
                path.unlink()
    else:
        subprocess.run(['dropdb', '--if-exists', DATABASE], env={
                **env, **_pg_env()}, check=False)


def _pg_env():
    "PGHOST/PGPORT/PGUSER from TRYTOND_DATABASE__URI"
    import urllib.parse
    uri = urllib.parse.urlsplit(os.environ['TRYTOND_DATABASE__URI'])
    query = dict(urllib.parse.parse_qsl(uri.query))
    result = {}
    if uri.username:
        result['PGUSER'] = uri.username
    if uri.password:
        result['PGPASSWORD'] = uri.password
    host = query.get('host') or uri.hostname
    if host:
        result['PGHOST'] = host
    port = query.get('port') or uri.port
    if port:
        result['PGPORT'] = str(port)
    return result


def wait_for(url):
    import urllib.request
    for _ in range(240):
        try:
            urllib.request.urlopen(url + '/portal/login', timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit('trytond did not start')


def bench(url, prepared, args):
    # locust patches the standard library (gevent) as it is imported
    import itertools
    import uuid

    from locust import HttpUser, between, constant, task
    from locust.env import Environment

    accounts = itertools.cycle(prepared['accounts'])
    brand = itertools.cycle(prepared['brand'])
    plain = prepared['plain']
    outcome = {'orders': 0, 'refused': 0, 'api': 0, 'plain': 0,
        'ordering': None, 'ready': 0}
    # {message: count} of the orders a channel rule refused
    refusals = {}

    def ready(count):
        "Whether count users finished their on_start"
        return lambda: outcome['ready'] >= count

    def reset():
        "The counters from the end of the warm-up"
        outcome.update(orders=0, refused=0, api=0, plain=0)

    class PortalClient(HttpUser):
        abstract = True
        host = url

        def sign_in(self, email):
            with self.client.post(API + '/session', json={
                        'email': email, 'password': PASSWORD},
                    name='api POST /session', catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f'{r.status_code} {r.text[:200]}')
                    outcome['ready'] += 1
                    raise RuntimeError(f'{email} cannot sign in')
                self.csrf = r.json()['csrf_token']
            r = self.client.get(API + '/catalogue',
                name='api GET /catalogue')
            self.products = [p for p in r.json().get('products', [])
                if p.get('price') is not None] if r.ok else []
            outcome['ready'] += 1

        def order(self, name):
            "One order of a few products: 'ok', 'refused' or None"
            if not self.products:
                return None
            chosen = self.random.sample(self.products,
                min(len(self.products), self.random.randint(1, 3)))
            # whole packs worth ORDER_AMOUNT together: above the tiers'
            # minimum order amounts, so that a brand order goes through
            lines = []
            for p in chosen:
                pack = int(p.get('pack') or 1)
                price = float(p['price']) or 1.0
                packs = max(1, math.ceil(
                        ORDER_AMOUNT / len(chosen) / (price * pack)))
                lines.append({'product': p['id'], 'quantity': packs * pack})
            with self.client.post(API + '/orders', json={'lines': lines},
                    headers={'X-CSRF-Token': self.csrf,
                        'Idempotency-Key': uuid.uuid4().hex},
                    name=name, catch_response=True) as r:
                if r.status_code == 201:
                    return 'ok'
                if r.status_code == 404 and outcome['ordering'] is None:
                    outcome['ordering'] = 'missing'
                if r.status_code == 422:
                    # a channel rule's refusal: an answer, not a failure
                    r.success()
                    refusals.setdefault(r.json().get('message', ''), 0)
                    refusals[r.json().get('message', '')] += 1
                    return 'refused'
                r.failure(f'{r.status_code} {r.text[:200]}')
                return None

    class Browser(PortalClient):
        wait_time = between(0.5, 1.5)

        def on_start(self):
            import random
            self.random = random.Random()
            self.email, self.kind = next(accounts)
            self.sign_in(self.email)

        @task(sum(w for _, w in BROWSE))
        def browse(self):
            paths = [p for p, _ in BROWSE]
            path = self.random.choices(paths,
                weights=[w for _, w in BROWSE])[0]
            with self.client.get(path, name=f'page {path}',
                    catch_response=True) as r:
                if r.status_code >= 400 or 'card error' in r.text:
                    r.failure(f'{r.status_code}')

        @task(ORDER_WEIGHT)
        def place(self):
            if outcome['ordering'] == 'missing':
                return
            result = self.order(f'api POST /orders ({self.kind})')
            if result == 'ok':
                outcome['orders'] += 1
            elif result == 'refused':
                outcome['refused'] += 1

    class Probe(HttpUser):
        "Bare JSON-RPC calls beside the portal's load"
        fixed_count = 1
        host = url
        wait_time = between(0.2, 0.6)

        def on_start(self):
            self.rpc = rpc_session(self.client, DATABASE)
            outcome['ready'] += 1

        @task
        def version(self):
            self.client.post('/rpc/', json={'id': 1,
                    'method': 'common.version', 'params': []},
                name='rpc common.version')

        @task
        def search(self):
            self.rpc('model.party.party.search',
                [['is_distributor', '=', True]], 0, 10, None,
                name='rpc party.search (staff)')

    def rpc_session(client, database):
        "A call function of a JSON-RPC session of admin"
        import base64
        r = client.post(f'/{database}/rpc/', json={'id': 1,
                'method': 'common.db.login',
                'params': ['admin', {'password': ADMIN_PASSWORD}, 'en']},
            name='rpc login')
        user_id, session = r.json()['result'][:2]
        token = base64.b64encode(
            f'admin:{user_id}:{session}'.encode()).decode()
        headers = {'Authorization': f'Session {token}'}
        context = {}

        def call(method, *params, name=None):
            "The result of the call, FAILED when it failed"
            with client.post(f'/{database}/rpc/', json={'id': 1,
                        'method': method,
                        'params': list(params) + [context]},
                    headers=headers, name=name or method,
                    catch_response=True) as r:
                answer = r.json() if r.ok else {}
                if not r.ok or answer.get('error'):
                    r.failure(str(answer.get('error') or r.status_code)[
                            :300])
                    return FAILED
                return answer['result']
        preferences = call('model.res.user.get_preferences', True,
            name='rpc get_preferences')
        if preferences is not FAILED:
            context.update(preferences)
        return call

    # 1. browsing and ordering
    print(f'\n1. {args.users} portal users browsing and ordering for '
        f'{args.seconds:.0f} s, beside a JSON-RPC probe')
    env, elapsed = run_phase(Environment, [Browser, Probe],
        args.users + 1, args.seconds, ready(args.users + 1), reset)
    report(env.stats)
    home = env.stats.get('page /portal/', 'GET')
    if outcome['ordering'] == 'missing':
        print('ordering: POST /portal/api/v1/orders answers 404: skipped')
    print(f'orders submitted: {outcome["orders"]} '
        f'({outcome["orders"] / elapsed:.2f}/s), refused by a rule: '
        f'{outcome["refused"]}')
    for message, count in sorted(refusals.items()):
        print(f'  refused {count} x: {message[:200]}')
    for name in ['rpc common.version', 'rpc party.search (staff)']:
        entry = env.stats.get(name, 'POST')
        if entry.num_requests and home.num_requests:
            print(f'home page p95 / {name} p95: '
                f'{percentile(home, 0.95) / percentile(entry, 0.95):.1f}')

    # 2. order submission: the API against plain Tryton
    if outcome['ordering'] == 'missing' or not prepared['brand']:
        print('\n2. skipped: no ordering endpoint')
        return
    seconds, count = args.compare_seconds, args.compare_users
    print(f'\n2. order submission, {count} users without pause, '
        f'{seconds:.0f} s each')

    class ApiOrderer(PortalClient):
        wait_time = constant(0)

        def on_start(self):
            import random
            self.random = random.Random()
            self.sign_in(next(brand))

        @task
        def place(self):
            if self.order('api POST /orders (compare)') == 'ok':
                outcome['api'] += 1

    class PlainOrderer(HttpUser):
        host = url
        wait_time = constant(0)

        def on_start(self):
            import random
            self.random = random.Random()
            self.rpc = rpc_session(self.client, DATABASE)
            self.products = [(int(k), v)
                for k, v in plain['products'].items()]
            outcome['ready'] += 1

        @task
        def place(self):
            lines = [{'type': 'line', 'product': product, 'unit': uom,
                    'quantity': self.random.randint(1, 3) * 6,
                    'unit_price': {'__class__': 'Decimal',
                        'decimal': '20.00'}}
                for product, uom in self.random.sample(self.products,
                    min(len(self.products), self.random.randint(1, 3)))]
            ids = self.rpc('model.sale.sale.create', [{
                        'party': plain['party'],
                        'invoice_address': plain['address'],
                        'shipment_address': plain['address'],
                        'lines': [['create', lines]],
                        }], name='rpc sale.sale.create')
            if ids is not FAILED and self.rpc('model.sale.sale.quote', ids,
                    name='rpc sale.sale.quote') is not FAILED:
                outcome['plain'] += 1

    outcome['ready'] = 0
    env_api, elapsed_api = run_phase(Environment, [ApiOrderer], count,
        seconds, ready(count), reset)
    # the next phase's reset starts the counters again
    api_orders = outcome['api']
    outcome['ready'] = 0
    env_plain, elapsed_plain = run_phase(Environment, [PlainOrderer],
        count, seconds, ready(count), reset)
    report(env_api.stats)
    report(env_plain.stats, header=False)
    api_rate = api_orders / elapsed_api
    plain_rate = outcome['plain'] / elapsed_plain
    print(f'API orders: {api_rate:.2f}/s; plain Tryton create + quote: '
        f'{plain_rate:.2f}/s')
    if not api_orders:
        print('no order went through the API: see its errors above')
    elif plain_rate:
        print(f'API / plain Tryton: {api_rate / plain_rate:.2f} '
            '(target: at least 3)')
    for message, count in sorted(refusals.items()):
        print(f'  refused {count} x: {message[:200]}')


def report(stats, header=True):
    if header:
        print(f'  {"page or endpoint":<42} {"calls":>6} {"fail":>5} '
            f'{"p50 ms":>7} {"p95 ms":>7}')
    for (name, method), entry in sorted(stats.entries.items()):
        if not entry.num_requests:
            continue
        print(f'  {name:<42} {entry.num_requests:6d} '
            f'{entry.num_failures:5d} {percentile(entry, 0.5):7.0f} '
            f'{percentile(entry, 0.95):7.0f}')
    failures = list(stats.errors.values())
    for error in failures[:5]:
        print(f'  ! {error.name}: {error.occurrences} x {error.error}'[:300])


if __name__ == '__main__':
    sys.exit(main())
