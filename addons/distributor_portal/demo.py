# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_portal module: portal accounts on the demo
network (scripts/generate.py runs it; see distributor/demo.py for how),
all with the staff's demo password:

- ``distributor@demo.dms`` (administrator), ``distributor-orders@demo.dms``
  (orders) and ``distributor-view@demo.dms`` (view only): a distributor
  without upstream (a national agent) that has open stores and an active
  downstream distributor;
- ``subdistributor@demo.dms``: that downstream distributor;
- ``store@demo.dms``: one of its open stores.

The parties are chosen from what the database holds, by rule and code,
never by chance: the same seed gives the same network, so the same
accounts.  Accounts already there are left as they are.  Adds
demo.portal_accounts ({e-mail: web user}).

Only the generator imports this file, never the module's ``__init__``."""
from trytond.transaction import Transaction

from distributor.demo import DEMO_PASSWORD, Part

# e-mail, role, which party of the chosen ones
ACCOUNTS = [
    ('distributor@demo.dms', 'admin', 'distributor'),
    ('distributor-orders@demo.dms', 'orders', 'distributor'),
    ('distributor-view@demo.dms', 'view', 'distributor'),
    ('subdistributor@demo.dms', 'admin', 'subdistributor'),
    ('store@demo.dms', 'admin', 'store'),
    ]


def _key(party):
    "Distributors by code, stores by id"
    return (getattr(party, 'distributor_code', None) or '', party.id)


def choose(pool):
    """{'distributor', 'subdistributor', 'store'}: the demo's parties of
    the portal accounts, or None when the network has no fitting one"""
    Party = pool.get('party.party')
    Order = pool.get('distributor.channel.order')
    agents = sorted(Party.search([
                ('is_distributor', '=', True),
                ('upstream', '=', None),
                ('distributor_state', '=', 'active'),
                ]), key=_key)
    candidates = []
    for agent in agents:
        if not agent.may_trade():
            continue
        stores = Party.search([
                ('is_store', '=', True),
                ('store_distributor', '=', agent.id),
                ('store_state', '=', 'active'),
                ], order=[('id', 'ASC')])
        downstreams = sorted([d for d in Party.search([
                        ('is_distributor', '=', True),
                        ('upstream', '=', agent.id),
                        ('distributor_state', '=', 'active'),
                        ]) if d.may_trade()], key=_key)
        if stores and downstreams:
            candidates.append((agent, stores, downstreams))
    if not candidates:
        return None
    Sale = pool.get('sale.sale')

    def shows(agent):
        "How many of a shipped and a rejected brand order the agent has"
        return sum(bool(Sale.search_count([
                        ('party', '=', agent.id),
                        ('channel_state', '=', state),
                        ])) for state in ['shipped', 'rejected'])
    # the agent whose brand orders show a receipt and a rejection, then
    # with the most stores (the first by code among equals): its pages
    # show the most
    agent, stores, downstreams = min(candidates,
        key=lambda c: (-shows(c[0]), -len(c[1]), _key(c[0])))

    def orders(party, field):
        return Order.search_count([(field, '=', party.id)])
    # the store with the most channel orders, the downstream distributor
    # with the most stores (the first among equals)
    store = min(stores, key=lambda s: (-orders(s, 'buyer'), s.id))
    downstream = min(downstreams, key=lambda d: (
            -len(d.stores), _key(d)))
    return {'distributor': agent, 'subdistributor': downstream,
        'store': store}


def portal_accounts(demo):
    """The demo's portal accounts (ACCOUNTS), with the staff's password;
    those already there are kept"""
    pool = demo.pool
    WebUser = pool.get('web.user')
    with Transaction().set_context(active_test=False):
        existing = {u.email: u for u in WebUser.search([
                    ('email', 'in', [a[0] for a in ACCOUNTS]),
                    ])}
    demo.portal_accounts = dict(existing)
    missing = [a for a in ACCOUNTS if a[0] not in existing]
    if missing:
        parties = choose(pool)
        if parties is None:
            print('portal accounts: no distributor without upstream with '
                'stores and a downstream distributor')
            return
        created = WebUser.create([{
                    'email': email,
                    'party': parties[which].id,
                    'dms_role': role,
                    'password': DEMO_PASSWORD,
                    } for email, role, which in missing])
        demo.portal_accounts.update({u.email: u for u in created})
    demo.report.append('  portal (http://127.0.0.1:8000/portal/, password '
        f'{DEMO_PASSWORD}):')
    for email, role, _ in ACCOUNTS:
        user = demo.portal_accounts.get(email)
        if user is not None:
            demo.report.append(f'    {email:<29} {role:<6} '
                f'{user.party.rec_name}')


PARTS = [
    Part('portal accounts', portal_accounts),
    ]
