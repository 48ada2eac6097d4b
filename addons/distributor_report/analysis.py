# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The channel's analyses, after trytond's sale_reporting: a context (the
filters), an abstract table_query model grouped by a dimension, one model
per dimension with its time series by the context's period, and graph and
list views.

- Sell-in and sell-out (distributor_assessment.sales, the one definition)
  by distributor (with the target and attainment of the period), tier,
  territory (a tree: a territory counts each distributor of it and of
  the territories below it once), product category (with its children),
  product, and the whole channel; each with its time series.
- Channel stock at the context's date (distributor_stock.level's moves
  into and out of the distributors' storage) by distributor, product and
  territory: quantity and value (at the product's cost price).
- Receivables by distributor, tier and territory: invoiced (debit of the
  receivable accounts) and collected (credit) over the period, balance
  and overdue at its end (distributor_account.receivable.open_lines),
  and the invoiced/collected time series.

Every model honours the filters of the context and the caller's reach (a
sales rep: the distributors of its territories)."""
import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Column, Expression, Literal, Null, Union, With
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Ceil, DateTrunc, Extract, Function, Log, Power
from sql.operators import Concat

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import pairwise_longest
from trytond.tools.chart import sparkline
from trytond.transaction import Transaction

from distributor_assessment import sales

ZERO = Decimal(0)
CENT = Decimal('0.01')
PERIODS = [
    ('day', "Day"),
    ('week', "Week"),
    ('month', "Month"),
    ('quarter', "Quarter"),
    ('year', "Year"),
    ]
DELTAS = {
    'day': relativedelta(days=1),
    'week': relativedelta(weeks=1),
    'month': relativedelta(months=1),
    'quarter': relativedelta(months=3),
    'year': relativedelta(years=1),
    }


def amount(value):
    "A Decimal of two places from what the database answers"
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)


def to_date(value):
    "A date from a context value or a database answer (SQLite: text)"
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class _SQLiteDate(Function):
    __slots__ = ()
    _function = 'DATE'


class _DateTrunc(Expression):
    "DATE_TRUNC('<period>', column) with the period (one of PERIODS) inline"
    __slots__ = ('_period', '_column')

    def __init__(self, period, column):
        super().__init__()
        assert period in DELTAS
        self._period = period
        self._column = column

    def __str__(self):
        return f"DATE_TRUNC('{self._period}', {self._column})"

    @property
    def params(self):
        return self._column.params


def period_start(column, period):
    """The first day of the period (day, week from Monday, month, quarter,
    year) of the date column, on both backends: DATE_TRUNC, which
    trytond provides on SQLite for day, month and year; SQLite's DATE
    modifiers for week and quarter"""
    if period not in DELTAS:
        period = 'month'
    if backend.name == 'sqlite' and period == 'week':
        return _SQLiteDate(column, 'weekday 0', '-6 days')
    if backend.name == 'sqlite' and period == 'quarter':
        month = Extract('MONTH', column)
        back = Case((month.in_([1, 4, 7, 10]), '0'),
            (month.in_([2, 5, 8, 11]), '1'), else_='2')
        return _SQLiteDate(column, 'start of month',
            Concat(Concat('-', back), ' months'))
    if backend.name != 'sqlite':
        # the period written in the SQL, not as a parameter: PostgreSQL
        # binds each parameter apart, so a DATE_TRUNC($1, …) selected and
        # a DATE_TRUNC($2, …) grouped by would not be the same expression
        return _DateTrunc(period, column)
    return DateTrunc(period, column)


def category_closure():
    """(ancestor, category) of the product category tree, each category
    with itself, recursive (a category counts its children)"""
    Category = Pool().get('product.category')
    category = Category.__table__()
    child = Category.__table__()
    closure = With('ancestor', 'category', recursive=True)
    closure.query = Union(
        category.select(category.id, category.id),
        closure.join(child, condition=child.parent == closure.category
            ).select(closure.ancestor, child.id),
        all_=True)
    return closure


def product_categories():
    """(product, category) pairs: each product with each of its categories
    and every category above them, once per pair"""
    pool = Pool()
    Product = pool.get('product.product')
    TemplateCategory = pool.get('product.template-product.category')
    product = Product.__table__()
    link = TemplateCategory.__table__()
    closure = category_closure()
    return (product
        .join(link, condition=link.template == product.template)
        .join(closure, condition=closure.category == link.category)
        .select(product.id.as_('product'), closure.ancestor.as_('category'),
            group_by=[product.id, closure.ancestor],
            with_=[closure]))


def context_filter(distributor, product=None, date=None, company=None,
        dates=True, reach=True):
    """The condition of the context's filters on the columns given:
    company, from/to date, distributor, tier, territory (with the
    territories below), category (with its children), product; and the
    caller's reach (a sales rep: the distributors of its territories)"""
    pool = Pool()
    Party = pool.get('party.party')
    PartyTerritory = pool.get('party.party-distributor.territory')
    context = Transaction().context
    where = Literal(True)
    if company is not None:
        where &= company == (context.get('company') or -1)
    if dates and date is not None:
        if context.get('from_date'):
            where &= date >= to_date(context['from_date'])
        if context.get('to_date'):
            where &= date <= to_date(context['to_date'])
    if context.get('distributor'):
        where &= distributor == int(context['distributor'])
    if context.get('tier'):
        party = Party.__table__()
        where &= distributor.in_(party.select(party.id,
                where=party.distributor_tier == int(context['tier'])))
    if context.get('territory'):
        pairs = sales.distributor_territories()
        where &= distributor.in_(pairs.select(pairs.distributor,
                where=pairs.territory == int(context['territory'])))
    if product is not None:
        if context.get('product'):
            where &= product == int(context['product'])
        if context.get('category'):
            pairs = product_categories()
            where &= product.in_(pairs.select(pairs.product,
                    where=pairs.category == int(context['category'])))
    if reach:
        area = Party.dms_reach_territories()
        if area is not None:
            link = PartyTerritory.__table__()
            where &= distributor.in_(link.select(link.party,
                    where=fields.SQL_OPERATORS['in'](
                        link.territory, sorted(area) or [-1])))
    return where


def id_base(Model):
    """A power of ten above the ids of Model: line id × base + dimension
    id is a stable unique id (sale_reporting's way)"""
    table = Model.__table__()
    return table.select(Power(10, (Ceil(Log(Max(table.id))) + Literal(1))))


class Context(ModelView):
    "Channel Analysis Context"
    __name__ = 'distributor.report.context'

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date("From Date",
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ])
    to_date = fields.Date("To Date",
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ])
    period = fields.Selection(PERIODS, "Period", required=True, sort=False)
    date = fields.Date("Stock Date", required=True,
        help="The date of the channel stock.")
    distributor = fields.Many2One('party.party', "Distributor",
        domain=[('is_distributor', '=', True)])
    tier = fields.Many2One('distributor.tier', "Tier")
    territory = fields.Many2One('distributor.territory', "Territory",
        help="The distributors of the territory and of the territories "
        "below it.")
    category = fields.Many2One('product.category', "Category",
        help="The products of the category and of its children.")
    product = fields.Many2One('product.product', "Product")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_date(cls):
        context = Transaction().context
        if 'from_date' in context:
            return context['from_date']
        return Pool().get('ir.date').today() - relativedelta(years=1)

    @classmethod
    def default_to_date(cls):
        context = Transaction().context
        if 'to_date' in context:
            return context['to_date']
        return Pool().get('ir.date').today()

    @classmethod
    def default_period(cls):
        return Transaction().context.get('period', 'month')

    @classmethod
    def default_date(cls):
        context = Transaction().context
        if 'date' in context:
            return context['date']
        return Pool().get('ir.date').today()

    @classmethod
    def default_distributor(cls):
        return Transaction().context.get('distributor')

    @classmethod
    def default_tier(cls):
        return Transaction().context.get('tier')

    @classmethod
    def default_territory(cls):
        return Transaction().context.get('territory')

    @classmethod
    def default_category(cls):
        return Transaction().context.get('category')

    @classmethod
    def default_product(cls):
        return Transaction().context.get('product')


# Sell-in and sell-out --------------------------------------------------

class Abstract(ModelSQL):
    "The sales lines of the source grouped by the model's dimension"
    _source = None  # 'sell_in' or 'sell_out'

    company = fields.Many2One('company.company', "Company")
    number = fields.Integer("Orders",
        help="The number of orders.")
    quantity = fields.Float("Quantity")
    amount = fields.Numeric("Amount", digits=(16, 2))
    amount_trend = fields.Function(fields.Char("Amount Trend"), 'get_trend')
    time_series = None

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'ASC')]

    @classmethod
    def table_query(cls):
        from_item, tables = cls._joins()
        return from_item.select(*cls._columns(tables),
            where=cls._where(tables),
            group_by=cls._group_by(tables))

    @classmethod
    def _lines(cls):
        "The source's lines under the context's filters and reach"
        if cls._source == 'sell_out':
            lines = sales.sell_out_lines()
        else:
            lines = sales.sell_in_lines()
        order = Column(lines, 'order' if cls._source == 'sell_out' else 'sale')
        return lines.select(
            lines.id, order.as_('order'), lines.company, lines.date,
            lines.distributor, lines.product, lines.quantity, lines.amount,
            where=context_filter(lines.distributor, lines.product,
                lines.date, lines.company))

    @classmethod
    def _joins(cls):
        line = cls._lines()
        return line, {'line': line}

    @classmethod
    def _columns(cls, tables):
        line = tables['line']
        return [
            cls._column_id(tables).as_('id'),
            line.company.as_('company'),
            Count(line.order, distinct=True).as_('number'),
            Sum(line.quantity).as_('quantity'),
            cls.amount.sql_cast(Sum(line.amount)).as_('amount'),
            ]

    @classmethod
    def _column_id(cls, tables):
        return Min(tables['line'].id)

    @classmethod
    def _group_by(cls, tables):
        return [tables['line'].company]

    @classmethod
    def _where(cls, tables):
        return Literal(True)

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        # SQLite answers floats for the NUMERIC sums
        for record in records:
            if record.get('amount') is not None:
                record['amount'] = amount(record['amount'])
        return records

    @property
    def time_series_all(self):
        delta = DELTAS.get(Transaction().context.get('period', 'month'))
        for ts, next_ts in pairwise_longest(self.time_series or []):
            yield ts
            if delta and next_ts:
                date = ts.date + delta
                while date < next_ts.date:
                    yield None
                    date += delta

    def get_trend(self, name):
        name = name[:-len('_trend')]
        return sparkline([
                float(getattr(ts, name) or 0) if ts else 0
                for ts in self.time_series_all])


class AbstractTimeseries(Abstract):
    "The lines grouped by the dimension and the context's period"

    date = fields.Date("Date")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            cls._column_date(tables).as_('date')]

    @classmethod
    def _column_date(cls, tables):
        period = Transaction().context.get('period', 'month')
        return cls.date.sql_cast(period_start(tables['line'].date, period))

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [cls._column_date(tables)]

    def get_trend(self, name):
        return None


class _Main:
    __slots__ = ()

    def get_rec_name(self, name):
        return ''

    def get_time_series(self, name):
        Timeseries = Pool().get(self.__name__ + '.time_series')
        return [t.id for t in Timeseries.search([])]


class DistributorMixin:
    __slots__ = ()
    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")


    @classmethod
    def _joins(cls):
        Party = Pool().get('party.party')
        from_item, tables = super()._joins()
        if 'party' not in tables:
            party = tables['party'] = Party.__table__()
            from_item = from_item.join(party,
                condition=tables['line'].distributor == party.id)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            tables['line'].distributor.as_('distributor'),
            Max(tables['party'].distributor_tier).as_('tier')]

    @classmethod
    def _dimension_column(cls, tables):
        return tables['line'].distributor

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [tables['line'].distributor]

    def get_rec_name(self, name):
        return self.distributor.rec_name if self.distributor else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('distributor.rec_name', *clause[1:])]


class TierMixin:
    __slots__ = ()
    tier = fields.Many2One('distributor.tier', "Tier")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def _joins(cls):
        Party = Pool().get('party.party')
        from_item, tables = super()._joins()
        if 'party' not in tables:
            party = tables['party'] = Party.__table__()
            from_item = from_item.join(party,
                condition=tables['line'].distributor == party.id)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            tables['party'].distributor_tier.as_('tier'),
            Count(tables['line'].distributor, distinct=True).as_(
                'distributor_count')]

    @classmethod
    def _dimension_column(cls, tables):
        return tables['party'].distributor_tier

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [tables['party'].distributor_tier]

    @classmethod
    def _where(cls, tables):
        return super()._where(tables) & (
            tables['party'].distributor_tier != Null)

    def get_rec_name(self, name):
        return self.tier.rec_name if self.tier else ''


class TerritoryMixin:
    """Each line once under each territory of its distributor and every
    territory above them"""
    __slots__ = ()
    territory = fields.Many2One('distributor.territory', "Territory")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def _joins(cls):
        from_item, tables = super()._joins()
        pairs = tables['pairs'] = sales.distributor_territories()
        from_item = from_item.join(pairs,
            condition=pairs.distributor == tables['line'].distributor)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            tables['pairs'].territory.as_('territory'),
            Count(tables['line'].distributor, distinct=True).as_(
                'distributor_count')]

    @classmethod
    def _column_id(cls, tables):
        Territory = Pool().get('distributor.territory')
        return cls.id.sql_cast(Min(tables['line'].id * id_base(Territory)
                + tables['pairs'].territory))

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [tables['pairs'].territory]

    def get_rec_name(self, name):
        return self.territory.rec_name if self.territory else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('territory.rec_name', *clause[1:])]


class TerritoryTreeMixin(TerritoryMixin):
    "The territory rows as a tree (parent, children)"
    __slots__ = ()

    @classmethod
    def _joins(cls):
        Territory = Pool().get('distributor.territory')
        from_item, tables = super()._joins()
        node = tables['node'] = Territory.__table__()
        from_item = from_item.join(node,
            condition=node.id == tables['pairs'].territory)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            Max(tables['node'].parent).as_('parent')]

    @classmethod
    def _column_id(cls, tables):
        return tables['pairs'].territory


class CategoryMixin:
    """Each line once under each category of its product and every
    category above them"""
    __slots__ = ()
    category = fields.Many2One('product.category', "Category")

    @classmethod
    def _joins(cls):
        from_item, tables = super()._joins()
        pairs = tables['categories'] = product_categories()
        from_item = from_item.join(pairs,
            condition=pairs.product == tables['line'].product)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            tables['categories'].category.as_('category')]

    @classmethod
    def _column_id(cls, tables):
        Category = Pool().get('product.category')
        return cls.id.sql_cast(Min(tables['line'].id * id_base(Category)
                + tables['categories'].category))

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [tables['categories'].category]

    def get_rec_name(self, name):
        return self.category.rec_name if self.category else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('category.rec_name', *clause[1:])]


class CategoryTreeMixin(CategoryMixin):
    __slots__ = ()

    @classmethod
    def _joins(cls):
        Category = Pool().get('product.category')
        from_item, tables = super()._joins()
        node = tables['category_node'] = Category.__table__()
        from_item = from_item.join(node,
            condition=node.id == tables['categories'].category)
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            Max(tables['category_node'].parent).as_('parent')]

    @classmethod
    def _column_id(cls, tables):
        return tables['categories'].category


class ProductMixin:
    __slots__ = ()
    product = fields.Many2One('product.product', "Product")

    @classmethod
    def _columns(cls, tables):
        return super()._columns(tables) + [
            tables['line'].product.as_('product')]

    @classmethod
    def _dimension_column(cls, tables):
        return tables['line'].product

    @classmethod
    def _group_by(cls, tables):
        return super()._group_by(tables) + [tables['line'].product]

    def get_rec_name(self, name):
        return self.product.rec_name if self.product else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('product.rec_name', *clause[1:])]


def targets_query(from_date, to_date_, company_id, distributors=None):
    """Σ amount of the confirmed targets without category lying inside
    [from_date, to_date] per distributor: columns distributor, target;
    None when the target model is not there"""
    pool = Pool()
    try:
        Target = pool.get('distributor.target')
    except KeyError:
        return None
    target = Target.__table__()
    where = ((target.state == 'confirmed')
        & (target.category == Null)
        & (target.amount != Null)
        & (target.company == company_id))
    if from_date:
        where &= target.start_date >= from_date
    if to_date_:
        where &= target.end_date <= to_date_
    if distributors is not None:
        where &= fields.SQL_OPERATORS['in'](
            target.distributor, sorted(distributors) or [-1])
    return target.select(target.distributor.as_('distributor'),
        Sum(target.amount).as_('target'),
        where=where, group_by=[target.distributor])


def attainment(actual, target):
    "actual ÷ target × 100, two places; None without a target"
    if not target:
        return None
    return ((actual or ZERO) * 100 / target).quantize(CENT)


class SellInContextMixin:
    __slots__ = ()
    _source = 'sell_in'


class SellOutContextMixin:
    __slots__ = ()
    _source = 'sell_out'


def _main(source, name, doc):
    Base = SellInContextMixin if source == 'sell_in' else SellOutContextMixin
    prefix = f'distributor.report.{name}'

    class Main(_Main, Base, Abstract, ModelView):
        __doc__ = doc
        __name__ = prefix
        time_series = fields.Function(fields.Many2Many(
                prefix + '.time_series', None, None, "Time Series"),
            'get_time_series')

    class MainTimeseries(Base, AbstractTimeseries, ModelView):
        __doc__ = doc + " Time Series"
        __name__ = prefix + '.time_series'
    return Main, MainTimeseries


def _dimension(source, name, dimension, Mixin, doc, TreeMixin=None,
        extra=None):
    Base = SellInContextMixin if source == 'sell_in' else SellOutContextMixin
    prefix = f'distributor.report.{name}.{dimension}'
    Row = TreeMixin or Mixin
    attrs = {
        '__doc__': doc,
        '__name__': prefix,
        'time_series': fields.One2Many(prefix + '.time_series', dimension,
            "Time Series"),
        }
    if not TreeMixin:
        # a row per dimension value: its id is the value's (its time
        # series link to it), as sale_reporting's
        attrs['_column_id'] = classmethod(
            lambda cls, tables: cls._dimension_column(tables))
    if TreeMixin:
        attrs['parent'] = fields.Many2One(prefix, "Parent")
        attrs['children'] = fields.One2Many(prefix, 'parent', "Children")

    bases = (Row, Base) + tuple(extra or ()) + (Abstract, ModelView)
    Model = type('Report', bases, attrs)
    Timeseries = type('ReportTimeseries', (Mixin, Base, AbstractTimeseries,
            ModelView), {
            '__doc__': doc + " Time Series",
            '__name__': prefix + '.time_series',
            })
    return Model, Timeseries


class TargetMixin:
    "The targets of the period and their attainment (distributor rows)"
    __slots__ = ()
    target = fields.Function(fields.Numeric("Target", digits=(16, 2),
            help="The confirmed targets without category lying inside "
            "the period."), 'get_targets')
    attainment = fields.Function(fields.Numeric("Attainment (%)",
            digits=(16, 2)), 'get_targets')

    @classmethod
    def get_targets(cls, records, names):
        context = Transaction().context
        query = targets_query(to_date(context.get('from_date')),
            to_date(context.get('to_date')), context.get('company') or -1,
            {r.distributor.id for r in records})
        targets = {}
        if query is not None:
            cursor = Transaction().connection.cursor()
            cursor.execute(*query)
            targets = {d: amount(t) for d, t in cursor}
        result = {n: {} for n in names}
        for record in records:
            target = targets.get(record.distributor.id)
            if 'target' in result:
                result['target'][record.id] = target
            if 'attainment' in result:
                result['attainment'][record.id] = attainment(
                    record.amount, target)
        return result


SellIn, SellInTimeseries = _main('sell_in', 'sell_in', "Sell-in")
SellOut, SellOutTimeseries = _main('sell_out', 'sell_out', "Sell-out")
(SellInDistributor, SellInDistributorTimeseries) = _dimension(
    'sell_in', 'sell_in', 'distributor', DistributorMixin,
    "Sell-in per Distributor", extra=[TargetMixin])
(SellOutDistributor, SellOutDistributorTimeseries) = _dimension(
    'sell_out', 'sell_out', 'distributor', DistributorMixin,
    "Sell-out per Distributor")
(SellInTier, SellInTierTimeseries) = _dimension(
    'sell_in', 'sell_in', 'tier', TierMixin, "Sell-in per Tier")
(SellOutTier, SellOutTierTimeseries) = _dimension(
    'sell_out', 'sell_out', 'tier', TierMixin, "Sell-out per Tier")
(SellInTerritory, SellInTerritoryTimeseries) = _dimension(
    'sell_in', 'sell_in', 'territory', TerritoryMixin,
    "Sell-in per Territory", TreeMixin=TerritoryTreeMixin)
(SellOutTerritory, SellOutTerritoryTimeseries) = _dimension(
    'sell_out', 'sell_out', 'territory', TerritoryMixin,
    "Sell-out per Territory", TreeMixin=TerritoryTreeMixin)
(SellInCategory, SellInCategoryTimeseries) = _dimension(
    'sell_in', 'sell_in', 'category', CategoryMixin,
    "Sell-in per Category", TreeMixin=CategoryTreeMixin)
(SellOutCategory, SellOutCategoryTimeseries) = _dimension(
    'sell_out', 'sell_out', 'category', CategoryMixin,
    "Sell-out per Category", TreeMixin=CategoryTreeMixin)
(SellInProduct, SellInProductTimeseries) = _dimension(
    'sell_in', 'sell_in', 'product', ProductMixin, "Sell-in per Product")
(SellOutProduct, SellOutProductTimeseries) = _dimension(
    'sell_out', 'sell_out', 'product', ProductMixin, "Sell-out per Product")


# Channel stock -----------------------------------------------------------

class StockAbstract(ModelSQL):
    """The stock of the distributors' storage at the context's date
    (distributor_stock's storage moves), valued at the cost price"""

    company = fields.Many2One('company.company', "Company")
    quantity = fields.Float("Quantity")
    value = fields.Numeric("Value", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'ASC')]

    @classmethod
    def _moves(cls):
        "(distributor, product, qty, value) of the moves up to the date"
        from distributor_stock.level import storage_moves
        pool = Pool()
        CostPrice = pool.get('product.cost_price')
        context = Transaction().context
        date = to_date(context.get('date')) or pool.get('ir.date').today()
        company = context.get('company') or -1
        moves = storage_moves(
            move_where=lambda m: m.effective_date <= date)
        cost = CostPrice.__table__()
        return (moves
            .join(cost, 'LEFT', condition=(cost.product == moves.product)
                & (cost.company == company))
            .select(
                moves.mid.as_('id'),
                Literal(company).as_('company'),
                moves.distributor, moves.product, moves.qty,
                (moves.qty * Coalesce(cost.cost_price, 0)).as_('value'),
                where=context_filter(moves.distributor, moves.product,
                    dates=False)))

    @classmethod
    def table_query(cls):
        moves = cls._moves()
        from_item, tables = cls._joins(moves)
        return from_item.select(
            *cls._columns(tables),
            Max(moves.company).as_('company'),
            Sum(moves.qty).as_('quantity'),
            cls.value.sql_cast(Sum(moves.value)).as_('value'),
            group_by=cls._group_by(tables),
            having=Sum(moves.qty) != 0)

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        for record in records:
            if record.get('value') is not None:
                record['value'] = amount(record['value'])
        return records


class StockDistributor(StockAbstract, ModelView):
    "Channel Stock per Distributor"
    __name__ = 'distributor.report.stock.distributor'
    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")


    @classmethod
    def _joins(cls, moves):
        Party = Pool().get('party.party')
        party = Party.__table__()
        return (moves.join(party, condition=party.id == moves.distributor),
            {'moves': moves, 'party': party})

    @classmethod
    def _columns(cls, tables):
        moves = tables['moves']
        return [moves.distributor.as_('id'),
            moves.distributor.as_('distributor'),
            Max(tables['party'].distributor_tier).as_('tier')]

    @classmethod
    def _group_by(cls, tables):
        return [tables['moves'].distributor]

    def get_rec_name(self, name):
        return self.distributor.rec_name if self.distributor else ''


class StockProduct(StockAbstract, ModelView):
    "Channel Stock per Product"
    __name__ = 'distributor.report.stock.product'
    product = fields.Many2One('product.product', "Product")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def _joins(cls, moves):
        return moves, {'moves': moves}

    @classmethod
    def _columns(cls, tables):
        moves = tables['moves']
        return [moves.product.as_('id'), moves.product.as_('product'),
            Count(moves.distributor, distinct=True).as_('distributor_count')]

    @classmethod
    def _group_by(cls, tables):
        return [tables['moves'].product]

    def get_rec_name(self, name):
        return self.product.rec_name if self.product else ''


class StockTerritory(StockAbstract, ModelView):
    """Channel Stock per Territory

    The stock of the distributors of the territory and of the territories
    below it, each distributor once."""
    __name__ = 'distributor.report.stock.territory'
    territory = fields.Many2One('distributor.territory', "Territory")
    parent = fields.Many2One('distributor.report.stock.territory', "Parent")
    children = fields.One2Many('distributor.report.stock.territory',
        'parent', "Children")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def _joins(cls, moves):
        Territory = Pool().get('distributor.territory')
        pairs = sales.distributor_territories()
        node = Territory.__table__()
        return (moves
            .join(pairs, condition=pairs.distributor == moves.distributor)
            .join(node, condition=node.id == pairs.territory),
            {'moves': moves, 'pairs': pairs, 'node': node})

    @classmethod
    def _columns(cls, tables):
        pairs = tables['pairs']
        return [pairs.territory.as_('id'), pairs.territory.as_('territory'),
            Max(tables['node'].parent).as_('parent'),
            Count(tables['moves'].distributor, distinct=True).as_(
                'distributor_count')]

    @classmethod
    def _group_by(cls, tables):
        return [tables['pairs'].territory]

    def get_rec_name(self, name):
        return self.territory.rec_name if self.territory else ''


# Receivables -------------------------------------------------------------

class ReceivableAbstract(ModelSQL):
    """Receivables of the distributors: invoiced (debit on the receivable
    accounts) and collected (credit) over the context's period, balance
    and overdue at its end"""

    company = fields.Many2One('company.company', "Company")
    invoiced = fields.Numeric("Invoiced", digits=(16, 2))
    collected = fields.Numeric("Collected", digits=(16, 2))
    balance = fields.Numeric("Balance", digits=(16, 2),
        help="The open receivables at the end of the period.")
    overdue = fields.Numeric("Overdue", digits=(16, 2),
        help="The open receivables past their due date at the end of the "
        "period.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'ASC')]

    @classmethod
    def _movements(cls):
        """(party, date, debit, credit) of the posted receivable lines of
        the distributors in the period under the context's filters"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        Type = pool.get('account.account.type')
        Party = pool.get('party.party')
        line = MoveLine.__table__()
        move = Move.__table__()
        account = Account.__table__()
        type_ = Type.__table__()
        party = Party.__table__()
        company = Transaction().context.get('company') or -1
        return (line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id)
            .join(party, condition=line.party == party.id)
            .select(
                line.id.as_('id'),
                line.party.as_('party'),
                move.date.as_('date'),
                line.debit.as_('debit'),
                line.credit.as_('credit'),
                where=type_.receivable
                & (move.state == 'posted')
                & (account.company == company)
                & (party.is_distributor == Literal(True))
                & context_filter(line.party, date=move.date)))

    @classmethod
    def _open(cls):
        "(party, amount, overdue) of the open lines at the period's end"
        from distributor_account.receivable import OVERDUE_BUCKETS, open_lines
        pool = Pool()
        context = Transaction().context
        date = (to_date(context.get('to_date'))
            or pool.get('ir.date').today())
        lines = open_lines(context.get('company') or -1, date)
        return lines.select(
            lines.party.as_('party'),
            lines.amount.as_('balance'),
            Case((lines.bucket.in_(OVERDUE_BUCKETS), lines.amount),
                else_=0).as_('overdue'),
            where=context_filter(lines.party, dates=False))

    @classmethod
    def _parties(cls):
        """(party, invoiced, collected, balance, overdue) per distributor"""
        movements = cls._movements()
        open_ = cls._open()
        rows = Union(
            movements.select(movements.party, movements.debit.as_('invoiced'),
                movements.credit.as_('collected'),
                Literal(0).as_('balance'), Literal(0).as_('overdue')),
            open_.select(open_.party, Literal(0), Literal(0),
                open_.balance, open_.overdue),
            all_=True)
        return rows.select(rows.party.as_('party'),
            Sum(rows.invoiced).as_('invoiced'),
            Sum(rows.collected).as_('collected'),
            Sum(rows.balance).as_('balance'),
            Sum(rows.overdue).as_('overdue'),
            group_by=[rows.party])

    @classmethod
    def _sums(cls, parties):
        company = Transaction().context.get('company') or -1
        return [
            Literal(company).as_('company'),
            cls.invoiced.sql_cast(Sum(parties.invoiced)).as_('invoiced'),
            cls.collected.sql_cast(Sum(parties.collected)).as_('collected'),
            cls.balance.sql_cast(Sum(parties.balance)).as_('balance'),
            cls.overdue.sql_cast(Sum(parties.overdue)).as_('overdue'),
            ]

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        for record in records:
            for name in ['invoiced', 'collected', 'balance', 'overdue']:
                if record.get(name) is not None:
                    record[name] = amount(record[name])
        return records


class ReceivableDistributor(ReceivableAbstract, ModelView):
    "Receivables per Distributor"
    __name__ = 'distributor.report.receivable.distributor'
    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")


    @classmethod
    def table_query(cls):
        Party = Pool().get('party.party')
        party = Party.__table__()
        parties = cls._parties()
        return parties.join(party, condition=party.id == parties.party
            ).select(parties.party.as_('id'),
                parties.party.as_('distributor'),
                Max(party.distributor_tier).as_('tier'),
                *cls._sums(parties),
                group_by=[parties.party])

    def get_rec_name(self, name):
        return self.distributor.rec_name if self.distributor else ''


class ReceivableTier(ReceivableAbstract, ModelView):
    "Receivables per Tier"
    __name__ = 'distributor.report.receivable.tier'
    tier = fields.Many2One('distributor.tier', "Tier")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def table_query(cls):
        Party = Pool().get('party.party')
        party = Party.__table__()
        parties = cls._parties()
        return parties.join(party, condition=party.id == parties.party
            ).select(party.distributor_tier.as_('id'),
                party.distributor_tier.as_('tier'),
                Count(parties.party, distinct=True).as_('distributor_count'),
                *cls._sums(parties),
                where=party.distributor_tier != Null,
                group_by=[party.distributor_tier])

    def get_rec_name(self, name):
        return self.tier.rec_name if self.tier else ''


class ReceivableTerritory(ReceivableAbstract, ModelView):
    """Receivables per Territory

    The distributors of the territory and of the territories below it,
    each once."""
    __name__ = 'distributor.report.receivable.territory'
    territory = fields.Many2One('distributor.territory', "Territory")
    parent = fields.Many2One('distributor.report.receivable.territory',
        "Parent")
    children = fields.One2Many('distributor.report.receivable.territory',
        'parent', "Children")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def table_query(cls):
        Territory = Pool().get('distributor.territory')
        node = Territory.__table__()
        pairs = sales.distributor_territories()
        parties = cls._parties()
        return (parties
            .join(pairs, condition=pairs.distributor == parties.party)
            .join(node, condition=node.id == pairs.territory)
            .select(pairs.territory.as_('id'),
                pairs.territory.as_('territory'),
                Max(node.parent).as_('parent'),
                Count(parties.party, distinct=True).as_('distributor_count'),
                *cls._sums(parties),
                group_by=[pairs.territory]))

    def get_rec_name(self, name):
        return self.territory.rec_name if self.territory else ''


class ReceivableTimeseries(ModelSQL, ModelView):
    "Receivables Time Series: invoiced and collected per period"
    __name__ = 'distributor.report.receivable.time_series'

    company = fields.Many2One('company.company', "Company")
    date = fields.Date("Date")
    invoiced = fields.Numeric("Invoiced", digits=(16, 2))
    collected = fields.Numeric("Collected", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        movements = ReceivableAbstract._movements()
        period = Transaction().context.get('period', 'month')
        company = Transaction().context.get('company') or -1
        date = cls.date.sql_cast(period_start(movements.date, period))
        return movements.select(
            Min(movements.id).as_('id'),
            Literal(company).as_('company'),
            date.as_('date'),
            cls.invoiced.sql_cast(Sum(movements.debit)).as_('invoiced'),
            cls.collected.sql_cast(Sum(movements.credit)).as_('collected'),
            group_by=[date])

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        for record in records:
            for name in ['invoiced', 'collected']:
                if record.get(name) is not None:
                    record[name] = amount(record[name])
        return records
