# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Assessment templates and runs: the template's rules (weights summing to
100, thresholds in order, bounds, penalty points, a KPI once), a run over
D1..D4 computed by the queue and compared number by number with a hand
computation (KPI values, scores, weighted score, ranks overall, in the
territory and in the tier, grades), adjustments, review and approval
(grades written, tier changes proposed, accepted or refused), recompute
refused once approved, an empty period, the roles both ways and the
portal's entry point"""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import run_tasks

from ..exceptions import AssessmentError, TemplateValidationError

REFUSED = (AccessError, AccessButtonError, EntryPointRefused)
D = Decimal
CENT = D('0.01')
SELL_IN_STATES = {'confirmed', 'processing', 'done'}


def q(value):
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def kpi(code):
    ModelData = Pool().get('ir.model.data')
    Kpi = Pool().get('distributor.assessment.kpi')
    return Kpi(ModelData.get_id('distributor_assessment', f'kpi_{code}'))


def rank(values):
    "RANK() by value descending: ties share, the next rank skips"
    return {k: 1 + sum(1 for o in values.values() if o > v)
        for k, v in values.items()}


class AssessmentRunTestCase(PortalTestCase):
    "Assessment templates, runs, results and tier change proposals"
    modules = ['distributor_assessment']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Template = pool.get('distributor.assessment.template')
        Target = pool.get('distributor.target')
        Date = pool.get('ir.date')
        with Transaction().set_context(company=world.company):
            today = Date.today()
            start = today - dt.timedelta(days=10)
            end = today + dt.timedelta(days=10)
            template, = Template.create([{
                        'name': "Sales and incidents",
                        'grade_a': D(80), 'grade_b': D(60),
                        'grade_c': D(40),
                        'upgrade_grade': 'A', 'downgrade_grade': 'D',
                        'lines': [('create', [{
                                        'kpi': kpi('sales_attainment').id,
                                        'weight': D(60),
                                        'scoring': 'linear',
                                        'zero_at': D(0), 'full_at': D(100),
                                        }, {
                                        'kpi': kpi('incidents').id,
                                        'weight': D(40),
                                        'scoring': 'penalty',
                                        'penalty_points': D(25),
                                        }])],
                        }])
            # targets: D1 twice its sell-in (50 %), D2 less than its own
            # (over 100 %: clipped), D3 1,000 without sell-in (0 %),
            # D4 none (not applicable)
            sold = {d: cls._sell_in(d, start, end)
                for d in [world.d1, world.d2]}
            targets = Target.create([{
                        'company': world.company, 'distributor': d,
                        'start_date': start, 'end_date': end,
                        'amount': amount,
                        } for d, amount in [
                        (world.d1, (sold[world.d1] * 2) or D(500)),
                        (world.d2, q(sold[world.d2] * D('0.8')) or D(1)),
                        (world.d3, D(1000))]])
            Target.confirm(targets)
            return SimpleNamespace(**vars(world), template=template.id,
                start=start, end=end)

    @staticmethod
    def _sell_in(party, start, end):
        "The sell-in of party over the period, by hand from its sales"
        Sale = Pool().get('sale.sale')
        total = D(0)
        for sale in Sale.search([('party', '=', party),
                    ('state', 'in', list(SELL_IN_STATES)),
                    ('sale_date', '>=', start), ('sale_date', '<=', end)]):
            for line in sale.lines:
                if line.type == 'line' and line.product:
                    total += q(D(str(line.quantity)) * line.unit_price)
        return total

    @staticmethod
    def _incidents(party, start, end):
        "The confirmed incidents naming party in the period, by hand"
        pool = Pool()
        Diversion = pool.get('distributor.diversion.incident')
        Price = pool.get('distributor.price.incident')
        return (Diversion.search_count([('shipped_to', '=', party),
                    ('state', '=', 'confirmed'), ('date', '>=', start),
                    ('date', '<=', end)])
            + Price.search_count([('distributor', '=', party),
                    ('state', '=', 'confirmed'), ('date', '>=', start),
                    ('date', '<=', end)]))

    def setUp(self):
        super().setUp()
        self.w = self.world

    def scratch(self, func):
        "Run func() as root in a transaction rolled back afterwards"
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    return func()
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                finally:
                    transaction.rollback()
                    transaction.tasks.clear()

    def _run(self, start=None, end=None, as_user=None, **values):
        "A computed run of the test template (through the queue)"
        w = self.w
        Run = Pool().get('distributor.assessment.run')
        with acting(as_user or user('manager'), company=w.company):
            run, = Run.create([{
                        'company': w.company,
                        'template': w.template,
                        'start_date': start or w.start,
                        'end_date': end or w.end,
                        **values,
                        }])
            Run.compute([run])
        run_tasks()
        return Run(run.id)

    # Templates ----------------------------------------------------------

    def test_template_validation(self):
        "Weights, thresholds, bounds, penalty points, a KPI once: refused"
        def check():
            Template = Pool().get('distributor.assessment.template')
            Line = Pool().get('distributor.assessment.template.line')

            def lines(*specs):
                return [('create', [{'kpi': kpi(c).id, 'weight': D(w),
                                'scoring': 'linear', 'zero_at': D(0),
                                'full_at': D(100), **extra}
                            for c, w, extra in specs])]
            good = lines(('sales_attainment', 70, {}),
                ('incidents', 30, {}))
            cases = [
                {'lines': lines(('sales_attainment', 70, {}),
                        ('incidents', 20, {}))},
                {'lines': lines(('sales_attainment', 110, {}),
                        ('incidents', -10, {}))},
                {'lines': lines(('sales_attainment', 50, {}),
                        ('sales_attainment', 50, {}))},
                {'lines': good, 'grade_a': D(60), 'grade_b': D(70)},
                {'lines': good, 'grade_a': D(101)},
                {'lines': good, 'grade_c': D(-1)},
                {'lines': good, 'grade_b': D(60), 'grade_c': D(60)},
                {'lines': lines(('sales_attainment', 70, {}),
                        ('incidents', 30, {'full_at': D(0)}))},
                {'lines': lines(('sales_attainment', 70, {}),
                        ('incidents', 30, {'scoring': 'penalty',
                                'penalty_points': D(0)}))},
                {'lines': lines(('sales_attainment', 70, {}),
                        ('incidents', 30, {'scoring': 'penalty',
                                'penalty_points': None}))},
                ]
            for values in cases:
                with self.subTest(values=values):
                    with self.assertRaises(TemplateValidationError) as cm:
                        Template.create([{'name': "Bad", **values}])
                    self.assertTrue(cm.exception.message)
            # a good one passes; its scoring and grades
            template, = Template.create([{'name': "Good", 'lines': good}])
            attainment, incidents = template.lines
            self.assertEqual(attainment.score(D('55.555')), D('55.56'))
            self.assertEqual(attainment.score(D(130)), D(100))
            self.assertIsNone(attainment.score(None))
            self.assertEqual(template.grade(D('85')), 'A')
            self.assertEqual(template.grade(D('70')), 'B')
            self.assertEqual(template.grade(D('69.99')), 'C')
            self.assertEqual(template.grade(D('60')), 'C')
            self.assertEqual(template.grade(D('59.99')), 'D')
            self.assertEqual(template.weighted_score(
                    {attainment.kpi.id: D(50), incidents.kpi.id: None}),
                D(50))
            self.assertEqual(template.weighted_score(
                    {attainment.kpi.id: D(50), incidents.kpi.id: D(80)}),
                D(59))
            # changing a line alone is checked too
            with self.assertRaises(TemplateValidationError):
                Template.write([template], {'grade_c': D(90)})
            with self.assertRaises(TemplateValidationError):
                Line.write([attainment], {'weight': D(50)})
            with self.assertRaises(TemplateValidationError):
                Line.delete([attainment])
            # the shipped template weighs 100 over the ten KPIs
            standard, = Template.search(
                [('name', '=', "Standard distributor assessment")])
            self.assertEqual(len(standard.lines), 10)
            self.assertEqual(standard.total_weight, D(100))
        self.scratch(check)

    def test_template_roles(self):
        "Managers write templates; reps read them; plain users nothing"
        def check():
            Template = Pool().get('distributor.assessment.template')
            values = {'name': "Mine", 'lines': [('create', [{
                                'kpi': kpi('incidents').id,
                                'weight': D(100), 'scoring': 'penalty',
                                'penalty_points': D(10)}])]}
            with acting(user('manager')):
                Template.create([values])
            with acting(user('rep')):
                self.assertTrue(Template.search([]))
                with self.assertRaises(AccessError):
                    Template.create([values])
            with acting(user('plain')):
                with self.assertRaises(AccessError):
                    Template.search([])
        self.scratch(check)

    # Runs ---------------------------------------------------------------

    def _expected(self):
        "Every number of the run, by hand"
        w = self.w
        Party = Pool().get('party.party')
        targets = {}
        Target = Pool().get('distributor.target')
        for target in Target.search([('state', '=', 'confirmed')]):
            targets[target.distributor.id] = target.amount
        parties = [w.d1, w.d2, w.d3, w.d4]
        expected = {}
        for party in parties:
            sold = self._sell_in(party, w.start, w.end)
            attainment = (q(sold * 100 / targets[party])
                if party in targets else None)
            incidents = D(self._incidents(party, w.start, w.end))
            s_att = (None if attainment is None
                else q(min(max(attainment, D(0)), D(100))))
            s_inc = q(max(D(100) - 25 * incidents, D(0)))
            if s_att is None:
                score = s_inc
                weighted = {'incidents': D(40) * s_inc / D(40)}
            else:
                score = q((60 * s_att + 40 * s_inc) / D(100))
                weighted = {'sales_attainment': 60 * s_att / D(100),
                    'incidents': 40 * s_inc / D(100)}
            record = Party(party)
            expected[party] = SimpleNamespace(
                attainment=attainment, incidents=incidents,
                s_att=s_att, s_inc=s_inc, score=score, weighted=weighted,
                tier=record.distributor_tier.id,
                territory=sorted(record.territories,
                    key=lambda t: (t.code, t.id))[0].id)
        return expected

    def _check_ranks(self, run, expected, scores):
        "ranks and grades of the run's results from scores {party: score}"
        grades = {p: ('A' if s >= 80 else 'B' if s >= 60
                else 'C' if s >= 40 else 'D') for p, s in scores.items()}
        overall = rank(scores)
        results = {r.distributor.id: r for r in run.results}
        for party, result in results.items():
            e = expected[party]
            same_tier = {p: s for p, s in scores.items()
                if expected[p].tier == e.tier}
            same_territory = {p: s for p, s in scores.items()
                if expected[p].territory == e.territory}
            self.assertEqual(result.score, scores[party])
            self.assertEqual(result.grade, grades[party])
            self.assertEqual(result.rank, overall[party])
            self.assertEqual(result.rank_tier, rank(same_tier)[party])
            self.assertEqual(result.rank_territory,
                rank(same_territory)[party])
            self.assertEqual(result.tier_count, len(same_tier))
        return grades

    def test_run_flow(self):
        """A run by hand and by the system; adjusted, reviewed, approved:
        grades written, tier changes proposed, accepted and refused;
        recompute refused once approved"""
        w = self.w

        def flow():
            pool = Pool()
            Run = pool.get('distributor.assessment.run')
            Result = pool.get('distributor.assessment.result')
            Proposal = pool.get('distributor.tier.proposal')
            Party = pool.get('party.party')
            Adjust = pool.get('distributor.assessment.result.adjust',
                type='wizard')
            Refuse = pool.get('distributor.tier.proposal.refuse',
                type='wizard')
            expected = self._expected()
            run = self._run()
            self.assertEqual(run.state, 'computed')
            self.assertEqual(run.progress, 1.0)
            self.assertFalse(run.empty)
            self.assertEqual(run.total, 4)
            self.assertTrue(run.number)
            results = {r.distributor.id: r for r in run.results}
            self.assertEqual(set(results), set(expected))
            for party, result in results.items():
                e = expected[party]
                self.assertEqual(result.tier.id, e.tier)
                self.assertEqual(result.territory.id, e.territory)
                self.assertEqual(result.computed_score, e.score)
                self.assertEqual(result.adjustment, D(0))
                lines = {l.kpi.code: l for l in result.kpis}
                self.assertEqual(lines['sales_attainment'].value,
                    e.attainment)
                self.assertEqual(lines['sales_attainment'].score, e.s_att)
                self.assertEqual(lines['incidents'].value, e.incidents)
                self.assertEqual(lines['incidents'].score, e.s_inc)
                self.assertEqual(lines['incidents'].weight, D(40))
                for code, weighted in e.weighted.items():
                    self.assertEqual(lines[code].weighted,
                        weighted.quantize(D('0.0001')))
                if e.s_att is None:
                    self.assertIsNone(lines['sales_attainment'].weighted)
            scores = {p: e.score for p, e in expected.items()}
            self._check_ranks(run, expected, scores)
            # D4 has no target: its attainment does not apply
            self.assertIsNone(expected[w.d4].attainment)

            # adjust D3 to 95 as the manager (a reason required): A now
            d3 = results[w.d3]
            with acting(user('manager'), company=w.company):
                session_id, _, _ = Adjust.create()
            with acting(user('manager'), check_access=False,
                    company=w.company, active_model=Result.__name__,
                    active_id=d3.id, active_ids=[d3.id]):
                session = Adjust(session_id)
                session.start.score = D(95)
                session.start.reason = ''
                with self.assertRaises(Exception):
                    session.transition_adjust()
                session.start.reason = "Opened two new counties"
                session.transition_adjust()
            d3 = Result(d3.id)
            self.assertEqual(d3.score, D(95))
            self.assertEqual(d3.adjustment, D(95) - d3.computed_score)
            log, = d3.adjustments
            self.assertEqual((log.from_score, log.to_score, log.user.login,
                    log.reason), (expected[w.d3].score, D(95), 'manager',
                    "Opened two new counties"))
            scores[w.d3] = D(95)
            grades = self._check_ranks(Run(run.id), expected, scores)
            # reps and plain users may not adjust
            for login in ['rep', 'plain']:
                with acting(user(login), company=w.company):
                    with self.assertRaises(REFUSED):
                        Adjust.create()

            # review, then approve (adjusting is over)
            with acting(user('rep'), company=w.company):
                with self.assertRaises(REFUSED):
                    Run.review([run])
            with acting(user('manager'), company=w.company):
                Run.review([run])
                # the button is gone; called anyway: refused
                with self.assertRaises((AssessmentError, AccessButtonError)):
                    Run.compute([run])
                Run.approve([run])
            run = Run(run.id)
            self.assertEqual(run.state, 'approved')
            self.assertEqual([(l.from_state, l.to_state)
                    for l in reversed(run.state_logs)], [
                    ('draft', 'computing'), ('computing', 'computed'),
                    ('computed', 'reviewed'), ('reviewed', 'approved')])
            with self.assertRaises(AssessmentError) as cm:
                Run.compute([run])
            self.assertIn('new run', cm.exception.message)
            with self.assertRaises(AssessmentError):
                Result.adjust_scores([Result(d3.id)], D(50), "Late")
            for party, grade in grades.items():
                self.assertEqual(Party(party).distributor_grade, grade)
            # tier proposals: A up a level, D down a level, if such a tier
            proposals = {p.distributor.id: p for p in run.proposals}
            tiers = {t.level: t for t in pool.get(
                    'distributor.tier').search([])}
            wanted = {}
            for party, grade in grades.items():
                level = pool.get('distributor.tier')(
                    expected[party].tier).level
                if grade == 'A' and level - 1 in tiers:
                    wanted[party] = ('up', tiers[level - 1].id)
                elif grade == 'D' and level + 1 in tiers:
                    wanted[party] = ('down', tiers[level + 1].id)
            self.assertEqual({p: (x.direction, x.proposed_tier.id)
                    for p, x in proposals.items()}, wanted)
            self.assertIn(w.d3, wanted)
            # D3 up to the tier of its upstream D1: the hierarchy refuses
            up = proposals[w.d3]
            with acting(user('manager'), company=w.company):
                with self.assertRaises(AssessmentError):
                    Proposal.accept([up])
            # refused with a reason, as the manager
            with acting(user('manager'), company=w.company):
                session_id, _, _ = Refuse.create()
            with acting(user('manager'), check_access=False,
                    company=w.company, active_model=Proposal.__name__,
                    active_id=up.id, active_ids=[up.id]):
                session = Refuse(session_id)
                session.start.reason = "Stays under D1"
                session.transition_apply()
            up = Proposal(up.id)
            self.assertEqual((up.state, up.reason), ('refused',
                    "Stays under D1"))
            self.assertEqual(up.state_logs[0].reason, "Stays under D1")
            # an acceptable one changes the tier
            others = [p for d, p in proposals.items() if d != w.d3]
            accepted = None
            for proposal in others:
                try:
                    with acting(user('manager'), company=w.company):
                        Proposal.accept([proposal])
                except AssessmentError:
                    continue
                accepted = Proposal(proposal.id)
                break
            if accepted:
                self.assertEqual(accepted.state, 'accepted')
                self.assertEqual(accepted.distributor.distributor_tier,
                    accepted.proposed_tier)
            with acting(user('rep'), company=w.company):
                self.assertTrue(Proposal.search([]))
                with self.assertRaises(REFUSED):
                    Proposal.accept(Proposal.search(
                            [('state', '=', 'proposed')], limit=1)
                        or [up])
            return run.id

        run_id = self.write(flow)

        def portal():
            Result = Pool().get('distributor.assessment.result')
            with acting(identity(w, 'd1@example.com')):
                values = Result.dms_assessment(w.d1)
                with self.assertRaises(RecordNotFound):
                    Result.dms_assessment(w.d2)
            result, = Result.search([('run', '=', run_id),
                    ('distributor', '=', w.d1)])
            # two decimals, as the portal shows them
            self.assertEqual(values['score'],
                str(D(result.score).quantize(D('0.01'))))
            self.assertEqual(values['grade'], result.grade)
            self.assertEqual(values['rank_tier'], result.rank_tier)
            self.assertEqual(values['tier_count'], result.tier_count)
            self.assertEqual({k['kpi'] for k in values['kpis']},
                {'sales_attainment', 'incidents'})
            thresholds = {'A': None, 'B': D(80), 'C': D(60), 'D': D(40)}
            self.assertEqual(values['points_missing'],
                str(max(thresholds[result.grade] - result.score, D(0))
                    .quantize(D('0.01')))
                if thresholds[result.grade] is not None else None)
            with acting(user('plain')):
                with self.assertRaises(REFUSED):
                    Result.dms_assessment(w.d1)
            # the rep reads its territories' results only
            with acting(user('rep')):
                parties = {r.distributor.id for r in Result.search(
                        [('run', '=', run_id)])}
            self.assertEqual(parties, {w.d1, w.d3})
        self.read(portal)

    def test_run_empty_and_roles(self):
        "An empty period: all 0, said; reps and plain users may not run"
        w = self.w

        def check():
            Run = Pool().get('distributor.assessment.run')
            run = self._run(start=dt.date(2001, 1, 1),
                end=dt.date(2001, 1, 31))
            self.assertEqual(run.state, 'computed')
            self.assertTrue(run.empty)
            self.assertIn('No activity', run.warning)
            self.assertEqual(len(run.results), 4)
            for result in run.results:
                self.assertEqual(result.score, D(0))
                self.assertEqual(result.rank, 1)
            # recompute allowed while computed
            with acting(user('manager'), company=w.company):
                Run.compute([run])
            run_tasks()
            self.assertEqual(len(Run(run.id).results), 4)
            # a scope: a territory, a tier, named distributors
            # (another test may have moved a distributor to another tier
            # through an accepted proposal: the tier's members are read)
            Party = Pool().get('party.party')
            tier = Party(w.d3).distributor_tier.id
            run = self._run(tier=tier)
            self.assertEqual({r.distributor.id for r in run.results},
                {p.id for p in Party.browse([w.d1, w.d2, w.d3, w.d4])
                    if p.distributor_tier.id == tier})
            self.assertIn(w.d3, {r.distributor.id for r in run.results})
            run = self._run(distributors=[('add', [w.d1])])
            self.assertEqual([r.distributor.id for r in run.results],
                [w.d1])
            for login in ['rep', 'plain', 'accountant']:
                with acting(user(login), company=w.company):
                    with self.assertRaises(REFUSED):
                        Run.create([{'company': w.company,
                                    'template': w.template,
                                    'start_date': w.start,
                                    'end_date': w.end}])
                    if login != 'plain':
                        self.assertTrue(Run.search([]))
                    with self.assertRaises(REFUSED):
                        Run.compute([run])
            with acting(user('manager'), company=w.company):
                with self.assertRaises((AssessmentError, ValidationError)):
                    Run.create([{'company': w.company,
                                'template': w.template,
                                'start_date': w.end, 'end_date': w.start}])
        self.scratch(check)
