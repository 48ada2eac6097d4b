# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class StoreError(UserError):
    "A store or terminal customer action is refused"


class StoreValidationError(ValidationError):
    "A store or terminal customer breaks a channel rule"


class StoreOrderError(UserError):
    "A channel order action is refused"


class DiversionError(StoreOrderError):
    "A sale outside the seller's own channel is refused (窜货)"


class StorePriceError(ValidationError):
    "A store price or price bound is refused"


class StorePromotionError(UserError):
    "A store promotion is refused"


class CoverageError(UserError):
    "A coverage plan action is refused"


class StorePaymentError(UserError):
    "A store payment is refused"
