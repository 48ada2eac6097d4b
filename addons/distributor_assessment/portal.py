# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The module's portal pages: a distributor's targets and attainment, its
latest approved assessment and what it takes to reach the next grade"""
import os

from distributor_portal import i18n, render
from distributor_portal.i18n import N_

HERE = os.path.dirname(__file__)
MODULE = 'distributor_assessment'

render.add_templates(os.path.join(HERE, 'templates'))
i18n.add_module(HERE)
render.add_nav(('/portal/assessment', N_("Performance"), 'assessment',
        {'distributor'}, None), before='/portal/messages', module=MODULE)

from . import portal_assessment  # noqa: E402,F401
