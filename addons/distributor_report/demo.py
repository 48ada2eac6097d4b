# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_report module (scripts/generate.py runs it;
see distributor/demo.py for how): its parts, one file per area:

- demo_forecast.py: 30 months of monthly sell-in history for a few
  distributors (a trend and a season), so that the forecasts show their
  seasonal model.  It runs before distributor_assessment's targets
  (demo_target.py) so that the targets and the assessment's growth KPI
  see last year's sell-in.

Only the generator imports this file, never the module's ``__init__``."""
from .demo_forecast import PARTS as FORECAST_PARTS

PARTS = FORECAST_PARTS
