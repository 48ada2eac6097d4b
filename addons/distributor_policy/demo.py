# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_policy module (scripts/generate.py runs it;
see distributor/demo.py for how): its parts, one file per area:

- demo_policy.py: published policies with partial read and
  acknowledgement rates, and a draft;
- demo_promotion.py: a purchase promotion targeting a tier, the tiers'
  price bounds, retail prices and a price incident from a shelf check;
- demo_rebate.py: a rebate program mid-period (accruals computed) and a
  settled earlier period giving a ledger balance;
- demo_claim.py: a policy that funds activities, with claims in several
  states.

Before them, *rebate accounts* gives the brand a Sales Rebates account
(contra-revenue) and makes it the configuration's rebate account, so that
rebates and claims settle as credit notes.

Only the generator imports this file, never the module's ``__init__``."""
from distributor.demo import Part

from .demo_claim import PARTS as CLAIM_PARTS
from .demo_policy import PARTS as POLICY_PARTS
from .demo_promotion import PARTS as PROMOTION_PARTS
from .demo_rebate import PARTS as REBATE_PARTS


def rebate_accounts(demo):
    """The configuration's rebate account, once: the Chinese chart's
    销售折让与返利 (500102), or else (Tryton's English chart) a new revenue
    account Sales Rebates"""
    pool = demo.pool
    Account = pool.get('account.account')
    Configuration = pool.get('distributor.configuration')
    config = Configuration(1)
    if config.rebate_account:
        return
    # the Chinese charts of distributor_account ship the account:
    # 500102 (小企业会计准则) or 600102 (企业会计准则) 销售折让与返利
    shipped = Account.search([
            ('type.revenue', '=', True), ('closed', '!=', True),
            ('code', 'in', ['500102', '600102']),
            ('company', '=', demo.company.id)], limit=1)
    if shipped:
        config.rebate_account = shipped[0]
        config.save()
        demo.report.append(f'  rebate account  {shipped[0].rec_name}')
        return
    revenue = Account.search([
            ('type.revenue', '=', True), ('closed', '!=', True),
            ('company', '=', demo.company.id)], limit=1)
    if not revenue:
        return
    account, = Account.create([{
                'name': "Sales Rebates",
                'code': '6001.09',
                'type': revenue[0].type.id,
                'parent': revenue[0].parent.id if revenue[0].parent else None,
                'company': demo.company.id,
                }])
    config.rebate_account = account
    config.save()
    demo.report.append(f'  rebate account  {account.rec_name}')


PARTS = ([Part('rebate accounts', rebate_accounts)]
    + POLICY_PARTS + PROMOTION_PARTS + REBATE_PARTS + CLAIM_PARTS)
