# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class PortalUserError(ValidationError):
    "A portal account is refused (party, role, e-mail)"


class PortalRequestError(UserError):
    "A portal request is refused before it reaches the models"
