# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Sales analysis in the portal (销售分析): for a distributor its own
sell-in (what it bought from the brand and its upstream) and sell-out
(what it delivered to its stores and downstream distributors) by month as
charts, with the totals and the top products; for a store its purchases
by month as a chart and a table; a period of 6, 12 or 24 months; and the
same as JSON.

The charts are inline SVG drawn here (no script): one horizontal bar per
month, its amount written beside it, readable on a 375 px phone.  Every
figure comes from an entry point of distributor.report.portal called with
the caller's own party (dms_sales_analysis, dms_store_purchases), never
from an id of the request; a period outside 6, 12 or 24 months is
refused by the entry point (400 invalid_input, the page its message)."""
from decimal import Decimal

from markupsafe import Markup, escape

from trytond.pool import Pool

from distributor_portal import schema as s
from distributor_portal.i18n import N_
from distributor_portal.render import money
from distributor_portal.web import api, page

from .portal_model import DEFAULT_MONTHS, MONTHS

MODEL = 'distributor.report.portal'
DISTRIBUTOR = {'distributor'}
STORE = {'store'}
PARTIES = {'distributor', 'store'}

# the chart's geometry (SVG user units: about CSS pixels on a phone)
CHART_WIDTH = 340
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 54
AMOUNT_WIDTH = 92
PADDING = 4


def _months(portal):
    """The period asked for (?months=), the default when none: an int when
    it reads as one, else the text (the entry point refuses both with its
    message)"""
    value = (portal.request.args.get('months') or '').strip()
    if not value:
        return DEFAULT_MONTHS
    try:
        return int(value)
    except ValueError:
        return value[:20]


def _model():
    return Pool().get(MODEL)


def _sales(portal, months):
    return _model().dms_sales_analysis(portal.party.id, months)


def _purchases(portal, months):
    return _model().dms_store_purchases(portal.party.id, months)


def bar_chart(rows, key, label, css='', title=None):
    """An inline SVG chart: one horizontal bar per row (row['month'] on the
    left, row[key] as an amount on the right), the bars scaled to the
    largest amount (negative amounts: an empty bar, the amount shown)"""
    values = [Decimal(str(r[key] or 0)) for r in rows]
    largest = max([v for v in values if v > 0] or [Decimal(0)])
    height = ROW_HEIGHT * len(rows) + 2 * PADDING
    room = CHART_WIDTH - LABEL_WIDTH - AMOUNT_WIDTH
    parts = [
        f'<svg class="chart {escape(css)}" viewBox="0 0 {CHART_WIDTH} '
        f'{height}" width="100%" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMinYMin meet">']
    if title:
        parts.append(f'<title>{escape(title)}</title>')
    for index, (row, value) in enumerate(zip(rows, values)):
        y = PADDING + index * ROW_HEIGHT
        width = (float(value / largest) * room
            if largest and value > 0 else 0)
        if value > 0:
            # a sale shows, however small
            width = max(width, 1.5)
        text_y = y + ROW_HEIGHT / 2 + 4
        bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
        month = escape(row['month'])
        amount = escape(money(value))
        parts.append(
            f'<g data-month="{month}" data-value="{escape(str(value))}">'
            f'<title>{month}: {amount}</title>'
            f'<text x="0" y="{text_y:.1f}" class="label">{month}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{bar_y:.1f}"'
            f' width="{width:.1f}" height="{BAR_HEIGHT}" rx="2"/>'
            f'<text x="{CHART_WIDTH}" y="{text_y:.1f}" class="amount" '
            f'text-anchor="end">{amount}</text></g>')
    parts.append('</svg>')
    return Markup(''.join(parts))


def _periods(portal, months):
    return [(m, portal._(N_("%(months)s months")) % {'months': m},
            m == months) for m in MONTHS]


@page('/analysis', kinds=PARTIES)
def analysis_page(portal):
    """My sales analysis: for a distributor its sell-in and sell-out by
    month (charts), totals and top products; for a store its purchases by
    month; ?months=6, 12 (the default) or 24"""
    months = _months(portal)
    if portal.kind == 'store':
        values = _purchases(portal, months)
        return portal.render('analysis_store.html', analysis=values,
            periods=_periods(portal, values['months']),
            chart=bar_chart(values['by_month'], 'amount',
                portal._(N_("Purchases by month")), 'purchases'))
    values = _sales(portal, months)
    return portal.render('analysis_sales.html', analysis=values,
        periods=_periods(portal, values['months']),
        sell_in_chart=bar_chart(values['by_month'], 'sell_in',
            portal._(N_("Sell-in by month")), 'sell-in'),
        sell_out_chart=bar_chart(values['by_month'], 'sell_out',
            portal._(N_("Sell-out by month")), 'sell-out'))


# The API --------------------------------------------------------------------

AMOUNT = {'type': 'string'}
QUANTITY = {'type': 'number'}
MONTH = {'type': 'string', 'pattern': r'^\d{4}-\d{2}$'}
MONTHS_QUERY = {'months': {'type': 'integer', 'enum': list(MONTHS),
        'default': DEFAULT_MONTHS}}
PARTY = s.obj(['id', 'name'], id=s.ID, name={'type': 'string'})
HEAD = {
    'party': PARTY, 'months': {'type': 'integer', 'enum': list(MONTHS)},
    'start': s.DATE, 'end': s.DATE,
    'currency': {'type': ['string', 'null']},
    }
SALES_SCHEMA = {
    'type': 'object',
    'properties': dict(HEAD,
        by_month={'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'month': MONTH, 'sell_in': AMOUNT,
                    'sell_in_quantity': QUANTITY, 'sell_out': AMOUNT,
                    'sell_out_quantity': QUANTITY},
                'required': ['month', 'sell_in', 'sell_out']}},
        totals={'type': 'object', 'properties': {
                'sell_in': AMOUNT, 'sell_in_quantity': QUANTITY,
                'sell_out': AMOUNT, 'sell_out_quantity': QUANTITY}},
        top_products={'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'product': {'type': 'object', 'properties': {
                            'id': s.ID,
                            'code': {'type': ['string', 'null']},
                            'name': {'type': 'string'}}},
                    'sell_in_quantity': QUANTITY, 'sell_in': AMOUNT,
                    'sell_out_quantity': QUANTITY, 'sell_out': AMOUNT},
                'required': ['product', 'sell_in', 'sell_out']}}),
    'required': ['party', 'months', 'start', 'end', 'by_month', 'totals',
        'top_products'],
    }
PURCHASES_SCHEMA = {
    'type': 'object',
    'properties': dict(HEAD,
        by_month={'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'month': MONTH, 'amount': AMOUNT, 'quantity': QUANTITY,
                    'orders': {'type': 'integer', 'minimum': 0}},
                'required': ['month', 'amount', 'quantity', 'orders']}},
        totals={'type': 'object', 'properties': {
                'amount': AMOUNT, 'quantity': QUANTITY,
                'orders': {'type': 'integer', 'minimum': 0}}}),
    'required': ['party', 'months', 'start', 'end', 'by_month', 'totals'],
    }


@api('/analysis/sales', kinds=DISTRIBUTOR, tag='analysis',
    query=MONTHS_QUERY, response=SALES_SCHEMA)
def api_sales_analysis(portal):
    """My sell-in (bought from the brand and my upstream) and sell-out
    (delivered to my stores and downstream distributors) by month over
    the last months (6, 12 or 24, this month included), the totals and
    the top 10 products"""
    return _sales(portal, _months(portal))


@api('/analysis/purchases', kinds=STORE, tag='analysis',
    query=MONTHS_QUERY, response=PURCHASES_SCHEMA)
def api_store_purchases(portal):
    """What my store bought from its distributors by month over the last
    months (6, 12 or 24, this month included): amount, quantity and
    orders, with the totals"""
    return _purchases(portal, _months(portal))
