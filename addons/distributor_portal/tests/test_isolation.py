# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Isolation, generated from the route registry (web.ROUTES): every route
whose path carries record ids is called with another party's id and with
a missing id; both must answer 404 with the same body and write nothing.

A route added later is covered without a change here: a route whose
model has no record of another party in the world fails the test, unless
its model is exempted below (with the reason)."""
import datetime as dt
import re

from trytond.model import ModelSQL, fields
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .. import web
from ..ir import portal_reach
from .tools import PortalTestCase, build_portal_world

MISSING = 2 ** 31 - 1
CONVERTER = re.compile(r'<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>')
MESSAGE = re.compile(r'<p class="message">(.*?)</p>', re.S)
# models a route may carry without a record of another party in the world;
# each with why (none so far: keep it that way)
EXEMPT = {
    }
# the fields a page's form may need beside the path's ids (a page declares
# no body schema): sent to every writing page, ignored by the others
FORM = {'reason': 'Isolation test'}
# tables a refused request may touch: the session's idle time is restarted
# by a short transaction of its own (web.touch)
UNFINGERPRINTED = {'web_user_session'}


def example(schema):
    "A minimal value valid against a JSON schema (required fields only)"
    if 'const' in schema:
        return schema['const']
    if 'enum' in schema:
        return schema['enum'][0]
    for key in ('oneOf', 'anyOf', 'allOf'):
        if schema.get(key):
            return example(schema[key][0])
    type_ = schema.get('type', 'object')
    if isinstance(type_, list):
        type_ = [t for t in type_ if t != 'null'][0] if type_ != ['null'] \
            else 'null'
    if type_ == 'object':
        properties = schema.get('properties', {})
        return {name: example(properties.get(name, {}))
            for name in schema.get('required', [])}
    if type_ == 'array':
        return [example(schema.get('items', {}))
            for _ in range(schema.get('minItems', 0))]
    if type_ in {'integer', 'number'}:
        value = max(schema.get('minimum', 1), 1)
        if 'exclusiveMinimum' in schema:
            value = max(value, schema['exclusiveMinimum'] + 1)
        return int(value)
    if type_ == 'string':
        format_ = schema.get('format')
        if format_ == 'date':
            return dt.date.today().isoformat()
        if format_ == 'date-time':
            return dt.datetime.now().replace(microsecond=0).isoformat()
        if format_ == 'email':
            return 'isolation@example.com'
        return 'x' * max(schema.get('minLength', 1), 1)
    if type_ == 'boolean':
        return False
    return None


def _party_paths(Model):
    """The stored fields of Model that name a party, directly or through
    one stored many2one (sale.line: sale.party)"""
    pool = Pool()
    direct, nested = [], []
    for name, field in Model._fields.items():
        if isinstance(field, fields.Function) or field._type != 'many2one':
            continue
        if field.model_name == 'party.party':
            direct.append(name)
        elif name not in {'create_uid', 'write_uid', 'company'}:
            try:
                Target = pool.get(field.model_name)
            except KeyError:
                continue
            for sub, subfield in Target._fields.items():
                if (not isinstance(subfield, fields.Function)
                        and subfield._type == 'many2one'
                        and subfield.model_name == 'party.party'):
                    nested.append(f'{name}.{sub}')
    return direct + nested


def _owners(record, paths):
    "The ids of the parties record is tied to through paths"
    owners = set()
    if record.__name__ == 'party.party':
        owners.add(record.id)
    for path in paths:
        value = record
        for name in path.split('.'):
            value = getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            owners.add(value.id)
    return owners


def find_records(model, inside, outside, recorded=()):
    """Ids (as root) of records of model tied to a party of inside and to
    none of outside: at most one per party path, then the recorded ids of
    the world whose model matches (and whose parties are not outside)"""
    Model = Pool().get(model)
    if model == 'party.party':
        return [i for i in inside if i not in outside][:3]
    paths = _party_paths(Model)
    found = []
    for path in paths:
        records = Model.search([(path, 'in', list(inside))],
            order=[('id', 'ASC')], limit=20)
        for record in records:
            if not (_owners(record, paths) & outside) \
                    and record.id not in found:
                found.append(record.id)
                break
    for id_ in recorded:
        records = Model.search([('id', '=', id_)])
        if records and not (_owners(records[0], paths) & outside) \
                and id_ not in found:
            found.append(id_)
    return found[:3]


def fingerprint_tables():
    "The tables of the models (as root)"
    TableHandler = backend.TableHandler
    tables = set()
    for _, Model in Pool().iterobject():
        if not issubclass(Model, ModelSQL):
            continue
        table = getattr(Model, '_table', None)
        if table and table not in UNFINGERPRINTED \
                and TableHandler.table_exist(table):
            tables.add(table)
    return sorted(tables)


class PortalIsolationTestCase(PortalTestCase):
    "Every route with ids refuses another party's id like a missing one"

    @classmethod
    def build_world(cls):
        # world.models: each side's records by model
        return build_portal_world()

    def _reach(self, email):
        WebUser = Pool().get('web.user')
        user = WebUser(self.world.accounts[email])
        return set(portal_reach(user.dms_user.id))

    def _fingerprint(self):
        def read():
            cursor = Transaction().connection.cursor()
            result = {}
            for table in self.tables:
                cursor.execute(
                    f'SELECT COUNT(*), MAX(write_date), MAX(create_date) '
                    f'FROM "{table}"')
                result[table] = tuple(str(v) for v in cursor.fetchone())
            return result
        return self.read(read)

    def _call(self, client, route, args):
        "The (status, comparable body) of the route's first method"
        method = route.methods[0]
        path = CONVERTER.sub(lambda m: str(args[m.group(2)]), route.path)
        if route.kind == 'api':
            headers = {}
            if route.idempotent and method == 'POST':
                headers['Idempotency-Key'] = web.new_token()
            body = example(route.body) if route.body is not None else None
            if method in {'GET', 'HEAD'}:
                body = None
            return client.api(method, path, body, headers=headers)
        if method in {'GET', 'HEAD'}:
            response = client.get(path)
        else:
            form = dict(FORM)
            if route.body is not None:
                for name, value in example(route.body).items():
                    form[name] = [str(v) for v in value] \
                        if isinstance(value, list) else str(value)
            if route.idempotent:
                form['idempotency_key'] = web.new_token()
            response = client.post(path, form)
        text = response.get_data(as_text=True)
        match = MESSAGE.search(text)
        return response.status_code, match.group(1).strip() if match else text

    def _check(self, client, email, route, ids):
        "route called with ids and with missing ids: one 404 answer"
        before = self._fingerprint()
        status, body = self._call(client, route, ids)
        missing_status, missing_body = self._call(
            client, route, {n: MISSING for n in route.ids})
        after = self._fingerprint()
        where = f'{route!r} as {email} with {ids}'
        self.assertEqual(status, 404, f'{where}: {body}')
        self.assertEqual(missing_status, 404, f'{where}: {missing_body}')
        self.assertEqual(body, missing_body, where)
        changed = {t: (before[t], after[t]) for t in before
            if before[t] != after[t]}
        self.assertEqual(changed, {}, f'{where} wrote')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with Transaction().start(DB_NAME, 0, readonly=True):
            cls.tables = fingerprint_tables()

    def test_declarations(self):
        "Writing routes declare roles; every <int:x> is a declared id"
        self.assertTrue(web.ROUTES)
        problems = []
        for route in web.ROUTES:
            writes = [m for m in route.methods if m not in {'GET', 'HEAD'}]
            # a route every role may call says so (web.EVERY_ROLE)
            if writes and route.roles is None:
                problems.append(f'{route!r} writes without roles')
            for converter, name in CONVERTER.findall(route.path):
                if converter == 'int' and name not in route.ids:
                    problems.append(f'{route!r}: <int:{name}> not in ids')
            for name in route.ids:
                if f':{name}>' not in route.path:
                    problems.append(f'{route!r}: id {name} not in the path')
        self.assertEqual(problems, [])

    def test_foreign_ids(self):
        "Another party's id answers like a missing one and writes nothing"
        w = self.world
        routes = [r for r in web.ROUTES
            if r.ids and r.auth and r.available(Pool(DB_NAME))]
        self.assertTrue(routes)

        def targets():
            own = self._reach('d1@example.com')
            store_reach = self._reach('s1@example.com')
            foreign = (self._reach('d2@example.com') - own) | {w.d4, w.s3}
            foreign_sorted = ([w.foreign.store, w.foreign.downstream,
                    w.d2] + sorted(foreign))
            foreign_sorted = list(dict.fromkeys(foreign_sorted))
            recorded = w.models['foreign']
            result = {}
            for model in {m for r in routes for m in r.ids.values()}:
                result[model] = {
                    'foreign': find_records(model, foreign_sorted, own,
                        recorded.get(model, ())),
                    # a store on its distributor's downstream (D3), then on
                    # its distributor's own records
                    'upstream': (find_records(model, [w.d3], store_reach)
                        or find_records(model,
                            sorted(own - store_reach), store_reach)),
                    }
            return result
        found = self.read(targets)
        clients = {}

        def client(email):
            if email not in clients:
                clients[email] = self.client(email)
            return clients[email]
        calls = 0
        for route in routes:
            for model in route.ids.values():
                if not found[model]['foreign'] and model not in EXEMPT:
                    self.fail(f'{route!r}: no record of {model} of another '
                        'party in the world (add one or exempt the model)')
            foreign = [found[m]['foreign'] for m in route.ids.values()]
            upstream = [found[m]['upstream'] for m in route.ids.values()]
            with self.subTest(route=repr(route)):
                for index in range(max(len(f) for f in foreign)):
                    ids = dict(zip(route.ids,
                            [f[min(index, len(f) - 1)] for f in foreign]))
                    if 'distributor' in route.kinds:
                        self._check(client('d1@example.com'),
                            'd1@example.com', route, ids)
                        calls += 1
                    if 'store' in route.kinds:
                        self._check(client('s1@example.com'),
                            's1@example.com', route, ids)
                        calls += 1
                if 'store' in route.kinds and all(upstream):
                    self._check(client('s1@example.com'), 's1@example.com',
                        route, dict(zip(route.ids,
                                [u[0] for u in upstream])))
                    calls += 1
        self.assertGreaterEqual(calls, len(routes))
