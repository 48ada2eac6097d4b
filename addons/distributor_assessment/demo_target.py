# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's sales targets: a confirmed target of every month of this
year for every active distributor, of 110 % of its average monthly
sell-in over the last three months (rounded to the hundred), at least a
floor by tier level; the attainment shows beside each target.

Only the generator imports this file (through demo.py)."""
import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sql.aggregate import Sum

from trytond.transaction import Transaction

from distributor.access import trusted
from distributor.demo import Part, create

# the smallest monthly target by tier level (1: national agent)
FLOORS = {1: Decimal(200000), 2: Decimal(50000), 3: Decimal(10000)}
DEFAULT_FLOOR = Decimal(10000)
# a target a little above what the distributor buys
UPLIFT = Decimal('1.1')
HUNDRED = Decimal(100)


def _monthly_sell_in(today, company):
    "{distributor id: average monthly sell-in of the last three months}"
    from .sales import sell_in_lines
    lines = sell_in_lines()
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _ in range(2):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    end = today.replace(day=1) - dt.timedelta(days=1)
    cursor = Transaction().connection.cursor()
    cursor.execute(*lines.select(lines.distributor, Sum(lines.amount),
            where=(lines.company == company.id) & (lines.date >= start)
            & (lines.date <= end),
            group_by=[lines.distributor]))
    return {p: Decimal(str(a or 0)) / 3 for p, a in cursor}


def targets(demo):
    "The targets of this year, once: none added when there are some"
    pool = demo.pool
    Target = pool.get('distributor.target')
    Party = pool.get('party.party')
    if Target.search([], limit=1):
        print('targets already there: none added')
        return
    year = demo.today.year
    distributors = Party.search([('is_distributor', '=', True),
            ('distributor_state', '=', 'active')], order=[('id', 'ASC')])
    averages = _monthly_sell_in(demo.today, demo.company)
    vlist = []
    for party in distributors:
        level = party.distributor_tier.level if party.distributor_tier \
            else None
        floor = FLOORS.get(level, DEFAULT_FLOOR)
        base = (averages.get(party.id, Decimal(0)) * UPLIFT / HUNDRED
            ).quantize(Decimal(1), rounding=ROUND_HALF_UP) * HUNDRED
        base = max(base, floor)
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            # a busier end of the year (festivals)
            factor = Decimal('1.2') if month in {1, 2, 12} else Decimal(1)
            vlist.append({
                    'company': demo.company.id,
                    'distributor': party.id,
                    'start_date': dt.date(year, month, 1),
                    'end_date': dt.date(year, month, last),
                    'amount': (base * factor).quantize(Decimal('0.01')),
                    'origin_note': f'Demo {year}',
                    })
    with trusted():
        records = create(Target, vlist, size=500)
        Target.confirm(records)
    demo.report.append(
        f'  targets          {len(records)} (monthly, {year}, confirmed)')


PARTS = [
    Part('targets', targets),
    ]
