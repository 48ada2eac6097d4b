# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'distributor.configuration'

    qualification_warning_days = fields.Integer(
        "Qualification Warning Days", required=True,
        domain=[('qualification_warning_days', '>=', 0)],
        help="How many days before its end a qualification is flagged "
        "as expiring and the responsible staff are warned.")

    @classmethod
    def default_qualification_warning_days(cls):
        return 30
