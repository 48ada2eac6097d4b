# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Statements of account (对账单): the brand ↔ a distributor, read from the
receivable and deposit move lines of the distributor, and a distributor ↔
one of its stores, read from the store ledger of distributor_store.

A statement keeps its header figures (opening, debit, credit, closing,
settled and open amounts) from the moment it was generated; its lines are
an SQL view over the same rows, so nothing is retyped.  The party confirms
it, or disputes it (for the whole statement or per line, with a comment);
the issuer answers (resolves), possibly with a correcting credit note; the
party then confirms.  A confirmed statement is frozen: regenerating it is
refused, and so is a statement over a period that overlaps it."""
import datetime as dt
import logging
from decimal import Decimal

from sql import Cast, Column, Literal, Null, Union, Window
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce
from sql.functions import RowNumber
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.modules.account.exceptions import AccountMissing
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.document import Document, DocumentLog, WorkflowRecords
from distributor.exceptions import RecordNotFound

from .exceptions import StatementError, StatementValidationError

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
CENT = Decimal('0.01')

KINDS = [
    ('distributor', "Brand ↔ Distributor"),
    ('store', "Distributor ↔ Store"),
    ]
STATES = [
    ('draft', "Draft"),
    ('sent', "Sent"),
    ('disputed', "Disputed"),
    ('resolved', "Resolved"),
    ('confirmed', "Confirmed"),
    ('cancelled', "Cancelled"),
    ]
LINE_KINDS = [
    ('invoice', "Invoice"),
    ('credit_note', "Credit Note"),
    ('rebate', "Rebate Credit Note"),
    ('payment', "Payment"),
    ('deposit', "Deposit Received"),
    ('deposit_use', "Deposit Used"),
    ('write_off', "Write-Off"),
    ('order', "Channel Order"),
    ('store_payment', "Store Payment"),
    ('other', "Other"),
    ]
MESSAGE_KINDS = [
    ('comment', "Comment"),
    ('dispute', "Dispute"),
    ('answer', "Answer"),
    ('confirmation', "Confirmation"),
    ]
# the states in which the issuer may regenerate a statement
OPEN_STATES = {'draft', 'sent', 'disputed', 'resolved'}
# the most lines a dispute may name, the longest comment
MAX_DISPUTE_LINES = 200
MAX_COMMENT = 2000
# ids per query (trytond 8's grouped_slice without a size slices by 1)
IN_MAX = 1000


def _decimal(value):
    "A SQL numeric as a Decimal of cents (SQLite may answer bytes/float)"
    if isinstance(value, bytes):
        value = value.decode()
    return Decimal(str(value or 0)).quantize(CENT)


def _date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _num(column):
    """A numeric column to compare: SQLite stores Decimals as text blobs,
    which compare as greater than any number (trytond casts them too)"""
    return Cast(column, 'NUMERIC')


def _pair(a, b):
    "Cantor pairing in 64 bits: one id per (statement, row)"
    a, b = Cast(a, 'BIGINT'), Cast(b, 'BIGINT')
    return (a + b) * (a + b + 1) / 2 + b


def own_party():
    """The party of the portal account calling (None for staff and code):
    a distributor may act for its stores elsewhere, but a statement is
    confirmed or disputed by its own party only"""
    pool = Pool()
    User = pool.get('res.user')
    WebUser = pool.get('web.user')
    user_id = Transaction().user
    if not user_id:
        return None
    web_user_id = User.dms_portal_web_user(user_id)
    if not web_user_id:
        return None
    web_user = WebUser.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*web_user.select(web_user.party,
            where=web_user.id == web_user_id))
    row = cursor.fetchone()
    return row[0] if row else None


class Statement(Document, ModelSQL, ModelView):
    """Statement of Account

    The movements between an issuer and a party over a period, with the
    opening and closing balance, sent to the party to confirm or dispute"""
    __name__ = 'distributor.account.statement'
    _rec_name = 'number'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {
        'number', 'opening_balance', 'total_debit', 'total_credit',
        'closing_balance', 'settled_amount', 'open_amount', 'line_count',
        'generated_at', 'sent_at', 'confirmed_at', 'confirmed_by',
        'state_logs', 'messages', 'cancel_reason'}
    _dms_log_model = 'distributor.account.statement.log'
    _dms_reason_states = {'cancelled'}
    _dms_reason_field = 'cancel_reason'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, states=_draft,
        sort=False)
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='RESTRICT',
        states=_draft)
    issuer = fields.Many2One(
        'party.party', "Issuer", required=True, ondelete='RESTRICT',
        states=_draft,
        help="Who sends the statement: the brand, or the distributor of "
        "the store.")
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        states=_draft,
        domain=[If(Eval('kind') == 'store',
                ('is_store', '=', True),
                ('is_distributor', '=', True))],
        help="Who confirms it: the distributor, or the store.")
    start_date = fields.Date("From", required=True, states=_draft)
    end_date = fields.Date(
        "To", required=True, states=_draft,
        domain=[('end_date', '>=', Eval('start_date', None))])
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    opening_balance = fields.Numeric(
        "Opening Balance", digits=(16, 2), readonly=True)
    total_debit = fields.Numeric("Debit", digits=(16, 2), readonly=True)
    total_credit = fields.Numeric("Credit", digits=(16, 2), readonly=True)
    closing_balance = fields.Numeric(
        "Closing Balance", digits=(16, 2), readonly=True)
    settled_amount = fields.Numeric(
        "Settled", digits=(16, 2), readonly=True,
        help="What the period charged and is paid: payments and credits "
        "settle the opening balance first, then the period's charges.")
    open_amount = fields.Numeric(
        "Open", digits=(16, 2), readonly=True,
        help="What the period charged and is not paid yet (the part of "
        "the closing balance the period charged).")
    line_count = fields.Integer("Lines", readonly=True)
    generated_at = fields.DateTime("Generated At", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)
    confirmed_at = fields.DateTime("Confirmed At", readonly=True)
    confirmed_by = fields.Many2One(
        'res.user', "Confirmed By", readonly=True, ondelete='RESTRICT')
    consistent = fields.Function(fields.Boolean(
            "Consistent",
            help="The lines still add up to the figures generated."),
        'get_consistent')
    order_reference = fields.Function(fields.Char(
            "Order Reference"), 'get_order_reference',
        searcher='search_order_reference')
    document_number = fields.Function(fields.Char(
            "Document Number"), 'get_document_number',
        searcher='search_document_number')
    lines = fields.One2Many(
        'distributor.account.statement.line', 'statement', "Lines",
        readonly=True)
    messages = fields.One2Many(
        'distributor.account.statement.message', 'statement',
        "Conversation", readonly=True)
    disputed_lines = fields.Function(fields.Integer(
            "Disputed Lines"), 'get_disputed_lines')
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')
    cancel_reason = fields.Text("Cancellation Reason", readonly=True)
    state_logs = fields.One2Many(
        'distributor.account.statement.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range()),
                    (t.start_date, Index.Range())),
                Index(t, (t.issuer, Index.Range()),
                    (t.start_date, Index.Range())),
                Index(t, (t.number, Index.Similarity())),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'sent'),
            ('sent', 'confirmed'),
            ('sent', 'disputed'),
            ('disputed', 'resolved'),
            ('resolved', 'confirmed'),
            ('resolved', 'disputed'),
            ('sent', 'draft'),
            ('disputed', 'draft'),
            ('resolved', 'draft'),
            ('draft', 'cancelled'),
            ('sent', 'cancelled'),
            ('disputed', 'cancelled'),
            ('resolved', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'regenerate': {
                    'invisible': ~Eval('state').in_(sorted(OPEN_STATES)),
                    'depends': ['state'],
                    'icon': 'tryton-refresh',
                    },
                'send': {
                    'invisible': (Eval('state') != 'draft')
                    | ~Bool(Eval('generated_at')),
                    'depends': ['state', 'generated_at'],
                    'icon': 'tryton-forward',
                    },
                'resolve': {
                    'invisible': Eval('state') != 'disputed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(sorted(OPEN_STATES)),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                })
        cls.__rpc__.update({
                'dms_list_statements': RPC(),
                'dms_statement_detail': RPC(),
                'dms_confirm_statement': RPC(readonly=False),
                'dms_dispute_statement': RPC(readonly=False),
                'dms_comment_statement': RPC(readonly=False),
                'dms_generate_store_statements': RPC(readonly=False),
                'dms_send_statement': RPC(readonly=False),
                'dms_resolve_statement': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'distributor'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_issuer(cls):
        company = Transaction().context.get('company')
        if company:
            return Pool().get('company.company')(company).party.id

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('party.rec_name', operator, value),
            ]

    @classmethod
    def copy(cls, statements, default=None):
        "A copy is a new draft over the same period, generated again"
        default = default.copy() if default is not None else {}
        for name in ['number', 'opening_balance', 'total_debit',
                'total_credit', 'closing_balance', 'settled_amount',
                'open_amount', 'line_count', 'generated_at', 'sent_at',
                'confirmed_at', 'confirmed_by', 'cancel_reason']:
            default.setdefault(name, None)
        default.setdefault('messages', None)
        default.setdefault('state_logs', None)
        return super().copy(statements, default=default)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        vlist = [v.copy() for v in vlist]
        missing = [v for v in vlist if not v.get('number')]
        if missing:
            # the numbers of a batch at once (one nextval query)
            sequence = Sequence(ModelData.get_id(
                    'distributor_account', 'sequence_statement'))
            with trusted():
                numbers = list(sequence.get_many(n=len(missing)))
            for values, number in zip(missing, numbers):
                values['number'] = number
        cls._check_overlap_values(vlist)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        to_check = []
        for records, values in zip(actions, actions):
            if {'party', 'issuer', 'kind', 'start_date', 'end_date',
                    'state'} & set(values):
                to_check.extend(records)
        if to_check:
            cls.check_overlap(to_check)

    # Checks -------------------------------------------------------------

    @classmethod
    def validate_fields(cls, statements, field_names):
        super().validate_fields(statements, field_names)
        if {'kind', 'issuer', 'party', 'start_date', 'end_date'} & set(
                field_names):
            cls.check_parties(statements)
            cls.check_period(statements)

    @classmethod
    def check_period(cls, statements):
        for statement in statements:
            if statement.end_date < statement.start_date:
                raise StatementValidationError(gettext(
                        'distributor_account.msg_statement_period',
                        start=statement.start_date, end=statement.end_date))

    @classmethod
    def check_parties(cls, statements):
        """A brand statement is issued by the company to one of its
        distributors; a store statement by a distributor to its own store"""
        for statement in statements:
            if statement.kind == 'distributor':
                if (statement.issuer != statement.company.party
                        or not statement.party.is_distributor):
                    raise StatementValidationError(gettext(
                            'distributor_account.msg_statement_parties',
                            statement=statement.rec_name))
            elif (not statement.party.is_store
                    or statement.party.store_distributor
                    != statement.issuer):
                raise StatementValidationError(gettext(
                        'distributor_account.msg_statement_store_parties',
                        statement=statement.rec_name,
                        store=statement.party.rec_name,
                        distributor=statement.issuer.rec_name))

    @classmethod
    def _check_overlap_values(cls, vlist):
        """check_overlap before the statements are created: one query per
        period of the batch (the first overlap found raises as
        _check_overlap_one does)"""
        groups, default_issuer = {}, None
        for values in vlist:
            if values.get('state', 'draft') == 'cancelled':
                continue
            issuer = values.get('issuer')
            if not issuer:
                if default_issuer is None:
                    default_issuer = cls.default_issuer() or 0
                issuer = default_issuer
            party = values.get('party')
            start, end = values.get('start_date'), values.get('end_date')
            if not (issuer and party and start and end):
                continue
            groups.setdefault(
                (values.get('kind') or cls.default_kind(), int(issuer),
                    start, end), []).append(
                (int(party), values.get('number') or ''))
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for (kind, issuer, start, end), parties in groups.items():
            for sub in grouped_slice(parties, IN_MAX):
                sub = list(sub)
                cursor.execute(*table.select(table.party,
                        where=table.party.in_(sorted({p for p, _ in sub}))
                        & (table.issuer == issuer) & (table.kind == kind)
                        & (table.state != 'cancelled')
                        & (table.start_date <= end)
                        & (table.end_date >= start)))
                overlapping = {p for p, in cursor}
                for party, name in sub:
                    if party in overlapping:
                        cls._check_overlap_one(kind, issuer, party, start,
                            end, None, name)

    @classmethod
    def _check_overlap_one(cls, kind, issuer, party, start, end, id_, name):
        Party = Pool().get('party.party')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((table.issuer == int(issuer)) & (table.party == int(party))
            & (table.kind == kind) & (table.state != 'cancelled')
            & (table.start_date <= end) & (table.end_date >= start))
        if id_ is not None:
            where &= table.id != id_
        cursor.execute(*table.select(table.id, where=where, limit=1))
        row = cursor.fetchone()
        if row:
            other = cls(row[0])
            raise StatementValidationError(gettext(
                    'distributor_account.msg_statement_overlap'
                    if other.state == 'confirmed'
                    else 'distributor_account.msg_statement_overlap_open',
                    statement=name, other=other.rec_name,
                    party=Party(int(party)).rec_name,
                    start=other.start_date, end=other.end_date))

    @classmethod
    def check_overlap(cls, statements):
        """A period never overlaps another statement of the same issuer and
        party that is confirmed; nor any other open one (regenerate that
        one instead: generate replaces the statement of the same period)"""
        for statement in statements:
            if statement.state == 'cancelled':
                continue
            cls._check_overlap_one(statement.kind, statement.issuer.id,
                statement.party.id, statement.start_date,
                statement.end_date, statement.id, statement.rec_name)

    # Figures ------------------------------------------------------------

    @classmethod
    def receivable_accounts(cls, company):
        """The ids of the company's accounts a brand statement reads: the
        receivable and the deposit ones"""
        pool = Pool()
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        account = Account.__table__()
        type_ = AccountType.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*account.join(type_,
                condition=account.type == type_.id).select(account.id,
                where=(account.company == company.id)
                & ((type_.receivable == Literal(True))
                    | (type_.deposit == Literal(True)))))
        return [i for i, in cursor]

    @classmethod
    def check_receivable(cls, company, parties):
        "Refuse distributors without a receivable account"
        pool = Pool()
        Party = pool.get('party.party')
        PartyAccount = pool.get('party.party.account')
        if not cls.receivable_accounts(company):
            raise StatementError(gettext(
                    'distributor_account.msg_statement_no_receivable',
                    party=parties[0].rec_name if parties else ''))
        # the parties with a receivable account of their own are checked one
        # by one; the others all use the configuration's default: checked
        # once, on the first of them
        party_account = PartyAccount.__table__()
        cursor = Transaction().connection.cursor()
        own = set()
        for sub_ids in grouped_slice(sorted({p.id for p in parties}), IN_MAX):
            cursor.execute(*party_account.select(party_account.party,
                    where=party_account.party.in_(list(sub_ids))
                    & (party_account.account_receivable != Null)))
            own.update(p for p, in cursor)
        default_checked = False
        for party in parties:
            if party.id not in own:
                if default_checked:
                    continue
                default_checked = True
            with Transaction().set_context(company=company.id):
                # alone: not reading the accounts of all the parties listed
                party = Party(party.id)
                try:
                    account = party.account_receivable_used
                except AccountMissing:
                    account = None
            if not account:
                raise StatementError(gettext(
                        'distributor_account.msg_statement_no_receivable',
                        party=party.rec_name))

    @classmethod
    def distributor_figures(cls, company, party_ids, start, end):
        """{party id: figures} of brand statements: one aggregate over the
        receivable and deposit move lines of the parties up to end"""
        pool = Pool()
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        line = Line.__table__()
        move = Move.__table__()
        accounts = cls.receivable_accounts(company)
        result = {}
        if not accounts or not party_ids:
            return result
        cursor = Transaction().connection.cursor()
        inside = move.date >= start
        amount = line.debit - line.credit
        for sub_ids in grouped_slice(party_ids, IN_MAX):
            cursor.execute(*line.join(move,
                    condition=line.move == move.id).select(
                    line.party,
                    Sum(Case((move.date < start, amount), else_=0)),
                    Sum(Case((inside, line.debit), else_=0)),
                    Sum(Case((inside, line.credit), else_=0)),
                    Sum(Case((inside, 1), else_=0)),
                    where=line.party.in_(list(sub_ids))
                    & line.account.in_(accounts)
                    & (move.state == 'posted')
                    & (move.company == company.id)
                    & (move.date <= end),
                    group_by=[line.party]))
            for row in cursor:
                result[row[0]] = cls._figures(*row[1:])
        return result

    @classmethod
    def store_figures(cls, pairs, start, end):
        """{(distributor id, store id): figures} of store statements: one
        aggregate over the store ledger (delivered orders and payments)"""
        from distributor_store.statement import ledger
        rows = ledger()
        result = {}
        if not pairs:
            return result
        distributors = sorted({d for d, _ in pairs})
        stores = sorted({s for _, s in pairs})
        cursor = Transaction().connection.cursor()
        inside = rows.date >= start
        cursor.execute(*rows.select(rows.distributor, rows.store,
                Sum(Case((rows.date < start, rows.amount), else_=0)),
                Sum(Case((inside & (_num(rows.amount) > 0), rows.amount),
                        else_=0)),
                Sum(Case((inside & (_num(rows.amount) < 0), -rows.amount),
                        else_=0)),
                Sum(Case((inside, 1), else_=0)),
                where=rows.distributor.in_(distributors)
                & rows.store.in_(stores) & (rows.date <= end),
                group_by=[rows.distributor, rows.store]))
        for distributor, store, *figures in cursor:
            if (distributor, store) in pairs:
                result[(distributor, store)] = cls._figures(*figures)
        return result

    @staticmethod
    def _figures(opening, debit, credit, count):
        """The header figures; settled and open split what the period
        charged first in first out: what the party paid (and was credited)
        settles the opening balance first, then the period's charges, so
        open = the part of the closing balance the period charged"""
        opening, debit, credit = (
            _decimal(opening), _decimal(debit), _decimal(credit))
        closing = opening + debit - credit
        open_ = min(debit, max(closing, ZERO))
        return {
            'opening_balance': opening,
            'total_debit': debit,
            'total_credit': credit,
            'closing_balance': closing,
            'settled_amount': debit - open_,
            'open_amount': open_,
            'line_count': int(count or 0),
            }

    @staticmethod
    def _no_figures():
        return Statement._figures(0, 0, 0, 0)

    # Generation ---------------------------------------------------------

    @classmethod
    def generate(cls, kind, parties, start, end, issuer=None, company=None,
            skip_frozen=False, figures=None):
        """The statements of parties (distributors for 'distributor', stores
        of issuer for 'store') over start..end: created, or replacing the
        open statement of the same period (its figures generated again, back
        to draft).  A period overlapping a confirmed statement is refused,
        or skipped with skip_frozen (batch runs): returns (statements,
        skipped parties).  figures: the distributor_figures of the parties
        already computed (a run computes them once for all its batches)."""
        pool = Pool()
        Company = pool.get('company.company')
        if start is None or end is None or end < start:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_period',
                    start=start, end=end))
        if company is None:
            company = Transaction().context.get('company')
            # a portal call has no company in its context: the brand's
            company = (Company(company) if company
                else Company.search([], order=[('id', 'ASC')], limit=1)[0])
        parties = list(parties)
        if kind == 'distributor':
            issuer = company.party
            cls.check_receivable(company, parties)
            if figures is None:
                figures = cls.distributor_figures(
                    company, [p.id for p in parties], start, end)
            key = {p.id: p.id for p in parties}
        else:
            figures = cls.store_figures(
                {(issuer.id, p.id) for p in parties}, start, end)
            key = {p.id: (issuer.id, p.id) for p in parties}
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        existing = {}
        for sub_ids in grouped_slice([p.id for p in parties], IN_MAX):
            cursor.execute(*table.select(table.id, table.party, table.state,
                    table.start_date, table.end_date,
                    where=table.party.in_(list(sub_ids))
                    & (table.issuer == issuer.id) & (table.kind == kind)
                    & (table.state != 'cancelled')
                    & (table.start_date <= end) & (table.end_date >= start)))
            for id_, party, state, s_start, s_end in cursor:
                existing.setdefault(party, []).append(
                    (id_, state, _date(s_start), _date(s_end)))
        now = dt.datetime.now()
        to_create, to_write, to_draft, skipped = [], [], [], []
        for party in parties:
            values = dict(figures.get(key[party.id]) or cls._no_figures())
            values['generated_at'] = now
            others = existing.get(party.id, [])
            same = [o for o in others if o[2] == start and o[3] == end
                and o[1] != 'confirmed']
            if len(others) == 1 and same:
                statement = cls(same[0][0])
                to_write.extend([[statement], values])
                if statement.state != 'draft':
                    to_draft.append(statement)
            elif others:
                other = cls(others[0][0])
                if skip_frozen:
                    skipped.append(party)
                    continue
                raise StatementError(gettext(
                        'distributor_account.msg_statement_overlap'
                        if other.state == 'confirmed'
                        else 'distributor_account.msg_statement_overlap_open',
                        statement='', other=other.rec_name,
                        party=party.rec_name, start=other.start_date,
                        end=other.end_date))
            else:
                to_create.append({
                        'kind': kind, 'company': company.id,
                        'issuer': issuer.id, 'party': party.id,
                        'start_date': start, 'end_date': end,
                        **values})
        statements = []
        with trusted():
            if to_write:
                # a regenerated statement takes turns with a confirmation
                cls.dms_serialize(
                    [r for records in to_write[::2] for r in records])
                cls.write(*to_write)
                statements.extend(r for r in to_write[::2] for r in r)
            if to_draft:
                cls.regenerated(to_draft)
            if to_create:
                statements.extend(cls._create_generated(to_create))
        return statements, skipped

    @classmethod
    def _create_generated(cls, vlist):
        """Create the statements generate computed, in bulk: the ORM's
        create validates each record in Python (milliseconds a statement,
        seconds for a run).  generate already refused or skipped the
        overlapping periods (the same query as _check_overlap_values); the
        parties are checked here in one query (check_parties), the numbers
        drawn in one, the rows inserted in one per slice; then what
        ModelStorage._after_create does besides validating (triggers,
        on_modification, the transaction's created records)."""
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        Trigger = pool.get('ir.trigger')
        transaction = Transaction()
        if not transaction.database.has_returning():
            return cls.create(vlist)
        cls._check_generated_parties(vlist)
        sequence = Sequence(ModelData.get_id(
                'distributor_account', 'sequence_statement'))
        with trusted():
            numbers = list(sequence.get_many(n=len(vlist)))
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        names = ['kind', 'company', 'issuer', 'party', 'start_date',
            'end_date', 'opening_balance', 'total_debit', 'total_credit',
            'closing_balance', 'settled_amount', 'open_amount', 'line_count',
            'generated_at']
        columns = [Column(table, n) for n in names] + [table.number,
            table.state, table.create_uid, table.create_date]
        now = dt.datetime.now()
        transaction.counter += 1
        ids = []
        for sub in grouped_slice(list(zip(vlist, numbers)), IN_MAX):
            cursor.execute(*table.insert(columns, [
                        [values[n] for n in names]
                        + [number, 'draft', transaction.user, now]
                        for values, number in sub],
                    returning=[table.id]))
            ids.extend(i for i, in cursor)
        statements = cls.browse(ids)
        # generate calls it under trusted(), after the caller's checks
        cls.on_modification('create', statements)
        for trigger in Trigger.get_triggers(cls.__name__, 'create'):
            trigger.queue_trigger_action(statements)
        transaction.create_records[cls.__name__].extend(ids)
        return statements

    @classmethod
    def _check_generated_parties(cls, vlist):
        """check_parties of the statements generate is about to create, in
        one query per slice: a brand statement's party is a distributor (its
        issuer is the company's party by construction), a store statement's
        party a store of its issuer"""
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        groups = {}
        for values in vlist:
            groups.setdefault((values['kind'], values['issuer']), []).append(
                values['party'])
        for (kind, issuer), party_ids in groups.items():
            if kind == 'distributor':
                valid = party.is_distributor == Literal(True)
            else:
                valid = ((party.is_store == Literal(True))
                    & (party.store_distributor == issuer))
            for sub_ids in grouped_slice(party_ids, IN_MAX):
                sub_ids = list(sub_ids)
                cursor.execute(*party.select(party.id,
                        where=party.id.in_(sub_ids) & valid))
                good = {i for i, in cursor}
                bad = [i for i in sub_ids if i not in good]
                if not bad:
                    continue
                name = Party(bad[0]).rec_name
                if kind == 'distributor':
                    raise StatementValidationError(gettext(
                            'distributor_account.msg_statement_parties',
                            statement=name))
                raise StatementValidationError(gettext(
                        'distributor_account.msg_statement_store_parties',
                        statement=name, store=name,
                        distributor=Party(issuer).rec_name))

    @classmethod
    @Workflow.transition('draft')
    def regenerated(cls, statements):
        "Back to draft after new figures: the party sees them once sent"
        pass

    @classmethod
    @ModelView.button
    def regenerate(cls, statements):
        """Generate the figures of the statements again (not confirmed
        ones): they go back to draft and must be sent again"""
        def check(statements):
            for statement in statements:
                if statement.state not in OPEN_STATES:
                    raise StatementError(gettext(
                            'distributor_account.msg_statement_frozen',
                            statement=statement.rec_name))
        # refused at once when frozen, and again once it is our turn
        check(statements)
        cls.dms_serialize(statements)
        check(cls.browse([s.id for s in statements]))
        for (kind, issuer, company, start, end), group in cls._group(
                statements).items():
            parties = [s.party for s in group]
            cls.generate(kind, parties, start, end, issuer=issuer,
                company=company)

    @staticmethod
    def _group(statements):
        groups = {}
        for s in statements:
            groups.setdefault((s.kind, s.issuer, s.company, s.start_date,
                    s.end_date), []).append(s)
        return groups

    # Reading ------------------------------------------------------------

    @classmethod
    def line_figures(cls, statements):
        """{statement id: (debit, credit, count)} of the lines as they read
        now: one aggregate over the line view"""
        Line = Pool().get('distributor.account.statement.line')
        query = Line.table_query()
        cursor = Transaction().connection.cursor()
        result = {s.id: (ZERO, ZERO, 0) for s in statements}
        for sub_ids in grouped_slice(list(result), MAX_QUERY_PARAMS):
            cursor.execute(*query.select(query.statement,
                    Sum(query.debit), Sum(query.credit), Sum(Literal(1)),
                    where=reduce_ids(query.statement, sub_ids),
                    group_by=[query.statement]))
            for statement, debit, credit, count in cursor:
                result[statement] = (
                    _decimal(debit), _decimal(credit), int(count))
        return result

    @classmethod
    def get_consistent(cls, statements, name):
        figures = cls.line_figures(statements)
        result = {}
        for s in statements:
            if not s.generated_at:
                result[s.id] = False
                continue
            debit, credit, count = figures[s.id]
            result[s.id] = (debit == (s.total_debit or ZERO)
                and credit == (s.total_credit or ZERO)
                and count == (s.line_count or 0))
        return result

    @classmethod
    def get_disputed_lines(cls, statements, name):
        Message = Pool().get('distributor.account.statement.message')
        message = Message.__table__()
        cursor = Transaction().connection.cursor()
        result = {s.id: 0 for s in statements}
        for sub_ids in grouped_slice(list(result), MAX_QUERY_PARAMS):
            cursor.execute(*message.select(message.statement,
                    Sum(Literal(1)),
                    where=reduce_ids(message.statement, sub_ids)
                    & (message.kind == 'dispute') & (message.line != Null),
                    group_by=[message.statement]))
            result.update({s: int(c) for s, c in cursor})
        return result

    @classmethod
    def _invoice_sales(cls, invoice_ids):
        """{invoice id: 'SO1, SO2'}: the numbers of the orders the invoices
        bill, in one query"""
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        SaleLine = pool.get('sale.line')
        Sale = pool.get('sale.sale')
        invoice_line = InvoiceLine.__table__()
        sale_line = SaleLine.__table__()
        sale = Sale.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(sorted(invoice_ids), MAX_QUERY_PARAMS):
            cursor.execute(*invoice_line.join(sale_line,
                    condition=invoice_line.origin == Concat(
                        'sale.line,', Cast(sale_line.id, 'VARCHAR'))
                    ).join(sale, condition=sale_line.sale == sale.id
                    ).select(invoice_line.invoice, sale.number,
                    where=reduce_ids(invoice_line.invoice, sub_ids),
                    group_by=[invoice_line.invoice, sale.number]))
            for invoice, number in cursor:
                if number:
                    result.setdefault(invoice, set()).add(number)
        return {i: ', '.join(sorted(n)) for i, n in result.items()}

    def get_order_reference(self, name):
        return None

    def get_document_number(self, name):
        return None

    @classmethod
    def search_order_reference(cls, name, clause):
        _, operator, value = clause[:3]
        Line = Pool().get('distributor.account.statement.line')
        lines = Line.search([('reference', operator, value)])
        return [('id', 'in', list({l.statement.id for l in lines}))]

    @classmethod
    def search_document_number(cls, name, clause):
        _, operator, value = clause[:3]
        Line = Pool().get('distributor.account.statement.line')
        lines = Line.search([('number', operator, value)])
        return [('id', 'in', list({l.statement.id for l in lines}))]

    # Workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    def send(cls, statements):
        """Send the statements to their parties (an inbox message each)"""
        pool = Pool()
        Message = pool.get('distributor.message')
        for statement in statements:
            if not statement.generated_at:
                raise StatementError(gettext(
                        'distributor_account.msg_statement_not_generated',
                        statement=statement.rec_name))
        cls.write(statements, {'sent_at': dt.datetime.now()})
        Message.post([(s.party, 'distributor_account.msg_inbox_sent', s,
                    {'number': s.number, 'issuer': s.issuer.rec_name,
                        'start': s.start_date, 'end': s.end_date,
                        'closing': s.closing_balance}, None)
                for s in statements])

    @classmethod
    @Workflow.transition('confirmed')
    def confirm(cls, statements):
        "The party confirms the statements (see dms_confirm_statement)"
        for statement in statements:
            if not statement.consistent:
                raise StatementError(gettext(
                        'distributor_account.msg_statement_changed',
                        statement=statement.rec_name))
        cls.write(statements, {
                'confirmed_at': dt.datetime.now(),
                'confirmed_by': Transaction().user or None,
                })

    @classmethod
    @Workflow.transition('disputed')
    def dispute(cls, statements):
        "The party disputes the statements (see dms_dispute_statement)"
        pass

    @classmethod
    @ModelView.button_action(
        'distributor_account.wizard_statement_resolve')
    def resolve(cls, statements):
        "Answer the dispute (the wizard asks for the answer)"
        pass

    @classmethod
    @Workflow.transition('resolved')
    def resolved(cls, statements, answer, author_party=None):
        "The issuer answered the dispute"
        pool = Pool()
        Message = pool.get('distributor.account.statement.message')
        Inbox = pool.get('distributor.message')
        answer = validation.text(answer, gettext(
                'distributor_account.msg_field_answer'),
            size=MAX_COMMENT, required=True)
        Message.add([{
                    'statement': s.id, 'kind': 'answer', 'body': answer,
                    'party': author_party.id if author_party else None,
                    } for s in statements])
        Inbox.post([(s.party, 'distributor_account.msg_inbox_resolved', s,
                    {'number': s.number}, answer)
                for s in statements])

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, statements):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, statements):
        cls.check_overlap(statements)

    # Entry points -------------------------------------------------------

    @classmethod
    def _check_reach(cls, party, statement, sides=('party', 'issuer')):
        """The statement as party sees it: its party, or its issuer for a
        store statement; else as if it did not exist"""
        ok = (('party' in sides and statement.party == party)
            or ('issuer' in sides and statement.kind == 'store'
                and statement.issuer == party))
        hidden = statement.state == 'cancelled' and statement.party == party
        if not ok or hidden:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=statement.id))

    @classmethod
    def _check_own(cls, party):
        "A portal account acts on a statement for its own party only"
        own = own_party()
        if own is not None and own != party.id:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_not_own',
                    party=party.rec_name))

    @classmethod
    def dms_values(cls, statement, party=None, lines=False):
        "The statement as JSON-ready values"
        values = {
            'id': statement.id,
            'number': statement.number,
            'kind': statement.kind,
            'state': statement.state,
            'issuer': {'id': statement.issuer.id,
                'name': statement.issuer.rec_name},
            'party': {'id': statement.party.id,
                'name': statement.party.rec_name},
            'start_date': statement.start_date.isoformat(),
            'end_date': statement.end_date.isoformat(),
            'currency': (statement.currency.code
                if statement.currency else None),
            'generated_at': (statement.generated_at.isoformat(
                    timespec='seconds')
                if statement.generated_at else None),
            'sent_at': (statement.sent_at.isoformat(timespec='seconds')
                if statement.sent_at else None),
            'confirmed_at': (statement.confirmed_at.isoformat(
                    timespec='seconds')
                if statement.confirmed_at else None),
            'role': ('party' if party is None or statement.party == party
                else 'issuer'),
            }
        for name in ['opening_balance', 'total_debit', 'total_credit',
                'closing_balance', 'settled_amount', 'open_amount']:
            values[name] = str(getattr(statement, name) or ZERO)
        values['line_count'] = statement.line_count or 0
        if lines:
            values['lines'] = [{
                    'id': l.id,
                    'sequence': l.sequence,
                    'date': l.date.isoformat(),
                    'kind': l.kind,
                    'number': l.number,
                    'reference': l.reference,
                    'description': l.description,
                    'maturity_date': (l.maturity_date.isoformat()
                        if l.maturity_date else None),
                    'debit': str(l.debit),
                    'credit': str(l.credit),
                    'balance': str(l.balance),
                    'reconciled': bool(l.reconciled),
                    'disputed': bool(l.disputed),
                    } for l in statement.lines]
            values['messages'] = [{
                    'id': m.id,
                    'kind': m.kind,
                    'line': m.line.id if m.line else None,
                    'line_sequence': m.line.sequence if m.line else None,
                    'author': m.author_name,
                    'side': 'party' if m.party == statement.party else (
                        'issuer'),
                    'body': m.body,
                    'date': m.create_date.isoformat(timespec='seconds'),
                    } for m in statement.messages]
            values['consistent'] = statement.consistent
        return values

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']})
    def dms_list_statements(cls, party, kind=None, state=None, number=None,
            reference=None, start=None, end=None, counterpart=None):
        """The statements party receives (its own) or, for a distributor,
        issues to its stores, not the drafts of the issuer's side; filters:
        kind, state, number (statement or document number), order
        reference, a period (statements overlapping it) and counterpart
        (the store of a store statement)"""
        domain = [('state', '!=', 'cancelled'),
            ['OR',
                [('party', '=', party.id), ('state', '!=', 'draft')],
                [('kind', '=', 'store'), ('issuer', '=', party.id)],
                ]]
        if kind:
            domain.append(('kind', '=', validation.choice(kind, gettext(
                            'distributor_account.msg_field_kind'), KINDS)))
        if state:
            domain.append(('state', '=', validation.choice(state, gettext(
                            'distributor_account.msg_field_state'),
                        STATES)))
        if number:
            number = validation.text(number, gettext(
                    'distributor_account.msg_field_number'), size=64,
                multiline=False)
            domain.append(['OR', ('number', 'ilike', f'%{number}%'),
                    ('document_number', 'ilike', f'%{number}%')])
        if reference:
            reference = validation.text(reference, gettext(
                    'distributor_account.msg_field_reference'), size=64,
                multiline=False)
            domain.append(('order_reference', 'ilike', f'%{reference}%'))
        if start:
            domain.append(('end_date', '>=', validation.date(start, gettext(
                            'distributor_account.msg_field_start'))))
        if end:
            domain.append(('start_date', '<=', validation.date(end, gettext(
                            'distributor_account.msg_field_end'))))
        if counterpart:
            domain.append(('party', '=', validation.integer(
                        counterpart, gettext(
                            'distributor_account.msg_field_counterpart'),
                        minimum=1)))
        statements = cls.search(domain, limit=500)
        return [cls.dms_values(s, party) for s in statements]

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        record={'statement': None})
    def dms_statement_detail(cls, party, statement):
        "The statement with its lines and conversation"
        cls._check_reach(party, statement)
        if statement.party == party and statement.state == 'draft':
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=statement.id))
        return cls.dms_values(statement, party, lines=True)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        record={'statement': None})
    def dms_confirm_statement(cls, party, statement, comment=None):
        """party, the statement's own party, confirms it (sent, or resolved
        after a dispute)"""
        Message = Pool().get('distributor.account.statement.message')
        cls._check_reach(party, statement, sides=('party',))
        cls._check_own(party)
        cls.dms_serialize([statement])
        statement = cls(statement.id)
        if statement.state not in {'sent', 'resolved'}:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_confirm_state',
                    statement=statement.rec_name,
                    state=statement.state_string))
        comment = validation.text(comment, gettext(
                'distributor_account.msg_field_comment'),
            size=MAX_COMMENT)
        cls.confirm([statement])
        Message.add([{'statement': statement.id, 'kind': 'confirmation',
                    'party': party.id, 'body': comment or None}])
        cls._notify_issuer(statement,
            'distributor_account.msg_inbox_confirmed')
        return cls.dms_values(statement, party)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        record={'statement': None})
    def dms_dispute_statement(cls, party, statement, comment=None,
            lines=None):
        """party, the statement's own party, disputes it: a comment for the
        whole statement and/or lines [{'line': id, 'comment': text}]"""
        pool = Pool()
        Message = pool.get('distributor.account.statement.message')
        Line = pool.get('distributor.account.statement.line')
        cls._check_reach(party, statement, sides=('party',))
        cls._check_own(party)
        comment = validation.text(comment, gettext(
                'distributor_account.msg_field_comment'),
            size=MAX_COMMENT)
        if lines is not None and not isinstance(lines, (list, tuple)):
            raise StatementError(gettext(
                    'distributor_account.msg_statement_dispute_lines'))
        lines = list(lines or [])
        if len(lines) > MAX_DISPUTE_LINES:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_dispute_too_many',
                    maximum=MAX_DISPUTE_LINES))
        vlist = []
        known = {l.id for l in statement.lines}
        for item in lines:
            if not isinstance(item, dict):
                raise StatementError(gettext(
                        'distributor_account.msg_statement_dispute_lines'))
            line_id = validation.integer(item.get('line'), gettext(
                    'distributor_account.msg_field_line'), minimum=0)
            if line_id not in known:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Line.__names__()['model'], id=line_id))
            text = validation.text(item.get('comment'), gettext(
                    'distributor_account.msg_field_comment'),
                size=MAX_COMMENT, required=True)
            vlist.append({'statement': statement.id, 'kind': 'dispute',
                    'line': line_id, 'party': party.id, 'body': text})
        if comment:
            vlist.append({'statement': statement.id, 'kind': 'dispute',
                    'party': party.id, 'body': comment})
        if not vlist:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_dispute_empty'))
        cls.dms_serialize([statement])
        statement = cls(statement.id)
        if statement.state not in {'sent', 'resolved'}:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_dispute_state',
                    statement=statement.rec_name,
                    state=statement.state_string))
        cls.dispute([statement])
        Message.add(vlist)
        cls._notify_issuer(statement,
            'distributor_account.msg_inbox_disputed')
        return cls.dms_values(statement, party)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        record={'statement': None})
    def dms_comment_statement(cls, party, statement, body, line=None):
        """A message in the statement's conversation, from its party or
        (store statements) its issuer"""
        pool = Pool()
        Message = pool.get('distributor.account.statement.message')
        Line = pool.get('distributor.account.statement.line')
        cls._check_reach(party, statement)
        cls._check_own(party)
        if statement.state in {'draft', 'cancelled'}:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_comment_state',
                    statement=statement.rec_name))
        body = validation.text(body, gettext(
                'distributor_account.msg_field_comment'),
            size=MAX_COMMENT, required=True)
        values = {'statement': statement.id, 'kind': 'comment',
            'party': party.id, 'body': body}
        if line is not None:
            line = validation.integer(line, gettext(
                    'distributor_account.msg_field_line'), minimum=0)
            if line not in {l.id for l in statement.lines}:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Line.__names__()['model'], id=line))
            values['line'] = line
        message, = Message.add([values])
        if statement.party == party:
            cls._notify_issuer(statement,
                'distributor_account.msg_inbox_comment')
        else:
            pool.get('distributor.message').post([(statement.party,
                        'distributor_account.msg_inbox_comment', statement,
                        {'number': statement.number}, body)])
        return message.id

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_generate_store_statements(cls, party, start, end, stores=None):
        """party generates the statements of its stores (all, or the ids in
        stores) over start..end; open ones of the same period are
        generated again"""
        Party = Pool().get('party.party')
        start = validation.date(start, gettext(
                'distributor_account.msg_field_start'))
        end = validation.date(end, gettext(
                'distributor_account.msg_field_end'))
        if end < start:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_period',
                    start=start, end=end))
        domain = [('is_store', '=', True),
            ('store_distributor', '=', party.id)]
        if stores is not None:
            if not isinstance(stores, (list, tuple)):
                raise StatementError(gettext(
                        'distributor_account.msg_statement_stores'))
            ids = [validation.integer(s, gettext(
                        'distributor_account.msg_field_store'), minimum=1)
                for s in stores]
            found = Party.search(domain + [('id', 'in', ids)])
            missing = set(ids) - {p.id for p in found}
            if missing:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Party.__names__()['model'], id=min(missing)))
            parties = found
        else:
            parties = Party.search(domain)
        statements, _ = cls.generate('store', parties, start, end,
            issuer=party)
        return [s.id for s in statements]

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        record={'statement': None})
    def dms_send_statement(cls, party, statement):
        "party, the issuer of a store statement, sends it to the store"
        cls._check_reach(party, statement, sides=('issuer',))
        cls.dms_serialize([statement])
        statement = cls(statement.id)
        if statement.state != 'draft':
            raise StatementError(gettext(
                    'distributor_account.msg_statement_send_state',
                    statement=statement.rec_name))
        cls.send([statement])
        return cls.dms_values(statement, party)

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        record={'statement': None})
    def dms_resolve_statement(cls, party, statement, answer):
        "party, the issuer of a disputed store statement, answers it"
        cls._check_reach(party, statement, sides=('issuer',))
        cls._check_own(party)
        cls.dms_serialize([statement])
        statement = cls(statement.id)
        if statement.state != 'disputed':
            raise StatementError(gettext(
                    'distributor_account.msg_statement_resolve_state',
                    statement=statement.rec_name))
        cls.resolved([statement], answer, author_party=party)
        return cls.dms_values(statement, party)

    @classmethod
    def _notify_issuer(cls, statement, msg_id):
        """Tell the issuer's side: the distributor's inbox for a store
        statement, the rep and the managers for a brand one"""
        pool = Pool()
        Inbox = pool.get('distributor.message')
        if statement.kind == 'store':
            Inbox.post([(statement.issuer, msg_id, statement,
                        {'number': statement.number}, None)])
        else:
            from distributor.inbox import notify_staff
            notify_staff([(statement, statement.party, msg_id,
                        {'number': statement.number})],
                'distributor_account.act_statement_form')


class StatementLine(ModelSQL, ModelView):
    """Statement of Account Line

    One movement of a statement, read from where it is recorded: a
    receivable or deposit move line (brand statements), a delivered
    channel order or a store payment (store statements)"""
    __name__ = 'distributor.account.statement.line'

    statement = fields.Many2One(
        'distributor.account.statement', "Statement", required=True,
        readonly=True)
    sequence = fields.Integer("#", readonly=True)
    date = fields.Date("Date", readonly=True)
    kind = fields.Selection(LINE_KINDS, "Kind", readonly=True, sort=False)
    number = fields.Char("Document", readonly=True)
    reference = fields.Function(fields.Char("Order Reference"),
        'get_reference', searcher='search_reference')
    description = fields.Char("Description", readonly=True)
    maturity_date = fields.Date("Due Date", readonly=True)
    debit = fields.Numeric("Debit", digits=(16, 2), readonly=True)
    credit = fields.Numeric("Credit", digits=(16, 2), readonly=True)
    balance = fields.Numeric("Balance", digits=(16, 2), readonly=True)
    move_line = fields.Many2One(
        'account.move.line', "Move Line", readonly=True)
    invoice = fields.Many2One('account.invoice', "Invoice", readonly=True)
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    reconciled = fields.Boolean("Reconciled", readonly=True)
    disputed = fields.Function(fields.Boolean("Disputed"), 'get_disputed')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('statement')
        cls._order = [('statement', 'ASC'), ('sequence', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        models = ['account.invoice', 'account.move',
            'account.statement', 'distributor.channel.order',
            'distributor.store.payment']
        return [(None, '')] + [(m, IrModel.get_name(m)) for m in models]

    @classmethod
    def _rebate_account(cls):
        Configuration = Pool().get('distributor.configuration')
        config = Configuration(1)
        account = getattr(config, 'rebate_account', None)
        return account.id if account else None

    @classmethod
    def table_query(cls):
        return Union(cls._distributor_query(), cls._store_query(),
            all_=True)

    @classmethod
    def _distributor_query(cls):
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        Journal = pool.get('account.journal')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        statement = Statement.__table__()
        line = Line.__table__()
        move = Move.__table__()
        account = Account.__table__()
        type_ = AccountType.__table__()
        journal = Journal.__table__()
        invoice = Invoice.__table__()
        invoice_line = InvoiceLine.__table__()
        rebate_account = cls._rebate_account()
        if rebate_account:
            rebate = invoice.id.in_(invoice_line.select(
                    invoice_line.invoice,
                    where=invoice_line.account == rebate_account))
        else:
            rebate = Literal(False)
        deposit = type_.deposit == Literal(True)
        kind = Case(
            (journal.type == 'write-off', 'write_off'),
            (deposit & (_num(line.credit) > 0), 'deposit'),
            (deposit, 'deposit_use'),
            ((invoice.id != Null) & (_num(line.debit) > 0), 'invoice'),
            ((invoice.id != Null) & rebate, 'rebate'),
            (invoice.id != Null, 'credit_note'),
            (move.origin.like('account.statement,%'), 'payment'),
            (_num(line.credit) > 0, 'payment'),
            else_='other')
        order = [move.date, move.id, line.id]
        window = Window([statement.id], order_by=order)
        amount = line.debit - line.credit
        query = (statement
            .join(line, condition=(line.party == statement.party))
            .join(move, condition=(line.move == move.id)
                & (move.company == statement.company))
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id)
            .join(journal, condition=move.journal == journal.id)
            .join(invoice, 'LEFT', condition=invoice.move == move.id))
        return query.select(
            _pair(statement.id, line.id).as_('id'),
            statement.create_uid.as_('create_uid'),
            statement.create_date.as_('create_date'),
            statement.write_uid.as_('write_uid'),
            statement.write_date.as_('write_date'),
            statement.id.as_('statement'),
            RowNumber(window=window).as_('sequence'),
            move.date.as_('date'),
            kind.as_('kind'),
            Coalesce(invoice.number, move.number).as_('number'),
            Coalesce(line.description, invoice.description,
                move.description).as_('description'),
            line.maturity_date.as_('maturity_date'),
            line.debit.as_('debit'),
            line.credit.as_('credit'),
            (statement.opening_balance
                + Sum(amount, window=window)).as_('balance'),
            line.id.as_('move_line'),
            invoice.id.as_('invoice'),
            Coalesce(Case((invoice.id != Null, Concat('account.invoice,',
                            Cast(invoice.id, 'VARCHAR')))),
                move.origin,
                Concat('account.move,', Cast(move.id, 'VARCHAR'))
                ).as_('origin'),
            (line.reconciliation != Null).as_('reconciled'),
            where=(statement.kind == 'distributor')
            & (move.state == 'posted')
            & ((type_.receivable == Literal(True)) | deposit)
            & (move.date >= statement.start_date)
            & (move.date <= statement.end_date))

    @classmethod
    def _store_query(cls):
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        from distributor_store.statement import ledger
        statement = Statement.__table__()
        rows = ledger()
        is_order = rows.kind == 'order'
        # orders and payments share no id: orders even, payments odd
        row_id = rows.origin * 2 + Case((is_order, 0), else_=1)
        order = [rows.date, Case((is_order, 0), else_=1), rows.origin]
        window = Window([statement.id], order_by=order)
        zero = Cast(Literal(0), 'NUMERIC')
        return statement.join(rows,
            condition=(rows.distributor == statement.issuer)
            & (rows.store == statement.party)).select(
            _pair(statement.id, row_id).as_('id'),
            statement.create_uid.as_('create_uid'),
            statement.create_date.as_('create_date'),
            statement.write_uid.as_('write_uid'),
            statement.write_date.as_('write_date'),
            statement.id.as_('statement'),
            RowNumber(window=window).as_('sequence'),
            rows.date.as_('date'),
            Case((is_order, 'order'), else_='store_payment').as_('kind'),
            rows.reference.as_('number'),
            Cast(Literal(None), 'VARCHAR').as_('description'),
            Cast(Literal(None), 'DATE').as_('maturity_date'),
            Case((_num(rows.amount) > 0, rows.amount),
                else_=zero).as_('debit'),
            Case((_num(rows.amount) < 0, -rows.amount),
                else_=zero).as_('credit'),
            (statement.opening_balance
                + Sum(rows.amount, window=window)).as_('balance'),
            Cast(Literal(None), 'INTEGER').as_('move_line'),
            Cast(Literal(None), 'INTEGER').as_('invoice'),
            Concat(Case((is_order, 'distributor.channel.order,'),
                    else_='distributor.store.payment,'),
                Cast(rows.origin, 'VARCHAR')).as_('origin'),
            Literal(False).as_('reconciled'),
            where=(statement.kind == 'store')
            & (rows.date >= statement.start_date)
            & (rows.date <= statement.end_date))

    @classmethod
    def get_reference(cls, lines, name):
        Statement = Pool().get('distributor.account.statement')
        invoices = {l.invoice.id for l in lines if l.invoice}
        sales = Statement._invoice_sales(invoices) if invoices else {}
        return {l.id: sales.get(l.invoice.id) if l.invoice else None
            for l in lines}

    @classmethod
    def search_reference(cls, name, clause):
        pool = Pool()
        Sale = pool.get('sale.sale')
        _, operator, value = clause[:3]
        sales = Sale.search([('number', operator, value)], limit=1000)
        invoices = {i.id for s in sales for i in s.invoices}
        return [('invoice', 'in', list(invoices))]

    @classmethod
    def get_disputed(cls, lines, name):
        Message = Pool().get('distributor.account.statement.message')
        message = Message.__table__()
        cursor = Transaction().connection.cursor()
        disputed = set()
        for sub_ids in grouped_slice([l.id for l in lines], MAX_QUERY_PARAMS):
            cursor.execute(*message.select(message.line,
                    where=reduce_ids(message.line, sub_ids)
                    & (message.kind == 'dispute')))
            disputed.update(i for i, in cursor)
        return {l.id: l.id in disputed for l in lines}


class StatementMessage(WorkflowRecords, ModelSQL, ModelView):
    """Statement of Account Message

    The conversation about a statement: disputes (of the whole statement
    or of a line), answers, comments and the confirmation; written by the
    workflow and the entry points only, never changed"""
    __name__ = 'distributor.account.statement.message'
    _dms_readonly_message = (
        'distributor_account.msg_statement_message_readonly')
    _dms_readonly_error = StatementError

    statement = fields.Many2One(
        'distributor.account.statement', "Statement", required=True,
        ondelete='CASCADE', readonly=True)
    line = fields.Many2One(
        'distributor.account.statement.line', "Line", readonly=True)
    kind = fields.Selection(MESSAGE_KINDS, "Kind", required=True,
        readonly=True)
    party = fields.Many2One(
        'party.party', "Party", readonly=True, ondelete='RESTRICT',
        help="The portal side that wrote it (empty: brand staff).")
    author = fields.Many2One(
        'res.user', "Author", readonly=True, ondelete='RESTRICT')
    author_name = fields.Function(fields.Char("Author"), 'get_author_name')
    body = fields.Text("Message", readonly=True)
    line_sequence = fields.Function(fields.Integer("Line #"),
        'get_line_sequence')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('statement')
        cls._order = [('create_date', 'ASC'), ('id', 'ASC')]

    def get_author_name(self, name):
        if self.party:
            return self.party.rec_name
        return self.author.rec_name if self.author else ''

    def get_line_sequence(self, name):
        return self.line.sequence if self.line else None

    @classmethod
    def add(cls, vlist):
        "Messages from the workflow (the author is the user at work)"
        user = Transaction().user or None
        with trusted():
            return cls.create([{**v, 'author': user} for v in vlist])



class StatementLog(DocumentLog, ModelSQL, ModelView):
    "State history of a statement of account"
    __name__ = 'distributor.account.statement.log'

    document = fields.Many2One(
        'distributor.account.statement', "Statement", required=True,
        ondelete='CASCADE', readonly=True)


class ResolveStart(ModelView):
    "Resolve a Statement Dispute"
    __name__ = 'distributor.account.statement.resolve.start'

    statement = fields.Many2One(
        'distributor.account.statement', "Statement", readonly=True)
    answer = fields.Text("Answer", required=True)
    credit_amount = fields.Numeric(
        "Correcting Credit Note", digits=(16, 2),
        domain=['OR', ('credit_amount', '=', None),
            ('credit_amount', '>', 0)],
        states={'invisible': Eval('kind') != 'distributor'},
        depends=['kind'],
        help="Leave empty when no correction is owed.")
    credit_account = fields.Many2One(
        'account.account', "Account",
        domain=[('type.revenue', '=', True), ('closed', '!=', True)],
        states={
            'required': Bool(Eval('credit_amount')),
            'invisible': ~Bool(Eval('credit_amount')),
            })
    credit_description = fields.Char(
        "Description", states={
            'required': Bool(Eval('credit_amount')),
            'invisible': ~Bool(Eval('credit_amount')),
            })
    kind = fields.Selection(KINDS, "Kind", readonly=True)


class Resolve(Wizard):
    """Answer the dispute of a statement, possibly with a correcting
    credit note to the distributor (posted at once)"""
    __name__ = 'distributor.account.statement.resolve'
    start = StateView('distributor.account.statement.resolve.start',
        'distributor_account.statement_resolve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Resolve", 'resolve', 'tryton-ok', default=True),
            ])
    resolve = StateTransition()

    def default_start(self, fields):
        return {
            'statement': self.record.id,
            'kind': self.record.kind,
            'credit_description': gettext(
                'distributor_account.msg_correction_description',
                number=self.record.number),
            }

    def transition_resolve(self):
        Statement = self.model
        statement = self.record
        Statement.dms_serialize([statement])
        statement = Statement(statement.id)
        if statement.state != 'disputed':
            raise StatementError(gettext(
                    'distributor_account.msg_statement_resolve_state',
                    statement=statement.rec_name))
        answer = self.start.answer
        if self.start.credit_amount:
            invoice = self._credit_note(statement)
            answer += '\n' + gettext(
                'distributor_account.msg_correction_answer',
                number=invoice.number, amount=invoice.total_amount)
        Statement.resolved([statement], answer)
        return 'end'

    def _credit_note(self, statement):
        "A posted customer credit note of the amount to the distributor"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        amount = validation.amount(self.start.credit_amount, gettext(
                'distributor_account.msg_field_credit_amount'),
            positive=True, digits=2)
        party = statement.party
        with trusted():
            invoice = Invoice(
                type='out', company=statement.company, party=party,
                invoice_address=party.address_get(type='invoice'),
                currency=statement.company.currency,
                reference=statement.number,
                description=self.start.credit_description)
            invoice.on_change_type()
            invoice.account = party.account_receivable_used
            invoice.payment_term = None
            line = InvoiceLine(
                invoice=invoice, type='line', company=statement.company,
                currency=statement.company.currency,
                account=self.start.credit_account, quantity=-1,
                unit_price=amount,
                description=self.start.credit_description)
            invoice.lines = [line]
            invoice.save()
            Invoice.post([invoice])
        return invoice

    def end(self):
        return 'reload'


class GenerateStart(ModelView):
    "Generate Statements of Account"
    __name__ = 'distributor.account.statement.generate.start'

    start_date = fields.Date("From", required=True)
    end_date = fields.Date(
        "To", required=True,
        domain=[('end_date', '>=', Eval('start_date', None))])
    territory = fields.Many2One(
        'distributor.territory', "Territory",
        help="Only the distributors of this territory (and below).")
    tier = fields.Many2One('distributor.tier', "Tier")
    distributors = fields.Many2Many(
        'party.party', None, None, "Distributors",
        domain=[('is_distributor', '=', True)],
        help="Only these distributors (empty: every active one).")

    @classmethod
    def default_start_date(cls):
        today = Pool().get('ir.date').today()
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1)

    @classmethod
    def default_end_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1) - dt.timedelta(days=1)


class Generate(Wizard):
    """Generate the statements of a period for every distributor (or a
    filtered set) as a queued run with progress"""
    __name__ = 'distributor.account.statement.generate'
    start = StateView('distributor.account.statement.generate.start',
        'distributor_account.statement_generate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'run', 'tryton-ok', default=True),
            ])
    run = StateTransition()

    def transition_run(self):
        Run = Pool().get('distributor.account.statement.run')
        start = self.start
        if start.end_date < start.start_date:
            raise StatementError(gettext(
                    'distributor_account.msg_statement_period',
                    start=start.start_date, end=start.end_date))
        Run.enqueue(start.start_date, start.end_date,
            territory=start.territory, tier=start.tier,
            distributors=list(start.distributors))
        return 'end'


RUN_STATES = [
    ('queued', "Queued"),
    ('running', "Running"),
    ('done', "Done"),
    ('failed', "Failed"),
    ]


class StatementRun(WorkflowRecords, ModelSQL, ModelView):
    """Statement Generation Run

    The brand statements of one period for every active distributor (or
    those of a territory, a tier, or a list), generated as a queue task
    that writes its progress in batches"""
    __name__ = 'distributor.account.statement.run'
    _dms_readonly_message = 'distributor_account.msg_statement_run_readonly'
    _dms_readonly_error = StatementError
    _batch = 200

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    start_date = fields.Date("From", required=True, readonly=True)
    end_date = fields.Date("To", required=True, readonly=True)
    territory = fields.Many2One(
        'distributor.territory', "Territory", readonly=True,
        ondelete='SET NULL')
    tier = fields.Many2One(
        'distributor.tier', "Tier", readonly=True, ondelete='SET NULL')
    party_ids = fields.Text("Distributors", readonly=True)
    state = fields.Selection(RUN_STATES, "State", required=True,
        readonly=True, sort=False)
    total = fields.Integer("Distributors", readonly=True)
    done = fields.Integer("Done", readonly=True)
    statements = fields.Integer("Statements", readonly=True)
    skipped = fields.Integer("Skipped (Confirmed)", readonly=True)
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

    def get_progress(self, name):
        if not self.total:
            return 1.0 if self.state == 'done' else 0.0
        return round((self.done or 0) / self.total, 2)


    @classmethod
    def enqueue(cls, start, end, territory=None, tier=None,
            distributors=None):
        """Create a run and queue its processing (after commit without a
        queue worker)"""
        company = Transaction().context.get('company')
        with trusted():
            run, = cls.create([{
                        'company': company,
                        'start_date': start, 'end_date': end,
                        'territory': territory.id if territory else None,
                        'tier': tier.id if tier else None,
                        'party_ids': ','.join(str(d.id)
                            for d in distributors or []) or None,
                        }])
        cls.__queue__.process([run], True)
        return [run]

    def distributors(self):
        "The distributors of the run, in id order"
        Party = Pool().get('party.party')
        domain = [('is_distributor', '=', True),
            ('distributor_state', 'in', ['active', 'frozen'])]
        if self.party_ids:
            domain.append(('id', 'in',
                    [int(i) for i in self.party_ids.split(',')]))
        if self.territory:
            domain.append(('territories', 'child_of',
                    [self.territory.id], 'parent'))
        if self.tier:
            domain.append(('tier', '=', self.tier.id))
        return Party.search(domain, order=[('id', 'ASC')])

    @classmethod
    def process(cls, runs, commit=False):
        """Generate the statements of the runs in batches, writing the
        progress after each; commit (a queue task in its own transaction):
        make each batch visible at once and record a failure"""
        Statement = Pool().get('distributor.account.statement')
        transaction = Transaction()
        for run in runs:
            run = cls(run.id)
            if run.state not in {'queued', 'failed'}:
                continue
            with transaction.set_context(company=run.company.id):
                parties = run.distributors()
                # the figures of every distributor in one aggregate (one
                # query per batch would read the moves again each time)
                figures = Statement.distributor_figures(run.company,
                    [p.id for p in parties], run.start_date, run.end_date)
                with trusted():
                    cls.write([run], {'state': 'running',
                            'total': len(parties), 'done': 0,
                            'statements': 0, 'skipped': 0, 'error': None,
                            'started_at': dt.datetime.now()})
                if commit:
                    transaction.commit()
                done = made = skipped = 0
                try:
                    for sub in grouped_slice(parties, cls._batch):
                        sub = list(sub)
                        statements, skip = Statement.generate(
                            'distributor', sub, run.start_date,
                            run.end_date, company=run.company,
                            skip_frozen=True, figures=figures)
                        done += len(sub)
                        made += len(statements)
                        skipped += len(skip)
                        with trusted():
                            cls.write([run], {'done': done,
                                    'statements': made, 'skipped': skipped})
                        if commit:
                            transaction.commit()
                except Exception as exception:
                    if not commit:
                        raise
                    logger.exception("statement run %s failed", run.id)
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


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['distributor.account.statement']
