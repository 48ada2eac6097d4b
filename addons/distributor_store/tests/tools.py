# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Builders for the tests of stores and channel orders (pool based)"
import datetime as dt
from contextlib import contextmanager
from types import SimpleNamespace

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import (
    acting, channel_manager, create_distributor, sales_rep, staff_user)
from distributor_sale.tests.tools import sale_network
from distributor_stock.tests.tools import move_stock


def create_store(name, distributor, territory, **values):
    Party = Pool().get('party.party')
    store, = Party.create([{
                'name': name,
                'is_store': True,
                'store_distributor': distributor.id,
                'store_territory': territory.id,
                **values,
                }])
    return store


@contextmanager
def store_network():
    """sale_network plus D3, a county distributor below D1 in Nanjing,
    stores S1 (Nanjing) and S2 (Suzhou) of D1, S3 (Hangzhou) of D2, and
    a terminal customer C1 of D1"""
    pool = Pool()
    Party = pool.get('party.party')
    with sale_network() as n:
        t = n.territories
        d3 = create_distributor('D3', n.tiers[2], [t.nj], upstream=n.d1,
            authorized_categories=[('add', [n.products.drinks.id])])
        s1 = create_store("Store Nanjing", n.d1, t.nj, store_size='small',
            cooperation_type='direct')
        s2 = create_store("Store Suzhou", n.d1, t.sz, store_size='large',
            cooperation_type='franchise')
        s3 = create_store("Store Hangzhou", n.d2, t.hz, store_size='small')
        c1, = Party.create([{
                    'name': "Customer Wang",
                    'is_terminal_customer': True,
                    'customer_distributor': n.d1.id,
                    'customer_store': s1.id,
                    }])
        yield SimpleNamespace(**vars(n), d3=d3, s1=s1, s2=s2, s3=s3, c1=c1)


def channel_order(seller, buyer, lines, submit=True, user=None):
    """A channel order of buyer to seller entered and submitted in the back
    office by user (the channel manager by default); lines: [(product,
    quantity)]"""
    Order = Pool().get('distributor.channel.order')
    with acting(user or channel_manager()):
        order, = Order.create([{
                    'seller': seller.id,
                    'buyer': buyer.id,
                    'lines': [('create', [{
                                    'product': p.id, 'quantity': q}
                                for p, q in lines])],
                    }])
        if submit:
            Order.submit([order])
    return Order(order.id)


def delivered_order(seller, buyer, lines, days_ago=0, user=None):
    """A channel order submitted, approved and delivered by user (the
    channel manager by default), dated days_ago days back, with the stock
    it needs put in the seller's storage"""
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Move = pool.get('stock.move')
    user = user or channel_manager()
    for product, quantity in lines:
        move_stock(seller, product, quantity, days_ago=days_ago)
    order = channel_order(seller, buyer, lines, user=user)
    with acting(user):
        Order.approve([order])
        Order.deliver([order])
    order = Order(order.id)
    if days_ago:
        date = pool.get('ir.date').today() - dt.timedelta(days=days_ago)
        Order.write([order], {'delivered_date': date})
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*move.update([move.effective_date], [date],
                where=move.id.in_([m.id for m in order.moves])))
    return Order(order.id)


@contextmanager
def trust_world():
    """store_network with the users of every role and, for D1 (Jiangsu,
    the 'own' side of the sales rep) and D2 (Zhejiang, its 'foreign'
    side), documents in every state an entry point acts on.

    Each side has: party, territory, store, closed_store, downstream (a
    county distributor below it), draft_distributor, frozen_distributor,
    sale_draft, sale_low (a line under the price floor), sale_submitted,
    sale_shipped, discrepancy, message, alert, transfer_* (draft,
    requested, approved, shipped, rejected, received with a shortfall, from
    the party to its downstream), count, co_* (channel orders of the party
    to its store: draft, submitted, approved with stock, delivered,
    rejected, received with a shortfall), co_down_submitted and
    co_down_delivered (to its downstream), check (a draft shelf check),
    incident_open, incident_confirmed, promotion_draft, promotion_active,
    plan_draft, plan_running, plan_cancelled, payment (draft) and
    spare_store (a store without orders)."""
    from decimal import Decimal

    from trytond.modules.company.tests import create_employee

    from distributor_sale.tests.tools import add_deposit, order, run_tasks
    from distributor_sale.tests.tools import ship
    from distributor_stock.tests.test_module import create_lot

    pool = Pool()
    Party = pool.get('party.party')
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    Limit = pool.get('distributor.stock.limit')
    Alert = pool.get('distributor.stock.alert')
    Transfer = pool.get('distributor.stock.transfer')
    Inventory = pool.get('stock.inventory')
    Order = pool.get('distributor.channel.order')
    Check = pool.get('distributor.store.check')
    Incident = pool.get('distributor.diversion.incident')
    Promotion = pool.get('distributor.store.promotion')
    Plan = pool.get('distributor.coverage.plan')
    Payment = pool.get('distributor.store.payment')
    Price = pool.get('distributor.store.price')
    StoreLimit = pool.get('distributor.store.limit')
    Message = pool.get('distributor.message')
    Date = pool.get('ir.date')
    today = Date.today()
    with store_network() as n:
        t = n.territories
        p1, p2 = n.products.p1, n.products.p2
        n.users = SimpleNamespace(
            manager=channel_manager(),
            rep=sales_rep([t.js], create_employee(n.company, "Rep Jiangsu")),
            accountant=staff_user('accountant'),
            plain=staff_user('plain'),
            )
        add_deposit(n.d2, Decimal(100000), n.accounts)
        d4 = create_distributor('D4', n.tiers[2], [t.hz], upstream=n.d2,
            authorized_categories=[('add', [n.products.drinks.id])])
        Limit.create([{'tier': n.tiers[1].id, 'product': p1.id,
                    'min_quantity': 50, 'max_quantity': 100}])
        sides = {}
        for key, party, store, territory, downstream in [
                ('own', n.d1, n.s1, t.nj, n.d3),
                ('foreign', n.d2, n.s3, t.hz, d4)]:
            s = SimpleNamespace(key=key, party=party, store=store,
                territory=territory, downstream=downstream)
            code = party.distributor_code
            s.draft_distributor = create_distributor(
                f'{code}-NEW', n.tiers[2], [territory], activate=False)
            s.frozen_distributor = create_distributor(
                f'{code}-FRZ', n.tiers[2], [territory])
            Party.change_distributor_state(
                [s.frozen_distributor], 'frozen', "Overdue")
            s.closed_store = create_store(f"{code} closed", party,
                territory)
            s.spare_store = create_store(f"{code} spare", party, territory)
            Party.store_close([s.closed_store])
            # distributor orders
            s.sale_draft = order(party, [(p1, 10)])
            s.sale_low = order(party, [(p1, 10)])
            SaleLine.write(list(s.sale_low.lines),
                {'unit_price': Decimal(1)})
            s.sale_submitted = order(party, [(p1, 10)], submit=True)
            shipped = order(party, [(p1, 10)], submit=True)
            Sale.dms_approve([shipped])
            s.sale_shipped = ship(shipped)
            received = order(party, [(p1, 10)], submit=True)
            Sale.dms_approve([received])
            received = ship(received)
            Sale.dms_confirm_receipt(
                [received], {received.lines[0].id: 8})
            s.discrepancy, = Sale(received.id).discrepancies
            s.message = Message.search([('party', '=', party.id)],
                limit=1)[0]
            # stock: the received goods and more
            move_stock(party, p1, 200)
            Limit.create([{'party': party.id, 'product': p2.id,
                        'min_quantity': 10, 'max_quantity': 20}])
            Alert.refresh([party])
            s.alert, = Alert.search([('party', '=', party.id),
                    ('kind', '=', 'low'), ('state', '=', 'open')])

            def transfer(state):
                record, = Transfer.create([{
                            'from_party': party.id,
                            'to_party': downstream.id,
                            'lines': [('create', [{
                                            'product': p1.id,
                                            'quantity': 2}])],
                            }])
                if state == 'draft':
                    return record
                Transfer.request([record])
                if state == 'requested':
                    return Transfer(record.id)
                if state == 'rejected':
                    Transfer.reject_transfers([record], "No")
                    return Transfer(record.id)
                Transfer.approve([record])
                Transfer.giver_approve([record], party)
                if state == 'approved':
                    return Transfer(record.id)
                Transfer.ship([record])
                if state == 'shipped':
                    return Transfer(record.id)
                line, = Transfer(record.id).lines
                Transfer.receive_transfers([record], {line.id: 1})
                return Transfer(record.id)
            for state in ['draft', 'requested', 'approved', 'shipped',
                    'rejected', 'received']:
                setattr(s, f'transfer_{state}', transfer(state))
            s.count = Inventory(Inventory.dms_start_count(party))

            # channel orders to the store and to the downstream
            def channel(state, buyer=store):
                record = channel_order(party, buyer, [(p1, 2)],
                    submit=state != 'draft')
                if state in {'draft', 'submitted'}:
                    return record
                if state == 'rejected':
                    Order.reject_orders([record], "No")
                    return Order(record.id)
                Order.approve([record])
                if state == 'approved':
                    return Order(record.id)
                Order.deliver([record])
                if state == 'delivered':
                    return Order(record.id)
                line, = Order(record.id).lines
                Order.receive_orders([record], {line.id: 1})
                return Order(record.id)
            for state in ['draft', 'submitted', 'approved', 'delivered',
                    'rejected', 'received']:
                setattr(s, f'co_{state}', channel(state))
            s.co_down_submitted = channel('submitted', downstream)
            s.co_down_delivered = channel('delivered', downstream)
            s.check, = Check.create([{'store': store.id, 'lines': [
                            ('create', [{'product': p1.id,
                                        'quantity': 3}])]}])
            lot = create_lot(p1, f'{code}-LOT')
            s.incident_open, s.incident_confirmed = Incident.create([{
                        'date': today, 'store': store.id,
                        'store_distributor': party.id,
                        'shipped_to': party.id, 'product': p1.id,
                        'lot': lot.id, 'quantity': 1,
                        } for _ in range(2)])
            Incident.confirm([s.incident_confirmed])
            common = {'distributor': party.id, 'kind': 'percentage',
                'percentage': Decimal('0.05'), 'start_date': today,
                'end_date': today + dt.timedelta(days=10)}
            s.promotion_draft, s.promotion_active = Promotion.create([
                    dict(common, name=f"{code} draft"),
                    dict(common, name=f"{code} active",
                        products=[('add', [p2.id])])])
            Promotion.activate([s.promotion_active])

            def plan(name):
                record, = Plan.create([{'name': name,
                            'owner_distributor': party.id,
                            'start_date': today, 'deadline': today,
                            'products': [('add', [p1.id])]}])
                return record
            s.plan_draft = plan(f"{code} draft")
            s.plan_running = plan(f"{code} running")
            Plan.start([s.plan_running])
            s.plan_cancelled = plan(f"{code} cancelled")
            Plan.cancel([s.plan_cancelled])
            s.payment, = Payment.create([{'distributor': party.id,
                        'store': store.id, 'amount': Decimal(10),
                        'method': 'cash'}])
            Price.create([{'distributor': party.id, 'product': p1.id,
                        'price': Decimal(11)}])
            StoreLimit.create([{'store': store.id, 'product': p1.id,
                        'min_quantity': 10, 'max_quantity': 20}])
            run_tasks()
            sides[key] = s
        n.sides = sides
        n.d4 = d4
        yield n
