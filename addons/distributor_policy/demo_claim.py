# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's expense claims (费用核销): a published policy funding
displays and tastings (budget 50,000 in total, 10,000 per distributor)
with a claim approved and settled (a credit note when the rebate account
is configured, else on the rebate ledger), a submitted claim with a photo
as evidence and a draft.  Adds demo.claims.

Only the generator imports this file (through demo.py)."""
import base64
import datetime as dt
from decimal import Decimal

from distributor.demo import Part

BODY = ("<p>活动期内，经销商在终端开展的<b>堆头陈列、试饮品鉴、本地广告</b>"
    "可申请费用核销。</p><ul><li>每家经销商上限 10,000 元</li>"
    "<li>请上传活动照片及发票作为凭证</li></ul>")
# a small PNG: the photo of the submitted claim
PHOTO = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q'
    'DwADhgGAWjR9awAAAABJRU5ErkJggg==')
CLAIMS = [
    # (description, lines (activity, description, amount), what happens)
    ("春节堆头陈列", [
            ('display', "大卖场端架陈列 2 周", Decimal('3200')),
            ('tasting', "周末试饮 4 场", Decimal('1800')),
            ], 'settled'),
    ("社区店试饮活动", [
            ('tasting', "社区店试饮 6 场", Decimal('2400')),
            ('advertising', "社区电梯广告 1 个月", Decimal('1500')),
            ], 'submitted'),
    ("本地电台广告", [
            ('advertising', "交通台 15 秒广告 20 次", Decimal('4000')),
            ], 'draft'),
    ]


def claims(demo):
    """The policy taking claims and its claims, once: demo.claims (None
    when there was such a policy already)"""
    pool = demo.pool
    Policy = pool.get('distributor.policy')
    Claim = pool.get('distributor.expense.claim')
    Configuration = pool.get('distributor.configuration')
    demo.claims = None
    if Policy.search([('allows_claims', '=', True)], limit=1):
        print('claim policy already there: none added')
        return
    today = demo.today
    tiers = [demo.tiers[c].id for c in ['T1', 'T2'] if c in demo.tiers]
    policy, = Policy.create([{
                'title': "终端陈列与品鉴活动费用支持",
                'kind': 'notice', 'body': BODY,
                'start_date': today - dt.timedelta(days=30),
                'end_date': today + dt.timedelta(days=60),
                'tiers': [('add', tiers)],
                'allows_claims': True,
                'claim_budget': Decimal('50000'),
                'claim_budget_per_distributor': Decimal('10000'),
                }])
    if not policy.dms_compute_targets():
        print('no distributor to fund: the claim policy stays a draft')
        return
    Policy.publish([policy])
    policy = Policy(policy.id)
    distributors = sorted((r.distributor for r in policy.recipients),
        key=lambda p: p.id)
    method = ('credit_note' if Configuration(1).rebate_account
        else 'ledger')
    made = []
    for i, (description, lines, state) in enumerate(CLAIMS):
        # one distributor each (taking turns when there are fewer)
        party = distributors[i % len(distributors)]
        claim_id = Claim.dms_save_claim(party, {
                'policy': policy.id,
                'date': today - dt.timedelta(days=3),
                'description': description,
                'lines': [{'activity': a, 'description': d,
                        'amount': str(x)} for a, d, x in lines],
                })
        claim = Claim(claim_id)
        if state != 'draft':
            Claim.dms_add_evidence(party, claim_id, 'activity.png', PHOTO)
            Claim.submit([claim])
        if state == 'settled':
            Claim.approve([claim])
            Claim.settle([claim], method)
        made.append(Claim(claim_id))
    demo.claims = made
    policy = Policy(policy.id)
    demo.report.append(f'  claims     {len(made)} on {policy.number}: '
        f'{policy.claim_used} of {policy.claim_budget} used')


PARTS = [
    Part('expense claims', claims),
    ]
