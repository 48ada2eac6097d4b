# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Ordering (订货): the catalogue and its cart, reorder, the caller's
orders (brand orders: sale.sale; channel orders to its upstream or
distributor: distributor.channel.order) with their timeline, receipt and
cancellation, and the channel orders of its stores and downstream
distributors (approve, reject, deliver, back-orders).

Pages and endpoints share the same functions: a page parses its form, an
endpoint its JSON body, then both call the entry points with
portal.party."""
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool

from distributor.access import trusted
from distributor.exceptions import EntryPointRefused

from . import schema as s
from .i18n import N_
from .stock import SCANS, parse_scans
from .web import (
    PREFIX, PortalError, Refused, api, json_response, new_token, page)

SALE = 'sale.sale'
CHANNEL = 'distributor.channel.order'
ORDER_ROLES = {'orders'}
GOODS_ROLES = {'orders', 'stock'}
BRAND_KINDS = ['regular', 'promotion', 'return']
CHANNEL_STATES = ['draft', 'submitted', 'approved', 'delivered',
    'received', 'done', 'rejected', 'cancelled']
# the steps of a timeline, in order (a log's to_state)
_STEP_LABELS = {
    'draft': N_("Draft"),
    'submitted': N_("Submitted"),
    'approved': N_("Approved"),
    'rejected': N_("Rejected"),
    'shipped': N_("Shipped"),
    'delivered': N_("Delivered"),
    'received': N_("Received"),
    'done': N_("Done"),
    'cancelled': N_("Cancelled"),
    }


# Helpers -----------------------------------------------------------------

def _field(portal, name, default=''):
    values = (portal.body or {}).get(name) or [default]
    return values[0]


def _selection(Model, field):
    return dict(Model.fields_get([field])[field]['selection'])


def _number(portal, value):
    "A quantity of a form: Decimal, None when empty, refused when bad"
    value = (value or '').strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if (number is None or not number.is_finite() or number < 0
            or number > Decimal('1e9')):
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("A quantity is not a number.")))
    return number


@contextmanager
def _refused_by_rules(answer):
    """A refusal by the channel rules (a UserError that is no access
    refusal) in the block is answered by answer(error), everything the
    block wrote rolled back (web.Refused)"""
    try:
        yield
    except (AccessError, EntryPointRefused):
        raise
    except UserError as error:
        raise Refused(error, answer)


# The catalogue -------------------------------------------------------------

def _seller(portal):
    """Whom the caller orders from: (mode, seller) with mode 'brand' (a
    brand order, seller None) or 'channel' (a channel order)"""
    party = portal.party
    with trusted():
        if party.is_store:
            return 'channel', party.store_distributor
        if party.upstream:
            return 'channel', party.upstream
    return 'brand', None


def _brand_prices(party, products):
    """{product id: unit price} of a brand order of party: the price
    dms_create_order gives a line (the sale line's own on_change_product)"""
    pool = Pool()
    Sale = pool.get(SALE)
    Line = pool.get('sale.line')
    sale = Sale(party=party, order_kind='regular')
    for name, value in Sale.default_get(
            ['company', 'currency', 'warehouse', 'invoice_method',
                'shipment_method', 'payment_term'],
            with_rec_name=False).items():
        setattr(sale, name, value)
    sale.on_change_party()
    result = {}
    for product in products:
        line = Line(sale=sale, type='line', product=product, quantity=1,
            gift=False)
        line.on_change_product()
        result[product.id] = line.unit_price
    return result


def catalogue(portal, search=None):
    """The products the caller may order with the price an order gets,
    the order kinds and delivery addresses"""
    pool = Pool()
    Product = pool.get('product.product')
    Party = pool.get('party.party')
    Price = pool.get('distributor.store.price')
    Promotion = pool.get('distributor.store.promotion')
    party = portal.party
    mode, seller = _seller(portal)
    domain = [('salable', '=', True)]
    if search:
        domain.append(['OR',
                ('name', 'ilike', f'%{search}%'),
                ('code', 'ilike', f'%{search}%'),
                ])
    with trusted():
        products = Product.search(domain, order=[('code', 'ASC'),
                ('id', 'ASC')])
        buyers = [party] if party.is_distributor else []
        parties = buyers + ([seller] if seller else [])
        allowed = Party.dms_authorized_products(parties, products)
        products = [p for p in products
            if all(p.id in allowed[x.id] for x in parties)]
        if mode == 'brand':
            prices = _brand_prices(party, products)
        else:
            prices = Price.prices_for(seller, products)
        promotions = {}
        if mode == 'channel' and seller:
            for promotion in Promotion.search([
                        ('distributor', '=', seller.id),
                        ('state', '=', 'active'),
                        ]):
                if promotion.stores and party not in promotion.stores:
                    continue
                targets = ([p.id for p in promotion.products]
                    or [p.id for p in products])
                for product_id in targets:
                    promotions.setdefault(product_id, []).append(
                        promotion.name)
        addresses = [{'id': a.id, 'name': a.full_address.replace(
                        '\n', ', ') or a.rec_name}
            for a in party.addresses if a.active]
        items = [{
                'id': p.id,
                'code': p.code,
                'name': p.name,
                'unit': p.sale_uom.symbol if p.sale_uom else '',
                'pack': getattr(p.template, 'pack_quantity', None),
                'price': prices.get(p.id),
                'promotions': promotions.get(p.id, []),
                } for p in products]
        return {
            'mode': mode,
            'seller': ({'id': seller.id, 'name': seller.rec_name}
                if seller else None),
            'kinds': BRAND_KINDS if mode == 'brand' else [],
            'addresses': addresses if mode == 'brand' else [],
            'products': items,
            }


class OrderOption:
    """An option of a brand order a later module adds to the cart (e.g. a
    rebate deduction): its name (a keyword argument of the module's
    sale.sale dms_create_order), its JSON schema in the API body, the
    template included in the cart form, and context(portal) giving that
    template its values (None: the option is not offered to the caller)"""

    def __init__(self, name, schema, template, context, module):
        self.name = name
        self.schema = schema
        self.template = template
        self.context = context
        self.module = module


# {name: OrderOption}
ORDER_OPTIONS = {}


def add_order_option(option):
    "Offer a later module's option on brand orders (cart and API)"
    ORDER_OPTIONS[option.name] = option
    ORDER['properties'][option.name] = option.schema


def _order_options(portal):
    "The options of the activated modules: [OrderOption]"
    modules = getattr(portal.pool, '_modules', ())
    return [o for o in ORDER_OPTIONS.values() if o.module in modules]


def place_order(portal, lines, kind='regular', address=None, comment=None,
        options=None):
    """Place the caller's order: (model, id).  A brand order is created
    and submitted (with the options of later modules given, see
    OrderOption); a channel order goes to the upstream (distributor) or
    to the store's distributor, submitted"""
    pool = Pool()
    mode, _ = _seller(portal)
    lines = [{'product': int(l['product']), 'quantity': l['quantity']}
        for l in lines]
    if mode == 'brand':
        Sale = pool.get(SALE)
        options = {k: v for k, v in (options or {}).items()
            if v not in (None, '')}
        id_ = Sale.dms_create_order(portal.party, lines, kind=kind,
            address=address, comment=comment, submit=True, **options)
        return SALE, id_
    Order = pool.get(CHANNEL)
    id_ = Order.dms_create_channel_order(portal.party, lines, submit=True,
        comment=comment)
    return CHANNEL, id_


def _offending(catalogue_, message):
    "The ids of the catalogue's products a refusal names"
    result = set()
    for item in catalogue_['products']:
        names = [item['name']] + ([f"[{item['code']}] {item['name']}"]
            if item['code'] else [])
        if any(n and n in message for n in names):
            result.add(item['id'])
    return result


def _render_catalogue(portal, quantities=None, error=None, offending=(),
        kind='regular', address=None, comment='', status=200,
        reorder=None, prefill=None, options=None):
    search = portal.request.args.get('q', '').strip()[:100]
    data = catalogue(portal, search=search or None)
    Sale = Pool().get(SALE)
    kinds = _selection(Sale, 'order_kind')
    quantities = quantities or {}
    # a product of the cart stays even when a search hides it
    if search and quantities:
        shown = {p['id'] for p in data['products']}
        full = catalogue(portal)
        data['products'].extend(p for p in full['products']
            if p['id'] in quantities and p['id'] not in shown)
    total = sum((Decimal(str(quantities.get(p['id']) or 0))
            * (p['price'] or 0) for p in data['products']), Decimal(0))
    # the options of later modules on brand orders: (template, values)
    option_blocks = []
    if _seller(portal)[0] == 'brand':
        for option in _order_options(portal):
            values = option.context(portal)
            if values is not None:
                values['value'] = (options or {}).get(option.name) or ''
                option_blocks.append((option.template, values))
    response = portal.render('orders_catalogue.html', status=status,
        data=data, quantities=quantities, error=error,
        offending=set(offending), kind=kind, address=address,
        comment=comment, search=search, total=total,
        kinds=[(k, portal._(kinds.get(k, k))) for k in data['kinds']],
        key=new_token(), reorder=reorder, prefill=prefill,
        option_blocks=option_blocks)
    if status != 200:
        # a replay of this key shows the catalogue again
        response.headers['Location'] = PREFIX + '/catalogue'
    return response


# the sources a cart can be prefilled from: (kind of the caller, label)
_PREFILLS = {
    'alerts': ('distributor', N_("From the stock alerts")),
    'suggestions': ('store', N_("From the replenishment suggestions")),
    }


def _alert_quantities(portal):
    """{product id: quantity} of the caller's open below-minimum alerts:
    their suggested quantity (in the product's unit) in the order's unit
    (a brand order: the sale unit; a channel order: the product's)"""
    pool = Pool()
    Alert = pool.get('distributor.stock.alert')
    Product = pool.get('product.product')
    Uom = pool.get('product.uom')
    mode, _ = _seller(portal)
    rows = [r for r in Alert.dms_list_alerts(portal.party, kinds=['low'])
        if r['suggested_quantity'] and r['suggested_quantity'] > 0]
    result = {}
    with trusted():
        products = {p.id: p for p in Product.browse(
                list({r['product'] for r in rows}))}
        for row in rows:
            product = products[row['product']]
            quantity = row['suggested_quantity']
            if mode == 'brand' and product.sale_uom:
                quantity = Uom.compute_qty(product.default_uom, quantity,
                    product.sale_uom)
            result[product.id] = (result.get(product.id, Decimal(0))
                + Decimal(str(quantity)))
    return result


def _suggestion_quantities(portal):
    """{product id: quantity} of the replenishment suggestions of the
    calling store (channel order lines are in the product's unit)"""
    Limit = Pool().get('distributor.store.limit')
    result = {}
    for row in Limit.dms_store_suggestions(portal.party):
        if row['store'] != portal.party.id or not row['suggested_quantity']:
            continue
        result[row['product']] = (result.get(row['product'], Decimal(0))
            + Decimal(str(row['suggested_quantity'])))
    return result


@page('/catalogue')
def catalogue_page(portal):
    """The catalogue and the cart; ?from=alerts (a distributor: its open
    below-minimum alerts) or ?from=suggestions (a store: its replenishment
    suggestions) fills the cart with the suggested quantities"""
    source = portal.request.args.get('from')
    if not source:
        return _render_catalogue(portal)
    if source not in _PREFILLS or _PREFILLS[source][0] != portal.kind:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("This cart cannot be filled from there.")))
    if source == 'alerts':
        quantities = _alert_quantities(portal)
    else:
        quantities = _suggestion_quantities(portal)
    # only what the caller may order: the catalogue's products
    orderable = {p['id'] for p in catalogue(portal)['products']}
    quantities = {k: v for k, v in quantities.items() if k in orderable}
    return _render_catalogue(portal, quantities,
        prefill=portal._(_PREFILLS[source][1]))


@page('/catalogue', methods=('POST',), roles=ORDER_ROLES, idempotent=True)
def catalogue_submit_page(portal):
    "Place the order of the cart"
    quantities = {}
    for name, values in (portal.body or {}).items():
        if name.startswith('qty_'):
            product = portal.int_arg(name[4:], 'product')
            quantity = _number(portal, values[0] if values else '')
            if quantity:
                quantities[product] = quantity
    kind = _field(portal, 'kind', 'regular') or 'regular'
    address = _field(portal, 'address') or None
    comment = _field(portal, 'comment') or None
    if address is not None:
        address = portal.int_arg(address, 'address')
    # the options of later modules, as typed (the entry point checks them)
    options = {o.name: _field(portal, o.name) or None
        for o in _order_options(portal)}
    if not quantities:
        return _render_catalogue(portal, quantities, kind=kind,
            address=address, comment=comment or '', options=options,
            error=portal._(N_("Enter a quantity for at least one product.")),
            status=HTTPStatus.UNPROCESSABLE_ENTITY)

    def again(error):
        "The cart again, the message beside the lines it names"
        data = catalogue(portal)
        return _render_catalogue(portal, quantities, error=error.message,
            offending=_offending(data, error.message), kind=kind,
            address=address, comment=comment or '', options=options,
            status=HTTPStatus.UNPROCESSABLE_ENTITY)
    with _refused_by_rules(again):
        model, id_ = place_order(portal, [
                {'product': p, 'quantity': q}
                for p, q in quantities.items()],
            kind=kind, address=address, comment=comment, options=options)
    path = 'orders' if model == SALE else 'channel-orders'
    return portal.redirect(f'{PREFIX}/{path}/{id_}',
        flash=portal._(N_("Your order is submitted.")))


def _reorder_quantities(order):
    return {l.product.id: Decimal(str(abs(l.quantity)))
        for l in (order.line_lines if order.__name__ == SALE
            else order.lines)
        if l.product and l.quantity
        and not getattr(l, 'promotion_gift', False)
        and not getattr(l, 'gift', False)}


@page('/orders/<int:order>/reorder', roles=ORDER_ROLES,
    ids={'order': SALE})
def reorder_sale_page(portal, order):
    "The cart filled with the lines of a past brand order"
    sale = _sale(portal, order)
    with trusted():
        quantities = _reorder_quantities(sale)
        kind = sale.order_kind
    return _render_catalogue(portal, quantities, kind=kind,
        reorder=sale.number or sale.id)


@page('/channel-orders/<int:order>/reorder', roles=ORDER_ROLES,
    ids={'order': CHANNEL})
def reorder_channel_page(portal, order):
    "The cart filled with the lines of a past channel order"
    record = _channel(portal, order, side='buyer')
    with trusted():
        quantities = _reorder_quantities(record)
    return _render_catalogue(portal, quantities,
        reorder=record.number or record.id)


CATALOGUE_QUERY = {'q': s.SHORT}
LINE = s.obj(['product', 'quantity'], product=s.ID, quantity=s.QUANTITY)
ORDER = s.obj(['lines'], lines=s.array(LINE, min_items=1),
    kind={'type': 'string', 'enum': BRAND_KINDS}, address=s.ID,
    comment=s.TEXT)


@api('/catalogue', tag='orders', query=CATALOGUE_QUERY)
def api_catalogue(portal):
    """The products the caller may order with their price (brand tier
    price, or the seller's store price), kinds and addresses"""
    search = (portal.request.args.get('q') or '').strip()[:100]
    return catalogue(portal, search=search or None)


@api('/orders', methods=('POST',), roles=ORDER_ROLES, body=ORDER,
    tag='orders', idempotent=True)
def api_place_order(portal):
    """Place an order (submitted): a brand order, or a channel order to
    the upstream distributor (a store: to its distributor).  A channel
    rule's refusal answers 422 with details.products: the products the
    message names"""
    body = portal.body

    def refusal(error):
        "The refusal, with the products the message names"
        data = catalogue(portal)
        return json_response({'code': 'channel_rule',
                'message': error.message,
                'details': {'products': sorted(
                        _offending(data, error.message))}},
            status=HTTPStatus.UNPROCESSABLE_ENTITY)
    with _refused_by_rules(refusal):
        model, id_ = place_order(portal, body['lines'],
            kind=body.get('kind', 'regular'), address=body.get('address'),
            comment=body.get('comment'), options={
                o.name: body[o.name] for o in _order_options(portal)
                if o.name in body})
    if model == SALE:
        result = _sale_dict(portal, _sale(portal, id_))
    else:
        result = _channel_dict(portal, _channel(portal, id_))
    return json_response(result, status=HTTPStatus.CREATED)


# Reading orders ------------------------------------------------------------

def _sale(portal, id_):
    return portal.resolve(SALE, id_,
        domain=[('party', '=', portal.party.id)])


def _channel(portal, id_, side=None):
    party = portal.party.id
    if side:
        domain = [(side, '=', party)]
    else:
        domain = [['OR', ('seller', '=', party), ('buyer', '=', party)]]
    return portal.resolve(CHANNEL, id_, domain=domain)


def _timeline(portal, Model, logs, field):
    states = _selection(Model, field)
    return [{
            'state': log.to_state,
            'label': portal._(_STEP_LABELS.get(log.to_state))
            if log.to_state in _STEP_LABELS
            else states.get(log.to_state, log.to_state),
            'at': log.create_date.replace(microsecond=0),
            'user': log.user.rec_name if log.user else None,
            'reason': log.reason,
            } for log in sorted(logs, key=lambda l: (l.create_date, l.id))]


def _sale_dict(portal, sale):
    Sale = Pool().get(SALE)
    states = _selection(Sale, 'channel_state')
    with trusted():
        return {
            'type': 'sale',
            'id': sale.id,
            'number': sale.number,
            'reference': sale.reference,
            'kind': sale.order_kind,
            'state': sale.channel_state,
            'state_label': states.get(sale.channel_state),
            'date': sale.sale_date or sale.create_date.date(),
            'address': (sale.shipment_address.full_address.replace(
                    '\n', ', ') if sale.shipment_address else None),
            'untaxed_amount': sale.untaxed_amount,
            'total_amount': sale.total_amount,
            'currency': sale.currency.code,
            'rejection_reason': sale.rejection_reason,
            'cancel_reason': sale.cancel_reason,
            'receivable': sale.channel_state == 'shipped',
            'cancellable': sale.channel_state in {
                'draft', 'submitted', 'rejected', 'approved'},
            'lines': [{
                    'id': l.id,
                    'product': l.product.id if l.product else None,
                    'code': l.product.code if l.product else None,
                    'name': l.product.name if l.product else l.description,
                    'quantity': l.quantity,
                    'unit_price': l.unit_price,
                    'amount': l.amount,
                    'gift': l.gift,
                    'policy': _line_policy(l),
                    'shipped_quantity': l.dms_shipped_quantity,
                    'received_quantity': l.received_quantity,
                    } for l in sale.line_lines],
            'discrepancies': len(sale.discrepancies),
            'timeline': _timeline(portal, Sale, sale.channel_logs,
                'channel_state'),
            }


def _line_policy(line):
    """{id, title} of the brand policy that priced the line or granted its
    gift (distributor_policy's sale.line dms_policy), or None; read
    trusted: the order is the caller's, resolved before"""
    if 'dms_policy' not in line._fields:
        return None
    with trusted():
        policy = type(line)(line.id).dms_policy
        return {'id': policy.id, 'title': policy.title} if policy else None


def _channel_dict(portal, order, lines=True):
    Order = Pool().get(CHANNEL)
    states = _selection(Order, 'state')
    party = portal.party
    with trusted():
        side = 'seller' if order.seller == party else 'buyer'
        result = {
            'type': 'channel',
            'id': order.id,
            'number': order.number,
            'side': side,
            'seller': {'id': order.seller.id, 'name': order.seller.rec_name},
            'buyer': {'id': order.buyer.id, 'name': order.buyer.rec_name},
            'state': order.state,
            'state_label': states.get(order.state),
            'date': order.date,
            'total_amount': order.total_amount,
            'currency': order.currency.code if order.currency else None,
            'backordered': bool(order.backordered),
            'reason': order.reason,
            }
        if lines:
            result.update({
                    'receivable': (side == 'buyer'
                        and order.state == 'delivered'),
                    'cancellable': (side == 'buyer'
                        and order.state in {'draft', 'submitted'}),
                    'approvable': (side == 'seller'
                        and order.state == 'submitted'),
                    'deliverable': (side == 'seller'
                        and order.state == 'approved'),
                    'lines': [{
                            'id': l.id,
                            'product': l.product.id,
                            'code': l.product.code,
                            'name': l.product.name,
                            'quantity': l.quantity,
                            'unit_price': l.unit_price,
                            'discount': l.discount,
                            'amount': l.amount,
                            'gift': l.promotion_gift,
                            'delivered_quantity': l.delivered_quantity,
                            'received_quantity': l.received_quantity,
                            } for l in order.lines],
                    'timeline': _timeline(portal, Order, order.state_logs,
                        'state'),
                    })
        return result


def _list_sales(portal, offset, limit, states=None):
    Sale = Pool().get(SALE)
    if portal.kind != 'distributor':
        return [], 0
    domain = [('party', '=', portal.party.id),
        ('distributor_order', '=', True)]
    if states:
        domain.append(('channel_state', 'in', states))
    total = Sale.search_count(domain)
    sales = Sale.search(domain, offset=offset, limit=limit,
        order=[('create_date', 'DESC'), ('id', 'DESC')])
    items = []
    for sale in sales:
        item = _sale_dict(portal, sale)
        del item['timeline']
        items.append(item)
    return items, total


def _list_channel(portal, role, offset, limit, states=None,
        backordered=False):
    Order = Pool().get(CHANNEL)
    domain = [(role, '=', portal.party.id)]
    if states:
        domain.append(('state', 'in', states))
    if backordered:
        domain.append(('backordered', '=', True))
    total = Order.search_count(domain)
    orders = Order.search(domain, offset=offset, limit=limit,
        order=[('date', 'DESC'), ('id', 'DESC')])
    return [_channel_dict(portal, o, lines=False) for o in orders], total


def _states_arg(portal, allowed):
    value = portal.request.args.get('state') or ''
    states = [x for x in value.split(',') if x]
    for state in states:
        if state not in allowed:
            raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
                portal._(N_("Unknown state.")))
    return states


@page('/orders')
def orders_page(portal):
    """The caller's orders (brand orders, channel orders) and those of its
    stores and downstream distributors"""
    offset, limit = portal.page_window()
    mode, _ = _seller(portal)
    tabs = []
    if portal.kind == 'distributor':
        tabs.append(('brand', N_("Brand orders")))
    if mode == 'channel' or portal.kind == 'store':
        tabs.append(('channel', N_("My channel orders")))
    if portal.kind == 'distributor':
        tabs.append(('incoming', N_("Orders to approve")))
    default = 'channel' if mode == 'channel' else 'brand'
    tab = portal.request.args.get('tab') or default
    if tab not in {t for t, _ in tabs}:
        tab = default
    backordered = portal.request.args.get('backordered') == '1'
    Sale = Pool().get(SALE)
    Order = Pool().get(CHANNEL)
    if tab == 'brand':
        states = _states_arg(portal, _selection(Sale, 'channel_state'))
        items, total = _list_sales(portal, offset, limit, states)
        state_choices = _selection(Sale, 'channel_state')
    else:
        states = _states_arg(portal, CHANNEL_STATES)
        if tab == 'incoming' and 'state' not in portal.request.args \
                and not backordered:
            states = ['submitted']
        items, total = _list_channel(portal,
            'seller' if tab == 'incoming' else 'buyer', offset, limit,
            states, backordered)
        state_choices = _selection(Order, 'state')
    return portal.render('orders_list.html', tab=tab,
        tabs=[(t, portal._(label)) for t, label in tabs], items=items,
        total=total, offset=offset, limit=limit,
        state=','.join(states), backordered=backordered,
        states=[(k, v) for k, v in state_choices.items() if k])


@page('/orders/<int:order>', ids={'order': SALE}, kinds={'distributor'})
def sale_page(portal, order):
    "A brand order: its lines, timeline, receipt and cancellation"
    sale = _sale(portal, order)
    return portal.render('orders_sale.html', order=_sale_dict(portal, sale))


@page('/channel-orders/<int:order>', ids={'order': CHANNEL})
def channel_page(portal, order):
    "A channel order: its lines, timeline and the actions of the caller"
    record = _channel(portal, order)
    return portal.render('orders_channel.html',
        order=_channel_dict(portal, record))


@api('/orders', tag='orders', paginated=True, kinds={'distributor'},
    query={'state': s.SHORT})
def api_orders(portal):
    "The caller's brand orders, newest first (state: a,b filter)"
    offset, limit = portal.page_window()
    Sale = Pool().get(SALE)
    states = _states_arg(portal, _selection(Sale, 'channel_state'))
    items, total = _list_sales(portal, offset, limit, states)
    return portal.paginated(items, total, offset, limit)


@api('/orders/<int:order>', tag='orders', ids={'order': SALE},
    kinds={'distributor'})
def api_order(portal, order):
    "A brand order with its lines and timeline"
    return _sale_dict(portal, _sale(portal, order))


@api('/channel-orders', tag='orders', paginated=True,
    query={'role': {'type': 'string', 'enum': ['buyer', 'seller']},
        'state': s.SHORT, 'backordered': {'type': 'string'}})
def api_channel_orders(portal):
    """The caller's channel orders as buyer (role=buyer, default) or as
    seller (role=seller); state: a,b; backordered=1"""
    offset, limit = portal.page_window()
    role = portal.request.args.get('role') or 'buyer'
    if role not in {'buyer', 'seller'}:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("Unknown role.")))
    states = _states_arg(portal, CHANNEL_STATES)
    items, total = _list_channel(portal, role, offset, limit, states,
        portal.request.args.get('backordered') == '1')
    return portal.paginated(items, total, offset, limit)


@api('/channel-orders/<int:order>', tag='orders', ids={'order': CHANNEL})
def api_channel_order(portal, order):
    "A channel order with its lines and timeline"
    return _channel_dict(portal, _channel(portal, order))


# Acting on the caller's own orders -----------------------------------------

def receive_sale(portal, order, quantities=None, note=None, scans=None):
    """Confirm the receipt of a brand order: quantities {line: quantity}
    (lines not given: as shipped) or scans (each line received as the
    total scanned of its product)"""
    Sale = Pool().get(SALE)
    sale = _sale(portal, order)
    if scans is not None:
        Sale.dms_receive_scans(sale.id, scans, note=note,
            party=portal.party)
    else:
        Sale.dms_confirm_receipt([sale.id], quantities=quantities or {},
            note=note)
    return sale.id


def cancel_sale(portal, order, reason):
    Sale = Pool().get(SALE)
    sale = _sale(portal, order)
    Sale.dms_cancel_orders([sale.id], reason)
    return sale.id


def receive_channel(portal, order, quantities):
    Order = Pool().get(CHANNEL)
    record = _channel(portal, order, side='buyer')
    Order.dms_receive_channel_order(portal.party, record.id,
        quantities=quantities)
    return record.id


def cancel_channel(portal, order, reason):
    Order = Pool().get(CHANNEL)
    record = _channel(portal, order, side='buyer')
    Order.dms_cancel_channel_orders(portal.party, [record.id], reason)
    return record.id


def _form_quantities(portal):
    "{line id: quantity} of the qty_<line> fields of a receipt form"
    result = {}
    for name, values in (portal.body or {}).items():
        if name.startswith('qty_'):
            line = portal.int_arg(name[4:], 'line')
            quantity = _number(portal, values[0] if values else '')
            if quantity is not None:
                result[line] = float(quantity)
    return result


def _reason(portal):
    reason = _field(portal, 'reason').strip()
    if not reason:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("Give a reason.")))
    return reason


@page('/orders/<int:order>/receive', methods=('POST',), roles=GOODS_ROLES,
    kinds={'distributor'}, ids={'order': SALE})
def receive_sale_page(portal, order):
    """Confirm the receipt of a shipped brand order: quantities per line,
    or the scanned codes (one a line: CODE or CODE QTY) when given"""
    codes = _field(portal, 'scans')
    scans = parse_scans(codes) if codes.strip() else None
    receive_sale(portal, order,
        _form_quantities(portal) if scans is None else None,
        note=_field(portal, 'note') or None, scans=scans)
    return portal.redirect(f'{PREFIX}/orders/{order}',
        flash=portal._(N_("The receipt is confirmed.")))


@page('/orders/<int:order>/cancel', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'}, ids={'order': SALE})
def cancel_sale_page(portal, order):
    "Cancel a brand order not shipped yet"
    cancel_sale(portal, order, _reason(portal))
    return portal.redirect(f'{PREFIX}/orders/{order}',
        flash=portal._(N_("The order is cancelled.")))


@page('/channel-orders/<int:order>/receive', methods=('POST',),
    roles=GOODS_ROLES, ids={'order': CHANNEL})
def receive_channel_page(portal, order):
    "Confirm the receipt of a delivered channel order"
    receive_channel(portal, order, _form_quantities(portal))
    return portal.redirect(f'{PREFIX}/channel-orders/{order}',
        flash=portal._(N_("The receipt is confirmed.")))


@page('/channel-orders/<int:order>/cancel', methods=('POST',),
    roles=ORDER_ROLES, ids={'order': CHANNEL})
def cancel_channel_page(portal, order):
    "Cancel a channel order the seller has not approved yet"
    cancel_channel(portal, order, _reason(portal))
    return portal.redirect(f'{PREFIX}/channel-orders/{order}',
        flash=portal._(N_("The order is cancelled.")))


RECEIPT = s.obj(['lines'], lines=s.array(s.obj(['line', 'quantity'],
            line=s.ID, quantity=s.QUANTITY_OR_ZERO)), note=s.TEXT)
SALE_RECEIPT = s.obj([], lines=s.array(s.obj(['line', 'quantity'],
            line=s.ID, quantity=s.QUANTITY_OR_ZERO)), scans=SCANS,
    note=s.TEXT)
REASON = s.obj(['reason'], reason=s.REASON)


def _api_quantities(body):
    return {l['line']: float(l['quantity']) for l in body.get('lines', [])}


def _api_scans(scans):
    if scans is None:
        return None
    return [dict(x, quantity=float(x['quantity'])) if isinstance(x, dict)
        and 'quantity' in x else x for x in scans]


@api('/orders/<int:order>/receive', methods=('POST',), roles=GOODS_ROLES,
    kinds={'distributor'}, body=SALE_RECEIPT, tag='orders',
    ids={'order': SALE})
def api_receive_sale(portal, order):
    """Confirm the receipt of a shipped brand order: the received quantity
    per line (lines not given: as shipped), or scans (a code, or {code,
    lot, quantity}: each line is received as the total scanned of its
    product); not both.  A shortfall opens a discrepancy"""
    body = portal.body
    if 'lines' in body and 'scans' in body:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("Give the quantities or the scans, not both.")))
    receive_sale(portal, order, _api_quantities(body),
        note=body.get('note'), scans=_api_scans(body.get('scans')))
    return _sale_dict(portal, _sale(portal, order))


@api('/orders/<int:order>/cancel', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'}, body=REASON, tag='orders', ids={'order': SALE})
def api_cancel_sale(portal, order):
    "Cancel a brand order not shipped yet, with a reason"
    cancel_sale(portal, order, portal.body['reason'])
    return _sale_dict(portal, _sale(portal, order))


@api('/channel-orders/<int:order>/receive', methods=('POST',),
    roles=GOODS_ROLES, body=RECEIPT, tag='orders', ids={'order': CHANNEL})
def api_receive_channel(portal, order):
    """Confirm the receipt of a delivered channel order: the received
    quantity per line (lines not given were not received)"""
    receive_channel(portal, order, _api_quantities(portal.body))
    return _channel_dict(portal, _channel(portal, order))


@api('/channel-orders/<int:order>/cancel', methods=('POST',),
    roles=ORDER_ROLES, body=REASON, tag='orders', ids={'order': CHANNEL})
def api_cancel_channel(portal, order):
    "Cancel a channel order the seller has not approved yet"
    cancel_channel(portal, order, portal.body['reason'])
    return _channel_dict(portal, _channel(portal, order))


# The orders of the caller's stores and downstream distributors -------------

def _seller_orders(portal, ids):
    return [_channel(portal, i, side='seller').id for i in ids]


def approve(portal, ids):
    Order = Pool().get(CHANNEL)
    ids = _seller_orders(portal, ids)
    Order.dms_approve_channel_orders(portal.party, ids)
    return ids


def reject(portal, ids, reason):
    Order = Pool().get(CHANNEL)
    ids = _seller_orders(portal, ids)
    Order.dms_reject_channel_orders(portal.party, ids, reason)
    return ids


def deliver(portal, ids):
    Order = Pool().get(CHANNEL)
    ids = _seller_orders(portal, ids)
    Order.dms_deliver_channel_orders(portal.party, ids)
    return ids


def _form_ids(portal):
    values = (portal.body or {}).get('order') or []
    ids = [portal.int_arg(v, 'order') for v in values if v]
    if not ids:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("Choose at least one order.")))
    return ids


_INCOMING = PREFIX + '/orders?tab=incoming'


@page('/channel-orders/<int:order>/approve', methods=('POST',),
    roles=ORDER_ROLES, kinds={'distributor'}, ids={'order': CHANNEL})
def approve_page(portal, order):
    "Approve a submitted order of a store or downstream distributor"
    approve(portal, [order])
    return portal.redirect(f'{PREFIX}/channel-orders/{order}',
        flash=portal._(N_("The order is approved.")))


@page('/channel-orders/<int:order>/reject', methods=('POST',),
    roles=ORDER_ROLES, kinds={'distributor'}, ids={'order': CHANNEL})
def reject_page(portal, order):
    "Reject a submitted order, with a reason"
    reject(portal, [order], _reason(portal))
    return portal.redirect(f'{PREFIX}/channel-orders/{order}',
        flash=portal._(N_("The order is rejected.")))


@page('/channel-orders/<int:order>/deliver', methods=('POST',),
    roles=GOODS_ROLES, kinds={'distributor'}, ids={'order': CHANNEL})
def deliver_page(portal, order):
    "Deliver an approved order from the caller's stock"
    deliver(portal, [order])
    return portal.redirect(f'{PREFIX}/channel-orders/{order}',
        flash=portal._(N_("The order is delivered.")))


@page('/channel-orders/approve', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'})
def approve_many_page(portal):
    "Approve the chosen orders"
    ids = approve(portal, _form_ids(portal))
    return portal.redirect(_INCOMING,
        flash=portal._(N_("Approved: %(count)s")) % {'count': len(ids)})


@page('/channel-orders/reject', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'})
def reject_many_page(portal):
    "Reject the chosen orders with one reason"
    ids = reject(portal, _form_ids(portal), _reason(portal))
    return portal.redirect(_INCOMING,
        flash=portal._(N_("Rejected: %(count)s")) % {'count': len(ids)})


IDS = s.obj(['ids'], ids=s.IDS)
IDS_REASON = s.obj(['ids', 'reason'], ids=s.IDS, reason=s.REASON)


@api('/channel-orders/approve', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'}, body=IDS, tag='orders')
def api_approve(portal):
    "Approve submitted orders of the caller's stores and downstream"
    return {'approved': approve(portal, portal.body['ids'])}


@api('/channel-orders/reject', methods=('POST',), roles=ORDER_ROLES,
    kinds={'distributor'}, body=IDS_REASON, tag='orders')
def api_reject(portal):
    "Reject submitted orders with a reason"
    return {'rejected': reject(portal, portal.body['ids'],
            portal.body['reason'])}


@api('/channel-orders/deliver', methods=('POST',), roles=GOODS_ROLES,
    kinds={'distributor'}, body=IDS, tag='orders')
def api_deliver(portal):
    "Deliver approved orders from the caller's stock"
    return {'delivered': deliver(portal, portal.body['ids'])}


@api('/channel-orders/<int:order>/approve', methods=('POST',),
    roles=ORDER_ROLES, kinds={'distributor'}, tag='orders',
    ids={'order': CHANNEL})
def api_approve_one(portal, order):
    "Approve a submitted order of a store or downstream distributor"
    approve(portal, [order])
    return _channel_dict(portal, _channel(portal, order))


@api('/channel-orders/<int:order>/reject', methods=('POST',),
    roles=ORDER_ROLES, kinds={'distributor'}, body=REASON, tag='orders',
    ids={'order': CHANNEL})
def api_reject_one(portal, order):
    "Reject a submitted order of a store or downstream, with a reason"
    reject(portal, [order], portal.body['reason'])
    return _channel_dict(portal, _channel(portal, order))


@api('/channel-orders/<int:order>/deliver', methods=('POST',),
    roles=GOODS_ROLES, kinds={'distributor'}, tag='orders',
    ids={'order': CHANNEL})
def api_deliver_one(portal, order):
    "Deliver an approved order from the caller's stock"
    deliver(portal, [order])
    return _channel_dict(portal, _channel(portal, order))
