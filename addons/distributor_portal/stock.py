# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Stock of a distributor (库存): levels by product and lot with expiry,
alerts and replenishment suggestions (ordered from the alerts), transfers
(request, approve as giver, receive), counts with their variance, and
scanning in and out (manual entry, or the phone camera through
@zxing/browser in static/scan.js).

Each action has one implementation below, called by its page (forms) and
its JSON endpoint; every write goes through the distributor_stock entry
point with the caller's party."""
import datetime as dt
import re
from http import HTTPStatus

from trytond.exceptions import UserError
from trytond.pool import Pool

from distributor.access import trusted
from distributor_stock.inventory import REASONS

from . import schema as s
from .i18n import N_
from .web import PREFIX, api, json_response, new_token, page

DISTRIBUTOR = {'distributor'}
TRANSFER = 'distributor.stock.transfer'
COUNT = 'stock.inventory'
# days before a lot's expiry that the levels show it as near
NEAR_EXPIRY_DAYS = 30



def _line_product(line):
    "The id, product and lot of a transfer or count line, as JSON"
    return {
        'id': line.id,
        'product': line.product.id,
        'product_code': line.product.code,
        'product_name': line.product.rec_name,
        'lot': line.lot.id if line.lot else None,
        'lot_number': line.lot.number if line.lot else None,
        }

def _field(portal, name, default=''):
    values = (portal.body or {}).get(name) or [default]
    return values[0]


def _number(value):
    """A number typed in a form, as typed (the entry point validates it);
    empty: None"""
    value = (value or '').strip()
    return value or None


# Scans ------------------------------------------------------------------

_SCAN_LINE = re.compile(
    r'^(?P<code>[^\s*]+)(?:\s*\*\s*|\s+)(?P<qty>\d+(?:\.\d+)?)$')


def parse_scans(text):
    """Scans of a manual entry (or the camera's): one code a line,
    optionally followed by a quantity (\"CODE 3\" or \"CODE*3\")"""
    scans = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line:
            continue
        match = _SCAN_LINE.match(line)
        if match:
            scans.append({'code': match.group('code'),
                    'quantity': float(match.group('qty'))})
        else:
            scans.append({'code': line})
    return scans


SCAN = {'oneOf': [
        {'type': 'string', 'minLength': 1, 'maxLength': 64},
        s.obj(['code'], code={'type': 'string', 'minLength': 1,
                'maxLength': 64},
            lot={'type': 'string', 'minLength': 1, 'maxLength': 64},
            quantity=s.QUANTITY),
        ]}
SCANS = s.array(SCAN, min_items=1)


def resolve_scans(portal, scans):
    "[{product, product_name, lot, lot_number, quantity}] of scans"
    pool = Pool()
    Product = pool.get('product.product')
    Lot = pool.get('stock.lot')
    resolved = Product.dms_resolve_scans(scans)
    with trusted():
        products = {p.id: p for p in Product.browse(
                list({r['product'] for r in resolved}))}
        lots = {l.id: l for l in Lot.browse(
                list({r['lot'] for r in resolved if r['lot']}))}
        return [{
                'product': r['product'],
                'product_code': products[r['product']].code,
                'product_name': products[r['product']].rec_name,
                'lot': r['lot'],
                'lot_number': lots[r['lot']].number if r['lot'] else None,
                'quantity': r['quantity'],
                } for r in resolved]


# Levels -----------------------------------------------------------------

def levels(portal, text=None):
    "The stock of the caller per product and lot, filtered by text"
    Level = Pool().get('distributor.stock.level')
    today = Pool().get('ir.date').today()
    near = today + dt.timedelta(days=NEAR_EXPIRY_DAYS)
    result = []
    text = (text or '').strip().lower()
    for level in Level.dms_list_levels(portal.party):
        if text and not any(text in (level.get(k) or '').lower()
                for k in ['product_code', 'product_name', 'lot_number']):
            continue
        expiry = level['expiration_date']
        level['expiry'] = (None if expiry is None
            else 'expired' if expiry < today
            else 'near' if expiry <= near else 'ok')
        result.append(level)
    return result


@page('/stock', kinds=DISTRIBUTOR)
def stock_page(portal):
    "Stock levels by product and lot, with expiry"
    Alert = Pool().get('distributor.stock.alert')
    text = portal.request.args.get('q', '')[:200]
    rows = levels(portal, text)
    return portal.render('stock_levels.html', levels=rows, q=text,
        alerts=len(Alert.dms_list_alerts(portal.party)),
        total=sum(r['quantity'] for r in rows))


@api('/stock/levels', kinds=DISTRIBUTOR, tag='stock', paginated=True,
    query={'q': s.SHORT})
def api_levels(portal):
    "Stock on hand per product and lot (q filters by code, name or lot)"
    offset, limit = portal.page_window()
    rows = levels(portal, portal.request.args.get('q', '')[:200])
    return portal.paginated(rows[offset:offset + limit], len(rows), offset,
        limit)


# Alerts -----------------------------------------------------------------

def alerts(portal):
    Alert = Pool().get('distributor.stock.alert')
    return Alert.dms_list_alerts(portal.party)


def order_alerts(portal, ids):
    "A draft order from the caller's below-minimum alerts"
    Alert = Pool().get('distributor.stock.alert')
    return Alert.dms_order_alerts(portal.party, ids)


@page('/stock/alerts', kinds=DISTRIBUTOR)
def alerts_page(portal):
    "Stock alerts and replenishment suggestions"
    rows = alerts(portal)
    return portal.render('stock_alerts.html', alerts=rows,
        suggestions=[a for a in rows if a['kind'] == 'low'
            and a['suggested_quantity']],
        may_order=portal.may('orders'), key=new_token())


@page('/stock/alerts/order', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, idempotent=True)
def alerts_order_page(portal):
    "Order the suggested quantities of the chosen alerts"
    ids = [portal.int_arg(v, 'alerts')
        for v in (portal.body or {}).get('alerts', [])]
    if not ids:
        return portal.redirect(PREFIX + '/stock/alerts',
            flash=portal._(N_("Choose the suggestions to order.")))
    order_alerts(portal, ids)
    return portal.redirect(PREFIX + '/orders',
        flash=portal._(N_("A draft order is made from the suggestions.")))


@api('/stock/alerts', kinds=DISTRIBUTOR, tag='stock', paginated=True)
def api_alerts(portal):
    """The open stock alerts (below minimum, overstock, near expiry) with
    the suggested replenishment quantities"""
    offset, limit = portal.page_window()
    rows = alerts(portal)
    return portal.paginated(rows[offset:offset + limit], len(rows), offset,
        limit)


@api('/stock/alerts/order', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, tag='stock', idempotent=True,
    body=s.obj(['alerts'], alerts=s.IDS))
def api_order_alerts(portal):
    """A draft order of the suggested quantities of below-minimum alerts:
    to the brand, or a channel order to the upstream"""
    order = order_alerts(portal, portal.body['alerts'])
    return json_response(order or {}, status=HTTPStatus.CREATED)


# Transfers --------------------------------------------------------------

def _party_name(party):
    return party.rec_name if party else None


def transfer_dict(portal, transfer, lines=False):
    "A transfer of the caller as JSON (read trusted once it is resolved)"
    with trusted():
        result = {
            'id': transfer.id,
            'number': transfer.number,
            'date': transfer.date,
            'state': transfer.state,
            'from_party': transfer.from_party.id
            if transfer.from_party else None,
            'from_party_name': _party_name(transfer.from_party),
            'to_party': transfer.to_party.id if transfer.to_party else None,
            'to_party_name': _party_name(transfer.to_party),
            'role': ('giver' if transfer.from_party == portal.party
                else 'receiver'),
            'manager_approved': bool(transfer.manager_approved_at),
            'giver_approved': bool(transfer.giver_approved_at),
            'reason': transfer.reason,
            'note': transfer.note,
            }
        result['may_approve'] = (result['role'] == 'giver'
            and transfer.state == 'requested'
            and not transfer.giver_approved_at)
        result['may_receive'] = (result['role'] == 'receiver'
            and transfer.state == 'shipped')
        if lines:
            result['lines'] = [{
                    **_line_product(l),
                    'quantity': l.quantity,
                    'shipped_quantity': l.shipped_quantity
                    if transfer.state in {'shipped', 'received', 'done'}
                    else None,
                    'received_quantity': l.received_quantity,
                    'missing_quantity': l.missing_quantity,
                    'discrepancy_state': l.discrepancy_state,
                    'unit': l.unit.symbol,
                    } for l in transfer.lines]
            result['history'] = [{
                    'date': log.create_date,
                    'from_state': log.from_state,
                    'state': log.to_state,
                    'reason': log.reason,
                    } for log in transfer.state_logs]
    return result


def _own_transfer(portal):
    "The domain of the caller's own transfers (as giver or receiver)"
    return ['OR',
        ('from_party', '=', portal.party.id),
        ('to_party', '=', portal.party.id)]


def transfers(portal, state=None):
    Transfer = Pool().get(TRANSFER)
    domain = [_own_transfer(portal)]
    if state:
        domain.append(('state', '=', state))
    return [transfer_dict(portal, t) for t in Transfer.search(domain)]


def get_transfer(portal, transfer):
    "The caller's own transfer, or 404"
    return portal.resolve(TRANSFER, transfer, 'transfer',
        domain=[_own_transfer(portal)])


def counterparts(portal):
    "The distributors a transfer may go to or come from: the downstream"
    Party = Pool().get('party.party')
    return Party.search([
            ('is_distributor', '=', True),
            ('upstream', '=', portal.party.id),
            ], order=[('name', 'ASC')])


def create_transfer(portal, direction, counterpart, lines, note=None):
    """Request a transfer: 'out' gives the goods to counterpart, 'in'
    takes them from it (None: the brand's warehouse)"""
    Transfer = Pool().get(TRANSFER)
    if direction == 'out':
        from_party, to_party = portal.party, counterpart
    else:
        from_party, to_party = counterpart, portal.party
    return Transfer.dms_create_transfer(from_party, to_party, lines,
        note=note or None)


def approve_transfer(portal, transfer):
    Transfer = Pool().get(TRANSFER)
    get_transfer(portal, transfer)
    Transfer.giver_approve([transfer], portal.party)


def receive_transfer(portal, transfer, quantities=None, scans=None,
        note=None):
    Transfer = Pool().get(TRANSFER)
    get_transfer(portal, transfer)
    Transfer.receive_transfers([transfer], quantities=quantities,
        scans=scans, note=note or None, party=portal.party)


TRANSFER_STATES = ['draft', 'requested', 'approved', 'shipped', 'received',
    'done', 'rejected', 'cancelled']


@page('/stock/transfers', kinds=DISTRIBUTOR)
def transfers_page(portal):
    "The transfers of the distributor, as giver and as receiver"
    state = portal.request.args.get('state')
    if state not in TRANSFER_STATES:
        state = None
    return portal.render('stock_transfers.html',
        transfers=transfers(portal, state), state=state,
        states=TRANSFER_STATES, counterparts=counterparts(portal),
        may_write=portal.may('stock'), key=new_token())


@page('/stock/transfers', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'stock'}, idempotent=True)
def transfer_create_page(portal):
    "Request a transfer"
    direction = _field(portal, 'direction', 'out')
    if direction not in {'out', 'in'}:
        direction = 'out'
    counterpart = _field(portal, 'counterpart')
    counterpart = (portal.int_arg(counterpart, 'counterpart')
        if counterpart else None)
    lines = []
    body = portal.body or {}
    for code, lot, quantity in zip(body.get('product', []),
            body.get('lot', []) or [''] * len(body.get('product', [])),
            body.get('quantity', [])):
        code = code.strip()
        if not code:
            continue
        line = {'product': code, 'quantity': _number(quantity) or '0'}
        if lot.strip():
            line['lot'] = lot.strip()
        lines.append(line)
    transfer = create_transfer(portal, direction, counterpart, lines,
        _field(portal, 'note'))
    return portal.redirect(f'{PREFIX}/stock/transfers/{transfer}',
        flash=portal._(N_("The transfer is requested.")))


@page('/stock/transfers/<int:transfer>', kinds=DISTRIBUTOR,
    ids={'transfer': TRANSFER})
def transfer_page(portal, transfer):
    "A transfer: its lines, states and the caller's next step"
    record = get_transfer(portal, transfer)
    return portal.render('stock_transfer.html',
        transfer=transfer_dict(portal, record, lines=True),
        may_write=portal.may('stock'), key=new_token())


@page('/stock/transfers/<int:transfer>/approve', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, ids={'transfer': TRANSFER})
def transfer_approve_page(portal, transfer):
    "Approve a transfer as the giving distributor"
    approve_transfer(portal, transfer)
    return portal.redirect(f'{PREFIX}/stock/transfers/{transfer}',
        flash=portal._(N_("You approved the transfer.")))


@page('/stock/transfers/<int:transfer>/receive', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, ids={'transfer': TRANSFER},
    idempotent=True)
def transfer_receive_page(portal, transfer):
    """Confirm the receipt of a transfer: the quantities received per line
    (empty: as shipped), or the scanned codes"""
    body = portal.body or {}
    codes = _field(portal, 'scans')
    scans = parse_scans(codes) if codes.strip() else None
    quantities = None
    if scans is None:
        quantities = {}
        for name, values in body.items():
            if name.startswith('qty_') and values and values[0].strip():
                quantities[portal.int_arg(name[4:], 'line')] = _number(
                    values[0])
    receive_transfer(portal, transfer, quantities=quantities, scans=scans,
        note=_field(portal, 'note'))
    return portal.redirect(f'{PREFIX}/stock/transfers/{transfer}',
        flash=portal._(N_("The receipt is confirmed.")))


TRANSFER_LINE = s.obj(['product', 'quantity'],
    product={'oneOf': [s.ID, {'type': 'string', 'minLength': 1,
                'maxLength': 64}]},
    lot={'oneOf': [s.ID, {'type': 'string', 'minLength': 1,
                'maxLength': 64}]},
    quantity=s.QUANTITY)
TRANSFER_BODY = s.obj(['direction', 'lines'],
    direction={'type': 'string', 'enum': ['out', 'in']},
    counterpart={'oneOf': [s.ID, {'type': 'null'}]},
    lines=s.array(TRANSFER_LINE, min_items=1),
    note=s.TEXT)
RECEIVE_BODY = s.obj([],
    quantities=s.array(s.obj(['line', 'quantity'], line=s.ID,
            quantity=s.QUANTITY_OR_ZERO)),
    scans=SCANS,
    note=s.TEXT)


@api('/stock/transfers', kinds=DISTRIBUTOR, tag='stock', paginated=True,
    query={'state': {'type': 'string', 'enum': TRANSFER_STATES}})
def api_transfers(portal):
    "The transfers of the distributor, as giver and as receiver"
    offset, limit = portal.page_window()
    state = portal.request.args.get('state')
    rows = transfers(portal, state if state in TRANSFER_STATES else None)
    return portal.paginated(rows[offset:offset + limit], len(rows), offset,
        limit)


@api('/stock/transfers', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'stock'}, tag='stock', idempotent=True, body=TRANSFER_BODY)
def api_create_transfer(portal):
    """Request a transfer: direction out gives the goods to counterpart (a
    downstream distributor), in takes them from it; counterpart null is
    the brand's warehouse"""
    body = portal.body
    lines = [{k: (float(v) if k == 'quantity' else v)
            for k, v in line.items()} for line in body['lines']]
    transfer = create_transfer(portal, body['direction'],
        body.get('counterpart'), lines, body.get('note'))
    Transfer = Pool().get(TRANSFER)
    return json_response(transfer_dict(portal, Transfer(transfer),
            lines=True), status=HTTPStatus.CREATED)


@api('/stock/transfers/<int:transfer>', kinds=DISTRIBUTOR, tag='stock',
    ids={'transfer': TRANSFER})
def api_transfer(portal, transfer):
    "A transfer with its lines"
    return transfer_dict(portal, get_transfer(portal, transfer), lines=True)


@api('/stock/transfers/<int:transfer>/approve', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, tag='stock',
    ids={'transfer': TRANSFER})
def api_approve_transfer(portal, transfer):
    "Approve a requested transfer as the giving distributor"
    approve_transfer(portal, transfer)
    Transfer = Pool().get(TRANSFER)
    return transfer_dict(portal, Transfer(transfer))


@api('/stock/transfers/<int:transfer>/receive', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, tag='stock', idempotent=True,
    ids={'transfer': TRANSFER}, body=RECEIVE_BODY)
def api_receive_transfer(portal, transfer):
    """Confirm the receipt of a shipped transfer: quantities per line
    (lines not given: as shipped) or scans; a shortfall opens a
    discrepancy"""
    body = portal.body
    quantities = None
    if body.get('quantities') is not None:
        quantities = {q['line']: float(q['quantity'])
            for q in body['quantities']}
    receive_transfer(portal, transfer, quantities=quantities,
        scans=_api_scans(body.get('scans')), note=body.get('note'))
    Transfer = Pool().get(TRANSFER)
    return transfer_dict(portal, Transfer(transfer), lines=True)


def _api_scans(scans):
    if scans is None:
        return None
    return [dict(x, quantity=float(x['quantity'])) if isinstance(x, dict)
        and 'quantity' in x else x for x in scans]


# Counts -----------------------------------------------------------------

def _own_count(portal):
    return [('location.distributor', '=', portal.party.id)]


def get_count(portal, count):
    return portal.resolve(COUNT, count, 'count', domain=_own_count(portal))


def count_dict(portal, count, lines=False):
    with trusted():
        result = {
            'id': count.id,
            'number': count.number,
            'date': count.date,
            'state': count.state,
            'variance_lines': count.variance_lines,
            'variance_quantity': count.variance_quantity,
            'variance_value': count.variance_value,
            }
        if lines:
            result['lines'] = [{
                    **_line_product(l),
                    'expected_quantity': l.expected_quantity,
                    'quantity': l.quantity,
                    'variance_quantity': l.variance_quantity,
                    'variance_reason': l.variance_reason,
                    'variance_note': l.variance_note,
                    } for l in count.lines]
    return result


def counts(portal):
    Inventory = Pool().get(COUNT)
    return [count_dict(portal, c) for c in Inventory.search(
            _own_count(portal), order=[('date', 'DESC'), ('id', 'DESC')])]


def start_count(portal):
    Inventory = Pool().get(COUNT)
    return Inventory.dms_start_count(portal.party)


def count_scans(portal, count, scans):
    Inventory = Pool().get(COUNT)
    get_count(portal, count)
    return Inventory.dms_count_scans(count, scans, party=portal.party)


def variance(portal, count):
    """The variance report of a count, with the reasons' labels, the line
    (to give its reason) and the note"""
    pool = Pool()
    Inventory = pool.get(COUNT)
    record = get_count(portal, count)
    reasons = dict(reason_choices())
    rows = Inventory.dms_variance_report(count, party=portal.party)
    with trusted():
        lines = {(l.product.id, l.lot.id if l.lot else None): l
            for l in record.lines}
    for row in rows:
        row['variance_reason_label'] = reasons.get(row['variance_reason'])
        line = lines.get((row['product'], row['lot']))
        row['line'] = line.id if line else None
        row['variance_note'] = line.variance_note if line else None
    return rows


def reason_choices():
    "[(key, label)] of the variance reasons, in the caller's language"
    from .render import selection
    return selection('stock.inventory.line', 'variance_reason')


def set_reasons(portal, count, reasons):
    """Give the reasons of a count's variances: [{line, reason, note}]
    (the entry point checks the lines are the count's)"""
    Inventory = Pool().get(COUNT)
    get_count(portal, count)
    return Inventory.dms_set_variance_reasons(count, reasons,
        party=portal.party)


def confirm_count(portal, count):
    """Confirm a draft count: refused while a variance has no reason; the
    stock is corrected to the counted quantities"""
    Inventory = Pool().get(COUNT)
    get_count(portal, count)
    return Inventory.dms_confirm_count(count, party=portal.party)


@page('/stock/counts', kinds=DISTRIBUTOR)
def counts_page(portal):
    "The stock counts of the distributor"
    return portal.render('stock_counts.html', counts=counts(portal),
        may_write=portal.may('stock'), key=new_token())


@page('/stock/counts', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'stock'}, idempotent=True)
def count_start_page(portal):
    "Start a count of the distributor's warehouse"
    count = start_count(portal)
    return portal.redirect(f'{PREFIX}/stock/counts/{count}',
        flash=portal._(N_("The count is started.")))


@page('/stock/counts/<int:count>', kinds=DISTRIBUTOR,
    ids={'count': COUNT})
def count_page(portal, count):
    "A count: book and counted quantities, scans and the variance"
    record = get_count(portal, count)
    rows = variance(portal, count)
    return portal.render('stock_count.html',
        count=count_dict(portal, record, lines=True),
        variance=rows, reasons=reason_choices(),
        missing_reasons=sum(1 for r in rows if not r['variance_reason']),
        may_write=portal.may('stock'), key=new_token())


@page('/stock/counts/<int:count>/scans', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, ids={'count': COUNT},
    idempotent=True)
def count_scans_page(portal, count):
    "Add scanned (or typed) codes to the counted quantities"
    get_count(portal, count)
    scans = parse_scans(_field(portal, 'scans'))
    if not scans:
        return portal.redirect(f'{PREFIX}/stock/counts/{count}',
            flash=portal._(N_("Scan or type at least one code.")))
    number = count_scans(portal, count, scans)
    return portal.redirect(f'{PREFIX}/stock/counts/{count}',
        flash=portal._(N_("Scans added: %(count)s")) % {'count': number})


@page('/stock/counts/<int:count>/reasons', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, ids={'count': COUNT})
def count_reasons_page(portal, count):
    """Give the reasons (and notes) of the variances: fields reason_<line>
    and note_<line>; a line without a chosen reason is left as it is"""
    get_count(portal, count)
    body = portal.body or {}
    reasons = []
    for name, values in body.items():
        if not name.startswith('reason_'):
            continue
        reason = (values[0] if values else '').strip()
        if not reason:
            continue
        line = portal.int_arg(name[len('reason_'):], 'line')
        note = (body.get(f'note_{line}') or [''])[0].strip()
        reasons.append({'line': line, 'reason': reason,
                'note': note or None})
    if not reasons:
        return portal.redirect(f'{PREFIX}/stock/counts/{count}',
            flash=portal._(N_("Choose a reason for the variances.")))
    set_reasons(portal, count, reasons)
    return portal.redirect(f'{PREFIX}/stock/counts/{count}',
        flash=portal._(N_("The reasons are saved.")))


@page('/stock/counts/<int:count>/confirm', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, ids={'count': COUNT})
def count_confirm_page(portal, count):
    """Confirm the count: the stock is corrected to the counted
    quantities (refused while a variance has no reason)"""
    confirm_count(portal, count)
    return portal.redirect(f'{PREFIX}/stock/counts/{count}',
        flash=portal._(N_("The count is confirmed: the stock is "
                "corrected.")))


@api('/stock/counts', kinds=DISTRIBUTOR, tag='stock', paginated=True)
def api_counts(portal):
    "The stock counts of the distributor"
    offset, limit = portal.page_window()
    rows = counts(portal)
    return portal.paginated(rows[offset:offset + limit], len(rows), offset,
        limit)


@api('/stock/counts', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'stock'}, tag='stock', idempotent=True)
def api_start_count(portal):
    "Start a count: its lines hold the book quantities per product and lot"
    count = start_count(portal)
    Inventory = Pool().get(COUNT)
    return json_response(count_dict(portal, Inventory(count), lines=True),
        status=HTTPStatus.CREATED)


@api('/stock/counts/<int:count>', kinds=DISTRIBUTOR, tag='stock',
    ids={'count': COUNT})
def api_count(portal, count):
    "A count with its lines"
    return count_dict(portal, get_count(portal, count), lines=True)


@api('/stock/counts/<int:count>/scans', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, tag='stock', idempotent=True,
    ids={'count': COUNT}, body=s.obj(['scans'], scans=SCANS))
def api_count_scans(portal, count):
    """Add scans (a code, or {code, lot, quantity}) to the counted
    quantities of a draft count"""
    number = count_scans(portal, count, _api_scans(portal.body['scans']))
    return {'scanned': number}


@api('/stock/counts/<int:count>/variance', kinds=DISTRIBUTOR, tag='stock',
    ids={'count': COUNT}, paginated=True)
def api_variance(portal, count):
    "The variance per product and lot of a count, with its reasons"
    offset, limit = portal.page_window()
    rows = variance(portal, count)
    return portal.paginated(rows[offset:offset + limit], len(rows), offset,
        limit)


REASONS_BODY = s.obj(['reasons'], reasons=s.array(
        s.obj(['line', 'reason'], line=s.ID,
            reason={'type': 'string', 'enum': [k for k, _ in REASONS if k]},
            note={'oneOf': [{'type': 'string', 'maxLength': 200},
                    {'type': 'null'}]}),
        min_items=1))


@api('/stock/counts/<int:count>/reasons', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, tag='stock', ids={'count': COUNT},
    body=REASONS_BODY)
def api_count_reasons(portal, count):
    """Give the reasons (damaged, expired, loss, unrecorded, count_error,
    other) and notes of the variances of a draft count, per line: all are
    checked before any is written; answers the count with its lines"""
    set_reasons(portal, count, [dict(r) for r in portal.body['reasons']])
    Inventory = Pool().get(COUNT)
    return count_dict(portal, Inventory(count), lines=True)


@api('/stock/counts/<int:count>/confirm', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'stock'}, tag='stock', ids={'count': COUNT})
def api_confirm_count(portal, count):
    """Confirm a draft count: every variance needs its reason (else 422);
    the stock is corrected to the counted quantities"""
    confirm_count(portal, count)
    Inventory = Pool().get(COUNT)
    return count_dict(portal, Inventory(count), lines=True)


# Scanning ---------------------------------------------------------------

@page('/stock/scan', kinds=DISTRIBUTOR)
def scan_page(portal):
    """Scan in and out: look codes up, or scan them into a count or the
    receipt of a transfer (?count= or ?transfer=)"""
    args = portal.request.args
    target = None
    if args.get('count'):
        count = get_count(portal, portal.int_arg(args['count'], 'count'))
        target = {'kind': 'count', 'id': count.id,
            'label': count_dict(portal, count)['number'] or count.id,
            'action': f'{PREFIX}/stock/counts/{count.id}/scans'}
    elif args.get('transfer'):
        transfer = get_transfer(portal,
            portal.int_arg(args['transfer'], 'transfer'))
        data = transfer_dict(portal, transfer)
        target = {'kind': 'transfer', 'id': transfer.id,
            'label': data['number'], 'may': data['may_receive'],
            'action': f'{PREFIX}/stock/transfers/{transfer.id}/receive'}
    codes = args.get('codes', '')[:20000]
    found, error = [], None
    if codes.strip() and target is None:
        try:
            found = resolve_scans(portal, parse_scans(codes))
        except UserError as e:
            error = e.message
    return portal.render('stock_scan.html', target=target, codes=codes,
        found=found, error=error, may_write=portal.may('stock'),
        key=new_token())


@api('/stock/scans', kinds=DISTRIBUTOR, tag='stock',
    query={'codes': s.TEXT})
def api_resolve_scans(portal):
    """Resolve scanned codes (EAN-13 barcodes, product codes, lot numbers;
    one a line, optionally followed by a quantity) into products, lots
    and quantities"""
    scans = parse_scans(portal.request.args.get('codes', '')[:20000])
    return {'items': resolve_scans(portal, scans) if scans else []}
