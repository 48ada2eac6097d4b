# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The KPIs of the assessments (考核指标): shipped definitions (kpi.xml),
each computed by ONE SQL query over every distributor of a scope.

``Kpi.compute(kpis, start_date, end_date, scope)`` answers
``{kpi id: {party id: Decimal or None}}`` for every party of ``scope`` (a
python-sql query with a column ``party``): None is "not applicable" (the
template spreads its weight over the others), counts are 0 without
activity.  Each code has its ``_compute_<code>(kpi, start, end, scope)``
classmethod: a module adds a code by extending ``get_codes`` and writing
its method.

Each query selects FROM the scope LEFT JOINed to the aggregates of the
period (restricted to the scope's parties), so every party gets a row;
ratios are divided in Python from the exact sums the query answers."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from distributor_account.receivable import OVERDUE_BUCKETS, open_lines
from distributor_policy.policy import VISIBLE_STATES
from distributor_policy.promotion import PROMOTION_KINDS, USED_STATES
from distributor_stock.level import storage_moves

from . import sales
from .exceptions import KpiError

CENT = Decimal('0.01')
HUNDRED = Decimal(100)
CODES = [
    ('sales_attainment', "Sales Target Attainment"),
    ('sales_growth', "Sales Growth"),
    ('coverage_rate', "Coverage Rate"),
    ('stock_cover', "Stock Cover within Band"),
    ('expired_stock', "Expired Stock"),
    ('policy_ack', "Policy Acknowledgement"),
    ('promotion_participation', "Promotion Participation"),
    ('overdue_ratio', "Overdue Ratio"),
    ('incidents', "Diversion and Price Incidents"),
    ('statement_disputes', "Statement Disputes"),
    ]
UNITS = [
    ('percent', "%"),
    ('count', "Count"),
    ('days', "Days"),
    ]
DIRECTIONS = [
    ('higher', "Higher is Better"),
    ('lower', "Lower is Better"),
    ]


class KpiValidationError(ValidationError):
    "A KPI definition breaks a rule"


def _decimal(value):
    "A Decimal from what the database answers (None stays None)"
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value


def _ratio(numerator, denominator):
    "numerator ÷ denominator × 100 to cents; None when denominator ≤ 0"
    numerator = _decimal(numerator) or Decimal(0)
    denominator = _decimal(denominator)
    if not denominator or denominator <= 0:
        return None
    return (numerator * HUNDRED / denominator).quantize(CENT)


def _quantity(value):
    "A sum to cents (0 when nothing)"
    return (_decimal(value) or Decimal(0)).quantize(CENT)


def _count(value):
    return Decimal(int(value or 0))


def _year_before(date):
    "The same day a year before (28 February for a 29th)"
    try:
        return date.replace(year=date.year - 1)
    except ValueError:
        return date.replace(year=date.year - 1, day=28)


def _day_bounds(start, end):
    "The datetimes bounding the days from start to end included"
    return (dt.datetime.combine(start, dt.time.min),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))


def _company():
    "The company of the context (None: every company)"
    return Transaction().context.get('company') or None


class Kpi(DeactivableMixin, ModelSQL, ModelView):
    """Assessment KPI

    A measure of a distributor over a period, computed by one SQL query
    for every distributor assessed; the templates weigh and score them."""
    __name__ = 'distributor.assessment.kpi'

    sequence = fields.Integer("Sequence")
    code = fields.Selection('get_codes', "Code", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            },
        help="Which computation the KPI uses.")
    name = fields.Char("Name", required=True, translate=True)
    unit = fields.Selection(UNITS, "Unit", required=True, sort=False)
    direction = fields.Selection(DIRECTIONS, "Direction", required=True,
        sort=False, help="Whether a higher or a lower value is better.")
    description = fields.Text("Description", translate=True,
        help="What is measured, precisely.")
    band_min = fields.Integer("Band Minimum (Days)",
        domain=['OR', ('band_min', '=', None), ('band_min', '>=', 0)],
        states={
            'invisible': Eval('code') != 'stock_cover',
            'required': Eval('code') == 'stock_cover',
            },
        help="The fewest days of cover a product should have.")
    band_max = fields.Integer("Band Maximum (Days)",
        domain=['OR', ('band_max', '=', None), ('band_max', '>=', 0)],
        states={
            'invisible': Eval('code') != 'stock_cover',
            'required': Eval('code') == 'stock_cover',
            },
        help="The most days of cover a product should have.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'distributor_assessment.msg_kpi_code_unique'),
            ]
        cls._order = [('sequence', 'ASC NULLS LAST'), ('code', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def get_codes(cls):
        "The codes that have a computation (_compute_<code>)"
        return list(CODES)

    @classmethod
    def default_band_min(cls):
        return 15

    @classmethod
    def default_band_max(cls):
        return 60

    @classmethod
    def default_direction(cls):
        return 'higher'

    @classmethod
    def default_unit(cls):
        return 'percent'

    @classmethod
    def validate_fields(cls, kpis, field_names):
        super().validate_fields(kpis, field_names)
        if field_names & {'band_min', 'band_max'}:
            for kpi in kpis:
                if (kpi.band_min is not None and kpi.band_max is not None
                        and kpi.band_min > kpi.band_max):
                    raise KpiValidationError(gettext(
                            'distributor_assessment.msg_kpi_band_order',
                            kpi=kpi.rec_name))

    # Computation -------------------------------------------------------

    @classmethod
    def compute(cls, kpis, start_date, end_date, scope):
        """{kpi id: {party id: Decimal or None}} of the kpis over the days
        from start_date to end_date included, for every party of scope (a
        python-sql query with a column party): one query per KPI"""
        if not start_date or not end_date or start_date > end_date:
            raise KpiError(gettext(
                    'distributor_assessment.msg_kpi_period',
                    start=start_date, end=end_date))
        result = {}
        for kpi in kpis:
            method = getattr(cls, f'_compute_{kpi.code}', None)
            if method is None:
                raise KpiError(gettext(
                        'distributor_assessment.msg_kpi_no_computation',
                        kpi=kpi.rec_name, code=kpi.code))
            result[kpi.id] = method(kpi, start_date, end_date, scope)
        return result

    @classmethod
    def _fetch(cls, query, convert):
        """{party: convert(*columns)} of the rows (party, columns...) of
        query"""
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return {party: convert(*values) for party, *values in cursor}

    @classmethod
    def _sell_in(cls, where, columns, scope):
        """The sell-in lines of the scope's distributors (and of the
        context's company) aggregated per distributor: columns party and
        those given (functions of the sell-in query)"""
        lines = sales.sell_in_lines()
        condition = where(lines) & lines.distributor.in_(scope)
        company = _company()
        if company:
            condition &= lines.company == company
        return lines.select(lines.distributor.as_('party'),
            *columns(lines), where=condition,
            group_by=[lines.distributor])

    @classmethod
    def _compute_sales_attainment(cls, kpi, start, end, scope):
        """Sell-in amount of the period ÷ the amounts of the distributor's
        confirmed targets without category lying inside the period × 100;
        None without such a target"""
        Target = Pool().get('distributor.target')
        target = Target.__table__()
        sold = cls._sell_in(
            lambda l: (l.date >= start) & (l.date <= end),
            lambda l: [Sum(l.amount).as_('amount')], scope)
        condition = ((target.state == 'confirmed')
            & (target.category == Null)
            & (target.amount != Null)
            & (target.start_date >= start)
            & (target.end_date <= end)
            & target.distributor.in_(scope))
        company = _company()
        if company:
            condition &= target.company == company
        targets = target.select(target.distributor.as_('party'),
            Sum(target.amount).as_('amount'),
            where=condition, group_by=[target.distributor])
        query = (scope
            .join(sold, 'LEFT', condition=sold.party == scope.party)
            .join(targets, 'LEFT', condition=targets.party == scope.party)
            .select(scope.party, sold.amount, targets.amount))
        return cls._fetch(query, _ratio)

    @classmethod
    def _compute_sales_growth(cls, kpi, start, end, scope):
        """(sell-in of the period − sell-in of the same days a year
        before) ÷ the latter × 100; None when the latter is not positive"""
        before_start, before_end = _year_before(start), _year_before(end)

        def current(l):
            return (l.date >= start) & (l.date <= end)

        def before(l):
            return (l.date >= before_start) & (l.date <= before_end)
        sold = cls._sell_in(
            lambda l: current(l) | before(l),
            lambda l: [
                Sum(Case((current(l), l.amount), else_=0)).as_('current'),
                Sum(Case((before(l), l.amount), else_=0)).as_('before'),
                ], scope)
        query = (scope
            .join(sold, 'LEFT', condition=sold.party == scope.party)
            .select(scope.party, sold.current, sold.before))

        def growth(current, before):
            before = _decimal(before)
            return _ratio((_decimal(current) or 0) - (before or 0), before)
        return cls._fetch(query, growth)

    @classmethod
    def _compute_coverage_rate(cls, kpi, start, end, scope):
        """Covered ÷ planned (store, product) pairs of the distributor's
        stores in the coverage plans (running or closed) overlapping the
        period × 100, a pair covered once a delivery or a shelf check put
        the product in the store after its plan started (as the plan's
        progress counts it); None without plan"""
        from distributor_store.coverage import covered_pairs
        pool = Pool()
        Plan = pool.get('distributor.coverage.plan')
        PlanStore = pool.get('distributor.coverage.plan.store')
        PlanProduct = pool.get('distributor.coverage.plan-product.product')
        plan = Plan.__table__()
        pstore = PlanStore.__table__()
        pproduct = PlanProduct.__table__()
        covered = covered_pairs()
        pairs = (pstore
            .join(plan, condition=plan.id == pstore.plan)
            .join(pproduct, condition=pproduct.plan == pstore.plan)
            .join(covered, 'LEFT',
                condition=(covered.plan == pstore.plan)
                & (covered.store == pstore.store)
                & (covered.product == pproduct.product))
            .select(pstore.distributor.as_('party'),
                Count(Literal(1)).as_('planned'),
                Count(covered.store).as_('covered'),
                where=plan.state.in_(['running', 'closed'])
                & (plan.start_date <= end) & (plan.deadline >= start)
                & pstore.distributor.in_(scope),
                group_by=[pstore.distributor]))
        query = (scope
            .join(pairs, 'LEFT', condition=pairs.party == scope.party)
            .select(scope.party, pairs.covered, pairs.planned))
        return cls._fetch(query, _ratio)

    @classmethod
    def _compute_stock_cover(cls, kpi, start, end, scope):
        """Share of the products in the distributor's storage at the end
        of the period whose days of cover (stock ÷ average daily sell-out
        of the period) lie within [band_min, band_max] × 100; a product
        without sell-out has no cover within a band; None without stock"""
        days = (end - start).days + 1
        band_min = kpi.band_min if kpi.band_min is not None else 15
        band_max = kpi.band_max if kpi.band_max is not None else 60
        moves = storage_moves(
            location_where=lambda l: l.distributor.in_(scope),
            move_where=lambda m: m.effective_date <= end)
        stock = moves.select(moves.distributor.as_('party'),
            moves.product.as_('product'),
            Sum(moves.qty).as_('quantity'),
            group_by=[moves.distributor, moves.product],
            having=Sum(moves.qty) > 0)
        lines = sales.sell_out_lines()
        condition = ((lines.date >= start) & (lines.date <= end)
            & lines.distributor.in_(scope))
        company = _company()
        if company:
            condition &= lines.company == company
        sold = lines.select(lines.distributor.as_('party'),
            lines.product.as_('product'),
            Sum(lines.quantity).as_('quantity'),
            where=condition,
            group_by=[lines.distributor, lines.product])
        # cover = stock × days ÷ sell-out: compared without dividing
        cover = stock.quantity * days
        sellout = sold.quantity
        in_band = ((sellout > 0)
            & (cover >= sellout * band_min)
            & (cover <= sellout * band_max))
        products = (stock
            .join(sold, 'LEFT', condition=(sold.party == stock.party)
                & (sold.product == stock.product))
            .select(stock.party.as_('party'),
                Count(Literal(1)).as_('products'),
                Sum(Case((in_band, 1), else_=0)).as_('in_band'),
                group_by=[stock.party]))
        query = (scope
            .join(products, 'LEFT', condition=products.party == scope.party)
            .select(scope.party, products.in_band, products.products))
        return cls._fetch(query, _ratio)

    @classmethod
    def _compute_expired_stock(cls, kpi, start, end, scope):
        """Quantity of expired lots (expiration date before the period
        end) in the distributor's storage at the end of the period; 0
        without"""
        Lot = Pool().get('stock.lot')
        lot = Lot.__table__()
        moves = storage_moves(
            location_where=lambda l: l.distributor.in_(scope),
            move_where=lambda m: (m.effective_date <= end)
            & (m.lot != Null))
        lots = (moves
            .join(lot, condition=moves.lot == lot.id)
            .select(moves.distributor.as_('party'),
                Sum(moves.qty).as_('quantity'),
                where=(lot.expiration_date != Null)
                & (lot.expiration_date < end),
                group_by=[moves.distributor, moves.lot],
                having=Sum(moves.qty) > 0))
        expired = lots.select(lots.party,
            Sum(lots.quantity).as_('quantity'), group_by=[lots.party])
        query = (scope
            .join(expired, 'LEFT', condition=expired.party == scope.party)
            .select(scope.party, expired.quantity))
        return cls._fetch(query, _quantity)

    @classmethod
    def _compute_policy_ack(cls, kpi, start, end, scope):
        """Acknowledged ÷ received policies published in the period (the
        distributor among their recipients; withdrawn ones left out) ×
        100; None without such policy"""
        pool = Pool()
        Policy = pool.get('distributor.policy')
        Recipient = pool.get('distributor.policy.recipient')
        policy = Policy.__table__()
        recipient = Recipient.__table__()
        since, until = _day_bounds(start, end)
        condition = (policy.state.in_(VISIBLE_STATES)
            & (policy.published_at >= since)
            & (policy.published_at < until)
            & recipient.distributor.in_(scope))
        company = _company()
        if company:
            condition &= policy.company == company
        receipts = (recipient
            .join(policy, condition=recipient.policy == policy.id)
            .select(recipient.distributor.as_('party'),
                Count(recipient.id).as_('received'),
                Count(recipient.acknowledged_at).as_('acknowledged'),
                where=condition,
                group_by=[recipient.distributor]))
        query = (scope
            .join(receipts, 'LEFT', condition=receipts.party == scope.party)
            .select(scope.party, receipts.acknowledged, receipts.received))
        return cls._fetch(query, _ratio)

    @classmethod
    def _compute_promotion_participation(cls, kpi, start, end, scope):
        """Promotions (published or closed purchase discount and promotion
        policies) targeting the distributor and valid during the period
        on which it ordered in the period (a confirmed order with a line
        priced by the policy's promotion, or a gift of one of its rules)
        ÷ those promotions × 100; None without"""
        pool = Pool()
        Policy = pool.get('distributor.policy')
        Recipient = pool.get('distributor.policy.recipient')
        Rule = pool.get('distributor.policy.promotion')
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        Promotion = pool.get('sale.promotion')
        policy = Policy.__table__()
        recipient = Recipient.__table__()
        company = _company()

        def ordered():
            sale = Sale.__table__()
            line = SaleLine.__table__()
            where = (sale.state.in_(USED_STATES)
                & (sale.sale_date >= start) & (sale.sale_date <= end)
                & sale.party.in_(scope))
            if company:
                where &= sale.company == company
            return sale, line, where
        sale, line, where = ordered()
        promotion = Promotion.__table__()
        priced = (line
            .join(sale, condition=line.sale == sale.id)
            .join(promotion, condition=line.promotion == promotion.id)
            .select(promotion.dms_policy.as_('policy'),
                sale.party.as_('party'),
                where=where & (promotion.dms_policy != Null)))
        sale, line, where = ordered()
        rule = Rule.__table__()
        gifts = (line
            .join(sale, condition=line.sale == sale.id)
            .join(rule, condition=rule.gift_product == line.product)
            .select(rule.policy.as_('policy'), sale.party.as_('party'),
                where=where & (line.gift == Literal(True))))
        # UNION (not ALL): each (policy, distributor) once
        used = Union(priced, gifts)
        condition = (policy.kind.in_(sorted(PROMOTION_KINDS))
            & policy.state.in_(VISIBLE_STATES)
            & (policy.start_date <= end)
            & ((policy.end_date == Null) | (policy.end_date >= start))
            & recipient.distributor.in_(scope))
        if company:
            condition &= policy.company == company
        targeted = (recipient
            .join(policy, condition=recipient.policy == policy.id)
            .join(used, 'LEFT', condition=(used.policy == policy.id)
                & (used.party == recipient.distributor))
            .select(recipient.distributor.as_('party'),
                Count(Literal(1)).as_('promotions'),
                Count(used.policy).as_('used'),
                where=condition,
                group_by=[recipient.distributor]))
        query = (scope
            .join(targeted, 'LEFT', condition=targeted.party == scope.party)
            .select(scope.party, targeted.used, targeted.promotions))
        return cls._fetch(query, _ratio)

    @classmethod
    def _compute_overdue_ratio(cls, kpi, start, end, scope):
        """Overdue ÷ open receivable at the end of the period × 100, from
        the distributor's open receivable lines of the aging (the lines
        due, unapplied credits left out); 0 without receivable"""
        from distributor_account.receivable import _company_id
        lines = open_lines(_company_id(_company()), end)
        due = lines.bucket != 'credit'
        aging = lines.select(lines.party.as_('party'),
            Sum(Case((lines.bucket.in_(OVERDUE_BUCKETS), lines.amount),
                    else_=0)).as_('overdue'),
            Sum(Case((due, lines.amount), else_=0)).as_('open'),
            where=lines.party.in_(scope),
            group_by=[lines.party])
        query = (scope
            .join(aging, 'LEFT', condition=aging.party == scope.party)
            .select(scope.party, aging.overdue, aging.open))

        def ratio(overdue, open_):
            return _ratio(overdue, open_) or Decimal('0.00')
        return cls._fetch(query, ratio)

    @classmethod
    def _compute_incidents(cls, kpi, start, end, scope):
        """Confirmed diversion incidents (against the distributor the lot
        was shipped to) and confirmed price incidents (at the
        distributor's stores) dated in the period; 0 without"""
        pool = Pool()
        Diversion = pool.get('distributor.diversion.incident')
        Price = pool.get('distributor.price.incident')
        diversion = Diversion.__table__()
        price = Price.__table__()
        incidents = Union(
            diversion.select(diversion.shipped_to.as_('party'),
                where=(diversion.state == 'confirmed')
                & (diversion.date >= start) & (diversion.date <= end)
                & diversion.shipped_to.in_(scope)),
            price.select(price.distributor.as_('party'),
                where=(price.state == 'confirmed')
                & (price.date >= start) & (price.date <= end)
                & price.distributor.in_(scope)),
            all_=True)
        counts = incidents.select(incidents.party,
            Count(Literal(1)).as_('count'), group_by=[incidents.party])
        query = (scope
            .join(counts, 'LEFT', condition=counts.party == scope.party)
            .select(scope.party, Coalesce(counts.count, 0)))
        return cls._fetch(query, _count)

    @classmethod
    def _compute_statement_disputes(cls, kpi, start, end, scope):
        """The distributor's statements of account (brand ↔ distributor)
        that went to disputed during the period (each once however often);
        0 without"""
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Log = pool.get('distributor.account.statement.log')
        statement = Statement.__table__()
        log = Log.__table__()
        since, until = _day_bounds(start, end)
        condition = ((log.to_state == 'disputed')
            & (log.create_date >= since) & (log.create_date < until)
            & (statement.kind == 'distributor')
            & statement.party.in_(scope))
        company = _company()
        if company:
            condition &= statement.company == company
        disputed = (log
            .join(statement, condition=log.document == statement.id)
            .select(statement.party.as_('party'),
                Count(statement.id, distinct=True).as_('count'),
                where=condition, group_by=[statement.party]))
        query = (scope
            .join(disputed, 'LEFT', condition=disputed.party == scope.party)
            .select(scope.party, Coalesce(disputed.count, 0)))
        return cls._fetch(query, _count)
