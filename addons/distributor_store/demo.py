# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor_store module: demo.options.stores stores in
the territories of the active distributors, terminal customers, store
price bounds and prices, store promotions, channel orders in every state,
shelf checks with a diversion incident, a coverage plan in progress, store
limits and payments (scripts/generate.py runs it; see distributor/demo.py
for how).  Reads demo.parties, demo.regions and demo.reps; adds demo.stores
and demo.channel_orders.

Only the generator imports this file, never the module's ``__init__``."""
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

from distributor.demo import (
    GIVEN, NAME_WORDS, REFERENCE, STREETS, SURNAMES, Part, create)

STORE_SUFFIXES = ["便利店", "超市", "生活超市", "副食店", "烟酒店", "社区店",
    "购物中心", "批发部"]
STORE_TAGS = ["社区店", "校园店", "商超", "餐饮终端", "24小时店"]
# rough centres (latitude, longitude) of the demo regions
REGION_CENTERS = {
    'HD': (31.2, 120.5), 'HN': (23.1, 113.3), 'HB': (39.9, 116.4),
    'XN': (30.6, 104.1)}
REJECT_REASONS = ["门店本月账款未结清，请先回款", "订货量超出门店陈列能力",
    "该品项门店不在铺货范围"]
CANCEL_REASONS = ["门店要求取消", "重复下单", "门店临时停业装修"]
DELIVERED_STATES = {'delivered', 'received', 'done'}


def _store_name(demo, territory):
    city = territory.name.rstrip('市区县省')
    for attempt in range(10**6):
        name = (city + demo.rng.choice(NAME_WORDS)
            + demo.rng.choice(STORE_SUFFIXES))
        if attempt >= 50:
            # a city full of stores: number the branches
            name += f'（{attempt}号店）'
        if name not in demo.names:
            demo.names.add(name)
            return name


def _person(demo):
    return demo.rng.choice(SURNAMES) + ''.join(demo.rng.sample(GIVEN, 2))


def stores(demo):
    """demo.options.stores stores of the active distributors in their
    territories (size classes, cooperation types, tags, coordinates for
    most), a few closed, one moved to its distributor's upstream, and
    terminal customers: demo.stores, None when there were some already"""
    demo.stores = _stores(
        demo, demo.parties, demo.options.stores, demo.regions)
    if demo.stores:
        demo.report.append(f'  stores     {len(demo.stores)}')


def _made_stores(demo):
    "Whether this run made the stores (none were there before)"
    return bool(demo.options.stores) and demo.stores is not None


def _stores(demo, parties, count, regions):
    pool = demo.pool
    Party = pool.get('party.party')
    Category = pool.get('party.category')
    Territory = pool.get('distributor.territory')
    rng = demo.rng
    if Party.search([('is_store', '=', True)], limit=1):
        print('stores already there: none added')
        return None
    suppliers = [p for p in parties if p.distributor_state == 'active'
        and p.territories]
    if not suppliers or not count:
        return []
    existing = {c.name: c for c in Category.search([
                ('name', 'in', STORE_TAGS)])}
    Category.create([{'name': n} for n in STORE_TAGS
            if n not in existing])
    tags = Category.search([('name', 'in', STORE_TAGS)],
        order=[('id', 'ASC')])
    region_of = {}
    for region in regions:
        for territory_id in Territory.area([region]):
            region_of[territory_id] = region
    places = {}

    def place(party):
        "The cities and counties of the distributor's area"
        if party.id not in places:
            area = Territory.browse(sorted(party.distributor_area()))
            places[party.id] = [t for t in area
                if t.kind in {'city', 'county'}] or list(
                party.territories)
        return places[party.id]
    # county distributors run most stores, national agents a few
    weights = [{1: 1, 2: 2}.get(p.distributor_tier.level, 3)
        for p in suppliers]
    vlist = []
    for _ in range(count):
        distributor = rng.choices(suppliers, weights=weights)[0]
        territory = rng.choice(place(distributor))
        values = {
            'name': _store_name(demo, territory),
            'is_store': True,
            'store_distributor': distributor.id,
            'store_territory': territory.id,
            'store_size': rng.choices(
                ['small', 'medium', 'large', 'hypermarket'],
                weights=[10, 6, 3, 1])[0],
            'cooperation_type': rng.choices(
                ['direct', 'franchise', 'key_account', 'chain',
                    'wholesale'], weights=[10, 4, 2, 4, 2])[0],
            'store_opening_date': REFERENCE - dt.timedelta(
                days=rng.randrange(30, 2500)),
            'store_contact': _person(demo),
            'categories': [('add', [t.id for t in rng.sample(
                            tags, rng.randrange(0, 3))])],
            'addresses': [('create', [{
                            'street': f'{rng.choice(STREETS)} '
                            f'{rng.randrange(1, 999)} 号',
                            'city': territory.name,
                            'territory': territory.id,
                            }])],
            }
        region = region_of.get(territory.id)
        if region and region.code in REGION_CENTERS and (
                rng.random() < 0.7):
            latitude, longitude = REGION_CENTERS[region.code]
            values['latitude'] = Decimal(str(round(
                        latitude + rng.uniform(-1.5, 1.5), 6)))
            values['longitude'] = Decimal(str(round(
                        longitude + rng.uniform(-1.5, 1.5), 6)))
        vlist.append(values)
    stores = create(Party, vlist)
    # a few closed
    closed = rng.sample(stores, max(1, len(stores) // 40))
    Party.store_close(closed)
    # one store taken over by its county distributor's upstream
    for store in stores:
        distributor = store.store_distributor
        upstream = distributor.upstream
        if (store not in closed and upstream and upstream.may_trade()
                and store.store_territory.id
                in upstream.distributor_area()):
            Party.move_stores([store], upstream, None,
                "原经销商无力覆盖该门店，区域调整由上级经销商直供")
            break
    stores = Party.browse(list(map(int, stores)))
    closed = set(map(int, closed))
    # terminal customers: key buyers of the distributors with stores
    owners = sorted({s.store_distributor for s in stores},
        key=lambda p: p.id)
    vlist = []
    for distributor in rng.sample(owners,
            min(len(owners), max(1, count // 8))):
        mine = [s for s in stores if s.store_distributor == distributor
            and s.id not in closed]
        store = rng.choice(mine) if mine and rng.random() < 0.6 \
            else None
        vlist.append({
                'name': _person(demo) + rng.choice(
                    ["", "（餐馆）", "（单位食堂）", "（团购团长）"]),
                'is_terminal_customer': True,
                'customer_distributor': distributor.id,
                'customer_store': store.id if store else None,
                'categories': [('add', [t.id for t in rng.sample(
                                tags, rng.randrange(0, 2))])],
                })
    create(Party, vlist)
    return stores


def store_pricing(demo):
    """The brand's store price bounds (one for the network, one for
    the first region, per product) and the store prices of the
    distributors with stores, inside their bounds"""
    regions = demo.regions
    pool = demo.pool
    Product = pool.get('product.product')
    Bound = pool.get('distributor.store.price.bound')
    Price = pool.get('distributor.store.price')
    Party = pool.get('party.party')
    rng = demo.rng
    if Bound.search([], limit=1):
        return
    products = Product.search([('salable', '=', True)],
        order=[('id', 'ASC')])
    vlist = []
    for product in products:
        base = product.list_price_used or Decimal(10)

        def price(factor):
            return (base * factor).quantize(Decimal('0.01'))
        vlist.append({'product': product.id,
                'guide_price': price(Decimal('1.25')),
                'min_price': price(Decimal('1.05')),
                'max_price': price(Decimal('1.50'))})
        if regions:
            # the first region sells higher
            vlist.append({'product': product.id,
                    'territory': regions[0].id,
                    'guide_price': price(Decimal('1.30')),
                    'min_price': price(Decimal('1.15')),
                    'max_price': price(Decimal('1.60'))})
    create(Bound, vlist, size=500)
    owners = Party.search([
            ('is_distributor', '=', True),
            ('distributor_state', '=', 'active'),
            ('stores', '!=', None),
            ], order=[('id', 'ASC')])
    vlist = []
    for distributor in owners:
        if rng.random() < 0.4:
            continue
        chosen = rng.sample(products, min(len(products), 4))
        bounds = Bound.bounds_for(distributor, chosen)
        for product in chosen:
            bound = bounds[product.id][0]
            factor = Decimal(rng.choice([90, 95, 100, 100, 105])) / 100
            value = min(max((bound.guide_price * factor).quantize(
                            Decimal('0.01')), bound.min_price),
                bound.max_price)
            vlist.append({'distributor': distributor.id,
                    'product': product.id, 'price': value})
    create(Price, vlist, size=500)


def _channel_order(demo, seller, buyer, lines, comment=None):
    Order = demo.pool.get('distributor.channel.order')
    order, = Order.create([{
                'seller': seller.id,
                'buyer': buyer.id,
                'comment': comment,
                'lines': [('create', [{
                                'product': p.id, 'quantity': q}
                            for p, q in lines])],
                }])
    return order


def store_orders(demo):
    """Store promotions, then channel orders in every state (one
    approved order back-ordered, one of a downstream distributor to
    its upstream, one of a terminal customer) through the model's
    workflow methods, stock permitting: demo.channel_orders"""
    demo.channel_orders = _store_orders(demo, demo.stores)
    demo.report.extend(f'  channel order {state:<10} {n}'
        for state, n in sorted(
            Counter(o.state for o in demo.channel_orders).items()))


def _store_orders(demo, stores):
    pool = demo.pool
    Order = pool.get('distributor.channel.order')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    Level = pool.get('distributor.stock.level')
    Promotion = pool.get('distributor.store.promotion')
    Price = pool.get('distributor.store.price')
    rng = demo.rng
    if Order.search([], limit=1):
        print('channel orders already there: none added')
        return []
    stores = [s for s in stores if s.store_state == 'active'
        and s.store_distributor.may_trade()]
    sellers = sorted({s.store_distributor for s in stores},
        key=lambda p: p.id)
    distributors = Party.search([
            ('is_distributor', '=', True),
            ('distributor_state', '=', 'active'),
            ], order=[('id', 'ASC')])
    stock = defaultdict(float)
    for (party, product, _), quantity in Level.levels(
            distributors, lots=False).items():
        stock[(party, product)] += quantity
    products = {p.id: p for p in Product.search([], order=[])}
    stocked = defaultdict(list)
    for (party, product), quantity in sorted(stock.items()):
        if quantity > 0:
            stocked[party].append(products[product])
    stores = [s for s in stores if stocked[s.store_distributor.id]]
    sellers = [s for s in sellers if stocked[s.id]]
    if not stores:
        return []
    today = demo.today

    def pack(product):
        return int(product.pack_quantity or 1)

    # promotions of the two distributors with the most stores
    by_seller = defaultdict(list)
    for store in stores:
        by_seller[store.store_distributor].append(store)
    ranked = sorted(sellers, key=lambda p: (-len(by_seller[p]), p.id))
    gifts = {}
    first = ranked[0]
    promotions = Promotion.create([{
                'name': f"{today.month}月全场九五折",
                'distributor': first.id, 'kind': 'percentage',
                'percentage': Decimal('0.05'),
                'start_date': today - dt.timedelta(days=10),
                'end_date': today + dt.timedelta(days=20),
                }, {
                'name': "满 800 减 50",
                'distributor': first.id, 'kind': 'threshold',
                'threshold_amount': Decimal(800),
                'amount_off': Decimal(50),
                'start_date': today - dt.timedelta(days=10),
                'end_date': today + dt.timedelta(days=20),
                }])
    # buy X get Y: the next one with enough of a product to give
    offers = [(s, p) for s in ranked[1:] for p in stocked[s.id]
        if stock[(s.id, p.id)] >= pack(p) * 8]
    if offers:
        second, product = offers[0]
        # the gift is at most a fifth of the goods
        buy = pack(product) * min(10,
            int(stock[(second.id, product.id)] / pack(product) / 2))
        promotion, = Promotion.create([{
                    'name': f"{product.name} 买 {buy} 赠 "
                    f"{pack(product)}",
                    'distributor': second.id, 'kind': 'buy_get',
                    'buy_quantity': buy,
                    'gift_product': product.id,
                    'gift_quantity': pack(product),
                    'products': [('add', [product.id])],
                    'start_date': today - dt.timedelta(days=5),
                    'end_date': today + dt.timedelta(days=25),
                    }])
        promotions.append(promotion)
        gifts[second.id] = (product, buy, pack(product))
    # last month's promotion, closed
    closed, = Promotion.create([{
                'name': "开业季九折",
                'distributor': first.id, 'kind': 'percentage',
                'percentage': Decimal('0.10'),
                'start_date': today - dt.timedelta(days=60),
                'end_date': today - dt.timedelta(days=31),
                }])
    Promotion.activate(promotions + [closed])
    Promotion.close([closed])
    # a promotion being prepared
    Promotion.create([{
                'name': "节日满 2000 减 150",
                'distributor': first.id, 'kind': 'threshold',
                'threshold_amount': Decimal(2000),
                'amount_off': Decimal(150),
                'start_date': today + dt.timedelta(days=30),
                'end_date': today + dt.timedelta(days=45),
                }])

    def need(seller, product, quantity):
        "The quantity delivered with the buy X get Y gifts"
        gift = gifts.get(seller.id)
        if gift and gift[0] == product:
            return quantity + (quantity // gift[1]) * gift[2]
        return quantity

    def pick(seller, share=3, products=None):
        """A product of the seller's stock and a quantity in packs
        taking at most 1/share of what is left, or None"""
        choices = [p for p in (products or stocked[seller.id])
            if stock[(seller.id, p.id)] >= pack(p) * 2]
        if not choices:
            return None
        product = rng.choice(choices)
        left = stock[(seller.id, product.id)]
        packs = max(1, min(rng.randrange(1, 6),
                int(left / share / pack(product))))
        # two units at least: a receipt can then be short of one
        quantity = max(packs * pack(product), 2)
        if need(seller, product, quantity) > left:
            return None
        return product, quantity

    made = []

    def run(order, target, lines):
        "Take the order through the workflow up to target"
        if target == 'draft':
            return
        if target == 'cancelled' and rng.random() < 0.5:
            Order.cancel_orders([order], rng.choice(CANCEL_REASONS))
            return
        Order.submit([order])
        if target == 'submitted':
            return
        if target == 'rejected':
            Order.reject_orders([order], rng.choice(REJECT_REASONS))
            return
        Order.approve([order])
        if target == 'cancelled':
            Order.cancel_orders([order], rng.choice(CANCEL_REASONS))
            return
        if target in {'approved', 'backordered'}:
            return
        order = Order(order.id)
        for line in order.lines:
            stock[(order.seller.id, line.product.id)] -= line.quantity
        Order.deliver([order])
        if target == 'delivered':
            return
        order = Order(order.id)
        if target == 'received':
            # damaged on the way: one unit, or a pack of many
            line = max(order.lines, key=lambda l: l.delivered_quantity)
            short = min(line.delivered_quantity - 1,
                max(1, pack(line.product) // 6))
            Order.receive_orders([order], {
                    line.id: line.delivered_quantity - short})
        else:
            Order.receive_orders([order])

    def place(seller, buyer, target, lines, comment=None):
        order = _channel_order(demo, seller, buyer, lines, comment)
        run(order, target, lines)
        made.append(order)
        return order

    # the orders that deliver come first, so that what is approved
    # afterwards is covered (but for the one back-ordered)
    upstream_pairs = [(p, p.upstream) for p in distributors
        if p.upstream and p.upstream.may_trade() and p.may_trade()
        and p.distributor_storage and stocked[p.upstream.id]]
    rng.shuffle(upstream_pairs)
    for target in ['done', 'submitted']:
        for buyer, seller in upstream_pairs:
            allowed = Party.dms_authorized_products(
                [buyer], stocked[seller.id])[buyer.id]
            choices = [p for p in stocked[seller.id] if p.id in allowed]
            picked = pick(seller, products=choices) if choices else None
            if picked:
                place(seller, buyer, target, [picked],
                    comment="下级经销商补货")
                upstream_pairs.remove((buyer, seller))
                break
    customers = Party.search([
            ('is_terminal_customer', '=', True),
            ('customer_distributor.distributor_state', '=', 'active'),
            ], order=[('id', 'ASC')])
    for customer in customers:
        if not customer.customer_distributor.may_trade():
            continue
        picked = pick(customer.customer_distributor)
        if picked:
            place(customer.customer_distributor, customer, 'done',
                [picked], comment="团购订单")
            break
    # the promotions at work: 满减 reached, buy X get Y given
    for store in by_seller[first]:
        picked = pick(first, share=1)
        if picked:
            product, quantity = picked
            price = Price.prices_for(first, [product])[product.id]
            while (price * quantity * Decimal('0.95') < 800
                    and need(first, product, quantity + pack(product))
                    <= stock[(first.id, product.id)]):
                quantity += pack(product)
            place(first, store, 'done', [(product, quantity)])
            break
    for seller_id, (product, buy, _) in gifts.items():
        seller = Party(seller_id)
        if need(seller, product, buy) <= stock[(seller_id, product.id)]:
            place(seller, rng.choice(by_seller[seller]), 'delivered',
                [(product, buy)])
    n_done = max(6, len(stores) // 15)
    plan = (['done'] * n_done + ['received'] * 2 + ['delivered'] * 2
        + ['approved'] * 2 + ['backordered'] + ['submitted'] * 4
        + ['rejected'] * 2 + ['cancelled'] * 2 + ['draft'] * 3)
    for target in plan:
        for _ in range(20):
            store = rng.choice(stores)
            seller = store.store_distributor
            if target == 'backordered':
                products = [p for p in stocked[seller.id]
                    if not gifts.get(seller.id)
                    or gifts[seller.id][0] != p]
                if not products:
                    continue
                product = rng.choice(products)
                short = stock[(seller.id, product.id)] + pack(product) * 4
                place(seller, store, target, [(product, short)],
                    comment="大促备货")
                break
            picked = pick(seller)
            if not picked:
                continue
            lines = [picked]
            second = pick(seller)
            if second and second[0] != picked[0] and rng.random() < 0.5:
                lines.append(second)
            place(seller, store, target, lines)
            break
    return Order.browse(made)


def store_activity(demo):
    """Shelf checks (one finds a lot shipped to another distributor:
    a diversion incident), a coverage plan in progress and one being
    prepared, store limits for replenishment, store payments"""
    stores, orders, reps = demo.stores, demo.channel_orders, demo.reps
    pool = demo.pool
    Check = pool.get('distributor.store.check')
    Incident = pool.get('distributor.diversion.incident')
    Plan = pool.get('distributor.coverage.plan')
    Limit = pool.get('distributor.store.limit')
    Payment = pool.get('distributor.store.payment')
    Level = pool.get('distributor.stock.level')
    Lot = pool.get('stock.lot')
    Category = pool.get('party.category')
    Product = pool.get('product.product')
    rng = demo.rng
    today = demo.today
    if Check.search([], limit=1):
        return
    stores = [s for s in stores if s.store_state == 'active']
    if not stores:
        return
    delivered = [o for o in orders if o.state in DELIVERED_STATES
        and o.buyer_kind == 'store']
    # a store found holding a lot its distributor never received
    lots = Lot.search([], order=[('id', 'ASC')])
    receivers = Incident.receivers([l.id for l in lots])
    for lot in lots:
        got = {d for d, _ in receivers.get(lot.id, [])}
        if not got:
            continue
        strangers = [s for s in stores
            if s.store_distributor.id not in got]
        if not strangers:
            continue
        store = rng.choice(strangers)
        check, = Check.create([{
                    'store': store.id,
                    'date': today - dt.timedelta(days=1),
                    'note': "业务员巡店：货架上发现非本区域批号",
                    'lines': [('create', [{
                                    'product': lot.product.id,
                                    'lot': lot.id,
                                    'quantity': rng.choice([3, 6, 12]),
                                    }])],
                    }])
        Check.confirm([check])
        break
    # ordinary checks of stores that received goods
    for order in delivered[:3]:
        check, = Check.create([{
                    'store': order.buyer.id,
                    'date': today,
                    'lines': [('create', [{
                                    'product': line.product.id,
                                    'quantity': max(
                                        (line.delivered_quantity or 0)
                                        // 2, 1),
                                    } for line in order.lines])],
                    }])
        Check.confirm([check])
    # one more being entered
    store = rng.choice(stores)
    levels = Level.levels([store.store_distributor], lots=False)
    product_ids = sorted({p for (_, p, _) in levels})
    if product_ids:
        Check.create([{
                    'store': store.id,
                    'lines': [('create', [{
                                    'product': product_ids[0],
                                    'quantity': 4,
                                    }])],
                    }])
    # coverage: the products of a delivered order (and one more) at
    # the stores of its distributor's territories
    for order in delivered:
        seller = order.seller
        products = sorted({l.product for l in order.lines},
            key=lambda p: p.id)
        # and one the store did not get, so that the plan is partly
        # covered
        got = {l.product for o in delivered if o.buyer == order.buyer
            for l in o.lines}
        others = [p for p in Product.search([('salable', '=', True)],
                order=[('id', 'ASC')]) if p not in got]
        if others:
            products.append(rng.choice(others))
        region = seller.territories[0]
        while region.parent:
            region = region.parent
        rep = reps.get(region.id)
        plan, = Plan.create([{
                    'name': f"{seller.territories[0].name}新品铺货"
                    f"（{today.year}年{today.month}月）",
                    'owner_rep': rep.id if rep else None,
                    'start_date': today - dt.timedelta(days=14),
                    'deadline': today + dt.timedelta(days=30),
                    'territories': [('add',
                            [t.id for t in seller.territories])],
                    'products': [('add', [p.id for p in products])],
                    }])
        Plan.start([plan])
        break
    tags = Category.search([('name', 'in', STORE_TAGS)], limit=1,
        order=[('id', 'ASC')])
    if tags and delivered:
        Plan.create([{
                    'name': f"{tags[0].name}专项铺货（下季度）",
                    'start_date': today + dt.timedelta(days=30),
                    'deadline': today + dt.timedelta(days=120),
                    'tags': [('add', [tags[0].id])],
                    'size_classes': ['small', 'medium'],
                    'products': [('add', [l.product.id
                                    for l in delivered[0].lines])],
                    }])
    # min/max for some stores of what their distributor stocks
    stock = Level.levels(sorted({s.store_distributor for s in stores},
            key=lambda p: p.id), lots=False)
    by_seller = defaultdict(set)
    for party, product, _ in stock:
        by_seller[party].add(product)
    products = {p.id: p for p in Product.browse(
            sorted({p for (_, p, _) in stock}))}
    vlist = []
    for store in rng.sample(stores, max(1, len(stores) // 3)):
        mine = sorted(by_seller.get(store.store_distributor.id, ()))
        for product_id in rng.sample(mine, min(len(mine), 2)):
            pack = int(products[product_id].pack_quantity or 1)
            minimum = pack * rng.choice([1, 2, 3])
            vlist.append({'store': store.id, 'product': product_id,
                    'min_quantity': minimum,
                    'max_quantity': minimum * 3,
                    'lead_time': rng.choice([None, 1, 2, 3]),
                    })
    create(Limit, vlist, size=500)
    # payments: most stores pay part of what they were billed
    payments = []
    for order in delivered:
        if not order.billed_amount or rng.random() < 0.25:
            continue
        payments.append(Payment(distributor=order.seller,
                store=order.buyer,
                date=today - dt.timedelta(days=rng.randrange(0, 5)),
                amount=(order.billed_amount * Decimal(rng.choice(
                                [50, 80, 100])) / 100).quantize(
                    Decimal('0.01')),
                method=rng.choice(['bank', 'wechat', 'alipay', 'cash']),
                reference=f'PAY{rng.randrange(10**6, 10**7)}'))
    Payment.save(payments)
    Payment.post(payments[1:])


PARTS = [
    Part('stores', stores, when=lambda demo: demo.options.stores),
    Part('store pricing', store_pricing, when=_made_stores),
    Part('store orders', store_orders, when=_made_stores),
    Part('store activity', store_activity, when=_made_stores),
    ]
