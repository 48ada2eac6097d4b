# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class TargetError(UserError):
    "A target action (import, spread) is refused"


class TargetValidationError(ValidationError):
    "A target breaks a rule"


class KpiError(UserError):
    "A KPI cannot be computed"


class TemplateValidationError(ValidationError):
    "An assessment template breaks a rule"


class AssessmentError(UserError):
    "An assessment run or tier change action is refused"
