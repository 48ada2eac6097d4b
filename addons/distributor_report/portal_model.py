# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The entry points of the portal's analysis pages (portal_analysis.py):
a distributor's own sell-in and sell-out by month with its top products,
a store's purchases by month.

The figures are the one definition of sell-in and sell-out
(distributor_assessment.sales): one SQL aggregate per chart, whatever the
number of lines.  A distributor's sell-in is what it bought: the brand's
sales to it and the channel orders its upstream delivered to it; its
sell-out the channel orders it delivered (to its stores, customers and
downstream distributors); a store's purchases the channel orders
delivered to it."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Union
from sql.aggregate import Count, Sum

from trytond.i18n import gettext
from trytond.model import ModelView
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor.access import entry_point
from distributor.exceptions import InputError, RecordNotFound
from distributor_assessment import sales
from distributor_portal.sales import _decimal, month_start
from distributor_portal.sales import _key as _month_key

from .analysis import period_start

# the periods a page offers (months back, the current one included)
MONTHS = (6, 12, 24)
DEFAULT_MONTHS = 12
# the products listed (the largest sell-in + sell-out first)
TOP_PRODUCTS = 10
CENT = Decimal('0.01')
ZERO = Decimal('0.00')


def _quantity(value):
    return float(value or 0)


def window(months, today=None):
    """(start, end, [YYYY-MM]): the first day of the month months - 1
    back, the first day of the next month (excluded) and the months
    between, oldest first"""
    today = today or Pool().get('ir.date').today()
    start = month_start(today, months - 1)
    end = month_start(today, -1)
    keys = [month_start(today, back).strftime('%Y-%m')
        for back in range(months - 1, -1, -1)]
    return start, end, keys


def check_months(months):
    "months as one of MONTHS, else the InputError naming them"
    if (isinstance(months, bool) or not isinstance(months, int)
            or months not in MONTHS):
        raise InputError(gettext('distributor_report.msg_portal_months',
                months=str(months)[:20],
                allowed=', '.join(str(m) for m in MONTHS)))
    return months


def _own(party):
    """Refuse a portal account asking for a party other than its own (its
    stores and downstream distributors are in its reach elsewhere, their
    figures are theirs): the answer of a missing party"""
    from distributor_account.statement import own_party
    own = own_party()
    if own is not None and own != party.id:
        raise RecordNotFound(gettext('distributor.msg_record_not_found',
                model=party.__names__()['model'], id=party.id))


def _company_filter(lines):
    company = Transaction().context.get('company')
    if company:
        return lines.company == company
    return Literal(True)


def _currency():
    company = Transaction().context.get('company')
    if company:
        Company = Pool().get('company.company')
        return Company(company).currency.code
    return None


def _execute(query):
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return cursor.fetchall()


def _bought(party, start, end):
    """(date, product, quantity, amount) of what party bought within
    [start, end): the brand's sales to it and its upstream's deliveries"""
    sell_in = sales.sell_in_lines()
    upstream = sales.sell_out_lines()
    return Union(
        sell_in.select(sell_in.date.as_('date'),
            sell_in.product.as_('product'),
            sell_in.quantity.as_('quantity'), sell_in.amount.as_('amount'),
            where=(sell_in.distributor == party.id)
            & (sell_in.date >= start) & (sell_in.date < end)
            & _company_filter(sell_in)),
        upstream.select(upstream.date.as_('date'),
            upstream.product.as_('product'),
            upstream.quantity.as_('quantity'),
            upstream.amount.as_('amount'),
            where=(upstream.buyer == party.id)
            & (upstream.date >= start) & (upstream.date < end)
            & _company_filter(upstream)),
        all_=True)


def _sold(party, start, end):
    "(date, product, quantity, amount) of what party delivered"
    lines = sales.sell_out_lines()
    return lines.select(lines.date.as_('date'),
        lines.product.as_('product'),
        lines.quantity.as_('quantity'), lines.amount.as_('amount'),
        where=(lines.distributor == party.id)
        & (lines.date >= start) & (lines.date < end)
        & _company_filter(lines))


def _by_month(lines, keys):
    """[{month, quantity, amount}] of lines (a query with date, quantity,
    amount) for each month of keys: one aggregate"""
    month = period_start(lines.date, 'month')
    values = {}
    for key, quantity, amount in _execute(lines.select(
                month.as_('month'), Sum(lines.quantity), Sum(lines.amount),
                group_by=[month])):
        values[_month_key(key)] = (_quantity(quantity), _decimal(amount))
    return [{'month': k,
            'quantity': values.get(k, (0.0, ZERO))[0],
            'amount': values.get(k, (0.0, ZERO))[1]} for k in keys]


def _string(values):
    "The Decimals of rows as strings (JSON-ready)"
    for row in values:
        for key, value in row.items():
            if isinstance(value, Decimal):
                row[key] = str(value)
    return values


class PortalAnalysis(ModelView):
    """Portal Analysis

    The entry points of the portal's analysis pages"""
    __name__ = 'distributor.report.portal'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_sales_analysis': RPC(),
                'dms_store_purchases': RPC(),
                })

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_sales_analysis(cls, party, months=DEFAULT_MONTHS):
        """The sell-in and sell-out of party (a portal account: its own
        party only) by month over the last months (6, 12 or 24, the
        current one included), their totals and the top products"""
        pool = Pool()
        Product = pool.get('product.product')
        months = check_months(months)
        _own(party)
        start, end, keys = window(months)
        bought = _bought(party, start, end)
        sold = _sold(party, start, end)
        sell_in = _by_month(bought, keys)
        sell_out = _by_month(sold, keys)

        # the top products: one aggregate of both sides
        lines = Union(
            bought.select(bought.product.as_('product'),
                bought.quantity.as_('in_quantity'),
                bought.amount.as_('in_amount'),
                Literal(0).as_('out_quantity'),
                Literal(0).as_('out_amount')),
            sold.select(sold.product.as_('product'),
                Literal(0).as_('in_quantity'), Literal(0).as_('in_amount'),
                sold.quantity.as_('out_quantity'),
                sold.amount.as_('out_amount')),
            all_=True)
        total = Sum(lines.in_amount) + Sum(lines.out_amount)
        rows = _execute(lines.select(lines.product,
                Sum(lines.in_quantity), Sum(lines.in_amount),
                Sum(lines.out_quantity), Sum(lines.out_amount),
                group_by=[lines.product],
                order_by=[total.desc, lines.product.asc],
                limit=TOP_PRODUCTS))
        products = {p.id: p for p in Product.browse([r[0] for r in rows])}
        top = [{
                'product': {'id': product, 'code': products[product].code,
                    'name': products[product].rec_name},
                'sell_in_quantity': _quantity(in_quantity),
                'sell_in': _decimal(in_amount),
                'sell_out_quantity': _quantity(out_quantity),
                'sell_out': _decimal(out_amount),
                } for product, in_quantity, in_amount, out_quantity,
            out_amount in rows]
        return {
            'party': {'id': party.id, 'name': party.rec_name},
            'months': months,
            'start': start.isoformat(),
            'end': (end - dt.timedelta(days=1)).isoformat(),
            'currency': _currency(),
            'by_month': _string([{
                        'month': i['month'],
                        'sell_in': i['amount'],
                        'sell_in_quantity': i['quantity'],
                        'sell_out': o['amount'],
                        'sell_out_quantity': o['quantity'],
                        } for i, o in zip(sell_in, sell_out)]),
            'totals': _string([{
                        'sell_in': sum((r['amount'] for r in sell_in), ZERO),
                        'sell_in_quantity': sum(
                            r['quantity'] for r in sell_in),
                        'sell_out': sum((r['amount'] for r in sell_out),
                            ZERO),
                        'sell_out_quantity': sum(
                            r['quantity'] for r in sell_out),
                        }])[0],
            'top_products': _string(top),
            }

    @classmethod
    @entry_point(parties={'party': ['store']})
    def dms_store_purchases(cls, party, months=DEFAULT_MONTHS):
        """What the store party (a portal account: its own party only)
        bought from its distributors by month over the last months (6, 12
        or 24, the current one included): amount, quantity and orders"""
        months = check_months(months)
        _own(party)
        start, end, keys = window(months)
        lines = sales.sell_out_lines()
        month = period_start(lines.date, 'month')
        values = {}
        for key, quantity, amount, orders in _execute(lines.select(
                    month.as_('month'), Sum(lines.quantity),
                    Sum(lines.amount), Count(lines.order, distinct=True),
                    where=(lines.buyer == party.id)
                    & (lines.date >= start) & (lines.date < end)
                    & _company_filter(lines),
                    group_by=[month])):
            values[_month_key(key)] = (_quantity(quantity),
                _decimal(amount), int(orders or 0))
        by_month = [{
                'month': k,
                'quantity': values.get(k, (0.0, ZERO, 0))[0],
                'amount': values.get(k, (0.0, ZERO, 0))[1],
                'orders': values.get(k, (0.0, ZERO, 0))[2],
                } for k in keys]
        totals = {
            'amount': sum((r['amount'] for r in by_month), ZERO),
            'quantity': sum(r['quantity'] for r in by_month),
            'orders': sum(r['orders'] for r in by_month),
            }
        return {
            'party': {'id': party.id, 'name': party.rec_name},
            'months': months,
            'start': start.isoformat(),
            'end': (end - dt.timedelta(days=1)).isoformat(),
            'currency': _currency(),
            'by_month': _string(by_month),
            'totals': _string([totals])[0],
            }
