# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_stock module: the distributors' warehouses,
tier min/max levels, lots, opening stock and a month of sell-out, then
transfers, a stock count and the alerts (scripts/generate.py runs it; see
distributor/demo.py for how).  Reads demo.tiers and demo.parties.

The warehouses exist before the first distributor order, which ships to
them: the stock setup runs before the orders of distributor_sale.

Only the generator imports this file, never the module's ``__init__``."""
import datetime as dt

from distributor.demo import Part, create


def stock_setup(demo):
    """Warehouses for the active distributors, tier min/max levels,
    lots with expiry dates, opening stock 45 days ago and a month of
    sell-out (deliveries to stores), so that turnover, days of cover
    and every kind of alert show in the demo"""
    parties, tiers = demo.parties, demo.tiers
    pool = demo.pool
    Party = pool.get('party.party')
    Limit = pool.get('distributor.stock.limit')
    Lot = pool.get('stock.lot')
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    Product = pool.get('product.product')
    Category = pool.get('product.category')
    from trytond.transaction import Transaction
    rng = demo.rng
    active = [p for p in parties if p.distributor_state == 'active']
    Party.dms_ensure_locations(active)
    if Limit.search([], limit=1):
        print('stock limits already there: no channel stock added')
        return
    active = Party.browse(active)
    products = Product.search([('salable', '=', True)],
        order=[('id', 'ASC')])
    scale = {'T1': 10, 'T2': 4, 'T3': 1}
    vlist = []
    for code, tier in sorted(tiers.items()):
        for product in products:
            pack = int(product.pack_quantity or 1)
            minimum = pack * 2 * scale[code]
            vlist.append({'tier': tier.id, 'product': product.id,
                    'min_quantity': minimum,
                    'max_quantity': minimum * 4})
    create(Limit, vlist, size=500)
    supplier, = Location.search([('code', '=', 'SUP')])
    customer, = Location.search([('code', '=', 'CUS')])
    currency = demo.company.currency
    lots = {}
    moves = []
    for party in active:
        categories = Category.search([('parent', 'child_of',
                    [c.id for c in party.authorized_categories])])
        mine = [p for p in products
            if set(p.template.categories) & set(categories)]
        if not mine:
            continue
        storage = party.distributor_storage
        level = scale[party.distributor_tier.code]
        for product in rng.sample(mine, min(len(mine), 5)):
            pack = int(product.pack_quantity or 1)
            opening = pack * level * rng.choice([3, 6, 10, 16])
            lot = None
            if rng.random() < 0.3:
                days = rng.choice([20, 45, 200, 400])
                key = (product.id, days)
                if key not in lots:
                    expiry = demo.today + dt.timedelta(days=days)
                    lots[key], = Lot.create([{
                                'product': product.id,
                                'number': (f'{product.code}-'
                                    f'{expiry:%y%m%d}'),
                                'expiration_date': expiry,
                                }])
                lot = lots[key]
            start = demo.today - dt.timedelta(days=45)
            moves.append(Move(from_location=supplier,
                    to_location=storage, product=product, lot=lot,
                    quantity=opening, unit=product.default_uom,
                    effective_date=start, planned_date=start,
                    unit_price=product.list_price_used,
                    currency=currency, company=demo.company))
            daily = rng.choice([0, 0, pack, level, pack * level])
            left = opening
            for day in range(30, 0, -3):
                quantity = min(
                    left, daily * 3 * rng.choice([0, 1, 1, 2]))
                if not quantity:
                    continue
                left -= quantity
                date = demo.today - dt.timedelta(days=day)
                moves.append(Move(from_location=storage,
                        to_location=customer, product=product, lot=lot,
                        quantity=quantity, unit=product.default_uom,
                        effective_date=date, planned_date=date,
                        unit_price=product.list_price_used,
                        currency=currency, company=demo.company))
    # store deliveries have no origin document until distributor_store
    with Transaction().set_context(_skip_warnings=True):
        for i in range(0, len(moves), 500):
            batch = moves[i:i + 500]
            Move.save(batch)
            Move.do(batch)
    demo.stock_moves = len(moves)


def stock_activity(demo):
    """A transfer in every step (demo.transfers), a stock count waiting
    with a variance and the alerts of the whole network"""
    parties = demo.parties
    pool = demo.pool
    Transfer = pool.get('distributor.stock.transfer')
    Inventory = pool.get('stock.inventory')
    Line = pool.get('stock.inventory.line')
    Level = pool.get('distributor.stock.level')
    Alert = pool.get('distributor.stock.alert')
    from trytond.exceptions import UserError
    if Transfer.search([], limit=1):
        demo.transfers = []
        return
    rng = demo.rng
    active = [p for p in parties if p.distributor_state == 'active'
        and p.distributor_warehouse]
    levels = Level.levels(active, lots=False)
    holders = sorted({(party, product)
            for (party, product, _), q in levels.items() if q >= 12})
    party_of = {p.id: p for p in active}
    made = []
    for target in ['requested', 'approved', 'shipped', 'received',
            'done']:
        for party_id, product_id in rng.sample(holders, len(holders)):
            giver = party_of[party_id]
            receivers = [p for p in active if p != giver
                and set(p.territories) & set(giver.territories
                    + (giver.upstream.territories
                        if giver.upstream else ()))]
            if not receivers:
                continue
            try:
                transfer = Transfer(Transfer.dms_create_transfer(
                        giver.id, rng.choice(receivers).id,
                        [{'product': product_id, 'quantity': 6}],
                        note="区域间调剂库存"))
            except UserError:
                continue
            made.append(transfer)
            if target != 'requested':
                Transfer.approve([transfer])
                Transfer.giver_approve([transfer], giver.id)
            if target in {'shipped', 'received', 'done'}:
                Transfer.ship([transfer])
            if target == 'received':
                line, = transfer.lines
                Transfer.receive_transfers([transfer], {line.id: 5},
                    note="少到 1 件")
            elif target == 'done':
                Transfer.receive_transfers([transfer])
            holders.remove((party_id, product_id))
            break
    # refused requests (a product the receiver may not sell) stay
    # drafts: the demo shows requested transfers only
    Transfer.delete(Transfer.search([('state', '=', 'draft')]))
    if active:
        party = max(active, key=lambda p: sum(
                q for (i, _, _), q in levels.items() if i == p.id))
        inventory = Inventory(Inventory.dms_start_count(party.id))
        if inventory.lines:
            line = inventory.lines[0]
            Line.write([line], {
                    'quantity': max(line.expected_quantity - 2, 0),
                    'variance_reason': 'damaged',
                    'variance_note': "外箱受潮 2 件报损"})
    Alert.refresh()
    demo.transfers = made


PARTS = [
    # the orders of distributor_sale ship to the warehouses made here
    Part('stock setup', stock_setup, before='orders'),
    Part('stock activity', stock_activity),
    ]
