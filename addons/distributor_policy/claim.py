# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Promotion expense claims (费用核销).

A policy may let its distributors run brand-funded activities (displays,
tastings, local advertising) within a budget, in total and per
distributor.  A distributor files an expense claim against the policy:
lines of activities with amounts, and evidence (photos, receipts) as
attachments of the claim.  The brand reviews it (approve, partly approve
with a reason, reject with a reason), and the approved amount settles
like a rebate: a credit note to the distributor or a credit on its rebate
ledger.

The budget a claim uses: its claimed amount while submitted, its approved
amount once reviewed (approved, partly approved, settled); drafts,
rejected and cancelled claims use none.  A claim is refused at submission
beyond the remaining budget of its distributor or of the policy; the
submissions of a policy take turns (serialize on the policy)."""
import base64
import binascii
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import entry_point, resolve, trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, ReasonWizard, serialize)
from distributor.exceptions import InputError, RecordNotFound
from distributor.inbox import notify_staff

from .exceptions import ClaimError

ZERO = Decimal(0)
CENT = Decimal('0.01')
STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('partial', "Partly Approved"),
    ('rejected', "Rejected"),
    ('settled', "Settled"),
    ('cancelled', "Cancelled"),
    ]
ACTIVITIES = [
    ('display', "Display"),
    ('tasting', "Tasting"),
    ('advertising', "Local Advertising"),
    ('other', "Other"),
    ]
SETTLEMENTS = [
    (None, ""),
    ('credit_note', "Credit Note"),
    ('ledger', "Rebate Ledger"),
    ]
# the states whose claims use budget: the claimed amount while
# submitted, the approved amount once reviewed
USING_STATES = ('submitted', 'approved', 'partial', 'settled')
REVIEWED_STATES = ('approved', 'partial', 'settled')
# the values of dms_save_claim and of its lines
CLAIM_VALUES = {'policy', 'date', 'description', 'lines'}
LINE_VALUES = {'activity', 'description', 'amount'}
# evidence: photos and receipts, at most this big, this many per claim
MAX_EVIDENCE_SIZE = 5 * 1024 * 1024
MAX_EVIDENCE = 20
EVIDENCE_TYPES = {
    'image/jpeg': 'jpg',
    'image/png': 'png',
    'image/webp': 'webp',
    'image/heic': 'heic',
    'application/pdf': 'pdf',
    }
_HEIC_BRANDS = {b'heic', b'heix', b'hevc', b'hevx', b'heim', b'heis',
    b'mif1', b'msf1'}


def evidence_type(data):
    """The MIME type of evidence data read from its first bytes (magic
    numbers), or None when it is none of the accepted types"""
    head = bytes(data[:16])
    if head.startswith(b'\xff\xd8\xff'):
        return 'image/jpeg'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'image/png'
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'image/webp'
    if head[4:8] == b'ftyp' and head[8:12] in _HEIC_BRANDS:
        return 'image/heic'
    if head.startswith(b'%PDF-'):
        return 'application/pdf'
    return None


def _amount(value):
    "A Decimal of an SQL sum (SQLite gives floats or strings)"
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT)


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Policy(metaclass=PoolMeta):
    __name__ = 'distributor.policy'

    allows_claims = fields.Boolean(
        "Allows Expense Claims",
        states={'readonly': Eval('state') != 'draft'},
        help="The targeted distributors may file expense claims for "
        "brand-funded activities (displays, tastings, local advertising) "
        "against this policy, within its budget.")
    claim_budget = fields.Numeric(
        "Claim Budget", digits=(16, 2),
        domain=['OR', ('claim_budget', '=', None),
            ('claim_budget', '>=', 0)],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('allows_claims', False),
            'required': Bool(Eval('allows_claims', False)),
            },
        help="The total of the amounts all the distributors may claim.")
    claim_budget_per_distributor = fields.Numeric(
        "Claim Budget per Distributor", digits=(16, 2),
        domain=['OR', ('claim_budget_per_distributor', '=', None),
            ('claim_budget_per_distributor', '>', 0)],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('allows_claims', False),
            },
        help="The most one distributor may claim; empty for no limit "
        "but the total budget.")
    claims = fields.One2Many(
        'distributor.expense.claim', 'policy', "Expense Claims",
        readonly=True)
    claim_budgets = fields.One2Many(
        'distributor.expense.claim.budget', 'policy',
        "Budget per Distributor", readonly=True)
    claim_claimed = fields.Function(fields.Numeric(
            "Claimed", digits=(16, 2),
            help="The amounts claimed, submitted or reviewed (not "
            "rejected)."), 'get_claim_totals')
    claim_approved = fields.Function(fields.Numeric(
            "Approved", digits=(16, 2)), 'get_claim_totals')
    claim_used = fields.Function(fields.Numeric(
            "Budget Used", digits=(16, 2),
            help="The claimed amounts of the submitted claims and the "
            "approved amounts of the reviewed ones."), 'get_claim_totals')
    claim_remaining = fields.Function(fields.Numeric(
            "Budget Remaining", digits=(16, 2)), 'get_claim_totals')

    @classmethod
    def default_allows_claims(cls):
        return False

    @classmethod
    def get_claim_totals(cls, policies, names):
        Claim = Pool().get('distributor.expense.claim')
        totals = Claim.budget_totals([p.id for p in policies])
        result = {n: {} for n in names}
        for policy in policies:
            claimed, approved, used = totals.get(policy.id,
                (ZERO, ZERO, ZERO))
            values = {
                'claim_claimed': claimed,
                'claim_approved': approved,
                'claim_used': used,
                'claim_remaining': (policy.claim_budget - used)
                if policy.allows_claims and policy.claim_budget is not None
                else None,
                }
            for name in names:
                result[name][policy.id] = values[name]
        return result

    @classmethod
    def dms_check_publish(cls, policies):
        super().dms_check_publish(policies)
        for policy in policies:
            if not policy.allows_claims:
                continue
            if not policy.claim_budget or policy.claim_budget <= 0:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_budget_required',
                        policy=policy.rec_name))
            per = policy.claim_budget_per_distributor
            if per is not None and per > policy.claim_budget:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_budget_per_distributor',
                        policy=policy.rec_name,
                        per_distributor=per, budget=policy.claim_budget))


class Claim(Document, ModelSQL, ModelView):
    """Expense Claim (费用核销)

    A distributor's claim for a brand-funded activity under a policy that
    takes claims: lines with amounts, photos and receipts attached as
    evidence; reviewed by the brand within the policy's budget and
    settled as a credit note or on the distributor's rebate ledger."""
    __name__ = 'distributor.expense.claim'
    _rec_name = 'number'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {
        'number', 'approved_amount', 'review_reason', 'reviewed_by',
        'reviewed_at', 'submitted_by', 'submitted_at', 'settlement_method',
        'settled_invoice', 'ledger_entry', 'settled_by', 'settled_at',
        'state_logs'}
    _dms_reason_states = {'rejected', 'partial'}
    _dms_reason_field = 'review_reason'
    _dms_log_model = 'distributor.expense.claim.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='RESTRICT',
        states=_draft)
    policy = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='RESTRICT',
        domain=[('allows_claims', '=', True)], states=_draft,
        help="A published policy that takes expense claims and targets "
        "the distributor.")
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)], states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    description = fields.Text("Description", states=_draft)
    lines = fields.One2Many(
        'distributor.expense.claim.line', 'claim', "Lines", states=_draft)
    claimed_amount = fields.Function(fields.Numeric(
            "Claimed Amount", digits=(16, 2)), 'get_amounts')
    evidence_count = fields.Function(fields.Integer(
            "Evidence",
            help="The photos and receipts attached to the claim."),
        'get_amounts')
    approved_amount = fields.Numeric(
        "Approved Amount", digits=(16, 2), readonly=True)
    review_reason = fields.Text(
        "Review Reason", readonly=True,
        states={'invisible': ~Eval('review_reason')})
    submitted_by = fields.Many2One('res.user', "Submitted by", readonly=True)
    submitted_at = fields.DateTime("Submitted at", readonly=True)
    reviewed_by = fields.Many2One('res.user', "Reviewed by", readonly=True)
    reviewed_at = fields.DateTime("Reviewed at", readonly=True)
    settlement_method = fields.Selection(
        SETTLEMENTS, "Settlement Method", readonly=True)
    settled_invoice = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True,
        ondelete='RESTRICT',
        states={'invisible': Eval('settlement_method') != 'credit_note'})
    ledger_entry = fields.Many2One(
        'distributor.rebate.ledger', "Ledger Entry", readonly=True,
        ondelete='RESTRICT',
        states={'invisible': Eval('settlement_method') != 'ledger'})
    settled_by = fields.Many2One('res.user', "Settled by", readonly=True)
    settled_at = fields.DateTime("Settled at", readonly=True)
    distributor_budget = fields.Function(fields.Numeric(
            "Distributor Budget", digits=(16, 2),
            help="The most one distributor may claim under the policy."),
        'get_budget')
    distributor_used = fields.Function(fields.Numeric(
            "Used by Distributor", digits=(16, 2)), 'get_budget')
    distributor_remaining = fields.Function(fields.Numeric(
            "Remaining for Distributor", digits=(16, 2),
            help="What the distributor may still claim under the policy: "
            "its own budget and the policy's total, whichever is less."),
        'get_budget')
    policy_remaining = fields.Function(fields.Numeric(
            "Policy Budget Remaining", digits=(16, 2)), 'get_budget')
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_logs = fields.One2Many(
        'distributor.expense.claim.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.policy, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.distributor, Index.Range()),
                    (t.date, Index.Range(order='DESC'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'partial'),
            ('submitted', 'rejected'),
            ('approved', 'settled'),
            ('partial', 'settled'),
            ('draft', 'cancelled'),
            ('submitted', 'cancelled'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'partly_approve': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'settle_credit_note': {
                    'invisible': ~Eval('state').in_(['approved', 'partial']),
                    'depends': ['state'],
                    },
                'settle_ledger': {
                    'invisible': ~Eval('state').in_(['approved', 'partial']),
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'submitted']),
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_save_claim': RPC(readonly=False),
                'dms_add_evidence': RPC(readonly=False),
                'dms_submit_claim': RPC(readonly=False),
                'dms_cancel_claim': RPC(readonly=False),
                'dms_list_claims': RPC(),
                'dms_claim_budgets': RPC(),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        if self.number:
            return self.number
        return str(self.id) if self.id is not None and self.id >= 0 else '-'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        """A claim is numbered at creation, so that refusals can name it
        (the document base has checked the client's values before)"""
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            with trusted():
                values['number'] = Sequence(ModelData.get_id(
                        'distributor_policy', 'sequence_claim')).get()
        return values

    @classmethod
    def copy(cls, claims, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('number', None)
        return super().copy(claims, default=default)

    # Amounts and budgets -------------------------------------------------

    @classmethod
    def get_amounts(cls, claims, names):
        "The claimed amounts (sum of the lines) and the evidence counted"
        pool = Pool()
        Line = pool.get('distributor.expense.claim.line')
        Attachment = pool.get('ir.attachment')
        cursor = Transaction().connection.cursor()
        ids = [c.id for c in claims]
        result = {
            'claimed_amount': {i: ZERO for i in ids},
            'evidence_count': {i: 0 for i in ids},
            }
        if 'claimed_amount' in names:
            line = Line.__table__()
            cursor.execute(*line.select(line.claim, Sum(line.amount),
                    where=line.claim.in_(ids or [-1]),
                    group_by=[line.claim]))
            for claim, amount in cursor:
                result['claimed_amount'][claim] = _amount(amount)
        if 'evidence_count' in names:
            attachment = Attachment.__table__()
            resources = [f'{cls.__name__},{i}' for i in ids]
            cursor.execute(*attachment.select(attachment.resource, Count(),
                    where=attachment.resource.in_(resources or [''])
                    & (attachment.type == 'data'),
                    group_by=[attachment.resource]))
            for resource, count in cursor:
                result['evidence_count'][int(resource.split(',')[1])] = (
                    count)
        return {n: result[n] for n in names}

    @classmethod
    def _budget_query(cls, policy_ids, by_distributor=False,
            distributors=None):
        """The query of (policy, [distributor,] claimed, approved, used)
        over the claims that use budget"""
        pool = Pool()
        Line = pool.get('distributor.expense.claim.line')
        claim = cls.__table__()
        line = Line.__table__()
        totals = line.select(line.claim.as_('claim'),
            Sum(line.amount).as_('amount'), group_by=[line.claim])
        claimed = Coalesce(totals.amount, 0)
        approved = Coalesce(claim.approved_amount, 0)
        where = claim.policy.in_(list(policy_ids) or [-1]) & claim.state.in_(
            list(USING_STATES))
        if distributors is not None:
            where &= claim.distributor.in_(list(distributors) or [-1])
        group_by = [claim.policy]
        columns = [claim.policy]
        if by_distributor:
            group_by.append(claim.distributor)
            columns.append(claim.distributor)
        return claim.join(totals, 'LEFT',
            condition=totals.claim == claim.id).select(
                *columns,
                Sum(claimed),
                Sum(Case((claim.state == 'submitted', 0), else_=approved)),
                Sum(Case((claim.state == 'submitted', claimed),
                        else_=approved)),
                where=where, group_by=group_by)

    @classmethod
    def budget_totals(cls, policy_ids, distributors=None):
        """{policy id: (claimed, approved, used)}, or with distributors
        (ids) {(policy id, distributor id): ...}: one SQL aggregate"""
        cursor = Transaction().connection.cursor()
        by_distributor = distributors is not None
        cursor.execute(*cls._budget_query(policy_ids,
                by_distributor=by_distributor, distributors=distributors))
        result = {}
        for row in cursor:
            key = tuple(row[:2]) if by_distributor else row[0]
            values = row[2:] if by_distributor else row[1:]
            result[key] = tuple(_amount(v) for v in values)
        return result

    @classmethod
    def remaining_budget(cls, policy, distributor):
        """(remaining for the distributor, remaining in total) under the
        policy: the distributor's is the lesser of its own budget's and
        the total's"""
        totals = cls.budget_totals([policy.id])
        used = totals.get(policy.id, (ZERO, ZERO, ZERO))[2]
        total = (policy.claim_budget or ZERO) - used
        mine = total
        if policy.claim_budget_per_distributor is not None:
            by_distributor = cls.budget_totals([policy.id],
                distributors=[distributor.id])
            own = by_distributor.get((policy.id, distributor.id),
                (ZERO, ZERO, ZERO))[2]
            mine = min(total, policy.claim_budget_per_distributor - own)
        return mine, total

    @classmethod
    def get_budget(cls, claims, names):
        result = {n: {} for n in names}
        pairs = defaultdict(set)
        for claim in claims:
            pairs[claim.policy.id].add(claim.distributor.id)
        totals = cls.budget_totals(list(pairs))
        own = cls.budget_totals(list(pairs),
            distributors={d for v in pairs.values() for d in v})
        for claim in claims:
            policy = claim.policy
            used = totals.get(policy.id, (ZERO, ZERO, ZERO))[2]
            mine = own.get((policy.id, claim.distributor.id),
                (ZERO, ZERO, ZERO))[2]
            total_remaining = ((policy.claim_budget or ZERO) - used)
            per = policy.claim_budget_per_distributor
            remaining = total_remaining if per is None else min(
                total_remaining, per - mine)
            values = {
                'distributor_budget': per,
                'distributor_used': mine,
                'distributor_remaining': remaining,
                'policy_remaining': total_remaining,
                }
            for name in names:
                result[name][claim.id] = values[name]
        return result

    # Checks --------------------------------------------------------------

    def check_policy(self):
        """The claim's policy takes it: published, allowing claims, its
        distributor a recipient, its date within the policy's validity"""
        pool = Pool()
        Recipient = pool.get('distributor.policy.recipient')
        policy = self.policy
        if policy.state != 'published' or not policy.allows_claims:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_policy_closed',
                    claim=self.rec_name, policy=policy.rec_name))
        with trusted():
            recipients = Recipient.search([
                    ('policy', '=', policy.id),
                    ('distributor', '=', self.distributor.id),
                    ], limit=1)
        if not recipients:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_not_recipient',
                    claim=self.rec_name, policy=policy.rec_name,
                    distributor=self.distributor.rec_name))
        start = getattr(policy, 'start_date', None)
        end = getattr(policy, 'end_date', None)
        if (start and self.date < start) or (end and self.date > end):
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_date',
                    claim=self.rec_name, date=self.date.isoformat(),
                    start=start.isoformat() if start else '',
                    end=end.isoformat() if end else ''))

    def check_lines(self):
        if not self.lines:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_no_lines',
                    claim=self.rec_name))
        for line in self.lines:
            if line.amount is None or line.amount <= 0:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_line_amount',
                        claim=self.rec_name))

    def check_evidence(self):
        if not self.evidence_count:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_no_evidence',
                    claim=self.rec_name))

    @classmethod
    def check_budget(cls, claims):
        """Refuse the claims beyond the remaining budget of their
        distributor or of their policy, counting the claims before them
        in the list; the caller serialized the policies first"""
        pending_total = defaultdict(lambda: ZERO)
        pending_own = defaultdict(lambda: ZERO)
        for claim in claims:
            policy = claim.policy
            key = (policy.id, claim.distributor.id)
            amount = claim.claimed_amount
            mine, total = cls.remaining_budget(policy, claim.distributor)
            total -= pending_total[policy.id]
            if policy.claim_budget_per_distributor is not None:
                mine = min(mine - pending_own[key], total)
            else:
                mine = total
            if amount > total:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_budget_total',
                        claim=claim.rec_name, amount=amount,
                        remaining=max(total, ZERO),
                        policy=policy.rec_name))
            if amount > mine:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_budget_distributor',
                        claim=claim.rec_name, amount=amount,
                        remaining=max(mine, ZERO),
                        distributor=claim.distributor.rec_name,
                        policy=policy.rec_name))
            pending_total[policy.id] += amount
            pending_own[key] += amount

    # Workflow ------------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, claims):
        """Submit draft claims for review: lines with positive amounts, at
        least one piece of evidence, a policy that takes them, and within
        the remaining budget of the distributor and of the policy"""
        Policy = Pool().get('distributor.policy')
        # the submissions under a policy take turns: the second one reads
        # the budget the first one used
        serialize(Policy, {c.policy for c in claims})
        cls.dms_serialize(claims)
        claims = cls.browse(list(map(int, claims)))
        for claim in claims:
            claim.check_policy()
            claim.check_lines()
            claim.check_evidence()
        cls.check_budget(claims)
        cls.write(claims, {
                'submitted_by': Transaction().user or None,
                'submitted_at': _now(),
                'review_reason': None,
                })
        if claims:
            cls._notify_staff(claims)

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, claims):
        "Approve submitted claims in full"
        cls.dms_serialize(claims)
        for claim in cls.browse(list(map(int, claims))):
            cls.write([claim], {
                    'approved_amount': claim.claimed_amount,
                    'reviewed_by': Transaction().user or None,
                    'reviewed_at': _now(),
                    'review_reason': None,
                    })
        cls._post(claims, 'distributor_policy.msg_message_claim_approved')

    @classmethod
    @ModelView.button_action('distributor_policy.wizard_claim_partly_approve')
    def partly_approve(cls, claims):
        pass

    @classmethod
    def partly_approve_claim(cls, claim, amount, reason):
        """Approve a part of a submitted claim: an amount above 0 and
        below the claimed amount, with the reason"""
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize([claim])
        claim = cls(claim.id)
        cls.dms_check_state([claim], {'submitted'})
        amount = validation.amount(amount, gettext(
                'distributor_policy.msg_claim_field_approved_amount'),
            positive=True)
        if amount >= claim.claimed_amount:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_partial_amount',
                    claim=claim.rec_name, amount=amount,
                    claimed=claim.claimed_amount))
        # the workflow's writes (the wizard's access is checked)
        with trusted():
            cls.write([claim], {
                    'approved_amount': amount,
                    'review_reason': reason,
                    'reviewed_by': Transaction().user or None,
                    'reviewed_at': _now(),
                    })
            cls._partial([claim])
            cls._post([claim],
                'distributor_policy.msg_message_claim_partly_approved')

    @classmethod
    @Workflow.transition('partial')
    def _partial(cls, claims):
        pass

    @classmethod
    @ModelView.button_action('distributor_policy.wizard_claim_reject')
    def reject(cls, claims):
        pass

    @classmethod
    def reject_claims(cls, claims, reason):
        "Reject submitted claims with the reason (their wizard)"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(claims)
        claims = cls.browse(list(map(int, claims)))
        cls.dms_check_state(claims, {'submitted'})
        with trusted():
            cls.write(claims, {
                    'approved_amount': None,
                    'review_reason': reason,
                    'reviewed_by': Transaction().user or None,
                    'reviewed_at': _now(),
                    })
            cls._rejected(claims)
            cls._post(claims,
                'distributor_policy.msg_message_claim_rejected')

    @classmethod
    @Workflow.transition('rejected')
    def _rejected(cls, claims):
        pass

    @classmethod
    @ModelView.button
    def settle_credit_note(cls, claims):
        "Settle approved claims as credit notes to their distributors"
        cls.settle(claims, 'credit_note')

    @classmethod
    @ModelView.button
    def settle_ledger(cls, claims):
        "Settle approved claims on their distributors' rebate ledgers"
        cls.settle(claims, 'ledger')

    @classmethod
    def settle(cls, claims, method):
        """Settle the approved amounts of approved (or partly approved)
        claims: a posted credit note (Ledger.dms_credit_note) or a credit
        on the rebate ledger (an entry of kind claim); each claim once"""
        pool = Pool()
        Ledger = pool.get('distributor.rebate.ledger')
        Date = pool.get('ir.date')
        method = validation.choice(method, gettext(
                'distributor_policy.msg_claim_field_settlement_method'),
            [k for k, _ in SETTLEMENTS if k])
        # a claim settles once: the second of two concurrent settlements
        # waits, then finds it settled
        cls.dms_serialize(claims)
        claims = cls.browse(list(map(int, claims)))
        cls.dms_check_state(claims, {'approved', 'partial'})
        today = Date.today()
        for claim in claims:
            description = gettext(
                'distributor_policy.msg_claim_settlement_description',
                claim=claim.rec_name, policy=claim.policy.rec_name)
            values = {
                'settlement_method': method,
                'settled_by': Transaction().user or None,
                'settled_at': _now(),
                }
            with trusted():
                if method == 'credit_note':
                    invoice = Ledger.dms_credit_note(claim.distributor,
                        claim.approved_amount, description, claim)
                    values['settled_invoice'] = invoice.id
                else:
                    entry, = Ledger.dms_post([{
                                'party': claim.distributor.id,
                                'company': claim.company.id,
                                'date': today,
                                'kind': 'claim',
                                'amount': claim.approved_amount,
                                'origin': str(claim),
                                'description': description,
                                }])
                    values['ledger_entry'] = entry.id
            cls.write([claim], values)
        cls._settled(claims)
        cls._post(claims, 'distributor_policy.msg_message_claim_settled')

    @classmethod
    @Workflow.transition('settled')
    def _settled(cls, claims):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, claims):
        "Cancel draft or submitted claims (their budget is freed)"
        cls.dms_serialize(claims)

    @classmethod
    def _notify_staff(cls, claims):
        "Tell the channel managers and the distributor's rep"
        notify_staff([(c, c.distributor,
                    'distributor_policy.msg_notification_claim_submitted', {
                        'claim': c.rec_name,
                        'distributor': c.distributor.rec_name,
                        'amount': c.claimed_amount,
                        }) for c in claims],
            'distributor_policy.act_claim_form', icon='tryton-info')

    @classmethod
    def _post(cls, claims, msg_id):
        "Tell the distributors (their portal inbox)"
        Message = Pool().get('distributor.message')
        claims = cls.browse(list(map(int, claims)))
        Message.post([(c.distributor, msg_id, c, {
                        'claim': c.rec_name,
                        'policy': c.policy.rec_name,
                        'amount': c.approved_amount or ZERO,
                        }, c.review_reason) for c in claims])

    # Entry points --------------------------------------------------------

    @classmethod
    def _dms_own(cls, party, claims):
        "The claims must be the distributor's own: else as if missing"
        for claim in claims:
            if claim.distributor != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=claim.id))
        return claims

    @classmethod
    def _dms_label(cls, name, Model=None):
        Model = Model or cls
        return Model.fields_get([name])[name]['string']

    @classmethod
    def dms_claimable_policies(cls, party, date=None):
        """The published policies that take claims from party (a
        recipient) at date (today by default)"""
        pool = Pool()
        Policy = pool.get('distributor.policy')
        date = date or pool.get('ir.date').today()
        with trusted():
            policies = Policy.search([
                    ('state', '=', 'published'),
                    ('allows_claims', '=', True),
                    ('recipients.distributor', '=', party.id),
                    ], order=[('id', 'ASC')])
        return [p for p in policies
            if (not getattr(p, 'start_date', None) or p.start_date <= date)
            and (not getattr(p, 'end_date', None) or date <= p.end_date)]

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'claim': None})
    def dms_save_claim(cls, party, values, claim=None):
        """Create (or update claim, a draft) an expense claim of the
        distributor from values: policy (id, a published policy taking
        claims that targets the distributor), date, description and lines
        [{activity, description, amount}] (they replace the lines); every
        value is checked before anything is written; returns the id"""
        pool = Pool()
        Policy = pool.get('distributor.policy')
        Line = pool.get('distributor.expense.claim.line')
        validation.keys(values, 'values', CLAIM_VALUES)
        label = cls._dms_label
        if claim is not None:
            cls._dms_own(party, [claim])
            cls.dms_check_state([claim], {'draft'})
        else:
            for name in ['policy', 'lines']:
                if values.get(name) in (None, '', []):
                    raise InputError(gettext(
                            'distributor.msg_input_required',
                            field=label(name)))
            claim = cls(distributor=party, company=cls.default_company(),
                date=cls.default_date())
            if claim.company is None:
                claim.company = cls._dms_company(party)
        if 'policy' in values:
            claim.policy = resolve(Policy, values['policy'], label('policy'),
                domain=[
                    ('state', '=', 'published'),
                    ('recipients.distributor', '=', party.id),
                    ], many=False)
            if not claim.policy.allows_claims:
                raise ClaimError(gettext(
                        'distributor_policy.msg_claim_policy_closed',
                        claim='-', policy=claim.policy.rec_name))
        if 'date' in values:
            claim.date = validation.date(values['date'], label('date'))
        if 'description' in values:
            claim.description = validation.text(values['description'],
                label('description'))
        lines = None
        if 'lines' in values:
            lines = []
            for line_values in validation.lines(values['lines'],
                    label('lines')):
                validation.keys(line_values, label('lines'), LINE_VALUES)
                lines.append(Line(
                        activity=validation.choice(
                            line_values.get('activity'),
                            label('activity', Line), ACTIVITIES),
                        description=validation.text(
                            line_values.get('description'),
                            label('description', Line), size=256,
                            required=True, multiline=False),
                        amount=validation.amount(line_values.get('amount'),
                            label('amount', Line), positive=True)))
        claim.check_policy()
        validation.check_record_fields([claim])
        if lines is not None:
            if claim.id is not None and claim.id >= 0:
                Line.delete(list(claim.lines))
            claim.lines = lines
        claim.save()
        return claim.id

    @classmethod
    def _dms_company(cls, party):
        Company = Pool().get('company.company')
        companies = Company.search([], order=[('id', 'ASC')], limit=1)
        return companies[0] if companies else None

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'claim': None})
    def dms_add_evidence(cls, party, claim, name, data):
        """Attach a photo or receipt to a draft claim of the distributor:
        name, data (bytes, or base64 text); JPEG, PNG, WebP, HEIC or PDF
        (read from the data itself) of at most 5 MB; returns the
        attachment's id"""
        Attachment = Pool().get('ir.attachment')
        cls._dms_own(party, [claim])
        cls.dms_check_state([claim], {'draft'})
        field = gettext('distributor_policy.msg_claim_field_evidence')
        name = validation.text(name, field, size=128, required=True,
            multiline=False)
        name = name.replace('/', '_').replace('\\', '_')
        if isinstance(data, str):
            try:
                data = base64.b64decode(data.encode('ascii'), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                raise InputError(gettext(
                        'distributor_policy.msg_claim_evidence_encoding',
                        name=name))
        elif isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes) or not data:
            raise InputError(gettext(
                    'distributor_policy.msg_claim_evidence_empty',
                    name=name))
        if len(data) > MAX_EVIDENCE_SIZE:
            raise InputError(gettext(
                    'distributor_policy.msg_claim_evidence_size',
                    name=name, size=len(data) // 1024,
                    maximum=MAX_EVIDENCE_SIZE // 1024))
        mimetype = evidence_type(data)
        if mimetype is None:
            raise InputError(gettext(
                    'distributor_policy.msg_claim_evidence_type',
                    name=name))
        if claim.evidence_count >= MAX_EVIDENCE:
            raise ClaimError(gettext(
                    'distributor_policy.msg_claim_evidence_count',
                    claim=claim.rec_name, maximum=MAX_EVIDENCE))
        attachment, = Attachment.create([{
                    'name': name,
                    'type': 'data',
                    'data': data,
                    'resource': str(claim),
                    'description': mimetype,
                    }])
        return attachment.id

    @classmethod
    def dms_evidence(cls, claims):
        """{claim id: [{id, name, type, size}]} of the evidence of claims
        (resolved by the caller), oldest first"""
        Attachment = Pool().get('ir.attachment')
        result = {c.id: [] for c in claims}
        with trusted():
            attachments = Attachment.search([
                    ('resource', 'in', [str(c) for c in claims]),
                    ('type', '=', 'data'),
                    ], order=[('id', 'ASC')])
            for attachment in attachments:
                result[attachment.resource.id].append({
                        'id': attachment.id,
                        'name': attachment.name,
                        'type': attachment.description
                        if attachment.description in EVIDENCE_TYPES
                        else None,
                        'size': attachment.data_size,
                        })
        return result

    @classmethod
    def dms_evidence_data(cls, claim, attachment_id):
        """(name, MIME type, data) of an evidence of claim (resolved by the
        caller), or the 404 of a missing one"""
        Attachment = Pool().get('ir.attachment')
        with trusted():
            attachments = Attachment.search([
                    ('id', '=', attachment_id),
                    ('resource', '=', str(claim)),
                    ('type', '=', 'data'),
                    ], limit=1)
            if not attachments:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Attachment.__names__()['model'],
                        id=attachment_id))
            attachment, = attachments
            data = attachment.data or b''
            return (attachment.name,
                evidence_type(data) or 'application/octet-stream',
                bytes(data))

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'claim': None})
    def dms_submit_claim(cls, party, claim):
        """Submit a draft claim of the distributor for review (a submitted
        one stays as it is); answers its state"""
        cls._dms_own(party, [claim])
        if claim.state == 'submitted':
            return claim.state
        cls.dms_check_state([claim], {'draft'})
        cls.submit([claim])
        return cls(claim.id).state

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'claim': None})
    def dms_cancel_claim(cls, party, claim):
        """Cancel a draft or submitted claim of the distributor; answers
        its state"""
        cls._dms_own(party, [claim])
        if claim.state == 'cancelled':
            return claim.state
        cls.dms_check_state([claim], {'draft', 'submitted'})
        cls.cancel([claim])
        return cls(claim.id).state

    @classmethod
    def dms_claim_dict(cls, claim, evidence=None):
        "A claim (resolved by the caller) as a dict"
        with trusted():
            claim = cls(claim.id)
            return {
                'id': claim.id,
                'number': claim.number,
                'policy': claim.policy.id,
                'policy_title': claim.policy.rec_name,
                'date': claim.date.isoformat(),
                'description': claim.description,
                'state': claim.state,
                'claimed_amount': str(claim.claimed_amount),
                'approved_amount': str(claim.approved_amount)
                if claim.approved_amount is not None else None,
                'review_reason': claim.review_reason,
                'reviewed_at': claim.reviewed_at.isoformat()
                if claim.reviewed_at else None,
                'settlement_method': claim.settlement_method,
                'settled_at': claim.settled_at.isoformat()
                if claim.settled_at else None,
                'evidence_count': claim.evidence_count,
                'lines': [{
                        'id': l.id,
                        'activity': l.activity,
                        'description': l.description,
                        'amount': str(l.amount),
                        } for l in claim.lines],
                'evidence': evidence if evidence is not None
                else cls.dms_evidence([claim])[claim.id],
                }

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_claims(cls, party):
        "The claims of the distributor, latest first, as dicts"
        claims = cls.search([('distributor', '=', party.id)],
            order=[('date', 'DESC'), ('id', 'DESC')])
        return [{
                'id': c.id,
                'number': c.number,
                'policy': c.policy.id,
                'policy_title': c.policy.rec_name,
                'date': c.date.isoformat(),
                'state': c.state,
                'claimed_amount': str(c.claimed_amount),
                'approved_amount': str(c.approved_amount)
                if c.approved_amount is not None else None,
                'review_reason': c.review_reason,
                'evidence_count': c.evidence_count,
                } for c in claims]

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_claim_budgets(cls, party):
        """The policies that take the distributor's claims today, with
        their budget and what it may still claim, as dicts"""
        policies = cls.dms_claimable_policies(party)
        totals = cls.budget_totals([p.id for p in policies])
        own = cls.budget_totals([p.id for p in policies],
            distributors=[party.id])
        result = []
        for policy in policies:
            used = totals.get(policy.id, (ZERO, ZERO, ZERO))[2]
            claimed, approved, mine = own.get((policy.id, party.id),
                (ZERO, ZERO, ZERO))
            total_remaining = policy.claim_budget - used
            per = policy.claim_budget_per_distributor
            remaining = total_remaining if per is None else min(
                total_remaining, per - mine)
            result.append({
                    'policy': policy.id,
                    'title': policy.rec_name,
                    'start_date': policy.start_date.isoformat()
                    if getattr(policy, 'start_date', None) else None,
                    'end_date': policy.end_date.isoformat()
                    if getattr(policy, 'end_date', None) else None,
                    'budget_per_distributor': str(per)
                    if per is not None else None,
                    'used': str(mine),
                    'approved': str(approved),
                    'remaining': str(max(remaining, ZERO)),
                    'policy_remaining': str(max(total_remaining, ZERO)),
                    })
        return result


class ClaimLine(DocumentLine, ModelSQL, ModelView):
    "Expense Claim Line"
    __name__ = 'distributor.expense.claim.line'
    _dms_document = 'claim'

    claim = fields.Many2One(
        'distributor.expense.claim', "Claim", required=True,
        ondelete='CASCADE')
    activity = fields.Selection(
        ACTIVITIES, "Activity", required=True, sort=False)
    description = fields.Char("Description", required=True)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True,
        domain=[('amount', '>', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.claim, Index.Range())))

    @classmethod
    def default_activity(cls):
        return 'display'


class ClaimLog(DocumentLog, ModelSQL, ModelView):
    "State history of an expense claim"
    __name__ = 'distributor.expense.claim.log'

    document = fields.Many2One(
        'distributor.expense.claim', "Expense Claim", required=True,
        ondelete='CASCADE', readonly=True)


class ClaimBudget(ModelSQL, ModelView):
    """Expense Claim Budget per Distributor

    Per policy and distributor: the amounts claimed, approved and the
    budget used (claimed while submitted, approved once reviewed), and
    what remains of the distributor's budget; one SQL aggregate over the
    claims."""
    __name__ = 'distributor.expense.claim.budget'

    policy = fields.Many2One('distributor.policy', "Policy", required=True)
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True)
    budget = fields.Numeric("Distributor Budget", digits=(16, 2))
    claimed = fields.Numeric("Claimed", digits=(16, 2))
    approved = fields.Numeric("Approved", digits=(16, 2))
    used = fields.Numeric("Budget Used", digits=(16, 2))
    remaining = fields.Numeric("Remaining", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('policy', 'DESC'), ('used', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Claim = pool.get('distributor.expense.claim')
        Line = pool.get('distributor.expense.claim.line')
        Policy = pool.get('distributor.policy')
        claim = Claim.__table__()
        line = Line.__table__()
        policy = Policy.__table__()
        totals = line.select(line.claim.as_('claim'),
            Sum(line.amount).as_('amount'), group_by=[line.claim])
        claimed = Coalesce(totals.amount, 0)
        approved = Coalesce(claim.approved_amount, 0)
        used = Sum(Case((claim.state == 'submitted', claimed),
                else_=approved))
        budget = Max(policy.claim_budget_per_distributor)
        return (claim
            .join(totals, 'LEFT', condition=totals.claim == claim.id)
            .join(policy, condition=policy.id == claim.policy)
            .select(
                Min(claim.id).as_('id'),
                claim.policy.as_('policy'),
                claim.distributor.as_('distributor'),
                budget.as_('budget'),
                Sum(claimed).as_('claimed'),
                Sum(Case((claim.state == 'submitted', 0),
                        else_=approved)).as_('approved'),
                used.as_('used'),
                Case((budget == Null, Null),
                    else_=budget - used).as_('remaining'),
                where=claim.state.in_(list(USING_STATES)),
                group_by=[claim.policy, claim.distributor]))


class PartlyApproveStart(ModelView):
    "Partly Approve an Expense Claim"
    __name__ = 'distributor.expense.claim.partly_approve.start'

    claimed_amount = fields.Numeric(
        "Claimed Amount", digits=(16, 2), readonly=True)
    approved_amount = fields.Numeric(
        "Approved Amount", digits=(16, 2), required=True,
        domain=[
            ('approved_amount', '>', 0),
            ('approved_amount', '<', Eval('claimed_amount', 0)),
            ])
    reason = fields.Text("Reason", required=True)


class PartlyApprove(Wizard):
    "Partly Approve an Expense Claim"
    __name__ = 'distributor.expense.claim.partly_approve'
    start = StateView('distributor.expense.claim.partly_approve.start',
        'distributor_policy.claim_partly_approve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Approve", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        return {'claimed_amount': self.record.claimed_amount}

    def transition_apply(self):
        self.model.partly_approve_claim(self.record,
            self.start.approved_amount, self.start.reason)
        return 'end'

    def end(self):
        return 'reload'


class Reject(ReasonWizard):
    "Reject Expense Claims"
    __name__ = 'distributor.expense.claim.reject'
    _method = 'reject_claims'


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['distributor.expense.claim']
