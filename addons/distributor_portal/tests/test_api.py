# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The API: its OpenAPI 3.1 document, checked by schemathesis against the
WSGI application, and bad input of every kind (wrong password,
throttling, ended sessions, CSRF, malformed, oversized and invalid
bodies, replayed submissions, tokens, roles).

schemathesis runs the GET operations of the document (generated from
web.ROUTES, so later endpoints are included) with an API token of the
D1 administrator: a few derandomized examples each, checking that no
answer is a server error and that every answer matches the document."""
import datetime as dt
import json
import re

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .. import web
from ..openapi import _path, document
from .test_isolation import MISSING, example
from .tools import PASSWORD, PortalClient, PortalTestCase, build_portal_world

EXAMPLES = 5
ACCOUNTS = web.API + '/accounts'
CONVERTER = re.compile(r'<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>')


def _quantity_paths(schema, path=()):
    "The paths of the body's quantities and amounts (numbers, not below 0)"
    if not isinstance(schema, dict):
        return
    if schema.get('type') == 'number' and (
            schema.get('exclusiveMinimum', -1) >= 0
            or schema.get('minimum', -1) >= 0):
        yield path
    for name, sub in schema.get('properties', {}).items():
        yield from _quantity_paths(sub, path + (name,))
    if 'items' in schema:
        yield from _quantity_paths(schema['items'], path + (0,))


def _with_required(schema, path):
    "schema with the fields on path required (so that example fills them)"
    schema = dict(schema)
    if not path:
        return schema
    head, rest = path[0], path[1:]
    if head == 0:
        schema['items'] = _with_required(schema['items'], rest)
        schema['minItems'] = max(schema.get('minItems', 0), 1)
    else:
        schema['properties'] = dict(schema['properties'])
        schema['properties'][head] = _with_required(
            schema['properties'][head], rest)
        schema['required'] = list(dict.fromkeys(
                list(schema.get('required', [])) + [head]))
    return schema


class PortalAPITestCase(PortalTestCase):
    "The OpenAPI document and the API's answers to bad input"

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        Configuration = Pool().get('distributor.configuration')
        config = Configuration(1)
        # a short throttle: each failure sleeps 2 ** count - 1 s
        config.portal_max_failures = 2
        config.save()
        return world

    def _count(self, model, domain=None):
        return self.read(
            lambda: Pool().get(model).search_count(domain or []))

    def _accounts(self):
        "The number of web users, active or not"
        return self._count('web.user',
            [['OR', ('active', '=', True), ('active', '=', False)]])

    def _open(self, client, method, path, body=None, headers=None,
            raw=None):
        "A JSON call answering the werkzeug response (for its headers)"
        headers = dict(headers or {})
        if client.token:
            headers.setdefault('Authorization', f'Bearer {client.token}')
        elif client.csrf:
            headers.setdefault('X-CSRF-Token', client.csrf)
        return client.client.open(path, method=method,
            data=raw if raw is not None else json.dumps(body),
            headers=headers, content_type='application/json')

    def _token_client(self, email):
        client = self.client(email, api=True)
        status, body = client.api('POST', web.API + '/token')
        self.assertEqual(status, 200, body)
        self.assertTrue(body['token'].startswith('dmsp_'))
        bearer = PortalClient()
        bearer.token = body['token']
        return client, bearer

    def test_openapi_schemathesis(self):
        "The document is OpenAPI 3.1 and the GET endpoints keep to it"
        import schemathesis
        from hypothesis import HealthCheck, Phase, given, settings
        from schemathesis.checks import (
            not_a_server_error, response_schema_conformance)
        from trytond.wsgi import app

        status, doc = PortalClient().api('GET', web.API + '/openapi.json')
        self.assertEqual(status, 200)
        self.assertEqual(doc['openapi'], '3.1.0')
        # the endpoints of the modules activated here (a later module's
        # routes are imported too, and answer 404 here)
        modules = set(Pool(DB_NAME)._modules)
        self.assertEqual(json.loads(json.dumps(document(modules))), doc)
        self.assertTrue(all(r.module in modules for r in web.ROUTES
                if r.kind == 'api' and _path(r.path) in doc['paths']))
        schema = schemathesis.openapi.from_dict(doc)
        schema.validate()  # the OpenAPI 3.1 meta-schema
        schema.app = app
        _, bearer = self._token_client('d1@example.com')
        headers = {'Authorization': f'Bearer {bearer.token}'}
        statuses = {}
        failures = {}
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.method.upper() != 'GET':
                continue
            operations += 1
            seen = statuses.setdefault(operation.label, [])

            @settings(max_examples=EXAMPLES, derandomize=True,
                database=None, deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])
            @given(operation.as_strategy())
            def run(case):
                response = case.call(headers=headers)
                seen.append(response.status_code)
                case.validate_response(response, checks=[
                        not_a_server_error, response_schema_conformance])
            try:
                run()
            except Exception as error:  # every operation runs, then fail
                failures[operation.label] = str(error)[:1000]
        self.assertEqual(failures, {})
        self.assertGreaterEqual(operations, 2)
        for label, seen in statuses.items():
            self.assertTrue(seen, label)
            self.assertTrue(all(s < 500 for s in seen), (label, seen))
        self.assertIn(200, statuses['GET /portal/api/v1/me'])

    def test_wrong_password(self):
        "A wrong password answers 401 sign_in_failed, nothing signed in"
        client = PortalClient()
        status, body = client.api('POST', web.API + '/session',
            {'email': 's1-orders@example.com', 'password': 'wrong'},
            csrf=False)
        self.assertEqual(status, 401)
        self.assertEqual(body['code'], 'sign_in_failed')
        self.assertEqual(set(body), {'code', 'message', 'details'})
        status, body = client.api('GET', web.API + '/me')
        self.assertEqual((status, body['code']), (401, 'unauthorized'))
        # unknown e-mail: the same answer
        status, body = client.api('POST', web.API + '/session',
            {'email': 'nobody@example.com', 'password': 'wrong'},
            csrf=False)
        self.assertEqual((status, body['code']), (401, 'sign_in_failed'))

    def test_throttled(self):
        """After portal_max_failures failures the next try is refused as
        throttled, even with the right password"""
        client = PortalClient()
        email = 'd1-finance@example.com'
        for _ in range(2):
            status, body = client.api('POST', web.API + '/session',
                {'email': email, 'password': 'wrong'}, csrf=False)
            self.assertEqual((status, body['code']), (401, 'sign_in_failed'))
        status, body = client.api('POST', web.API + '/session',
            {'email': email, 'password': PASSWORD}, csrf=False)
        self.assertEqual(status, 429, body)
        self.assertEqual(body['code'], 'throttled')

    def test_expired_session(self):
        "A session past its lifetime: 401 for the API, sign-in for pages"
        client = self.client('d1-orders@example.com', api=True)
        status, _ = client.api('GET', web.API + '/me')
        self.assertEqual(status, 200)
        key = client.client.get_cookie(web.SESSION_COOKIE,
            path=web.PREFIX).value
        with Transaction().start(DB_NAME, 0) as transaction:
            Session = Pool().get('web.user.session')
            table = Session.__table__()
            old = dt.datetime.now() - dt.timedelta(hours=13)
            cursor = transaction.connection.cursor()
            cursor.execute(*table.update([table.create_date,
                        table.write_date], [old, old],
                    where=table.key == key))
            transaction.commit()
        status, body = client.api('GET', web.API + '/me')
        self.assertEqual((status, body['code']), (401, 'unauthorized'))
        response = client.get('/portal/account')
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers['Location'].startswith(
                '/portal/login'), response.headers['Location'])

    def test_csrf(self):
        "A session's writing call without its CSRF token: 403, no account"
        client = self.client('d1@example.com', api=True)
        before = self._accounts()
        status, body = client.api('POST', ACCOUNTS,
            {'email': 'csrf@example.com', 'role': 'view'}, csrf=False)
        self.assertEqual((status, body['code']), (403, 'csrf'))
        status, body = client.api('POST', ACCOUNTS,
            {'email': 'csrf@example.com', 'role': 'view'}, csrf=False,
            headers={'X-CSRF-Token': 'forged'})
        self.assertEqual((status, body['code']), (403, 'csrf'))
        self.assertEqual(self._accounts(), before)

    def test_bad_bodies(self):
        "Malformed, oversized and invalid bodies write nothing"
        client = self.client('d1@example.com', api=True)
        before = self._accounts()
        status, body = client.api('POST', ACCOUNTS, raw='{"email": ')
        self.assertEqual((status, body['code']), (400, 'bad_json'))
        status, body = client.api('POST', ACCOUNTS,
            raw=json.dumps({'email': 'big@example.com',
                    'password': 'x' * (web.MAX_BODY + 1)}))
        self.assertEqual((status, body['code']), (413, 'too_large'))
        status, body = client.api('POST', ACCOUNTS,
            {'email': 'unknown@example.com', 'bogus': 1})
        self.assertEqual((status, body['code']), (400, 'invalid_input'))
        self.assertIn('bogus', body['message'])
        status, body = client.api('POST', ACCOUNTS,
            {'email': 'role@example.com', 'role': 'emperor'})
        self.assertEqual((status, body['code']), (400, 'invalid_input'))
        status, body = client.api('POST', ACCOUNTS, [1, 2])
        self.assertEqual((status, body['code']), (400, 'invalid_input'))
        self.assertEqual(self._accounts(), before)

    def test_negative_quantity(self):
        "Every body with a quantity refuses a negative one (400)"
        client = self.client('d1@example.com', api=True)
        store = self.client('s1@example.com', api=True)
        tried = 0
        for route in web.ROUTES:
            if not route.available(Pool(DB_NAME)):
                continue
            if route.kind != 'api' or route.body is None:
                continue
            for path in _quantity_paths(route.body):
                body = example(_with_required(route.body, path))
                target = body
                for name in path[:-1]:
                    target = target[name]
                target[path[-1]] = -1
                url = CONVERTER.sub(str(MISSING), route.path)
                caller = client if 'distributor' in route.kinds else store
                with self.subTest(route=repr(route), path=path):
                    status, answer = caller.api(route.methods[0], url, body,
                        headers={'Idempotency-Key': web.new_token()}
                        if route.idempotent else None)
                    self.assertEqual(status, 400, answer)
                    self.assertEqual(answer['code'], 'invalid_input')
                tried += 1
        if not tried:
            self.skipTest("no endpoint takes a quantity yet")

    def test_idempotent_replay(self):
        "The same Idempotency-Key twice: one account, the answer replayed"
        client = self.client('d1@example.com', api=True)
        headers = {'Idempotency-Key': 'replay-key-0001'}
        body = {'email': 'replay@example.com', 'role': 'view'}
        first = self._open(client, 'POST', ACCOUNTS, body, headers)
        self.assertEqual(first.status_code, 201, first.get_data())
        self.assertNotIn('Idempotent-Replayed', first.headers)
        second = self._open(client, 'POST', ACCOUNTS, body, headers)
        self.assertEqual(second.status_code, 201)
        self.assertEqual(second.headers.get('Idempotent-Replayed'), 'true')
        self.assertEqual(second.get_json(), first.get_json())
        self.assertEqual(self._count('web.user',
                [('email', '=', 'replay@example.com')]), 1)
        # a too short key is refused before anything runs
        short = self._open(client, 'POST', ACCOUNTS,
            {'email': 'short@example.com'}, {'Idempotency-Key': 'abc'})
        self.assertEqual(short.status_code, 400)
        self.assertEqual(self._count('web.user',
                [('email', '=', 'short@example.com')]), 0)

    def test_view_role_refused(self):
        "A view-only account may read but not write (403, nothing written)"
        client = self.client('d1-view@example.com', api=True)
        status, body = client.api('GET', web.API + '/me')
        self.assertEqual((status, body['role']), (200, 'view'))
        before = self._accounts()
        status, body = client.api('POST', ACCOUNTS,
            {'email': 'view@example.com', 'role': 'view'})
        self.assertEqual((status, body['code']), (403, 'forbidden'))
        status, body = client.api('GET', ACCOUNTS)
        self.assertEqual((status, body['code']), (403, 'forbidden'))
        self.assertEqual(self._accounts(), before)

    def test_token_and_sign_out_everywhere(self):
        """An API token authenticates without CSRF; signing out everywhere
        revokes it and ends the other sessions"""
        email = 'd1-stock@example.com'
        client, bearer = self._token_client(email)
        other = self.client(email)
        self.assertEqual(other.get('/portal/account').status_code, 200)
        status, body = bearer.api('GET', web.API + '/me')
        self.assertEqual((status, body['email']), (200, email))
        status, body = bearer.api('GET', web.API + '/me',
            headers={'Authorization': 'Bearer dmsp_forged'})
        self.assertEqual(status, 401)
        sessions = self._count('web.user.session',
            [('user', '=', self.world.accounts[email])])
        self.assertEqual(sessions, 2)
        status, body = client.api('POST', web.API + '/session/everywhere')
        self.assertEqual(status, 200, body)
        self.assertEqual(self._count('web.user.session',
                [('user', '=', self.world.accounts[email])]), 0)
        status, body = bearer.api('GET', web.API + '/me')
        self.assertEqual((status, body['code']), (401, 'unauthorized'))
        status, _ = client.api('GET', web.API + '/me')
        self.assertEqual(status, 401)
        response = other.get('/portal/account')
        self.assertEqual(response.status_code, 303)
