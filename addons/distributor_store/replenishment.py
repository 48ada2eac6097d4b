# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Store replenishment: min/max and velocity suggestions into draft orders"
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.aggregate import Max, Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, fields)
from distributor_stock.configuration import Z_SCORES
from distributor_stock.replenishment import (
    replenishment_levels)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import entry_point, resolve
from distributor.exceptions import RecordNotFound

from .exceptions import StoreError


class StoreLimit(ModelSQL, ModelView):
    """Store Stock Limit

    The minimum and maximum a store should hold of a product; with the
    store's own demand they give its replenishment suggestions."""
    __name__ = 'distributor.store.limit'

    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='CASCADE',
        domain=[('is_store', '=', True)])
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        domain=[('type', '=', 'goods')])
    min_quantity = fields.Float(
        "Minimum", required=True, domain=[('min_quantity', '>=', 0)])
    max_quantity = fields.Float(
        "Maximum", required=True,
        domain=[('max_quantity', '>=', Eval('min_quantity', 0))])
    lead_time = fields.Integer(
        "Lead Time Days", domain=['OR', ('lead_time', '=', None),
            ('lead_time', '>=', 0)],
        help="Days from ordering to delivery; empty for the "
        "configuration's.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('store_product_unique', Unique(t, t.store, t.product),
                'distributor_store.msg_store_limit_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.store, Index.Range())))
        cls.__rpc__.update({
                'dms_store_suggestions': RPC(),
                'dms_order_store_suggestions': RPC(readonly=False),
                })

    @classmethod
    def _demand(cls, store_ids, start, end):
        """{(store id, product id): (Σ daily, Σ daily²)} of what the
        stores received (delivered channel orders) per day: the quantity
        the store confirmed once received, else the quantity delivered"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        order = Order.__table__()
        line = Line.__table__()
        received = Coalesce(line.received_quantity, line.delivered_quantity)
        cursor = Transaction().connection.cursor()
        result = {}
        for sub in grouped_slice(store_ids, MAX_QUERY_PARAMS):
            sub = list(sub)
            daily = line.join(order, condition=line.order == order.id
                ).select(order.buyer.as_('store'),
                line.product.as_('product'),
                order.delivered_date.as_('date'),
                Sum(received).as_('qty'),
                where=reduce_ids(order.buyer, sub)
                & order.state.in_(['delivered', 'received', 'done'])
                & (order.delivered_date >= start)
                & (order.delivered_date <= end)
                & (line.delivered_quantity != Null),
                group_by=[order.buyer, line.product, order.delivered_date])
            cursor.execute(*daily.select(daily.store, daily.product,
                    Sum(daily.qty), Sum(daily.qty * daily.qty),
                    group_by=[daily.store, daily.product]))
            for store, product, s1, s2 in cursor:
                result[(store, product)] = (s1 or 0.0, s2 or 0.0)
        return result

    @classmethod
    def _received_since(cls, store_ids, since):
        """{(store id, product id): [(date, quantity)]} delivered to the
        stores since the dates given per store (the quantity the store
        confirmed once received)"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        order = Order.__table__()
        line = Line.__table__()
        received = Coalesce(line.received_quantity, line.delivered_quantity)
        cursor = Transaction().connection.cursor()
        start = min(since.values()) if since else None
        result = defaultdict(list)
        if start is None:
            return result
        for sub in grouped_slice(store_ids, MAX_QUERY_PARAMS):
            sub = list(sub)
            cursor.execute(*line.join(order,
                    condition=line.order == order.id
                    ).select(order.buyer, line.product, order.delivered_date,
                    Sum(received),
                    where=reduce_ids(order.buyer, sub)
                    & order.state.in_(['delivered', 'received', 'done'])
                    & (order.delivered_date >= start),
                    group_by=[order.buyer, line.product,
                        order.delivered_date]))
            for store, product, date, quantity in cursor:
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date)
                if date > since[store]:
                    result[(store, product)].append((date, quantity or 0))
        return result

    @classmethod
    def _last_checks(cls, store_ids):
        """({(store id, product id): quantity}, {store id: date}) of each
        store's latest done shelf check (by date, then by entry)"""
        pool = Pool()
        Check = pool.get('distributor.store.check')
        CheckLine = pool.get('distributor.store.check.line')
        check = Check.__table__()
        cline = CheckLine.__table__()
        cursor = Transaction().connection.cursor()
        quantities, dates = defaultdict(float), {}
        for sub in grouped_slice(store_ids, MAX_QUERY_PARAMS):
            sub = list(sub)
            latest = check.select(check.store, Max(check.date).as_('date'),
                where=reduce_ids(check.store, sub) & (check.state == 'done'),
                group_by=[check.store])
            cursor.execute(*check.join(latest,
                    condition=(latest.store == check.store)
                    & (latest.date == check.date)
                    ).select(check.store, Max(check.id),
                    where=check.state == 'done',
                    group_by=[check.store]))
            last = {i: s for s, i in cursor}
            if not last:
                continue
            cursor.execute(*cline
                .join(check, condition=cline.check == check.id)
                .select(check.store, check.date, cline.product,
                    Sum(cline.quantity),
                    where=check.id.in_(list(last)),
                    group_by=[check.store, check.date, cline.product]))
            for store, date, product, quantity in cursor:
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date)
                dates[store] = date
                quantities[(store, product)] += quantity or 0
            for check in Check.browse([i for i, s in last.items()
                        if s not in dates]):
                dates[check.store.id] = check.date
        return quantities, dates

    @classmethod
    def _on_order(cls, store_ids):
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        order = Order.__table__()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub in grouped_slice(store_ids, MAX_QUERY_PARAMS):
            sub = list(sub)
            cursor.execute(*line.join(order,
                    condition=line.order == order.id
                    ).select(order.buyer, line.product, Sum(line.quantity),
                    where=reduce_ids(order.buyer, sub)
                    & order.state.in_(['draft', 'submitted', 'approved']),
                    group_by=[order.buyer, line.product]))
            for store, product, quantity in cursor:
                result[(store, product)] = quantity or 0.0
        return result

    @classmethod
    def suggestions(cls, stores):
        """Replenishment suggestions of the stores: [dict(store, product,
        stock, on_order, daily_demand, reorder_level, target_quantity,
        suggested_quantity)].

        The channel's one formula (distributor_stock's
        replenishment_levels) on each store's demand: what it received per
        day over the history window.  Stock is the latest shelf check
        plus what was delivered since, less the demand since; without a
        check, what was received over the estimate window less the demand
        over it (never below zero).  Position = stock + open orders."""
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        Configuration = pool.get('distributor.configuration')
        Date = pool.get('ir.date')
        config = Configuration(1)
        today = Date.today()
        stores = [s for s in stores if s.is_store and s.store_distributor]
        store_ids = [s.id for s in stores]
        if not store_ids:
            return []
        days = config.stock_history_days
        z = Z_SCORES[config.stock_service_level]
        review = config.stock_review_days
        window = config.store_shelf_life_days
        stats = cls._demand(store_ids,
            today - dt.timedelta(days=days - 1), today)
        limits = {(l.store.id, l.product.id): l for l in cls.search([
                    ('store', 'in', store_ids)])}
        checked, check_dates = cls._last_checks(store_ids)
        since = {s: check_dates.get(s, today - dt.timedelta(days=window))
            for s in store_ids}
        received = cls._received_since(store_ids, since)
        on_order = cls._on_order(store_ids)
        pairs = set(limits) | set(stats)
        products = {p.id: p for p in Product.browse(
                list({p for _, p in pairs}))}
        result = []
        for store_id, product_id in sorted(pairs):
            limit = limits.get((store_id, product_id))
            s1, s2 = stats.get((store_id, product_id), (0.0, 0.0))
            lead = (limit.lead_time if limit and limit.lead_time is not None
                else config.store_lead_time_days)
            daily, safety, reorder_level, target = replenishment_levels(
                s1, s2, days, z, lead, review,
                limit.min_quantity if limit else 0.0,
                limit.max_quantity if limit else 0.0)
            start = since[store_id]
            stock = (checked.get((store_id, product_id), 0.0)
                + sum(q for _, q in received.get((store_id, product_id), []))
                - daily * (today - start).days)
            stock = max(stock, 0.0)
            ordered = on_order.get((store_id, product_id), 0.0)
            position = stock + ordered
            if reorder_level > 0 and position < reorder_level:
                quantity = Alert._round_order_quantity(
                    products[product_id], target - position, Uom)
                if quantity > 0:
                    result.append({
                            'store': store_id,
                            'product': product_id,
                            'stock': round(stock, 2),
                            'on_order': round(ordered, 2),
                            'daily_demand': round(daily, 2),
                            'safety_stock': round(safety, 2),
                            'reorder_level': round(reorder_level, 2),
                            'target_quantity': round(target, 2),
                            'suggested_quantity': quantity,
                            })
        return result

    @classmethod
    def create_orders(cls, suggestions):
        """One draft channel order per store (sold by its distributor)
        from [{store, product, quantity}]; returns the orders"""
        pool = Pool()
        Order = pool.get('distributor.channel.order')
        Line = pool.get('distributor.channel.order.line')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        by_store = defaultdict(list)
        for suggestion in suggestions:
            quantity = suggestion.get(
                'quantity', suggestion.get('suggested_quantity'))
            if not quantity or quantity <= 0:
                continue
            by_store[int(suggestion['store'])].append(
                (int(suggestion['product']), quantity))
        orders = []
        for store_id, lines in by_store.items():
            store = Party(store_id)
            if not store.is_store:
                raise StoreError(gettext(
                        'distributor_store.msg_not_a_store',
                        party=store.rec_name))
            orders.append(Order(seller=store.store_distributor,
                    buyer=store, buyer_kind='store',
                    company=Order.default_company(),
                    currency=Order.default_currency(),
                    date=Order.default_date(),
                    lines=[Line(product=Product(p), quantity=q, lot=None)
                        for p, q in lines]))
        for order in orders:
            order.check_parties()
            order.check_lines()
        Order.save(orders)
        return orders

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']},
        records={'stores': 'party.party'})
    def dms_store_suggestions(cls, party, stores=None):
        "The suggestions for the distributor's stores (or a store itself)"
        Party = Pool().get('party.party')
        if party.is_store:
            stores = [party]
        elif stores is not None:
            for store in stores:
                if not store.is_store or store.store_distributor != party:
                    raise RecordNotFound(gettext(
                            'distributor.msg_record_not_found',
                            model=Party.__names__()['model'], id=store.id))
            stores = [s for s in stores if s.store_state == 'active']
        else:
            stores = Party.search([
                    ('store_distributor', '=', party.id),
                    ('is_store', '=', True),
                    ('store_state', '=', 'active'),
                    ], order=[])
        return cls.suggestions(stores)

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store']})
    def dms_order_store_suggestions(cls, party, lines, submit=False):
        """Orders from suggestions [{store, product, quantity}] of the
        distributor's own stores, drafts or submitted (submit); returns
        the order ids"""
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        field = gettext('distributor_store.msg_field_lines')
        lines = validation.lines(lines, field)
        for line in lines:
            validation.keys(line, field, {'store', 'product', 'quantity'})
        stores = resolve(Party, [l.get('store') for l in lines], field,
            domain=[('is_store', '=', True)])
        products = resolve(Product, [l.get('product') for l in lines],
            field)
        suggestions = []
        for line, store, product in zip(lines, stores, products):
            if store != party and store.store_distributor != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Party.__names__()['model'], id=store.id))
            suggestions.append({
                    'store': store.id,
                    'product': product.id,
                    'quantity': validation.quantity(
                        line.get('quantity'), product.rec_name,
                        unit=product.default_uom),
                    })
        submit = validation.flag(submit, 'submit')
        orders = cls.create_orders(suggestions)
        if submit:
            Order = pool.get('distributor.channel.order')
            Order.submit(orders)
        return [o.id for o in orders]


class ReplenishStart(ModelView):
    "Store Replenishment"
    __name__ = 'distributor.store.replenish.start'

    distributor = fields.Many2One(
        'party.party', "Distributor",
        domain=[('is_distributor', '=', True)],
        help="Leave empty for every distributor's stores.")
    stores = fields.Many2Many(
        'party.party', None, None, "Stores",
        domain=[('is_store', '=', True),
            ('store_state', '=', 'active')],
        help="Leave empty for all the stores (of the distributor).")


class ReplenishLine(ModelView):
    "Store Replenishment Suggestion"
    __name__ = 'distributor.store.replenish.line'

    selected = fields.Boolean("Order")
    store = fields.Many2One('party.party', "Store", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    stock = fields.Float("Estimated Stock", readonly=True)
    on_order = fields.Float("On Order", readonly=True)
    daily_demand = fields.Float("Daily Demand", readonly=True)
    reorder_level = fields.Float("Reorder Level", readonly=True)
    target_quantity = fields.Float("Target", readonly=True)
    quantity = fields.Float(
        "Quantity", required=True, domain=[('quantity', '>=', 0)])


class ReplenishSuggest(ModelView):
    "Store Replenishment Suggestions"
    __name__ = 'distributor.store.replenish.suggest'

    lines = fields.One2Many(
        'distributor.store.replenish.line', None, "Suggestions")


class Replenish(Wizard):
    "Store Replenishment"
    __name__ = 'distributor.store.replenish'

    start = StateView('distributor.store.replenish.start',
        'distributor_store.replenish_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Suggest", 'suggest', 'tryton-forward', default=True),
            ])
    suggest = StateView('distributor.store.replenish.suggest',
        'distributor_store.replenish_suggest_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create Orders", 'create_', 'tryton-ok', default=True),
            ])
    create_ = StateTransition()
    open_ = StateAction('distributor_store.act_order_form')

    def default_start(self, fields):
        if self.model and self.model.__name__ == 'party.party':
            stores = [r.id for r in self.records if r.is_store]
            return {'stores': stores}
        return {}

    def default_suggest(self, fields):
        pool = Pool()
        Party = pool.get('party.party')
        Limit = pool.get('distributor.store.limit')
        stores = list(self.start.stores)
        if not stores:
            domain = [('is_store', '=', True),
                ('store_state', '=', 'active')]
            if self.start.distributor:
                domain.append(
                    ('store_distributor', '=', self.start.distributor.id))
            stores = Party.search(domain, order=[])
        suggestions = Limit.suggestions(stores)
        if not suggestions:
            raise StoreError(gettext(
                    'distributor_store.msg_no_suggestions'))
        names = {'store', 'product', 'stock', 'on_order', 'daily_demand',
            'reorder_level', 'target_quantity'}
        return {'lines': [dict({k: v for k, v in s.items() if k in names},
                    selected=True, quantity=s['suggested_quantity'])
                for s in suggestions]}

    def transition_create_(self):
        Limit = Pool().get('distributor.store.limit')
        orders = Limit.create_orders([{
                    'store': l.store.id, 'product': l.product.id,
                    'quantity': l.quantity,
                    } for l in self.suggest.lines if l.selected])
        self._orders = [o.id for o in orders]
        return 'open_'

    def do_open_(self, action):
        return action, {'res_id': self._orders}

    def end(self):
        # from the menu there is nothing to reload (sao would reload the
        # menu itself, folding it)
        return 'reload' if self.model else None
