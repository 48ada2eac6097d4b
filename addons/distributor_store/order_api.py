# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal's RPC API of the channel orders: each method is an entry
point (distributor.access.entry_point) that checks the caller's side of
the orders, then calls the document's own methods."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC

from distributor import validation
from distributor.access import entry_point
from distributor.exceptions import RecordNotFound

from .exceptions import StoreOrderError


class ChannelOrder(metaclass=PoolMeta):
    __name__ = 'distributor.channel.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_create_channel_order': RPC(readonly=False),
                'dms_approve_channel_orders': RPC(readonly=False),
                'dms_reject_channel_orders': RPC(readonly=False),
                'dms_deliver_channel_orders': RPC(readonly=False),
                'dms_receive_channel_order': RPC(readonly=False),
                'dms_cancel_channel_orders': RPC(readonly=False),
                })

    @classmethod
    def _dms_check_side(cls, party, orders, side):
        "The orders must be party's, as seller or as buyer"
        for order in orders:
            if getattr(order, side) != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=order.id))
        return orders

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store'],
            'buyer': ['distributor', 'store', 'customer']})
    def dms_create_channel_order(cls, party, lines, buyer=None,
            submit=False, comment=None):
        """Create a channel order; returns its id.

        A store orders from its distributor; a distributor orders from its
        upstream (no buyer) or enters an order for its own store, terminal
        customer or downstream distributor (buyer).  lines are dicts with
        product (id or code), quantity and optionally lot."""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('distributor.channel.order.line')
        field = gettext('distributor_store.msg_field_lines')
        lines = validation.lines(lines, field)
        for values in lines:
            validation.keys(values, field, {'product', 'lot', 'quantity'})
        comment = validation.text(comment, gettext(
                'distributor_store.msg_field_comment'))
        submit = validation.flag(submit, 'submit')
        if party.is_store:
            buyer, seller = party, party.store_distributor
        elif buyer is None:
            buyer, seller = party, party.upstream
            if seller is None:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_no_upstream',
                        distributor=party.rec_name))
        else:
            seller = party
        order = cls(seller=seller, buyer=buyer, comment=comment,
            company=cls.default_company(), currency=cls.default_currency(),
            date=cls.default_date(), buyer_kind=cls.kind_of(buyer))
        resolved = Product.dms_resolve_products_lots(
            [(v.get('product'), v.get('lot')) for v in lines])
        order.lines = [Line(product=product, lot=lot,
                quantity=validation.quantity(values.get('quantity'),
                    product.rec_name, unit=product.default_uom))
            for values, (product, lot) in zip(lines, resolved)]
        # the rules are checked before anything is written
        order.check_parties()
        order.check_lines()
        order.save()
        if submit:
            cls.submit([order])
        return order.id

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'orders': None})
    def dms_approve_channel_orders(cls, party, orders):
        "The seller approves its submitted orders"
        cls.approve(cls._dms_check_side(party, orders, 'seller'))

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'orders': None})
    def dms_reject_channel_orders(cls, party, orders, reason):
        "The seller rejects its submitted orders with a reason"
        cls.reject_orders(cls._dms_check_side(party, orders, 'seller'),
            reason)

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'orders': None})
    def dms_deliver_channel_orders(cls, party, orders):
        "The seller delivers its approved orders from its stock"
        cls.deliver(cls._dms_check_side(party, orders, 'seller'))

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        record={'order': None})
    def dms_receive_channel_order(cls, party, order, quantities=None,
            scans=None):
        """The buyer confirms the receipt: quantities per line id, or the
        scanned codes (see product.product dms_resolve_scans) that are
        counted per product; lines not counted were not received"""
        Product = Pool().get('product.product')
        order, = cls._dms_check_side(party, [order], 'buyer')
        if scans is not None:
            counted = defaultdict(float)
            for scan in Product.dms_resolve_scans(scans):
                counted[scan['product']] += scan['quantity']
            quantities = {}
            for line in order.lines:
                take = min(counted[line.product.id],
                    line.delivered_quantity or 0)
                quantities[line.id] = take
                counted[line.product.id] -= take
        cls.receive_orders([order], quantities)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        records={'orders': None})
    def dms_cancel_channel_orders(cls, party, orders, reason):
        "The buyer cancels its orders before the seller approves them"
        orders = cls._dms_check_side(party, orders, 'buyer')
        cls.dms_check_state(orders, {'draft', 'submitted'})
        cls.cancel_orders(orders, reason)
