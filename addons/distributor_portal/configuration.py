# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    portal_idle_minutes = fields.Integer(
        "Portal Idle Timeout", required=True,
        domain=[('portal_idle_minutes', '>', 0)],
        help="Minutes without a request after which a portal session ends.")
    portal_session_hours = fields.Integer(
        "Portal Session Lifetime", required=True,
        domain=[('portal_session_hours', '>', 0)],
        help="Hours after sign-in after which a portal session ends, "
        "whatever its use.")
    portal_max_failures = fields.Integer(
        "Portal Sign-in Failures", required=True,
        domain=[('portal_max_failures', '>', 0)],
        help="Failed sign-ins of one e-mail within the window after which "
        "further tries are refused until the window has passed.")
    portal_failure_minutes = fields.Integer(
        "Portal Sign-in Failure Window", required=True,
        domain=[('portal_failure_minutes', '>', 0)],
        help="Minutes over which failed sign-ins count: an e-mail is never "
        "locked out longer than this after its last failure.")

    @classmethod
    def default_portal_idle_minutes(cls):
        return 30

    @classmethod
    def default_portal_session_hours(cls):
        return 12

    @classmethod
    def default_portal_max_failures(cls):
        return 5

    @classmethod
    def default_portal_failure_minutes(cls):
        return 5
