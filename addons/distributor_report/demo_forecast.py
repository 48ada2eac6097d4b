# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's sell-in history for the forecasts: for a few active
distributors, one brand sale per month over the 30 months before this one
(a trend, a yearly season peaking before the Spring Festival, some noise),
so that the forecast shows its seasonal model.

The sales are history only: created in draft with their lines, then marked
done and dated back in SQL (the order workflow, with its shipments,
invoices and approvals, would cost minutes for 90 orders and leave
receivables the other demo parts do not expect).

Only the generator imports this file (through demo.py)."""
import math
from decimal import Decimal

from distributor.access import trusted
from distributor.demo import Part

MONTHS = 30
DISTRIBUTORS = 3


def _add_months(date, months):
    index = date.year * 12 + date.month - 1 + months
    return date.replace(year=index // 12, month=index % 12 + 1, day=1)


def history(demo):
    "The monthly sell-in history, once (none added when already there)"
    from trytond.transaction import Transaction
    pool = demo.pool
    Sale = pool.get('sale.sale')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    marker = 'DEMO-HISTORY'
    if Sale.search([('reference', 'like', marker + '%')], limit=1):
        print('sell-in history already there: none added')
        return
    rng = demo.rng
    company = demo.company
    parties = [p for p in Party.search([
                ('is_distributor', '=', True),
                ('distributor_state', '=', 'active'),
                ], order=[('id', 'ASC')])
        if p.addresses and p.dms_buys_from_brand()][:DISTRIBUTORS]
    products = Product.search([('salable', '=', True)],
        order=[('id', 'ASC')], limit=2)
    if not parties or not products:
        print('no distributor or product for the sell-in history')
        return
    first = _add_months(demo.today, -MONTHS)
    to_create = []
    for n, party in enumerate(parties):
        address = party.address_get(type='invoice')
        base = 400 + 150 * n
        for i in range(MONTHS):
            month = _add_months(first, i)
            # peak in January (before the Spring Festival), low in summer
            season = math.cos(2 * math.pi * (month.month - 1) / 12)
            lines = []
            for k, product in enumerate(products):
                quantity = max(round((base + 6 * i) * (1 + 0.35 * season)
                        * (1 - 0.4 * k) * rng.uniform(0.9, 1.1)), 1)
                lines.append({
                        'type': 'line',
                        'product': product.id,
                        'unit': product.sale_uom.id,
                        'quantity': quantity,
                        'unit_price': (product.list_price_used
                            or Decimal(10)),
                        })
            to_create.append({
                    'company': company.id,
                    'currency': company.currency.id,
                    'party': party.id,
                    'invoice_address': address.id,
                    'shipment_address': address.id,
                    'reference': f'{marker}-{party.id}-{i:02d}',
                    'sale_date': month.replace(day=rng.randrange(3, 26)),
                    'lines': [('create', lines)],
                    })
    with trusted():
        sales = Sale.create(to_create)
    sale = Sale.__table__()
    cursor = Transaction().connection.cursor()
    for record, values in zip(sales, to_create):
        cursor.execute(*sale.update([sale.state, sale.sale_date],
                ['done', values['sale_date']], where=sale.id == record.id))
    demo.report.append(f'  sell-in history  {len(sales)} sales '
        f'({len(parties)} distributors, {MONTHS} months)')


PARTS = [
    # before distributor_assessment's targets (demo_target.py): the targets
    # and the assessment's growth KPI see last year's sell-in
    Part('sell-in history', history, before='targets'),
    ]
