# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Trend forecasts: the monthly sell-in (amount or quantity) or sell-out
(amount) of a distributor, or of a territory with its sub-territories
(optionally of a product category), forecast a few months ahead beside the
actual figures.

``forecast(history, horizon)`` is a pure function over a list of monthly
values: Holt-Winters exponential smoothing (damped additive trend and
additive seasonality, statsmodels) with at least two full seasons of
history, Holt's linear trend with at least 4 months, else the mean.  The
model ``distributor.report.forecast.line`` keeps the last forecast of each
user (its actuals and forecasts by month), shown as a line graph and a
list; the wizard ``distributor.report.forecast`` asks the scope and calls
the entry point ``dms_forecast``."""
import datetime as dt
import math
import warnings
from collections import namedtuple
from decimal import Decimal

from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateAction, StateTransition, StateView, \
    Wizard

from distributor.access import entry_point, trusted
from distributor.exceptions import RecordNotFound

from .analysis import period_start
from .exceptions import ForecastError

CENT = Decimal('0.01')
MEASURES = [
    ('sell_in_amount', "Sell-in Amount"),
    ('sell_in_quantity', "Sell-in Quantity"),
    ('sell_out_amount', "Sell-out Amount"),
    ]
METHODS = [
    ('holt_winters', "Holt-Winters (Trend and Seasonality)"),
    ('holt', "Holt's Linear Trend"),
    ('mean', "Mean"),
    ]
MAX_MONTHS = 240
MAX_HORIZON = 36
# the z value of the ~95% interval
Z95 = 1.96

Forecast = namedtuple('Forecast', ['method', 'values', 'lower', 'upper'])


def forecast(history, horizon, season_length=12):
    """Forecast horizon values after the monthly history (a list of
    numbers, oldest first): Forecast(method, values, lower, upper), the
    method one of 'holt_winters' (≥ 2 seasons of history: damped additive
    trend + additive seasonality), 'holt' (≥ 4 values: Holt's linear
    trend) or 'mean' (fewer: the mean of the history); lower and upper
    bound a ~95% interval from the residuals of the fit, widening with the
    step.  Negative values are clipped to 0."""
    values = [float(v or 0) for v in history]
    horizon = int(horizon)
    if horizon <= 0:
        return Forecast('mean', [], [], [])
    n = len(values)
    if n >= 2 * season_length and season_length > 1:
        method = 'holt_winters'
    elif n >= 4:
        method = 'holt'
    else:
        method = 'mean'
    predicted = sigma = None
    if method != 'mean' and max(values) == min(values):
        # a flat series: nothing to fit (statsmodels would warn or fail)
        predicted, sigma = [values[-1]] * horizon, 0.0
    elif method != 'mean':
        try:
            predicted, sigma = _smooth(values, horizon, method,
                season_length)
        except (ValueError, ArithmeticError, IndexError,
                ImportError):
            method = 'mean'
    if method == 'mean':
        mean = sum(values) / n if n else 0.0
        predicted = [mean] * horizon
        sigma = (math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
            if n > 1 else 0.0)
    lower, upper, result = [], [], []
    for step, value in enumerate(predicted, 1):
        if value is None or not math.isfinite(value):
            value = 0.0
        width = Z95 * sigma * (math.sqrt(step) if method != 'mean' else 1)
        result.append(max(value, 0.0))
        lower.append(max(value - width, 0.0))
        upper.append(max(value + width, 0.0))
    return Forecast(method, result, lower, upper)


def _smooth(values, horizon, method, season_length):
    """(forecasts, residual standard deviation) of statsmodels'
    exponential smoothing, its warnings silenced (imported here: the
    import costs seconds)"""
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    endog = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if method == 'holt_winters':
            model = ExponentialSmoothing(endog, trend='add',
                damped_trend=True, seasonal='add',
                seasonal_periods=season_length,
                initialization_method='estimated')
        else:
            model = ExponentialSmoothing(endog, trend='add',
                initialization_method='estimated')
        fit = model.fit()
        predicted = [float(v) for v in fit.forecast(horizon)]
        residuals = endog - np.asarray(fit.fittedvalues, dtype=float)
    if not all(math.isfinite(v) for v in predicted):
        raise ValueError("forecast not finite")
    sigma = float(np.sqrt(np.mean(residuals ** 2))) if len(residuals) else 0
    if not math.isfinite(sigma):
        sigma = 0.0
    return predicted, sigma


def add_months(date, months):
    "The first day of the month months after date's month"
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _date(value):
    "A date from what the database answers (SQLite: ISO text)"
    if value is None or isinstance(value, dt.datetime):
        return value.date() if value else None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _reach():
    """The territory ids the user is limited to (a sales rep who is
    neither channel manager nor DMS administrator), else None; read from
    the user whether or not access is checked, as the record rules do"""
    pool = Pool()
    Rule = pool.get('ir.rule')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return None
    groups = set(User.get_groups())
    unlimited = {ModelData.get_id('distributor', x) for x in [
            'group_dms_admin', 'group_channel_manager']}
    if groups & unlimited:
        return None
    if ModelData.get_id('distributor', 'group_sales_rep') not in groups:
        return None
    return set(Rule._distributor_territories())


def monthly_series(measure, company_id, start, end, distributor=None,
        territory=None, category=None):
    """[(month, value)] of every month from start's to end's (0 when
    nothing sold): the sell-in or sell-out of the distributor or of the
    distributors of the territory and of those below it, of the products
    of the category and of its children, in ONE SQL aggregate"""
    from distributor_assessment import sales
    pool = Pool()
    Category = pool.get('product.category')
    Product = pool.get('product.product')
    TemplateCategory = pool.get('product.template-product.category')
    if measure.startswith('sell_in'):
        lines = sales.sell_in_lines()
    else:
        lines = sales.sell_out_lines()
    start = start.replace(day=1)
    where = ((lines.company == company_id)
        & (lines.date >= start) & (lines.date <= end))
    if distributor is not None:
        where &= lines.distributor == int(distributor)
    if territory is not None:
        pairs = sales.distributor_territories()
        where &= lines.distributor.in_(pairs.select(pairs.distributor,
                where=pairs.territory == int(territory)))
    if category is not None:
        with trusted():
            categories = [c.id for c in Category.search([
                        ('parent', 'child_of', [int(category)])])]
        product = Product.__table__()
        link = TemplateCategory.__table__()
        where &= lines.product.in_(product.join(link,
                condition=link.template == product.template
                ).select(product.id,
                where=fields.SQL_OPERATORS['in'](link.category, categories)))
    value = lines.quantity if measure.endswith('quantity') else lines.amount
    month = period_start(lines.date, 'month')
    cursor = Transaction().connection.cursor()
    cursor.execute(*lines.select(month, Sum(value),
            where=where, group_by=[month]))
    found = {}
    for month_, total in cursor:
        found[_date(month_).replace(day=1)] = total or 0
    result = []
    month_ = start
    while month_ <= end:
        total = found.get(month_, 0)
        if not isinstance(total, Decimal):
            total = Decimal(str(total))
        result.append((month_, total))
        month_ = add_months(month_, 1)
    return result


class ForecastLine(ModelSQL, ModelView):
    """Forecast Line

    One month of the last forecast a user made: the actual figure (past
    months) and the forecast with its interval (the months ahead; also the
    last actual month, so that the graph's lines meet)."""
    __name__ = 'distributor.report.forecast.line'

    owner = fields.Many2One('res.user', "Owner", required=True,
        readonly=True, ondelete='CASCADE')
    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True, ondelete='CASCADE')
    scope = fields.Char("Scope", readonly=True)
    measure = fields.Selection(MEASURES, "Measure", readonly=True)
    method = fields.Selection(METHODS, "Method", readonly=True)
    month = fields.Date("Month", required=True, readonly=True)
    actual = fields.Numeric("Actual", digits=(16, 2), readonly=True)
    forecast = fields.Numeric("Forecast", digits=(16, 2), readonly=True)
    lower = fields.Numeric("Lower Bound", digits=(16, 2), readonly=True,
        help="The lower bound of the ~95% interval of the forecast.")
    upper = fields.Numeric("Upper Bound", digits=(16, 2), readonly=True,
        help="The upper bound of the ~95% interval of the forecast.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'ASC'), ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_forecast': RPC(readonly=False),
                })

    @classmethod
    @entry_point(parties={'distributor': ['distributor']},
        record={'territory': 'distributor.territory',
            'category': 'product.category'})
    def dms_forecast(cls, measure, distributor=None, territory=None,
            category=None, months=36, horizon=6, company=None):
        """Forecast the measure ('sell_in_amount', 'sell_in_quantity',
        'sell_out_amount') of the distributor, or of the territory with
        its sub-territories, of the category (optional) over months of
        history (ending with the last full month) for horizon months.
        The caller's previous forecast lines are replaced.  Returns
        {'method', 'lines': [ids], 'mae': None}: the ids of the new lines.

        A sales rep reaches the distributors and territories of its own
        territories only; others are refused like a missing id."""
        pool = Pool()
        Date = pool.get('ir.date')
        Territory = pool.get('distributor.territory')
        if measure not in dict(MEASURES):
            raise ForecastError(gettext(
                    'distributor_report.msg_forecast_measure',
                    measure=str(measure)[:40]))
        if (distributor is None) == (territory is None):
            raise ForecastError(gettext(
                    'distributor_report.msg_forecast_scope'))
        for name, value, limit in [
                ('months', months, MAX_MONTHS),
                ('horizon', horizon, MAX_HORIZON)]:
            if (isinstance(value, bool) or not isinstance(value, int)
                    or not 1 <= value <= limit):
                raise ForecastError(gettext(
                        'distributor_report.msg_forecast_range',
                        field=name, value=str(value)[:20], limit=limit))
        area = _reach()
        if territory is not None and area is not None and (
                territory.id not in area):
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=Territory.__names__()['model'], id=territory.id))
        company_id = company or Transaction().context.get('company')
        if not company_id:
            raise ForecastError(gettext(
                    'distributor_report.msg_forecast_company'))
        today = Date.today()
        end = today.replace(day=1) - dt.timedelta(days=1)
        start = add_months(end, 1 - months)
        series = monthly_series(measure, int(company_id), start, end,
            distributor=distributor, territory=territory,
            category=category)
        result = forecast([v for _, v in series], horizon)
        scope = (distributor or territory).rec_name
        if category is not None:
            scope += ' / ' + category.rec_name
        owner = Transaction().user or 0
        cls.delete(cls.search([('owner', '=', owner)]))
        common = {
            'owner': owner,
            'company': int(company_id),
            'scope': scope,
            'measure': measure,
            'method': result.method,
            }

        def amount(value):
            return Decimal(str(value)).quantize(CENT)
        to_create = [dict(common, month=month, actual=amount(value))
            for month, value in series]
        if to_create:
            # the forecast starts from the last actual: the lines meet
            to_create[-1]['forecast'] = to_create[-1]['actual']
        month = add_months(end, 1)
        for value, low, high in zip(
                result.values, result.lower, result.upper):
            to_create.append(dict(common, month=month,
                    forecast=amount(value), lower=amount(low),
                    upper=amount(high)))
            month = add_months(month, 1)
        lines = cls.create(to_create)
        return {
            'method': result.method,
            'lines': [l.id for l in lines],
            }


class Rule(metaclass=PoolMeta):
    "The record rule of forecast lines names the user"
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name == 'distributor.report.forecast.line':
            context['user_id'] = Transaction().user
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if 'distributor.report.forecast.line' in model_names:
            key = (*key, Transaction().user)
        return key


SCOPES = [
    ('distributor', "Distributor"),
    ('territory', "Territory"),
    ]


class ForecastStart(ModelView):
    "Forecast"
    __name__ = 'distributor.report.forecast.start'

    company = fields.Many2One('company.company', "Company", required=True)
    scope = fields.Selection(SCOPES, "Scope", required=True)
    distributor = fields.Many2One('party.party', "Distributor",
        domain=[('is_distributor', '=', True)],
        states={
            'invisible': Eval('scope') != 'distributor',
            'required': Eval('scope') == 'distributor',
            })
    territory = fields.Many2One('distributor.territory', "Territory",
        states={
            'invisible': Eval('scope') != 'territory',
            'required': Eval('scope') == 'territory',
            },
        help="The distributors of the territory and of those below it.")
    category = fields.Many2One('product.category', "Product Category",
        help="Only the products of the category and of its children.")
    measure = fields.Selection(MEASURES, "Measure", required=True)
    months = fields.Integer("Months of History", required=True,
        domain=[('months', '>=', 1), ('months', '<=', MAX_MONTHS)],
        help="The months of actual figures the forecast learns from "
        "(ending with the last full month).")
    horizon = fields.Integer("Horizon", required=True,
        domain=[('horizon', '>=', 1), ('horizon', '<=', MAX_HORIZON)],
        help="How many months to forecast.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'distributor'

    @classmethod
    def default_measure(cls):
        return 'sell_in_amount'

    @classmethod
    def default_months(cls):
        return 36

    @classmethod
    def default_horizon(cls):
        return 6


class ForecastWizard(Wizard):
    "Forecast sales"
    __name__ = 'distributor.report.forecast'
    start = StateView('distributor.report.forecast.start',
        'distributor_report.forecast_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Forecast", 'compute', 'tryton-ok', default=True),
            ])
    compute = StateTransition()
    open_ = StateAction('distributor_report.act_forecast_line_form')

    def transition_compute(self):
        Line = Pool().get('distributor.report.forecast.line')
        start = self.start
        # the caller's rights and reach, as from a client call
        with check_access():
            Line.dms_forecast(start.measure,
                distributor=(start.distributor.id
                    if start.scope == 'distributor' and start.distributor
                    else None),
                territory=(start.territory.id
                    if start.scope == 'territory' and start.territory
                    else None),
                category=start.category.id if start.category else None,
                months=start.months, horizon=start.horizon,
                company=start.company.id)
        return 'open_'

    def do_open_(self, action):
        return action, {}
