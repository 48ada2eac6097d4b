# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The channel rules of a channel order, one method each: check_parties
(the anti-diversion rules, 窜货), check_lines and set_prices.  The
workflow (order.py), the portal API (order_api.py) and store
replenishment call them."""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from distributor import validation

from .exceptions import DiversionError, StoreOrderError
from .order import ZERO


class ChannelOrder(metaclass=PoolMeta):
    __name__ = 'distributor.channel.order'

    def check_parties(self):
        """The anti-diversion rules (窜货): the seller may trade and the
        buyer is its own store (inside its territories), its own terminal
        customer or its own downstream distributor"""
        seller, buyer = self.seller, self.buyer
        label = getattr(self, 'number', None) or ''
        refusal = seller.trade_refusal()
        if refusal:
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_seller_frozen',
                    order=label, reason=refusal))
        kind = self.kind_of(buyer)
        if kind == 'store':
            if buyer.store_distributor != seller:
                raise DiversionError(gettext(
                        'distributor_store.msg_diversion_other_store',
                        order=label, store=buyer.rec_name,
                        distributor=seller.rec_name,
                        owner=buyer.store_distributor.rec_name))
            if not buyer.store_in_area():
                raise DiversionError(gettext(
                        'distributor_store.msg_diversion_territory',
                        order=label, store=buyer.rec_name,
                        distributor=seller.rec_name,
                        territory=buyer.store_territory.rec_name))
            if buyer.store_state != 'active':
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_store_closed',
                        order=label, store=buyer.rec_name))
        elif kind == 'customer':
            if buyer.customer_distributor != seller:
                raise DiversionError(gettext(
                        'distributor_store.msg_diversion_not_downstream',
                        order=label, buyer=buyer.rec_name,
                        distributor=seller.rec_name))
        elif kind == 'distributor':
            if buyer.upstream != seller:
                raise DiversionError(gettext(
                        'distributor_store.msg_diversion_not_downstream',
                        order=label, buyer=buyer.rec_name,
                        distributor=seller.rec_name))
            refusal = buyer.trade_refusal()
            if refusal:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_buyer_frozen',
                        order=label, reason=refusal))
            if not buyer.distributor_storage:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_buyer_no_stock',
                        order=label, distributor=buyer.rec_name))
        else:
            raise DiversionError(gettext(
                    'distributor_store.msg_diversion_not_downstream',
                    order=label, buyer=buyer.rec_name,
                    distributor=seller.rec_name))

    def check_lines(self):
        """Lines present (at most the configured number), quantities
        positive, products the seller (and a distributor buyer) may
        sell"""
        Party = Pool().get('party.party')
        label = getattr(self, 'number', None) or ''
        if not self.lines:
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_no_lines',
                    order=label))
        maximum = validation.limits().max_lines
        if len(self.lines) > maximum:
            raise StoreOrderError(gettext(
                    'distributor_store.msg_order_too_many_lines',
                    order=label, maximum=maximum))
        parties = [self.seller] + (
            [self.buyer] if self.kind_of(self.buyer) == 'distributor'
            else [])
        authorized = Party.dms_authorized_products(
            parties, [l.product for l in self.lines])
        for line in self.lines:
            if line.quantity is None or not line.quantity > 0:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_quantity',
                        order=label, product=line.product.rec_name,
                        quantity=line.quantity))
            lot = getattr(line, 'lot', None)
            if lot and lot.product != line.product:
                raise StoreOrderError(gettext(
                        'distributor_store.msg_order_lot_product',
                        lot=lot.rec_name,
                        product=line.product.rec_name))
            for party in parties:
                if line.product.id not in authorized[party.id]:
                    raise StoreOrderError(gettext(
                            'distributor_store.msg_order_unauthorized',
                            order=label,
                            product=line.product.rec_name,
                            distributor=party.rec_name))

    def set_prices(self):
        """Price the lines from the seller's store price list and check
        the brand's bounds"""
        pool = Pool()
        Price = pool.get('distributor.store.price')
        Bound = pool.get('distributor.store.price.bound')
        products = {l.product for l in self.lines}
        prices = Price.prices_for(self.seller, products)
        bounds = Bound.bounds_for(self.seller, products)
        for line in self.lines:
            if line.promotion_gift:
                continue
            price = prices[line.product.id]
            Bound.check_price(self.seller, line.product, price, bounds)
            line.base_price = price
            line.unit_price = price
            line.discount = ZERO
            line.promotion = None
