# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Stores and terminal customers (门店与终端客户): the distributor's
stores, their prices within the brand's bounds, promotions, coverage
plans, shelf checks, store payments and statements (与门店对账); and a
store's own statement.

Each action is one function used by its page and its endpoint; every
write goes through an entry point of distributor_store with the caller's
party."""
import datetime as dt
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from trytond.i18n import gettext
from trytond.pool import Pool

from distributor.access import trusted

from . import schema as s
from .i18n import N_
from .web import PREFIX, PortalError, api, json_response, new_token, page

DISTRIBUTOR = {'distributor'}
STORE_IDS = {'store': 'party.party'}
PROMOTION_IDS = {'promotion': 'distributor.store.promotion'}
CUSTOMER_IDS = {'customer': 'party.party'}
SIZES = [
    ('small', N_("Small (< 50 m²)")),
    ('medium', N_("Medium (50-200 m²)")),
    ('large', N_("Large (200-1000 m²)")),
    ('hypermarket', N_("Hypermarket (> 1000 m²)")),
    ]
COOPERATIONS = [
    ('direct', N_("Direct Supply")),
    ('franchise', N_("Franchise")),
    ('key_account', N_("Key Account")),
    ('chain', N_("Chain")),
    ('wholesale', N_("Wholesale")),
    ]
METHODS = [
    ('bank', N_("Bank Transfer")),
    ('cash', N_("Cash")),
    ('wechat', N_("WeChat Pay")),
    ('alipay', N_("Alipay")),
    ('other', N_("Other")),
    ]
PROMOTION_KINDS = {
    'percentage': N_("Percentage Off"),
    'threshold': N_("Amount Off Above a Threshold"),
    'buy_get': N_("Buy X Get Y"),
    }
# the form fields of each kind of promotion
PROMOTION_KIND_FIELDS = {
    'percentage': ['percentage'],
    'threshold': ['threshold_amount', 'amount_off'],
    'buy_get': ['buy_quantity', 'gift_product', 'gift_quantity'],
    }


# Helpers

def _field(portal, name, default=''):
    "One value of a form"
    values = (portal.body or {}).get(name) or [default]
    return values[0]


def _invalid(detail):
    return PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
        gettext('distributor_portal.msg_invalid_body', detail=detail),
        {'problem': detail})


def _store(portal, store):
    "The caller's store of id store, or the 404 of a missing id"
    return portal.resolve('party.party', store, 'store', domain=[
            ('is_store', '=', True),
            ('store_distributor', '=', portal.party.id),
            ])


def _period(portal):
    "start, end of the query (?start=&end=): this month by default"
    today = Pool().get('ir.date').today()
    args = portal.request.args
    result = []
    for name, default in [('start', today.replace(day=1)), ('end', today)]:
        value = args.get(name) or ''
        if not value:
            result.append(default)
            continue
        try:
            result.append(dt.date.fromisoformat(value.strip()))
        except ValueError:
            raise _invalid(f'{name}: YYYY-MM-DD')
    return result


def _territories(portal):
    "(id, name) of the territories the caller's stores may lie in"
    Territory = Pool().get('distributor.territory')
    with trusted():
        return [(t.id, t.rec_name) for t in Territory.browse(
                sorted(portal.party.distributor_area()))]


def _store_detail(store):
    "A store (resolved for the caller) as a dict"
    with trusted():
        return {
            'id': store.id,
            'name': store.name,
            'code': store.code,
            'territory': {'id': store.store_territory.id,
                'name': store.store_territory.rec_name}
            if store.store_territory else None,
            'size': store.store_size,
            'cooperation': store.cooperation_type,
            'opening_date': store.store_opening_date,
            'contact': store.store_contact,
            'latitude': store.latitude,
            'longitude': store.longitude,
            'state': store.store_state,
            'tags': [c.name for c in store.categories],
            }


def _store_values_from_form(portal):
    """The values of the store form for dms_save_store: empty choices are
    left out, empty texts and coordinates clear the field"""
    values = {}
    name = _field(portal, 'name')
    if name or 'name' in portal.body:
        values['name'] = name
    territory = _field(portal, 'territory')
    if territory:
        values['territory'] = portal.int_arg(territory, 'territory')
    for key in ['size', 'cooperation']:
        value = _field(portal, key)
        if value:
            values[key] = value
    for key in ['opening_date', 'contact', 'latitude', 'longitude']:
        if key in portal.body:
            values[key] = _field(portal, key).strip() or None
    return values


def _save_store(portal, values, store=None):
    Party = Pool().get('party.party')
    if store is not None:
        store = _store(portal, store).id
    return Party.dms_save_store(portal.party, values, store=store)


def _customers(portal):
    Party = Pool().get('party.party')
    customers = Party.dms_list_customers(portal.party)
    names = {}
    store_ids = {c['store'] for c in customers if c['store']}
    if store_ids:
        with trusted():
            names = {p.id: p.rec_name for p in Party.browse(list(store_ids))}
    for customer in customers:
        customer['store_name'] = names.get(customer['store'])
    return customers


def _prices(portal):
    """The caller's store prices with the brand's bounds beside them, and
    the products with a bound but no price yet"""
    pool = Pool()
    Price = pool.get('distributor.store.price')
    Bound = pool.get('distributor.store.price.bound')
    Product = pool.get('product.product')
    prices = {p['product']: p for p in Price.dms_list_prices(portal.party)}
    with trusted():
        bounded = {b.product.id for b in Bound.search([])}
        bounds = Bound.bounds_for(portal.party, list(bounded))
        products = {p.id: p for p in Product.browse(
                sorted(set(prices) | bounded))}
        result = []
        for product_id, product in products.items():
            bound = (bounds.get(product_id) or [None])[0]
            price = prices.get(product_id)
            result.append({
                    'product': product_id,
                    'code': product.code,
                    'name': product.rec_name,
                    'price': price['price'] if price else None,
                    'guide_price': str(bound.guide_price) if bound else None,
                    # a price's own bounds are the tightest (a later
                    # module may narrow them, e.g. per tier)
                    'min_price': (price['min_price']
                        if price and price['min_price'] is not None
                        else str(bound.min_price) if bound else None),
                    'max_price': (price['max_price']
                        if price and price['max_price'] is not None
                        else str(bound.max_price) if bound else None),
                    })
    result.sort(key=lambda p: (p['code'] or '', p['product']))
    return result


def _set_prices(portal, prices):
    "prices: {product id: price}; all checked before any is written"
    Price = Pool().get('distributor.store.price')
    if not prices:
        raise _invalid('prices: at least one')
    return Price.dms_set_prices(portal.party, prices)


def _promotions(portal):
    "The promotions of the caller (entry point) with state and stores"
    Promotion = Pool().get('distributor.store.promotion')
    promotions = Promotion.dms_list_promotions(portal.party)
    with trusted():
        records = {p.id: p for p in Promotion.browse(
                [p['id'] for p in promotions])}
        for promotion in promotions:
            record = records[promotion['id']]
            promotion['state'] = record.state
            promotion['stores'] = [{'id': x.id, 'name': x.rec_name}
                for x in record.stores] if portal.kind == 'distributor' \
                else []
    return promotions


def _promotion(portal, promotion):
    "The caller's promotion of id promotion, or the 404 of a missing id"
    return portal.resolve('distributor.store.promotion', promotion,
        'promotion', domain=[('distributor', '=', portal.party.id)])


def _promotion_detail(promotion):
    "A promotion (resolved for the caller) as a dict"
    with trusted():
        return {
            'id': promotion.id,
            'name': promotion.name,
            'kind': promotion.kind,
            'state': promotion.state,
            'start_date': promotion.start_date.isoformat(),
            'end_date': promotion.end_date.isoformat(),
            'percentage': str(promotion.percentage)
            if promotion.percentage else None,
            'threshold': str(promotion.threshold_amount)
            if promotion.threshold_amount else None,
            'amount_off': str(promotion.amount_off)
            if promotion.amount_off else None,
            'buy_quantity': promotion.buy_quantity,
            'gift_product': promotion.gift_product.code
            if promotion.gift_product else None,
            'gift_quantity': promotion.gift_quantity,
            'products': [p.code for p in promotion.products],
            'stores': [{'id': x.id, 'name': x.rec_name}
                for x in promotion.stores],
            }


def _save_promotion(portal, values, promotion=None):
    Promotion = Pool().get('distributor.store.promotion')
    if promotion is not None:
        promotion = _promotion(portal, promotion).id
    return Promotion.dms_save_promotion(portal.party, values,
        promotion=promotion)


def _promotion_action(portal, promotion, action):
    "activate or close a promotion of the caller"
    Promotion = Pool().get('distributor.store.promotion')
    record = _promotion(portal, promotion)
    Promotion.dms_promotion_action(portal.party, [record.id], action)
    return Promotion(record.id)


def _promotion_values_from_form(portal):
    """The values of the promotion form for dms_save_promotion: the
    fields of its kind, the percentage entered in % and the products as
    codes separated by spaces or commas"""
    kind = _field(portal, 'kind')
    values = {'kind': kind}
    for key in ['name', 'start_date', 'end_date']:
        values[key] = _field(portal, key).strip()
    for key in PROMOTION_KIND_FIELDS.get(kind, []):
        value = _field(portal, key).strip()
        if not value:
            continue
        if key == 'percentage':
            value = _percent(value)
        values[key] = value
    products = _field(portal, 'products').replace(',', ' ').split()
    if products:
        values['products'] = products
    stores = [portal.int_arg(v, 'stores')
        for v in (portal.body or {}).get('stores', []) if v]
    if stores:
        values['stores'] = stores
    return values


def _percent(value):
    "The share (as a string) of a percentage entered in a form"
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise _invalid('percentage') from None
    if not result.is_finite():
        raise _invalid('percentage')
    return str(result / 100)


def _store_state(portal, store, action):
    "close or reopen a store of the caller"
    Party = Pool().get('party.party')
    record = _store(portal, store)
    Party.dms_store_state(portal.party, [record.id], action)
    return Party(record.id)


def _customer(portal, customer):
    "The caller's terminal customer of id customer, or the 404"
    return portal.resolve('party.party', customer, 'customer', domain=[
            ('is_terminal_customer', '=', True),
            ('customer_distributor', '=', portal.party.id),
            ])


def _customer_detail(customer):
    "A terminal customer (resolved for the caller) as a dict"
    with trusted():
        return {
            'id': customer.id,
            'name': customer.name,
            'store': customer.customer_store.id
            if customer.customer_store else None,
            'store_name': customer.customer_store.rec_name
            if customer.customer_store else None,
            'tags': [c.name for c in customer.categories],
            }


def _save_customer(portal, values, customer=None):
    Party = Pool().get('party.party')
    if customer is not None:
        customer = _customer(portal, customer).id
    return Party.dms_save_customer(portal.party, values, customer=customer)


def _coverage(portal):
    "The running plans over the caller's stores with their progress"
    pool = Pool()
    Plan = pool.get('distributor.coverage.plan')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    plans = Plan.dms_plan_progress(portal.party)
    store_ids = {m['store'] for p in plans for m in p['missing']}
    product_ids = {m['product'] for p in plans for m in p['missing']}
    with trusted():
        stores = {x.id: x.rec_name for x in Party.browse(list(store_ids))}
        products = {x.id: x.rec_name
            for x in Product.browse(list(product_ids))}
    for plan in plans:
        plan['percent'] = (round(100 * plan['covered'] / plan['pairs'])
            if plan['pairs'] else 0)
        for missing in plan['missing']:
            missing['store_name'] = stores.get(missing['store'])
            missing['product_name'] = products.get(missing['product'])
    plans.sort(key=lambda p: (p['deadline'], p['plan']))
    return plans


def _checks(portal, store):
    "The shelf checks of a store (resolved), latest first"
    Check = Pool().get('distributor.store.check')
    checks = Check.search([('store', '=', store.id)],
        order=[('date', 'DESC'), ('id', 'DESC')], limit=50)
    with trusted():
        return [{
                'id': c.id,
                'date': c.date,
                'state': c.state,
                'note': c.note,
                'lines': [{'product': l.product.code,
                        'name': l.product.rec_name,
                        'lot': l.lot.number if l.lot else None,
                        'quantity': l.quantity} for l in c.lines],
                'incidents': len(c.incidents),
                } for c in Check.browse([c.id for c in checks])]


def _parse_scans(text):
    """Scans from manual entry: one per line, "CODE", "CODE QUANTITY" or
    "CODE LOT QUANTITY" """
    scans = []
    for line in (text or '').splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 1:
            scans.append({'code': parts[0]})
        elif len(parts) == 2:
            scans.append({'code': parts[0], 'quantity': parts[1]})
        elif len(parts) == 3:
            scans.append({'code': parts[0], 'lot': parts[1],
                    'quantity': parts[2]})
        else:
            raise _invalid(f'scans: {line[:50]}')
    return scans


def _shelf_check(portal, store, scans, note=None):
    Check = Pool().get('distributor.store.check')
    store = _store(portal, store)
    if not scans:
        raise _invalid('scans: at least one')
    return Check.dms_shelf_check(portal.party, store.id, scans, note=note)


def _record_payment(portal, store, values):
    Payment = Pool().get('distributor.store.payment')
    store = _store(portal, store)
    return Payment.dms_record_payment(portal.party, store.id,
        values.get('amount'), date=values.get('date') or None,
        method=values.get('method') or 'bank',
        reference=values.get('reference') or None)


def _statement(portal, store, start, end):
    "The statement of store (an id) with the caller, between start and end"
    Statement = Pool().get('distributor.store.statement')
    result = Statement.dms_store_statement(portal.party, store,
        start.isoformat(), end.isoformat())
    result['start'] = start.isoformat()
    result['end'] = end.isoformat()
    return result


def _replenishment(portal):
    """The replenishment suggestions of the caller's stores grouped by
    store: [{store, name, lines: [suggestion + code, name, unit]}]"""
    pool = Pool()
    Limit = pool.get('distributor.store.limit')
    Party = pool.get('party.party')
    Product = pool.get('product.product')
    suggestions = Limit.dms_store_suggestions(portal.party)
    with trusted():
        stores = {x.id: x for x in Party.browse(
                list({r['store'] for r in suggestions}))}
        products = {x.id: x for x in Product.browse(
                list({r['product'] for r in suggestions}))}
        groups = {}
        for row in suggestions:
            store = stores[row['store']]
            product = products[row['product']]
            group = groups.setdefault(store.id, {
                    'store': store.id,
                    'name': store.rec_name,
                    'code': store.code,
                    'lines': [],
                    })
            group['lines'].append(dict(row,
                    code=product.code,
                    name=product.name,
                    unit=product.default_uom.symbol))
    result = sorted(groups.values(), key=lambda g: (g['name'], g['store']))
    for group in result:
        group['lines'].sort(key=lambda l: (l['code'] or '', l['product']))
    return result


def _replenishment_lines_from_form(portal):
    """[{store, product, quantity}] of the replenishment form: the lines
    (quantity-STORE-PRODUCT) of the stores ticked; empty or 0 skips"""
    body = portal.body or {}
    stores = {portal.int_arg(v, 'stores')
        for v in body.get('stores', []) if v}
    lines = []
    for name, values in body.items():
        if not name.startswith('quantity-'):
            continue
        parts = name.split('-')
        if len(parts) != 3:
            raise _invalid(f'{name[:50]}')
        store = portal.int_arg(parts[1], 'store')
        product = portal.int_arg(parts[2], 'product')
        value = (values[0] if values else '').strip()
        if store not in stores or not value:
            continue
        try:
            if Decimal(value) == 0:
                continue
        except InvalidOperation:
            # the entry point names the product whose quantity is wrong
            pass
        lines.append({'store': store, 'product': product,
                'quantity': value})
    return lines


def _order_replenishment(portal, lines):
    """The submitted channel orders (ids) of lines [{store, product,
    quantity}]"""
    Limit = Pool().get('distributor.store.limit')
    return Limit.dms_order_store_suggestions(portal.party, lines,
        submit=True)


def _choices(portal, choices):
    return [(k, portal._(v)) for k, v in choices]


# Pages

@page('/stores', kinds=DISTRIBUTOR)
def stores_page(portal):
    "The distributor's stores"
    Party = Pool().get('party.party')
    territories = _territories(portal) if portal.may('admin') else []
    return portal.render('stores_list.html',
        stores=Party.dms_list_stores(portal.party),
        territories=territories,
        sizes=_choices(portal, SIZES),
        cooperations=_choices(portal, COOPERATIONS),
        key=new_token())


@page('/stores', methods=('POST',), kinds=DISTRIBUTOR, roles={'admin'},
    idempotent=True)
def stores_create_page(portal):
    "Add a store"
    store_id = _save_store(portal, _store_values_from_form(portal))
    return portal.redirect(f'{PREFIX}/stores/{store_id}',
        flash=portal._(N_("The store is saved.")))


@page('/stores/replenish', kinds=DISTRIBUTOR)
def replenish_page(portal):
    """The replenishment suggestions of the stores, to order as submitted
    channel orders"""
    return portal.render('stores_replenish.html',
        groups=_replenishment(portal), key=new_token())


@page('/stores/replenish', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, idempotent=True)
def replenish_order_page(portal):
    """Order the ticked stores' suggestions (as entered) as submitted channel
    orders, one per store"""
    lines = _replenishment_lines_from_form(portal)
    if not lines:
        return portal.redirect(f'{PREFIX}/stores/replenish',
            flash=portal._(N_("Nothing to order.")))
    orders = _order_replenishment(portal, lines)
    if len(orders) == 1:
        flash = portal._(N_("1 order is submitted."))
    else:
        flash = portal._(N_("%(count)s orders are submitted.")) % {
            'count': len(orders)}
    return portal.redirect(f'{PREFIX}/orders?tab=incoming',
        flash=flash)


@page('/stores/<int:store>', kinds=DISTRIBUTOR, ids=STORE_IDS)
def store_page(portal, store):
    "A store: its details, shelf checks, payments and statement"
    record = _store(portal, store)
    start, end = _period(portal)
    return portal.render('stores_detail.html',
        store=_store_detail(record),
        territories=_territories(portal) if portal.may('admin') else [],
        sizes=_choices(portal, SIZES),
        cooperations=_choices(portal, COOPERATIONS),
        methods=_choices(portal, METHODS),
        checks=_checks(portal, record),
        statement=_statement(portal, record.id, start, end),
        today=Pool().get('ir.date').today(),
        key=new_token())


@page('/stores/<int:store>', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, ids=STORE_IDS)
def store_update_page(portal, store):
    "Change a store's details"
    _save_store(portal, _store_values_from_form(portal), store=store)
    return portal.redirect(f'{PREFIX}/stores/{store}',
        flash=portal._(N_("The store is saved.")))


@page('/stores/<int:store>/close', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, ids=STORE_IDS)
def store_close_page(portal, store):
    "Close a store"
    _store_state(portal, store, 'close')
    return portal.redirect(f'{PREFIX}/stores/{store}',
        flash=portal._(N_("The store is closed.")))


@page('/stores/<int:store>/reopen', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, ids=STORE_IDS)
def store_reopen_page(portal, store):
    "Reopen a closed store"
    _store_state(portal, store, 'reopen')
    return portal.redirect(f'{PREFIX}/stores/{store}',
        flash=portal._(N_("The store is reopened.")))


@page('/stores/<int:store>/checks', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders', 'stock'}, ids=STORE_IDS, idempotent=True)
def store_check_page(portal, store):
    "Record a shelf check of a store from entered codes"
    result = _shelf_check(portal, store,
        _parse_scans(_field(portal, 'scans')),
        note=_field(portal, 'note') or None)
    if result['incidents']:
        flash = portal._(N_(
                "The shelf check is recorded; lots of other distributors "
                "were found and reported."))
    else:
        flash = portal._(N_("The shelf check is recorded."))
    return portal.redirect(f'{PREFIX}/stores/{store}#checks', flash=flash)


@page('/stores/<int:store>/payments', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'finance'}, ids=STORE_IDS, idempotent=True)
def store_payment_page(portal, store):
    "Record a payment of a store"
    _record_payment(portal, store, {
            'amount': _field(portal, 'amount').strip(),
            'date': _field(portal, 'date').strip(),
            'method': _field(portal, 'method'),
            'reference': _field(portal, 'reference'),
            })
    return portal.redirect(f'{PREFIX}/stores/{store}#statement',
        flash=portal._(N_("The payment is recorded.")))


@page('/stores/<int:store>/statement', kinds=DISTRIBUTOR, ids=STORE_IDS)
def store_statement_page(portal, store):
    "The statement of a store over a period"
    record = _store(portal, store)
    start, end = _period(portal)
    return portal.render('stores_statement.html',
        store=_store_detail(record),
        statement=_statement(portal, record.id, start, end),
        action=f'{PREFIX}/stores/{record.id}/statement')


@page('/stores/customers', kinds=DISTRIBUTOR)
def customers_page(portal):
    "The terminal customers"
    Party = Pool().get('party.party')
    return portal.render('stores_customers.html',
        customers=_customers(portal),
        stores=Party.dms_list_stores(portal.party),
        key=new_token())


@page('/stores/customers', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, idempotent=True)
def customers_create_page(portal):
    "Add a terminal customer"
    Party = Pool().get('party.party')
    values = {'name': _field(portal, 'name')}
    store = _field(portal, 'store')
    if store:
        values['store'] = portal.int_arg(store, 'store')
    Party.dms_save_customer(portal.party, values)
    return portal.redirect(f'{PREFIX}/stores/customers',
        flash=portal._(N_("The customer is saved.")))


@page('/stores/customers/<int:customer>', kinds=DISTRIBUTOR,
    ids=CUSTOMER_IDS)
def customer_page(portal, customer):
    "A terminal customer, and its form for the roles that may change it"
    Party = Pool().get('party.party')
    return portal.render('stores_customer.html',
        customer=_customer_detail(_customer(portal, customer)),
        stores=Party.dms_list_stores(portal.party))


@page('/stores/customers/<int:customer>', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'orders'}, ids=CUSTOMER_IDS)
def customer_update_page(portal, customer):
    "Change a terminal customer's name and usual store"
    values = {'name': _field(portal, 'name')}
    store = _field(portal, 'store')
    values['store'] = portal.int_arg(store, 'store') if store else None
    _save_customer(portal, values, customer=customer)
    return portal.redirect(f'{PREFIX}/stores/customers/{customer}',
        flash=portal._(N_("The customer is saved.")))


@page('/stores/prices', kinds=DISTRIBUTOR)
def prices_page(portal):
    "The store prices with the brand's bounds"
    return portal.render('stores_prices.html', prices=_prices(portal))


@page('/stores/prices', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'})
def prices_set_page(portal):
    "Set store prices: every one within the brand's bounds, or none"
    Product = Pool().get('product.product')
    prices = {}
    for name, values in (portal.body or {}).items():
        if name.startswith('price-') and values and values[0].strip():
            product = portal.int_arg(name[len('price-'):], 'product')
            prices[product] = values[0].strip()
    code = _field(portal, 'new_code').strip()
    new_price = _field(portal, 'new_price').strip()
    if code and new_price:
        products = Product.search([('code', '=', code)], limit=1)
        if not products:
            raise _invalid(f'product: {code[:50]}')
        prices[products[0].id] = new_price
    _set_prices(portal, prices)
    return portal.redirect(f'{PREFIX}/stores/prices',
        flash=portal._(N_("The prices are saved.")))


@page('/stores/promotions', kinds=DISTRIBUTOR)
def promotions_page(portal):
    "The store promotions; an admin sets them up, activates and closes them"
    Party = Pool().get('party.party')
    today = Pool().get('ir.date').today()
    return portal.render('stores_promotions.html',
        promotions=_promotions(portal), kinds=PROMOTION_KINDS,
        stores=Party.dms_list_stores(portal.party)
        if portal.may('admin') else [],
        today=today, key=new_token())


@page('/stores/promotions', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, idempotent=True)
def promotions_create_page(portal):
    "Set up a promotion (a draft, to activate)"
    promotion_id = _save_promotion(portal,
        _promotion_values_from_form(portal))
    return portal.redirect(
        f'{PREFIX}/stores/promotions#promotion-{promotion_id}',
        flash=portal._(N_("The promotion is saved as a draft.")))


@page('/stores/promotions/<int:promotion>/activate', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'admin'}, ids=PROMOTION_IDS)
def promotion_activate_page(portal, promotion):
    "Activate a draft promotion within the brand's policy"
    _promotion_action(portal, promotion, 'activate')
    return portal.redirect(
        f'{PREFIX}/stores/promotions#promotion-{promotion}',
        flash=portal._(N_("The promotion is active.")))


@page('/stores/promotions/<int:promotion>/close', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'admin'}, ids=PROMOTION_IDS)
def promotion_close_page(portal, promotion):
    "Close an active promotion"
    _promotion_action(portal, promotion, 'close')
    return portal.redirect(f'{PREFIX}/stores/promotions',
        flash=portal._(N_("The promotion is closed.")))


@page('/stores/coverage', kinds=DISTRIBUTOR)
def coverage_page(portal):
    "The running coverage plans and their progress"
    return portal.render('stores_coverage.html', plans=_coverage(portal))


@page('/statement', kinds={'store'})
def own_statement_page(portal):
    "The store's statement with its distributor"
    start, end = _period(portal)
    return portal.render('stores_statement.html',
        store=None,
        statement=_statement(portal, portal.party.id, start, end),
        action=f'{PREFIX}/statement')


# The API

STORE = s.obj(
    name={'type': 'string', 'minLength': 1, 'maxLength': 128},
    territory=s.ID,
    size={'type': 'string', 'enum': [k for k, _ in SIZES]},
    cooperation={'type': 'string', 'enum': [k for k, _ in COOPERATIONS]},
    opening_date={'anyOf': [s.DATE, {'type': 'null'}]},
    contact={'type': ['string', 'null'], 'maxLength': 128},
    latitude={'type': ['number', 'null'], 'minimum': -90, 'maximum': 90},
    longitude={'type': ['number', 'null'], 'minimum': -180,
        'maximum': 180},
    tags=s.array(s.ID))
NEW_STORE = dict(STORE, required=['name', 'territory'])
CUSTOMER = s.obj(['name'],
    name={'type': 'string', 'minLength': 1, 'maxLength': 128},
    store=s.ID, tags=s.array(s.ID))
PRODUCT_REF = {'anyOf': [s.ID,
        {'type': 'string', 'minLength': 1, 'maxLength': 200}]}
PROMOTION = s.obj(
    name={'type': 'string', 'minLength': 1, 'maxLength': 128},
    kind={'type': 'string', 'enum': list(PROMOTION_KINDS)},
    percentage={'type': 'number', 'exclusiveMinimum': 0, 'maximum': 1},
    threshold_amount=s.AMOUNT, amount_off=s.AMOUNT,
    buy_quantity=s.QUANTITY, gift_product=PRODUCT_REF,
    gift_quantity=s.QUANTITY,
    products=s.array(PRODUCT_REF), stores=s.array(s.ID),
    start_date=s.DATE, end_date=s.DATE)
NEW_PROMOTION = dict(PROMOTION,
    required=['name', 'kind', 'start_date', 'end_date'])
CUSTOMER_UPDATE = s.obj(
    name={'type': 'string', 'minLength': 1, 'maxLength': 128},
    store={'anyOf': [s.ID, {'type': 'null'}]}, tags=s.array(s.ID))
PRICES = s.obj(['prices'], prices=s.array(s.obj(['product', 'price'],
            product=s.ID, price=s.AMOUNT), min_items=1))
SCAN = {'anyOf': [
        {'type': 'string', 'minLength': 1, 'maxLength': 200},
        s.obj(['code'], code={'type': 'string', 'minLength': 1,
                'maxLength': 200},
            lot={'type': 'string', 'maxLength': 200},
            quantity=s.QUANTITY),
        ]}
CHECK = s.obj(['scans'], scans=s.array(SCAN, min_items=1), note=s.TEXT)
PAYMENT = s.obj(['amount'],
    amount={'type': 'number', 'exclusiveMinimum': 0, 'maximum': 1e12},
    date=s.DATE, method={'type': 'string', 'enum': [k for k, _ in METHODS]},
    reference={'type': 'string', 'maxLength': 128})
STATEMENT_QUERY = {'start': s.DATE, 'end': s.DATE}
REPLENISH = s.obj(['lines'], lines=s.array(
        s.obj(['store', 'product', 'quantity'], store=s.ID, product=s.ID,
            quantity=s.QUANTITY), min_items=1))


@api('/stores', kinds=DISTRIBUTOR, tag='stores', paginated=True)
def api_stores(portal):
    "The distributor's stores"
    Party = Pool().get('party.party')
    offset, limit = portal.page_window()
    stores = Party.dms_list_stores(portal.party)
    return portal.paginated(stores[offset:offset + limit], len(stores),
        offset, limit)


@api('/stores', methods=('POST',), kinds=DISTRIBUTOR, roles={'admin'},
    body=NEW_STORE, tag='stores', idempotent=True)
def api_create_store(portal):
    "Add a store (name and territory required)"
    store_id = _save_store(portal, dict(portal.body))
    return json_response({'id': store_id}, status=HTTPStatus.CREATED)


@api('/stores/<int:store>', kinds=DISTRIBUTOR, tag='stores', ids=STORE_IDS)
def api_store(portal, store):
    "A store's details"
    return _store_detail(_store(portal, store))


@api('/stores/<int:store>', methods=('PUT',), kinds=DISTRIBUTOR,
    roles={'admin'}, body=STORE, tag='stores', ids=STORE_IDS)
def api_update_store(portal, store):
    "Change a store's details"
    _save_store(portal, dict(portal.body), store=store)
    return _store_detail(_store(portal, store))


@api('/stores/replenish', kinds=DISTRIBUTOR, tag='stores')
def api_replenishment(portal):
    """The replenishment suggestions of the distributor's active stores,
    grouped by store: stock estimate, on order, daily demand, reorder
    level, target and suggested quantity (in the product's unit)"""
    return {'items': _replenishment(portal)}


@api('/stores/replenish', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, body=REPLENISH, tag='stores', idempotent=True)
def api_replenish(portal):
    """Order replenishment lines [{store, product, quantity}] (quantities
    in the product's unit) of the distributor's stores as submitted channel
    orders, one per store; answers their ids"""
    orders = _order_replenishment(portal, portal.body['lines'])
    return json_response({'orders': orders}, status=HTTPStatus.CREATED)


@api('/stores/customers', kinds=DISTRIBUTOR, tag='stores', paginated=True)
def api_customers(portal):
    "The terminal customers with their purchases"
    offset, limit = portal.page_window()
    customers = _customers(portal)
    return portal.paginated(customers[offset:offset + limit],
        len(customers), offset, limit)


@api('/stores/customers', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'}, body=CUSTOMER, tag='stores', idempotent=True)
def api_create_customer(portal):
    "Add a terminal customer"
    Party = Pool().get('party.party')
    customer_id = Party.dms_save_customer(portal.party, dict(portal.body))
    return json_response({'id': customer_id}, status=HTTPStatus.CREATED)


@api('/stores/customers/<int:customer>', kinds=DISTRIBUTOR,
    tag='stores', ids=CUSTOMER_IDS)
def api_customer(portal, customer):
    "A terminal customer"
    return _customer_detail(_customer(portal, customer))


@api('/stores/customers/<int:customer>', methods=('PUT',),
    kinds=DISTRIBUTOR, roles={'orders'}, body=CUSTOMER_UPDATE,
    tag='stores', ids=CUSTOMER_IDS)
def api_update_customer(portal, customer):
    "Change a terminal customer (store null: no usual store)"
    _save_customer(portal, dict(portal.body), customer=customer)
    return _customer_detail(_customer(portal, customer))


@api('/stores/prices', kinds=DISTRIBUTOR, tag='stores')
def api_prices(portal):
    "The store prices with the brand's bounds (guide, minimum, maximum)"
    return {'items': _prices(portal)}


@api('/stores/prices', methods=('PUT',), kinds=DISTRIBUTOR,
    roles={'admin'}, body=PRICES, tag='stores')
def api_set_prices(portal):
    """Set store prices; one outside the brand's bounds refuses them all
    (422, nothing written)"""
    prices = {}
    for line in portal.body['prices']:
        prices[line['product']] = line['price']
    _set_prices(portal, prices)
    return {'items': _prices(portal)}


@api('/stores/promotions', tag='stores')
def api_promotions(portal):
    """The distributor's draft and active promotions, or the active ones
    a store is in"""
    return {'items': _promotions(portal)}


@api('/stores/promotions', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, body=NEW_PROMOTION, tag='stores', idempotent=True)
def api_create_promotion(portal):
    """Set up a promotion (a draft): name, kind, the values of its kind
    (percentage as a share, e.g. 0.1; threshold_amount and amount_off;
    buy_quantity, gift_product and gift_quantity), products (ids or codes,
    none for all), stores (ids, none for all), start_date, end_date"""
    promotion_id = _save_promotion(portal, dict(portal.body))
    return json_response(
        _promotion_detail(_promotion(portal, promotion_id)),
        status=HTTPStatus.CREATED)


@api('/stores/promotions/<int:promotion>', kinds=DISTRIBUTOR,
    tag='stores', ids=PROMOTION_IDS)
def api_promotion(portal, promotion):
    "A promotion of the distributor, in any state"
    return _promotion_detail(_promotion(portal, promotion))


@api('/stores/promotions/<int:promotion>', methods=('PUT',),
    kinds=DISTRIBUTOR, roles={'admin'}, body=PROMOTION, tag='stores',
    ids=PROMOTION_IDS)
def api_update_promotion(portal, promotion):
    "Change a draft promotion"
    _save_promotion(portal, dict(portal.body), promotion=promotion)
    return _promotion_detail(_promotion(portal, promotion))


@api('/stores/promotions/<int:promotion>/activate', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'admin'}, tag='stores', ids=PROMOTION_IDS)
def api_activate_promotion(portal, promotion):
    """Activate a draft promotion; refused (422, nothing written) beyond
    the brand's maximum discount where it overlaps active ones"""
    return _promotion_detail(
        _promotion_action(portal, promotion, 'activate'))


@api('/stores/promotions/<int:promotion>/close', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'admin'}, tag='stores', ids=PROMOTION_IDS)
def api_close_promotion(portal, promotion):
    "Close an active promotion"
    return _promotion_detail(_promotion_action(portal, promotion, 'close'))


@api('/stores/coverage', kinds=DISTRIBUTOR, tag='stores')
def api_coverage(portal):
    "The running coverage plans over the stores and their progress"
    return {'items': _coverage(portal)}


@api('/stores/<int:store>/close', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, tag='stores', ids=STORE_IDS)
def api_close_store(portal, store):
    "Close a store"
    return _store_detail(_store_state(portal, store, 'close'))


@api('/stores/<int:store>/reopen', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'admin'}, tag='stores', ids=STORE_IDS)
def api_reopen_store(portal, store):
    "Reopen a closed store"
    return _store_detail(_store_state(portal, store, 'reopen'))


@api('/stores/<int:store>/checks', kinds=DISTRIBUTOR, tag='stores',
    ids=STORE_IDS)
def api_checks(portal, store):
    "The latest shelf checks of a store"
    return {'items': _checks(portal, _store(portal, store))}


@api('/stores/<int:store>/checks', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders', 'stock'}, body=CHECK, tag='stores', ids=STORE_IDS,
    idempotent=True)
def api_create_check(portal, store):
    """Record (and confirm) a shelf check from scans: a code or
    {code, lot, quantity}; answers the check and the incidents raised"""
    result = _shelf_check(portal, store, portal.body['scans'],
        note=portal.body.get('note'))
    return json_response(result, status=HTTPStatus.CREATED)


@api('/stores/<int:store>/payments', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'finance'}, body=PAYMENT, tag='stores', ids=STORE_IDS,
    idempotent=True)
def api_record_payment(portal, store):
    "Record (and post) a payment the store made"
    payment_id = _record_payment(portal, store, portal.body)
    return json_response({'id': payment_id}, status=HTTPStatus.CREATED)


@api('/stores/<int:store>/statement', kinds=DISTRIBUTOR, tag='stores',
    ids=STORE_IDS, query=STATEMENT_QUERY)
def api_store_statement(portal, store):
    """The statement of a store: opening balance, lines, closing balance
    (?start=&end=, this month by default)"""
    record = _store(portal, store)
    start, end = _period(portal)
    return _statement(portal, record.id, start, end)


@api('/statement', kinds={'store'}, tag='stores', query=STATEMENT_QUERY)
def api_own_statement(portal):
    """The store's statement with its distributor (?start=&end=, this
    month by default)"""
    start, end = _period(portal)
    return _statement(portal, portal.party.id, start, end)
