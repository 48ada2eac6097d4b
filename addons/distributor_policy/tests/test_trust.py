# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary of distributor_policy, walked: every entry point and
wizard of the module called as every role (staff and portal), for the
rep's own party (D1, Jiangsu) and a foreign one (D2); raw writes on its
documents; what a sales rep reads of its models.

The expected tables below are written from what the product intends (the
docstrings and the issue), apart from the XML they check; a declaration
that differs is listed in DECLARED_OTHERWISE with the reason it looks
wrong, so that the walk passes on what is declared today and tells when
the declaration is fixed."""
import base64
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.model import ModelSQL
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import StateView

from distributor.tests.tools import with_transaction
from distributor.tests.trust import (
    as_user, undone, wizard_actions)
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_portal.tests.trust import TrustWalk, write_figures

from ..exceptions import LedgerError, PolicyError, RebateError

PACKAGE = 'distributor_policy'
D = Decimal
# a 1x1 PNG: the evidence of the claims
PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q'
    'DwADhgGAWjR9awAAAABJRU5ErkJggg==')

# the roles: staff users of distributor_store's trust world, and portal
# identities (web.user dms_user) with the side of their party
STAFF = ['admin', 'manager', 'rep', 'accountant', 'plain']
PORTAL = {
    'd1': ('d1@example.com', 'own'),
    'd1_view': ('d1-view@example.com', 'own'),
    'd2': ('d2@example.com', 'foreign'),
    }
ROLES = STAFF + list(PORTAL)
A = frozenset({'admin', 'manager'})
AR = A | {'rep'}
AC = A | {'accountant'}
ALL = AR | {'accountant'}
# every portal account of a distributor; those of a role that acts
# (admin, orders, stock, finance: not view-only)
P = frozenset(PORTAL)
PW = frozenset({'d1', 'd2'})
NOBODY = frozenset()
# the refusals: a right (group), a reach (rule), or the same answer as a
# missing record
REFUSED = (AccessError, AccessButtonError)


def _today():
    return Pool().get('ir.date').today()


def _claim_values(s):
    return {'policy': s.policy_claims.id, 'description': "Tasting day",
        'lines': [{'activity': 'tasting', 'description': "Hostess",
                'amount': '30'}]}


# (model, entry point): (roles allowed, call(Model, side, world)).  A
# rep reaches its own side only, a portal account its party's side.
ENTRY_POINTS = {
    # policies
    ('distributor.policy', 'publish'): (A,
        lambda M, s, n: M.publish([s.policy_draft])),
    ('distributor.policy', 'close'): (A,
        lambda M, s, n: M.close([s.policy_published])),
    ('distributor.policy', 'withdraw'): (A,
        lambda M, s, n: M.withdraw([s.policy_published])),
    ('distributor.policy', 'new_version'): (A,
        lambda M, s, n: M.new_version([s.policy_published])),
    ('distributor.policy', 'remind'): (A,
        lambda M, s, n: M.remind([s.policy_published])),
    # the recipient's own reading: recording a view is the distributor's
    ('distributor.policy', 'dms_view_policy'): (P,
        lambda M, s, n: M.dms_view_policy(
            s.party.id, s.policy_published.id)),
    ('distributor.policy', 'dms_acknowledge_policy'): (PW,
        lambda M, s, n: M.dms_acknowledge_policy(
            s.party.id, s.policy_published.id)),
    ('distributor.policy', 'dms_list_policies'): (ALL | P,
        lambda M, s, n: M.dms_list_policies(s.party.id)),
    # promotions and prices
    ('distributor.policy', 'dms_list_promotions'): (ALL | P,
        lambda M, s, n: M.dms_list_promotions(s.party.id)),
    ('distributor.tier.price.bound', 'dms_list_bounds'): (ALL | P,
        lambda M, s, n: M.dms_list_bounds(s.party.id)),
    ('distributor.channel.order', 'approve'): (A,
        lambda M, s, n: M.approve([s.co_submitted])),
    ('distributor.store.check', 'confirm'): (AR,
        lambda M, s, n: M.confirm([s.check])),
    ('distributor.store.check', 'dms_price_check'): (AR | PW,
        lambda M, s, n: M.dms_price_check(s.party.id, s.store.id, [
                {'product': 'P1', 'quantity': 2, 'price': '1'}])),
    ('distributor.price.incident', 'confirm'): (AR,
        lambda M, s, n: M.confirm([s.incident_open])),
    ('distributor.price.incident', 'dismiss'): (AR,
        lambda M, s, n: M.dismiss([s.incident_open])),
    ('distributor.price.incident', 'reopen'): (A,
        lambda M, s, n: M.reopen([s.incident_confirmed])),
    ('distributor.price.incident', 'dms_list_incidents'): (ALL | P,
        lambda M, s, n: M.dms_list_incidents(s.party.id)),
    # the rebate ledger
    ('distributor.rebate.ledger', 'dms_adjust'): (A,
        lambda M, s, n: M.dms_adjust(s.party.id, '-5', "Correction")),
    ('distributor.rebate.ledger', 'dms_balances'): (ALL | PW,
        lambda M, s, n: M.dms_balances(s.party.id)),
    ('distributor.rebate.ledger', 'dms_ledger'): (ALL | PW,
        lambda M, s, n: M.dms_ledger(s.party.id)),
    ('sale.sale', 'dms_create_order'): (AR | PW,
        lambda M, s, n: M.dms_create_order(s.party.id,
            [{'product': 'P1', 'quantity': 10}], rebate_deduction='10')),
    ('sale.sale', 'dms_set_rebate_deduction'): (AR | PW,
        lambda M, s, n: M.dms_set_rebate_deduction(
            s.party.id, s.sale_draft.id, '10')),
    # rebate programs and settlements
    ('distributor.rebate.program', 'compute_now'): (AC,
        lambda M, s, n: M.compute_now([s.program])),
    ('distributor.rebate.accrual', 'dms_progress'): (ALL | P,
        lambda M, s, n: M.dms_progress(s.party.id)),
    ('distributor.rebate.settlement', 'compute'): (AC,
        lambda M, s, n: M.compute([s.settlement_draft])),
    ('distributor.rebate.settlement', 'approve'): (A,
        lambda M, s, n: M.approve([s.settlement_computed])),
    ('distributor.rebate.settlement', 'settle'): (AC,
        lambda M, s, n: M.settle([s.settlement_approved])),
    ('distributor.rebate.settlement', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.settlement_computed])),
    ('distributor.rebate.settlement', 'draft'): (A,
        lambda M, s, n: M.draft([s.settlement_cancelled])),
    # expense claims: filed by the distributor (or its rep, the brand for
    # it), reviewed by the brand, settled by the brand or its accountant
    ('distributor.expense.claim', 'submit'): (AR,
        lambda M, s, n: M.submit([s.claim_draft])),
    ('distributor.expense.claim', 'approve'): (A,
        lambda M, s, n: M.approve([s.claim_submitted])),
    ('distributor.expense.claim', 'partly_approve'): (A,
        lambda M, s, n: M.partly_approve([s.claim_submitted])),
    ('distributor.expense.claim', 'reject'): (A,
        lambda M, s, n: M.reject([s.claim_submitted])),
    ('distributor.expense.claim', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.claim_submitted])),
    ('distributor.expense.claim', 'settle_credit_note'): (AC,
        lambda M, s, n: M.settle_credit_note([s.claim_approved])),
    ('distributor.expense.claim', 'settle_ledger'): (AC,
        lambda M, s, n: M.settle_ledger([s.claim_approved])),
    ('distributor.expense.claim', 'dms_save_claim'): (AR | PW,
        lambda M, s, n: M.dms_save_claim(s.party.id, _claim_values(s))),
    ('distributor.expense.claim', 'dms_add_evidence'): (AR | PW,
        lambda M, s, n: M.dms_add_evidence(
            s.party.id, s.claim_draft.id, 'receipt.png', PNG)),
    ('distributor.expense.claim', 'dms_submit_claim'): (AR | PW,
        lambda M, s, n: M.dms_submit_claim(s.party.id, s.claim_draft.id)),
    ('distributor.expense.claim', 'dms_cancel_claim'): (AR | PW,
        lambda M, s, n: M.dms_cancel_claim(
            s.party.id, s.claim_submitted.id)),
    ('distributor.expense.claim', 'dms_list_claims'): (ALL | P,
        lambda M, s, n: M.dms_list_claims(s.party.id)),
    ('distributor.expense.claim', 'dms_claim_budgets'): (ALL | P,
        lambda M, s, n: M.dms_claim_budgets(s.party.id)),
    }

# the declarations that differ from ENTRY_POINTS: (roles declared, why
# the expected table differs); the walk checks what is declared, and
# fails once the declaration is fixed (then remove the entry)
DECLARED_OTHERWISE = {}

# wizard: (roles allowed, model, records of the side, [(state, data)])
WIZARDS = {
    'distributor.policy.withdraw': (A, 'distributor.policy',
        lambda s: [s.policy_published],
        [('apply', {'start': {'reason': "Replaced"}})]),
    'distributor.expense.claim.partly_approve': (A,
        'distributor.expense.claim', lambda s: [s.claim_submitted],
        [('apply', {'start': {'claimed_amount': D(50),
                        'approved_amount': D(20), 'reason': "No receipt "
                        "for the second day"}})]),
    'distributor.expense.claim.reject': (A, 'distributor.expense.claim',
        lambda s: [s.claim_submitted],
        [('apply', {'start': {'reason': "Not a display"}})]),
    }

# the records of the base world each side uses, by model
BASE = {
    'party': 'party.party',
    'store': 'party.party',
    'downstream': 'party.party',
    'territory': 'distributor.territory',
    'sale_draft': 'sale.sale',
    'co_submitted': 'distributor.channel.order',
    'check': 'distributor.store.check',
    }

# the figures the test run prints (scripts/run_tests.py)
FIGURES = {}


def tearDownModule():
    write_figures(FIGURES)




def _build_side(key, base, code):
    """The documents of a side (as root): policies (draft, published, one
    taking claims, a rebate one with programs), settlements in each
    state, claims in each state, price incidents and a ledger balance"""
    pool = Pool()
    Policy = pool.get('distributor.policy')
    Settlement = pool.get('distributor.rebate.settlement')
    SettlementLine = pool.get('distributor.rebate.settlement.line')
    Claim = pool.get('distributor.expense.claim')
    Incident = pool.get('distributor.price.incident')
    Ledger = pool.get('distributor.rebate.ledger')
    Party = pool.get('party.party')
    today = _today()
    party = Party(base.party)
    ids = {}

    def notice(title, **values):
        policy, = Policy.create([{
                    'kind': 'notice', 'title': f'{code} {title}',
                    'body': '<p>Read me</p>',
                    'start_date': today - dt.timedelta(days=40),
                    'end_date': today + dt.timedelta(days=30),
                    'distributors': [('add', [party.id])],
                    **values}])
        return policy
    draft = notice("draft notice")
    published = notice("notice")
    claims = notice("displays", allows_claims=True,
        claim_budget=D(1000), claim_budget_per_distributor=D(600))
    start = today - dt.timedelta(days=40)
    end = today - dt.timedelta(days=10)
    rebate = notice("rebate", kind='rebate', rebate_programs=[('create', [{
                        'name': f'{code} program {i}',
                        'start_date': start, 'end_date': end,
                        'period': 'custom',
                        'tiers': [('create', [{'threshold': D(0),
                                        'rate': D(1)}])],
                        } for i in range(5)])])
    Policy.publish([published, claims, rebate])
    ids['policy_draft'] = ('distributor.policy', draft.id)
    ids['policy_published'] = ('distributor.policy', published.id)
    ids['policy_claims'] = ('distributor.policy', claims.id)
    ids['policy_rebate'] = ('distributor.policy', rebate.id)
    programs = sorted(Policy(rebate.id).rebate_programs, key=lambda p: p.id)
    ids['program'] = ('distributor.rebate.program', programs[4].id)

    # settlements, one program each (one live settlement a period)
    states = ['draft', 'computed', 'approved', 'cancelled']
    settlements = Settlement.create([{'program': p.id, 'period_start': start,
                'period_end': end, 'method': 'ledger'}
            for p in programs[:len(states)]])
    by_state = dict(zip(states, settlements))
    Settlement.compute([by_state['computed'], by_state['approved']])
    SettlementLine.create([{'settlement': by_state[s].id,
                'party': party.id, 'amount': D(10),
                'approved_amount': D(10)} for s in ['computed', 'approved']])
    Settlement.approve([by_state['approved']])
    Settlement.cancel([by_state['cancelled']])
    for state, settlement in by_state.items():
        ids[f'settlement_{state}'] = (
            'distributor.rebate.settlement', settlement.id)

    # claims: a draft with evidence, a submitted one, an approved one
    def claim(state):
        claim_id = Claim.dms_save_claim(party, {'policy': claims.id,
                'description': f"{code} {state}",
                'lines': [{'activity': 'display', 'description': "Shelf",
                        'amount': '20'}, {'activity': 'tasting',
                        'description': "Stand", 'amount': '30'}]})
        Claim.dms_add_evidence(party, claim_id, 'photo.png', PNG)
        if state != 'draft':
            Claim.dms_submit_claim(party, claim_id)
        if state == 'approved':
            Claim.approve([Claim(claim_id)])
        return claim_id
    for state in ['draft', 'submitted', 'approved']:
        ids[f'claim_{state}'] = ('distributor.expense.claim', claim(state))

    # price incidents at the side's store
    p1 = pool.get('product.product')(base.products_p1)
    incidents = Incident.create([{'date': today, 'store': base.store,
                'distributor': party.id, 'product': p1.id,
                'price_seen': D(5), 'min_price': D(12), 'max_price': D(15),
                'guide_price': D(15)} for _ in range(2)])
    Incident.confirm(incidents[1:])
    ids['incident_open'] = ('distributor.price.incident', incidents[0].id)
    ids['incident_confirmed'] = (
        'distributor.price.incident', incidents[1].id)

    # a rebate balance to spend and to adjust
    entry, = Ledger.dms_post([{'party': party.id, 'kind': 'adjustment',
                'amount': D(100), 'reason': "Opening balance"}])
    ids['ledger_entry'] = ('distributor.rebate.ledger', entry.id)
    return ids


class PolicyTrustTestCase(TrustWalk, PortalTestCase):
    "The trust boundary of distributor_policy, walked"
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
        Account = pool.get('account.account')
        Configuration = pool.get('distributor.configuration')
        Bound = pool.get('distributor.tier.price.bound')
        Retail = pool.get('distributor.retail.price')
        Party = pool.get('party.party')
        Sale = pool.get('sale.sale')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        p1 = world.products.p1
        with Transaction().set_context(company=world.company):
            revenue, = Account.search([('type.revenue', '=', True),
                    ('closed', '!=', True)], limit=1)
            config = Configuration(1)
            config.rebate_account = revenue
            config.save()
            deduction = Sale._rebate_product()
            Template.write([deduction.template], {
                    'account_category': Product(
                        p1).template.account_category.id})
            tier = Party(world.d1).distributor_tier
            Bound.create([{'tier': tier.id, 'product': p1, 'buyer': buyer,
                        'min_price': D(1), 'max_price': D(100)}
                    for buyer in ['store', 'distributor']])
            Retail.create([{'product': p1, 'guide_price': D(15),
                        'promo_min': D(12), 'promo_max': D(14)}])
            world.mine = {}
            for key, code in [('own', 'D1'), ('foreign', 'D2')]:
                base = getattr(world, key)
                base.products_p1 = p1
                world.mine[key] = _build_side(key, base, code)
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
            assert isinstance(Wizard.states[start], StateView)
            Wizard.execute(session_id, {}, start)
            for state, values in steps:
                Wizard.execute(session_id, values, state)
            Wizard.delete(session_id)

    @with_transaction()
    def test_documents_refuse_raw_writes(self):
        """Every document of the module refuses raw writes past its
        editable states, on every path, even to a channel manager who may
        write it; its log and the ledger refuse them always"""
        pool = Pool()
        refusals = 0
        with self._company():
            n = self._world()
            s = n.sides['own']
            manager = n.users['manager']
            for model, (locked, draft, protected, free, line) in sorted(
                    RAW.items()):
                Model = pool.get(model)
                record = getattr(s, locked)
                state = Model._dms_state
                attempts = [
                    ('write', lambda: Model.write([record], protected)),
                    ('write state', lambda: Model.write(
                            [record], {state: 'draft'})),
                    ('delete', lambda: Model.delete([record])),
                    ]
                if draft:
                    attempts.append(('write state of a draft',
                            lambda: Model.write([getattr(s, draft)],
                                {state: getattr(record, state)})))
                if line:
                    Line, field, create, write = line
                    Line = pool.get(Line)
                    lines = Line.search([(field, '=', record.id)])
                    self.assertTrue(lines, f"{model}: no line to test")
                    draft_lines = Line.search(
                        [(field, '=', getattr(s, draft).id)]) if draft \
                        else []
                    attempts += [
                        ('line create', lambda: Line.create([{
                                        **create(s), field: record.id}])),
                        ('line write', lambda: Line.write(lines, write(s))),
                        ('line delete', lambda: Line.delete(lines)),
                        ]
                    if draft_lines:
                        attempts.append(('line moved in', lambda: Line.write(
                                    draft_lines[:1], {field: record.id})))
                for what, attempt in attempts:
                    with self.subTest(document=model, attempt=what):
                        with undone(), as_user(manager):
                            with self.assertRaises(AccessError):
                                attempt()
                        refusals += 1
                if free:
                    with self.subTest(document=model, attempt='free'):
                        with undone(), as_user(manager):
                            Model.write([record], free)
                if model in COPIED:
                    with self.subTest(document=model, attempt='copy'):
                        with undone(), as_user(manager):
                            if model in COPY_FAILS:
                                # a defect reported: remove it once fixed
                                with self.assertRaises(COPY_FAILS[model][0],
                                        msg="fixed: remove it from "
                                        "COPY_FAILS"):
                                    Model.copy([record])
                                continue
                            copy, = Model.copy([record])
                            self._check_copy(Model, record, copy)
            # the logs and the records the workflows alone write
            for model, (document, values) in sorted(WORKFLOW_ONLY.items()):
                Model = pool.get(model)
                records = Model.search(document(s))
                self.assertTrue(records, f"{model}: no record to test")
                attempts = [
                    ('create', lambda: Model.create([values(s)])),
                    ('write', lambda: Model.write(records,
                            {k: v for k, v in values(s).items()
                                if k not in {'document', 'policy'}})),
                    ('delete', lambda: Model.delete(records)),
                    ]
                if model == 'distributor.rebate.ledger':
                    attempts.append(('copy', lambda: Model.copy(records)))
                for what, attempt in attempts:
                    with self.subTest(model=model, attempt=what):
                        with undone(), as_user(manager):
                            with self.assertRaises(
                                    REFUSED + GUARD_ERRORS):
                                attempt()
                        refusals += 1
        FIGURES['raw_write_refusals'] = refusals

    def _check_copy(self, Model, record, copy):
        state = Model._dms_state
        default = getattr(Model, 'default_' + state)()
        self.assertEqual(getattr(copy, state), default)
        for name in sorted(Model._dms_workflow_fields):
            field = Model._fields[name]
            if field._type in {'one2many', 'many2many', 'function'} or (
                    name == state):
                continue
            method = getattr(Model, 'default_' + name, None)
            value = getattr(copy, name)
            if name == 'number' and value:
                # numbered anew at creation
                self.assertNotEqual(value, getattr(record, name))
                continue
            self.assertIn(getattr(value, 'id', value),
                [None, method() if method else None], f"{name} copied")

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
                if party.is_terminal_customer:
                    return reachable(party.customer_distributor, area)
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
                        if owners & mine or not owners:
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
                        describe = {r.id: (r.rec_name, [
                                    getattr(_follow(r, p), 'rec_name', None)
                                    for p in paths or []])
                            for r in records}
                        if model in REACH_LEAKS:
                            # a leak reported: remove it once fixed
                            self.assertTrue(seen - expected,
                                "fixed: remove it from REACH_LEAKS")
                            seen &= expected
                        self.assertEqual(
                            [describe[i] for i in sorted(seen - expected)],
                            [], "reads data out of its reach")
                        self.assertEqual(
                            [describe[i] for i in sorted(expected - seen)],
                            [], "misses data of its territories")
                        compared += len(records)
        FIGURES['reach_records_compared'] = compared


def _follow(record, path):
    for name in path.split('.'):
        if record is None:
            return None
        record = record if name == 'id' else getattr(record, name)
    return record


def _not_draft(path='policy'):
    "A condition: the record's policy is no draft (the reps' rule)"
    return lambda r: _follow(r, path).state != 'draft'


# document: (the locked record, the draft one, a field the lock protects,
# a free field or None, (line model, its document field, values of a new
# line, values of a line write) or None)
RAW = {
    'distributor.policy': ('policy_published', 'policy_draft',
        {'title': "Renamed"}, None,
        ('distributor.policy-party.party', 'policy',
            lambda s: {'party': s.downstream.id},
            lambda s: {'party': s.downstream.id})),
    'distributor.expense.claim': ('claim_submitted', 'claim_draft',
        {'description': "Renamed"}, None,
        ('distributor.expense.claim.line', 'claim',
            lambda s: {'activity': 'other', 'description': "More",
                'amount': D(1)},
            lambda s: {'amount': D(99)})),
    'distributor.rebate.settlement': ('settlement_approved',
        'settlement_draft', {'method': 'credit_note'}, None,
        ('distributor.rebate.settlement.line', 'settlement',
            lambda s: {'approved_amount': D(1)},
            lambda s: {'approved_amount': D(99)})),
    'distributor.price.incident': ('incident_open', None,
        {'price_seen': D(13)}, {'note': "Seen again"}, None),
    }
# the documents a manager copies (a copy is a new draft)
COPIED = {'distributor.policy', 'distributor.expense.claim',
    'distributor.rebate.settlement'}
# the copies that fail today: (error, why it is a defect)
COPY_FAILS = {}

# model: (domain of the side's records, values of a raw create): written
# by the workflows alone
WORKFLOW_ONLY = {
    'distributor.policy.log': (
        lambda s: [('document', '=', s.policy_published.id)],
        lambda s: {'document': s.policy_published.id, 'reason': "X"}),
    'distributor.expense.claim.log': (
        lambda s: [('document', '=', s.claim_submitted.id)],
        lambda s: {'document': s.claim_submitted.id, 'reason': "X"}),
    'distributor.rebate.settlement.log': (
        lambda s: [('document', '=', s.settlement_approved.id)],
        lambda s: {'document': s.settlement_approved.id, 'reason': "X"}),
    'distributor.price.incident.log': (
        lambda s: [('document', '=', s.incident_confirmed.id)],
        lambda s: {'document': s.incident_confirmed.id, 'reason': "X"}),
    'distributor.policy.recipient': (
        lambda s: [('policy', '=', s.policy_published.id)],
        lambda s: {'policy': s.policy_published.id,
            'acknowledged_at': dt.datetime(2020, 1, 1)}),
    'distributor.rebate.ledger': (
        lambda s: [('party', '=', s.party.id)],
        lambda s: {'party': s.party.id, 'kind': 'settlement',
            'amount': D(1000)}),
    'distributor.rebate.accrual': (
        lambda s: [('party', '=', s.party.id)],
        lambda s: {'program': s.program.id, 'party': s.party.id,
            'period_start': dt.date(2020, 1, 1),
            'period_end': dt.date(2020, 1, 31), 'accrued_amount': D(9)}),
    }
# the module's own guards: refusals that are no AccessError
GUARD_ERRORS = (LedgerError, PolicyError, RebateError)

# model: (paths to the parties a record belongs to, None for every
# record; a condition on the record the reps' rule adds, or None).  A
# record is the rep's when one of its parties is, public when none has
# a party.
REACH = {
    'distributor.policy': (None, lambda r: r.state != 'draft'),
    'distributor.policy-distributor.tier': (None, _not_draft()),
    'distributor.policy-distributor.territory': (None, _not_draft()),
    'distributor.policy-party.category': (None, _not_draft()),
    'distributor.policy-party.party': (None, _not_draft()),
    'distributor.policy.recipient': (['distributor'], None),
    'distributor.policy.log': (None, _not_draft('document')),
    'distributor.policy.promotion': (None, _not_draft()),
    'distributor.policy.promotion-product.product': (
        None, _not_draft('rule.policy')),
    'distributor.policy.promotion-product.category': (
        None, _not_draft('rule.policy')),
    'distributor.tier.price.bound': (None, None),
    'distributor.retail.price': (None, None),
    'distributor.price.incident': (['store', 'distributor'], None),
    'distributor.price.incident.log': (
        ['document.store', 'document.distributor'], None),
    'distributor.rebate.ledger': (['party'], None),
    'distributor.rebate.program': (None, None),
    'distributor.rebate.program.tier': (None, None),
    'distributor.rebate.program-product.product': (None, None),
    'distributor.rebate.program-product.category': (None, None),
    'distributor.rebate.accrual': (['party'], None),
    'distributor.rebate.run': (None, None),
    'distributor.rebate.settlement': (None, None),
    'distributor.rebate.settlement.line': (['party'], None),
    'distributor.rebate.settlement.log': (None, None),
    'distributor.expense.claim': (['distributor'], None),
    'distributor.expense.claim.line': (['claim.distributor'], None),
    'distributor.expense.claim.log': (['document.distributor'], None),
    'distributor.expense.claim.budget': (['distributor'], None),
    }
# the models a rep may not read at all
NO_REP_ACCESS = {'distributor.rebate.run'}
# the models a rep reads beyond its territories today: why
REACH_LEAKS = {}
