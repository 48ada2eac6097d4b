# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
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
