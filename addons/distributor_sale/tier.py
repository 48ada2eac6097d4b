# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Tier(metaclass=PoolMeta):
    __name__ = 'distributor.tier'

    minimum_order_amount = Monetary(
        "Minimum Order Amount", currency='minimum_order_currency',
        digits='minimum_order_currency',
        domain=['OR',
            ('minimum_order_amount', '=', None),
            ('minimum_order_amount', '>=', 0),
            ],
        help="The smallest untaxed amount of a regular or promotion order "
        "of the distributors of the tier.")
    buys_from_brand = fields.Boolean(
        "Buys from the Brand",
        help="Distributors of the tier order from the brand even when they "
        "have an upstream distributor; the others order from their "
        "upstream.")
    minimum_order_currency = fields.Function(
        fields.Many2One('currency.currency', "Minimum Order Currency"),
        'on_change_with_minimum_order_currency')

    @classmethod
    def default_buys_from_brand(cls):
        return False

    @fields.depends()
    def on_change_with_minimum_order_currency(self, name=None):
        Company = Pool().get('company.company')
        company_id = Transaction().context.get('company')
        if company_id is not None and company_id >= 0:
            return Company(company_id).currency
