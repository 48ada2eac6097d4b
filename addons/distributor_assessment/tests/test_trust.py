# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary of distributor_assessment, walked: every entry point,
wizard and report of the module called as every role (staff and portal),
for the rep's own party (D1, Jiangsu) and a foreign one (D2); raw writes on
its documents past draft and on what the workflows alone write; what a
sales rep reads of its models (compared with a computation of its own);
what a portal account reaches; and two people deciding at once (two
transactions) never both passing.

The expected tables below are written from what the product intends (the
issue and the docstrings), apart from the XML they check; a declaration
that differs is listed in DECLARED_OTHERWISE with the reason it looks
wrong, so that the walk passes on what is declared today and tells when
the declaration is fixed."""
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

from trytond import backend
from trytond.exceptions import UserError
from trytond.model import ModelSQL
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction
from trytond.wizard import StateView

from distributor.exceptions import RecordNotFound
from distributor.tests.tools import with_transaction
from distributor.tests.trust import (
    as_user, entry_points, undone, wizard_actions)
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_portal.tests.trust import TrustWalk, write_figures

from ..exceptions import AssessmentError, TargetError, TargetValidationError

PACKAGE = 'distributor_assessment'
D = Decimal

STAFF = ['admin', 'manager', 'rep', 'accountant', 'plain']
PORTAL = {
    'd1': ('d1@example.com', 'own'),
    'd1_view': ('d1-view@example.com', 'own'),
    'd2': ('d2@example.com', 'foreign'),
    }
ROLES = STAFF + list(PORTAL)
A = frozenset({'admin', 'manager'})
AR = A | {'rep'}
P = frozenset(PORTAL)
REFUSED = (AccessError, AccessButtonError)
# the module's own guards: refusals that are no AccessError
GUARD_ERRORS = (AssessmentError, TargetError, TargetValidationError)

# (model, entry point): (roles allowed, call(Model, side, world)).  A
# rep reaches its own side only, a portal account its party's side.  The
# runs are the brand's (no party): both sides call the same ones.
ENTRY_POINTS = {
    ('distributor.target', 'confirm'): (A,
        lambda M, s, n: M.confirm([s.target_draft])),
    ('distributor.target', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.target_confirmed])),
    ('distributor.target', 'draft'): (A,
        lambda M, s, n: M.draft([s.target_cancelled])),
    # the portal's page of targets: the party's own
    ('distributor.target', 'dms_targets'): (P,
        lambda M, s, n: M.dms_targets(s.party.id)),
    ('distributor.assessment.run', 'compute'): (A,
        lambda M, s, n: M.compute([s.run_computed])),
    ('distributor.assessment.run', 'review'): (A,
        lambda M, s, n: M.review([s.run_computed])),
    ('distributor.assessment.run', 'approve'): (A,
        lambda M, s, n: M.approve([s.run_reviewed])),
    ('distributor.assessment.run', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.run_reviewed])),
    ('distributor.assessment.run', 'draft'): (A,
        lambda M, s, n: M.draft([s.run_cancelled])),
    ('distributor.assessment.result', 'adjust'): (A,
        lambda M, s, n: M.adjust([s.result_computed])),
    # the staff see a distributor's assessment as its portal does
    ('distributor.assessment.result', 'dms_assessment'): (AR | P,
        lambda M, s, n: M.dms_assessment(s.party.id)),
    ('distributor.tier.proposal', 'accept'): (A,
        lambda M, s, n: M.accept([s.proposal])),
    ('distributor.tier.proposal', 'refuse'): (A,
        lambda M, s, n: M.refuse([s.proposal])),
    }

DECLARED_OTHERWISE = {}


def _far(years):
    "A period of its own, years ahead (no overlap with the others)"
    today = Pool().get('ir.date').today()
    return (dt.date(today.year + years, 1, 1),
        dt.date(today.year + years, 1, 31))


# wizard: (roles allowed, model, records of the side, [(state, data)])
WIZARDS = {
    'distributor.target.import': (A, None, lambda s: [], []),
    'distributor.target.spread': (A, None, lambda s: [],
        [('spread', {'start': {'territory': None, 'start_date': None,
                        'end_date': None, 'category': None,
                        'amount': D(1000), 'quantity': None}})]),
    'distributor.assessment.result.adjust': (A,
        'distributor.assessment.result', lambda s: [s.result_computed],
        [('adjust', {'start': {'result': None, 'computed_score': None,
                        'current_score': None, 'score': D(50),
                        'reason': "Late deliveries"}})]),
    'distributor.tier.proposal.refuse': (A, 'distributor.tier.proposal',
        lambda s: [s.proposal],
        [('apply', {'start': {'reason': "Not this year"}})]),
    }

# report: (roles allowed)
REPORTS = {
    'distributor.assessment.run.xlsx': AR,
    'distributor.assessment.run.pdf': AR,
    }

BASE = {
    'party': 'party.party',
    'store': 'party.party',
    'downstream': 'party.party',
    'territory': 'distributor.territory',
    }

FIGURES = {}


def tearDownModule():
    write_figures(FIGURES)


def _kpi(code):
    ModelData = Pool().get('ir.model.data')
    Kpi = Pool().get('distributor.assessment.kpi')
    return Kpi(ModelData.get_id(PACKAGE, f'kpi_{code}'))


def _computed_run(company, template, start, end, **values):
    "A computed run (as root) over every active distributor"
    Run = Pool().get('distributor.assessment.run')
    run, = Run.create([{'company': company, 'template': template,
                'start_date': start, 'end_date': end, **values}])
    Run.compute([run])
    Transaction().tasks.clear()
    Run.process([run])
    run = Run(run.id)
    assert run.state == 'computed', run.state
    return run


class AssessmentTrustTestCase(TrustWalk, PortalTestCase):
    "The trust boundary of distributor_assessment, walked"
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
        Template = pool.get('distributor.assessment.template')
        Target = pool.get('distributor.target')
        Run = pool.get('distributor.assessment.run')
        Result = pool.get('distributor.assessment.result')
        Proposal = pool.get('distributor.tier.proposal')
        Party = pool.get('party.party')
        company = world.company
        with Transaction().set_context(company=company):
            today = pool.get('ir.date').today()
            start = today - dt.timedelta(days=30)
            end = today + dt.timedelta(days=5)
            # every distributor graded A (no incident): proposed up a tier
            template, = Template.create([{
                        'name': "Trust", 'grade_a': D(2), 'grade_b': D(1),
                        'grade_c': D('0.5'), 'upgrade_grade': 'A',
                        'downgrade_grade': 'D',
                        'lines': [('create', [{
                                        'kpi': _kpi('incidents').id,
                                        'weight': D(100),
                                        'scoring': 'penalty',
                                        'penalty_points': D(1)}])],
                        }])
            world.template = template.id
            world.period = (start, end)
            world.mine = {'own': {}, 'foreign': {}}
            common = world.common = {}
            # targets of each side in each state (periods apart)
            for key in ['own', 'foreign']:
                party = getattr(world, key).party
                made = {}
                for state, (first, last) in [
                        ('draft', _far(1)), ('confirmed', (start, end)),
                        ('cancelled', _far(2))]:
                    target, = Target.create([{'company': company,
                                'distributor': party, 'start_date': first,
                                'end_date': last, 'amount': D(1000)}])
                    made[state] = target
                Target.confirm([made['confirmed'], made['cancelled']])
                Target.cancel([made['cancelled']])
                for state, target in made.items():
                    world.mine[key][f'target_{state}'] = (
                        'distributor.target', target.id)
            # the runs: computed, reviewed (with adjustments), approved
            # (proposals), cancelled; and a second approved run whose D1
            # proposal is accepted (D1's tier then restored) and whose D3
            # proposal is refused
            runs = {}
            for state in ['computed', 'reviewed', 'approved', 'cancelled',
                    'decided', 'race_computed', 'race_reviewed',
                    'race_approved']:
                runs[state] = _computed_run(company, template.id, start, end)
            for state in ['reviewed', 'approved', 'decided']:
                run = runs[state]
                if state == 'reviewed':
                    for key in ['own', 'foreign']:
                        result, = Result.search([('run', '=', run.id),
                                ('distributor', '=',
                                    getattr(world, key).party)])
                        Result.adjust_scores([result], D(90), "Visit")
                Run.review([run])
                if state != 'reviewed':
                    Run.approve([run])
            Run.review([runs['race_reviewed']])
            Run.review([runs['race_approved']])
            Run.approve([runs['race_approved']])
            Run.cancel([runs['cancelled']])
            for state, run in runs.items():
                common[f'run_{state}'] = (
                    'distributor.assessment.run', run.id)
            tiers = {p: Party(p).distributor_tier.id
                for p in [world.d1, world.d2, world.d3, world.d4]}
            world.tiers = tiers

            def proposal(run, party):
                found, = Proposal.search([('run', '=', run.id),
                        ('distributor', '=', party)])
                return found
            for key in ['own', 'foreign']:
                party = getattr(world, key).party
                downstream = getattr(world, key).downstream
                mine = world.mine[key]
                result, = Result.search([('run', '=', runs['computed'].id),
                        ('distributor', '=', party)])
                mine['result_computed'] = (Result.__name__, result.id)
                mine['proposal'] = (Proposal.__name__,
                    proposal(runs['approved'], party).id)
                accepted = proposal(runs['decided'], party)
                Proposal.accept([accepted])
                Party.write([Party(party)],
                    {'distributor_tier': tiers[party]})
                mine['proposal_accepted'] = (Proposal.__name__, accepted.id)
                refused = proposal(runs['decided'], downstream)
                Proposal.refuse_proposals([refused], "Stays below")
                mine['proposal_refused'] = (Proposal.__name__, refused.id)
                world.mine[key]['race_proposal'] = (Proposal.__name__,
                    proposal(runs['race_approved'], party).id)
            Transaction().tasks.clear()
        return world

    # helpers ------------------------------------------------------------

    def _side(self, key):
        pool = Pool()
        base = getattr(self.world, key)
        side = SimpleNamespace(key=key)
        for name, model in BASE.items():
            setattr(side, name, pool.get(model)(getattr(base, name)))
        for name, (model, id_) in list(self.world.mine[key].items()) + list(
                self.world.common.items()):
            setattr(side, name, pool.get(model)(id_))
        return side

    def _world(self):
        return SimpleNamespace(sides={k: self._side(k)
                for k in ['own', 'foreign']}, users=self._users())

    def _identity(self, email):
        WebUser = Pool().get('web.user')
        return WebUser(self.world.accounts[email]).dms_user

    # the tests ----------------------------------------------------------

    @with_transaction()
    def test_undeclared_entry_point_fails(self):
        """An RPC method added without a declaration is found undeclared
        (and so fails test_every_entry_point_is_declared)"""
        pool = Pool()
        Target = pool.get('distributor.target')

        def dms_forged(cls, party):
            return party
        dms_forged.__module__ = f'{PACKAGE}.target'
        Target.dms_forged = classmethod(dms_forged)
        Target.__rpc__['dms_forged'] = RPC()
        try:
            found = [(m, n, k) for m, n, k in entry_points(pool)
                if self._ours(pool.get(m), n)]
            self.assertIn(('distributor.target', 'dms_forged',
                    'undeclared'), found)
        finally:
            del Target.__rpc__['dms_forged']
            del Target.dms_forged

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
                        s = n.sides[side]
                        with self.subTest(wizard=name, role=role,
                                side=side):
                            self._check_call(expected, n.users[role],
                                lambda: self._run_wizard(pool, name, model,
                                    records(s), self._steps(s, steps)))
                        self._raise_restart()
                        calls += 1
        FIGURES['wizard_calls'] = calls

    def _steps(self, s, steps):
        "The wizard's data completed with the side's records"
        result = []
        for state, values in steps:
            start = dict(values['start'])
            if 'territory' in start:
                first, last = _far(3)
                start.update(territory=s.territory.id, start_date=first,
                    end_date=last)
            if 'result' in start:
                r = s.result_computed
                start.update(result=r.id, computed_score=r.computed_score,
                    current_score=r.score)
            result.append((state, {'start': start}))
        return result

    def _run_wizard(self, pool, name, model, records, steps):
        Wizard = pool.get(name, type='wizard')
        actions = wizard_actions(name)
        ids = [r.id for r in records]
        context = {'action_id': actions[0].id if actions else None,
            'active_model': model, 'active_ids': ids,
            'active_id': ids[0] if ids else None}
        transaction = Transaction()
        with transaction.set_context(**context):
            session_id, start, _ = Wizard.create()
        with transaction.set_context(_check_access=False, **context):
            assert isinstance(Wizard.states[start], StateView)
            Wizard.execute(session_id, {}, start)
            for state, values in steps:
                Wizard.execute(session_id, values, state)
            Wizard.delete(session_id)

    @with_transaction()
    def test_reports_by_role(self):
        """The run's Excel and PDF as every role: the staff who read runs
        print them, a rep only with the results of its territories"""
        from openpyxl import load_workbook
        pool = Pool()
        calls = 0
        with self._company():
            n = self._world()
            run = n.sides['own'].run_approved
            names = {k: n.sides[k].party.rec_name
                for k in ['own', 'foreign']}
            for name, allowed in sorted(REPORTS.items()):
                Report = pool.get(name, type='report')
                for role in ROLES:
                    expected = role in allowed
                    with self.subTest(report=name, role=role):
                        out = {}

                        def call():
                            out['value'] = Report.execute([run.id], {})
                        self._check_call(expected, n.users[role], call)
                        if expected and name.endswith('xlsx'):
                            book = load_workbook(
                                io.BytesIO(bytes(out['value'][1])),
                                read_only=True)
                            text = ' '.join(str(c) for sheet in book
                                for row in sheet.iter_rows(values_only=True)
                                for c in row if c is not None)
                            self.assertIn(names['own'], text)
                            if role == 'rep':
                                self.assertNotIn(names['foreign'], text)
                            else:
                                self.assertIn(names['foreign'], text)
                    calls += 1
        FIGURES['report_calls'] = calls

    @with_transaction()
    def test_documents_refuse_raw_writes(self):
        """Targets past draft, runs past draft and decided proposals refuse
        raw writes, even to a channel manager who may act on them; the
        results, their KPIs, the adjustments and the logs are written by
        the workflow alone"""
        pool = Pool()
        refusals = 0
        with self._company():
            n = self._world()
            s = n.sides['own']
            manager = n.users['manager']
            for model, (locked, draft, protected) in sorted(RAW.items()):
                Model = pool.get(model)
                state = Model._dms_state
                for key in locked:
                    record = getattr(s, key)
                    attempts = [
                        ('write', lambda: Model.write([record], protected)),
                        ('write state', lambda: Model.write(
                                [record], {state: 'draft'})),
                        ]
                    deletable = Model._dms_deletable_states
                    if deletable is None:
                        deletable = Model._dms_editable_states
                    if getattr(record, state) not in deletable:
                        attempts.append(
                            ('delete', lambda: Model.delete([record])))
                    if draft:
                        attempts.append(('write state of a draft',
                                lambda: Model.write([getattr(s, draft)],
                                    {state: getattr(record, state)})))
                    for what, attempt in attempts:
                        with self.subTest(document=model, record=key,
                                attempt=what):
                            with undone(), as_user(manager):
                                with self.assertRaises(
                                        REFUSED + GUARD_ERRORS):
                                    attempt()
                            refusals += 1
            for model, (document, values) in sorted(WORKFLOW_ONLY.items()):
                Model = pool.get(model)
                records = Model.search(document(s))
                self.assertTrue(records, f"{model}: no record to test")
                attempts = [
                    ('create', lambda: Model.create([values(s)])),
                    ('write', lambda: Model.write(records,
                            {k: v for k, v in values(s).items()
                                if k not in {'document', 'result', 'run'}})),
                    ('delete', lambda: Model.delete(records)),
                    ]
                for what, attempt in attempts:
                    with self.subTest(model=model, attempt=what):
                        with undone(), as_user(manager):
                            with self.assertRaises(
                                    REFUSED + GUARD_ERRORS):
                                attempt()
                        refusals += 1
        FIGURES['raw_write_refusals'] = refusals

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
        """Each model read as each rep holds exactly the records of the
        distributors of its territories (and the brand's own)"""
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
            for key, (user, area) in reps.items():
                mine = {p.id for p in parties if p.is_distributor
                    and {t.id for t in p.territories} & area}
                self.assertTrue(mine)
                for model, paths in sorted(REACH.items()):
                    Model = pool.get(model)
                    records = Model.search([], order=[])
                    expected = set()
                    for record in records:
                        if paths is None:
                            expected.add(record.id)
                            continue
                        owners = {getattr(_follow(record, p), 'id', None)
                            for p in paths}
                        if owners & mine:
                            expected.add(record.id)
                    with self.subTest(rep=key, model=model):
                        with as_user(user):
                            seen = {r.id for r in Model.search(
                                    [], order=[])}
                        if paths is not None:
                            self.assertTrue(records, f"{model}: no record")
                            self.assertTrue(expected, f"{model}: nothing "
                                f"of {key} to compare")
                            self.assertNotEqual(expected,
                                {r.id for r in records},
                                f"{model}: nothing out of {key}'s reach")
                        describe = {r.id: r.rec_name for r in records}
                        self.assertEqual(
                            [describe[i] for i in sorted(seen - expected)],
                            [], "reads data out of its reach")
                        self.assertEqual(
                            [describe[i] for i in sorted(expected - seen)],
                            [], "misses data of its territories")
                        compared += len(records)
        FIGURES['reach_records_compared'] = compared

    @with_transaction()
    def test_portal_reaches_its_own_party(self):
        """A portal account reads the targets and the assessment of its
        own party only: not its downstream distributor's, its store's or
        another distributor's"""
        pool = Pool()
        Target = pool.get('distributor.target')
        Result = pool.get('distributor.assessment.result')
        with self._company():
            n = self._world()
            own, foreign = n.sides['own'], n.sides['foreign']
            d1 = self._identity('d1@example.com')
            d3 = self._identity('d3@example.com')
            s1 = self._identity('s1@example.com')
            with as_user(d1):
                targets = Target.dms_targets(own.party.id)
                assessment = Result.dms_assessment(own.party.id)
            self.assertEqual([t['id'] for t in targets],
                [own.target_confirmed.id])
            self.assertEqual(assessment['distributor']['id'], own.party.id)
            Run = pool.get('distributor.assessment.run')
            self.assertIn(assessment['run']['id'],
                {r.id for r in Run.search([('state', '=', 'approved')])})
            refusals = 0
            for user, party in [(d1, own.downstream), (d1, own.store),
                    (d1, foreign.party), (d3, own.party), (s1, own.party),
                    (d3, foreign.downstream)]:
                for name, call in [
                        ('dms_targets', Target.dms_targets),
                        ('dms_assessment', Result.dms_assessment)]:
                    with self.subTest(user=user.login, party=party.rec_name,
                            entry_point=name):
                        with undone(), as_user(user):
                            with self.assertRaises(REFUSED + (
                                        RecordNotFound, TargetError,
                                        AssessmentError)):
                                call(party.id)
                        refusals += 1
            # its rows: nothing of others through the models themselves
            with as_user(d1):
                with self.assertRaises(AccessError):
                    Target.search([])
                with self.assertRaises(AccessError):
                    Result.search([])
        FIGURES['portal_refusals'] = refusals

    # two people at once -------------------------------------------------

    def test_decisions_take_turns(self):
        """Two people deciding at once never both pass: each decision
        takes the document's lock (distributor.document.serialize) before
        it reads the state; on PostgreSQL the later of two concurrent
        transactions fails to serialize (the dispatcher retries it and it
        then gets the business answer), on SQLite the second writer waits
        for the first and gets the business answer"""
        pool = Pool(DB_NAME)
        Run = pool.get('distributor.assessment.run')
        Proposal = pool.get('distributor.tier.proposal')
        Result = pool.get('distributor.assessment.result')
        Party = pool.get('party.party')
        w = self.world
        run = lambda k: w.common[k][1]  # noqa: E731
        own = w.mine['own']['race_proposal'][1]
        foreign = w.mine['foreign']['race_proposal'][1]
        races = [
            # approving while a recompute is queued (then while approved)
            ("approved while recomputed", Run,
                lambda: Run.compute([Run(run('run_race_computed'))]),
                lambda: (Run.review([Run(run('run_race_computed'))]),
                    Run.approve([Run(run('run_race_computed'))])),
                (AssessmentError, AccessButtonError)),
            ("approved while cancelled", Run,
                lambda: Run.approve([Run(run('run_race_reviewed'))]),
                lambda: Run.cancel([Run(run('run_race_reviewed'))]),
                (UserError, AccessButtonError)),
            ("accepted twice", Proposal,
                lambda: Proposal.accept([Proposal(own)]),
                lambda: Proposal.accept([Proposal(own)]),
                (UserError, AccessButtonError)),
            ("accepted while refused", Proposal,
                lambda: Proposal.refuse_proposals(
                    [Proposal(foreign)], "No"),
                lambda: Proposal.accept([Proposal(foreign)]),
                (UserError, AccessButtonError)),
            ]
        spied = self._spy_locks()
        pg = backend.name == 'postgresql'
        try:
            for name, Model, first, second, business in races:
                with self.subTest(race=name):
                    self._race(first, second, business, pg)
        finally:
            # the world as it was for the other tests
            with Transaction().start(DB_NAME, 0) as transaction:
                for party, tier in w.tiers.items():
                    Party.write([Party(party)],
                        {'distributor_tier': tier})
                transaction.commit()
        # the decisions serialized on their documents
        self.assertEqual({m for m, _ in spied}, {
                'distributor.assessment.run', 'distributor.tier.proposal'})
        # and the run's adjustment too (its wizard)
        with Transaction().start(DB_NAME, 0,
                context={'company': w.company}) as transaction:
            del spied[:]
            result, = Result.search([
                    ('run', '=', run('run_computed')),
                    ('distributor', '=', w.d1)])
            Result.adjust_scores([result], D(10), "Checked")
            self.assertIn(('distributor.assessment.run',
                    (run('run_computed'),)), spied)
            transaction.rollback()
        self._unspy_locks()
        FIGURES['races'] = len(races)

    def _spy_locks(self):
        "Record the documents each decision serializes on"
        from distributor import document
        spied = []
        original = document.serialize

        def serialize(Model, records):
            spied.append((Model.__name__,
                    tuple(sorted(int(r) for r in records))))
            return original(Model, records)
        document.serialize = serialize
        self._original_serialize = original
        return spied

    def _unspy_locks(self):
        from distributor import document
        document.serialize = self._original_serialize

    def _race(self, first, second, business, pg):
        """first and second at once: on PostgreSQL first's transaction
        has read the document when second's commits; second passes, first
        fails to serialize, and run again (the dispatcher's retry) gets
        the business refusal"""
        User = Pool(DB_NAME).get('res.user')
        company = self.world.company

        def manager():
            user, = User.search([('login', '=', 'manager')])
            return user
        if pg:
            with Transaction().start(DB_NAME, 0,
                    context={'company': company}) as t1:
                user = manager()  # the snapshot is taken
                with Transaction().new_transaction() as t2:
                    with as_user(manager(), company=company):
                        second()
                    t2.tasks.clear()
                    t2.commit()
                with self.assertRaises(backend.DatabaseOperationalError):
                    with as_user(user, company=company):
                        first()
                t1.rollback()
        else:
            with Transaction().start(DB_NAME, 0,
                    context={'company': company}) as t2:
                with as_user(manager(), company=company):
                    second()
                t2.tasks.clear()
                t2.commit()
        with Transaction().start(DB_NAME, 0,
                context={'company': company}) as t1:
            counter = None
            with self.assertRaises(business):
                with undone() as counter, as_user(manager(),
                        company=company):
                    first()
            self.assertIsNotNone(counter)
            t1.tasks.clear()
            t1.rollback()


def _follow(record, path):
    for name in path.split('.'):
        if record is None:
            return None
        record = getattr(record, name)
    return record


# document: (the locked records, the draft one, a field the lock protects)
RAW = {
    'distributor.target': (['target_confirmed', 'target_cancelled'],
        'target_draft', {'amount': D(1)}),
    'distributor.assessment.run': (
        ['run_computed', 'run_reviewed', 'run_approved'], None,
        {'start_date': dt.date(2001, 1, 1)}),
    'distributor.tier.proposal': (
        ['proposal', 'proposal_accepted', 'proposal_refused'], None,
        {'direction': 'down'}),
    }

# model: (domain of the side's records, values of a raw create): written
# by the workflows alone
WORKFLOW_ONLY = {
    'distributor.assessment.result': (
        lambda s: [('run', '=', s.run_approved.id),
            ('distributor', '=', s.party.id)],
        lambda s: {'run': s.run_approved.id, 'distributor': s.party.id,
            'score': D(100), 'grade': 'A'}),
    'distributor.assessment.result.kpi': (
        lambda s: [('result.run', '=', s.run_approved.id),
            ('result.distributor', '=', s.party.id)],
        lambda s: {'result': s.result_computed.id,
            'kpi': _kpi('incidents').id, 'score': D(100),
            'weight': D(100)}),
    'distributor.assessment.result.adjustment': (
        lambda s: [('result.run', '=', s.run_reviewed.id),
            ('result.distributor', '=', s.party.id)],
        lambda s: {'result': s.result_computed.id, 'to_score': D(100),
            'reason': "Forged"}),
    'distributor.assessment.run.log': (
        lambda s: [('document', '=', s.run_approved.id)],
        lambda s: {'document': s.run_approved.id, 'reason': "X"}),
    'distributor.tier.proposal.log': (
        lambda s: [('document', '=', s.proposal_refused.id)],
        lambda s: {'document': s.proposal_refused.id, 'reason': "X"}),
    'distributor.target.log': (
        lambda s: [('document', '=', s.target_confirmed.id)],
        lambda s: {'document': s.target_confirmed.id, 'reason': "X"}),
    }

# model: paths to the distributor a record belongs to (None: the brand's,
# read by every rep)
REACH = {
    'distributor.target': ['distributor'],
    'distributor.target.log': ['document.distributor'],
    'distributor.assessment.kpi': None,
    'distributor.assessment.template': None,
    'distributor.assessment.template-distributor.tier': None,
    'distributor.assessment.template.line': None,
    'distributor.assessment.run': None,
    'distributor.assessment.run-party.party': None,
    'distributor.assessment.run.log': None,
    'distributor.assessment.result': ['distributor'],
    'distributor.assessment.result.kpi': ['result.distributor'],
    'distributor.assessment.result.adjustment': ['result.distributor'],
    'distributor.tier.proposal': ['distributor'],
    'distributor.tier.proposal.log': ['document.distributor'],
    }
