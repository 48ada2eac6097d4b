# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ChannelOrderError(UserError):
    "A channel rule refuses the order"


class OrderStateError(UserError):
    "The order is not in a state that allows the action"


class ReceiptError(UserError):
    "A receipt confirmation is refused"


class PriceFloorValidationError(ValidationError):
    pass
