# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class TierValidationError(ValidationError):
    pass


class TerritoryValidationError(ValidationError):
    pass


class ChannelRuleError(ValidationError):
    "A distributor file breaks a rule of the channel hierarchy"


class QualificationValidationError(ValidationError):
    pass


class DistributorStateError(UserError):
    "A lifecycle transition is refused"


class TradeRefused(UserError):
    "The party may not trade in its current state"


class ImportError_(UserError):
    "A distributor import file is refused"
