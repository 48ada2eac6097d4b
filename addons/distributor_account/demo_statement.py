# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's statements of account: the brand's statements of this month
(so far) for every active distributor, sent; the demo distributor's
(distributor@demo.dms) last month confirmed and this month sent, ready to
confirm or dispute in the portal; another distributor's statement
disputed on a line and answered (resolved); and the demo distributor's
statements to its stores, the demo store's (store@demo.dms) sent.

Only the generator imports this file (through demo.py)."""
import datetime as dt

from distributor.access import trusted
from distributor.demo import Part


def _portal_party(demo, email):
    WebUser = demo.pool.get('web.user')
    users = WebUser.search([('email', '=', email)], limit=1)
    return users[0].party if users and users[0].party else None


def statements(demo):
    "The statements, once: none added when there are some already"
    pool = demo.pool
    Statement = pool.get('distributor.account.statement')
    Party = pool.get('party.party')
    if Statement.search([], limit=1):
        print('statements already there: none added')
        return
    today = demo.today
    start = today.replace(day=1)
    last_end = start - dt.timedelta(days=1)
    last_start = last_end.replace(day=1)
    distributors = Party.search([('is_distributor', '=', True),
            ('distributor_state', '=', 'active')], order=[('id', 'ASC')])
    own = _portal_party(demo, 'distributor@demo.dms')
    store = _portal_party(demo, 'store@demo.dms')
    with trusted():
        if own:
            last, _ = Statement.generate('distributor', [own], last_start,
                last_end, company=demo.company)
            Statement.send(last)
            Statement.confirm(last)
        current, _ = Statement.generate('distributor', distributors, start,
            today, company=demo.company)
        Statement.send(current)
        # another distributor disputed a line; the accountant answered
        others = [s for s in current if s.party != own and s.lines]
        if others:
            disputed = others[0]
            line = disputed.lines[0]
            Statement.dms_dispute_statement(disputed.party, disputed,
                comment="请核对本月付款",
                lines=[{'line': line.id,
                        'comment': "该笔金额与我方记录不符，请提供发货单"}])
            Statement.resolved([disputed],
                "已核对：金额与发货单一致，发货单已发送至贵司邮箱。")
        made = len(current)
        if own:
            stores = Party.search([('is_store', '=', True),
                    ('store_distributor', '=', own.id)])
            if stores:
                store_statements, _ = Statement.generate('store', stores,
                    start, today, issuer=own, company=demo.company)
                Statement.send([s for s in store_statements
                        if s.party == store])
                made += len(store_statements)
    demo.report.append(f'  statements       {made} (this month, sent)')


PARTS = [
    Part('statements', statements),
    ]
