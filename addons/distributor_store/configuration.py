# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Id


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    store_promotion_max_discount = fields.Numeric(
        "Store Promotion Maximum Discount", digits=(1, 4), required=True,
        domain=[
            ('store_promotion_max_discount', '>=', 0),
            ('store_promotion_max_discount', '<=', 1),
            ],
        help="The brand's policy: the largest share of a price that the "
        "store promotions of a distributor may take off together "
        "(percentages plus threshold reductions as a share of their "
        "threshold) where they overlap.")
    store_shelf_life_days = fields.Integer(
        "Store Stock Estimate Days", required=True,
        domain=[('store_shelf_life_days', '>', 0)],
        help="Without a recent shelf check, a store's stock is estimated "
        "as what it received over this many days less its average daily "
        "demand.")

    store_lead_time_days = fields.Integer(
        "Store Lead Time Days", required=True,
        domain=[('store_lead_time_days', '>=', 0)],
        help="Days from a store's order to its delivery, when the store's "
        "limit gives none.")

    channel_order_sequence = fields.Many2One(
        'ir.sequence', "Channel Order Sequence", required=True,
        domain=[
            ('sequence_type', '=',
                Id('distributor_store', 'sequence_type_channel_order')),
            ],
        help="Numbers the orders of stores and downstream distributors.")

    @classmethod
    def default_channel_order_sequence(cls):
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id(
                'distributor_store', 'sequence_channel_order')
        except KeyError:
            return None

    @classmethod
    def default_store_lead_time_days(cls):
        return 2

    @classmethod
    def default_store_promotion_max_discount(cls):
        return Decimal('0.3')

    @classmethod
    def default_store_shelf_life_days(cls):
        return 14
