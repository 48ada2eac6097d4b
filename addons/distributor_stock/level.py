# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Channel stock levels, totals and turnover: SQL aggregates over stock.move"
import datetime as dt
from collections import defaultdict

from sql import Literal, Null, Union
from sql.aggregate import Min, Sum
from sql.conditionals import Case, NullIf

from trytond.model import ModelSQL, ModelView, fields
from trytond.rpc import RPC
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from distributor.access import entry_point


def storage_moves(location_where=None, move_where=None):
    """A query of signed done move quantities (in the product's default
    unit) entering or leaving distributor storage locations: columns mid
    (unique), location, distributor, product, lot, date, qty"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    move = Move.__table__()
    location = Location.__table__()
    where = location.distributor_role == 'storage'
    if location_where is not None:
        where &= location_where(location)
    storages = location.select(
        location.id, location.distributor, where=where)
    queries = []
    for index, (side, sign) in enumerate([
                ('to_location', 1), ('from_location', -1)]):
        condition = move.state == 'done'
        if move_where is not None:
            condition &= move_where(move)
        queries.append(move.join(storages,
                condition=getattr(move, side) == storages.id
                ).select(
                (move.id * 2 + index).as_('mid'),
                storages.id.as_('location'),
                storages.distributor.as_('distributor'),
                move.product.as_('product'),
                move.lot.as_('lot'),
                move.effective_date.as_('date'),
                (move.internal_quantity * sign).as_('qty'),
                where=condition))
    return Union(*queries, all_=True)


def sellout_where(from_location, to_location):
    """Condition on the source and destination locations of a move that
    is sell-out: from a distributor's storage to a customer location
    outside the channel (stores, end customers) or to another
    distributor's storage or incoming transit (its downstream, through
    a channel order)"""
    return ((from_location.distributor_role == 'storage')
        & (((to_location.type == 'customer')
                & (to_location.distributor == Null))
            | (to_location.distributor_role.in_(['storage', 'transit'])
                & (to_location.distributor != from_location.distributor))))


def sellout_return_where(from_location, to_location):
    """Condition on the source and destination locations of a move that
    takes sell-out back: into a distributor's storage from a customer
    location outside the channel (goods a store did not receive or sent
    back) or from another distributor's incoming transit (goods a
    downstream distributor did not receive)"""
    return ((to_location.distributor_role == 'storage')
        & (((from_location.type == 'customer')
                & (from_location.distributor == Null))
            | ((from_location.distributor_role == 'transit')
                & (from_location.distributor != to_location.distributor))))


def sellout_query(start, end, distributor_ids=None):
    """Done net sell-out per storage location, product and day between
    start and end included (of the distributors given): what left the
    storage as sell-out less what came back to it (sellout_where,
    sellout_return_where); columns location, distributor, product, date,
    qty"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    move = Move.__table__()
    from_location = Location.__table__()
    to_location = Location.__table__()
    out = sellout_where(from_location, to_location)
    back = sellout_return_where(from_location, to_location)
    where = ((move.state == 'done')
        & (move.effective_date >= start)
        & (move.effective_date <= end)
        & (out | back))
    location = Case((out, from_location.id), else_=to_location.id)
    distributor = Case(
        (out, from_location.distributor), else_=to_location.distributor)
    if distributor_ids is not None:
        distributor_ids = list(distributor_ids) or [-1]
        where &= (from_location.distributor.in_(distributor_ids)
            | to_location.distributor.in_(distributor_ids))
    moves = (move
        .join(from_location, condition=move.from_location == from_location.id)
        .join(to_location, condition=move.to_location == to_location.id)
        .select(
            location.as_('location'),
            distributor.as_('distributor'),
            move.product.as_('product'),
            move.effective_date.as_('date'),
            Case((out, move.internal_quantity),
                else_=-move.internal_quantity).as_('qty'),
            where=where))
    where = None
    if distributor_ids is not None:
        where = moves.distributor.in_(distributor_ids)
    return moves.select(
        moves.location, moves.distributor, moves.product, moves.date,
        Sum(moves.qty).as_('qty'),
        where=where,
        group_by=[moves.location, moves.distributor, moves.product,
            moves.date])


class StockLevel(ModelSQL, ModelView):
    "Channel Stock Level"
    __name__ = 'distributor.stock.level'

    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")
    location = fields.Many2One('stock.location', "Location")
    product = fields.Many2One('product.product', "Product")
    lot = fields.Many2One('stock.lot', "Lot")
    expiration_date = fields.Date("Expiration Date")
    quantity = fields.Float("Quantity", digits='unit')
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('distributor', 'ASC'), ('product', 'ASC'), ('lot', 'ASC'),
            ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_list_levels': RPC(),
                })

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        Lot = pool.get('stock.lot')
        party = Party.__table__()
        lot = Lot.__table__()
        moves = storage_moves()
        return (moves
            .join(party, condition=moves.distributor == party.id)
            .join(lot, 'LEFT', condition=moves.lot == lot.id)
            .select(
                Min(moves.mid).as_('id'),
                moves.distributor.as_('distributor'),
                party.distributor_tier.as_('tier'),
                moves.location.as_('location'),
                moves.product.as_('product'),
                moves.lot.as_('lot'),
                lot.expiration_date.as_('expiration_date'),
                Sum(moves.qty).as_('quantity'),
                group_by=[moves.distributor, party.distributor_tier,
                    moves.location, moves.product, moves.lot,
                    lot.expiration_date],
                having=Sum(moves.qty) != 0))

    def get_unit(self, name):
        return self.product.default_uom.id

    @classmethod
    def levels(cls, parties=None, products=None, lots=True):
        """Stock on hand of distributors: {(party id, product id, lot id):
        quantity in the product's default unit} (lot id None without lots)

        One query: Tryton's own stock computation
        (stock.move compute_quantities_query, stock period caches
        included) over the storage locations of the distributors, read
        without Tryton's per-record post-processing (no child locations to
        propagate here), rounded to each unit's digits."""
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Date = pool.get('ir.date')
        cursor = Transaction().connection.cursor()
        location = Location.__table__()
        where = location.distributor_role == 'storage'
        if parties is not None:
            where &= location.distributor.in_(
                list(map(int, parties)) or [-1])
        cursor.execute(*location.select(
                location.id, location.distributor, where=where))
        owner = dict(cursor)
        if not owner:
            return {}
        grouping = ('product', 'lot') if lots else ('product',)
        grouping_filter = None
        if products is not None:
            grouping_filter = (list(map(int, products)),)
        with Transaction().set_context(
                stock_date_end=Date.today(), forecast=False):
            query = Move.compute_quantities_query(
                list(owner), grouping=grouping,
                grouping_filter=grouping_filter)
        if query is None:
            return {}
        product = Product.__table__()
        template = Template.__table__()
        uom = Uom.__table__()
        cursor.execute(*product
            .join(template, condition=product.template == template.id)
            .join(uom, condition=template.default_uom == uom.id)
            .select(product.id, uom.digits))
        digits = dict(cursor)
        cursor.execute(*query)
        result = {}
        for row in cursor:
            quantity = round(row[-1], digits[row[1]])
            if quantity:
                result[(owner[row[0]], row[1],
                        row[2] if lots else None)] = quantity
        return result

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_levels(cls, party):
        """The stock of the distributor the caller reaches, per product
        and lot"""
        pool = Pool()
        Product = pool.get('product.product')
        Lot = pool.get('stock.lot')
        levels = cls.levels([party])
        products = {p.id: p for p in Product.browse(
                list({p for _, p, _ in levels}))}
        lots = {l.id: l for l in Lot.browse(
                list({l for _, _, l in levels if l}))}
        result = []
        for (_, product_id, lot_id), quantity in sorted(levels.items()):
            product = products[product_id]
            lot = lots.get(lot_id)
            result.append({
                    'product': product.id,
                    'product_code': product.code,
                    'product_name': product.rec_name,
                    'lot': lot.id if lot else None,
                    'lot_number': lot.number if lot else None,
                    'expiration_date': lot.expiration_date if lot else None,
                    'quantity': quantity,
                    'unit': product.default_uom.symbol,
                    })
        return result

    @classmethod
    def transit_levels(cls, parties):
        """{(party id, product id): quantity} shipped by the brand and
        waiting for the distributors' receipt confirmation"""
        pool = Pool()
        Product = pool.get('product.product')
        Date = pool.get('ir.date')
        owner = {p.distributor_transit.id: p.id for p in parties
            if p.distributor_transit}
        if not owner:
            return {}
        with Transaction().set_context(
                stock_date_end=Date.today(), forecast=False):
            quantities = Product.products_by_location(list(owner))
        return {(owner[l], p): q for (l, p), q in quantities.items() if q}


class _ChannelStockMixin:
    "A Function field with the channel stock of the record"
    __slots__ = ()

    @classmethod
    def _stock_per_distributor(cls, distributor_ids=None):
        """{distributor id: quantity on hand} restricted to the product or
        category of the context"""
        pool = Pool()
        Template = pool.get('product.template-product.category')
        Product = pool.get('product.product')
        Category = pool.get('product.category')
        context = Transaction().context
        cursor = Transaction().connection.cursor()
        product_ids = None
        if context.get('product'):
            product_ids = [context['product']]
        elif context.get('category'):
            categories = Category.search([
                    ('parent', 'child_of', [context['category']]),
                    ], order=[])
            link = Template.__table__()
            product = Product.__table__()
            cursor.execute(*product.join(link,
                    condition=product.template == link.template
                    ).select(product.id,
                    where=link.category.in_(list(map(int, categories)))))
            product_ids = [r for r, in cursor] or [-1]
        move_where = None
        if product_ids is not None:
            def move_where(m):
                return (m.product.in_(product_ids))
        location_where = None
        if distributor_ids is not None:
            def location_where(l):
                return (l.distributor.in_(list(distributor_ids) or [-1]))
        moves = storage_moves(location_where, move_where)
        cursor.execute(*moves.select(moves.distributor, Sum(moves.qty),
                group_by=[moves.distributor]))
        return dict(cursor)


class Territory(_ChannelStockMixin, metaclass=PoolMeta):
    __name__ = 'distributor.territory'

    channel_stock = fields.Function(
        fields.Float(
            "Channel Stock",
            help="Units on hand at the distributors of the territory and "
            "below it (each distributor counted once)."),
        'get_channel_stock')

    @classmethod
    def get_channel_stock(cls, territories, name):
        pool = Pool()
        PartyTerritory = pool.get('party.party-distributor.territory')
        link = PartyTerritory.__table__()
        cursor = Transaction().connection.cursor()
        ids = list(map(int, territories))
        descendants = cls.search([('parent', 'child_of', ids)], order=[])
        parent_of = {t.id: t.parent.id if t.parent else None
            for t in descendants}
        cursor.execute(*link.select(link.territory, link.party,
                where=link.territory.in_(list(parent_of))))
        parties = defaultdict(set)
        wanted = set(ids)
        for territory_id, party_id in cursor:
            node = territory_id
            while node is not None:
                if node in wanted:
                    parties[node].add(party_id)
                node = parent_of.get(node)
        stock = cls._stock_per_distributor(
            {p for s in parties.values() for p in s})
        return {i: sum(stock.get(p, 0) for p in parties[i]) for i in ids}


class Tier(_ChannelStockMixin, metaclass=PoolMeta):
    __name__ = 'distributor.tier'

    channel_stock = fields.Function(
        fields.Float(
            "Channel Stock",
            help="Units on hand at the distributors of the tier."),
        'get_channel_stock')

    @classmethod
    def get_channel_stock(cls, tiers, name):
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        ids = list(map(int, tiers))
        cursor.execute(*party.select(party.id, party.distributor_tier,
                where=party.distributor_tier.in_(ids)))
        tier_of = dict(cursor)
        stock = cls._stock_per_distributor(set(tier_of))
        result = dict.fromkeys(ids, 0)
        for party_id, quantity in stock.items():
            result[tier_of[party_id]] += quantity
        return result


class Category(metaclass=PoolMeta):
    __name__ = 'product.category'

    channel_stock = fields.Function(
        fields.Float(
            "Channel Stock",
            help="Units of the category and its sub-categories on hand at "
            "distributors (of the distributor in the context, if any)."),
        'get_channel_stock')

    @classmethod
    def get_channel_stock(cls, categories, name):
        pool = Pool()
        Link = pool.get('product.template-product.category')
        Product = pool.get('product.product')
        link = Link.__table__()
        product = Product.__table__()
        cursor = Transaction().connection.cursor()
        context = Transaction().context
        ids = list(map(int, categories))
        descendants = cls.search([('parent', 'child_of', ids)], order=[])
        parent_of = {c.id: c.parent.id if c.parent else None
            for c in descendants}
        location_where = None
        if context.get('distributor'):
            def location_where(l):
                return (l.distributor == context['distributor'])
        moves = storage_moves(location_where)
        stock = moves.select(moves.product, Sum(moves.qty).as_('qty'),
            group_by=[moves.product])
        cursor.execute(*stock
            .join(product, condition=stock.product == product.id)
            .join(link, condition=link.template == product.template)
            .select(link.category, stock.product, stock.qty,
                where=link.category.in_(list(parent_of))))
        products = defaultdict(dict)
        wanted = set(ids)
        for category_id, product_id, quantity in cursor:
            node = category_id
            while node is not None:
                if node in wanted:
                    # a product in two sub-categories counts once
                    products[node][product_id] = quantity
                node = parent_of.get(node)
        return {i: sum(products[i].values()) for i in ids}


class TurnoverContext(ModelView):
    "Channel Stock Turnover Context"
    __name__ = 'distributor.stock.turnover.context'

    date = fields.Date("Date", required=True)
    days = fields.Integer(
        "Days", required=True, domain=[('days', '>', 0)],
        help="The window of sell-out history, ending on the date.")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_days(cls):
        Configuration = Pool().get('distributor.configuration')
        return Configuration(1).stock_history_days


class Turnover(ModelSQL, ModelView):
    """Channel Stock Turnover

    Per distributor and product over the window of the context:
    sell-out, average daily sell-out, days of cover (stock on hand over
    average daily sell-out) and turnover (sell-out over average stock,
    the average of the opening and closing stock)."""
    __name__ = 'distributor.stock.turnover'

    distributor = fields.Many2One('party.party', "Distributor")
    tier = fields.Many2One('distributor.tier', "Tier")
    product = fields.Many2One('product.product', "Product")
    quantity = fields.Float("Stock", digits=(16, 2))
    opening = fields.Float("Opening Stock", digits=(16, 2))
    average_stock = fields.Float("Average Stock", digits=(16, 2))
    sellout = fields.Float("Sell-out", digits=(16, 2))
    daily_sellout = fields.Float("Daily Sell-out", digits=(16, 2))
    days_of_cover = fields.Float(
        "Days of Cover", digits=(16, 1),
        help="Stock on hand divided by the average daily sell-out; empty "
        "without sell-out.")
    turnover = fields.Float(
        "Turnover", digits=(16, 2),
        help="Sell-out of the window divided by the average stock.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('distributor', 'ASC'), ('product', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def window(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('distributor.configuration')
        context = Transaction().context
        end = context.get('date') or Date.today()
        if isinstance(end, str):
            end = dt.date.fromisoformat(end)
        days = context.get('days') or Configuration(1).stock_history_days
        return end - dt.timedelta(days=days - 1), end, days

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        start, end, days = cls.window()
        moves = storage_moves(move_where=lambda m: m.effective_date <= end)
        stock = moves.select(
            Min(moves.mid).as_('id'),
            moves.location, moves.distributor, moves.product,
            Sum(moves.qty).as_('quantity'),
            Sum(Case((moves.date >= start, moves.qty), else_=0)).as_('net'),
            group_by=[moves.location, moves.distributor, moves.product])
        sold = sellout_query(start, end)
        sold = sold.select(sold.location, sold.product,
            Sum(sold.qty).as_('qty'),
            group_by=[sold.location, sold.product])
        sellout = Case((sold.qty != Null, sold.qty), else_=0)
        opening = stock.quantity - stock.net
        average = (opening + stock.quantity) / 2
        daily = sellout / days
        return (stock
            .join(party, condition=stock.distributor == party.id)
            .join(sold, 'LEFT', condition=(sold.location == stock.location)
                & (sold.product == stock.product))
            .select(
                stock.id.as_('id'),
                stock.distributor.as_('distributor'),
                party.distributor_tier.as_('tier'),
                stock.product.as_('product'),
                stock.quantity.as_('quantity'),
                opening.as_('opening'),
                average.as_('average_stock'),
                sellout.as_('sellout'),
                daily.as_('daily_sellout'),
                (stock.quantity / NullIf(daily, Literal(0.0))).as_(
                    'days_of_cover'),
                Case((average > 0, sellout / average),
                    else_=Null).as_('turnover'),
                where=(stock.quantity != 0) | (stock.net != 0)
                | (sold.qty != Null)))
