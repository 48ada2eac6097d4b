# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ChannelStockError(UserError):
    "A channel stock operation is refused"


class TransferError(UserError):
    "A transfer action is refused"


class ScanError(UserError):
    "A scanned code cannot be resolved"


class CountError(UserError):
    "A stock count action is refused"


class StockLimitValidationError(ValidationError):
    pass
