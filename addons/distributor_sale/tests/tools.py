# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Builders for the tests of distributor orders (pool based)"
from contextlib import contextmanager
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import (
    acting, channel_manager, create_distributor, network)


def create_accounts(company):
    "Chart, fiscal year with periods and a customer deposit account"
    pool = Pool()
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    FiscalYear = pool.get('account.fiscalyear')
    create_chart(company)
    fiscalyear = set_invoice_sequences(get_fiscalyear(company))
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])
    revenue, = Account.search([
            ('type.revenue', '=', True), ('closed', '!=', True)], limit=1)
    receivable, = Account.search([
            ('type.receivable', '=', True), ('closed', '!=', True)], limit=1)
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    deposit_type, = AccountType.create([{
                'name': "Customer Deposits",
                'statement': 'balance',
                'deposit': True,
                'company': company.id,
                }])
    deposit, = Account.create([{
                'name': "Customer Deposits",
                'code': '2203',
                'type': deposit_type.id,
                'party_required': True,
                'reconcile': True,
                'company': company.id,
                }])
    return SimpleNamespace(revenue=revenue, receivable=receivable,
        cash=cash, deposit=deposit)


def add_deposit(party, amount, accounts):
    "Post a deposit paid by the party"
    pool = Pool()
    Move = pool.get('account.move')
    Journal = pool.get('account.journal')
    Date = pool.get('ir.date')
    Period = pool.get('account.period')
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    today = Date.today()
    period = Period.find(accounts.cash.company, date=today)
    move, = Move.create([{
                'journal': journal.id,
                'period': period,
                'date': today,
                'lines': [('create', [{
                                'account': accounts.cash.id,
                                'debit': amount,
                                'credit': Decimal(0),
                                }, {
                                'account': accounts.deposit.id,
                                'party': party.id,
                                'debit': Decimal(0),
                                'credit': amount,
                                }])],
                }])
    Move.post([move])
    return move


def create_products(accounts):
    "Drinks (P1 at 10, P2 at 20 in packs of 6) and snacks (P3 at 5)"
    pool = Pool()
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', 'Unit')])
    account_category, = Category.create([{
                'name': "Goods", 'accounting': True,
                'account_revenue': accounts.revenue.id,
                }])
    drinks, snacks = Category.create([
            {'name': "Drinks"}, {'name': "Snacks"}])
    juice, = Category.create([{'name': "Juice", 'parent': drinks.id}])

    def template(code, name, price, category, pack=None):
        return {
            'name': name, 'type': 'goods', 'salable': True,
            'default_uom': unit.id, 'sale_uom': unit.id,
            'list_price': Decimal(price),
            'account_category': account_category.id,
            'categories': [('add', [category.id])],
            'pack_quantity': pack,
            'code': code,
            'products': [('create', [{}])],
            }
    t1, t2, t3 = Template.create([
            template('P1', "Cola", 10, drinks),
            template('P2', "Orange Juice", 20, juice, pack=6),
            template('P3', "Crisps", 5, snacks),
            ])
    return SimpleNamespace(
        p1=t1.products[0], p2=t2.products[0], p3=t3.products[0],
        drinks=drinks, snacks=snacks, juice=juice, unit=unit)


@contextmanager
def sale_network():
    """A brand with accounts, products, tier price lists and floors, and
    two active distributors in Jiangsu: D1 on credit, D2 prepaid"""
    pool = Pool()
    PriceList = pool.get('product.price_list')
    PriceFloor = pool.get('distributor.price_floor')
    Tier = pool.get('distributor.tier')
    Address = pool.get('party.address')
    with network() as (company, tiers, territories):
        accounts = create_accounts(company)
        products = create_products(accounts)
        t1, t2, t3 = tiers
        price_list, = PriceList.create([{
                    'name': "Regional price",
                    'price': 'list_price',
                    'lines': [('create', [{'formula': 'unit_price * 0.9'}])],
                    }])
        Tier.write([t2], {
                'price_list': price_list.id,
                'minimum_order_amount': Decimal(50),
                })
        PriceFloor.create([
                {'tier': t2.id, 'product': products.p1.id,
                    'price': Decimal(8)},
                {'tier': t2.id, 'product': products.p2.id,
                    'price': Decimal(15)},
                ])
        d1 = create_distributor('D1', t2, [territories.js],
            settlement_method='credit',
            authorized_categories=[('add', [products.drinks.id])],
            credit_limit_amount=Decimal(1000))
        d2 = create_distributor('D2', t2, [territories.zj],
            settlement_method='prepaid',
            authorized_categories=[('add', [products.drinks.id])])
        Address.create([
                {'party': d1.id, 'street': "Zhongshan Road 1",
                    'territory': territories.nj.id},
                {'party': d2.id, 'street': "Wulin Road 8",
                    'territory': territories.hz.id},
                ])
        yield SimpleNamespace(company=company, tiers=tiers,
            territories=territories, accounts=accounts, products=products,
            price_list=price_list, d1=d1, d2=d2)


def order(party, lines, user=None, **kwargs):
    """Create an order of the distributor through the API, as user (the
    channel manager by default); lines: [(product, quantity[, gift])]"""
    Sale = Pool().get('sale.sale')
    with acting(user or channel_manager()):
        sale_id = Sale.dms_create_order(party.id, [
                {'product': p.id, 'quantity': q,
                    **({'gift': True} if len(x) > 0 and x[0] else {})}
                for p, q, *x in lines], **kwargs)
    return Sale(sale_id)


def ship(sale):
    "Ship the order's shipments and let Tryton process the sale"
    pool = Pool()
    Sale = pool.get('sale.sale')
    ShipmentOut = pool.get('stock.shipment.out')
    run_tasks()
    sale = Sale(sale.id)
    shipments = list(sale.shipments)
    ShipmentOut.assign_force(shipments)
    ShipmentOut.pick(shipments)
    ShipmentOut.pack(shipments)
    ShipmentOut.ship(shipments)
    ShipmentOut.do(shipments)
    Sale.process([sale])
    return Sale(sale.id)


def run_tasks():
    "Run the queued tasks as the dispatcher does after commit"
    pool = Pool()
    Queue = pool.get('ir.queue')
    transaction = Transaction()
    while transaction.tasks:
        task = Queue(transaction.tasks.pop())
        task.run()
