# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Expense claims (费用核销) in the portal: the distributor's claims with
their review state and amounts, the budget it may still claim under each
policy, a claim filed from the phone with photos of the activity and
receipts (a multipart form, the camera opened by the file input), its
evidence served after the claim is resolved, submitted or cancelled; and
the same as JSON.

A claim is the distributor's own: every id goes through portal.resolve
with the caller's party (its downstream's claims answer 404 like missing
ones), every write through an entry point of distributor.expense.claim."""
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
    PREFIX, PortalError, Refused, api, json_response, new_token, page)

from .claim import ACTIVITIES, EVIDENCE_TYPES, MAX_EVIDENCE_SIZE

CLAIM = 'distributor.expense.claim'
CLAIM_IDS = {'claim': CLAIM}
DISTRIBUTOR = {'distributor'}
# who files claims: the orders and finance roles (and admin)
WRITERS = {'orders', 'finance'}
# the rows of lines of the form
FORM_LINES = 3
# photos sent with one form: trytond caps a request at [request] max_size
# (2 MB by default) unless its route allows more (web.Route max_body)
MAX_FILES = 5
MAX_UPLOAD = MAX_FILES * MAX_EVIDENCE_SIZE + (1 << 20)
# one file in base64 (4/3 of its size) in a JSON body
MAX_JSON_EVIDENCE = MAX_EVIDENCE_SIZE * 4 // 3 + (64 << 10)
ACTIVITY_LABELS = {
    'display': N_("Display"),
    'tasting': N_("Tasting"),
    'advertising': N_("Local Advertising"),
    'other': N_("Other"),
    }
STATE_LABELS = {
    'draft': N_("Draft"),
    'submitted': N_("Submitted"),
    'approved': N_("Approved"),
    'partial': N_("Partly Approved"),
    'rejected': N_("Rejected"),
    'settled': N_("Settled"),
    'cancelled': N_("Cancelled"),
    }
SETTLEMENT_LABELS = {
    'credit_note': N_("Credit Note"),
    'ledger': N_("Rebate Ledger"),
    }
# shown in the page (the others are offered as a download)
INLINE_TYPES = {'image/jpeg', 'image/png', 'image/webp'}
assert set(ACTIVITY_LABELS) == {k for k, _ in ACTIVITIES}


# Helpers

def _model():
    return Pool().get(CLAIM)


def _claim(portal, claim):
    "The caller's own claim of id claim, or the 404 of a missing id"
    return portal.resolve(CLAIM, claim, 'claim',
        domain=[('distributor', '=', portal.party.id)])


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


def _labelled(portal, claim):
    "A claim dict with the labels of its state, lines and settlement"
    claim['state_label'] = portal._(STATE_LABELS.get(claim['state'],
            claim['state']))
    for line in claim.get('lines', []):
        line['activity_label'] = portal._(ACTIVITY_LABELS.get(
                line['activity'], line['activity']))
    if claim.get('settlement_method'):
        claim['settlement_label'] = portal._(SETTLEMENT_LABELS.get(
                claim['settlement_method'], claim['settlement_method']))
    for evidence in claim.get('evidence', []):
        evidence['inline'] = evidence['type'] in INLINE_TYPES
        evidence['url'] = (f"{PREFIX}/claims/{claim['id']}/evidence/"
            f"{evidence['id']}")
    return claim


def _detail(portal, record):
    return _labelled(portal, _model().dms_claim_dict(record))


def _budgets(portal):
    "The policies taking the caller's claims with what it may claim"
    return _model().dms_claim_budgets(portal.party)


def _files(portal):
    """[(name, data)] of the files of the form's evidence input: the
    empty part a browser sends without a file is skipped"""
    files = [f for f in portal.request.files.getlist('evidence')
        if f and f.filename]
    if len(files) > MAX_FILES:
        raise _invalid(f'evidence: at most {MAX_FILES} files at once')
    # at most one byte more than allowed: the entry point names the file
    return [(f.filename, f.stream.read(MAX_EVIDENCE_SIZE + 1))
        for f in files]


def _add_evidence(portal, record, files):
    Claim = _model()
    return [Claim.dms_add_evidence(portal.party, record.id, name, data)
        for name, data in files]


def _claim_values_from_form(portal):
    """The values of the claim form for dms_save_claim: the policy, the
    date, the description and the rows of lines that are filled"""
    values = {
        'policy': portal.int_arg(_field(portal, 'policy'), 'policy'),
        'description': _field(portal, 'description').strip() or None,
        'lines': [],
        }
    date = _field(portal, 'date').strip()
    if date:
        values['date'] = date
    for index in range(FORM_LINES):
        description = _field(portal, f'line-{index}-description').strip()
        amount = _field(portal, f'line-{index}-amount').strip()
        if not description and not amount:
            continue
        values['lines'].append({
                'activity': _field(portal, f'line-{index}-activity'),
                'description': description,
                'amount': amount,
                })
    return values


def _form_page(portal, policy_id, values=None, error=None, status=200):
    "The form of a new claim under the policy (one the caller may claim)"
    budgets = {b['policy']: b for b in _budgets(portal)}
    if policy_id not in budgets:
        raise PortalError(HTTPStatus.NOT_FOUND, 'not_found',
            gettext('distributor_portal.msg_not_found'))
    if error is not None:
        portal.flash = error.message
    return portal.render('claim_form.html', status=status,
        budget=budgets[policy_id], values=values or {},
        activities=[(k, portal._(v)) for k, v in ACTIVITY_LABELS.items()],
        rows=FORM_LINES, max_files=MAX_FILES,
        max_size=MAX_EVIDENCE_SIZE // (1024 * 1024),
        today=Pool().get('ir.date').today(), key=new_token())


# Pages

@page('/claims', kinds=DISTRIBUTOR)
def claims_page(portal):
    """The distributor's expense claims with their review state and
    amounts, and the budget it may still claim under each policy"""
    Claim = _model()
    claims = [_labelled(portal, c)
        for c in Claim.dms_list_claims(portal.party)]
    return portal.render('claim_list.html', claims=claims,
        budgets=_budgets(portal))


@page('/claims/new', kinds=DISTRIBUTOR, roles=WRITERS)
def claim_new_page(portal):
    "The form of a new claim under a policy (?policy=)"
    policy = portal.int_arg(portal.request.args.get('policy'), 'policy')
    return _form_page(portal, policy)


@page('/claims', methods=('POST',), kinds=DISTRIBUTOR, roles=WRITERS,
    idempotent=True, max_body=MAX_UPLOAD)
def claim_create_page(portal):
    """File a claim from the form with its photos and receipts; saved as
    a draft, or submitted at once (action=submit)"""
    Claim = _model()
    values = _claim_values_from_form(portal)
    submit = _field(portal, 'action') == 'submit'

    def answer(error):
        return _form_page(portal, values['policy'], values=values,
            error=error, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    with _refused_by_rules(answer):
        files = _files(portal)
        claim_id = Claim.dms_save_claim(portal.party, values)
        record = _claim(portal, claim_id)
        _add_evidence(portal, record, files)
        if submit:
            Claim.dms_submit_claim(portal.party, claim_id)
    if submit:
        flash = portal._(N_("Your claim is submitted for review."))
    else:
        flash = portal._(N_("Your claim is saved as a draft."))
    return portal.redirect(f'{PREFIX}/claims/{claim_id}', flash=flash)


@page('/claims/<int:claim>', kinds=DISTRIBUTOR, ids=CLAIM_IDS)
def claim_page(portal, claim):
    """A claim: its lines, evidence, review state and reason, and the
    buttons to add evidence, submit or cancel it"""
    record = _claim(portal, claim)
    return portal.render('claim_detail.html', claim=_detail(portal, record),
        max_files=MAX_FILES, max_size=MAX_EVIDENCE_SIZE // (1024 * 1024))


def _detail_refusal(portal, claim):
    def answer(error):
        portal.flash = error.message
        record = _claim(portal, claim)
        return portal.render('claim_detail.html',
            status=HTTPStatus.UNPROCESSABLE_ENTITY,
            claim=_detail(portal, record), max_files=MAX_FILES,
            max_size=MAX_EVIDENCE_SIZE // (1024 * 1024))
    return answer


@page('/claims/<int:claim>/evidence', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, ids=CLAIM_IDS, max_body=MAX_UPLOAD)
def claim_evidence_page(portal, claim):
    "Add photos or receipts to a draft claim"
    record = _claim(portal, claim)
    with _refused_by_rules(_detail_refusal(portal, claim)):
        files = _files(portal)
        if not files:
            raise _invalid('evidence: at least one file')
        _add_evidence(portal, record, files)
    return portal.redirect(f'{PREFIX}/claims/{claim}#evidence',
        flash=portal._(N_("The evidence is added.")))


@page('/claims/<int:claim>/submit', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, ids=CLAIM_IDS)
def claim_submit_page(portal, claim):
    "Submit a draft claim for review"
    record = _claim(portal, claim)
    with _refused_by_rules(_detail_refusal(portal, claim)):
        _model().dms_submit_claim(portal.party, record.id)
    return portal.redirect(f'{PREFIX}/claims/{claim}',
        flash=portal._(N_("Your claim is submitted for review.")))


@page('/claims/<int:claim>/cancel', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, ids=CLAIM_IDS)
def claim_cancel_page(portal, claim):
    "Cancel a draft or submitted claim"
    record = _claim(portal, claim)
    with _refused_by_rules(_detail_refusal(portal, claim)):
        _model().dms_cancel_claim(portal.party, record.id)
    return portal.redirect(f'{PREFIX}/claims/{claim}',
        flash=portal._(N_("Your claim is cancelled.")))


@page('/claims/<int:claim>/evidence/<int:attachment>', kinds=DISTRIBUTOR,
    ids={'claim': CLAIM, 'attachment': 'ir.attachment'})
def claim_evidence_file(portal, claim, attachment):
    """A photo or receipt of a claim: shown in the page (photos) or
    downloaded (PDF, HEIC); served only after the claim is resolved"""
    record = _claim(portal, claim)
    name, mimetype, data = _model().dms_evidence_data(record, attachment)
    disposition = 'inline' if mimetype in INLINE_TYPES else 'attachment'
    extension = EVIDENCE_TYPES.get(mimetype)
    filename = name if not extension or '.' in name else (
        f'{name}.{extension}')
    return Response(data, mimetype=mimetype, headers={
            'Content-Disposition': f"{disposition}; filename*=UTF-8''"
            + urllib.parse.quote(filename),
            'Content-Security-Policy': "default-src 'none'; sandbox",
            })



# The API

LINE = s.obj(['activity', 'description', 'amount'],
    activity={'type': 'string', 'enum': list(ACTIVITY_LABELS)},
    description={'type': 'string', 'minLength': 1, 'maxLength': 256},
    amount={'type': 'number', 'exclusiveMinimum': 0, 'maximum': 1e12})
CLAIM_BODY = s.obj(
    policy=s.ID, date=s.DATE, description=s.TEXT,
    lines=s.array(LINE, min_items=1))
NEW_CLAIM = dict(CLAIM_BODY, required=['policy', 'lines'])
EVIDENCE = s.obj(['name', 'data'],
    name={'type': 'string', 'minLength': 1, 'maxLength': 128},
    data={'type': 'string', 'minLength': 1,
        'maxLength': (MAX_EVIDENCE_SIZE * 4) // 3 + 4})


@api('/claims', kinds=DISTRIBUTOR, tag='claims', paginated=True)
def api_claims(portal):
    """The distributor's expense claims, latest first: state, claimed and
    approved amounts, review reason"""
    offset, limit = portal.page_window()
    claims = _model().dms_list_claims(portal.party)
    return portal.paginated(claims[offset:offset + limit], len(claims),
        offset, limit)


@api('/claims/budgets', kinds=DISTRIBUTOR, tag='claims')
def api_claim_budgets(portal):
    """The policies that take the distributor's claims today: their
    budget per distributor, what it used and what remains"""
    return {'items': _budgets(portal)}


@api('/claims', methods=('POST',), kinds=DISTRIBUTOR, roles=WRITERS,
    body=NEW_CLAIM, tag='claims', idempotent=True)
def api_create_claim(portal):
    """File a claim (a draft) under a policy: date, description and lines
    [{activity, description, amount}]; add evidence, then submit it"""
    claim_id = _model().dms_save_claim(portal.party, dict(portal.body))
    return json_response(_model().dms_claim_dict(_claim(portal, claim_id)),
        status=HTTPStatus.CREATED)


@api('/claims/<int:claim>', kinds=DISTRIBUTOR, tag='claims', ids=CLAIM_IDS)
def api_claim(portal, claim):
    "A claim: lines, evidence, review state and reason, settlement"
    return _model().dms_claim_dict(_claim(portal, claim))


@api('/claims/<int:claim>', methods=('PUT',), kinds=DISTRIBUTOR,
    roles=WRITERS, body=CLAIM_BODY, tag='claims', ids=CLAIM_IDS)
def api_update_claim(portal, claim):
    "Change a draft claim (lines given replace its lines)"
    record = _claim(portal, claim)
    _model().dms_save_claim(portal.party, dict(portal.body),
        claim=record.id)
    return _model().dms_claim_dict(_claim(portal, claim))


@api('/claims/<int:claim>/evidence', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, body=EVIDENCE, tag='claims', ids=CLAIM_IDS,
    idempotent=True, max_body=MAX_JSON_EVIDENCE)
def api_add_evidence(portal, claim):
    """Attach a photo or receipt to a draft claim: name and data (base64;
    JPEG, PNG, WebP, HEIC or PDF of at most 5 MB)"""
    record = _claim(portal, claim)
    attachment, = _add_evidence(portal, record,
        [(portal.body['name'], portal.body['data'])])
    return json_response({'id': attachment, 'claim': record.id,
            'evidence_count': _model()(record.id).evidence_count},
        status=HTTPStatus.CREATED)


@api('/claims/<int:claim>/submit', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, tag='claims', ids=CLAIM_IDS, idempotent=True)
def api_submit_claim(portal, claim):
    """Submit a draft claim for review (a submitted claim answers as it
    is); refused without evidence or beyond the remaining budget"""
    record = _claim(portal, claim)
    _model().dms_submit_claim(portal.party, record.id)
    return _model().dms_claim_dict(_claim(portal, claim))


@api('/claims/<int:claim>/cancel', methods=('POST',), kinds=DISTRIBUTOR,
    roles=WRITERS, tag='claims', ids=CLAIM_IDS)
def api_cancel_claim(portal, claim):
    "Cancel a draft or submitted claim (its budget is freed)"
    record = _claim(portal, claim)
    _model().dms_cancel_claim(portal.party, record.id)
    return _model().dms_claim_dict(_claim(portal, claim))
