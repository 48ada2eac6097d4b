# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.

# the module's portal pages register on trytond's WSGI application when it
# is imported (every available module is, at server start); they answer
# only on a database where the module is activated (web.Route.available)
from . import portal  # noqa: F401
