# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_assessment module (scripts/generate.py runs
it; see distributor/demo.py for how): its parts, one file per area:

- demo_target.py: the confirmed monthly targets of this year for every
  active distributor, from its recent sell-in;
- demo_run.py: last month's assessment run over the demo distributors,
  approved, with its tier change proposals.

Only the generator imports this file, never the module's ``__init__``."""
from .demo_run import PARTS as RUN_PARTS
from .demo_target import PARTS as TARGET_PARTS

PARTS = TARGET_PARTS + RUN_PARTS
