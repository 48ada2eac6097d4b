# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class PolicyError(UserError):
    "A policy action is refused"


class PolicyValidationError(ValidationError):
    "A policy breaks a rule"


class PromotionError(UserError):
    "A promotion or a gift is refused"


class PriceError(ValidationError):
    "A price outside the brand's price policy"


class RebateError(UserError):
    "A rebate program, accrual or settlement action is refused"


class RebateValidationError(ValidationError):
    "A rebate program breaks a rule"


class LedgerError(UserError):
    "A rebate ledger movement is refused"


class ClaimError(UserError):
    "An expense claim action is refused"
