# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's rebates: a published rebate policy for a handful of active
distributors with a quarterly program (the drinks category, 2 tiers,
whole volume) whose current quarter has posted invoices (the accruals
computed mid-period: some distributors past the first tier, some on
their way), and the previous quarter settled as rebate balance, which
gives one distributor a ledger balance to spend on its orders.  Adds
demo.rebate_policy.

Only the generator imports this file (through demo.py)."""
import datetime as dt
from decimal import Decimal

from distributor.demo import Part

BODY = ("<p>季度返利：饮料类产品季度开票金额（扣除退货）达到 "
    "<b>5 万元返 2%</b>，达到 <b>10 万元返 3%</b>（全额适用）。</p>"
    "<p>返利于季度结束后经审核计入返利账户，可在后续订单中抵扣。</p>")


def _quarter(date):
    month = ((date.month - 1) // 3) * 3 + 1
    start = date.replace(month=month, day=1)
    end = (start.replace(year=start.year + 1, month=1) if month == 10
        else start.replace(month=month + 3)) - dt.timedelta(days=1)
    return start, end


def _invoice(demo, party, lines, date):
    "A posted customer invoice of lines [(product, quantity, price)]"
    pool = demo.pool
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    company = demo.company
    receivable, = Account.search([('type.receivable', '=', True),
            ('closed', '!=', True), ('company', '=', company.id)], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    invoice = Invoice(type='out', party=party, invoice_date=date,
        company=company, currency=company.currency,
        account=party.account_receivable or receivable,
        invoice_address=party.address_get(type='invoice'),
        journal=journal, payment_term=None,
        description="返利演示开票")
    invoice.lines = [Line(type='line', product=product,
            quantity=quantity, unit=product.sale_uom or product.default_uom,
            unit_price=price, taxes=[], company=company,
            currency=company.currency,
            account=product.account_revenue_used)
        for product, quantity, price in lines]
    invoice.save()
    Invoice.post([invoice])
    return invoice


def rebates(demo):
    """The rebate policy, its accruals and a settled quarter, once"""
    pool = demo.pool
    Policy = pool.get('distributor.policy')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    Category = pool.get('product.category')
    Accrual = pool.get('distributor.rebate.accrual')
    Settlement = pool.get('distributor.rebate.settlement')
    Invoice = pool.get('account.invoice')
    Period = pool.get('account.period')
    demo.rebate_policy = None
    if Policy.search([('kind', '=', 'rebate')], limit=1):
        print('rebate policies already there: none added')
        return
    today = demo.today
    current = _quarter(today)
    previous = _quarter(current[0] - dt.timedelta(days=1))
    drinks = Category.search([('name', '=', "饮料")], limit=1)
    if not drinks:
        print('no drinks category: no rebate demo')
        return
    drinks, = drinks
    products = Product.search([
            ('template.categories', 'child_of', [drinks.id], 'parent'),
            ('salable', '=', True),
            ], order=[('id', 'ASC')], limit=4)
    parties = Party.search([
            ('is_distributor', '=', True),
            ('distributor_state', '=', 'active'),
            ('addresses', '!=', None),
            ], order=[('id', 'ASC')], limit=6)
    if not products or len(parties) < 2:
        print('no products or distributors: no rebate demo')
        return
    policy, = Policy.create([{
                'title': f"{current[0].year} 年饮料季度返利",
                'kind': 'rebate', 'body': BODY,
                'start_date': previous[0],
                'end_date': current[0].replace(month=12, day=31),
                'distributors': [('add', [p.id for p in parties])],
                'rebate_programs': [('create', [{
                                'name': "饮料季度返利",
                                'basis': 'amount',
                                'period': 'quarter',
                                'tier_mode': 'whole',
                                'start_date': previous[0],
                                'end_date': current[0].replace(
                                    month=12, day=31),
                                'categories': [('add', [drinks.id])],
                                'tiers': [('create', [
                                            {'threshold': Decimal(50000),
                                                'rate': Decimal(2)},
                                            {'threshold': Decimal(100000),
                                                'rate': Decimal(3)},
                                            ])],
                                }])],
                }])
    Policy.publish([policy])
    policy = Policy(policy.id)
    program, = policy.rebate_programs
    demo.rebate_policy = policy
    rng = demo.rng
    # the previous quarter: invoiced before anything of this quarter (a
    # fiscal year numbers its invoices in date order), if the books
    # have it and nothing later is numbered yet
    settled_party = parties[0]
    previous_date = previous[1] - dt.timedelta(days=3)
    can_go_back = bool(Period.search([
                ('start_date', '<=', previous_date),
                ('end_date', '>=', previous_date),
                ('type', '=', 'standard'),
                ('state', '=', 'open'),
                ], limit=1)) and not Invoice.search([
            ('type', '=', 'out'), ('number', '!=', None),
            ('invoice_date', '>', previous_date)], limit=1)
    if can_go_back:
        _invoice(demo, settled_party,
            [(products[0], 4000, Decimal(15))], previous_date)
    # this quarter: volumes from far below the first tier to past the
    # second, credit notes included
    targets = [Decimal(v) for v in [120000, 72000, 46000, 18000, 5000]]
    for party, target in zip(parties, targets):
        product = products[rng.randrange(len(products))]
        price = Decimal(20)
        quantity = int(target / price)
        _invoice(demo, party, [(product, quantity, price)], today)
        if target > 50000:
            _invoice(demo, party, [(product, -50, price)], today)
    Accrual.compute([program], date=today)
    # the previous quarter settled as rebate balance
    if can_go_back:
        settlement, = Settlement.create([{
                    'program': program.id, 'method': 'ledger',
                    'period_start': previous[0],
                    'period_end': previous[1],
                    }])
        Settlement.compute([settlement])
        Settlement.approve([settlement])
        Settlement.settle([settlement])
    accruals = Accrual.of(program, current[0])
    reached = sum(1 for a in accruals.values() if a.tier_threshold)
    demo.report.append(f'  rebates    1 program, {len(accruals)} '
        f'accruals ({reached} past a tier)'
        + (', 1 settled quarter' if can_go_back else ''))


PARTS = [
    Part('rebates', rebates),
    ]
