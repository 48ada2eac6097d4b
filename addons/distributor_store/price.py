# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The brand's store price bounds and the distributors' store price lists"
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.rpc import RPC

from distributor import validation
from distributor.access import entry_point, resolve

from .exceptions import StorePriceError

PRICE_DIGITS = (16, 4)


class PriceBound(ModelSQL, ModelView):
    """Store Price Bound

    The brand's guide price of a product at stores and the range a
    distributor's store price must stay in; one per product for the whole
    network, and more specific ones per territory."""
    __name__ = 'distributor.store.price.bound'
    _history = True

    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", ondelete='CASCADE',
        help="Empty for the whole network; a territory's bound applies "
        "to distributors in it and below, before the general one.")
    guide_price = fields.Numeric(
        "Guide Price", digits=PRICE_DIGITS, required=True)
    min_price = fields.Numeric(
        "Minimum Price", digits=PRICE_DIGITS, required=True)
    max_price = fields.Numeric(
        "Maximum Price", digits=PRICE_DIGITS, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('product_territory_unique',
                Unique(t, t.product, t.territory),
                'distributor_store.msg_price_bound_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.product, Index.Range())))
        cls._order = [('product', 'ASC'), ('territory', 'ASC NULLS FIRST'),
            ('id', 'ASC')]

    @classmethod
    def validate_fields(cls, bounds, field_names):
        super().validate_fields(bounds, field_names)
        for bound in bounds:
            if not (0 <= bound.min_price <= bound.guide_price
                    <= bound.max_price):
                raise StorePriceError(gettext(
                        'distributor_store.msg_price_bound_order',
                        product=bound.product.rec_name,
                        minimum=bound.min_price, guide=bound.guide_price,
                        maximum=bound.max_price))
        if field_names is None or field_names & {
                'min_price', 'max_price', 'product', 'territory'}:
            Price = Pool().get('distributor.store.price')
            prices = Price.search([
                    ('product', 'in', [b.product.id for b in bounds]),
                    ])
            Price.check_bounds(prices)

    @classmethod
    def bounds_for(cls, distributor, products):
        """{product id: [bound]} of the distributor: for each product, the
        most specific bounds among those of its territories (those of a
        territory above it included), else the general one"""
        product_ids = list(map(int, products))
        bounds = cls.search([('product', 'in', product_ids)])
        ancestors = {}
        for territory in distributor.territories:
            depth = 0
            node = territory
            while node:
                ancestors[node.id] = min(ancestors.get(node.id, depth), depth)
                node = node.parent
                depth += 1
        result = {}
        for product_id in product_ids:
            mine = [b for b in bounds if b.product.id == product_id]
            specific = [b for b in mine
                if b.territory and b.territory.id in ancestors]
            if specific:
                best = min(ancestors[b.territory.id] for b in specific)
                result[product_id] = [b for b in specific
                    if ancestors[b.territory.id] == best]
            else:
                result[product_id] = [b for b in mine if not b.territory]
        return result

    @classmethod
    def check_price(cls, distributor, product, price, bounds=None):
        "Raise StorePriceError when price lies outside the product's bounds"
        if bounds is None:
            bounds = cls.bounds_for(distributor, [product])
        for bound in bounds.get(product.id, []):
            if not (bound.min_price <= price <= bound.max_price):
                raise StorePriceError(gettext(
                        'distributor_store.msg_price_outside_bounds',
                        product=product.rec_name, price=price,
                        distributor=distributor.rec_name,
                        minimum=bound.min_price, maximum=bound.max_price,
                        territory=bound.territory.rec_name
                        if bound.territory else ''))


class StorePrice(ModelSQL, ModelView):
    """Store Price

    A line of a distributor's store price list: what its stores and
    downstream buyers pay, within the brand's bounds."""
    __name__ = 'distributor.store.price'
    _history = True

    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        domain=[('is_distributor', '=', True)])
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    price = fields.Numeric("Price", digits=PRICE_DIGITS, required=True)
    guide_price = fields.Function(
        fields.Numeric("Guide Price", digits=PRICE_DIGITS), 'get_bound')
    min_price = fields.Function(
        fields.Numeric("Minimum Price", digits=PRICE_DIGITS), 'get_bound')
    max_price = fields.Function(
        fields.Numeric("Maximum Price", digits=PRICE_DIGITS), 'get_bound')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('distributor_product_unique',
                Unique(t, t.distributor, t.product),
                'distributor_store.msg_store_price_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.distributor, Index.Range()),
                (t.product, Index.Range())))
        cls._order = [('distributor', 'ASC'), ('product', 'ASC'),
            ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_set_prices': RPC(readonly=False),
                'dms_list_prices': RPC(),
                })

    @classmethod
    def get_bound(cls, prices, names):
        Bound = Pool().get('distributor.store.price.bound')
        result = {n: {p.id: None for p in prices} for n in names}
        for price in prices:
            bounds = Bound.bounds_for(
                price.distributor, [price.product]).get(price.product.id)
            if bounds:
                bound = bounds[0]
                for name in names:
                    result[name][price.id] = getattr(bound, name)
        return result

    @classmethod
    def validate_fields(cls, prices, field_names):
        super().validate_fields(prices, field_names)
        cls.check_bounds(prices)

    @classmethod
    def check_bounds(cls, prices):
        Bound = Pool().get('distributor.store.price.bound')
        for price in prices:
            if price.price < 0:
                raise StorePriceError(gettext(
                        'distributor_store.msg_price_negative',
                        product=price.product.rec_name))
            Bound.check_price(price.distributor, price.product, price.price)

    @classmethod
    def prices_for(cls, distributor, products):
        """{product id: unit price} a buyer of the distributor pays: its
        store price list, else the brand's guide price, else the list
        price"""
        pool = Pool()
        Bound = pool.get('distributor.store.price.bound')
        products = list(products)
        own = {p.product.id: p.price for p in cls.search([
                    ('distributor', '=', distributor.id),
                    ('product', 'in', list(map(int, products))),
                    ])}
        bounds = Bound.bounds_for(distributor, products)
        result = {}
        for product in products:
            if product.id in own:
                result[product.id] = own[product.id]
            elif bounds.get(product.id):
                result[product.id] = bounds[product.id][0].guide_price
            else:
                result[product.id] = (product.list_price_used or Decimal(0))
        return result

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_set_prices(cls, party, prices):
        """Set the distributor's store prices from {product id: price};
        every price is checked against the bounds before any is written"""
        Product = Pool().get('product.product')
        prices = validation.id_mapping(prices, gettext(
                'distributor_store.msg_field_prices'))
        products = {p.id: p for p in resolve(Product, list(prices),
                gettext('distributor_store.msg_field_product'))}
        existing = {p.product.id: p for p in cls.search([
                    ('distributor', '=', party.id),
                    ('product', 'in', list(products)),
                    ])}
        records = []
        for product_id, value in prices.items():
            product = products[product_id]
            value = validation.amount(value, product.rec_name,
                digits=PRICE_DIGITS[1], minimum=0)
            record = existing.get(product.id) or cls(
                distributor=party, product=product)
            record.price = value
            records.append(record)
        # checked before anything is written
        cls.check_bounds(records)
        cls.save(records)
        return [r.id for r in records]

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_prices(cls, party):
        "The distributor's store prices with the brand's bounds"
        prices = cls.search([('distributor', '=', party.id)])
        return [{
                'product': p.product.id,
                'code': p.product.code,
                'price': str(p.price),
                'guide_price': str(p.guide_price)
                if p.guide_price is not None else None,
                'min_price': str(p.min_price)
                if p.min_price is not None else None,
                'max_price': str(p.max_price)
                if p.max_price is not None else None,
                } for p in prices]

