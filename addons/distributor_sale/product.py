# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from distributor import validation

from .exceptions import ChannelOrderError


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    pack_quantity = fields.Float(
        "Pack Quantity", digits='sale_uom',
        domain=['OR',
            ('pack_quantity', '=', None),
            ('pack_quantity', '>', 0),
            ],
        states={
            'invisible': ~Eval('salable', False),
            },
        help="Distributors order the product in multiples of this quantity "
        "(in the sale unit).")


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def dms_find_products(cls, keys, salable=True):
        """The products of keys (ids or codes), in order, in two queries;
        an unknown key, or a product that is not for sale, is refused"""
        ids, codes = set(), set()
        for key in keys:
            if isinstance(key, int) and not isinstance(key, bool):
                ids.add(key)
            elif isinstance(key, str):
                codes.add(validation.text(key, gettext(
                            'distributor_sale.msg_field_product'), size=64,
                        multiline=False))
            else:
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_unknown_product',
                        product=str(key)[:40]))
        by_id = {p.id: p for p in cls.search([('id', 'in', list(ids))])
            } if ids else {}
        by_code = {p.code: p for p in cls.search(
                [('code', 'in', list(codes))])} if codes else {}
        result = []
        for key in keys:
            if isinstance(key, str):
                product = by_code.get(key.strip())
            else:
                product = by_id.get(key)
            if product is None or (salable and not product.salable):
                raise ChannelOrderError(gettext(
                        'distributor_sale.msg_unknown_product',
                        product=str(key)[:40]))
            result.append(product)
        return result


class PriceFloor(ModelSQL, ModelView):
    "The lowest unit price a tier's distributors may be sold a product at"
    __name__ = 'distributor.price_floor'

    tier = fields.Many2One(
        'distributor.tier', "Tier", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        domain=[('salable', '=', True)])
    price = Monetary(
        "Floor Price", currency='currency', digits='currency', required=True,
        domain=[('price', '>=', 0)],
        help="The lowest unit price (in the product's sale unit) allowed "
        "on an order without a channel manager's override.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('tier_product_unique', Unique(t, t.tier, t.product),
                'distributor_sale.msg_price_floor_unique'),
            ]
        cls._order = [('tier', 'ASC'), ('product', 'ASC'), ('id', 'ASC')]

    @fields.depends()
    def on_change_with_currency(self, name=None):
        Company = Pool().get('company.company')
        company_id = Transaction().context.get('company')
        if company_id is not None and company_id >= 0:
            return Company(company_id).currency

    def get_rec_name(self, name):
        return f'{self.tier.rec_name} / {self.product.rec_name}'

    @classmethod
    def floors(cls, pairs):
        "Return {(tier id, product id): price} for the pairs that have one"
        pairs = {(int(t), int(p)) for t, p in pairs if t and p}
        if not pairs:
            return {}
        tiers = {t for t, _ in pairs}
        products = {p for _, p in pairs}
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        in_max = 1000
        for sub in grouped_slice(sorted(products), in_max):
            cursor.execute(*table.select(
                    table.tier, table.product, table.price,
                    where=fields.SQL_OPERATORS['in'](table.product, list(sub))
                    & table.tier.in_(sorted(tiers))))
            for tier, product, price in cursor:
                if (tier, product) in pairs:
                    result[(tier, product)] = price
        return result
