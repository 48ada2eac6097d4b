# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Receivables in the portal (应收与结算), a tab of the statements for a
distributor: what it owes the brand (balance, overdue, not yet due, the
aging buckets), its deposit balance and credit (limit, used, available),
its open instalments with their due dates (due soon, overdue), and its
deposits received and used as its statements show them; and the same as
JSON.

Reading goes through the entry points of distributor.account.aging
(dms_receivables, dms_instalments: portal finance and admin) with the
caller's party; the deposit movements are the lines of kinds deposit and
deposit_use of the caller's own statements (sent or later), read as the
caller (its record rules)."""
from decimal import Decimal

from trytond.pool import Pool

from distributor_portal import schema as s
from distributor_portal.i18n import N_
from distributor_portal.web import api, page

from .portal_statement import KIND_LABELS

AGING = 'distributor.account.aging'
DISTRIBUTOR = {'distributor'}
# the aging entry points' groups: portal finance (and admin)
READERS = {'finance'}
# an instalment due within these days is "due soon"
SOON_DAYS = 7
CENT = Decimal('0.01')
# the deposit movements shown
DEPOSIT_LIMIT = 50
BUCKET_LABELS = [
    ('current', N_("Not yet due")),
    ('1_30', N_("1–30 days")),
    ('31_60', N_("31–60 days")),
    ('61_90', N_("61–90 days")),
    ('over_90', N_("Over 90 days")),
    ('credit', N_("Unapplied credit")),
    ]
STATUS_LABELS = {
    'due': N_("Due"),
    'soon': N_("Due soon"),
    'overdue': N_("Overdue"),
    'credit': N_("Credit"),
    }


def _summary(portal):
    return Pool().get(AGING).dms_receivables(portal.party.id)


def _instalments(portal):
    items = Pool().get(AGING).dms_instalments(portal.party.id)
    for item in items:
        status = item['status']
        if status == 'due' and item['days_to_due'] <= SOON_DAYS:
            status = 'soon'
        item['reminder'] = status
    return items


def _deposits(portal):
    """The deposits received and used of the caller's statements (sent or
    later), newest first"""
    Line = Pool().get('distributor.account.statement.line')
    lines = Line.search([
            ('statement.party', '=', portal.party.id),
            ('statement.kind', '=', 'distributor'),
            ('statement.state', 'not in', ['draft', 'cancelled']),
            ('kind', 'in', ['deposit', 'deposit_use']),
            ], order=[('date', 'DESC'), ('id', 'DESC')],
        limit=DEPOSIT_LIMIT)
    return [{
            'line': l.id,
            'statement': l.statement.id,
            'statement_number': l.statement.number,
            'date': l.date.isoformat(),
            'kind': l.kind,
            'number': l.number,
            'description': l.description,
            # received: credit; used: debit (the issuer's view)
            'amount': str(Decimal(l.credit if l.kind == 'deposit'
                    else l.debit).quantize(CENT)),
            } for l in lines]


def _buckets(portal, summary):
    aging = summary.get('aging') or {}
    keys = [k for k, _ in BUCKET_LABELS]
    buckets = [(k, portal._(text), aging.get(k)) for k, text in BUCKET_LABELS
        if k in aging]
    # buckets the summary names beyond the known ones
    buckets += [(k, k, v) for k, v in aging.items() if k not in keys]
    return buckets


@page('/receivables', kinds=DISTRIBUTOR, roles=READERS)
def receivables_page(portal):
    """What I owe the brand: balance, overdue, aging, deposit and credit;
    the instalments due; the deposits received and used"""
    summary = _summary(portal)
    instalments = _instalments(portal)
    for item in instalments:
        item['reminder_label'] = portal._(STATUS_LABELS.get(
                item['reminder'], item['reminder']))
    deposits = _deposits(portal)
    for item in deposits:
        item['kind_label'] = portal._(KIND_LABELS.get(item['kind'],
                item['kind']))
    return portal.render('receivable_page.html', summary=summary,
        buckets=_buckets(portal, summary), instalments=instalments,
        deposits=deposits, soon_days=SOON_DAYS)


# The API --------------------------------------------------------------------

AMOUNT = {'type': ['string', 'null']}
SUMMARY = {
    'type': 'object',
    'properties': {
        'party': s.ID, 'date': s.DATE, 'currency': {'type': 'string'},
        'balance': AMOUNT, 'overdue_amount': AMOUNT, 'not_yet_due': AMOUNT,
        'unapplied_credit': AMOUNT,
        'oldest_due_date': {'type': ['string', 'null']},
        'deposit_balance': AMOUNT, 'credit_limit': AMOUNT,
        'credit_used': AMOUNT, 'credit_available': AMOUNT,
        'aging': {'type': 'object',
            'additionalProperties': AMOUNT},
        },
    'required': ['party', 'date', 'balance', 'overdue_amount', 'aging'],
    }
INSTALMENT = {
    'type': 'object',
    'properties': {
        'line': s.ID, 'invoice': {'type': ['integer', 'null']},
        'number': {'type': ['string', 'null']},
        'date': s.DATE, 'due_date': s.DATE, 'amount': {'type': 'string'},
        'days_overdue': {'type': 'integer', 'minimum': 0},
        'days_to_due': {'type': 'integer', 'minimum': 0},
        'status': {'type': 'string', 'enum': ['due', 'overdue', 'credit']},
        'reminder': {'type': 'string', 'enum': list(STATUS_LABELS)},
        },
    'required': ['line', 'due_date', 'amount', 'status'],
    }
DEPOSIT = {
    'type': 'object',
    'properties': {
        'line': {'type': 'integer', 'minimum': 0},
        'statement': s.ID,
        'statement_number': {'type': ['string', 'null']},
        'date': s.DATE,
        'kind': {'type': 'string', 'enum': ['deposit', 'deposit_use']},
        'number': {'type': ['string', 'null']},
        'description': {'type': ['string', 'null']},
        'amount': {'type': 'string'},
        },
    'required': ['line', 'statement', 'date', 'kind', 'amount'],
    }


def _items(schema):
    return {'type': 'object',
        'properties': {'items': {'type': 'array', 'items': schema}},
        'required': ['items']}


@api('/receivables', kinds=DISTRIBUTOR, roles=READERS, tag='receivables',
    response=SUMMARY)
def api_receivables(portal):
    """What I owe the brand: balance, overdue, not yet due, unapplied
    credits, the aging buckets, the deposit balance and the credit limit,
    used and available"""
    return _summary(portal)


@api('/receivables/instalments', kinds=DISTRIBUTOR, roles=READERS,
    tag='receivables', response=_items(INSTALMENT))
def api_instalments(portal):
    """My open receivables by due date (each instalment of an invoice):
    amount, days overdue or to the due date, status (due, overdue,
    credit) and reminder (soon: due within 7 days)"""
    return {'items': _instalments(portal)}


@api('/receivables/deposits', kinds=DISTRIBUTOR, roles=READERS,
    tag='receivables', response=_items(DEPOSIT))
def api_deposits(portal):
    """My deposits received and used, as my statements show them, newest
    first (with the deposit balance)"""
    return {'items': _deposits(portal),
        'deposit_balance': _summary(portal).get('deposit_balance')}
