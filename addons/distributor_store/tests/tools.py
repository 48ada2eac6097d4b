# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Builders for the tests of stores and channel orders (pool based)"
import datetime as dt
from contextlib import contextmanager
from types import SimpleNamespace

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import create_distributor
from distributor_sale.tests.tools import sale_network
from distributor_stock.tests.tools import move_stock


def create_store(name, distributor, territory, **values):
    Party = Pool().get('party.party')
    store, = Party.create([{
                'name': name,
                'is_store': True,
                'store_distributor': distributor.id,
                'store_territory': territory.id,
                **values,
                }])
    return store


@contextmanager
def store_network():
    """sale_network plus D3, a county distributor below D1 in Nanjing,
    stores S1 (Nanjing) and S2 (Suzhou) of D1, S3 (Hangzhou) of D2, and
    a terminal customer C1 of D1"""
    pool = Pool()
    Party = pool.get('party.party')
    with sale_network() as n:
        t = n.territories
        d3 = create_distributor('D3', n.tiers[2], [t.nj], upstream=n.d1,
            authorized_categories=[('add', [n.products.drinks.id])])
        s1 = create_store("Store Nanjing", n.d1, t.nj, store_size='small',
            cooperation_type='direct')
        s2 = create_store("Store Suzhou", n.d1, t.sz, store_size='large',
            cooperation_type='franchise')
        s3 = create_store("Store Hangzhou", n.d2, t.hz, store_size='small')
        c1, = Party.create([{
                    'name': "Customer Wang",
                    'is_terminal_customer': True,
                    'customer_distributor': n.d1.id,
                    'customer_store': s1.id,
                    }])
        yield SimpleNamespace(**vars(n), d3=d3, s1=s1, s2=s2, s3=s3, c1=c1)


def channel_order(seller, buyer, lines, submit=True):
    "A channel order of buyer to seller; lines: [(product, quantity)]"
    Order = Pool().get('distributor.channel.order')
    order, = Order.create([{
                'seller': seller.id,
                'buyer': buyer.id,
                'lines': [('create', [{
                                'product': p.id, 'quantity': q}
                            for p, q in lines])],
                }])
    if submit:
        Order.submit([order])
    return Order(order.id)


def delivered_order(seller, buyer, lines, days_ago=0):
    """A channel order submitted, approved and delivered (dated days_ago
    days back), with the stock it needs put in the seller's storage"""
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Move = pool.get('stock.move')
    for product, quantity in lines:
        move_stock(seller, product, quantity, days_ago=days_ago)
    order = channel_order(seller, buyer, lines)
    Order.approve([order])
    Order.deliver([order])
    order = Order(order.id)
    if days_ago:
        date = pool.get('ir.date').today() - dt.timedelta(days=days_ago)
        Order.write([order], {'delivered_date': date})
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*move.update([move.effective_date], [date],
                where=move.id.in_([m.id for m in order.moves])))
    return Order(order.id)
