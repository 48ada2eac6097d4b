# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Builders for the tests of channel stock (pool based)"
import datetime as dt

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting, channel_manager
from distributor_sale.tests.tools import order, run_tasks, ship


def _currency():
    Company = Pool().get('company.company')
    return Company(Transaction().context['company']).currency


def brand_stock(product, quantity, lot=None):
    "Put goods into the brand's warehouse (from a supplier)"
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    supplier, = Location.search([('code', '=', 'SUP')])
    move = Move(from_location=supplier,
        to_location=Location.brand_storage(), product=product,
        quantity=quantity, unit=product.default_uom, lot=lot,
        effective_date=pool.get('ir.date').today(),
        unit_price=product.template.list_price, currency=_currency())
    move.save()
    Move.do([move])
    return move


def move_stock(party, product, quantity, lot=None, days_ago=0,
        sellout=False):
    """Goods into the distributor's storage (from a supplier location), or
    sell-out from it to the customer location when sellout"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    supplier, = Location.search([('code', '=', 'SUP')])
    customer, = Location.search([('code', '=', 'CUS')])
    storage = party.distributor_storage
    date = pool.get('ir.date').today() - dt.timedelta(days=days_ago)
    move = Move(
        from_location=storage if sellout else supplier,
        to_location=customer if sellout else storage,
        product=product, quantity=quantity, unit=product.default_uom,
        lot=lot, effective_date=date, planned_date=date,
        unit_price=product.template.list_price, currency=_currency())
    move.save()
    # simulated store deliveries have no origin document
    with Transaction().set_context(_skip_warnings=True):
        Move.do([move])
    return move


def received_order(party, lines, received=None, lots=None, user=None):
    """An order of the distributor shipped by the brand (with the lots
    given per product) and received (quantities per product): ordered,
    approved and received through the API as user (the channel manager
    by default), shipped by the brand's warehouse"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Move = pool.get('stock.move')
    user = user or channel_manager()
    sale = order(party, lines, user)
    with acting(user):
        Sale.dms_submit([sale])
        Sale.dms_approve([sale])
    run_tasks()
    if lots:
        sale = Sale(sale.id)
        for shipment in sale.shipments:
            for move in shipment.inventory_moves:
                if move.product in lots:
                    Move.write([move], {'lot': lots[move.product].id})
    sale = ship(Sale(sale.id))
    quantities = None
    if received:
        quantities = {l.id: received[l.product]
            for l in sale.lines if l.product in received}
    with acting(user):
        Sale.dms_confirm_receipt([sale], quantities)
    return Sale(sale.id)
