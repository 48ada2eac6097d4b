# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    approval_reminder_hours = fields.Integer(
        "Approval Reminder Hours", required=True,
        domain=[('approval_reminder_hours', '>', 0)],
        help="After how many hours a submitted order still waiting for "
        "approval is recalled to the sales rep and channel managers.")
    instalment_payment_term = fields.Many2One(
        'account.invoice.payment_term', "Instalment Payment Term",
        ondelete='RESTRICT',
        help="The payment term given to the orders of distributors that "
        "settle by instalments.")

    @classmethod
    def default_approval_reminder_hours(cls):
        return 24
