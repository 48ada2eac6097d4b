# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Statements of account in the portal (对账单): the statements a party
receives (from the brand, or for a store from its distributor), newest
first, with their figures and state; a statement with its lines and
running balance, its conversation, and what the caller may do in its
state: confirm or dispute (per line and/or for the whole statement) and
comment as its party, send and answer a dispute as the issuer of a store
statement; its PDF and Excel; a distributor's statements to its stores
and their generation for a period; and the same as JSON.

Every read and write goes through an entry point of
distributor.account.statement with the caller's party: a statement of
another party (or a store's statement for another distributor) answers
404 like a missing one (dms_statement_detail's reach check); the roles
that write are the entry points' groups (portal admin and finance)."""
import urllib.parse
from contextlib import contextmanager
from http import HTTPStatus

from werkzeug.wrappers import Response

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool

from distributor.exceptions import EntryPointRefused
from distributor_portal import schema as s
from distributor_portal.i18n import N_
from distributor_portal.web import (
    PREFIX, PortalError, Refused, api, new_token, page)

STATEMENT = 'distributor.account.statement'
STATEMENT_IDS = {'statement': STATEMENT}
PARTIES = {'distributor', 'store'}
DISTRIBUTOR = {'distributor'}
# who confirms, disputes, comments, generates, sends and answers: the
# entry points' groups (portal finance and admin)
WRITERS = {'finance'}
# the longest comment (statement.MAX_COMMENT)
MAX_COMMENT = 2000
STATE_LABELS = {
    'draft': N_("Draft"),
    'sent': N_("Awaiting confirmation"),
    'disputed': N_("Disputed"),
    'resolved': N_("Answered"),
    'confirmed': N_("Confirmed"),
    'cancelled': N_("Cancelled"),
    }
KIND_LABELS = {
    'invoice': N_("Invoice"),
    'credit_note': N_("Credit note"),
    'rebate': N_("Rebate credit note"),
    'payment': N_("Payment"),
    'deposit': N_("Deposit received"),
    'deposit_use': N_("Deposit used"),
    'write_off': N_("Write-off"),
    'order': N_("Delivery"),
    'store_payment': N_("Store payment"),
    'other': N_("Other"),
    }
MESSAGE_LABELS = {
    'comment': N_("Comment"),
    'dispute': N_("Dispute"),
    'answer': N_("Answer"),
    'confirmation': N_("Confirmation"),
    }
# the states in which the party confirms or disputes, comments
ANSWERABLE = {'sent', 'resolved'}
TALKING = {'sent', 'disputed', 'resolved', 'confirmed'}


# Helpers --------------------------------------------------------------------

def _model():
    return Pool().get(STATEMENT)


def _field(portal, name, default=''):
    values = (portal.body or {}).get(name) or [default]
    return values[0]


def _invalid(detail):
    return PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
        gettext('distributor_portal.msg_invalid_body', detail=detail),
        {'problem': detail})


@contextmanager
def _refused_by_rules(answer):
    """A business refusal (a UserError that is no access refusal) in the
    block is answered by answer(error), what the block wrote rolled back"""
    try:
        yield
    except (AccessError, EntryPointRefused):
        raise
    except UserError as error:
        raise Refused(error, answer)


def _labelled(portal, values):
    "A statement's values with the labels of its state, lines, messages"
    values['state_label'] = portal._(STATE_LABELS.get(values['state'],
            values['state']))
    mine = values.get('role', 'party')
    for line in values.get('lines', []):
        line['kind_label'] = portal._(KIND_LABELS.get(line['kind'],
                line['kind']))
    names = {'party': values['party']['name'],
        'issuer': values['issuer']['name']}
    for message in values.get('messages', []):
        message['mine'] = message['side'] == mine
        message['side_label'] = (portal._(N_("You")) if message['mine']
            else names.get(message['side'], ''))
        message['kind_label'] = portal._(MESSAGE_LABELS.get(
                message['kind'], message['kind']))
    values['url'] = f"{PREFIX}/statements/{values['id']}"
    return values


def _detail(portal, statement):
    """The statement of id statement as the caller sees it (its party, or
    the issuer of a store statement), or the 404 of a missing id"""
    return _model().dms_statement_detail(portal.party.id, statement)


def _actions(portal, values):
    "What the caller may do on the statement in its state"
    writer = portal.may(*WRITERS)
    party = values['role'] == 'party'
    state = values['state']
    return {
        'confirm': writer and party and state in ANSWERABLE,
        'dispute': writer and party and state in ANSWERABLE,
        'comment': writer and state in TALKING,
        'send': writer and not party and state == 'draft',
        'resolve': writer and not party and state == 'disputed',
        }


def _filters(source):
    "The list's filters from a query (or a body)"
    def get(name):
        return (source.get(name) or '').strip() or None
    counterpart = get('counterpart')
    if counterpart is not None:
        try:
            counterpart = int(counterpart)
        except ValueError:
            raise _invalid('counterpart: a store id')
    return {
        'start': get('start'),
        'end': get('end'),
        'number': get('number'),
        'reference': get('reference'),
        'state': get('state'),
        'counterpart': counterpart,
        }


def _list(portal, side, filters):
    """The caller's statements of a side: 'party' (those it receives) or
    'issuer' (a distributor's statements to its stores), newest first"""
    filters = {k: v for k, v in filters.items() if v is not None}
    if side == 'issuer':
        filters['kind'] = 'store'
    statements = _model().dms_list_statements(portal.party.id, **filters)
    statements = [st for st in statements if st['role'] == side]
    statements.sort(key=lambda st: (st['end_date'], st['start_date'],
            st['id']), reverse=True)
    return statements


def _month():
    "(first day of this month, today)"
    today = Pool().get('ir.date').today()
    return today.replace(day=1), today


def _download(data, mimetype, filename):
    return Response(data, mimetype=mimetype, headers={
            'Content-Disposition': "attachment; filename*=UTF-8''"
            + urllib.parse.quote(filename),
            })


def _filename(values, extension):
    number = values.get('number') or f"statement-{values['id']}"
    safe = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in number)
    return f'{safe}.{extension}'


# Pages ----------------------------------------------------------------------

def _list_page(portal, side, error=None, status=200):
    filters = _filters(portal.request.args)
    statements = _list(portal, side, filters)
    for statement in statements:
        _labelled(portal, statement)
    start, end = _month()
    return portal.render('statement_list.html', status=status,
        statements=statements, filters=filters, side=side, error=error,
        states=[(k, portal._(v)) for k, v in STATE_LABELS.items()
            if k != 'cancelled' and (side == 'issuer' or k != 'draft')],
        generate={'start': start.isoformat(), 'end': end.isoformat()},
        may_write=portal.may(*WRITERS), key=new_token())


@page('/statements', kinds=PARTIES)
def statements_page(portal):
    """The statements I receive, newest first: period, number, closing
    balance, open amount and state; filters by period, number (statement
    or document) and order reference"""
    return _list_page(portal, 'party')


@page('/statements/stores', kinds=DISTRIBUTOR)
def store_statements_page(portal):
    """The statements I issued to my stores, and the form that generates
    (and sends) them for a period"""
    return _list_page(portal, 'issuer')


@page('/statements/stores', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, idempotent=True)
def store_statements_generate_page(portal):
    """Generate the statements of my stores for a period (those not yet
    confirmed are generated again), and send them at once (send=1)"""
    Statement = _model()
    start = _field(portal, 'start').strip()
    end = _field(portal, 'end').strip()
    send = _field(portal, 'send') in {'1', 'on', 'true'}

    def answer(error):
        return _list_page(portal, 'issuer', error=error.message,
            status=HTTPStatus.UNPROCESSABLE_ENTITY)
    with _refused_by_rules(answer):
        ids = Statement.dms_generate_store_statements(portal.party.id,
            start, end)
        if send:
            for statement in ids:
                Statement.dms_send_statement(portal.party.id, statement)
    if not ids:
        flash = portal._(N_("You have no store to issue statements to."))
    elif send:
        flash = portal._(N_("%(count)s store statements are generated "
                "and sent.")) % {'count': len(ids)}
    else:
        flash = portal._(N_("%(count)s store statements are generated: "
                "send them from their pages.")) % {'count': len(ids)}
    return portal.redirect(f'{PREFIX}/statements/stores', flash=flash)


def _detail_page(portal, statement, error=None, status=200, form=None):
    values = _labelled(portal, _detail(portal, statement))
    return portal.render('statement_detail.html', status=status,
        statement=values, actions=_actions(portal, values), error=error,
        form=form or {}, max_comment=MAX_COMMENT)


@page('/statements/<int:statement>', kinds=PARTIES, ids=STATEMENT_IDS)
def statement_page(portal, statement):
    """A statement: issuer, period, opening, debit, credit, closing,
    settled and open amounts, its lines with the running balance, its
    conversation, and the actions of its state"""
    return _detail_page(portal, statement)


def _detail_refusal(portal, statement):
    form = {k: (v[0] if v else '') for k, v in (portal.body or {}).items()
        if k != 'csrf_token'}

    def answer(error):
        return _detail_page(portal, statement, error=error.message,
            status=HTTPStatus.UNPROCESSABLE_ENTITY, form=form)
    return answer


def _dispute_lines(portal):
    "[{line, comment}] of the form's line-<id> fields that are filled"
    lines = []
    for key, values in (portal.body or {}).items():
        if not key.startswith('line-'):
            continue
        text = (values[0] if values else '').strip()
        if not text:
            continue
        try:
            line = int(key[len('line-'):])
        except ValueError:
            raise _invalid(f'{key[:40]}: not a line')
        lines.append({'line': line, 'comment': text})
    return lines


@page('/statements/<int:statement>/confirm', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, ids=STATEMENT_IDS)
def statement_confirm_page(portal, statement):
    "Confirm a statement (sent, or answered after a dispute)"
    _detail(portal, statement)
    comment = _field(portal, 'comment').strip() or None
    with _refused_by_rules(_detail_refusal(portal, statement)):
        _model().dms_confirm_statement(portal.party.id, statement,
            comment=comment)
    return portal.redirect(f'{PREFIX}/statements/{statement}',
        flash=portal._(N_("You confirmed the statement.")))


@page('/statements/<int:statement>/dispute', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, ids=STATEMENT_IDS)
def statement_dispute_page(portal, statement):
    """Dispute a statement: a comment for the whole statement and/or a
    comment on each line disputed, sent at once"""
    _detail(portal, statement)
    comment = _field(portal, 'comment').strip() or None
    lines = _dispute_lines(portal)
    with _refused_by_rules(_detail_refusal(portal, statement)):
        _model().dms_dispute_statement(portal.party.id, statement,
            comment=comment, lines=lines)
    return portal.redirect(f'{PREFIX}/statements/{statement}',
        flash=portal._(N_("Your dispute is sent: you will be told of the "
                "answer.")))


@page('/statements/<int:statement>/comment', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, ids=STATEMENT_IDS)
def statement_comment_page(portal, statement):
    "Add a message to the statement's conversation"
    _detail(portal, statement)
    body = _field(portal, 'body').strip()
    with _refused_by_rules(_detail_refusal(portal, statement)):
        _model().dms_comment_statement(portal.party.id, statement, body)
    return portal.redirect(f'{PREFIX}/statements/{statement}#conversation',
        flash=portal._(N_("Your message is sent.")))


@page('/statements/<int:statement>/send', methods=('POST',),
    kinds=DISTRIBUTOR, roles=WRITERS, ids=STATEMENT_IDS)
def statement_send_page(portal, statement):
    "Send a draft statement to my store"
    _detail(portal, statement)
    with _refused_by_rules(_detail_refusal(portal, statement)):
        _model().dms_send_statement(portal.party.id, statement)
    return portal.redirect(f'{PREFIX}/statements/{statement}',
        flash=portal._(N_("The statement is sent to the store.")))


@page('/statements/<int:statement>/resolve', methods=('POST',),
    kinds=DISTRIBUTOR, roles=WRITERS, ids=STATEMENT_IDS)
def statement_resolve_page(portal, statement):
    "Answer my store's dispute of a statement"
    _detail(portal, statement)
    answer_text = _field(portal, 'answer').strip()
    with _refused_by_rules(_detail_refusal(portal, statement)):
        _model().dms_resolve_statement(portal.party.id, statement,
            answer_text)
    return portal.redirect(f'{PREFIX}/statements/{statement}',
        flash=portal._(N_("Your answer is sent to the store.")))


@page('/statements/<int:statement>/pdf', kinds=PARTIES, ids=STATEMENT_IDS)
def statement_pdf_page(portal, statement):
    "The statement as a PDF (the brand's letterhead, bilingual headers)"
    from .output import statement_pdf
    values = _detail(portal, statement)
    return _download(statement_pdf([values['id']]), 'application/pdf',
        _filename(values, 'pdf'))


@page('/statements/<int:statement>/xlsx', kinds=PARTIES, ids=STATEMENT_IDS)
def statement_xlsx_page(portal, statement):
    "The statement as an Excel workbook"
    from .output import statement_xlsx
    values = _detail(portal, statement)
    return _download(statement_xlsx([values['id']]),
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        _filename(values, 'xlsx'))


# The API --------------------------------------------------------------------

LINE_ID = {'type': 'integer', 'minimum': 0, 'maximum': 2 ** 62}
COMMENT = {'type': 'string', 'maxLength': MAX_COMMENT}
REQUIRED_COMMENT = {'type': 'string', 'minLength': 1,
    'maxLength': MAX_COMMENT}
CONFIRM = s.obj(comment=COMMENT)
DISPUTE = s.obj(comment=COMMENT,
    lines=s.array(s.obj(['line', 'comment'], line=LINE_ID,
            comment=REQUIRED_COMMENT), max_items=200))
MESSAGE = s.obj(['body'], body=REQUIRED_COMMENT, line=LINE_ID)
ANSWER = s.obj(['answer'], answer=REQUIRED_COMMENT)
GENERATE = s.obj(['start', 'end'], start=s.DATE, end=s.DATE,
    stores=s.array(s.ID, min_items=1), send={'type': 'boolean'})
LIST_QUERY = {
    'side': {'type': 'string', 'enum': ['party', 'issuer']},
    'state': {'type': 'string', 'enum': list(STATE_LABELS)},
    'number': {'type': 'string', 'maxLength': 64},
    'reference': {'type': 'string', 'maxLength': 64},
    'start': {'type': 'string', 'format': 'date'},
    'end': {'type': 'string', 'format': 'date'},
    'counterpart': {'type': 'integer', 'minimum': 1},
    }
AMOUNT = {'type': 'string'}
PARTY = s.obj(['id', 'name'], id=s.ID, name={'type': 'string'})
STATEMENT_SCHEMA = {
    'type': 'object',
    'properties': {
        'id': s.ID, 'number': {'type': ['string', 'null']},
        'kind': {'type': 'string', 'enum': ['distributor', 'store']},
        'state': {'type': 'string', 'enum': list(STATE_LABELS)},
        'role': {'type': 'string', 'enum': ['party', 'issuer']},
        'issuer': PARTY, 'party': PARTY,
        'start_date': s.DATE, 'end_date': s.DATE,
        'currency': {'type': ['string', 'null']},
        'opening_balance': AMOUNT, 'total_debit': AMOUNT,
        'total_credit': AMOUNT, 'closing_balance': AMOUNT,
        'settled_amount': AMOUNT, 'open_amount': AMOUNT,
        'line_count': {'type': 'integer'},
        'generated_at': {'type': ['string', 'null']},
        'sent_at': {'type': ['string', 'null']},
        'confirmed_at': {'type': ['string', 'null']},
        },
    'required': ['id', 'kind', 'state', 'role', 'issuer', 'party',
        'start_date', 'end_date', 'opening_balance', 'closing_balance',
        'open_amount'],
    }
DETAIL_SCHEMA = dict(STATEMENT_SCHEMA, properties=dict(
        STATEMENT_SCHEMA['properties'],
        lines={'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'id': LINE_ID, 'sequence': {'type': 'integer'},
                    'date': s.DATE, 'kind': {'type': 'string',
                        'enum': list(KIND_LABELS)},
                    'number': {'type': ['string', 'null']},
                    'reference': {'type': ['string', 'null']},
                    'description': {'type': ['string', 'null']},
                    'maturity_date': {'type': ['string', 'null']},
                    'debit': AMOUNT, 'credit': AMOUNT, 'balance': AMOUNT,
                    'reconciled': {'type': 'boolean'},
                    'disputed': {'type': 'boolean'},
                    }}},
        messages={'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'id': s.ID, 'kind': {'type': 'string',
                        'enum': list(MESSAGE_LABELS)},
                    'line': {'type': ['integer', 'null']},
                    'line_sequence': {'type': ['integer', 'null']},
                    'author': {'type': ['string', 'null']},
                    'side': {'type': 'string',
                        'enum': ['party', 'issuer']},
                    'body': {'type': ['string', 'null']},
                    'date': {'type': 'string'},
                    }}},
        consistent={'type': 'boolean'}))
LIST_SCHEMA = {
    'type': 'object',
    'properties': {
        'items': {'type': 'array', 'items': STATEMENT_SCHEMA},
        'total': {'type': 'integer', 'minimum': 0},
        'offset': {'type': 'integer', 'minimum': 0},
        'limit': {'type': 'integer', 'minimum': 1},
        },
    'required': ['items', 'total', 'offset', 'limit'],
    }


@api('/statements', kinds=PARTIES, tag='statements', paginated=True,
    query=LIST_QUERY, response=LIST_SCHEMA)
def api_statements(portal):
    """The statements I receive (side=party, the default) or, for a
    distributor, issued to my stores (side=issuer), newest first; filters:
    state, number (statement or document), order reference, a period
    (start, end: statements overlapping it), counterpart (the store)"""
    args = portal.request.args
    side = args.get('side') or 'party'
    if side not in {'party', 'issuer'}:
        raise _invalid('side: party or issuer')
    if side == 'issuer' and portal.kind != 'distributor':
        raise PortalError(HTTPStatus.FORBIDDEN, 'forbidden',
            gettext('distributor_portal.msg_forbidden'))
    offset, limit = portal.page_window()
    statements = _list(portal, side, _filters(args))
    return portal.paginated(statements[offset:offset + limit],
        len(statements), offset, limit)


@api('/statements/<int:statement>', kinds=PARTIES, tag='statements',
    ids=STATEMENT_IDS, response=DETAIL_SCHEMA)
def api_statement(portal, statement):
    """A statement with its lines (running balance, due date, reconciled,
    disputed) and its conversation"""
    return _detail(portal, statement)


@api('/statements/<int:statement>/confirm', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, body=CONFIRM, tag='statements',
    ids=STATEMENT_IDS, idempotent=True, response=STATEMENT_SCHEMA)
def api_confirm_statement(portal, statement):
    """Confirm a statement I received (sent, or answered after my
    dispute), with an optional comment"""
    _detail(portal, statement)
    return _model().dms_confirm_statement(portal.party.id, statement,
        comment=(portal.body.get('comment') or '').strip() or None)


@api('/statements/<int:statement>/dispute', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, body=DISPUTE, tag='statements',
    ids=STATEMENT_IDS, idempotent=True, response=STATEMENT_SCHEMA)
def api_dispute_statement(portal, statement):
    """Dispute a statement I received: a comment for the whole statement
    and/or lines [{line, comment}] (at least one of them)"""
    _detail(portal, statement)
    return _model().dms_dispute_statement(portal.party.id, statement,
        comment=(portal.body.get('comment') or '').strip() or None,
        lines=portal.body.get('lines') or [])


@api('/statements/<int:statement>/messages', methods=('POST',),
    kinds=PARTIES, roles=WRITERS, body=MESSAGE, tag='statements',
    ids=STATEMENT_IDS, idempotent=True)
def api_comment_statement(portal, statement):
    """Add a message to a statement's conversation (on one of its lines
    with line): answers the statement with its conversation"""
    _detail(portal, statement)
    _model().dms_comment_statement(portal.party.id, statement,
        portal.body['body'], line=portal.body.get('line'))
    return _detail(portal, statement)


@api('/statements/stores', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, body=GENERATE, tag='statements', idempotent=True,
    response=LIST_SCHEMA)
def api_generate_store_statements(portal):
    """Generate the statements of my stores (all, or the ids of stores)
    for start..end; those of the period not yet confirmed are generated
    again; send=true sends them at once"""
    Statement = _model()
    body = portal.body
    ids = Statement.dms_generate_store_statements(portal.party.id,
        body['start'], body['end'], stores=body.get('stores'))
    if body.get('send'):
        for statement in ids:
            Statement.dms_send_statement(portal.party.id, statement)
    items = [Statement.dms_values(Statement(i), portal.party)
        for i in ids]
    return portal.paginated(items, len(items), 0, max(len(items), 1))


@api('/statements/<int:statement>/send', methods=('POST',),
    kinds=DISTRIBUTOR, roles=WRITERS, tag='statements', ids=STATEMENT_IDS,
    idempotent=True, response=STATEMENT_SCHEMA)
def api_send_statement(portal, statement):
    "Send a draft statement I issued to my store"
    _detail(portal, statement)
    return _model().dms_send_statement(portal.party.id, statement)


@api('/statements/<int:statement>/resolve', methods=('POST',),
    kinds=DISTRIBUTOR, roles=WRITERS, body=ANSWER, tag='statements',
    ids=STATEMENT_IDS, idempotent=True, response=STATEMENT_SCHEMA)
def api_resolve_statement(portal, statement):
    "Answer my store's dispute of a statement I issued"
    _detail(portal, statement)
    return _model().dms_resolve_statement(portal.party.id, statement,
        portal.body['answer'])
