# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'distributor.configuration'

    qualification_warning_days = fields.Integer(
        "Qualification Warning Days", required=True,
        domain=[('qualification_warning_days', '>=', 0)],
        help="How many days before its end a qualification is flagged "
        "as expiring and the responsible staff are warned.")

    licence_grace_days = fields.Integer(
        "Licence Grace Days", required=True,
        domain=[('licence_grace_days', '>=', 0)],
        help="How many days after its business licence has expired a "
        "distributor may still trade.")
    max_lines = fields.Integer(
        "Maximum Lines per Document", required=True,
        domain=[('max_lines', '>', 0)],
        help="The most lines an order, transfer, count or check may have; "
        "larger ones are refused before anything is written.")
    max_quantity = fields.Float(
        "Maximum Quantity per Line", required=True,
        domain=[('max_quantity', '>', 0)],
        help="The largest quantity a line or a scan may carry.")
    max_amount = fields.Numeric(
        "Maximum Amount", digits=(16, 2), required=True,
        domain=[('max_amount', '>', 0)],
        help="The largest price or amount a document may carry.")
    max_text_length = fields.Integer(
        "Maximum Text Length", required=True,
        domain=[('max_text_length', '>', 0)],
        help="The longest comment, note or reason accepted, in characters.")

    distributor_sequence = fields.Many2One(
        'ir.sequence', "Distributor Code Sequence",
        domain=[
            ('sequence_type', '=',
                Id('distributor', 'sequence_type_distributor')),
            ],
        help="Numbers the distributors created without a code.")

    @classmethod
    def default_distributor_sequence(cls):
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id('distributor', 'sequence_distributor')
        except KeyError:
            return None

    @classmethod
    def default_qualification_warning_days(cls):
        return 30

    @classmethod
    def default_licence_grace_days(cls):
        return 0

    @classmethod
    def default_max_lines(cls):
        return 500

    @classmethod
    def default_max_quantity(cls):
        return 1_000_000.0

    @classmethod
    def default_max_amount(cls):
        return Decimal('10000000000')

    @classmethod
    def default_max_text_length(cls):
        return 4000
