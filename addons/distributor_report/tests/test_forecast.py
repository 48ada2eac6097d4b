# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Forecasts and dashboards: the seasonal model beats the naive last-value
forecast on the 12 months held out of a seasonal series (generated, and
stored as real sell-in in the world for the SQL path), short histories
fall back to Holt's trend and to the mean, the forecast lines of each user
(reps refused for distributors and territories out of reach, bad input
refused with nothing written); each role's dashboard loads as that role
(its view parses, every action it embeds exists and its model reads)."""
import datetime as dt
import math
import random
from decimal import Decimal

from lxml import etree

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder, PYSONEncoder
from trytond.transaction import Transaction

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from ..exceptions import ForecastError
from ..forecast import add_months, forecast, monthly_series

REFUSED = (AccessError, EntryPointRefused)
# the boards of the roles: (board action, logins that open it)
BOARDS = [
    ('act_board_manager', ['manager']),
    ('act_board_rep', ['rep']),
    ('act_board_accountant', ['accountant']),
    ]


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def seasonal(months, seed=16, base=1000.0, trend=15.0, amplitude=250.0,
        noise=40.0):
    "A monthly series with a trend, a yearly season and noise (seeded)"
    rng = random.Random(seed)
    return [round(base + trend * t
            + amplitude * math.sin(2 * math.pi * t / 12)
            + rng.gauss(0, noise), 2) for t in range(months)]


def mae(predicted, actual):
    return sum(abs(float(p) - float(a))
        for p, a in zip(predicted, actual)) / len(actual)


def store_history(party, product, values, last_month):
    """Sell-in of party: one confirmed sale per month of values (whole
    quantities at unit price 1), the last dated in last_month (created in
    draft, then confirmed and dated in SQL: the history only)"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Company = pool.get('company.company')
    company = Company(Transaction().context['company'])
    address = party.address_get(type='invoice')
    start = add_months(last_month, 1 - len(values))
    to_create = []
    for i, value in enumerate(values):
        to_create.append({
                'company': company.id,
                'currency': company.currency.id,
                'party': party.id,
                'invoice_address': address.id,
                'shipment_address': address.id,
                'sale_date': add_months(start, i).replace(day=10),
                'lines': [('create', [{
                                'type': 'line',
                                'product': product.id,
                                'unit': product.sale_uom.id,
                                'quantity': float(value),
                                'unit_price': Decimal(1),
                                }])],
                })
    sales = Sale.create(to_create)
    sale = Sale.__table__()
    cursor = Transaction().connection.cursor()
    for record, values_ in zip(sales, to_create):
        cursor.execute(*sale.update([sale.state, sale.sale_date],
                ['confirmed', values_['sale_date']],
                where=sale.id == record.id))
    return sales


class ForecastTestCase(PortalTestCase):
    "Forecasts and the dashboards of the roles"
    modules = ['distributor_report']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            world.last_month = add_months(today, -1)
            world.history = [round(v) for v in seasonal(36, seed=7,
                    base=5000.0, trend=40.0, amplitude=1500.0, noise=150.0)]
            store_history(Party(world.d1), Product(world.products.p1),
                world.history, world.last_month)
        return world

    def context(self):
        return Transaction().set_context(company=self.world.company)

    def lines_of(self, login):
        Line = Pool().get('distributor.report.forecast.line')
        User = Pool().get('res.user')
        owner, = User.search([('login', '=', login)])
        return Line.search([('owner', '=', owner.id)])

    # the pure function ------------------------------------------------

    def test_seasonal_beats_naive(self):
        "Holt-Winters on 36 months beats the last value on the 12 next"
        series = seasonal(48)
        train, test = series[:36], series[36:]
        result = forecast(train, 12)
        self.assertEqual(result.method, 'holt_winters')
        model, naive = mae(result.values, test), mae([train[-1]] * 12, test)
        print(f"\ngenerated series: forecast MAE {model:.2f}, "
            f"naive MAE {naive:.2f}")
        self.assertLess(model, naive)
        self.assertEqual(len(result.values), 12)
        for low, value, high in zip(result.lower, result.values,
                result.upper):
            self.assertLessEqual(low, value)
            self.assertLessEqual(value, high)

    def test_short_histories(self):
        "Fewer than 2 seasons: Holt; fewer than 4 months: the mean"
        series = seasonal(23)
        self.assertEqual(forecast(series, 3).method, 'holt')
        self.assertEqual(forecast(series[:4], 3).method, 'holt')
        short = forecast([10, 20, 30], 2)
        self.assertEqual(short.method, 'mean')
        self.assertEqual(short.values, [20.0, 20.0])
        self.assertEqual(forecast([], 2).values, [0.0, 0.0])
        self.assertEqual(forecast([5] * 30, 2).values, [5.0, 5.0])
        # a steep decline never forecasts below zero
        falling = forecast([100, 80, 60, 40, 20, 5], 6)
        self.assertEqual(falling.method, 'holt')
        self.assertTrue(all(v >= 0 for v in falling.values + falling.lower))

    # the SQL path -------------------------------------------------------

    def test_sql_series_holdout(self):
        "The stored sell-in read back by month, forecast beats naive"
        w = self.world

        def check():
            with self.context():
                start = add_months(w.last_month, -35)
                end = add_months(w.last_month, 1) - dt.timedelta(days=1)
                series = monthly_series('sell_in_amount', w.company,
                    start, end, distributor=w.d1)
                territory = Pool().get('party.party')(w.d1).territories[0]
                by_territory = monthly_series('sell_in_amount', w.company,
                    start, end, territory=territory.id)
                foreign = monthly_series('sell_in_amount', w.company,
                    start, end, distributor=w.d2)
            return series, by_territory, foreign
        series, by_territory, foreign = self.read(check)
        self.assertEqual(len(series), 36)
        # the world's own sales of the last months add to the history
        for (month, value), stored in zip(series[:-3], w.history[:-3]):
            self.assertEqual(value, Decimal(str(stored)).quantize(
                    Decimal('0.01')), month)
        self.assertTrue(all(b >= a for (_, a), (_, b) in zip(
                    series, by_territory)), (series, by_territory))
        self.assertTrue(all(v == 0 for _, v in foreign[:-3]))
        values = [float(v) for _, v in series]
        train, test = values[:24], values[24:]
        result = forecast(train, 12)
        self.assertEqual(result.method, 'holt_winters')
        model, naive = mae(result.values, test), mae([train[-1]] * 12, test)
        print(f"\nstored sell-in: forecast MAE {model:.2f}, "
            f"naive MAE {naive:.2f}")
        self.assertLess(model, naive)

    def test_forecast_lines(self):
        "The manager's forecast: 36 actual months, 6 ahead, its own lines"
        w = self.world

        def run():
            Line = Pool().get('distributor.report.forecast.line')
            with self.context(), acting(user('manager')):
                result = Line.dms_forecast('sell_in_amount',
                    distributor=w.d1, months=36, horizon=6)
                again = Line.dms_forecast('sell_in_amount',
                    distributor=w.d1, months=24, horizon=3)
                lines = Line.search([])
                return (result, again, [(l.month, l.actual, l.forecast,
                            l.method) for l in lines])
        result, again, lines = self.write(run)
        self.assertEqual(result['method'], 'holt_winters')
        self.assertEqual(len(result['lines']), 36 + 6)
        # a new forecast replaced the first
        self.assertEqual(len(lines), 24 + 3)
        self.assertEqual(again['method'], 'holt_winters')
        self.assertEqual(lines[23][0], w.last_month.replace(day=1))
        self.assertEqual(lines[23][1], lines[23][2])
        self.assertEqual(lines[-1][0], add_months(w.last_month, 3))
        self.assertIsNone(lines[-1][1])
        self.assertGreaterEqual(lines[-1][2], 0)

        def others():
            Line = Pool().get('distributor.report.forecast.line')
            with self.context(), acting(user('rep')):
                result = Line.dms_forecast('sell_out_amount',
                    territory=w.own.territory, months=6, horizon=2)
                mine = len(Line.search([]))
            with acting(user('manager')):
                theirs = len(Line.search([]))
            return result['method'], mine, theirs
        method, mine, theirs = self.write(others)
        self.assertEqual(method, 'holt')
        # each sees its own forecast only
        self.assertEqual(mine, 6 + 2)
        self.assertEqual(theirs, 24 + 3)

    def test_refused(self):
        "Out of reach, other roles and bad input: refused, nothing written"
        w = self.world
        calls = [
            ('rep', RecordNotFound, {'distributor': w.d2}),
            ('rep', RecordNotFound, {'territory': w.foreign.territory}),
            ('rep', RecordNotFound, {'distributor': 10 ** 6}),
            ('plain', REFUSED, {'distributor': w.d1}),
            ('accountant', REFUSED, {'distributor': w.d1}),
            ('manager', ForecastError, {}),
            ('manager', ForecastError, {'distributor': w.d1,
                    'territory': w.own.territory}),
            ('manager', ForecastError, {'distributor': w.d1, 'months': 0}),
            ('manager', ForecastError, {'distributor': w.d1,
                    'horizon': 1000}),
            ('manager', ForecastError, {'distributor': w.d1,
                    'measure': 'margin'}),
            ]

        def run():
            Line = Pool().get('distributor.report.forecast.line')
            with self.context():
                before = Line.search_count([])
                for login, error, kwargs in calls:
                    kwargs = dict(kwargs)
                    measure = kwargs.pop('measure', 'sell_in_amount')
                    with self.subTest(login=login, kwargs=kwargs):
                        with acting(user(login)), \
                                self.assertRaises(error):
                            Line.dms_forecast(measure, **kwargs)
                return before, Line.search_count([])
        before, after = self.read(run)
        self.assertEqual(before, after)

    def test_wizard(self):
        "The wizard as the rep: forecast of its territory, opened"
        w = self.world

        def run():
            Wizard = Pool().get('distributor.report.forecast', type='wizard')
            with self.context(), acting(user('rep'), check_access=False):
                session_id, _, _ = Wizard.create()
                wizard = Wizard(session_id)
                wizard.start.company = w.company
                wizard.start.scope = 'territory'
                wizard.start.territory = w.own.territory
                wizard.start.distributor = None
                wizard.start.category = None
                wizard.start.measure = 'sell_in_quantity'
                wizard.start.months = 36
                wizard.start.horizon = 6
                self.assertEqual(wizard.transition_compute(), 'open_')
                wizard.start.territory = w.foreign.territory
                with self.assertRaises(RecordNotFound):
                    wizard.transition_compute()
            return [(l.method, l.forecast) for l in self.lines_of('rep')]
        lines = self.write(run)
        self.assertEqual(len(lines), 36 + 6)
        self.assertEqual(lines[0][0], 'holt_winters')

    # the dashboards -----------------------------------------------------

    def test_boards_load(self):
        "Each board as its role: view parses, every action it holds reads"
        def canonical(value):
            return PYSONEncoder(sort_keys=True).encode(
                PYSONDecoder(noeval=True).decode(value or '[]'))

        def check(board, login):
            pool = Pool()
            ActWindow = pool.get('ir.action.act_window')
            ModelData = pool.get('ir.model.data')
            View = pool.get('ir.ui.view')
            Menu = pool.get('ir.ui.menu')
            with self.context(), acting(user(login)):
                action = ActWindow.get(f'distributor_report.{board}')
                self.assertFalse(action.get('res_model'))
                (view_id, type_), = action['views']
                self.assertEqual(type_, 'board')
                arch = View(view_id).view_get()['arch']
                names = [a.get('name') for a in
                    etree.fromstring(arch).iter('action')]
                self.assertTrue(names)
                for name in names:
                    value = ActWindow.get(name)
                    Model = pool.get(value['res_model'])
                    Model.view_toolbar_get()
                    for view_id, type_ in value['views']:
                        Model.fields_view_get(view_id, type_)
                    # sao applies the context domain of a board's action,
                    # not its domain: a filtered action gives both
                    if canonical(value['pyson_domain']) != '[]':
                        self.assertEqual(canonical(value['context_domain']),
                            canonical(value['pyson_domain']), name)
                    context = value.get('context') or {}
                    with Transaction().set_context(context):
                        Model.search_read([], limit=5,
                            fields_names=['rec_name'])
                menu = board.replace('act_board_', 'menu_board_')
                self.assertTrue(Menu.search([('id', '=', ModelData.get_id(
                                    'distributor_report', menu))]), board)
            return names

        for board, logins in BOARDS:
            for login in logins:
                with self.subTest(board=board, login=login):
                    self.read(lambda: check(board, login))  # noqa: B023
        # the accountant has no channel manager's board

        def hidden():
            pool = Pool()
            ModelData = pool.get('ir.model.data')
            Menu = pool.get('ir.ui.menu')
            with acting(user('accountant')):
                return Menu.search([('id', '=', ModelData.get_id(
                                'distributor_report', 'menu_board_manager'))])
        self.assertEqual(self.read(hidden), [])
