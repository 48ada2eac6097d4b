# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's policies: three published (a notice to every national
agent, a purchase discount notice to the distributors of a region, a
notice to the grade A distributors) with about half of their recipients
having read them and fewer having acknowledged them, and a draft.
Adds demo.policies.

Only the generator imports this file (through demo.py)."""
import datetime as dt

from distributor.demo import Part

BODY_T1 = ("<p>各位总代理：</p><p>自本月起，总代理季度进货目标按上年同期"
    "<b>增长 15%</b> 核定，完成目标者享受季度返利。</p>"
    "<ul><li>目标明细见附件</li><li>请于月底前确认</li></ul>")
BODY_DISCOUNT = ("<p>为支持旺季备货，本区域经销商在活动期内采购饮料类产品"
    "享受<b>9.5 折</b>进货价。</p><p>折扣在订单审核时自动计算。</p>")
BODY_GRADE = ("<p>A 级经销商可优先参加新品首发铺货，并获得陈列费用支持。"
    "</p><p>请联系区域业务代表报名。</p>")
BODY_DRAFT = "<p>年中价格体系调整（草稿，待审批）。</p>"


def policies(demo):
    """The demo's policies, once: demo.policies (None when there were
    some already)"""
    pool = demo.pool
    Policy = pool.get('distributor.policy')
    Recipient = pool.get('distributor.policy.recipient')
    WebUser = pool.get('web.user')
    demo.policies = None
    if Policy.search([], limit=1):
        print('policies already there: none added')
        return
    rng = demo.rng
    today = demo.today
    region = demo.regions[0] if getattr(demo, 'regions', None) else None
    end = today + dt.timedelta(days=90)
    values = [{
            'title': "2026 年总代理进货目标与季度返利通知",
            'kind': 'notice', 'body': BODY_T1,
            'start_date': today - dt.timedelta(days=20), 'end_date': end,
            'tiers': [('add', [demo.tiers['T1'].id])],
            }, {
            'title': "旺季饮料采购折扣通知",
            'kind': 'notice', 'body': BODY_DISCOUNT,
            'start_date': today - dt.timedelta(days=10),
            'end_date': today + dt.timedelta(days=30),
            'territories': [('add', [region.id])] if region else [],
            'tiers': [] if region else [('add', [demo.tiers['T2'].id])],
            }, {
            'title': "A 级经销商新品首发支持政策",
            'kind': 'notice', 'body': BODY_GRADE,
            'start_date': today - dt.timedelta(days=5), 'end_date': end,
            'grades': ['A'],
            }]
    published = Policy.create(values)
    draft, = Policy.create([{
                'title': "年中价格体系调整（草稿）",
                'kind': 'notice', 'body': BODY_DRAFT,
                'start_date': today + dt.timedelta(days=30),
                'tiers': [('add', [demo.tiers['T2'].id,
                            demo.tiers['T3'].id])],
                }])
    for policy in published:
        # a policy without any active distributor to reach stays a draft
        if policy.dms_compute_targets():
            Policy.publish([policy])
    published = Policy.browse([p.id for p in published])
    # the portal identities of the demo's accounts view and acknowledge
    identities = {}
    for user in WebUser.search([('party', '!=', None)],
            order=[('id', 'ASC')]):
        if user.dms_user and user.dms_role != 'view':
            identities.setdefault(user.party.id, user.dms_user.id)
    to_save = []
    for policy in published:
        if policy.state != 'published':
            continue
        start = dt.datetime.combine(policy.start_date, dt.time(9))
        Policy.write([policy], {'published_at': start})
        for recipient in sorted(policy.recipients, key=lambda r: r.id):
            recipient.notified_at = start
            if rng.random() < 0.55:
                user = identities.get(recipient.distributor.id)
                recipient.viewed_at = start + dt.timedelta(
                    minutes=rng.randrange(10, 60 * 24 * 4))
                recipient.viewed_by = user
                if rng.random() < 0.6:
                    recipient.acknowledged_at = (recipient.viewed_at
                        + dt.timedelta(minutes=rng.randrange(1, 600)))
                    recipient.acknowledged_by = user
            to_save.append(recipient)
    Recipient.save(to_save)
    demo.policies = list(published) + [draft]
    figures = Policy.receipts([p.id for p in published])
    for policy in published:
        total, viewed, acknowledged = figures.get(policy.id, (0, 0, 0))
        demo.report.append(f'  policy     {policy.number} {total} '
            f'recipients, {viewed} read, {acknowledged} acknowledged')


PARTS = [
    Part('policies', policies),
    ]
