# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Rebate programs (返利): tiers, accruals, settlements and the deduction
of a distributor's rebate balance on its orders.

A rebate policy (``distributor.policy`` of kind 'rebate') carries one or
more programs.  A program says what counts (its basis: the invoiced
untaxed amount net of credit notes, or the net invoiced quantity), on
which products (products and categories, sub-categories included; no
scope: every product), over which periods (month, quarter, year: calendar
periods within the program's dates; custom: the program's dates as one
period), and what it pays (its tiers).

Tier modes, with tiers ≥ 1,000,000 → 2 % and ≥ 2,000,000 → 3 % and a
volume of 2,500,000:

- 'whole': the rate of the tier reached applies to the whole volume:
  3 % × 2,500,000 = 75,000 (crossing a threshold lifts everything);
- 'marginal': each tier's rate applies only to the part of the volume
  above its threshold and below the next one (like income tax brackets):
  2 % × (2,000,000 − 1,000,000) + 3 % × (2,500,000 − 2,000,000)
  = 20,000 + 15,000 = 35,000.  The volume below the first threshold earns
  nothing in both modes.

Tiers: thresholds ≥ 0 and strictly increasing (no two tiers at one
threshold), rates (amount basis, in %) or amounts per unit (quantity
basis) ≥ 0 and never lower than the tier below: a tier that pays less
for more volume is refused as the typing mistake it nearly always is
(in 'whole' mode it would make a distributor lose money by selling more).

Accruals are computed with one SQL aggregate per program and period over
the posted (and paid) customer invoices and credit notes of the policy's
recipients (``Accrual.compute``), on demand (Compute Now: an accrual run,
a queue task with its progress) and nightly (ir.cron).  A settlement
takes an ended period's accruals to a manager's approval, then pays them
as credit notes (``account.invoice``) or as rebate ledger balance, which
the distributor spends on its later orders (``sale.sale``
rebate_deduction)."""
import datetime as dt
import logging
from decimal import Decimal
from types import SimpleNamespace

from sql import Cast
from sql.aggregate import Sum
from sql.functions import Round

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import check_caller, entry_point, trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, WorkflowRecords, serialize)
from distributor.exceptions import RecordNotFound

from .exceptions import LedgerError, RebateError, RebateValidationError

logger = logging.getLogger(__name__)

ZERO = Decimal('0.00')
CENT = Decimal('0.01')
BASES = [
    ('amount', "Invoiced Amount"),
    ('quantity', "Invoiced Quantity"),
    ]
PERIODS = [
    ('month', "Month"),
    ('quarter', "Quarter"),
    ('year', "Year"),
    ('custom', "Custom (whole program)"),
    ]
TIER_MODES = [
    ('whole', "Whole Volume"),
    ('marginal', "Part Above Each Threshold"),
    ]
SETTLEMENT_STATES = [
    ('draft', "Draft"),
    ('computed', "Computed"),
    ('approved', "Approved"),
    ('settled', "Settled"),
    ('cancelled', "Cancelled"),
    ]
METHODS = [
    ('credit_note', "Credit Note"),
    ('ledger', "Rebate Balance"),
    ]
RUN_STATES = [
    ('queued', "Queued"),
    ('running', "Running"),
    ('done', "Done"),
    ('failed', "Failed"),
    ]
# the policy states in which a program runs (accrues nightly)
RUNNING = {'published'}


def _today():
    return Pool().get('ir.date').today()


def _month_end(year, month):
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def split_periods(period, start, end):
    """[(start, end)] of the periods of a program: calendar months,
    quarters or years clipped to [start, end]; custom: one period"""
    if not start or not end or start > end:
        return []
    if period == 'custom':
        return [(start, end)]
    step = {'month': 1, 'quarter': 3, 'year': 12}[period]
    result = []
    year, month = start.year, start.month
    month = ((month - 1) // step) * step + 1
    while True:
        first = dt.date(year, month, 1)
        if first > end:
            break
        last_month = month + step - 1
        last = _month_end(year + (last_month - 1) // 12,
            (last_month - 1) % 12 + 1)
        result.append((max(first, start), min(last, end)))
        month += step
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
    return result


def tier_outcome(tiers, mode, volume):
    """What a volume earns: tiers is [(threshold, value)] sorted by
    threshold, value the fraction (rate / 100) or the amount per unit.

    Returns SimpleNamespace(index (of the tier reached or None),
    threshold, value, amount, next_threshold, gap)."""
    volume = Decimal(volume or 0)
    reached = None
    for index, (threshold, _) in enumerate(tiers):
        if volume >= threshold:
            reached = index
    amount = Decimal(0)
    if reached is not None and volume > 0:
        if mode == 'marginal':
            for index, (threshold, value) in enumerate(tiers[:reached + 1]):
                top = (tiers[index + 1][0] if index + 1 < len(tiers)
                    else None)
                part = (min(volume, top) if top is not None
                    else volume) - threshold
                if part > 0:
                    amount += part * value
        else:
            amount = volume * tiers[reached][1]
    following = (reached + 1) if reached is not None else 0
    next_threshold = (tiers[following][0] if following < len(tiers)
        else None)
    return SimpleNamespace(
        index=reached,
        threshold=tiers[reached][0] if reached is not None else None,
        value=tiers[reached][1] if reached is not None else None,
        amount=amount.quantize(CENT),
        next_threshold=next_threshold,
        gap=(next_threshold - volume) if next_threshold is not None
        else None)


class Policy(metaclass=PoolMeta):
    __name__ = 'distributor.policy'

    rebate_programs = fields.One2Many(
        'distributor.rebate.program', 'policy', "Rebate Programs",
        states={
            'invisible': Eval('kind') != 'rebate',
            'readonly': Eval('state') != 'draft',
            },
        help="What the rebate pays: basis, products, periods and tiers.")

    @classmethod
    def dms_check_publish(cls, policies):
        super().dms_check_publish(policies)
        for policy in policies:
            if policy.kind != 'rebate':
                continue
            if not policy.rebate_programs:
                raise RebateError(gettext(
                        'distributor_policy.msg_rebate_no_program',
                        policy=policy.rec_name))
            for program in policy.rebate_programs:
                if not program.tiers:
                    raise RebateError(gettext(
                            'distributor_policy.msg_rebate_no_tiers',
                            program=program.rec_name))
            if not cls.dms_targets(policy):
                raise RebateError(gettext(
                        'distributor_policy.msg_rebate_no_targets',
                        policy=policy.rec_name))

    @classmethod
    def copy(cls, policies, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('rebate_programs.accruals', None)
        return super().copy(policies, default=default)


class Program(DocumentLine, ModelSQL, ModelView):
    """Rebate Program

    What a rebate policy pays: basis, product scope, periods, tiers.
    Edited while its policy is a draft only (like the lines of a
    document); see the module docstring for the tier modes."""
    __name__ = 'distributor.rebate.program'
    _dms_document = 'policy'

    _draft = {'readonly': Eval('policy_state', 'draft') != 'draft'}
    _depends = ['policy_state']

    policy = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='CASCADE',
        domain=[('kind', '=', 'rebate')], states=_draft)
    policy_state = fields.Function(fields.Selection(
            'get_policy_states', "Policy State"),
        'on_change_with_policy_state')
    name = fields.Char("Name", required=True, states=_draft)
    basis = fields.Selection(BASES, "Basis", required=True, sort=False,
        states=_draft,
        help="Amount: the untaxed invoiced amount net of credit notes; "
        "quantity: the invoiced quantity net of returns.")
    products = fields.Many2Many(
        'distributor.rebate.program-product.product', 'program', 'product',
        "Products", states=_draft)
    categories = fields.Many2Many(
        'distributor.rebate.program-product.category', 'program',
        'category', "Categories", states=_draft,
        help="Their sub-categories count too.  Neither products nor "
        "categories: every product counts.")
    period = fields.Selection(PERIODS, "Period", required=True, sort=False,
        states=_draft)
    start_date = fields.Date("Start Date", required=True, states=_draft,
        domain=[If(Bool(Eval('end_date')),
                ('start_date', '<=', Eval('end_date')), ())])
    end_date = fields.Date("End Date", required=True, states=_draft,
        domain=[If(Bool(Eval('start_date')),
                ('end_date', '>=', Eval('start_date')), ())])
    tier_mode = fields.Selection(TIER_MODES, "Tier Mode", required=True,
        sort=False, states=_draft,
        help="Whole volume: the rate of the tier reached applies to the "
        "whole volume.  Part above each threshold: each tier's rate "
        "applies only to the volume between its threshold and the next.")
    tiers = fields.One2Many(
        'distributor.rebate.program.tier', 'program', "Tiers",
        states=_draft)
    accruals = fields.One2Many(
        'distributor.rebate.accrual', 'program', "Accruals", readonly=True)
    company = fields.Function(fields.Many2One(
            'company.company', "Company"), 'get_company')

    del _draft, _depends

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.policy, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'compute_now': {
                    'invisible': ~Eval('policy_state').in_(
                        ['published', 'closed']),
                    'depends': ['policy_state'],
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def default_basis(cls):
        return 'amount'

    @classmethod
    def default_period(cls):
        return 'quarter'

    @classmethod
    def default_tier_mode(cls):
        return 'whole'

    @classmethod
    def get_policy_states(cls):
        Policy = Pool().get('distributor.policy')
        return Policy.fields_get(['state'])['state']['selection']

    @fields.depends('policy', '_parent_policy.state')
    def on_change_with_policy_state(self, name=None):
        return self.policy.state if self.policy else 'draft'

    @fields.depends('policy', '_parent_policy.start_date',
        '_parent_policy.end_date', 'start_date', 'end_date')
    def on_change_policy(self):
        if self.policy:
            if not self.start_date:
                self.start_date = self.policy.start_date
            if not self.end_date:
                self.end_date = self.policy.end_date

    def get_company(self, name):
        company = getattr(self.policy, 'company', None)
        return company.id if company else None

    @classmethod
    def copy(cls, programs, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('accruals', None)
        return super().copy(programs, default=default)

    # Locked with the policy (like the lines of a document) --------------

    @classmethod
    def dms_check_editable(cls, programs):
        Policy = Pool().get('distributor.policy')
        Policy.dms_check_editable(Policy.browse(
                list({p.policy.id for p in programs})))

    # Validation -----------------------------------------------------------

    @classmethod
    def validate(cls, programs):
        super().validate(programs)
        for program in programs:
            program.check_tiers()

    def check_tiers(self):
        "Thresholds strictly increasing, values not negative nor falling"
        tiers = sorted(self.tiers, key=lambda t: (t.threshold or 0))
        previous = None
        for tier in tiers:
            value = tier.tier_value(self.basis)
            if tier.threshold is None or tier.threshold < 0:
                raise RebateValidationError(gettext(
                        'distributor_policy.msg_rebate_tier_threshold',
                        program=self.rec_name))
            if value is None or value < 0:
                raise RebateValidationError(gettext(
                        'distributor_policy.msg_rebate_tier_negative',
                        program=self.rec_name,
                        threshold=tier.threshold))
            if previous is not None:
                if tier.threshold == previous.threshold:
                    raise RebateValidationError(gettext(
                            'distributor_policy.msg_rebate_tier_duplicate',
                            program=self.rec_name,
                            threshold=tier.threshold))
                if value < previous.tier_value(self.basis):
                    raise RebateValidationError(gettext(
                            'distributor_policy.msg_rebate_tier_decreasing',
                            program=self.rec_name,
                            threshold=tier.threshold))
            previous = tier

    # Periods and tiers ----------------------------------------------------

    def periods(self):
        "[(start, end)] of the program's periods"
        return split_periods(self.period, self.start_date, self.end_date)

    def period_at(self, date):
        """The period containing date; before the program its first,
        after it its last (None without periods)"""
        periods = self.periods()
        if not periods:
            return None
        for start, end in periods:
            if start <= date <= end:
                return (start, end)
        return periods[0] if date < periods[0][0] else periods[-1]

    def tier_table(self):
        "[(threshold, value)] sorted: value the fraction or per unit"
        return sorted((t.threshold, t.tier_fraction(self.basis))
            for t in self.tiers)

    def outcome(self, volume):
        return tier_outcome(self.tier_table(), self.tier_mode, volume)

    def scope_products(self):
        """The ids of the products in scope (products and the products of
        the categories and their children), None for every product"""
        pool = Pool()
        Product = pool.get('product.product')
        if not self.products and not self.categories:
            return None
        ids = {p.id for p in self.products}
        if self.categories:
            with trusted():
                ids |= {p.id for p in Product.search([
                            ('template.categories', 'child_of',
                                [c.id for c in self.categories], 'parent'),
                            ], order=[])}
        return ids

    def targets(self):
        "The ids of the distributors the program accrues for"
        Policy = Pool().get('distributor.policy')
        return set(Policy.dms_targets(self.policy))

    @classmethod
    @ModelView.button
    def compute_now(cls, programs):
        "Compute the current accruals of the programs (a queued run)"
        Run = Pool().get('distributor.rebate.run')
        Run.enqueue(programs)

    @classmethod
    def running(cls, date=None):
        "The programs of published policies that cover date"
        date = date or _today()
        with trusted():
            return cls.search([
                    ('policy.state', 'in', list(RUNNING)),
                    ('start_date', '<=', date),
                    ('end_date', '>=', date),
                    ], order=[('id', 'ASC')])


class ProgramTier(DocumentLine, ModelSQL, ModelView):
    """Rebate Tier

    From its threshold of volume on, a rate (amount basis, in %) or an
    amount per unit (quantity basis)"""
    __name__ = 'distributor.rebate.program.tier'
    _dms_document = 'program'

    program = fields.Many2One(
        'distributor.rebate.program', "Program", required=True,
        ondelete='CASCADE')
    threshold = fields.Numeric(
        "Threshold", digits=(16, 2), required=True,
        domain=[('threshold', '>=', 0)],
        help="The volume (amount or quantity) from which the tier applies.")
    rate = fields.Numeric(
        "Rate (%)", digits=(6, 3),
        domain=['OR', ('rate', '=', None), ('rate', '>=', 0)],
        help="Amount basis: the rebate in percent of the volume "
        "(2 = 2 %).")
    amount_per_unit = fields.Numeric(
        "Amount per Unit", digits=(16, 4),
        domain=['OR', ('amount_per_unit', '=', None),
            ('amount_per_unit', '>=', 0)],
        help="Quantity basis: the rebate per unit of volume.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.program, Index.Range())))
        cls._order = [('threshold', 'ASC'), ('id', 'ASC')]

    def tier_value(self, basis):
        return self.rate if basis == 'amount' else self.amount_per_unit

    def tier_fraction(self, basis):
        value = self.tier_value(basis) or Decimal(0)
        return value / 100 if basis == 'amount' else value

    def get_rec_name(self, name):
        return f'≥ {self.threshold}'


class ProgramProduct(DocumentLine, ModelSQL):
    "Rebate Program - Product"
    __name__ = 'distributor.rebate.program-product.product'
    _dms_document = 'program'
    program = fields.Many2One(
        'distributor.rebate.program', "Program", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')


class ProgramCategory(DocumentLine, ModelSQL):
    "Rebate Program - Category"
    __name__ = 'distributor.rebate.program-product.category'
    _dms_document = 'program'
    program = fields.Many2One(
        'distributor.rebate.program', "Program", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'product.category', "Category", required=True, ondelete='CASCADE')


class Accrual(WorkflowRecords, ModelSQL, ModelView):
    """Rebate Accrual

    What a distributor has earned so far on a program's period: its
    volume, the tier reached, the amount accrued and the volume left to
    the next tier.  Computed (SQL aggregates), never edited."""
    __name__ = 'distributor.rebate.accrual'
    _dms_readonly_message = 'distributor_policy.msg_rebate_accrual_readonly'
    _dms_readonly_error = RebateError

    program = fields.Many2One(
        'distributor.rebate.program', "Program", required=True,
        readonly=True, ondelete='CASCADE')
    policy = fields.Function(fields.Many2One(
            'distributor.policy', "Policy"), 'get_policy')
    party = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='CASCADE')
    period_start = fields.Date("Period Start", required=True, readonly=True)
    period_end = fields.Date("Period End", required=True, readonly=True)
    volume = fields.Numeric("Volume", digits=(16, 2), readonly=True)
    tier_threshold = fields.Numeric(
        "Tier Reached", digits=(16, 2), readonly=True,
        help="The threshold of the tier reached (empty: none yet).")
    tier_value = fields.Numeric(
        "Rate or Amount per Unit", digits=(16, 4), readonly=True)
    accrued_amount = fields.Numeric(
        "Accrued", digits=(16, 2), readonly=True)
    next_threshold = fields.Numeric(
        "Next Threshold", digits=(16, 2), readonly=True)
    gap = fields.Numeric(
        "Volume to Next Tier", digits=(16, 2), readonly=True)
    computed_at = fields.DateTime("Computed At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.program, Index.Range()),
                    (t.period_start, Index.Range()),
                    (t.party, Index.Range())),
                Index(t, (t.party, Index.Range())),
                })
        cls._order = [('period_start', 'DESC'), ('accrued_amount', 'DESC'),
            ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_progress': RPC(),
                })

    def get_policy(self, name):
        return self.program.policy.id

    # Computation ------------------------------------------------------

    @classmethod
    def volumes(cls, program, start, end, parties=None):
        """{party id: volume} of the program over [start, end]: one SQL
        aggregate over the posted or paid customer invoice lines (credit
        notes have negative quantities and count against), of the
        products in scope, of the parties (all the recipients when
        None)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        invoice = Invoice.__table__()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        where = ((invoice.type == 'out')
            & invoice.state.in_(['posted', 'paid'])
            & (invoice.invoice_date >= start)
            & (invoice.invoice_date <= end)
            & (line.type == 'line'))
        company = program.company
        if company:
            where &= (invoice.company == company.id)
        scope = program.scope_products()
        if scope is not None:
            if not scope:
                return {}
            where &= line.product.in_(sorted(scope))
        # the line amounts as Tryton rounds them (quantity × unit price,
        # 2 decimals), exact (the quantity is a float column)
        quantity = Cast(line.quantity, 'NUMERIC')
        if program.basis == 'amount':
            measure = Sum(Round(quantity * line.unit_price, 2))
        else:
            measure = Sum(quantity)
        result = {}
        if parties is None and program.policy.state != 'draft':
            # the recipients, joined in the database (a semi-join beats
            # an IN list of a thousand ids)
            Recipient = pool.get('distributor.policy.recipient')
            recipient = Recipient.__table__()
            where &= invoice.party.in_(recipient.select(
                    recipient.distributor,
                    where=recipient.policy == program.policy.id))
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id
                    ).select(invoice.party, measure,
                    where=where, group_by=[invoice.party]))
            for party, total in cursor:
                result[party] = Decimal(str(total or 0)).quantize(CENT)
            return result
        if parties is None:
            parties = program.targets()
        for sub_ids in grouped_slice(sorted(parties), count=2000):
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id
                    ).select(invoice.party, measure,
                    where=where & reduce_ids(invoice.party, sub_ids),
                    group_by=[invoice.party]))
            for party, total in cursor:
                result[party] = Decimal(str(total or 0)).quantize(CENT)
        return result

    @classmethod
    def compute(cls, programs, date=None, period=None):
        """Compute the accruals of the programs for the period containing
        date (today by default) or the given (start, end) period: one
        row per program, distributor (its recipients) and period,
        replaced in bulk.  Returns the number of rows written."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        user = Transaction().user or 0
        date = date or _today()
        count = 0
        for program in programs:
            span = period or program.period_at(date)
            if not span:
                continue
            start, end = span
            targets = sorted(program.targets())
            volumes = cls.volumes(program, start, end)
            tiers = program.tier_table()
            rows = []
            for party in targets:
                volume = volumes.get(party, ZERO)
                outcome = tier_outcome(tiers, program.tier_mode, volume)
                value = outcome.value
                if value is not None and program.basis == 'amount':
                    value = value * 100
                rows.append([program.id, party, start, end, volume,
                        outcome.threshold, value, outcome.amount,
                        outcome.next_threshold, outcome.gap, now, user,
                        now])
            cursor.execute(*table.delete(
                    where=(table.program == program.id)
                    & (table.period_start == start)))
            columns = [table.program, table.party, table.period_start,
                table.period_end, table.volume, table.tier_threshold,
                table.tier_value, table.accrued_amount,
                table.next_threshold, table.gap, table.computed_at,
                table.create_uid, table.create_date]
            for sub_rows in grouped_slice(rows, count=1000):
                sub_rows = list(sub_rows)
                if sub_rows:
                    cursor.execute(*table.insert(columns, sub_rows))
            count += len(rows)
        return count

    @classmethod
    def of(cls, program, start, parties=None):
        "{party id: accrual} of a program's period"
        domain = [('program', '=', program.id),
            ('period_start', '=', start)]
        if parties is not None:
            domain.append(('party', 'in', [int(p) for p in parties]))
        with trusted():
            return {a.party.id: a for a in cls.search(domain)}

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_progress(cls, party, date=None):
        """The rebate progress of a distributor: for each program of the
        rebate policies it receives, the period at date (today) with its
        volume, the tier reached, the amount accrued and the volume left
        to the next tier (computed now if the nightly run has not)"""
        pool = Pool()
        Policy = pool.get('distributor.policy')
        Program = pool.get('distributor.rebate.program')
        date = validation.date(date, 'date', required=False) or _today()
        with trusted():
            policies = Policy.search([
                    ('kind', '=', 'rebate'),
                    ('state', 'in', ['published', 'closed']),
                    ('recipients.distributor', '=', party.id),
                    ])
            programs = Program.search([
                    ('policy', 'in', [p.id for p in policies])],
                order=[('start_date', 'DESC'), ('id', 'ASC')])
        result = []
        for program in programs:
            span = program.period_at(date)
            if not span:
                continue
            accrual = cls.of(program, span[0], [party]).get(party.id)
            if accrual is None:
                # not computed yet: the distributor's figures, unsaved
                accrual = cls._unsaved(program, span, party)
            if accrual is None:
                continue
            tiers = program.tier_table()
            result.append({
                    'program': program.id,
                    'name': program.name,
                    'policy': program.policy.id,
                    'policy_title': program.policy.rec_name,
                    'basis': program.basis,
                    'tier_mode': program.tier_mode,
                    'period_start': span[0].isoformat(),
                    'period_end': span[1].isoformat(),
                    'volume': str(accrual.volume),
                    'tier_threshold': (str(accrual.tier_threshold)
                        if accrual.tier_threshold is not None else None),
                    'tier_value': (str(accrual.tier_value.normalize())
                        if accrual.tier_value is not None else None),
                    'accrued_amount': str(accrual.accrued_amount),
                    'next_threshold': (str(accrual.next_threshold)
                        if accrual.next_threshold is not None else None),
                    'gap': (str(accrual.gap)
                        if accrual.gap is not None else None),
                    'computed_at': (accrual.computed_at.isoformat(
                            timespec='seconds')
                        if accrual.computed_at else None),
                    'tiers': [{
                            'threshold': str(t),
                            'value': str((v * 100 if program.basis
                                        == 'amount' else v).normalize()),
                            } for t, v in tiers],
                    })
        return result

    @classmethod
    def _unsaved(cls, program, span, party):
        "The accrual of one distributor computed now, not stored"
        if party.id not in program.targets():
            return None
        volume = cls.volumes(program, span[0], span[1], [party.id]).get(
            party.id, ZERO)
        outcome = program.outcome(volume)
        value = outcome.value
        if value is not None and program.basis == 'amount':
            value = value * 100
        return cls(program=program, party=party, period_start=span[0],
            period_end=span[1], volume=volume,
            tier_threshold=outcome.threshold, tier_value=value,
            accrued_amount=outcome.amount,
            next_threshold=outcome.next_threshold, gap=outcome.gap,
            computed_at=dt.datetime.now())


class AccrualRun(WorkflowRecords, ModelSQL, ModelView):
    """Rebate Accrual Run

    A computation of the current accruals of some programs (Compute Now)
    or of every running program (nightly), run as a queue task that
    writes its progress as it goes."""
    __name__ = 'distributor.rebate.run'
    _dms_readonly_message = 'distributor_policy.msg_rebate_run_readonly'
    _dms_readonly_error = RebateError

    date = fields.Date("Date", required=True, readonly=True)
    program = fields.Many2One(
        'distributor.rebate.program', "Program", readonly=True,
        ondelete='CASCADE',
        help="Empty: every running program.")
    state = fields.Selection(RUN_STATES, "State", required=True,
        readonly=True, sort=False)
    total = fields.Integer("Programs", readonly=True)
    done = fields.Integer("Programs Done", readonly=True)
    rows = fields.Integer("Accruals Written", readonly=True)
    progress = fields.Function(fields.Float(
            "Progress", digits=(3, 2)), 'get_progress')
    started_at = fields.DateTime("Started At", readonly=True)
    ended_at = fields.DateTime("Ended At", readonly=True)
    error = fields.Text("Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_date(cls):
        return _today()

    @classmethod
    def default_done(cls):
        return 0

    def get_progress(self, name):
        if not self.total:
            return 1.0 if self.state == 'done' else 0.0
        return round((self.done or 0) / self.total, 2)

    @classmethod
    def enqueue(cls, programs=None, date=None):
        """Create a run (for programs, or every running program) and queue
        its processing (after commit without a queue worker)"""
        date = date or _today()
        vlist = ([{'program': p.id, 'date': date, 'total': 1}
                for p in programs] if programs is not None
            else [{'program': None, 'date': date}])
        with trusted():
            runs = cls.create(vlist)
        cls.__queue__.process(runs, True)
        return runs

    @classmethod
    def compute_nightly(cls):
        "ir.cron: a run over every running program"
        return cls.enqueue(None)

    @classmethod
    def process(cls, runs, commit=False):
        """Compute the accruals of the runs, writing the progress after
        each program; commit (a queue task in its own transaction): make
        each step visible at once and record a failure"""
        Program = Pool().get('distributor.rebate.program')
        Accrual = Pool().get('distributor.rebate.accrual')
        transaction = Transaction()
        for run in runs:
            run = cls(run.id)
            if run.state not in {'queued', 'failed'}:
                continue
            programs = ([run.program] if run.program
                else Program.running(run.date))
            with trusted():
                cls.write([run], {'state': 'running', 'total': len(programs),
                        'done': 0, 'rows': 0, 'error': None,
                        'started_at': dt.datetime.now()})
            if commit:
                transaction.commit()
            done = rows = 0
            try:
                for program in programs:
                    rows += Accrual.compute([program], date=run.date)
                    done += 1
                    with trusted():
                        cls.write([run], {'done': done, 'rows': rows})
                    if commit:
                        transaction.commit()
            except Exception as exception:
                if not commit:
                    raise
                logger.exception("rebate accrual run %s failed", run.id)
                transaction.rollback()
                with trusted():
                    cls.write([cls(run.id)], {'state': 'failed',
                            'error': str(exception)[:2000],
                            'ended_at': dt.datetime.now()})
                transaction.commit()
                continue
            with trusted():
                cls.write([run], {'state': 'done',
                        'ended_at': dt.datetime.now()})
            if commit:
                transaction.commit()


class Settlement(Document, ModelSQL, ModelView):
    """Rebate Settlement

    Pays the accruals of one ended period of a program, after a manager
    approved them (changing an amount needs a reason): as credit notes
    (account.invoice) or as rebate balance the distributors spend on
    their orders.  One settlement per program and period."""
    __name__ = 'distributor.rebate.settlement'
    _dms_editable_states = {'draft', 'computed'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {
        'computed_at', 'approved_by', 'approved_at', 'settled_by',
        'settled_at', 'state_logs', 'cancel_reason'}
    _dms_log_model = 'distributor.rebate.settlement.log'
    _dms_reason_field = 'cancel_reason'
    # the header is the draft's only
    _dms_header_fields = {'program', 'period_start', 'period_end', 'method'}

    _draft = {'readonly': Eval('state') != 'draft'}

    program = fields.Many2One(
        'distributor.rebate.program', "Program", required=True,
        ondelete='RESTRICT', states=_draft)
    period_start = fields.Date("Period Start", required=True, states=_draft)
    period_end = fields.Date("Period End", required=True, states=_draft)
    method = fields.Selection(METHODS, "Settle As", required=True,
        sort=False, states=_draft,
        help="Credit note: a customer credit note (account.invoice) per "
        "distributor; rebate balance: an entry in its rebate ledger that "
        "it spends as a deduction on its orders.")
    lines = fields.One2Many(
        'distributor.rebate.settlement.line', 'settlement', "Lines",
        states={'readonly': Eval('state') != 'computed'})
    total_amount = fields.Function(fields.Numeric(
            "Total Approved", digits=(16, 2)), 'get_total_amount')
    state = fields.Selection(SETTLEMENT_STATES, "State", readonly=True,
        required=True, sort=False)
    computed_at = fields.DateTime("Computed At", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    approved_at = fields.DateTime("Approved At", readonly=True)
    settled_by = fields.Many2One('res.user', "Settled By", readonly=True)
    settled_at = fields.DateTime("Settled At", readonly=True)
    cancel_reason = fields.Text("Cancellation Reason", readonly=True)
    state_logs = fields.One2Many(
        'distributor.rebate.settlement.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def copy(cls, settlements, default=None):
        "A copy is a new draft: its lines are computed again"
        default = default.copy() if default is not None else {}
        default.setdefault('lines', None)
        return super().copy(settlements, default=default)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.program, Index.Range()),
                (t.period_start, Index.Range())))
        cls._order = [('period_start', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computed'),
            ('computed', 'computed'),
            ('computed', 'approved'),
            ('approved', 'settled'),
            ('draft', 'cancelled'),
            ('computed', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'depends': ['state'],
                    'icon': 'tryton-refresh',
                    },
                'approve': {
                    'invisible': Eval('state') != 'computed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'settle': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_method(cls):
        return 'ledger'

    @fields.depends('program', 'period_start', 'period_end')
    def on_change_program(self):
        "The program's last ended period"
        if self.program:
            today = _today()
            ended = [p for p in self.program.periods() if p[1] < today]
            if ended:
                self.period_start, self.period_end = ended[-1]

    def get_rec_name(self, name):
        return (f'{self.program.rec_name} '
            f'{self.period_start} – {self.period_end}')

    def get_total_amount(self, name):
        return sum((l.approved_amount or ZERO for l in self.lines), ZERO)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if (mode == 'write' and external
                and cls._dms_header_fields & set(values)):
            for record in records:
                if record.state != 'draft':
                    raise RebateError(gettext(
                            'distributor_policy.msg_settlement_header',
                            settlement=record.rec_name))

    # Checks -------------------------------------------------------------

    @classmethod
    def _check_period(cls, settlements):
        today = _today()
        for settlement in settlements:
            period = (settlement.period_start, settlement.period_end)
            if period not in settlement.program.periods():
                raise RebateError(gettext(
                        'distributor_policy.msg_settlement_period',
                        settlement=settlement.rec_name))
            if settlement.period_end >= today:
                raise RebateError(gettext(
                        'distributor_policy.msg_settlement_not_ended',
                        settlement=settlement.rec_name,
                        end=settlement.period_end))

    @classmethod
    def _check_unique(cls, settlements):
        """One live settlement per program and period: the others of the
        same program and period that are computed, approved or settled
        refuse it (serialised on the program)"""
        Program = Pool().get('distributor.rebate.program')
        serialize(Program, [s.program for s in settlements])
        for settlement in settlements:
            others = cls.search([
                    ('program', '=', settlement.program.id),
                    ('period_start', '=', settlement.period_start),
                    ('id', '!=', settlement.id),
                    ('state', 'in', ['computed', 'approved', 'settled']),
                    ], limit=1)
            if others:
                raise RebateError(gettext(
                        'distributor_policy.msg_settlement_twice',
                        settlement=settlement.rec_name,
                        other=others[0].rec_name,
                        state=dict(SETTLEMENT_STATES)[others[0].state]))

    # Workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('computed')
    def compute(cls, settlements):
        """Recompute the period's accruals and fill a line per distributor
        with an accrued amount (approved amount = computed amount)"""
        pool = Pool()
        Accrual = pool.get('distributor.rebate.accrual')
        Line = pool.get('distributor.rebate.settlement.line')
        cls.dms_serialize(settlements)
        with trusted():
            settlements = cls.browse(settlements)
            cls._check_period(settlements)
            cls._check_unique(settlements)
            Line.delete([l for s in settlements for l in s.lines])
            lines = []
            for settlement in settlements:
                program = settlement.program
                span = (settlement.period_start, settlement.period_end)
                Accrual.compute([program], period=span)
                for party_id, accrual in sorted(
                        Accrual.of(program, span[0]).items()):
                    if not accrual.accrued_amount or (
                            accrual.accrued_amount <= 0):
                        continue
                    lines.append(Line(settlement=settlement,
                            party=party_id, volume=accrual.volume,
                            tier_threshold=accrual.tier_threshold,
                            tier_value=accrual.tier_value,
                            amount=accrual.accrued_amount,
                            approved_amount=accrual.accrued_amount))
            Line.save(lines)
            cls.write(settlements, {'computed_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, settlements):
        "A manager approves the amounts (a changed amount needs a reason)"
        cls.dms_serialize(settlements)
        with trusted():
            settlements = cls.browse(settlements)
            cls._check_unique(settlements)
            for settlement in settlements:
                if not settlement.lines:
                    raise RebateError(gettext(
                            'distributor_policy.msg_settlement_no_lines',
                            settlement=settlement.rec_name))
                for line in settlement.lines:
                    approved = line.approved_amount
                    if approved is None or approved < 0:
                        raise RebateError(gettext(
                                'distributor_policy.msg_settlement_amount',
                                party=line.party.rec_name,
                                amount=approved))
                    if approved != line.amount and not (
                            line.reason or '').strip():
                        raise RebateError(gettext(
                                'distributor_policy.msg_settlement_reason',
                                party=line.party.rec_name,
                                amount=approved, computed=line.amount))
            cls.write(settlements, {
                    'approved_by': Transaction().user or None,
                    'approved_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('settled')
    def settle(cls, settlements):
        """Pay the approved amounts: a posted credit note or a ledger entry
        per distributor, and tell each distributor"""
        pool = Pool()
        Ledger = pool.get('distributor.rebate.ledger')
        Line = pool.get('distributor.rebate.settlement.line')
        Message = pool.get('distributor.message')
        cls.dms_serialize(settlements)
        with trusted():
            settlements = cls.browse(settlements)
            cls._check_unique(settlements)
            messages = []
            for settlement in settlements:
                lines = [l for l in settlement.lines
                    if l.approved_amount and l.approved_amount > 0]
                description = gettext(
                    'distributor_policy.msg_settlement_description',
                    program=settlement.program.rec_name,
                    start=settlement.period_start,
                    end=settlement.period_end)
                if settlement.method == 'credit_note':
                    for line in lines:
                        line.invoice = Ledger.dms_credit_note(
                            line.party, line.approved_amount, description,
                            origin=settlement)
                else:
                    entries = Ledger.dms_post([{
                                'party': line.party.id,
                                'kind': 'settlement',
                                'amount': line.approved_amount,
                                'origin': str(settlement),
                                'description': description,
                                } for line in lines])
                    for line, entry in zip(lines, entries):
                        line.ledger_entry = entry
                Line.save(lines)
                messages.extend((line.party,
                        'distributor_policy.msg_message_rebate_settled',
                        None, {
                            'program': settlement.program.rec_name,
                            'amount': line.approved_amount,
                            }, description) for line in lines)
            cls.write(settlements, {
                    'settled_by': Transaction().user or None,
                    'settled_at': dt.datetime.now()})
            Message.post(messages)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, settlements):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, settlements):
        pass


class SettlementLine(DocumentLine, ModelSQL, ModelView):
    "Rebate Settlement Line"
    __name__ = 'distributor.rebate.settlement.line'
    _dms_document = 'settlement'
    _dms_workflow_fields = {
        'party', 'volume', 'tier_threshold', 'tier_value', 'amount',
        'invoice', 'ledger_entry'}

    settlement = fields.Many2One(
        'distributor.rebate.settlement', "Settlement", required=True,
        ondelete='CASCADE', readonly=True)
    party = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='RESTRICT')
    volume = fields.Numeric("Volume", digits=(16, 2), readonly=True)
    tier_threshold = fields.Numeric(
        "Tier Reached", digits=(16, 2), readonly=True)
    tier_value = fields.Numeric(
        "Rate or Amount per Unit", digits=(16, 4), readonly=True)
    amount = fields.Numeric(
        "Computed Amount", digits=(16, 2), readonly=True)
    approved_amount = fields.Numeric(
        "Approved Amount", digits=(16, 2), required=True,
        domain=[('approved_amount', '>=', 0)])
    reason = fields.Text("Reason",
        help="Why the approved amount differs from the computed one.")
    invoice = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True,
        ondelete='RESTRICT')
    ledger_entry = fields.Many2One(
        'distributor.rebate.ledger', "Ledger Entry", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.settlement, Index.Range())))
        cls._order = [('party', 'ASC'), ('id', 'ASC')]


class SettlementLog(DocumentLog, ModelSQL, ModelView):
    "State history of a rebate settlement"
    __name__ = 'distributor.rebate.settlement.log'

    document = fields.Many2One(
        'distributor.rebate.settlement', "Settlement", required=True,
        ondelete='CASCADE', readonly=True)


class _Without:
    """An order as the channel rules see it without its rebate deduction
    line (the deduction is a payment, not goods): lines and untaxed amount
    of the goods"""

    def __init__(self, sale, lines, deduction):
        self._sale = sale
        self.line_lines = lines
        self.untaxed_amount = (sale.untaxed_amount or ZERO) + deduction

    def __getattr__(self, name):
        return getattr(self._sale, name)


class Sale(metaclass=PoolMeta):
    """Distributor orders spend the rebate balance: rebate_deduction,
    set while the order is editable, becomes at submission a line of the
    configured service product (quantity -1, the amount as unit price:
    distributor orders refuse negative prices) and a 'deduction' entry of
    the rebate ledger; a rejection or a cancellation gives it back (a
    'reversal' entry), a new submission takes it again.

    The channel rules judge the goods: the deduction line is left out of
    the lines, categories and minimum order rules (the minimum applies to
    the goods before the deduction); the credit and deposit rules see the
    total after it (what the distributor will owe)."""
    __name__ = 'sale.sale'

    rebate_deduction = fields.Numeric(
        "Rebate Deduction", digits=(16, 2),
        domain=['OR', ('rebate_deduction', '=', None),
            ('rebate_deduction', '>=', 0)],
        states={
            'readonly': ~Eval('channel_state', 'draft').in_(
                ['draft', 'rejected']),
            'invisible': ~Eval('distributor_order', False),
            },
        help="The part of the distributor's rebate balance this order "
        "uses: taken off the order at submission.")
    rebate_deducted = fields.Function(fields.Numeric(
            "Rebate Deducted", digits=(16, 2),
            states={'invisible': ~Eval('distributor_order', False)},
            help="What the rebate ledger holds for this order."),
        'get_rebate_deducted')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_set_rebate_deduction': RPC(readonly=False),
                })

    @classmethod
    def get_rebate_deducted(cls, sales, name):
        return cls._rebate_deducted(sales)

    @classmethod
    def _rebate_deducted(cls, sales):
        """{sale id: net amount the ledger took for the order} (one SQL
        sum over its deduction and reversal entries)"""
        Ledger = Pool().get('distributor.rebate.ledger')
        table = Ledger.__table__()
        cursor = Transaction().connection.cursor()
        result = {s.id: ZERO for s in sales}
        origins = {f'sale.sale,{s.id}': s.id for s in sales
            if s.id is not None and s.id >= 0}
        for sub in grouped_slice(sorted(origins), MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.origin, Sum(table.amount),
                    where=table.origin.in_(list(sub))
                    & table.kind.in_(['deduction', 'reversal']),
                    group_by=[table.origin]))
            for origin, total in cursor:
                result[origins[origin]] = -Decimal(str(total or 0)).quantize(
                    CENT)
        return result

    @classmethod
    def _rebate_product(cls):
        """The configured deduction product; made (a service 'Rebate
        Deduction' in units) and configured on first use"""
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        config = Configuration(1)
        if config.rebate_deduction_product:
            return config.rebate_deduction_product
        return cls._rebate_create_product()

    @classmethod
    def _rebate_create_product(cls):
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        ModelData = pool.get('ir.model.data')
        Category = pool.get('product.category')
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        with trusted():
            config = Configuration(1)
            category = None
            if config.rebate_account:
                # invoiced on the rebate (contra-revenue) account
                category, = Category.create([{
                            'name': gettext(
                                'distributor_policy.msg_deduction_product'),
                            'accounting': True,
                            'account_revenue': config.rebate_account.id,
                            }])
            template, = Template.create([{
                        'name': gettext(
                            'distributor_policy.msg_deduction_product'),
                        'type': 'service',
                        'salable': True,
                        'default_uom': unit.id,
                        'sale_uom': unit.id,
                        'list_price': ZERO,
                        'account_category': category.id if category else None,
                        'products': [('create', [{}])],
                        }])
            config.rebate_deduction_product = template.products[0]
            config.save()
        return template.products[0]

    @classmethod
    def _rebate_lines(cls, sale, product=None):
        product = product if product is not None else cls._rebate_product()
        if not product:
            return []
        return [l for l in sale.line_lines if l.product == product]

    @staticmethod
    def _rebate_goods_amount(sale, product):
        "The untaxed amount of the order's lines other than the deduction"
        return sum((l.amount or ZERO for l in sale.line_lines
                if not product or l.product != product), ZERO)

    # The portal's and staff's entry point -------------------------------

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_create_order(cls, party, lines, kind='regular', address=None,
            reference=None, delivery_method='brand', comment=None,
            submit=False, rebate_deduction=None):
        """distributor_sale's order creation, with rebate_deduction: an
        amount of the distributor's rebate balance taken off the order
        (see dms_set_rebate_deduction), set before the submission"""
        if rebate_deduction in (None, '', 0, '0'):
            return super().dms_create_order(party, lines, kind=kind,
                address=address, reference=reference,
                delivery_method=delivery_method, comment=comment,
                submit=submit)
        check_caller(cls, 'dms_set_rebate_deduction')
        if submit:
            check_caller(cls, 'dms_submit')
        sale_id = super().dms_create_order(party, lines, kind=kind,
            address=address, reference=reference,
            delivery_method=delivery_method, comment=comment, submit=False)
        cls.dms_set_rebate_deduction(party, sale_id, rebate_deduction)
        if submit:
            cls.dms_submit([cls(sale_id)])
        return sale_id

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        record={'sale': None})
    def dms_set_rebate_deduction(cls, party, sale, amount):
        """Set the rebate deduction of an editable order of the
        distributor (0 removes it): within the distributor's balance
        (plus what the order already holds) and the order's goods amount.
        Idempotent.  Returns the order's deduction and the balance left."""
        pool = Pool()
        Ledger = pool.get('distributor.rebate.ledger')
        if sale.party != party or not sale.distributor_order:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=sale.__names__()['model'], id=sale.id))
        amount = validation.amount(amount, gettext(
                'distributor_policy.msg_field_rebate_deduction'),
            minimum=0).quantize(CENT)
        cls.dms_serialize([sale])
        sale = cls(sale.id)
        cls.dms_check_editable([sale])
        cls._rebate_check(sale, amount)
        if (sale.rebate_deduction or ZERO) != amount:
            cls.write([sale], {'rebate_deduction': amount or None})
        balance = Ledger.balance(party)
        return {
            'sale': sale.id,
            'rebate_deduction': str(amount),
            'balance': str(balance),
            'available': str(balance + cls._rebate_deducted([sale])[
                    sale.id]),
            }

    @classmethod
    def _rebate_check(cls, sale, amount):
        "Refuse a deduction beyond the balance or the order's goods"
        Ledger = Pool().get('distributor.rebate.ledger')
        if not amount:
            return
        if sale.order_kind == 'return':
            raise RebateError(gettext(
                    'distributor_policy.msg_deduction_return',
                    order=sale.rec_name))
        product = cls._rebate_product()
        if not product:
            raise RebateError(gettext(
                    'distributor_policy.msg_deduction_no_product'))
        available = (Ledger.balance(sale.party)
            + cls._rebate_deducted([sale])[sale.id])
        if amount > available:
            raise LedgerError(gettext(
                    'distributor_policy.msg_ledger_negative',
                    party=sale.party.rec_name, balance=available,
                    amount=amount))
        goods = cls._rebate_goods_amount(sale, product)
        if amount > goods:
            raise RebateError(gettext(
                    'distributor_policy.msg_deduction_over_order',
                    order=sale.rec_name, amount=amount, total=goods))

    # Submission: the deduction line and the ledger ----------------------

    @classmethod
    def _dms_prepare(cls, sales):
        "The deduction line of each order, as its rebate_deduction says"
        pool = Pool()
        Line = pool.get('sale.line')
        super()._dms_prepare(sales)
        product = cls._rebate_product()
        to_save, to_delete = [], []
        for sale in cls.browse(sales):
            if not sale.distributor_order:
                continue
            amount = sale.rebate_deduction or ZERO
            lines = cls._rebate_lines(sale, product)
            if not amount:
                to_delete.extend(lines)
                continue
            cls._rebate_check(sale, amount)
            line = lines[0] if lines else Line(sale=sale, type='line',
                product=product, unit=product.sale_uom or product.default_uom,
                sequence=10000)
            to_delete.extend(lines[1:])
            if (line.id is None or line.quantity != -1
                    or line.unit_price != amount):
                line.quantity = -1
                line.unit_price = amount
                line.taxes = []
                line.description = gettext(
                    'distributor_policy.msg_deduction_line',
                    amount=amount)
                to_save.append(line)
        with trusted():
            if to_delete:
                Line.delete(to_delete)
            if to_save:
                Line.save(to_save)

    @classmethod
    def _dms_set_channel_state(cls, sales, state, **values):
        if state == 'submitted':
            cls._rebate_post(sales)
        elif state in {'rejected', 'cancelled'}:
            cls._rebate_post(sales, back=True)
        super()._dms_set_channel_state(sales, state, **values)

    @classmethod
    def _rebate_post(cls, sales, back=False):
        """Bring the ledger to the order's deduction (back: to nothing):
        post the difference with what it already holds, once"""
        Ledger = Pool().get('distributor.rebate.ledger')
        sales = [s for s in sales if s.distributor_order]
        if not sales:
            return
        held = cls._rebate_deducted(sales)
        vlist = []
        for sale in sales:
            target = ZERO if back else (sale.rebate_deduction or ZERO)
            delta = target - held[sale.id]
            if not delta:
                continue
            vlist.append({
                    'party': sale.party.id,
                    'kind': 'deduction' if delta > 0 else 'reversal',
                    'amount': -delta,
                    'origin': str(sale),
                    'description': gettext(
                        'distributor_policy.msg_deduction_entry'
                        if delta > 0 else
                        'distributor_policy.msg_deduction_reversal',
                        order=sale.rec_name),
                    })
        if vlist:
            Ledger.dms_post(vlist)

    # The channel rules see the goods ------------------------------------

    @classmethod
    def _rebate_view(cls, sale):
        product = cls._rebate_product()
        lines = cls._rebate_lines(sale, product) if product else []
        if not lines:
            return sale
        deduction = -sum((l.amount or ZERO for l in lines), ZERO)
        return _Without(sale, [l for l in sale.line_lines
                if l not in lines], deduction)

    @classmethod
    def _dms_rule_lines(cls, sale, context):
        return super()._dms_rule_lines(cls._rebate_view(sale), context)

    @classmethod
    def _dms_rule_categories(cls, sale, context):
        return super()._dms_rule_categories(cls._rebate_view(sale), context)

    @classmethod
    def _dms_rule_minimum(cls, sale, context):
        return super()._dms_rule_minimum(cls._rebate_view(sale), context)
