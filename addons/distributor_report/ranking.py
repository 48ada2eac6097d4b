# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Rankings: the distributors ranked by sell-in amount, by growth against
the same period a year before and by attainment of their targets; the
top and bottom products of each territory.  RANK() windows in SQL (ties
share a rank, the next rank skips); what has no value (no previous
sell-in, no target) ranks last."""
from dateutil.relativedelta import relativedelta
from sql import Cast, Literal, Null, Union, Window
from sql.aggregate import Max, Sum
from sql.conditionals import Case
from sql.functions import Rank, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from distributor_assessment import sales

from .analysis import amount, context_filter, id_base, targets_query, to_date


def _rank(column, descending=True):
    "RANK() over the column, those without a value last"
    return Rank(window=Window([], order_by=[
                Case((column == Null, 1), else_=0).asc,
                column.desc if descending else column.asc]))


class RankingContext(ModelView):
    "Ranking Context"
    __name__ = 'distributor.report.ranking.context'

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date("From Date", required=True,
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ])
    to_date = fields.Date("To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ])
    tier = fields.Many2One('distributor.tier', "Tier")
    territory = fields.Many2One('distributor.territory', "Territory",
        help="The distributors of the territory and of the territories "
        "below it.")
    category = fields.Many2One('product.category', "Category")
    limit = fields.Integer("Products", required=True,
        domain=[('limit', '>', 0)],
        help="How many products at the top and at the bottom of each "
        "territory.")

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
    def default_limit(cls):
        return Transaction().context.get('limit', 10)


def _sell_in(from_date, to_date_, product=True):
    "The sell-in lines between the dates under the context's filters"
    lines = sales.sell_in_lines()
    where = context_filter(lines.distributor,
        lines.product if product else None, company=lines.company,
        dates=False)
    if from_date:
        where &= lines.date >= from_date
    if to_date_:
        where &= lines.date <= to_date_
    return lines.select(lines.distributor, lines.product, lines.quantity,
        lines.amount, where=where)


class DistributorRanking(ModelSQL, ModelView):
    """Distributor Ranking

    The distributors by sell-in amount over the period, by growth against
    the same period a year before and by attainment of their targets."""
    __name__ = 'distributor.report.ranking.distributor'

    company = fields.Many2One('company.company', "Company")
    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")
    amount = fields.Numeric("Sell-in", digits=(16, 2))
    previous_amount = fields.Numeric("Sell-in a Year Before",
        digits=(16, 2))
    growth = fields.Numeric("Growth (%)", digits=(16, 2),
        help="Against the same period a year before; empty without "
        "sell-in then.")
    target = fields.Numeric("Target", digits=(16, 2))
    attainment = fields.Numeric("Attainment (%)", digits=(16, 2))
    rank_amount = fields.Integer("Rank by Sell-in")
    rank_growth = fields.Integer("Rank by Growth")
    rank_attainment = fields.Integer("Rank by Attainment")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('rank_amount', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        context = Transaction().context
        company = context.get('company') or -1
        today = pool.get('ir.date').today()
        from_date = to_date(context.get('from_date')) or (
            today - relativedelta(years=1))
        end_date = to_date(context.get('to_date')) or today
        year = relativedelta(years=1)
        current = _sell_in(from_date, end_date, product=False)
        previous = _sell_in(from_date - year, end_date - year,
            product=False)
        # typed NULL: PostgreSQL resolves a UNION's types pairwise
        none = Cast(Null, fields.Numeric("Target").sql_type().base)
        parts = [
            current.select(current.distributor, current.amount,
                Literal(0).as_('previous'), none.as_('target')),
            previous.select(previous.distributor, Literal(0),
                previous.amount, none),
            ]
        targets = targets_query(from_date, end_date, company)
        if targets is not None:
            party = Party.__table__()
            targets = targets.join(party,
                condition=party.id == targets.distributor).select(
                targets.distributor, targets.target,
                where=context_filter(targets.distributor, dates=False))
            parts.append(targets.select(targets.distributor, Literal(0),
                    Literal(0), targets.target))
        rows = Union(*parts, all_=True)
        sums = rows.select(
            rows.distributor.as_('distributor'),
            Sum(rows.amount).as_('amount'),
            Sum(rows.previous).as_('previous'),
            Max(rows.target).as_('target'),
            group_by=[rows.distributor])
        growth = Case((sums.previous != 0, Round(
                    (sums.amount - sums.previous) * 100 / sums.previous, 2)),
            else_=Null)
        attainment = Case(((sums.target != Null) & (sums.target != 0),
                Round(sums.amount * 100 / sums.target, 2)), else_=Null)
        party = Party.__table__()
        return sums.join(party, condition=party.id == sums.distributor
            ).select(
                sums.distributor.as_('id'),
                Literal(company).as_('company'),
                sums.distributor.as_('distributor'),
                party.distributor_tier.as_('tier'),
                cls.amount.sql_cast(sums.amount).as_('amount'),
                cls.previous_amount.sql_cast(sums.previous).as_(
                    'previous_amount'),
                cls.growth.sql_cast(growth).as_('growth'),
                cls.target.sql_cast(sums.target).as_('target'),
                cls.attainment.sql_cast(attainment).as_('attainment'),
                _rank(sums.amount).as_('rank_amount'),
                _rank(growth).as_('rank_growth'),
                _rank(attainment).as_('rank_attainment'))

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        for record in records:
            for name in ['amount', 'previous_amount', 'growth', 'target',
                    'attainment']:
                if record.get(name) is not None:
                    record[name] = amount(record[name])
        return records

    def get_rec_name(self, name):
        return self.distributor.rec_name if self.distributor else ''


class ProductRanking(ModelSQL, ModelView):
    """Product Ranking per Territory

    The products of each territory by sell-in amount: the top and the
    bottom ones (the context's number of each), ranked within the
    territory (its distributors and those of the territories below,
    each once)."""
    __name__ = 'distributor.report.ranking.product'

    company = fields.Many2One('company.company', "Company")
    territory = fields.Many2One('distributor.territory', "Territory")
    product = fields.Many2One('product.product', "Product")
    quantity = fields.Float("Quantity")
    amount = fields.Numeric("Sell-in", digits=(16, 2))
    rank_top = fields.Integer("Rank from the Top")
    rank_bottom = fields.Integer("Rank from the Bottom")
    top = fields.Boolean("Top")
    bottom = fields.Boolean("Bottom")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('territory', 'ASC'), ('rank_top', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Product = pool.get('product.product')
        context = Transaction().context
        company = context.get('company') or -1
        today = pool.get('ir.date').today()
        from_date = to_date(context.get('from_date')) or (
            today - relativedelta(years=1))
        end_date = to_date(context.get('to_date')) or today
        limit = int(context.get('limit') or 10)
        lines = _sell_in(from_date, end_date)
        pairs = sales.distributor_territories()
        sums = lines.join(pairs,
            condition=pairs.distributor == lines.distributor).select(
                pairs.territory.as_('territory'),
                lines.product.as_('product'),
                Sum(lines.quantity).as_('quantity'),
                Sum(lines.amount).as_('amount'),
                group_by=[pairs.territory, lines.product])
        if context.get('territory'):
            Territory = pool.get('distributor.territory')
            area = Territory.area([Territory(int(context['territory']))])
            sums.where = fields.SQL_OPERATORS['in'](
                pairs.territory, sorted(area))
        ranked = sums.select(
            (sums.territory * id_base(Product) + sums.product).as_('id'),
            sums.territory, sums.product, sums.quantity, sums.amount,
            Rank(window=Window([sums.territory],
                    order_by=[sums.amount.desc])).as_('rank_top'),
            Rank(window=Window([sums.territory],
                    order_by=[sums.amount.asc])).as_('rank_bottom'))
        return ranked.select(
            cls.id.sql_cast(ranked.id).as_('id'),
            Literal(company).as_('company'),
            ranked.territory.as_('territory'),
            ranked.product.as_('product'),
            ranked.quantity.as_('quantity'),
            cls.amount.sql_cast(ranked.amount).as_('amount'),
            ranked.rank_top.as_('rank_top'),
            ranked.rank_bottom.as_('rank_bottom'),
            (ranked.rank_top <= limit).as_('top'),
            (ranked.rank_bottom <= limit).as_('bottom'),
            where=(ranked.rank_top <= limit) | (ranked.rank_bottom <= limit))

    @classmethod
    def read(cls, ids, fields_names):
        records = super().read(ids, fields_names)
        for record in records:
            if record.get('amount') is not None:
                record['amount'] = amount(record['amount'])
            for name in ['top', 'bottom']:
                if name in record and record[name] is not None:
                    record[name] = bool(record[name])
        return records

    def get_rec_name(self, name):
        return self.product.rec_name if self.product else ''
