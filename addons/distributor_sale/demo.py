# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_sale module: salable products with tier
price lists, floors and minimum amounts, deposits, and distributor orders
in every channel state (scripts/generate.py runs it; see distributor/demo.py
for how).  Reads demo.tiers and demo.parties; adds demo.orders.

Only the generator imports this file, never the module's ``__init__``."""
from collections import Counter
from decimal import Decimal

from distributor.demo import Part, create


def sale_setup(demo):
    """Make the products salable with an accounting category, give each
    tier a price list, floors and a minimum order amount, open the
    customer deposit account and the instalment payment term"""
    tiers = demo.tiers
    pool = demo.pool
    Template = pool.get('product.template')
    Category = pool.get('product.category')
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    PriceList = pool.get('product.price_list')
    PriceFloor = pool.get('distributor.price_floor')
    Tier = pool.get('distributor.tier')
    PaymentTerm = pool.get('account.invoice.payment_term')
    Configuration = pool.get('distributor.configuration')
    ModelData = pool.get('ir.model.data')
    rng = demo.rng
    unit = ModelData.get_id('product', 'uom_unit')
    company = demo.company
    revenues = Account.search([
            ('type.revenue', '=', True), ('closed', '!=', True),
            ('company', '=', company.id)], limit=1)
    if not revenues:
        raise SystemExit('no chart of accounts: run scripts/setup_db.py')
    accounting = Category.search([('name', '=', "商品")], limit=1)
    if accounting:
        accounting, = accounting
    else:
        accounting, = Category.create([{
                    'name': "商品", 'accounting': True,
                    'account_revenue': revenues[0].id,
                    }])
    templates = Template.search([('salable', '=', False)])
    if templates:
        to_write = []
        for template in templates:
            to_write.extend([[template], {
                        'salable': True,
                        'sale_uom': unit,
                        'account_category': accounting.id,
                        'pack_quantity': rng.choice(
                            [None, None, 6, 12]),
                        }])
        Template.write(*to_write)
    factors = {'T1': Decimal('0.80'), 'T2': Decimal('0.85'),
        'T3': Decimal('0.90')}
    minimums = {'T1': Decimal(5000), 'T2': Decimal(2000),
        'T3': Decimal(500)}
    for code, factor in factors.items():
        tier = tiers[code]
        if tier.price_list:
            continue
        price_list, = PriceList.create([{
                    'name': f"{tier.name}价格表",
                    'price': 'list_price',
                    'lines': [('create', [{
                                    'formula': f'unit_price * {factor}',
                                    }])],
                    }])
        Tier.write([tier], {
                'price_list': price_list.id,
                'minimum_order_amount': minimums[code],
                })
    if not PriceFloor.search([], limit=1):
        Product = pool.get('product.product')
        vlist = []
        for product in Product.search([('salable', '=', True)]):
            for code, factor in factors.items():
                vlist.append({
                        'tier': tiers[code].id,
                        'product': product.id,
                        'price': (product.list_price_used
                            * (factor - Decimal('0.05'))).quantize(
                            Decimal('0.01')),
                        })
        create(PriceFloor, vlist, size=500)
    if not AccountType.search([('deposit', '=', True)], limit=1):
        deposit_type, = AccountType.create([{
                    'name': "预收账款（经销商预付款）",
                    'statement': 'balance',
                    'deposit': True,
                    'company': company.id,
                    }])
        Account.create([{
                    'name': "预收账款-经销商预付款",
                    'code': '2203',
                    'type': deposit_type.id,
                    'party_required': True,
                    'reconcile': True,
                    'company': company.id,
                    }])
    config = Configuration(1)
    if not config.instalment_payment_term:
        term, = PaymentTerm.create([{
                    'name': "分 3 期（30/60/90 天）",
                    'lines': [('create', [{
                                    'type': 'percent_on_total',
                                    'ratio': Decimal('0.3333333333'),
                                    'divisor': Decimal('3'),
                                    'relativedeltas': [('create', [{
                                                    'days': 30}])],
                                    }, {
                                    'type': 'percent_on_total',
                                    'ratio': Decimal('0.3333333333'),
                                    'divisor': Decimal('3'),
                                    'relativedeltas': [('create', [{
                                                    'days': 60}])],
                                    }, {
                                    'type': 'remainder',
                                    'relativedeltas': [('create', [{
                                                    'days': 90}])],
                                    }])],
                    }])
        config.instalment_payment_term = term
        config.save()


def deposits(demo, parties):
    "Deposits paid by the prepaid distributors"
    pool = demo.pool
    Account = pool.get('account.account')
    Move = pool.get('account.move')
    Journal = pool.get('account.journal')
    Period = pool.get('account.period')
    deposit, = Account.search([('type.deposit', '=', True)], limit=1)
    cash = Account.search([
            ('type.receivable', '=', False), ('type.payable', '=', False),
            ('type.deposit', '=', False), ('type.statement', '=',
                'balance'), ('closed', '!=', True),
            ('type.assets', '=', True)], limit=1)
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    period = Period.find(demo.company, date=demo.today)
    vlist = []
    for party in parties:
        if party.settlement_method != 'prepaid' or party.deposit:
            continue
        amount = Decimal(demo.rng.randrange(50, 300) * 1000)
        vlist.append({
                'journal': journal.id,
                'period': period,
                'date': demo.today,
                'description': "经销商预付款",
                'lines': [('create', [{
                                'account': cash[0].id,
                                'debit': amount, 'credit': Decimal(0),
                                }, {
                                'account': deposit.id,
                                'party': party.id,
                                'debit': Decimal(0), 'credit': amount,
                                }])],
                })
    moves = create(Move, vlist)
    Move.post(moves)


def _run_tasks(demo):
    from trytond.transaction import Transaction
    Queue = demo.pool.get('ir.queue')
    transaction = Transaction()
    while transaction.tasks:
        Queue(transaction.tasks.pop()).run()


def _order_lines(demo, party, products):
    "Lines worth the tier's minimum, in pack multiples"
    rng = demo.rng
    tier = party.distributor_tier
    factor = {1: Decimal('0.80'), 2: Decimal('0.85')}.get(
        tier.level, Decimal('0.90'))
    minimum = (tier.minimum_order_amount or 0) * Decimal('1.2')
    chosen = rng.sample(products, min(len(products), rng.randrange(1, 5)))
    lines = []
    amount = Decimal(0)
    for product in chosen:
        pack = int(product.pack_quantity or 1)
        quantity = pack * rng.randrange(2, 8) * max(1, 12 // pack)
        lines.append([product, quantity])
        amount += product.list_price_used * factor * quantity
    if amount and amount < minimum:
        scale = int(minimum / amount) + 1
        for line in lines:
            line[1] *= scale
    return [{'product': p.id, 'quantity': q} for p, q in lines]


def orders(demo):
    """Orders of active distributors in every channel state, with a
    promotion order and a return: demo.orders, the orders made"""
    demo.orders = _orders(demo, demo.parties)
    demo.report.extend(f'  order {state:<10} {n}' for state, n in sorted(
            Counter(s.channel_state for s in demo.orders).items()))


def _orders(demo, parties):
    pool = demo.pool
    Sale = pool.get('sale.sale')
    Product = pool.get('product.product')
    Category = pool.get('product.category')
    Discrepancy = pool.get('distributor.sale.discrepancy')
    ShipmentOut = pool.get('stock.shipment.out')
    ShipmentReturn = pool.get('stock.shipment.out.return')
    from trytond.exceptions import UserError
    if Sale.search([('distributor_order', '=', True)], limit=1):
        print('distributor orders already there: none added')
        return []
    rng = demo.rng
    # orders to the brand: the distributors that buy from it (no
    # upstream) and may trade (a business licence in force)
    active = [p for p in parties if p.distributor_state == 'active'
        and p.addresses and p.dms_buys_from_brand() and p.may_trade()]
    deposits(demo, active)
    products_of = {}
    for party in active:
        categories = Category.search([
                ('parent', 'child_of',
                    [c.id for c in party.authorized_categories])])
        products_of[party.id] = Product.search([
                ('salable', '=', True),
                ('template.categories', 'in', [c.id for c in categories]),
                ], order=[('id', 'ASC')])
    active = [p for p in active if products_of[p.id]]
    plan = (['draft'] * 3 + ['submitted'] * 6 + ['rejected'] * 2
        + ['approved'] * 3 + ['shipped'] * 3 + ['received'] * 2
        + ['done'] * 5 + ['cancelled'] * 2 + ['promotion', 'return'])
    made = []
    for target in plan:
        for _ in range(10):
            party = rng.choice(active)
            kind = {'promotion': 'promotion', 'return': 'return'}.get(
                target, 'regular')
            lines = _order_lines(demo, party, products_of[party.id])
            if kind == 'return':
                lines = [dict(lines[0], quantity=min(
                            lines[0]['quantity'], 12))]
            try:
                reference = f'PO{rng.randrange(10**5, 10**6)}'
                sale = Sale(Sale.dms_create_order(party.id, lines,
                        kind=kind, reference=reference,
                        delivery_method=rng.choice(
                            ['brand', 'brand', 'carrier', 'pickup'])))
                if target == 'draft':
                    made.append(sale)
                    break
                Sale.dms_submit([sale])
            except UserError:
                continue
            if target == 'submitted':
                made.append(sale)
                break
            if target == 'rejected':
                Sale.dms_reject_orders([sale], rng.choice([
                            "数量超出本月配额，请分两次下单",
                            "收货地址需与合同一致",
                            "请改用促销订单参加本期活动"]))
                made.append(sale)
                break
            if target == 'cancelled':
                Sale.dms_cancel_orders([sale], "经销商要求取消")
                made.append(sale)
                break
            if Sale.dms_approve_batch([sale]):
                continue
            _run_tasks(demo)
            sale = Sale(sale.id)
            made.append(sale)
            if target in {'approved', 'promotion'}:
                break
            if target == 'return':
                shipments = list(sale.shipment_returns)
                ShipmentReturn.receive(shipments)
                ShipmentReturn.do(shipments)
                Sale.process([sale])
                _run_tasks(demo)
                break
            shipments = list(sale.shipments)
            ShipmentOut.assign_force(shipments)
            ShipmentOut.pick(shipments)
            ShipmentOut.pack(shipments)
            ShipmentOut.ship(shipments)
            ShipmentOut.do(shipments)
            Sale.process([sale])
            _run_tasks(demo)
            sale = Sale(sale.id)
            if target == 'shipped':
                break
            if target == 'received':
                line = sale.line_lines[0]
                Sale.dms_confirm_receipt([sale], {
                        line.id: max(line.quantity - 2, 0)},
                    note="运输途中破损 2 件")
                break
            Sale.dms_confirm_receipt([sale])
            break
    # one shortfall already resolved by a credit note
    for discrepancy in Discrepancy.search([], limit=1):
        Discrepancy.resolve_discrepancies(
            [discrepancy], 'credit', "承运商赔付，开红字发票冲抵")
    return made


PARTS = [
    Part('sale setup', sale_setup),
    Part('orders', orders),
    ]
