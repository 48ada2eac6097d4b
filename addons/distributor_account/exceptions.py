# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class StatementError(UserError):
    "A statement of account action is refused"


class StatementValidationError(ValidationError):
    "A statement of account breaks a rule"


class ReceivableError(UserError):
    "A settlement, credit or reminder action is refused"


class BankError(UserError):
    "A bank statement line cannot be matched or reconciled"


class ChartError(UserError):
    "The chart of accounts cannot be created"
