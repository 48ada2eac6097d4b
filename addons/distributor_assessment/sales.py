# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The channel's sales as SQL, read by targets, KPIs and the analyses of
distributor_report: one definition of sell-in, sell-out and of the
territory tree's roll-up, so that every figure agrees.

- **Sell-in** (brand → distributor): the lines of the brand's confirmed,
  processing and done sales to a distributor, dated by the sale date;
  returns count negative (their quantities are).
- **Sell-out** (distributor → store, sub-distributor, terminal customer):
  the delivered, received and done channel orders, dated by delivery, for
  what was received (or else delivered), net of the line discount.
- **Territory roll-up**: a distributor belongs to its territories and to
  every territory above them, once per territory however many of its
  territories lie below it."""
from sql import Cast, Literal, Union
from sql.conditionals import Coalesce
from sql.functions import Round

from trytond.model import fields
from trytond.pool import Pool

from distributor.territory import KINDS

SELL_IN_STATES = ['confirmed', 'processing', 'done']
SELL_OUT_STATES = ['delivered', 'received', 'done']


def _amount(quantity, price):
    "quantity × price as a NUMERIC rounded to cents, on both backends"
    numeric = fields.Numeric("Amount").sql_type().base
    return Round(Cast(quantity, numeric) * Coalesce(price, 0), 2)


def sell_in_lines():
    """The sell-in lines: columns id (the sale line), sale, company,
    date, distributor, product, quantity, amount"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Line = pool.get('sale.line')
    Party = pool.get('party.party')
    sale = Sale.__table__()
    line = Line.__table__()
    party = Party.__table__()
    return (line
        .join(sale, condition=line.sale == sale.id)
        .join(party, condition=sale.party == party.id)
        .select(
            line.id.as_('id'),
            sale.id.as_('sale'),
            sale.company.as_('company'),
            sale.sale_date.as_('date'),
            sale.party.as_('distributor'),
            line.product.as_('product'),
            Coalesce(line.quantity, 0).as_('quantity'),
            _amount(Coalesce(line.quantity, 0), line.unit_price).as_(
                'amount'),
            where=sale.state.in_(SELL_IN_STATES)
            & (line.type == 'line')
            & (line.product != None)  # noqa: E711
            & (party.is_distributor == Literal(True))))


def sell_out_lines():
    """The sell-out lines: columns id (the channel order line), order,
    company, date, distributor (the seller), buyer, buyer_kind, product,
    quantity, amount"""
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Line = pool.get('distributor.channel.order.line')
    order = Order.__table__()
    line = Line.__table__()
    quantity = Coalesce(line.received_quantity, line.delivered_quantity, 0)
    return (line
        .join(order, condition=line.order == order.id)
        .select(
            line.id.as_('id'),
            order.id.as_('order'),
            order.company.as_('company'),
            order.delivered_date.as_('date'),
            order.seller.as_('distributor'),
            order.buyer.as_('buyer'),
            order.buyer_kind.as_('buyer_kind'),
            line.product.as_('product'),
            quantity.as_('quantity'),
            _amount(quantity, line.unit_price
                * (Literal(1) - Coalesce(line.discount, 0))).as_('amount'),
            where=order.state.in_(SELL_OUT_STATES)))


def territory_closure():
    """(ancestor, territory) pairs of the territory tree: each territory
    with itself and with every territory above it (the tree is at most
    as deep as the territory kinds)"""
    Territory = Pool().get('distributor.territory')
    queries = []
    for depth in range(len(KINDS)):
        t = Territory.__table__()
        from_, top = t, t
        for _ in range(depth):
            parent = Territory.__table__()
            from_ = from_.join(parent, condition=top.parent == parent.id)
            top = parent
        queries.append(from_.select(
                top.id.as_('ancestor'), t.id.as_('territory')))
    return Union(*queries, all_=True)


def distributor_territories():
    """(distributor, territory) pairs: each distributor with each of its
    territories and every territory above them, once per pair"""
    PartyTerritory = Pool().get('party.party-distributor.territory')
    party_territory = PartyTerritory.__table__()
    closure = territory_closure()
    return (party_territory
        .join(closure, condition=party_territory.territory
            == closure.territory)
        .select(
            party_territory.party.as_('distributor'),
            closure.ancestor.as_('territory'),
            group_by=[party_territory.party, closure.ancestor]))
