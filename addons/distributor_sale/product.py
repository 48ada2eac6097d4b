# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


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
