# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo's promotions and price policy: a published promotion for the
regional distributors (10% off a drink from 20 units, and 1 free per 10
bought), the tiers' price bounds to stores and to downstream
distributors (wide enough for the store prices already set), retail
guide prices with their promotional range, and one price incident from a
shelf check that saw a product under its range.

Only the generator imports this file (through demo.py)."""
import datetime as dt
from decimal import Decimal

from distributor.demo import Part, create


def _products(demo):
    Product = demo.pool.get('product.product')
    return Product.search([('salable', '=', True)], order=[('id', 'ASC')])


def promotion(demo):
    """A published purchase promotion for tier T2, once"""
    pool = demo.pool
    Policy = pool.get('distributor.policy')
    if Policy.search([('kind', '=', 'promotion')], limit=1):
        return
    products = _products(demo)
    tier = demo.tiers.get('T2')
    if not products or not tier:
        return
    product = products[0]
    today = demo.today
    policy, = Policy.create([{
                'title': f"夏季促销：{product.name} 满 20 件 9 折",
                'kind': 'promotion',
                'body': (f"<p>活动期内，区域经销商单笔订货 {product.name}"
                    "满 20 件享受 <b>9 折</b>，每订 10 件另赠 1 件"
                    "（赠品请在促销订单中添加）。</p>"),
                'start_date': today - dt.timedelta(days=7),
                'end_date': today + dt.timedelta(days=45),
                'tiers': [('add', [tier.id])],
                'promotion_rules': [('create', [{
                                'name': "满 20 件 9 折",
                                'products': [('add', [product.id])],
                                'min_quantity': 20,
                                'discount_percentage': Decimal('0.1'),
                                }, {
                                'name': "买 10 赠 1",
                                'products': [('add', [product.id])],
                                'gift_product': product.id,
                                'gift_quantity': 1,
                                'gift_per_quantity': 10,
                                }])],
                }])
    if policy.dms_compute_targets():
        Policy.publish([policy])
        demo.report.append(f'  promotion  {policy.number} published to '
            f'{len(Policy(policy.id).recipients)} distributors')


def price_policy(demo):
    """The tiers' price bounds and the retail prices of every product,
    once"""
    pool = demo.pool
    Bound = pool.get('distributor.tier.price.bound')
    Retail = pool.get('distributor.retail.price')
    StoreBound = pool.get('distributor.store.price.bound')
    if Bound.search([], limit=1):
        return
    products = _products(demo)
    network = {}
    for bound in StoreBound.search([]):
        current = network.get(bound.product.id)
        network[bound.product.id] = (
            min(bound.min_price, current[0]) if current
            else bound.min_price,
            max(bound.max_price, current[1]) if current
            else bound.max_price)
    bounds, retail = [], []
    for product in products:
        base = product.list_price_used or Decimal(10)

        def price(factor):
            return (base * Decimal(factor)).quantize(Decimal('0.01'))
        low, high = network.get(product.id, (price('1.05'), price('1.60')))
        for code in ['T1', 'T2', 'T3']:
            tier = demo.tiers.get(code)
            if not tier:
                continue
            # every store price already set lies within the network
            # bounds: the tier's store bound contains them
            bounds.append({'tier': tier.id, 'product': product.id,
                    'buyer': 'store', 'min_price': low,
                    'max_price': high})
            if tier.downstream_tiers:
                bounds.append({'tier': tier.id, 'product': product.id,
                        'buyer': 'distributor', 'min_price': price('1.00'),
                        'max_price': max(high, price('1.60'))})
        retail.append({'product': product.id,
                'guide_price': price('1.80'),
                'promo_min': price('1.45'),
                'promo_max': price('1.65')})
    create(Bound, bounds, size=500)
    create(Retail, retail, size=500)


def price_incident(demo):
    """A rep's shelf check at a store that found the first product under
    its lowest promotional price: a price incident, once"""
    pool = demo.pool
    Check = pool.get('distributor.store.check')
    Incident = pool.get('distributor.price.incident')
    Retail = pool.get('distributor.retail.price')
    if Incident.search([], limit=1):
        return
    stores = [s for s in getattr(demo, 'stores', None) or []
        if s.store_state == 'active']
    products = _products(demo)
    if not stores or not products:
        return
    store = stores[0]
    product = products[0]
    retail = Retail.prices_for([store.store_territory], [product]).get(
        product.id)
    if retail is None:
        return
    check, = Check.create([{
                'store': store.id,
                'date': demo.today,
                'note': "巡店：货架价格低于品牌限价",
                'lines': [('create', [{
                                'product': product.id,
                                'quantity': 6,
                                'retail_price': (retail.promo_min
                                    * Decimal('0.85')).quantize(
                                    Decimal('0.01')),
                                }])],
                }])
    Check.confirm([check])
    demo.report.append(f'  prices     {len(Check(check.id).price_incidents)}'
        ' price incident at ' + store.rec_name)


PARTS = [
    Part('promotion', promotion),
    Part('price policy', price_policy),
    Part('price incident', price_incident),
    ]
