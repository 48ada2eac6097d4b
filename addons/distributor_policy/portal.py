# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The module's portal pages: its templates, its page translations and its
navigation entries join the portal's (distributor_portal); each area's
pages and endpoints are in its own file."""
import os

from distributor_portal import i18n, render
from distributor_portal.i18n import N_

HERE = os.path.dirname(__file__)
MODULE = 'distributor_policy'

render.add_templates(os.path.join(HERE, 'templates'))
i18n.add_module(HERE)
render.add_nav(('/portal/policies', N_("Policies"), 'policy',
        {'distributor'}, None), before='/portal/messages', module=MODULE)
render.add_nav(('/portal/rebates', N_("Rebates"), 'rebate',
        {'distributor'}, None), before='/portal/messages', module=MODULE)
render.add_nav(('/portal/claims', N_("Expense Claims"), 'claim',
        {'distributor'}, None), before='/portal/messages', module=MODULE)

from . import (  # noqa: E402,F401
    portal_claim, portal_policy, portal_promotion, portal_rebate)
