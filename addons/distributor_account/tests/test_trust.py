# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary of distributor_account, walked: every entry point and
wizard of the module called as every role (staff and portal), for the
rep's own party (D1, Jiangsu, with its store S1) and a foreign one (D2,
with S3); raw writes on its documents; what a sales rep reads of its
models; store statements seen by their distributor and their store only.

The expected tables below are written from what the product intends (the
issue and the docstrings), apart from the XML they check; a declaration
that differs is listed in DECLARED_OTHERWISE with the reason it looks
wrong, so that the walk passes on what is declared today and tells when
the declaration is fixed."""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.model import ModelSQL
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.exceptions import RecordNotFound
from distributor.tests.tools import with_transaction
from distributor.tests.trust import (
    as_user, undone, wizard_actions)
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_portal.tests.trust import TrustWalk, write_figures

from ..exceptions import StatementError, StatementValidationError
from .test_statement import invoice

PACKAGE = 'distributor_account'
D = Decimal

# the roles: staff users of distributor_store's trust world, and portal
# identities (web.user dms_user) with the side of their party
STAFF = ['admin', 'manager', 'rep', 'accountant', 'plain']
PORTAL = {
    'd1': ('d1@example.com', 'own'),
    'd1_view': ('d1-view@example.com', 'own'),
    'd2': ('d2@example.com', 'foreign'),
    }
ROLES = STAFF + list(PORTAL)
ADMIN = frozenset({'admin'})
A = ADMIN | {'manager'}
# the brand's accounting: the DMS administrator and the accountant
AC = ADMIN | {'accountant'}
ALL = A | {'rep', 'accountant'}
# every portal account of a distributor; those of a role that acts
# (admin, finance: not view-only)
P = frozenset(PORTAL)
PW = frozenset({'d1', 'd2'})
# the refusals: a right (group), a reach (rule), or the same answer as a
# missing record
REFUSED = (AccessError, AccessButtonError)

# the periods of the side's statements: a month each of this year (the
# world's own movements are today's, the invoices made for them in
# February and March)
BRAND_STATES = ['draft', 'sent', 'disputed', 'resolved', 'confirmed',
    'cancelled']
STORE_STATES = ['draft', 'sent', 'disputed', 'confirmed']


def _month(year, month):
    start = dt.date(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
        days=1)
    return start, end


# (model, entry point): (roles allowed, call(Model, side, world)).  A
# rep reaches its own side only, a portal account its party's side.
ENTRY_POINTS = {
    # the statements of the brand: the accountant's buttons
    ('distributor.account.statement', 'regenerate'): (AC,
        lambda M, s, n: M.regenerate([s.b_sent])),
    ('distributor.account.statement', 'send'): (AC,
        lambda M, s, n: M.send([s.b_draft])),
    ('distributor.account.statement', 'resolve'): (AC,
        lambda M, s, n: M.resolve([s.b_disputed])),
    ('distributor.account.statement', 'cancel'): (AC,
        lambda M, s, n: M.cancel([s.b_sent])),
    ('distributor.account.statement', 'draft'): (AC,
        lambda M, s, n: M.draft([s.b_cancelled])),
    # the portal: the party's statements (a view-only account reads)
    ('distributor.account.statement', 'dms_list_statements'): (P,
        lambda M, s, n: M.dms_list_statements(s.party.id)),
    ('distributor.account.statement', 'dms_statement_detail'): (P,
        lambda M, s, n: M.dms_statement_detail(s.party.id, s.b_sent.id)),
    ('distributor.account.statement', 'dms_confirm_statement'): (PW,
        lambda M, s, n: M.dms_confirm_statement(
            s.party.id, s.b_sent.id, comment="Agreed")),
    ('distributor.account.statement', 'dms_dispute_statement'): (PW,
        lambda M, s, n: M.dms_dispute_statement(
            s.party.id, s.b_sent.id, comment="We paid more")),
    ('distributor.account.statement', 'dms_comment_statement'): (PW,
        lambda M, s, n: M.dms_comment_statement(
            s.party.id, s.b_disputed.id, "See the bank slip")),
    # the distributor's side of its store statements
    ('distributor.account.statement', 'dms_generate_store_statements'): (
        PW, lambda M, s, n: M.dms_generate_store_statements(s.party.id,
            s.st_draft.start_date.isoformat(),
            s.st_draft.end_date.isoformat(), stores=[s.store.id])),
    ('distributor.account.statement', 'dms_send_statement'): (PW,
        lambda M, s, n: M.dms_send_statement(s.party.id, s.st_draft.id)),
    ('distributor.account.statement', 'dms_resolve_statement'): (PW,
        lambda M, s, n: M.dms_resolve_statement(
            s.party.id, s.st_disputed.id, "Delivered on the 3rd")),
    # receivables
    ('distributor.account.aging', 'dms_receivables'): (ALL | PW,
        lambda M, s, n: M.dms_receivables(s.party.id)),
    ('distributor.account.aging', 'dms_instalments'): (ALL | PW,
        lambda M, s, n: M.dms_instalments(s.party.id)),
    ('sale.sale', 'dms_override_overdue'): (A,
        lambda M, s, n: M.dms_override_overdue([s.sale_submitted])),
    # bank statements (Tryton's buttons, checked references added)
    ('account.statement', 'validate_statement'): (AC,
        lambda M, s, n: M.validate_statement([n.bank_draft])),
    ('account.statement', 'post'): (AC,
        lambda M, s, n: M.post([n.bank_validated])),
    }

# the declarations that differ from ENTRY_POINTS: (roles declared, why
# the expected table differs); the walk checks what is declared, and
# fails once the declaration is fixed (then remove the entry)
DECLARED_OTHERWISE = {}

# wizard: (roles allowed, model, records of the side, [(state, data)])
WIZARDS = {
    'distributor.account.statement.generate': (AC, None,
        lambda s: [],
        [('run', {'start': {'start_date': dt.date(2001, 1, 1),
                        'end_date': dt.date(2001, 1, 31),
                        'territory': None, 'tier': None,
                        'distributors': []}})]),
    'distributor.account.statement.resolve': (AC,
        'distributor.account.statement', lambda s: [s.b_disputed],
        [('resolve', {'start': {'answer': "The payment came later",
                        'credit_amount': None, 'credit_account': None,
                        'credit_description': None}})]),
    'distributor.account.override_overdue': (A, 'sale.sale',
        lambda s: [s.sale_submitted],
        [('apply', {'start': {'reason': "Paid by transfer today"}})]),
    'distributor.account.reminder.send': (AC, None, lambda s: [], []),
    }

# the records of the base world each side uses, by model
BASE = {
    'party': 'party.party',
    'store': 'party.party',
    'downstream': 'party.party',
    'sale_submitted': 'sale.sale',
    }

# the figures the test run prints (scripts/run_tests.py)
FIGURES = {}


def tearDownModule():
    write_figures(FIGURES)




def _build_side(base, year):
    """The statements of a side (as root): brand statements of its party
    in every state, store statements of its store in every state, each
    over its own month; an overdue invoice so that aging, reminders and
    statement lines hold something"""
    pool = Pool()
    Statement = pool.get('distributor.account.statement')
    Party = pool.get('party.party')
    party, store = Party(base.party), Party(base.store)
    ids = {}
    invoice(party.id, 500, dt.date(year, 2, 10))
    invoice(party.id, 120, dt.date(year, 3, 5))
    for month, state in enumerate(BRAND_STATES, 1):
        statements, _ = Statement.generate('distributor', [party],
            *_month(year, month))
        statement, = statements
        if state != 'draft' and state != 'cancelled':
            Statement.send([statement])
        if state in {'disputed', 'resolved'}:
            Statement.dms_dispute_statement(party, statement,
                comment="Not ours")
        if state == 'resolved':
            Statement.resolved([statement], "It is: see the delivery note")
        if state == 'confirmed':
            Statement.dms_confirm_statement(party, statement)
        if state == 'cancelled':
            Statement.cancel([statement])
        ids[f'b_{state}'] = ('distributor.account.statement', statement.id)
    for month, state in enumerate(STORE_STATES, 7):
        statements, _ = Statement.generate('store', [store],
            *_month(year, month), issuer=party)
        statement, = statements
        if state != 'draft':
            Statement.send([statement])
        if state == 'disputed':
            Statement.dms_dispute_statement(store, statement,
                comment="One crate short")
        if state == 'confirmed':
            Statement.dms_confirm_statement(store, statement)
        ids[f'st_{state}'] = ('distributor.account.statement', statement.id)
    for key, id_ in ids.items():
        state = key.split('_', 1)[1]
        assert Statement(id_[1]).state == state, (key, Statement(id_[1]).state)
    return ids


def _build_bank(company):
    "A bank statement journal, a draft and a validated bank statement"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    BankStatement = pool.get('account.statement')
    Company = pool.get('company.company')
    bank, = Account.search([
            ('type.statement', '=', 'balance'),
            ('type.assets', '=', True),
            ('type.receivable', '=', False),
            ('type.payable', '=', False),
            ('type.deposit', '=', False),
            ('closed', '!=', True),
            ('company', '=', company),
            ], order=[('code', 'ASC')], limit=1)
    journal, = Journal.create([{'name': "Bank", 'code': 'BANK',
                'type': 'statement'}])
    statement_journal, = StatementJournal.create([{
                'name': "Bank", 'journal': journal.id, 'account': bank.id,
                'validation': 'amount', 'company': company,
                'currency': Company(company).currency.id}])
    today = pool.get('ir.date').today()
    draft, validated = BankStatement.create([{
                'name': f"Bank statement {i}", 'journal': statement_journal.id,
                'date': today, 'total_amount': D(0),
                } for i in range(2)])
    BankStatement.validate_statement([validated])
    return {'bank_draft': ('account.statement', draft.id),
        'bank_validated': ('account.statement', validated.id)}


class AccountTrustTestCase(TrustWalk, PortalTestCase):
    "The trust boundary of distributor_account, walked"
    modules = [PACKAGE]
    PACKAGE = PACKAGE
    PORTAL = PORTAL
    ENTRY_POINTS = ENTRY_POINTS
    DECLARED_OTHERWISE = DECLARED_OTHERWISE
    WIZARDS = WIZARDS
    FIGURES = FIGURES
    REFUSED = REFUSED

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Run = pool.get('distributor.account.statement.run')
        Reminder = pool.get('distributor.account.reminder')
        with Transaction().set_context(company=world.company):
            year = pool.get('ir.date').today().year
            world.year = year
            world.mine = {}
            for key in ['own', 'foreign']:
                world.mine[key] = _build_side(getattr(world, key), year)
            world.common = _build_bank(world.company)
            # a run of statements, and the reminders of the overdue
            # invoices
            run, = Run.enqueue(*_month(year, 12))
            Run.process([run])
            world.common['run'] = ('distributor.account.statement.run',
                run.id)
            Transaction().tasks.clear()
            counts = Reminder.send_reminders()
            assert sum(counts.values()) >= 2, counts
        return world

    # helpers ------------------------------------------------------------

    def _side(self, key):
        "The records of a side (instantiated as root)"
        pool = Pool()
        base = getattr(self.world, key)
        side = SimpleNamespace(key=key)
        for name, model in BASE.items():
            setattr(side, name, pool.get(model)(getattr(base, name)))
        for name, (model, id_) in self.world.mine[key].items():
            setattr(side, name, pool.get(model)(id_))
        return side

    def _identity(self, email):
        WebUser = Pool().get('web.user')
        return WebUser(self.world.accounts[email]).dms_user

    def _world(self):
        pool = Pool()
        n = SimpleNamespace(sides={k: self._side(k)
                for k in ['own', 'foreign']}, users=self._users())
        for name, (model, id_) in self.world.common.items():
            setattr(n, name, pool.get(model)(id_))
        return n

    # the tests ----------------------------------------------------------

    @with_transaction()
    def test_wizards_by_role(self):
        "Each wizard run as every role, on its own and a foreign record"
        pool = Pool()
        calls = 0
        with self._company():
            n = self._world()
            for name, (allowed, model, records, steps) in sorted(
                    WIZARDS.items()):
                for role in ROLES:
                    for side in ['own', 'foreign']:
                        expected = self._expected(role, side, allowed)
                        with self.subTest(wizard=name, role=role,
                                side=side):
                            s = n.sides[side]
                            self._check_call(expected, n.users[role],
                                lambda: self._run_wizard(pool, name, model,
                                    records(s), steps))
                        self._raise_restart()
                        calls += 1
        FIGURES['wizard_calls'] = calls

    def _run_wizard(self, pool, name, model, records, steps):
        "Run the wizard as its client does: create, start, the button"
        Wizard = pool.get(name, type='wizard')
        actions = wizard_actions(name)
        ids = [r.id for r in records]
        context = {'action_id': actions[0].id if actions else None,
            'active_model': model, 'active_ids': ids,
            'active_id': ids[0] if ids else None}
        transaction = Transaction()
        with transaction.set_context(**context):
            # as the client calls it: create checks the access, execute
            # runs the states without (the wizard checks its own)
            session_id, start, _ = Wizard.create()
        with transaction.set_context(_check_access=False, **context):
            Wizard.execute(session_id, {}, start)
            for state, values in steps:
                Wizard.execute(session_id, values, state)
            Wizard.delete(session_id)

    @with_transaction()
    def test_documents_refuse_raw_writes(self):
        """A statement refuses raw writes past draft (and of its figures
        and state even in draft), on every path, even to the accountant
        and the DMS administrator who may write it; its conversation, its
        log, the runs and the reminders are written by the workflow only"""
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        refusals = 0
        with self._company():
            n = self._world()
            s = n.sides['own']
            for role in ['accountant', 'admin']:
                user = n.users[role]
                attempts = []
                for key in ['b_sent', 'b_disputed', 'b_resolved',
                        'b_confirmed', 'st_sent', 'st_confirmed']:
                    record = getattr(s, key)
                    attempts += [
                        (f'{key} write', lambda r=record: Statement.write(
                                [r], {'end_date': r.end_date
                                    + dt.timedelta(days=1)})),
                        (f'{key} write figures',
                            lambda r=record: Statement.write(
                                [r], {'closing_balance': D(1)})),
                        (f'{key} write state',
                            lambda r=record: Statement.write(
                                [r], {'state': 'draft'})),
                        (f'{key} delete',
                            lambda r=record: Statement.delete([r])),
                        (f'{key} copy', lambda r=record: Statement.copy(
                                [r])),
                        ]
                attempts += [
                    ('draft write state', lambda: Statement.write(
                            [s.b_draft], {'state': 'confirmed'})),
                    ('draft write figures', lambda: Statement.write(
                            [s.b_draft], {'closing_balance': D(1),
                                    'confirmed_at': dt.datetime.now()})),
                    ('draft create confirmed', lambda: Statement.create([{
                                    'party': s.party.id,
                                    'start_date': dt.date(2001, 1, 1),
                                    'end_date': dt.date(2001, 1, 31),
                                    'state': 'confirmed'}])),
                    ('draft create with figures', lambda: Statement.create(
                            [{'party': s.party.id,
                                    'start_date': dt.date(2001, 1, 1),
                                    'end_date': dt.date(2001, 1, 31),
                                    'closing_balance': D(-1000)}])),
                    ]
                for what, attempt in attempts:
                    with self.subTest(role=role, attempt=what):
                        with undone(), as_user(user):
                            with self.assertRaises(
                                    REFUSED + GUARD_ERRORS):
                                attempt()
                        refusals += 1
                # the draft itself is the accountant's to delete
                with self.subTest(role=role, attempt='draft delete'):
                    with undone(), as_user(user):
                        Statement.delete([s.b_draft])
                for model, (domain, values) in sorted(
                        WORKFLOW_ONLY.items()):
                    Model = pool.get(model)
                    records = Model.search(domain(s, n))
                    self.assertTrue(records, f"{model}: no record to test")
                    attempts = [
                        ('create', lambda: Model.create([values(s, n)])),
                        ('write', lambda: Model.write(records,
                                {k: v for k, v in values(s, n).items()
                                    if k in WRITABLE})),
                        ('delete', lambda: Model.delete(records)),
                        ('copy', lambda: Model.copy(records)),
                        ]
                    for what, attempt in attempts:
                        with self.subTest(role=role, model=model,
                                attempt=what):
                            with undone(), as_user(user):
                                with self.assertRaises(
                                        REFUSED + GUARD_ERRORS):
                                    attempt()
                            refusals += 1
        FIGURES['raw_write_refusals'] = refusals

    @with_transaction()
    def test_store_statements(self):
        """A store statement is its distributor's and its store's: the
        brand's staff do not see it, the store confirms its own, the
        distributor may not confirm for it, other parties do not find it"""
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        users = self._users()
        with self._company():
            n = self._world()
            own, foreign = n.sides['own'], n.sides['foreign']
            store_ids = {getattr(s, f'st_{k}').id
                for s in [own, foreign] for k in STORE_STATES}
            for role in STAFF:
                with self.subTest(role=role):
                    with as_user(users[role]):
                        try:
                            seen = {s.id for s in Statement.search([])}
                        except AccessError:
                            self.assertEqual(role, 'plain')
                            continue
                        self.assertEqual(seen & store_ids, set())
                        with self.assertRaises(AccessError):
                            Statement.read([own.st_sent.id], ['number'])
            s1 = self._identity('s1@example.com')
            s3 = self._identity('s3@example.com')
            d1 = self._identity('d1@example.com')
            d3 = self._identity('d3@example.com')
            d2 = self._identity('d2@example.com')
            store, party = own.store.id, own.party.id

            def refused(user, call, error=RecordNotFound):
                with undone() as counter, as_user(user):
                    with self.assertRaises(error):
                        call()
                self.assertEqual(Transaction().counter, counter + 1)
            # the store: its own statements, not the drafts
            with as_user(s1):
                listed = {v['id'] for v in Statement.dms_list_statements(
                        store)}
            self.assertEqual(listed, {own.st_sent.id, own.st_disputed.id,
                    own.st_confirmed.id})
            with undone(), as_user(s1):
                values = Statement.dms_confirm_statement(
                    store, own.st_sent.id)
                self.assertEqual(values['state'], 'confirmed')
            with undone(), as_user(s1):
                Statement.dms_dispute_statement(store, own.st_sent.id,
                    comment="Short")
            # its draft is not found, nor another store's statement, nor
            # the distributor's side
            refused(s1, lambda: Statement.dms_statement_detail(
                    store, own.st_draft.id))
            refused(s1, lambda: Statement.dms_confirm_statement(
                    store, foreign.st_sent.id))
            refused(s1, lambda: Statement.dms_confirm_statement(
                    foreign.store.id, foreign.st_sent.id))
            refused(s1, lambda: Statement.dms_send_statement(
                    store, own.st_draft.id))
            refused(s1, lambda: Statement.dms_generate_store_statements(
                    store, '2001-01-01', '2001-01-31'))
            refused(s1, lambda: Statement.dms_statement_detail(
                    store, own.b_sent.id))
            refused(s3, lambda: Statement.dms_statement_detail(
                    foreign.store.id, own.st_sent.id))
            # the distributor sees them all (drafts included) but may not
            # confirm or dispute for its store
            with as_user(d1):
                listed = {v['id'] for v in Statement.dms_list_statements(
                        party, kind='store')}
            self.assertEqual(listed, {getattr(own, f'st_{k}').id
                    for k in STORE_STATES})
            refused(d1, lambda: Statement.dms_confirm_statement(
                    store, own.st_sent.id), StatementError)
            refused(d1, lambda: Statement.dms_dispute_statement(
                    store, own.st_sent.id, comment="x"), StatementError)
            refused(d1, lambda: Statement.dms_confirm_statement(
                    party, own.st_sent.id))
            refused(d1, lambda: Statement.dms_send_statement(
                    party, foreign.st_draft.id))
            refused(d1, lambda: Statement.dms_resolve_statement(
                    party, foreign.st_disputed.id, "No"))
            # its downstream distributor and the foreign one see nothing
            refused(d3, lambda: Statement.dms_statement_detail(
                    own.downstream.id, own.st_sent.id))
            refused(d3, lambda: Statement.dms_statement_detail(
                    party, own.st_sent.id))
            refused(d2, lambda: Statement.dms_send_statement(
                    foreign.party.id, own.st_draft.id))
            with as_user(d3):
                self.assertEqual(Statement.dms_list_statements(
                        own.downstream.id), [])
                self.assertEqual(Statement.search(
                        [('id', 'in', sorted(store_ids))]), [])
            with as_user(d2):
                seen = {s.id for s in Statement.search([])}
            self.assertEqual(seen & store_ids, {getattr(foreign,
                        f'st_{k}').id for k in STORE_STATES})
            # a sent statement is no draft of the distributor's any more
            with undone(), as_user(d1):
                with self.assertRaises(StatementError):
                    Statement.dms_send_statement(party, own.st_sent.id)

    @with_transaction()
    def test_every_model_is_classified(self):
        "A new model of the module says whose data it holds"
        pool = Pool()
        models = set()
        for name, Model in pool.iterobject():
            if not issubclass(Model, ModelSQL):
                continue
            origin = [k for k in Model.__mro__
                if k.__dict__.get('__name__') == name]
            if origin and origin[-1].__module__.split('.')[0] == PACKAGE:
                models.add(name)
        self.assertEqual(models - set(REACH), set())
        self.assertEqual(set(REACH) - models, set())

    @with_transaction()
    def test_reps_read_their_parties_data_only(self):
        """Each new model read as each rep holds exactly the records of
        the parties of its territories (and the public ones)"""
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        from trytond.modules.company.tests import create_employee
        from distributor.tests.tools import make_user
        compared = 0
        with self._company():
            n = self._world()
            js, = Territory.search([('code', '=', 'EC-JS')])
            zj, = Territory.search([('code', '=', 'EC-ZJ')])
            employee = create_employee(
                pool.get('company.company')(self.world.company),
                "Rep Zhejiang")
            Territory.write([zj], {'reps': [('add', [employee.id])]})
            reps = {
                'js': (n.users['rep'], set(Territory.area([js]))),
                'zj': (make_user('rep_zj', ['distributor.group_sales_rep'],
                        employee), set(Territory.area([zj]))),
                }
            parties = Party.search([])

            def reachable(party, area):
                if party.is_distributor:
                    return bool({t.id for t in party.territories} & area)
                if party.is_store:
                    return party.store_territory.id in area
                return True
            for key, (user, area) in reps.items():
                mine = {p.id for p in parties if reachable(p, area)}
                for model, (paths, condition) in sorted(REACH.items()):
                    Model = pool.get(model)
                    records = Model.search([], order=[])
                    expected = set()
                    for record in records:
                        if condition and not condition(record):
                            continue
                        if paths is None:
                            expected.add(record.id)
                            continue
                        owners = [_follow(record, p) for p in paths]
                        owners = {getattr(o, 'id', o) for o in owners
                            if o is not None}
                        if model in BY_TERRITORY:
                            if owners & area:
                                expected.add(record.id)
                        elif owners & mine or not owners:
                            expected.add(record.id)
                    with self.subTest(rep=key, model=model):
                        with as_user(user):
                            try:
                                seen = {r.id for r in Model.search(
                                        [], order=[])}
                            except AccessError:
                                # no access to the model at all
                                self.assertIn(model, NO_REP_ACCESS)
                                continue
                        self.assertNotIn(model, NO_REP_ACCESS)
                        self.assertTrue(expected,
                            f"{model}: nothing of {key} to compare")
                        describe = {r.id: (r.rec_name, [
                                    getattr(_follow(r, p), 'rec_name', None)
                                    for p in paths or []])
                            for r in records}
                        self.assertEqual(
                            [describe[i] for i in sorted(seen - expected)],
                            [], "reads data out of its reach")
                        self.assertEqual(
                            [describe[i] for i in sorted(expected - seen)],
                            [], "misses data of its territories")
                        compared += len(records)
                # the aggregates: the rep's totals are those of its
                # distributors, never the others'
                with self.subTest(rep=key, model='aging totals'):
                    Aging = pool.get('distributor.account.aging')
                    Tier = pool.get('distributor.account.aging.tier')
                    with as_user(user):
                        by_party = sum((a.total for a in Aging.search([])),
                            D(0))
                        by_tier = sum((t.total for t in Tier.search([])),
                            D(0))
                    everything = sum((a.total for a in Aging.search([])
                            if a.party.id in mine), D(0))
                    self.assertEqual((by_party, by_tier),
                        (everything, everything))
                    self.assertNotEqual(everything, D(0))
                    compared += 1
        FIGURES['reach_records_compared'] = compared


def _follow(record, path):
    for name in path.split('.'):
        if record is None:
            return None
        record = record if name == 'id' else getattr(record, name)
    return record


def _brand(path='kind'):
    "A condition: a brand statement (store ones are not the brand's)"
    return lambda r: _follow(r, path) == 'distributor'


# model: (domain of the side's records, values of a raw create): written
# by the workflows alone
WORKFLOW_ONLY = {
    'distributor.account.statement.message': (
        lambda s, n: [('statement', '=', s.b_disputed.id)],
        lambda s, n: {'statement': s.b_disputed.id, 'kind': 'answer',
            'body': "Forged answer"}),
    'distributor.account.statement.log': (
        lambda s, n: [('document', '=', s.b_confirmed.id)],
        lambda s, n: {'document': s.b_confirmed.id, 'from_state': 'sent',
            'to_state': 'confirmed', 'reason': "X"}),
    'distributor.account.statement.run': (
        lambda s, n: [('id', '=', n.run.id)],
        lambda s, n: {'company': n.run.company.id,
            'start_date': dt.date(2001, 1, 1),
            'end_date': dt.date(2001, 1, 31), 'state': 'done'}),
    'distributor.account.reminder': (
        lambda s, n: [('party', '=', s.party.id)],
        lambda s, n: {'company': n.run.company.id, 'party': s.party.id,
            'move_line': Pool().get('distributor.account.reminder').search(
                [('party', '=', s.party.id)], limit=1)[0].move_line.id,
            'kind': 'due', 'date': dt.date(2001, 1, 1)}),
    }
# the fields a raw write tries
WRITABLE = {'body', 'kind', 'reason', 'to_state', 'state', 'date',
    'end_date'}
# the module's own guards: refusals that are no AccessError
GUARD_ERRORS = (StatementError, StatementValidationError)

# model: (paths to the parties a record belongs to, None for every
# record; a condition on the record the reps' rule adds, or None).  A
# record is the rep's when one of its parties is, public when none has
# a party.
REACH = {
    'distributor.account.statement': (['party'], _brand()),
    'distributor.account.statement.line': (
        ['statement.party'], _brand('statement.kind')),
    'distributor.account.statement.message': (
        ['statement.party'], _brand('statement.kind')),
    'distributor.account.statement.log': (
        ['document.party'], _brand('document.kind')),
    'distributor.account.statement.run': (None, None),
    'distributor.account.aging': (['party'], None),
    'distributor.account.aging.line': (['party'], None),
    'distributor.account.aging.territory': (['territory'], None),
    'distributor.account.aging.tier': (None, None),
    'distributor.account.reminder': (['party'], None),
    }
# the models whose path names a territory, not a party
BY_TERRITORY = {'distributor.account.aging.territory'}
# the models a rep may not read at all
NO_REP_ACCESS = {'distributor.account.statement.run'}
