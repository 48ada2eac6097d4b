# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Sales analytics of a distributor (销售分析): its sell-in (what it buys:
its orders to the brand and the channel orders it places upstream) and its
sell-out (the channel orders it delivers to its stores, customers and
downstream distributors), by month over the last twelve months, by product
and by buyer.

The figures are SQL aggregates over the caller's own documents (filtered
on ``portal.party``, never on a party of the request): one query per
source and grouping, whatever the number of orders.  Amounts are line
amounts (quantity × net unit price, rounded like the lines), before the
order-level discounts of channel orders; returns to the brand count
negative."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Cast, Literal
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce
from sql.functions import Round

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.access import trusted

from .i18n import N_
from .web import PortalError, api, page

# sale.sale channel states after an approval (distributor_sale.APPROVED)
SALE_STATES = ('approved', 'shipped', 'received', 'done')
# channel order states once the goods left the seller
DELIVERED_STATES = ('delivered', 'received', 'done')
GROUPINGS = ('month', 'product', 'store')
MONTHS = 12
CENT = Decimal('0.01')
ZERO = Decimal(0)


def _decimal(value):
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT)


def month_start(date, back=0):
    "The first day of date's month, back months earlier"
    index = date.year * 12 + date.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def window(today=None, months=MONTHS):
    """(start, end): the first day of the month months - 1 back and the
    first day of next month"""
    today = today or Pool().get('ir.date').today()
    return month_start(today, months - 1), month_start(today, -1)


def _key(value):
    "The month (YYYY-MM) of a date column's value (date or ISO text)"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime('%Y-%m')
    return str(value)[:7]


def _sale_query(party, start, end, group):
    """sell-in from the brand: the distributor's approved sale.sale
    orders dated within [start, end), grouped by group (a column name:
    date or product); rows (key, quantity, amount, orders)"""
    pool = Pool()
    sale = pool.get('sale.sale').__table__()
    line = pool.get('sale.line').__table__()
    amount = Round(Cast(line.quantity, 'NUMERIC') * line.unit_price, 2)
    column = sale.sale_date if group == 'date' else line.product
    return sale.join(line, condition=line.sale == sale.id).select(
        column, Sum(line.quantity), Sum(amount), Count(sale.id, distinct=True),
        where=(sale.party == party.id)
        & sale.channel_state.in_(list(SALE_STATES))
        & (line.type == 'line')
        & (sale.sale_date >= start) & (sale.sale_date < end),
        group_by=[column])


def _order_query(party, side, start, end, group):
    """channel orders delivered within [start, end) where party is side
    (seller: sell-out, buyer: sell-in), grouped by group (date, product
    or buyer); rows (key, quantity, amount, orders)"""
    pool = Pool()
    order = pool.get('distributor.channel.order').__table__()
    line = pool.get('distributor.channel.order.line').__table__()
    net = Round(line.unit_price * (Literal(1) - Coalesce(line.discount, 0)), 4)
    amount = Round(Cast(line.quantity, 'NUMERIC') * net, 2)
    column = {
        'date': order.delivered_date,
        'product': line.product,
        'buyer': order.buyer,
        }[group]
    return order.join(line, condition=line.order == order.id).select(
        column, Sum(line.quantity), Sum(amount),
        Count(order.id, distinct=True),
        where=(getattr(order, side) == party.id)
        & order.state.in_(list(DELIVERED_STATES))
        & (order.delivered_date >= start) & (order.delivered_date < end),
        group_by=[column])


def _rows(query):
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return [(key, float(quantity or 0), _decimal(amount), orders)
        for key, quantity, amount, orders in cursor]


def totals(party, start, end):
    """{'sell_in': amount, 'sell_out': amount} of party within
    [start, end): three aggregate queries"""
    sell_in = sum((a for _, _, a, _ in _rows(
                _sale_query(party, start, end, 'product'))), ZERO)
    sell_in += sum((a for _, _, a, _ in _rows(
                _order_query(party, 'buyer', start, end, 'product'))), ZERO)
    sell_out = sum((a for _, _, a, _ in _rows(
                _order_query(party, 'seller', start, end, 'product'))),
        ZERO)
    return {'sell_in': sell_in, 'sell_out': sell_out}


def by_month(party, today=None):
    "[{month, sell_in, sell_out}] of the last twelve months, oldest first"
    start, end = window(today)
    months = [month_start(end, back).strftime('%Y-%m')
        for back in range(MONTHS, 0, -1)]
    sell_in = defaultdict(Decimal)
    sell_out = defaultdict(Decimal)
    for query, target in [
            (_sale_query(party, start, end, 'date'), sell_in),
            (_order_query(party, 'buyer', start, end, 'date'), sell_in),
            (_order_query(party, 'seller', start, end, 'date'), sell_out),
            ]:
        for key, _, amount, _ in _rows(query):
            target[_key(key)] += amount
    return [{'month': m, 'sell_in': sell_in.get(m, ZERO),
            'sell_out': sell_out.get(m, ZERO)} for m in months]


def by_product(party, today=None):
    """[{product, sell_in_quantity, sell_in, sell_out_quantity,
    sell_out}] of the last twelve months, the largest first"""
    Product = Pool().get('product.product')
    start, end = window(today)
    values = defaultdict(lambda: {'sell_in_quantity': 0.0, 'sell_in': ZERO,
            'sell_out_quantity': 0.0, 'sell_out': ZERO})
    for query, side in [
            (_sale_query(party, start, end, 'product'), 'sell_in'),
            (_order_query(party, 'buyer', start, end, 'product'), 'sell_in'),
            (_order_query(party, 'seller', start, end, 'product'),
                'sell_out'),
            ]:
        for product, quantity, amount, _ in _rows(query):
            if product is None:
                continue
            values[product][side] += amount
            values[product][side + '_quantity'] += quantity
    # the products of the caller's own orders
    with trusted():
        products = {p.id: {'id': p.id, 'code': p.code, 'name': p.rec_name}
            for p in Product.browse(list(values))}
    rows = [{'product': products[i], **v} for i, v in values.items()]
    rows.sort(key=lambda r: (-(r['sell_in'] + r['sell_out']),
            r['product']['name']))
    return rows


def by_store(party, today=None):
    """[{party, orders, quantity, sell_out}]: the sell-out of the last
    twelve months by buyer (stores, customers, downstream distributors),
    the largest first"""
    Party = Pool().get('party.party')
    start, end = window(today)
    rows = _rows(_order_query(party, 'seller', start, end, 'buyer'))
    # the buyers of the caller's own deliveries
    with trusted():
        parties = {p.id: p for p in Party.browse([r[0] for r in rows])}
        result = [{
                'party': {'id': b, 'name': parties[b].rec_name,
                    'code': parties[b].code,
                    'store': bool(parties[b].is_store)},
                'orders': orders,
                'quantity': quantity,
                'sell_out': amount,
                } for b, quantity, amount, orders in rows]
    result.sort(key=lambda r: (-r['sell_out'], r['party']['name']))
    return result


def _by(portal):
    by = portal.request.args.get('by', 'month')
    if by not in GROUPINGS:
        from http import HTTPStatus

        from trytond.i18n import gettext
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            gettext('distributor_portal.msg_invalid_body',
                detail='by: month, product or store'))
    return by


_FUNCTIONS = {'month': by_month, 'product': by_product, 'store': by_store}


def _currency(portal):
    company = Transaction().context.get('company')
    if company:
        Company = Pool().get('company.company')
        with trusted():
            return Company(company).currency.code
    return None


@page('/sales', kinds={'distributor'})
def sales_page(portal):
    "Sell-in and sell-out by month, product and store"
    by = _by(portal)
    start, end = window()
    return portal.render('sales.html', by=by,
        rows=_FUNCTIONS[by](portal.party),
        start=start, end=end - dt.timedelta(days=1),
        currency=_currency(portal),
        tabs=[('month', portal._(N_("By month"))),
            ('product', portal._(N_("By product"))),
            ('store', portal._(N_("By store")))])


@api('/sales', kinds={'distributor'}, tag='sales',
    query={'by': {'type': 'string', 'enum': list(GROUPINGS),
            'default': 'month'}})
def api_sales(portal):
    """Sell-in and sell-out of the last twelve months, by month, product
    or store (buyer)"""
    by = _by(portal)
    start, end = window()
    return {'by': by, 'start': start, 'end': end - dt.timedelta(days=1),
        'currency': _currency(portal),
        'rows': _FUNCTIONS[by](portal.party)}
