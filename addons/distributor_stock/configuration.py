# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Id

# one-sided z-scores of the normal distribution for a cycle service level
SERVICE_LEVELS = [
    ('0.90', "90%"),
    ('0.95', "95%"),
    ('0.98', "98%"),
    ('0.99', "99%"),
    ]
Z_SCORES = {'0.90': 1.2816, '0.95': 1.6449, '0.98': 2.0537, '0.99': 2.3263}


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    stock_history_days = fields.Integer(
        "Sell-out History Days", required=True,
        domain=[('stock_history_days', '>', 0)],
        help="The window over which the average daily sell-out, its "
        "variability and the turnover are measured.")
    stock_lead_time_days = fields.Integer(
        "Replenishment Lead Time Days", required=True,
        domain=[('stock_lead_time_days', '>=', 0)],
        help="Days from ordering to receipt, when a stock limit gives "
        "none.")
    stock_review_days = fields.Integer(
        "Review Period Days", required=True,
        domain=[('stock_review_days', '>=', 0)],
        help="Days of sell-out an order should cover beyond the reorder "
        "point (the order cycle).")
    stock_service_level = fields.Selection(
        SERVICE_LEVELS, "Service Level", required=True, sort=False,
        help="The probability of not running out during the lead time: "
        "it sets the safety stock.")
    stock_expiry_days = fields.Integer(
        "Expiry Alert Days", required=True,
        domain=[('stock_expiry_days', '>=', 0)],
        help="Lots expiring within this many days raise an expiry alert.")

    transfer_sequence = fields.Many2One(
        'ir.sequence', "Transfer Sequence", required=True,
        domain=[
            ('sequence_type', '=',
                Id('distributor_stock', 'sequence_type_transfer')),
            ],
        help="Numbers the stock transfers when they are requested.")

    @classmethod
    def default_transfer_sequence(cls):
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id('distributor_stock', 'sequence_transfer')
        except KeyError:
            return None

    @classmethod
    def default_stock_history_days(cls):
        return 30

    @classmethod
    def default_stock_lead_time_days(cls):
        return 7

    @classmethod
    def default_stock_review_days(cls):
        return 7

    @classmethod
    def default_stock_service_level(cls):
        return '0.95'

    @classmethod
    def default_stock_expiry_days(cls):
        return 60
