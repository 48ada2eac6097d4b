# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The module's portal pages: a distributor's own sell-in and sell-out
analysis with charts, a store's purchases by month"""
import os

from distributor_portal import i18n, render
from distributor_portal.i18n import N_

HERE = os.path.dirname(__file__)
MODULE = 'distributor_report'

render.add_templates(os.path.join(HERE, 'templates'))
i18n.add_module(HERE)
render.add_nav(('/portal/analysis', N_("Analysis"), 'analysis',
        {'distributor', 'store'}, None), before='/portal/messages',
    module=MODULE)

from . import portal_analysis  # noqa: E402,F401
