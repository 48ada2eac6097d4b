# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The module's portal pages: statements of account (brand ↔ distributor and
distributor ↔ store), settlement (deposits, instalments, reminders)"""
import os

from distributor_portal import i18n, render
from distributor_portal.i18n import N_

HERE = os.path.dirname(__file__)
MODULE = 'distributor_account'

render.add_templates(os.path.join(HERE, 'templates'))
i18n.add_module(HERE)
render.add_nav(('/portal/statements', N_("Statements"), 'statement',
        {'distributor', 'store'}, None), before='/portal/messages',
    module=MODULE)

from . import portal_receivable, portal_statement  # noqa: E402,F401
