# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The home page (首页): what waits for the caller and this month's figures.

For a distributor: the channel orders of its stores, customers and
downstream distributors to approve, its own orders shipped (by the brand
or by its upstream distributor) and waiting for its receipt, its open
stock alerts, its unread messages and this month's purchases (sell-in)
and deliveries (sell-out).  For a store: its orders delivered and waiting
for its receipt, its unread messages and this month's purchases.

Counts and sums only, as the portal identity (its record rules) and
filtered on the caller's own party: a handful of queries whatever the
number of documents."""
from trytond.pool import Pool

from . import sales
from .web import page, api

SHORT = 5


def _orders(records):
    return [{
            'id': o.id,
            'number': o.number,
            'date': o.date,
            'buyer': o.buyer.rec_name,
            'seller': o.seller.rec_name,
            'state': o.state,
            } for o in records]


def _sales(records):
    return [{
            'id': s.id,
            'number': s.number,
            'date': s.sale_date,
            'state': s.channel_state,
            } for s in records]


def summary(portal):
    "The figures and short lists of the home page"
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Message = pool.get('distributor.message')
    Date = pool.get('ir.date')
    party = portal.party
    result = {'kind': portal.kind}

    def count_and_list(Model, domain, order=None):
        return (Model.search_count(domain),
            Model.search(domain, limit=SHORT, order=order))

    if portal.kind == 'distributor':
        Sale = pool.get('sale.sale')
        Alert = pool.get('distributor.stock.alert')
        domain = [('seller', '=', party.id), ('state', '=', 'submitted')]
        count, records = count_and_list(Order, domain,
            order=[('date', 'ASC'), ('id', 'ASC')])
        result['to_approve'] = {'count': count, 'items': _orders(records)}
        domain = [('party', '=', party.id), ('channel_state', '=', 'shipped')]
        count, records = count_and_list(Sale, domain)
        result['sales_to_receive'] = {
            'count': count, 'items': _sales(records)}
        alerts = Alert.search([
                ('party', '=', party.id),
                ('state', '=', 'open'),
                ], limit=SHORT)
        result['stock_alerts'] = {
            'count': Alert.search_count([
                    ('party', '=', party.id),
                    ('state', '=', 'open'),
                    ]),
            'items': [{
                    'id': a.id,
                    'product': a.product.rec_name,
                    'kind': a.kind,
                    'quantity': a.quantity,
                    'date': a.date,
                    } for a in alerts],
            }
    domain = [('buyer', '=', party.id), ('state', '=', 'delivered')]
    count, records = count_and_list(Order, domain)
    result['orders_to_receive'] = {'count': count, 'items': _orders(records)}
    result['unread'] = Message.search_count([
            ('party', '=', party.id),
            ('read_at', '=', None),
            ])
    today = Date.today()
    start, end = sales.month_start(today), sales.month_start(today, -1)
    result['month'] = {'start': start, **sales.totals(party, start, end)}
    if portal.kind != 'distributor':
        result['month'].pop('sell_out')
    return result


@page('/')
def home_page(portal):
    "What waits for the caller, and this month's figures"
    data = summary(portal)
    return portal.render('home.html', home=data, unread=data['unread'])


@api('/home', tag='home')
def api_home(portal):
    """The caller's counts: orders to approve or to receive, stock alerts,
    unread messages, this month's sell-in and sell-out"""
    return summary(portal)
