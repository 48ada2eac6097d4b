# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary of distributor_report, walked: every entry point and
wizard of the module called as every role (staff and portal accounts of
distributors and stores), for the rep's own side (D1, Jiangsu, its store
S1) and a foreign one (D2, S3); what a sales rep reads of the analyses
(the distributors, territories and totals of its territories only,
compared with the one definition of sell-in and sell-out summed here);
the portal's figures of its own party only.

The expected tables below are written from what the product intends (the
issue and the docstrings), apart from the XML they check."""
from decimal import Decimal
from types import SimpleNamespace

from sql.aggregate import Sum

from trytond.model import ModelSQL
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import StateView

from distributor.exceptions import RecordNotFound
from distributor.tests.tools import with_transaction
from distributor.tests.trust import as_user, undone, wizard_actions
from distributor_assessment import sales
from distributor_portal.tests.tools import PortalTestCase, build_portal_world
from distributor_portal.tests.trust import TrustWalk, write_figures

PACKAGE = 'distributor_report'
D = Decimal
CENT = D('0.01')

STAFF = ['admin', 'manager', 'rep', 'accountant', 'plain']
# the portal accounts of distributors and of stores
DISTRIBUTORS = {
    'd1': ('d1@example.com', 'own'),
    'd1_view': ('d1-view@example.com', 'own'),
    'd2': ('d2@example.com', 'foreign'),
    }
STORES = {
    's1': ('s1@example.com', 'own'),
    's3': ('s3@example.com', 'foreign'),
    }
PORTAL = {**DISTRIBUTORS, **STORES}
ROLES = STAFF + list(PORTAL)
A = frozenset({'admin', 'manager'})
AR = A | {'rep'}
ALL = AR | {'accountant'}
P = frozenset(PORTAL)
REFUSED = (AccessError, AccessButtonError)

# (model, entry point): (roles allowed by the groups, call(Model, side,
# world)).  A rep reaches its own side only, a portal account its party's
# side.
ENTRY_POINTS = {
    ('distributor.report.forecast.line', 'dms_forecast'): (AR,
        lambda M, s, n: M.dms_forecast('sell_in_amount',
            distributor=s.party.id, months=12, horizon=3,
            company=n.company)),
    # the portal's pages: every portal account by its group, its own
    # party only by the entry point (see NARROWED)
    ('distributor.report.portal', 'dms_sales_analysis'): (AR | P,
        lambda M, s, n: M.dms_sales_analysis(s.party.id, months=6)),
    ('distributor.report.portal', 'dms_store_purchases'): (AR | P,
        lambda M, s, n: M.dms_store_purchases(s.store.id, months=6)),
    }
# the roles a group allows but the entry point's own-party check refuses
# (a distributor's page is not a store's, and the reverse)
NARROWED = {
    ('distributor.report.portal', 'dms_sales_analysis'): frozenset(STORES),
    ('distributor.report.portal', 'dms_store_purchases'): frozenset(
        DISTRIBUTORS),
    }
DECLARED_OTHERWISE = {}

# wizard: (roles allowed, model, records of the side, [(state, data)])
WIZARDS = {
    'distributor.report.export': (ALL,
        'distributor.report.sell_in.distributor', lambda s: [],
        [('result', {'start': {'format': 'xlsx', 'rows': None,
                        'filters': None}})]),
    'distributor.report.forecast': (AR, None, lambda s: [],
        [('compute', {'start': {'company': None, 'scope': 'distributor',
                        'distributor': None, 'territory': None,
                        'category': None, 'measure': 'sell_in_amount',
                        'months': 12, 'horizon': 3}})]),
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


def _cents(value):
    return D(str(value or 0)).quantize(CENT)


class ReportTrustTestCase(TrustWalk, PortalTestCase):
    "The trust boundary of distributor_report, walked"
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
        return build_portal_world()

    def _side(self, key):
        pool = Pool()
        base = getattr(self.world, key)
        side = SimpleNamespace(key=key)
        for name, model in BASE.items():
            setattr(side, name, pool.get(model)(getattr(base, name)))
        return side

    def _world(self):
        return SimpleNamespace(sides={k: self._side(k)
                for k in ['own', 'foreign']}, users=self._users(),
            company=self.world.company)

    def _allowed(self, model, name, allowed):
        allowed = super()._allowed(model, name, allowed)
        return allowed - NARROWED.get((model, name), frozenset())

    def _identity(self, email):
        WebUser = Pool().get('web.user')
        return WebUser(self.world.accounts[email]).dms_user

    # the tests ----------------------------------------------------------

    @with_transaction()
    def test_wizards_by_role(self):
        "Each wizard run as every role, for its own and a foreign party"
        pool = Pool()
        calls = 0
        with self._company():
            n = self._world()
            for name, (allowed, model, records, steps) in sorted(
                    WIZARDS.items()):
                for role in ROLES:
                    for side in ['own', 'foreign']:
                        expected = self._expected(role, side, allowed)
                        if name == 'distributor.report.export':
                            # no party: the rep exports its own reach
                            expected = role in allowed
                        s = n.sides[side]
                        def call(s=s):
                            return self._run_wizard(pool, name, model,
                                records(s), self._steps(s, steps))
                        with self.subTest(wizard=name, role=role,
                                side=side):
                            if role in allowed and not expected:
                                # run, then refused on the party: the
                                # session is kept, no line is written
                                self._check_reach_refused(
                                    n.users[role], call)
                            else:
                                self._check_call(expected, n.users[role],
                                    call)
                        self._raise_restart()
                        calls += 1
        FIGURES['wizard_calls'] = calls

    def _check_reach_refused(self, user, call):
        Line = Pool().get('distributor.report.forecast.line')
        before = Line.search([], order=[])
        with undone():
            with self.assertRaises(REFUSED):
                with as_user(user):
                    call()
            self.assertEqual(Line.search([], order=[]), before)

    def _steps(self, s, steps):
        result = []
        for state, values in steps:
            start = dict(values['start'])
            if 'distributor' in start:
                start.update(company=self.world.company,
                    distributor=s.party.id)
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
    def test_every_model_is_classified(self):
        "A new model of the module says how a rep's reach applies to it"
        pool = Pool()
        models = set()
        for name, Model in pool.iterobject():
            if not issubclass(Model, ModelSQL):
                continue
            origin = [k for k in Model.__mro__
                if k.__dict__.get('__name__') == name]
            # the analyses per dimension are made by a factory
            if (origin and origin[-1].__module__.split('.')[0] == PACKAGE
                    or name.startswith('distributor.report.')):
                models.add(name)
        self.assertEqual(models - set(REACH), set())
        self.assertEqual(set(REACH) - models, set())

    @with_transaction()
    def test_reps_read_their_parties_data_only(self):
        """Each analysis read as each rep holds the distributors and the
        territories of its territories only, and its totals are the
        sell-in and sell-out of its distributors summed from the lines"""
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
            parties = Party.search([('is_distributor', '=', True)])
            totals = {source: self._totals(source)
                for source in ['sell_in', 'sell_out']}
            for key, (user, area) in reps.items():
                mine = {p.id for p in parties
                    if {t.id for t in p.territories} & area}
                self.assertTrue(mine)
                expected_total = {source: sum((v for p, v in by.items()
                            if p in mine), D(0))
                    for source, by in totals.items()}
                self.assertTrue(expected_total['sell_in'])
                for model, (kind, total) in sorted(REACH.items()):
                    if kind is None:
                        continue
                    Model = pool.get(model)
                    everything = Model.search([], order=[])
                    with self.subTest(rep=key, model=model):
                        with as_user(user):
                            seen = Model.search([], order=[])
                            if kind == 'distributor':
                                parts = {r.distributor.id for r in seen}
                            elif kind == 'territory':
                                parts = {r.territory.id for r in seen}
                            amount = sum((_cents(r.amount) for r in seen),
                                D(0)) if total else None
                        if kind == 'distributor':
                            every = {r.distributor.id for r in everything}
                            self.assertEqual(parts, every & mine)
                            if every:
                                self.assertNotEqual(every & mine, every)
                        elif kind == 'territory':
                            self.assertLessEqual(parts, area)
                        if total:
                            self.assertEqual(amount, expected_total[total])
                        compared += len(everything)
        FIGURES['reach_records_compared'] = compared

    def _totals(self, source):
        "{distributor: amount} of the lines of source, summed here"
        lines = (sales.sell_in_lines() if source == 'sell_in'
            else sales.sell_out_lines())
        cursor = Transaction().connection.cursor()
        cursor.execute(*lines.select(lines.distributor, Sum(lines.amount),
                where=lines.company == self.world.company,
                group_by=[lines.distributor]))
        return {p: _cents(a) for p, a in cursor}

    @with_transaction()
    def test_portal_reaches_its_own_party(self):
        """A portal account reads the figures of its own party only: not
        its downstream distributor's, its store's or another's"""
        pool = Pool()
        Portal = pool.get('distributor.report.portal')
        Line = pool.get('distributor.report.forecast.line')
        w = self.world
        refusals = 0
        with self._company():
            n = self._world()
            own = n.sides['own']
            d1 = self._identity('d1@example.com')
            d3 = self._identity('d3@example.com')
            s1 = self._identity('s1@example.com')
            with as_user(d1):
                values = Portal.dms_sales_analysis(own.party.id)
            self.assertEqual(values['party']['id'], own.party.id)
            with as_user(s1):
                values = Portal.dms_store_purchases(own.store.id)
            self.assertEqual(values['party']['id'], own.store.id)
            for user, call in [
                    (d1, lambda: Portal.dms_sales_analysis(w.d3)),
                    (d1, lambda: Portal.dms_sales_analysis(w.d2)),
                    (d1, lambda: Portal.dms_store_purchases(w.s1)),
                    (d3, lambda: Portal.dms_sales_analysis(w.d1)),
                    (s1, lambda: Portal.dms_sales_analysis(w.d1)),
                    (s1, lambda: Portal.dms_store_purchases(w.s3)),
                    (s1, lambda: Portal.dms_store_purchases(w.s2)),
                    (d1, lambda: Line.dms_forecast('sell_in_amount',
                            distributor=w.d1, company=w.company)),
                    ]:
                with self.subTest(user=user.login, call=refusals):
                    with undone() as counter, as_user(user):
                        with self.assertRaises(REFUSED + (RecordNotFound,)):
                            call()
                    self.assertEqual(Transaction().counter, counter + 1)
                refusals += 1
            # nor any analysis through the models themselves
            with as_user(d1):
                for model in ['distributor.report.sell_in.distributor',
                        'distributor.report.receivable.distributor']:
                    with self.assertRaises(AccessError):
                        pool.get(model).search([])
        FIGURES['portal_refusals'] = refusals


# model: (what a rep's reach is checked on: 'distributor' (the
# distributors of its territories), 'territory' (its territories), None
# (not a rep's: checked by the walk or the owner rule), the source whose
# total its amounts sum to or None)
REACH = {
    'distributor.report.sell_in': (None, 'sell_in'),
    'distributor.report.sell_in.time_series': (None, 'sell_in'),
    'distributor.report.sell_out': (None, 'sell_out'),
    'distributor.report.sell_out.time_series': (None, 'sell_out'),
    'distributor.report.sell_in.distributor': ('distributor', 'sell_in'),
    'distributor.report.sell_in.distributor.time_series': (
        'distributor', 'sell_in'),
    'distributor.report.sell_out.distributor': ('distributor', 'sell_out'),
    'distributor.report.sell_out.distributor.time_series': (
        'distributor', 'sell_out'),
    'distributor.report.sell_in.tier': (None, 'sell_in'),
    'distributor.report.sell_in.tier.time_series': (None, 'sell_in'),
    'distributor.report.sell_out.tier': (None, 'sell_out'),
    'distributor.report.sell_out.tier.time_series': (None, 'sell_out'),
    # trees: a territory or a category counts those below (no total)
    'distributor.report.sell_in.territory': ('territory', None),
    'distributor.report.sell_in.territory.time_series': ('territory', None),
    'distributor.report.sell_out.territory': ('territory', None),
    'distributor.report.sell_out.territory.time_series': (
        'territory', None),
    'distributor.report.sell_in.category': (None, None),
    'distributor.report.sell_in.category.time_series': (None, None),
    'distributor.report.sell_out.category': (None, None),
    'distributor.report.sell_out.category.time_series': (None, None),
    'distributor.report.sell_in.product': (None, 'sell_in'),
    'distributor.report.sell_in.product.time_series': (None, 'sell_in'),
    'distributor.report.sell_out.product': (None, 'sell_out'),
    'distributor.report.sell_out.product.time_series': (None, 'sell_out'),
    'distributor.report.stock.distributor': ('distributor', None),
    'distributor.report.stock.product': (None, None),
    'distributor.report.stock.territory': ('territory', None),
    'distributor.report.receivable.distributor': ('distributor', None),
    'distributor.report.receivable.tier': (None, None),
    'distributor.report.receivable.territory': ('territory', None),
    'distributor.report.receivable.time_series': (None, None),
    'distributor.report.ranking.distributor': ('distributor', None),
    'distributor.report.ranking.product': ('territory', None),
    'distributor.report.forecast.line': (None, None),
    }
