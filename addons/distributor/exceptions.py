# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


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


class RecordNotFound(AccessError):
    """A record a caller named does not exist or is out of its reach: the
    same answer for both"""


class InputError(ValidationError):
    "A value from outside is refused (wrong type, size, range or date)"


class DocumentLockedError(AccessError):
    "A document, its lines or its workflow fields may not be changed"


class DocumentStateError(UserError):
    "An action is refused in the document's state"


class ReachError(AccessError):
    "A caller limited to its territories tried to reach beyond them"


class EntryPointRefused(AccessError):
    "The caller's groups may not use an entry point"


class BrandError(UserError):
    "A second company: one database is one brand"
