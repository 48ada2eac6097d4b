# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class ReportError(UserError):
    "An analysis cannot be shown with these filters"


class ExportError(UserError):
    "An export is refused (too many rows, bad filters)"


class ForecastError(UserError):
    "A forecast cannot be made"
