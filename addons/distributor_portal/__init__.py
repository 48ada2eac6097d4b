# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.

# the portal's routes register on trytond's WSGI application when the
# module is imported (every available module is, at server start)
from . import routes  # noqa: F401
