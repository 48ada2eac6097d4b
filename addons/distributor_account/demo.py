# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_account module (scripts/generate.py runs it;
see distributor/demo.py for how): its parts, one file per area:

- demo_receivable.py: the open invoice lines spread over the aging
  buckets, an instalment invoice, the day's settlement reminders;
- demo_bank.py: a bank journal and statements: an invoice paid by
  reference, a deposit of a prepaid distributor, a payment left to match
  by hand;
- demo_statement.py: the statements of account of the month, sent,
  confirmed, disputed and resolved; store statements.

Only the generator imports this file, never the module's ``__init__``."""
from .demo_bank import PARTS as BANK_PARTS
from .demo_receivable import PARTS as RECEIVABLE_PARTS
from .demo_statement import PARTS as STATEMENT_PARTS

PARTS = RECEIVABLE_PARTS + BANK_PARTS + STATEMENT_PARTS
