# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Receivables and settlement: the aging of the distributors' open
receivable lines (per distributor, per territory with its sub-territories,
per tier, and each line for the drill-down), the overdue block on the
approval of brand orders with its manager override, the instalments and
receivables summary of the portal, and the due and overdue reminders.

Everything reads the open receivable lines of ``account.move.line``
(posted moves, not reconciled at the date, receivable accounts) in SQL:
one query (``open_lines``) that the aging models, the approval rule, the
portal and the reminders share.  A line's due date is its maturity date
(each instalment of a payment term is a line of its own), else its move's
date; a line with a negative amount (a payment or credit note not
reconciled yet) is an unapplied credit, never overdue."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Null, Union, With
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.backend import MAX_QUERY_PARAMS

from distributor.access import entry_point, trusted
from distributor.document import ReasonWizard
from distributor.inbox import notify_staff

from .exceptions import ReceivableError

ZERO = Decimal(0)
CENT = Decimal('0.01')
# the aging buckets: (key, label), in the order they are shown
BUCKETS = [
    ('current', "Not Yet Due"),
    ('1_30', "1-30 Days"),
    ('31_60', "31-60 Days"),
    ('61_90', "61-90 Days"),
    ('over_90', "Over 90 Days"),
    ('credit', "Unapplied Credit"),
    ]
# bucket -> column of the aging models
BUCKET_COLUMNS = {
    'current': 'current',
    '1_30': 'days_1_30',
    '31_60': 'days_31_60',
    '61_90': 'days_61_90',
    'over_90': 'days_over_90',
    'credit': 'credits',
    }
OVERDUE_BUCKETS = ['1_30', '31_60', '61_90', 'over_90']
REMINDER_KINDS = [
    ('due', "Due Soon"),
    ('overdue', "Overdue"),
    ]


def _amount(value):
    "A Decimal of two places from what the database answers"
    if value is None:
        value = ZERO
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)


def _date(value):
    "A date from what the database answers (SQLite: ISO text)"
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _company_id(company=None):
    "The company of the context, else the only one"
    if company is not None:
        return int(company)
    company = Transaction().context.get('company')
    if company:
        return company
    Company = Pool().get('company.company')
    with trusted():
        companies = Company.search([], limit=2)
    if len(companies) == 1:
        return companies[0].id
    raise ReceivableError(gettext('distributor_account.msg_no_company'))


def open_lines(company_id, date, parties=None, territory=None, tier=None,
        sales_rep=None, reach=None):
    """The open receivable lines of the distributors at date (a select):
    id (the move line), move_line, party, company, tier, sales_rep, move,
    document (the move's origin), invoice, number, date, maturity_date,
    due_date, amount (debit - credit) and bucket.

    parties limits to those ids, territory to the distributors with a
    territory in it or below it, tier and sales_rep to theirs; reach (a
    set of territory ids) to the distributors of those territories."""
    pool = Pool()
    MoveLine = pool.get('account.move.line')
    Move = pool.get('account.move')
    Reconciliation = pool.get('account.move.reconciliation')
    Account = pool.get('account.account')
    Type = pool.get('account.account.type')
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    PartyTerritory = pool.get('party.party-distributor.territory')
    Territory = pool.get('distributor.territory')

    line = MoveLine.__table__()
    move = Move.__table__()
    reconciliation = Reconciliation.__table__()
    account = Account.__table__()
    type_ = Type.__table__()
    debit_type = Type.__table__()
    invoice = Invoice.__table__()
    party = Party.__table__()

    amount = line.debit - line.credit
    due = Coalesce(line.maturity_date, move.date)
    day = dt.timedelta(days=1)
    bucket = Case(
        (amount < 0, 'credit'),
        (due >= date, 'current'),
        (due >= date - 30 * day, '1_30'),
        (due >= date - 60 * day, '31_60'),
        (due >= date - 90 * day, '61_90'),
        else_='over_90')
    where = ((line.party != Null)
        & (type_.receivable
            | (debit_type.receivable & (line.debit != 0)))
        & (move.state == 'posted')
        & ((line.reconciliation == Null) | (reconciliation.date > date))
        & (move.date <= date)
        & (account.company == company_id)
        & (party.is_distributor == Literal(True)))
    if parties is not None:
        ids = sorted({int(p) for p in parties})
        where &= fields.SQL_OPERATORS['in'](line.party, ids or [-1])
    if tier:
        where &= party.distributor_tier == int(tier)
    if sales_rep:
        where &= party.sales_rep == int(sales_rep)
    areas = []
    if territory:
        areas.append(Territory.area([Territory(int(territory))]))
    if reach is not None:
        areas.append(set(reach))
    for area in areas:
        link = PartyTerritory.__table__()
        where &= line.party.in_(link.select(link.party,
                where=fields.SQL_OPERATORS['in'](
                    link.territory, sorted(area) or [-1])))
    return (line
        .join(move, condition=line.move == move.id)
        .join(account, condition=line.account == account.id)
        .join(type_, condition=account.type == type_.id)
        .join(debit_type, 'LEFT',
            condition=account.debit_type == debit_type.id)
        .join(reconciliation, 'LEFT',
            condition=reconciliation.id == line.reconciliation)
        .join(party, condition=line.party == party.id)
        .join(invoice, 'LEFT', condition=invoice.move == move.id)
        .select(
            line.id.as_('id'),
            line.id.as_('move_line'),
            line.party.as_('party'),
            account.company.as_('company'),
            party.distributor_tier.as_('tier'),
            party.sales_rep.as_('sales_rep'),
            move.id.as_('move'),
            move.origin.as_('document'),
            invoice.id.as_('invoice'),
            Coalesce(invoice.number, move.number).as_('number'),
            move.date.as_('date'),
            line.maturity_date.as_('maturity_date'),
            due.as_('due_date'),
            amount.as_('amount'),
            bucket.as_('bucket'),
            where=where))


def _bucket_sums(lines):
    "The aggregate columns of the aging models over the open lines"
    columns = []
    for key, name in BUCKET_COLUMNS.items():
        columns.append(Sum(Case((lines.bucket == key, lines.amount),
                    else_=0)).as_(name))
    columns.append(Sum(lines.amount).as_('total'))
    columns.append(Sum(Case((lines.bucket.in_(OVERDUE_BUCKETS),
                    lines.amount), else_=0)).as_('overdue'))
    return columns


class AgingContext(ModelView):
    "Receivable Aging Context"
    __name__ = 'distributor.account.aging.context'

    date = fields.Date("Date", required=True,
        help="The aging as of this date: the lines open at the end of it.")
    company = fields.Many2One('company.company', "Company", required=True)
    territory = fields.Many2One('distributor.territory', "Territory",
        help="Distributors of the territory and of the territories below "
        "it.")
    tier = fields.Many2One('distributor.tier', "Tier")
    sales_rep = fields.Many2One('company.employee', "Sales Rep")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class _AgingMixin:
    "What the aging models share: the context and the bucket columns"
    __slots__ = ()

    company = fields.Many2One('company.company', "Company")
    current = fields.Numeric("Not Yet Due", digits=(16, 2))
    days_1_30 = fields.Numeric("1-30 Days", digits=(16, 2))
    days_31_60 = fields.Numeric("31-60 Days", digits=(16, 2))
    days_61_90 = fields.Numeric("61-90 Days", digits=(16, 2))
    days_over_90 = fields.Numeric("Over 90 Days", digits=(16, 2))
    credits = fields.Numeric("Unapplied Credit", digits=(16, 2),
        help="Payments and credit notes not reconciled yet.")
    total = fields.Numeric("Total Open", digits=(16, 2))
    overdue = fields.Numeric("Overdue", digits=(16, 2))

    @classmethod
    def _context_lines(cls):
        "The open lines under the context's filters and the caller's reach"
        pool = Pool()
        Party = pool.get('party.party')
        Date = pool.get('ir.date')
        context = Transaction().context
        date = context.get('date') or Date.today()
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        company = context.get('company') or -1
        return open_lines(company, date,
            territory=context.get('territory'),
            tier=context.get('tier'),
            sales_rep=context.get('sales_rep'),
            reach=Party.dms_reach_territories())


class Aging(_AgingMixin, ModelSQL, ModelView):
    """Receivable Aging

    One row per distributor: its open receivable lines at the context's
    date by how long they are overdue."""
    __name__ = 'distributor.account.aging'

    party = fields.Many2One('party.party', "Distributor", required=True)
    tier = fields.Many2One('distributor.tier', "Tier")
    sales_rep = fields.Many2One('company.employee', "Sales Rep")
    oldest_due_date = fields.Date("Oldest Due Date",
        help="The earliest due date of the overdue lines.")
    line_count = fields.Integer("Lines")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [('overdue', 'DESC'), ('party', 'ASC'), ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_receivables': RPC(),
                'dms_instalments': RPC(),
                })

    @classmethod
    def table_query(cls):
        lines = cls._context_lines()
        return lines.select(
            lines.party.as_('id'),
            lines.party.as_('party'),
            lines.company.as_('company'),
            Max(lines.tier).as_('tier'),
            Max(lines.sales_rep).as_('sales_rep'),
            Min(Case((lines.bucket.in_(OVERDUE_BUCKETS), lines.due_date),
                    else_=Null)).as_('oldest_due_date'),
            Count(lines.move_line).as_('line_count'),
            *_bucket_sums(lines),
            group_by=[lines.party, lines.company])

    # The portal ----------------------------------------------------------

    @classmethod
    def summary(cls, party, date=None, company=None):
        """The receivables of a distributor at date: the open amounts by
        bucket, the balance, the overdue amount and oldest due date, the
        deposit balance and the credit limit, used and available"""
        pool = Pool()
        Date = pool.get('ir.date')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        date = date or Date.today()
        company_id = _company_id(company)
        lines = open_lines(company_id, date, parties=[party.id])
        query = lines.select(
            Min(Case((lines.bucket.in_(OVERDUE_BUCKETS), lines.due_date),
                    else_=Null)).as_('oldest'),
            *_bucket_sums(lines))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        oldest, *values = cursor.fetchone()
        names = list(BUCKET_COLUMNS.values()) + ['total', 'overdue']
        sums = {n: _amount(v) for n, v in zip(names, values)}
        company = Company(company_id)
        with Transaction().set_context(company=company_id):
            party = Party(party.id)
            limit = party.get_multivalue(
                'credit_limit_amount', company=company_id)
            used = party.credit_amount or ZERO
        return {
            'date': date,
            'currency': company.currency,
            'buckets': {k: sums[c] for k, c in BUCKET_COLUMNS.items()},
            'balance': sums['total'],
            'overdue': sums['overdue'],
            'not_yet_due': sums['current'],
            'credits': sums['credits'],
            'oldest_due_date': _date(oldest),
            'deposit': cls.deposit_balance(party, company_id),
            'credit_limit': limit,
            'credit_used': used,
            'credit_available': (
                max(limit - used, ZERO) if limit is not None else None),
            }

    @classmethod
    def deposit_balance(cls, party, company_id):
        """The deposit of the party: credit - debit of its open lines of
        the deposit accounts (account_deposit's rule), in SQL"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        Type = pool.get('account.account.type')
        line = MoveLine.__table__()
        move = Move.__table__()
        account = Account.__table__()
        type_ = Type.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id)
            .select(Sum(line.credit - line.debit),
                where=type_.deposit
                & (line.party == party.id)
                & (line.reconciliation == Null)
                & (move.state == 'posted')
                & (account.company == company_id)))
        return _amount(cursor.fetchone()[0])

    @classmethod
    def instalments(cls, party, date=None, company=None):
        """The open receivable lines of the distributor, by due date:
        each instalment on its own, with its invoice"""
        pool = Pool()
        Date = pool.get('ir.date')
        date = date or Date.today()
        lines = open_lines(_company_id(company), date, parties=[party.id])
        cursor = Transaction().connection.cursor()
        cursor.execute(*lines.select(
                lines.move_line, lines.invoice, lines.number, lines.date,
                lines.due_date, lines.amount, lines.bucket,
                order_by=[lines.due_date.asc, lines.move_line.asc]))
        result = []
        for line, invoice, number, date_, due, amount, bucket in cursor:
            due = _date(due)
            result.append({
                    'line': line,
                    'invoice': invoice,
                    'number': number,
                    'date': _date(date_),
                    'due_date': due,
                    'amount': _amount(amount),
                    'bucket': bucket,
                    'days_overdue': (date - due).days,
                    })
        return result

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_receivables(cls, party):
        """The receivables summary of a distributor (JSON: dates in ISO,
        amounts as strings): balance, overdue, not yet due, unapplied
        credits, the aging buckets, the deposit balance and the credit
        limit, used and available"""
        result = cls.summary(party)

        def text(value):
            return str(_amount(value)) if value is not None else None
        return {
            'party': party.id,
            'date': result['date'].isoformat(),
            'currency': result['currency'].code,
            'balance': text(result['balance']),
            'overdue_amount': text(result['overdue']),
            'not_yet_due': text(result['not_yet_due']),
            'unapplied_credit': text(result['credits']),
            'oldest_due_date': (result['oldest_due_date'].isoformat()
                if result['oldest_due_date'] else None),
            'deposit_balance': text(result['deposit']),
            'credit_limit': text(result['credit_limit']),
            'credit_used': text(result['credit_used']),
            'credit_available': text(result['credit_available']),
            'aging': {k: text(v) for k, v in result['buckets'].items()},
            }

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_instalments(cls, party):
        """The open receivable lines of a distributor by due date (JSON):
        invoice id and number, date, due date, amount, days overdue
        (negative: days to the due date) and status ('due' not yet,
        'overdue', 'credit' for an unapplied payment)"""
        result = []
        for item in cls.instalments(party):
            days = item['days_overdue']
            if item['bucket'] == 'credit':
                status = 'credit'
            elif days > 0:
                status = 'overdue'
            else:
                status = 'due'
            result.append({
                    'line': item['line'],
                    'invoice': item['invoice'],
                    'number': item['number'],
                    'date': item['date'].isoformat(),
                    'due_date': item['due_date'].isoformat(),
                    'amount': str(item['amount']),
                    'days_overdue': max(days, 0),
                    'days_to_due': max(-days, 0),
                    'status': status,
                    })
        return result


class AgingLine(ModelSQL, ModelView):
    """Receivable Aging Line

    One open receivable line (an invoice, or one instalment of it) at the
    context's date: the drill-down of the aging."""
    __name__ = 'distributor.account.aging.line'

    party = fields.Many2One('party.party', "Distributor", required=True)
    company = fields.Many2One('company.company', "Company")
    tier = fields.Many2One('distributor.tier', "Tier")
    sales_rep = fields.Many2One('company.employee', "Sales Rep")
    move_line = fields.Many2One('account.move.line', "Move Line")
    move = fields.Many2One('account.move', "Move")
    document = fields.Reference("Document", selection='get_documents')
    invoice = fields.Many2One('account.invoice', "Invoice")
    number = fields.Char("Number")
    date = fields.Date("Date")
    maturity_date = fields.Date("Maturity Date")
    due_date = fields.Date("Due Date")
    days_overdue = fields.Function(
        fields.Integer("Days Overdue"), 'get_days_overdue')
    bucket = fields.Selection(BUCKETS, "Bucket", sort=False)
    amount = fields.Numeric("Amount", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [('due_date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_documents(cls):
        Move = Pool().get('account.move')
        return Move.get_origin()

    @classmethod
    def table_query(cls):
        return Aging._context_lines()

    def get_days_overdue(self, name):
        Date = Pool().get('ir.date')
        date = Transaction().context.get('date') or Date.today()
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        if self.due_date is None:
            return None
        return max((date - self.due_date).days, 0)


class AgingTerritory(_AgingMixin, ModelSQL, ModelView):
    """Receivable Aging by Territory

    One row per territory: the aging of the distributors of the territory
    and of the territories below it (each distributor once)."""
    __name__ = 'distributor.account.aging.territory'

    territory = fields.Many2One('distributor.territory', "Territory")
    parent = fields.Many2One('distributor.territory', "Parent")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('territory', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Territory = pool.get('distributor.territory')
        PartyTerritory = pool.get('party.party-distributor.territory')
        territory = Territory.__table__()
        child = Territory.__table__()
        node = Territory.__table__()
        link = PartyTerritory.__table__()
        # (ancestor, descendant) of the territory tree, itself included
        closure = With('ancestor', 'descendant', recursive=True)
        closure.query = Union(
            territory.select(territory.id, territory.id),
            closure.join(child, condition=child.parent == closure.descendant
                ).select(closure.ancestor, child.id),
            all_=True)
        # each distributor once under each territory above its own
        pairs = closure.join(link,
            condition=link.territory == closure.descendant
            ).select(closure.ancestor.as_('territory'),
                link.party.as_('party'),
                group_by=[closure.ancestor, link.party],
                with_=[closure])
        lines = cls._context_lines()
        rows = pairs.join(lines, condition=lines.party == pairs.party
            ).join(node, condition=node.id == pairs.territory)
        return rows.select(
            pairs.territory.as_('id'),
            pairs.territory.as_('territory'),
            Max(node.parent).as_('parent'),
            Max(lines.company).as_('company'),
            Count(lines.party, distinct=True).as_('distributor_count'),
            *_bucket_sums(lines),
            group_by=[pairs.territory])


class AgingTier(_AgingMixin, ModelSQL, ModelView):
    """Receivable Aging by Tier

    One row per tier: the aging of its distributors."""
    __name__ = 'distributor.account.aging.tier'

    tier = fields.Many2One('distributor.tier', "Tier")
    distributor_count = fields.Integer("Distributors")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('tier', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        lines = cls._context_lines()
        return lines.select(
            lines.tier.as_('id'),
            lines.tier.as_('tier'),
            Max(lines.company).as_('company'),
            Count(lines.party, distinct=True).as_('distributor_count'),
            *_bucket_sums(lines),
            where=lines.tier != Null,
            group_by=[lines.tier])


# The overdue block of approvals ------------------------------------------

class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    overdue_grace_days = fields.Integer(
        "Overdue Grace Days", required=True,
        domain=[('overdue_grace_days', '>=', 0)],
        help="How many days after its due date an unpaid receivable "
        "blocks the approval of the distributor's new orders.")
    reminder_due_days = fields.Integer(
        "Due Reminder Days", required=True,
        domain=[('reminder_due_days', '>=', 0)],
        help="How many days before its due date a distributor is reminded "
        "of an instalment (once per instalment).")
    reminder_overdue_interval = fields.Integer(
        "Overdue Reminder Interval", required=True,
        domain=[('reminder_overdue_interval', '>', 0)],
        help="Every how many days a distributor and its sales rep are "
        "reminded of an overdue receivable until it is paid.")

    @classmethod
    def default_overdue_grace_days(cls):
        return 0

    @classmethod
    def default_reminder_due_days(cls):
        return 3

    @classmethod
    def default_reminder_overdue_interval(cls):
        return 7


OVERRIDE_FIELDS = {
    'overdue_override_by', 'overdue_override_at', 'overdue_override_reason',
    }


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    overdue_override_by = fields.Many2One(
        'res.user', "Overdue Override By", readonly=True,
        ondelete='RESTRICT')
    overdue_override_at = fields.DateTime(
        "Overdue Override At", readonly=True)
    overdue_override_reason = fields.Text(
        "Overdue Override Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._dms_workflow_fields = (
            set(cls._dms_workflow_fields) | OVERRIDE_FIELDS)
        cls._buttons.update({
                'dms_override_overdue': {
                    'invisible': (~Eval('distributor_order', False)
                        | ~Eval('channel_state').in_(
                            ['draft', 'submitted', 'rejected'])
                        | Eval('overdue_override_at')),
                    'depends': ['distributor_order', 'channel_state',
                        'overdue_override_at'],
                    'icon': 'tryton-warning',
                    },
                })

    @classmethod
    def _dms_rules(cls):
        return super()._dms_rules() + ['overdue']

    @classmethod
    def _dms_rule_label(cls, rule):
        if rule == 'overdue':
            return gettext('distributor_account.msg_rule_overdue')
        return super()._dms_rule_label(rule)

    @classmethod
    def _dms_rule_context(cls, sales):
        context = super()._dms_rule_context(sales)
        context.overdue = {}
        by_company = defaultdict(set)
        for sale in sales:
            if cls._dms_overdue_applies(sale):
                by_company[sale.company.id].add(sale.party.id)
        for company_id, parties in by_company.items():
            for party_id, values in cls.dms_overdue(
                    parties, company_id).items():
                context.overdue[(company_id, party_id)] = values
        return context

    @classmethod
    def _dms_overdue_applies(cls, sale):
        """The overdue block holds the approval of a submitted order that
        no manager let through (returns are never held)"""
        return bool(sale.party and sale.company
            and sale.channel_state == 'submitted'
            and sale.order_kind != 'return'
            and not sale.overdue_override_at)

    @classmethod
    def dms_overdue(cls, parties, company_id, date=None):
        """{party id: (overdue amount, oldest due date)} of the parties
        with open receivable lines past their due date and the grace days
        of the configuration, in one query"""
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('distributor.configuration')
        date = date or Date.today()
        grace = Configuration(1).overdue_grace_days or 0
        limit = date - dt.timedelta(days=grace)
        result = {}
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice(sorted(int(p) for p in parties),
                MAX_QUERY_PARAMS):
            lines = open_lines(company_id, date, parties=list(sub))
            cursor.execute(*lines.select(
                    lines.party, Sum(lines.amount), Min(lines.due_date),
                    where=(lines.amount > 0) & (lines.due_date < limit),
                    group_by=[lines.party]))
            for party_id, amount, oldest in cursor:
                amount = _amount(amount)
                if amount > 0:
                    result[party_id] = (amount, _date(oldest))
        return result

    @classmethod
    def _dms_rule_overdue(cls, sale, context):
        "No approval while the distributor has overdue receivables"
        if not cls._dms_overdue_applies(sale):
            return
        found = context.overdue.get((sale.company.id, sale.party.id))
        if not found:
            return
        amount, oldest = found
        return gettext('distributor_account.msg_rule_overdue_failed',
            order=context.order, distributor=sale.party.rec_name,
            amount=context.lang.currency(amount, sale.company.currency),
            date=context.lang.strftime(oldest))

    @classmethod
    @ModelView.button_action('distributor_account.wizard_override_overdue')
    def dms_override_overdue(cls, sales):
        pass

    @classmethod
    def dms_override_overdue_block(cls, sales, reason):
        """Let the orders be approved although their distributor has
        overdue receivables, recording who allowed it, when and why (its
        wizard: channel managers and DMS administrators only)"""
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(sales)
        with trusted():
            sales = cls.browse(list(map(int, sales)))
            for sale in sales:
                if (not sale.distributor_order or sale.channel_state
                        not in {'draft', 'submitted', 'rejected'}):
                    raise ReceivableError(gettext(
                            'distributor_account.msg_override_state',
                            order=sale.rec_name,
                            state=sale.channel_state_string))
            cls.write(sales, {
                    'overdue_override_by': Transaction().user or None,
                    'overdue_override_at': dt.datetime.now(),
                    'overdue_override_reason': reason,
                    })
            with cls.dms_reason(gettext(
                        'distributor_account.msg_log_overdue_override',
                        reason=reason)):
                cls._dms_log_changes([(s.id, s.channel_state, None)
                        for s in sales])


class OverrideOverdue(ReasonWizard):
    "Approve despite overdue receivables"
    __name__ = 'distributor.account.override_overdue'
    _method = 'dms_override_overdue_block'


# Reminders ----------------------------------------------------------------

class Reminder(ModelSQL, ModelView):
    """Settlement Reminder

    The log of the due and overdue reminders sent to a distributor for
    a receivable line, so that none is sent twice: a due reminder once
    per line, an overdue one every interval of the configuration until
    the line is paid."""
    __name__ = 'distributor.account.reminder'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='CASCADE')
    move_line = fields.Many2One(
        'account.move.line', "Move Line", required=True, readonly=True,
        ondelete='CASCADE')
    kind = fields.Selection(REMINDER_KINDS, "Kind", required=True,
        readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    number = fields.Char("Number", readonly=True)
    due_date = fields.Date("Due Date", readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('party')
        cls._sql_constraints += [
            ('line_kind_date_unique',
                Unique(t, t.move_line, t.kind, t.date),
                'distributor_account.msg_reminder_unique'),
            ]
        cls._sql_indexes.add(Index(t,
                (t.move_line, Index.Equality()), (t.kind, Index.Equality()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def send_reminders(cls, date=None):
        """Remind the distributors (their portal inbox) and their sales
        reps (a notification) of the lines due within the configured days
        (once per line) and of the overdue ones (every interval); the
        cron runs it daily.  Returns {kind: number of lines}."""
        pool = Pool()
        Company = pool.get('company.company')
        date = date or pool.get('ir.date').today()
        counts = {'due': 0, 'overdue': 0}
        with trusted():
            for company in Company.search([]):
                for kind, count in cls._send_company(
                        company, date).items():
                    counts[kind] += count
        return counts

    @classmethod
    def _to_remind(cls, company_id, date):
        """[(kind, line id, party id, number, due date, amount)] of the
        lines to remind of at date, in one query per kind"""
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        config = Configuration(1)
        soon = date + dt.timedelta(days=config.reminder_due_days or 0)
        interval = config.reminder_overdue_interval or 1
        cursor = Transaction().connection.cursor()
        result = []
        for kind in ['due', 'overdue']:
            lines = open_lines(company_id, date)
            sent = cls.__table__()
            where = lines.amount > 0
            if kind == 'due':
                where &= (lines.due_date >= date) & (lines.due_date <= soon)
                done = sent.select(sent.move_line,
                    where=sent.kind == 'due')
            else:
                where &= lines.due_date < date
                done = sent.select(sent.move_line,
                    where=(sent.kind == 'overdue')
                    & (sent.date > date - dt.timedelta(days=interval)))
            cursor.execute(*lines.select(
                    lines.move_line, lines.party, lines.number,
                    lines.due_date, lines.amount,
                    where=where & ~lines.move_line.in_(done),
                    order_by=[lines.party.asc, lines.due_date.asc,
                        lines.move_line.asc]))
            result.extend((kind, l, p, n, _date(d), _amount(a))
                for l, p, n, d, a in cursor)
        return result

    @classmethod
    def _send_company(cls, company, date):
        pool = Pool()
        Party = pool.get('party.party')
        Message = pool.get('distributor.message')
        Lang = pool.get('ir.lang')
        rows = cls._to_remind(company.id, date)
        if not rows:
            return {}
        reminders = cls.create([{
                    'company': company.id,
                    'party': party,
                    'move_line': line,
                    'kind': kind,
                    'date': date,
                    'number': number,
                    'due_date': due,
                    'amount': amount,
                    } for kind, line, party, number, due, amount in rows])
        groups = defaultdict(list)
        for reminder in reminders:
            groups[(reminder.party.id, reminder.kind)].append(reminder)
        parties = {p.id: p for p in Party.browse(
                sorted({p for p, _ in groups}))}
        currency = company.currency
        messages, notices = [], []
        for (party_id, kind), items in sorted(groups.items()):
            party = parties[party_id]
            lang = Lang.get(party.lang.code if party.lang else None)
            total = sum((r.amount for r in items), ZERO)
            body = '\n'.join(gettext(
                    'distributor_account.msg_reminder_line',
                    number=r.number or '', date=lang.strftime(r.due_date),
                    amount=lang.currency(r.amount, currency))
                for r in items)
            kwargs = {
                'count': len(items),
                'amount': lang.currency(total, currency),
                'date': lang.strftime(min(r.due_date for r in items)),
                'distributor': party.rec_name,
                }
            msg_id = f'distributor_account.msg_reminder_{kind}'
            messages.append((party, msg_id, None, kwargs, body))
            notices.append((items, party,
                    f'distributor_account.msg_notify_reminder_{kind}',
                    kwargs))
        Message.post(messages)
        notify_staff(notices, 'distributor_account.act_reminder_form',
            managers=False, reps=True)
        counts = defaultdict(int)
        for reminder in reminders:
            counts[reminder.kind] += 1
        return counts


class SendRemindersResult(ModelView):
    "Settlement reminders sent"
    __name__ = 'distributor.account.reminder.send.result'
    due = fields.Integer("Due Soon Lines", readonly=True)
    overdue = fields.Integer("Overdue Lines", readonly=True)


class SendReminders(Wizard):
    "Send the settlement reminders now"
    __name__ = 'distributor.account.reminder.send'
    start = StateTransition()
    result = StateView('distributor.account.reminder.send.result',
        'distributor_account.reminder_send_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        Reminder = Pool().get('distributor.account.reminder')
        counts = Reminder.send_reminders()
        self.result.due = counts['due']
        self.result.overdue = counts['overdue']
        return 'result'

    def default_result(self, fields):
        return {'due': self.result.due, 'overdue': self.result.overdue}


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('distributor.account.reminder|send_reminders',
                "Send Settlement Reminders"))
