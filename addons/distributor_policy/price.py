# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The brand's price policy (定价权限, 价格管控).

- Tier price bounds: per tier of the SELLER, product and kind of buyer
  (its downstream distributors, its stores), the range a distributor's
  price must stay in.  They come on top of distributor_store's network
  bounds (per product and territory): a store price must satisfy both,
  and its minimum and maximum show the tightest.  A channel order is
  checked against the bound of its buyer's kind on submission and
  approval.
- Retail prices: per product (and territory, the most specific first)
  the retail guide price and the promotional range.  A shelf price is
  allowed from the promotional minimum up to the guide price:
  ``0 <= promo_min <= promo_max <= guide_price``; below promo_max it is a
  promotional price, below promo_min or above the guide price it
  disrupts the market (乱价).
- Price incidents: a shelf check that records a retail price outside the
  allowed range opens one per line, naming the store and its
  distributor; the channel managers and the distributor's rep are
  notified and the distributor gets a message.  Managers confirm or
  dismiss them; the confirmed and open ones count in the assessment
  (incident_count)."""
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.document import Document, DocumentLog
from distributor.exceptions import RecordNotFound
from distributor.inbox import notify_staff

from .exceptions import PriceError

PRICE_DIGITS = (16, 4)
BUYERS = [
    ('distributor', "Downstream Distributor"),
    ('store', "Store"),
    ]
INCIDENT_STATES = [
    ('open', "Open"),
    ('confirmed', "Confirmed"),
    ('dismissed', "Dismissed"),
    ]
# the incidents that count against a distributor
COUNTED_STATES = ['open', 'confirmed']


def _buyer_label(buyer):
    return gettext(f'distributor_policy.msg_buyer_{buyer}')


def _territory_depths(territories):
    "{territory id: depth} of the territories and those above them"
    depths = {}
    for territory in territories:
        depth = 0
        node = territory
        while node:
            depths[node.id] = min(depths.get(node.id, depth), depth)
            node = node.parent
            depth += 1
    return depths


class TierPriceBound(ModelSQL, ModelView):
    """Tier Price Bound

    The range in which a distributor of a tier may price a product to
    the next tier down or to its stores."""
    __name__ = 'distributor.tier.price.bound'
    _history = True

    tier = fields.Many2One(
        'distributor.tier', "Seller's Tier", required=True,
        ondelete='CASCADE',
        help="The tier of the distributor that sells.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    buyer = fields.Selection(BUYERS, "Selling to", required=True, sort=False)
    min_price = fields.Numeric(
        "Minimum Price", digits=PRICE_DIGITS, required=True)
    max_price = fields.Numeric(
        "Maximum Price", digits=PRICE_DIGITS, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tier_product_buyer_unique',
                Unique(t, t.tier, t.product, t.buyer),
                'distributor_policy.msg_tier_bound_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.tier, Index.Range()),
                (t.product, Index.Range())))
        cls._order = [('tier', 'ASC'), ('product', 'ASC'),
            ('buyer', 'ASC'), ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_list_bounds': RPC(),
                })

    @classmethod
    def default_buyer(cls):
        return 'store'

    def get_rec_name(self, name):
        return (f'{self.tier.rec_name} / {self.product.rec_name} / '
            f'{_buyer_label(self.buyer)}')

    @classmethod
    def validate_fields(cls, bounds, field_names):
        super().validate_fields(bounds, field_names)
        for bound in bounds:
            if not (0 <= bound.min_price <= bound.max_price):
                raise PriceError(gettext(
                        'distributor_policy.msg_tier_bound_order',
                        bound=bound.rec_name, minimum=bound.min_price,
                        maximum=bound.max_price))
        if field_names is None or field_names & {
                'min_price', 'max_price', 'product', 'tier', 'buyer'}:
            # the store prices already set must stay within the bounds
            StorePrice = Pool().get('distributor.store.price')
            stores = [b for b in bounds if b.buyer == 'store']
            if stores:
                with trusted():
                    prices = StorePrice.search([
                            ('product', 'in',
                                list({b.product.id for b in stores})),
                            ('distributor.distributor_tier', 'in',
                                list({b.tier.id for b in stores})),
                            ])
                    StorePrice.check_bounds(prices)

    @classmethod
    def bounds_for(cls, tier, products, buyer):
        "{product id: bound} of the tier for buyer ('distributor', 'store')"
        if not tier:
            return {}
        product_ids = list({int(p) for p in products})
        if not product_ids:
            return {}
        with trusted():
            bounds = cls.search([
                    ('tier', '=', tier.id),
                    ('buyer', '=', buyer),
                    ('product', 'in', product_ids),
                    ])
        return {b.product.id: b for b in bounds}

    @classmethod
    def check_price(cls, seller, product, price, buyer, bounds=None,
            order=None, buyer_name=None):
        "Raise PriceError when price lies outside the seller's tier bound"
        tier = seller.distributor_tier
        if bounds is None:
            bounds = cls.bounds_for(tier, [product], buyer)
        bound = bounds.get(product.id)
        if bound is None or price is None:
            return
        if bound.min_price <= price <= bound.max_price:
            return
        if order is not None:
            raise PriceError(gettext(
                    'distributor_policy.msg_order_tier_bound',
                    order=order, product=product.rec_name, price=price,
                    buyer=buyer_name or '', buyer_kind=_buyer_label(buyer),
                    tier=tier.rec_name, minimum=bound.min_price,
                    maximum=bound.max_price))
        raise PriceError(gettext(
                'distributor_policy.msg_store_price_tier_bound',
                product=product.rec_name, price=price,
                distributor=seller.rec_name, tier=tier.rec_name,
                minimum=bound.min_price, maximum=bound.max_price))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_bounds(cls, party):
        """The price policy of the distributor: per product, its tier's
        bounds to stores and to downstream distributors, the network's
        store bound and the retail guide price and promotional range of
        its territories"""
        pool = Pool()
        Product = pool.get('product.product')
        StoreBound = pool.get('distributor.store.price.bound')
        Retail = pool.get('distributor.retail.price')
        tier = party.distributor_tier
        bounds = cls.search([('tier', '=', tier.id)]) if tier else []
        network = StoreBound.search([])
        retail = Retail.search([])
        product_ids = sorted({b.product.id for b in bounds}
            | {b.product.id for b in network}
            | {r.product.id for r in retail})
        products = Product.browse(product_ids)
        tier_store = {b.product.id: b for b in bounds if b.buyer == 'store'}
        tier_down = {b.product.id: b for b in bounds
            if b.buyer == 'distributor'}
        network = StoreBound.bounds_for(party, product_ids)
        retail = Retail.prices_for(list(party.territories), product_ids)

        def text(value):
            if value is None:
                return None
            return str(Decimal(value).quantize(
                    Decimal(1).scaleb(-PRICE_DIGITS[1])))
        result = []
        for product in products:
            store = tier_store.get(product.id)
            down = tier_down.get(product.id)
            net = (network.get(product.id) or [None])[0]
            guide = retail.get(product.id)
            store_min = [x for x in [
                    store.min_price if store else None,
                    net.min_price if net else None] if x is not None]
            store_max = [x for x in [
                    store.max_price if store else None,
                    net.max_price if net else None] if x is not None]
            result.append({
                    'product': product.id,
                    'code': product.code,
                    'name': product.rec_name,
                    'store_min': text(max(store_min) if store_min
                        else None),
                    'store_max': text(min(store_max) if store_max
                        else None),
                    'distributor_min': text(down.min_price if down
                        else None),
                    'distributor_max': text(down.max_price if down
                        else None),
                    'guide_price': text(guide.guide_price if guide
                        else None),
                    'promo_min': text(guide.promo_min if guide else None),
                    'promo_max': text(guide.promo_max if guide else None),
                    })
        result.sort(key=lambda r: (r['code'] or '', r['product']))
        return result


class RetailPrice(ModelSQL, ModelView):
    """Retail Price

    The brand's retail guide price of a product on the shelf and its
    promotional range, for the whole network or a territory (and the
    territories below it).  A shelf price from the promotional minimum up
    to the guide price is allowed; below promo_max it counts as a
    promotional price."""
    __name__ = 'distributor.retail.price'
    _history = True

    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", ondelete='CASCADE',
        help="Empty for the whole network; a territory's price applies to "
        "the stores in it and below, before the general one.")
    guide_price = fields.Numeric(
        "Retail Guide Price", digits=PRICE_DIGITS, required=True)
    promo_min = fields.Numeric(
        "Lowest Promotional Price", digits=PRICE_DIGITS, required=True)
    promo_max = fields.Numeric(
        "Highest Promotional Price", digits=PRICE_DIGITS, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('product_territory_unique',
                Unique(t, t.product, t.territory),
                'distributor_policy.msg_retail_price_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.product, Index.Range())))
        cls._order = [('product', 'ASC'), ('territory', 'ASC NULLS FIRST'),
            ('id', 'ASC')]

    def get_rec_name(self, name):
        if self.territory:
            return f'{self.product.rec_name} @ {self.territory.rec_name}'
        return self.product.rec_name

    @classmethod
    def validate_fields(cls, prices, field_names):
        super().validate_fields(prices, field_names)
        for price in prices:
            if not (0 <= price.promo_min <= price.promo_max
                    <= price.guide_price):
                raise PriceError(gettext(
                        'distributor_policy.msg_retail_price_order',
                        product=price.product.rec_name,
                        minimum=price.promo_min, maximum=price.promo_max,
                        guide=price.guide_price))

    @classmethod
    def prices_for(cls, territories, products):
        """{product id: retail price} for a place in territories: the most
        specific territory's, else the general one"""
        product_ids = list({int(p) for p in products})
        if not product_ids:
            return {}
        depths = _territory_depths([t for t in territories if t])
        with trusted():
            records = cls.search([('product', 'in', product_ids)])
        by_product = defaultdict(list)
        for record in records:
            by_product[record.product.id].append(record)
        result = {}
        for product_id, mine in by_product.items():
            specific = [r for r in mine
                if r.territory and r.territory.id in depths]
            if specific:
                result[product_id] = min(specific,
                    key=lambda r: (depths[r.territory.id], r.id))
            else:
                general = [r for r in mine if not r.territory]
                if general:
                    result[product_id] = general[0]
        return result


class StorePrice(metaclass=PoolMeta):
    __name__ = 'distributor.store.price'

    @classmethod
    def get_bound(cls, prices, names):
        "The tightest of the network bound and the tier's store bound"
        Bound = Pool().get('distributor.tier.price.bound')
        result = super().get_bound(prices, names)
        for price in prices:
            bound = Bound.bounds_for(price.distributor.distributor_tier,
                [price.product], 'store').get(price.product.id)
            if bound is None:
                continue
            if 'min_price' in names:
                current = result['min_price'].get(price.id)
                result['min_price'][price.id] = (bound.min_price
                    if current is None else max(current, bound.min_price))
            if 'max_price' in names:
                current = result['max_price'].get(price.id)
                result['max_price'][price.id] = (bound.max_price
                    if current is None else min(current, bound.max_price))
        return result

    @classmethod
    def check_bounds(cls, prices):
        Bound = Pool().get('distributor.tier.price.bound')
        super().check_bounds(prices)
        for price in prices:
            Bound.check_price(price.distributor, price.product, price.price,
                'store')


class ChannelOrder(metaclass=PoolMeta):
    __name__ = 'distributor.channel.order'

    def set_prices(self):
        super().set_prices()
        self.check_tier_bounds()

    def check_tier_bounds(self):
        """The prices to a store or a downstream distributor lie in the
        seller's tier bound for that kind of buyer"""
        Bound = Pool().get('distributor.tier.price.bound')
        buyer = self.kind_of(self.buyer) if self.buyer else None
        if buyer not in {'store', 'distributor'}:
            return
        lines = [l for l in self.lines if not l.promotion_gift]
        bounds = Bound.bounds_for(self.seller.distributor_tier,
            [l.product for l in lines], buyer)
        for line in lines:
            Bound.check_price(self.seller, line.product, line.unit_price,
                buyer, bounds=bounds,
                order=getattr(self, 'number', None) or '',
                buyer_name=self.buyer.rec_name)

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, orders):
        for order in orders:
            order.check_tier_bounds()
        super().approve(orders)


class ShelfCheck(metaclass=PoolMeta):
    __name__ = 'distributor.store.check'

    price_incidents = fields.One2Many(
        'distributor.price.incident', 'check', "Price Incidents",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._dms_workflow_fields = set(cls._dms_workflow_fields) | {
            'price_incidents'}
        cls.__rpc__.update({
                'dms_price_check': RPC(readonly=False),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def confirm(cls, checks):
        Incident = Pool().get('distributor.price.incident')
        super().confirm(checks)
        Incident.detect(cls.browse(list(map(int, checks))))

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store'],
            'store': ['store']})
    def dms_price_check(cls, party, store, lines, note=None):
        """Record a shelf check of a store with the retail prices seen and
        confirm it.  lines are dicts with product (id or code), quantity
        (on the shelf, 0 allowed) and price (the retail price seen).
        party is the store's distributor, or the store itself.  Returns
        the check id and the price incidents raised."""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('distributor.store.check.line')
        if store != party and store.store_distributor != party:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=store.__names__()['model'], id=store.id))
        field = gettext('distributor_policy.msg_field_check_lines')
        lines = validation.lines(lines, field)
        note = validation.text(note, gettext(
                'distributor_policy.msg_field_note'))
        for values in lines:
            validation.keys(values, field, {'product', 'quantity', 'price'})
        products = Product.dms_find_products(
            [values.get('product') for values in lines], salable=False)
        check_lines = []
        for values, product in zip(lines, products):
            quantity = validation.quantity(values.get('quantity', 0),
                product.rec_name, allow_zero=True)
            price = values.get('price')
            if price is not None:
                price = validation.amount(price, product.rec_name,
                    digits=PRICE_DIGITS[1], minimum=0)
            check_lines.append(Line(product=product, quantity=quantity,
                    retail_price=price))
        check = cls(store=store, date=cls.default_date(), note=note,
            lines=check_lines)
        check.save()
        cls.confirm([check])
        check = cls(check.id)
        return {
            'check': check.id,
            'incidents': [i.dms_summary() for i in check.price_incidents],
            }


class ShelfCheckLine(metaclass=PoolMeta):
    __name__ = 'distributor.store.check.line'

    retail_price = fields.Numeric(
        "Retail Price Seen", digits=PRICE_DIGITS,
        domain=['OR', ('retail_price', '=', None),
            ('retail_price', '>=', 0)],
        states={
            'readonly': Eval('_parent_check', {}).get('state',
                'draft') != 'draft',
            },
        help="The price on the shelf; outside the brand's retail range it "
        "opens a price incident when the check is confirmed.")


class PriceIncident(Document, ModelSQL, ModelView):
    """Price Incident (乱价)

    A retail price seen at a store outside the brand's allowed range:
    where, whose store, the price seen and the range; channel managers
    (and the sales reps of the territory) confirm or dismiss it."""
    __name__ = 'distributor.price.incident'
    _dms_editable_states = set()
    _dms_deletable_states = set()
    _dms_free_fields = {'note'}
    _dms_workflow_fields = {
        'date', 'check', 'check_line', 'store', 'distributor', 'product',
        'price_seen', 'min_price', 'max_price', 'guide_price',
        'decided_by', 'state_logs'}
    _dms_log_model = 'distributor.price.incident.log'

    date = fields.Date("Date", required=True, readonly=True)
    check = fields.Many2One(
        'distributor.store.check', "Shelf Check", readonly=True,
        ondelete='RESTRICT')
    check_line = fields.Many2One(
        'distributor.store.check.line', "Check Line", readonly=True,
        ondelete='SET NULL')
    store = fields.Many2One(
        'party.party', "Store", required=True, readonly=True,
        ondelete='RESTRICT')
    distributor = fields.Many2One(
        'party.party', "Store's Distributor", readonly=True,
        ondelete='RESTRICT')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT')
    price_seen = fields.Numeric(
        "Price Seen", digits=PRICE_DIGITS, required=True, readonly=True)
    min_price = fields.Numeric(
        "Lowest Allowed", digits=PRICE_DIGITS, readonly=True)
    max_price = fields.Numeric(
        "Highest Allowed", digits=PRICE_DIGITS, readonly=True)
    guide_price = fields.Numeric(
        "Retail Guide Price", digits=PRICE_DIGITS, readonly=True)
    state = fields.Selection(
        INCIDENT_STATES, "State", readonly=True, required=True, sort=False)
    note = fields.Text("Note")
    decided_by = fields.Many2One('res.user', "Decided by", readonly=True)
    state_logs = fields.One2Many(
        'distributor.price.incident.log', 'document', "State History",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.distributor, Index.Range()),
                    (t.date, Index.Range())),
                Index(t, (t.store, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'confirmed'),
            ('open', 'dismissed'),
            ('confirmed', 'open'),
            ('dismissed', 'open'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'dismiss': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') == 'open',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_list_incidents': RPC(),
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_rec_name(self, name):
        return f'{self.product.rec_name} @ {self.store.rec_name}'

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, incidents):
        with trusted():
            cls.write(list(incidents), {'decided_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('dismissed')
    def dismiss(cls, incidents):
        with trusted():
            cls.write(list(incidents), {'decided_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, incidents):
        with trusted():
            cls.write(list(incidents), {'decided_by': None})

    @classmethod
    def detect(cls, checks):
        """Open an incident for each line of the confirmed checks whose
        retail price lies outside the allowed range of the product at the
        store (the territory's retail price first, then the general
        one)"""
        Retail = Pool().get('distributor.retail.price')
        incidents = []
        for check in checks:
            lines = [l for l in check.lines if l.retail_price is not None]
            if not lines:
                continue
            store = check.store
            retail = Retail.prices_for([store.store_territory],
                [l.product for l in lines])
            for line in lines:
                price = retail.get(line.product.id)
                if price is None:
                    continue
                if price.promo_min <= line.retail_price <= price.guide_price:
                    continue
                incidents.append(cls(date=check.date, check=check,
                        check_line=line, store=store,
                        distributor=check.distributor
                        or store.store_distributor,
                        product=line.product, price_seen=line.retail_price,
                        min_price=price.promo_min,
                        max_price=price.guide_price,
                        guide_price=price.guide_price))
        if incidents:
            with trusted():
                cls.save(incidents)
            cls._notify(incidents)
        return incidents

    def _message_values(self):
        return {
            'product': self.product.rec_name,
            'price': self.price_seen,
            'store': self.store.rec_name,
            'distributor': self.distributor.rec_name
            if self.distributor else '',
            'minimum': self.min_price,
            'maximum': self.max_price,
            }

    @classmethod
    def _notify(cls, incidents):
        """Tell the channel managers and the distributor's rep, and the
        distributor (its portal inbox)"""
        Message = Pool().get('distributor.message')
        with_distributor = [i for i in incidents if i.distributor]
        notify_staff([(i, i.distributor,
                    'distributor_policy.msg_incident_notification',
                    i._message_values()) for i in with_distributor],
            'distributor_policy.act_price_incident_form')
        Message.post([(i.distributor,
                    'distributor_policy.msg_incident_message', i,
                    i._message_values(), None) for i in with_distributor])

    def dms_summary(self):
        return {
            'id': self.id,
            'date': self.date,
            'state': self.state,
            'store': {'id': self.store.id, 'name': self.store.rec_name},
            'distributor': {'id': self.distributor.id,
                'name': self.distributor.rec_name}
            if self.distributor else None,
            'product': {'id': self.product.id, 'code': self.product.code,
                'name': self.product.rec_name},
            'price_seen': self.price_seen,
            'min_price': self.min_price,
            'max_price': self.max_price,
            'guide_price': self.guide_price,
            }

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_incidents(cls, party, offset=0, limit=50):
        """The price incidents at the stores of the distributor, latest
        first: (total, page of incidents)"""
        offset = validation.integer(offset, 'offset', minimum=0)
        limit = validation.integer(limit, 'limit', minimum=1, maximum=200)
        domain = [('distributor', '=', party.id)]
        total = cls.search_count(domain)
        incidents = cls.search(domain, offset=offset, limit=limit)
        return total, [i.dms_summary() for i in incidents]

    @classmethod
    def incident_count(cls, party, start=None, end=None):
        """The incidents (open or confirmed) at the stores of the
        distributor between start and end (inclusive): one query"""
        counts = cls.incident_counts([party], start, end)
        return counts.get(int(party), 0)

    @classmethod
    def incident_counts(cls, parties, start=None, end=None):
        "{party id: incidents (open or confirmed)} between start and end"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {int(p): 0 for p in parties}
        where = table.state.in_(COUNTED_STATES)
        if start:
            where &= table.date >= start
        if end:
            where &= table.date <= end
        for sub in grouped_slice(list(result), MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.distributor,
                    Count(table.id),
                    where=where & reduce_ids(table.distributor, list(sub)),
                    group_by=[table.distributor]))
            for party_id, count in cursor:
                result[party_id] = count
        return result


class PriceIncidentLog(DocumentLog, ModelSQL, ModelView):
    "State history of a price incident"
    __name__ = 'distributor.price.incident.log'

    document = fields.Many2One(
        'distributor.price.incident', "Incident", required=True,
        ondelete='CASCADE', readonly=True)


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['distributor.price.incident']
