# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Min/max levels, stock alerts and replenishment suggestions"
import datetime as dt
import math
from collections import defaultdict

from sql import Cast, Column, Null
from sql.aggregate import Sum
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.inbox import notify_staff
from distributor.document import Document
from distributor.exceptions import RecordNotFound
from trytond.wizard import StateAction, StateTransition, Wizard
from trytond.backend import MAX_QUERY_PARAMS

from .configuration import Z_SCORES
from .exceptions import ChannelStockError, StockLimitValidationError
from .level import sellout_query

KINDS = [
    ('low', "Below Minimum"),
    ('over', "Overstock"),
    ('expiry', "Near Expiry"),
    ]


def replenishment_levels(s1, s2, days, z, lead, review, minimum, maximum):
    """The one replenishment formula of the channel (distributors and
    stores): from the sum s1 and the sum of squares s2 of the daily
    demand over days, the service level's z, the lead time and review
    period in days and the min/max limits, return (d, safety stock,
    reorder level, target):

    d = s1 / days, s = √(s2 / days − d²),
    safety stock = z × s × √lead,
    reorder point = d × lead + safety stock,
    reorder level = max(minimum, reorder point),
    target = max(maximum, reorder point + d × review).

    Below the reorder level (stock + on order), order up to the target."""
    daily = s1 / days
    sigma = math.sqrt(max(s2 / days - daily * daily, 0.0))
    safety = z * sigma * math.sqrt(lead)
    reorder_point = daily * lead + safety
    reorder_level = max(minimum or 0.0, reorder_point)
    target = max(maximum or 0.0, reorder_point + daily * review)
    return daily, safety, reorder_level, target


STATES = [
    ('open', "Open"),
    ('ordered', "Ordered"),
    ('dismissed', "Dismissed"),
    ('resolved', "Resolved"),
    ]


class StockLimit(ModelSQL, ModelView):
    """Stock Limit

    The minimum and maximum stock of a product at a distributor; a limit
    on a tier is the default of its distributors."""
    __name__ = 'distributor.stock.limit'

    tier = fields.Many2One(
        'distributor.tier', "Tier", ondelete='CASCADE',
        states={
            'required': ~Eval('party'),
            'readonly': Bool(Eval('party')),
            },
        help="Set a tier for the default of its distributors.")
    party = fields.Many2One(
        'party.party', "Distributor", ondelete='CASCADE',
        domain=[('is_distributor', '=', True)],
        states={
            'required': ~Eval('tier'),
            'readonly': Bool(Eval('tier')),
            },
        help="Set a distributor to override its tier's default.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        domain=[('type', '=', 'goods')])
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    min_quantity = fields.Float(
        "Minimum", digits='unit', required=True,
        domain=[('min_quantity', '>=', 0)],
        help="Below this quantity (stock plus what is on order) a "
        "replenishment is suggested.")
    max_quantity = fields.Float(
        "Maximum", digits='unit', required=True,
        domain=[('max_quantity', '>=', Eval('min_quantity', 0))],
        help="Replenishments fill up to this quantity; stock above it is "
        "overstock.")
    lead_time = fields.Integer(
        "Lead Time Days", domain=[
            If(Eval('lead_time', None) != None,  # noqa: E711
                ('lead_time', '>=', 0), ())],
        help="Days from ordering to receipt; empty for the default of "
        "the configuration.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tier_product_unique', Unique(t, t.tier, t.product),
                'distributor_stock.msg_limit_tier_unique'),
            ('party_product_unique', Unique(t, t.party, t.product),
                'distributor_stock.msg_limit_party_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.product, Index.Range())))
        cls._order = [('tier', 'ASC NULLS LAST'), ('party', 'ASC'),
            ('product', 'ASC'), ('id', 'ASC')]

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    @classmethod
    def validate_fields(cls, limits, field_names):
        super().validate_fields(limits, field_names)
        for limit in limits:
            if bool(limit.tier) == bool(limit.party):
                raise StockLimitValidationError(gettext(
                        'distributor_stock.msg_limit_tier_or_party',
                        product=limit.product.rec_name))
            if limit.max_quantity < limit.min_quantity:
                raise StockLimitValidationError(gettext(
                        'distributor_stock.msg_limit_max_below_min',
                        product=limit.product.rec_name))

    @classmethod
    def limits(cls, parties):
        """{(party id, product id): limit} the distributor's own limits,
        else its tier's"""
        tier_of = {p.id: p.distributor_tier.id for p in parties
            if p.distributor_tier}
        by_tier = defaultdict(list)
        result = {}
        for limit in cls.search([
                    ['OR',
                        ('tier', 'in', list(set(tier_of.values()))),
                        ('party', 'in', list(map(int, parties))),
                        ]], order=[]):
            if limit.tier:
                by_tier[limit.tier.id].append(limit)
            else:
                result[(limit.party.id, limit.product.id)] = limit
        for party_id, tier_id in tier_of.items():
            for limit in by_tier[tier_id]:
                result.setdefault((party_id, limit.product.id), limit)
        return result


class Alert(Document, ModelSQL, ModelView):
    """Stock Alert

    A distributor's product below its reorder level (with the suggested
    replenishment), above its maximum, or a lot near expiry."""
    __name__ = 'distributor.stock.alert'
    # computed by refresh, closed by the workflow: only the suggested
    # quantity of an open alert is left to the user
    _dms_editable_states = {'open'}
    _dms_deletable_states = set()
    _dms_workflow_fields = {
        'party', 'product', 'lot', 'kind', 'date', 'quantity', 'on_order',
        'reorder_level', 'target_quantity', 'daily_sellout', 'safety_stock',
        'expiration_date', 'order', 'closed_at'}

    party = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    lot = fields.Many2One(
        'stock.lot', "Lot", readonly=True, ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    date = fields.Date("Date", required=True, readonly=True)
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')
    quantity = fields.Float(
        "Stock", digits=(16, 2), readonly=True,
        help="On hand at the distributor (of the lot for expiry alerts).")
    on_order = fields.Float(
        "On Order", digits=(16, 2), readonly=True,
        help="Ordered, shipped or transferred but not yet received.")
    reorder_level = fields.Float(
        "Reorder Level", digits=(16, 2), readonly=True,
        help="The higher of the minimum and the reorder point (average "
        "daily sell-out × lead time + safety stock).")
    target_quantity = fields.Float(
        "Target", digits=(16, 2), readonly=True,
        help="The stock a replenishment fills up to.")
    daily_sellout = fields.Float(
        "Daily Sell-out", digits=(16, 2), readonly=True)
    safety_stock = fields.Float(
        "Safety Stock", digits=(16, 2), readonly=True)
    suggested_quantity = fields.Float(
        "Suggested Quantity", digits='unit',
        domain=[If(Eval('kind') == 'low',
                ('suggested_quantity', '>', 0), ())],
        states={
            'readonly': (Eval('state') != 'open') | (Eval('kind') != 'low'),
            },
        help="To order (below minimum, in packs), in excess (overstock) "
        "or expiring (near expiry).")
    expiration_date = fields.Date("Expiration Date", readonly=True)
    advice = fields.Function(fields.Char("Advice"), 'get_advice')
    order = fields.Reference(
        "Order", selection='get_orders', readonly=True,
        help="The replenishment order made from the alert: to the brand, "
        "or to the distributor's upstream.")
    closed_at = fields.DateTime("Closed at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range()),
                    (t.state, Index.Equality())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'dismissed'),
            ('open', 'ordered'),
            ('open', 'resolved'),
            }
        cls._buttons.update({
                'dismiss': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'create_orders': {
                    'invisible': ((Eval('state') != 'open')
                        | (Eval('kind') != 'low')),
                    'depends': ['state', 'kind'],
                    },
                })
        cls.__rpc__.update({
                'dms_list_alerts': RPC(),
                'dms_order_alerts': RPC(readonly=False),
                })

    @classmethod
    def __register__(cls, module_name):
        table = cls.__table_handler__(module_name)
        sql_table = cls.__table__()
        cursor = Transaction().connection.cursor()
        # Migration: the order was a distributor order (Many2One)
        migrate = (table.column_exist('order')
            and table.column_is_type('order', 'INTEGER'))
        if migrate:
            table.column_rename('order', '_temp_order')
        super().__register__(module_name)
        if migrate:
            cursor.execute(*sql_table.update(
                    [sql_table.order],
                    [Concat('sale.sale,', Cast(
                                Column(sql_table, '_temp_order'),
                                'VARCHAR'))],
                    where=Column(sql_table, '_temp_order') != Null))
            table.drop_column('_temp_order')

    @classmethod
    def get_orders(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_orders()]

    @classmethod
    def _get_orders(cls):
        return ['sale.sale']

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_unit(self, name):
        return self.product.default_uom.id

    def get_advice(self, name):
        if self.kind == 'low':
            return gettext('distributor_stock.msg_advice_order')
        elif self.kind == 'over':
            return gettext('distributor_stock.msg_advice_overstock')
        else:
            return gettext('distributor_stock.msg_advice_expiry')

    def get_rec_name(self, name):
        return f'{self.party.rec_name} - {self.product.rec_name}'

    @classmethod
    @ModelView.button
    @Workflow.transition('dismissed')
    def dismiss(cls, alerts):
        cls.write(alerts, {'closed_at': dt.datetime.now()})

    @classmethod
    @ModelView.button_action('distributor_stock.wizard_create_orders')
    def create_orders(cls, alerts):
        pass

    # Computation -------------------------------------------------------

    @classmethod
    def compute_suggestions(cls, parties=None):
        """Compute every alert of the distributors (all active ones when
        parties is None): a list of dicts with party, product, lot, kind,
        quantity, on_order, reorder_level, target_quantity,
        daily_sellout, safety_stock, suggested_quantity, expiration_date.

        Over the history window of N days, with d the average daily
        sell-out and s its standard deviation (days without sell-out
        count as zero), L the lead time and R the review period:
        safety stock = z × s × √L (z from the service level),
        reorder point = d × L + safety stock,
        reorder level = max(minimum, reorder point),
        target = max(maximum, reorder point + d × R).
        Below the reorder level (stock + on order), the suggestion fills
        up to the target, rounded up to pack multiples."""
        pool = Pool()
        Party = pool.get('party.party')
        Level = pool.get('distributor.stock.level')
        Limit = pool.get('distributor.stock.limit')
        Product = pool.get('product.product')
        Lot = pool.get('stock.lot')
        Uom = pool.get('product.uom')
        Date = pool.get('ir.date')
        Configuration = pool.get('distributor.configuration')
        config = Configuration(1)
        today = Date.today()
        if parties is None:
            parties = Party.search([
                    ('is_distributor', '=', True),
                    ('distributor_state', '=', 'active'),
                    ('distributor_warehouse', '!=', None),
                    ], order=[])
        else:
            parties = [p for p in Party.browse(list(map(int, parties)))
                if p.distributor_warehouse]
        if not parties:
            return []
        party_ids = [p.id for p in parties]
        days = config.stock_history_days
        z = Z_SCORES[config.stock_service_level]
        default_lead = config.stock_lead_time_days
        review = config.stock_review_days

        stock_lots = Level.levels(parties)
        on_hand = defaultdict(float)
        for (party_id, product_id, _), quantity in stock_lots.items():
            on_hand[(party_id, product_id)] += quantity
        on_order = cls._on_order(parties)
        stats = cls._sellout_stats(
            party_ids, today - dt.timedelta(days=days - 1), today)
        limits = Limit.limits(parties)

        # a tier's default applies to the distributor's assortment: the
        # products it has carried or ordered, and only those it may sell
        carried = cls._carried(party_ids) | set(on_order)
        own = {k for k, l in limits.items() if l.party}
        pairs = (own | (set(limits) & carried) | set(stats)
            | set(on_hand) | set(on_order))
        allowed = Party.dms_authorized_products(
            parties, {p for _, p in pairs})
        pairs = {(party, product) for party, product in pairs
            if product in allowed[party]}
        products = Product.browse(list({p for _, p in pairs}))
        product_of = {p.id: p for p in products}
        result = []
        for party_id, product_id in pairs:
            limit = limits.get((party_id, product_id))
            s1, s2 = stats.get((party_id, product_id), (0.0, 0.0))
            if not limit and not s1:
                continue
            lead = (limit.lead_time if limit and limit.lead_time is not None
                else default_lead)
            minimum = limit.min_quantity if limit else 0.0
            maximum = limit.max_quantity if limit else 0.0
            daily, safety, reorder_level, target = replenishment_levels(
                s1, s2, days, z, lead, review, minimum, maximum)
            stock = on_hand.get((party_id, product_id), 0.0)
            ordered = on_order.get((party_id, product_id), 0.0)
            position = stock + ordered
            values = {
                'party': party_id,
                'product': product_id,
                'lot': None,
                'quantity': round(stock, 2),
                'on_order': round(ordered, 2),
                'reorder_level': round(reorder_level, 2),
                'target_quantity': round(target, 2),
                'daily_sellout': round(daily, 2),
                'safety_stock': round(safety, 2),
                'expiration_date': None,
                }
            if reorder_level > 0 and position < reorder_level:
                product = product_of[product_id]
                quantity = cls._round_order_quantity(
                    product, target - position, Uom)
                if quantity > 0:
                    result.append(dict(values, kind='low',
                            suggested_quantity=quantity))
            elif maximum and stock > maximum:
                result.append(dict(values, kind='over',
                        suggested_quantity=product_of[product_id]
                        .default_uom.round(stock - maximum)))

        limit_date = today + dt.timedelta(days=config.stock_expiry_days)
        lot_ids = {l for (_, _, l), q in stock_lots.items() if l and q > 0}
        expiring = {}
        for lot in Lot.browse(list(lot_ids)):
            dates = [d for d in [lot.expiration_date,
                    lot.shelf_life_expiration_date] if d]
            if dates and min(dates) <= limit_date:
                expiring[lot.id] = min(dates)
        for (party_id, product_id, lot_id), quantity in stock_lots.items():
            if lot_id in expiring and quantity > 0:
                result.append({
                        'party': party_id,
                        'product': product_id,
                        'lot': lot_id,
                        'kind': 'expiry',
                        'quantity': round(quantity, 2),
                        'on_order': None,
                        'reorder_level': None,
                        'target_quantity': None,
                        'daily_sellout': None,
                        'safety_stock': None,
                        'suggested_quantity': quantity,
                        'expiration_date': expiring[lot_id],
                        })
        return result

    @classmethod
    def _round_order_quantity(cls, product, quantity, Uom):
        "In the default unit, rounded up to the sale unit's packs"
        unit = product.sale_uom or product.default_uom
        in_sale = Uom.compute_qty(
            product.default_uom, quantity, unit, round=False)
        pack = product.template.pack_quantity
        if pack:
            in_sale = math.ceil(in_sale / pack - 1e-9) * pack
        else:
            in_sale = unit.ceil(in_sale)
        return Uom.compute_qty(unit, in_sale, product.default_uom)

    @classmethod
    def _carried(cls, party_ids):
        "{(party id, product id)} that ever entered the distributors' stock"
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move = Move.__table__()
        location = Location.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub_ids in grouped_slice(party_ids, MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*move.join(location,
                    condition=move.to_location == location.id
                    ).select(location.distributor, move.product,
                    where=location.distributor.in_(sub_ids)
                    & location.distributor_role.in_(['storage', 'transit'])
                    & (move.state == 'done'),
                    group_by=[location.distributor, move.product]))
            result.update(cursor)
        return result

    @classmethod
    def _sellout_stats(cls, party_ids, start, end):
        """{(party id, product id): (sum, sum of squares)} of the daily
        sell-out between start and end"""
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(party_ids, MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            daily = sellout_query(start, end, sub_ids)
            cursor.execute(*daily.select(
                    daily.distributor, daily.product,
                    Sum(daily.qty), Sum(daily.qty * daily.qty),
                    group_by=[daily.distributor, daily.product]))
            result.update(((p, q), (s1, s2)) for p, q, s1, s2 in cursor)
        return result

    @classmethod
    def _on_order(cls, parties):
        """{(party id, product id): quantity} on its way to the
        distributors: submitted and approved orders not yet shipped,
        shipments waiting for the receipt confirmation, and approved or
        shipped transfers"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Transfer = pool.get('distributor.stock.transfer')
        TransferLine = pool.get('distributor.stock.transfer.line')
        Level = pool.get('distributor.stock.level')
        cursor = Transaction().connection.cursor()
        party_ids = [p.id for p in parties]
        result = defaultdict(float)

        sale = Sale.__table__()
        line = Line.__table__()
        product = Product.__table__()
        template = Template.__table__()
        line_uom = Uom.__table__()
        default_uom = Uom.__table__()
        for sub_ids in grouped_slice(party_ids, MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*line
                .join(sale, condition=line.sale == sale.id)
                .join(product, condition=line.product == product.id)
                .join(template, condition=product.template == template.id)
                .join(line_uom, condition=line.unit == line_uom.id)
                .join(default_uom,
                    condition=template.default_uom == default_uom.id)
                .select(sale.party, line.product,
                    Sum(line.quantity * line_uom.factor / default_uom.factor),
                    where=sale.party.in_(sub_ids)
                    & sale.channel_state.in_(['submitted', 'approved'])
                    & (sale.order_kind != 'return')
                    & (line.type == 'line') & (line.quantity > 0)
                    & (line.product != Null),
                    group_by=[sale.party, line.product]))
            for party_id, product_id, quantity in cursor:
                result[(party_id, product_id)] += quantity

        # shipped by the brand, waiting in the distributor's transit
        transit = Level.transit_levels(parties)
        for key, quantity in transit.items():
            result[key] += quantity

        transfer = Transfer.__table__()
        tline = TransferLine.__table__()
        for sub_ids in grouped_slice(party_ids, MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*tline
                .join(transfer, condition=tline.transfer == transfer.id)
                .select(transfer.to_party, tline.product,
                    Sum(tline.quantity),
                    where=transfer.to_party.in_(sub_ids)
                    & transfer.state.in_(['approved', 'shipped']),
                    group_by=[transfer.to_party, tline.product]))
            for party_id, product_id, quantity in cursor:
                result[(party_id, product_id)] += quantity
        return result

    @classmethod
    def refresh(cls, parties=None):
        """Bring the open alerts up to date: new ones are created and
        notified, changed ones updated, cleared ones resolved"""
        suggestions = cls.compute_suggestions(parties)
        domain = [('state', '=', 'open')]
        if parties is not None:
            domain.append(('party', 'in', list(map(int, parties))))
        with trusted():
            existing = {(a.party.id, a.product.id,
                    a.lot.id if a.lot else None, a.kind): a
                for a in cls.search(domain, order=[])}
            to_create, to_write = [], []
            fields_ = ['quantity', 'on_order', 'reorder_level',
                'target_quantity', 'daily_sellout', 'safety_stock',
                'suggested_quantity', 'expiration_date']
            for values in suggestions:
                key = (values['party'], values['product'], values['lot'],
                    values['kind'])
                alert = existing.pop(key, None)
                if alert is None:
                    to_create.append(values)
                else:
                    changes = {f: values[f] for f in fields_
                        if getattr(alert, f) != values[f]}
                    if changes:
                        to_write.extend([[alert], changes])
            if to_write:
                cls.write(*to_write)
            cleared = list(existing.values())
            if cleared:
                cls.write(cleared, {
                        'state': 'resolved',
                        'closed_at': dt.datetime.now(),
                        })
            created = []
            for sub in grouped_slice(to_create, MAX_QUERY_PARAMS):
                created.extend(cls.create(list(sub)))
        if created:
            cls._notify(created)
        return created

    @classmethod
    def refresh_all(cls):
        "Scheduled task: refresh the alerts of every active distributor"
        cls.refresh()

    @classmethod
    def _notify(cls, alerts):
        """A message to each distributor and a notification to its sales
        rep's users for the new alerts"""
        Message = Pool().get('distributor.message')
        by_party = defaultdict(list)
        for alert in alerts:
            by_party[alert.party].append(alert)
        items, notifications = [], []
        for party, party_alerts in by_party.items():
            kinds = defaultdict(int)
            for alert in party_alerts:
                kinds[alert.kind] += 1
            items.append((party, 'distributor_stock.msg_message_alerts',
                    None, {'low': kinds['low'], 'over': kinds['over'],
                        'expiry': kinds['expiry']},
                    '\n'.join(f'{a.product.rec_name}: {a.advice}'
                        for a in party_alerts[:50])))
            notifications.append((party_alerts, party,
                    'distributor_stock.msg_notify_alerts',
                    {'distributor': party.rec_name,
                        'count': len(party_alerts)}))
        Message.post(items)
        # the sales rep only: the managers see the alerts in their list
        notify_staff(notifications, 'distributor_stock.act_alert_form',
            managers=False)

    @classmethod
    def create_replenishment_orders(cls, alerts):
        """Turn open below-minimum alerts into draft orders, one per
        distributor: to the brand, or to its upstream for a distributor
        that buys from it; return the orders"""
        Uom = Pool().get('product.uom')
        alerts = cls.browse(list(map(int, alerts)))
        by_party = defaultdict(list)
        for alert in alerts:
            if alert.state != 'open' or alert.kind != 'low':
                raise ChannelStockError(gettext(
                        'distributor_stock.msg_alert_not_orderable',
                        alert=alert.rec_name))
            by_party[alert.party].append(alert)
        orders = []
        for party, party_alerts in by_party.items():
            lines = []
            for alert in party_alerts:
                product = alert.product
                unit = product.sale_uom or product.default_uom
                lines.append({
                        'product': product.id,
                        'quantity': Uom.compute_qty(product.default_uom,
                            alert.suggested_quantity, unit),
                        })
            if party.dms_buys_from_brand():
                order = cls._dms_brand_order(party, lines)
            else:
                order = cls._dms_upstream_order(party, lines)
            orders.append(order)
            with trusted():
                cls.write(party_alerts, {'order': str(order)})
                cls._order_alerts(party_alerts)
        return orders

    @classmethod
    def _dms_brand_order(cls, party, lines):
        "A draft distributor order to the brand"
        Sale = Pool().get('sale.sale')
        return Sale(Sale.dms_create_order(party, lines,
                comment=gettext('distributor_stock.msg_replenishment_comment')))

    @classmethod
    def _dms_upstream_order(cls, party, lines):
        """A draft order of the distributor to its upstream: channel
        orders come with distributor_store"""
        raise ChannelStockError(gettext(
                'distributor_stock.msg_alert_upstream',
                distributor=party.rec_name,
                upstream=party.upstream.rec_name))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_alerts(cls, party, kinds=None):
        "The open alerts of the distributor the caller reaches"
        domain = [('party', '=', party.id), ('state', '=', 'open')]
        if kinds is not None:
            if not isinstance(kinds, (list, tuple)):
                kinds = [kinds]
            domain.append(('kind', 'in', [
                        validation.choice(k, 'kinds', KINDS) for k in kinds]))
        return [{
                'id': a.id,
                'kind': a.kind,
                'product': a.product.id,
                'product_name': a.product.rec_name,
                'lot_number': a.lot.number if a.lot else None,
                'expiration_date': a.expiration_date,
                'quantity': a.quantity,
                'on_order': a.on_order,
                'suggested_quantity': a.suggested_quantity,
                'advice': a.advice,
                } for a in cls.search(domain)]

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'alerts': None})
    def dms_order_alerts(cls, party, alerts):
        """The distributor turns its own open below-minimum alerts into a
        draft order; returns {'model', 'id'} of the order: a distributor
        order to the brand, or a channel order to its upstream"""
        for alert in alerts:
            if alert.party != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=alert.id))
        orders = cls.create_replenishment_orders(alerts)
        if orders:
            return {'model': orders[0].__name__, 'id': orders[0].id}

    @classmethod
    @Workflow.transition('ordered')
    def _order_alerts(cls, alerts):
        cls.write(alerts, {'closed_at': dt.datetime.now()})


class CreateOrders(Wizard):
    "Create Replenishment Orders"
    __name__ = 'distributor.stock.alert.create_orders'
    start_state = 'create_'
    create_ = StateTransition()
    open_ = StateAction('distributor_sale.act_order_form')

    def transition_create_(self):
        orders = self.model.create_replenishment_orders(self.records)
        self._orders = [o.id for o in orders]
        return 'open_'

    def do_open_(self, action):
        return action, {'res_id': self._orders}

    def end(self):
        return 'reload'


class RefreshAlerts(Wizard):
    "Refresh Stock Alerts"
    __name__ = 'distributor.stock.alert.refresh'
    start = StateTransition()

    def transition_start(self):
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        Alert.refresh()
        return 'end'

    def end(self):
        return 'reload'

