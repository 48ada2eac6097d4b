# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Channel orders in stock: their lines are the origin of the moves they
make, and they count in the distributors' stock alerts."""
from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS


class Alert(metaclass=PoolMeta):
    __name__ = 'distributor.stock.alert'

    @classmethod
    def _get_orders(cls):
        return super()._get_orders() + ['distributor.channel.order']

    @classmethod
    def _dms_upstream_order(cls, party, lines):
        "A draft channel order of the distributor to its upstream"
        Order = Pool().get('distributor.channel.order')
        return Order(Order.dms_create_channel_order(party, lines,
                comment=gettext(
                    'distributor_stock.msg_replenishment_comment')))

    @classmethod
    def _on_order(cls, parties):
        """Channel orders to the upstream count as on order too, from
        their submission to their delivery (then the goods wait in the
        buyer's transit, counted there)"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        result = super()._on_order(parties)
        order = Order.__table__()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(
                [p.id for p in parties], MAX_QUERY_PARAMS):
            cursor.execute(*line
                .join(order, condition=line.order == order.id)
                .select(order.buyer, line.product, Sum(line.quantity),
                    where=reduce_ids(order.buyer, sub_ids)
                    & order.state.in_(['submitted', 'approved']),
                    group_by=[order.buyer, line.product]))
            for party_id, product_id, quantity in cursor:
                result[(party_id, product_id)] += quantity
        return result


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['distributor.channel.order.line']
