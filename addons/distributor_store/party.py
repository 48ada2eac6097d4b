# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Terminal stores and terminal customers of the distributors"
import weakref

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import entry_point, resolve, trusted
from distributor.exceptions import RecordNotFound

from .exceptions import StoreError, StoreValidationError

# the values a distributor gives for its stores and customers:
# {key: (field, kind)}
STORE_VALUES = {
    'name': ('name', 'name'),
    'territory': ('store_territory', 'territory'),
    'size': ('store_size', 'size'),
    'cooperation': ('cooperation_type', 'cooperation'),
    'opening_date': ('store_opening_date', 'date'),
    'contact': ('store_contact', 'text'),
    'latitude': ('latitude', 'latitude'),
    'longitude': ('longitude', 'longitude'),
    'tags': ('categories', 'tags'),
    }
CUSTOMER_VALUES = {
    'name': ('name', 'name'),
    'store': ('customer_store', 'store'),
    'tags': ('categories', 'tags'),
    }

STORE_SIZES = [
    (None, ""),
    ('small', "Small (< 50 m²)"),
    ('medium', "Medium (50-200 m²)"),
    ('large', "Large (200-1000 m²)"),
    ('hypermarket', "Hypermarket (> 1000 m²)"),
    ]
COOPERATION_TYPES = [
    (None, ""),
    ('direct', "Direct Supply"),
    ('franchise', "Franchise"),
    ('key_account', "Key Account"),
    ('chain', "Chain"),
    ('wholesale', "Wholesale"),
    ]
STORE_STATES = [
    ('active', "Active"),
    ('closed', "Closed"),
    ]
_store = {'invisible': ~Eval('is_store', False)}
_customer = {'invisible': ~Eval('is_terminal_customer', False)}


def _label(party):
    "The name of a party, saved or not"
    if party.id is not None and party.id >= 0:
        return party.rec_name
    return party.name or ''


# per transaction: a Move Store in progress (the one path that changes a
# store's distributor)
_STORE_MOVE = weakref.WeakKeyDictionary()


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    is_store = fields.Boolean(
        "Store",
        states={'readonly': Bool(Eval('store_distributor'))
            & (Eval('id', -1) >= 0)},
        help="Check for a terminal store supplied by a distributor.")
    store_distributor = fields.Many2One(
        'party.party', "Supplying Distributor", ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)],
        states={
            'invisible': ~Eval('is_store', False),
            'required': Eval('is_store', False),
            'readonly': Eval('id', -1) >= 0,
            },
        help="Change it with the Move Store action, which keeps a record.")
    store_territory = fields.Many2One(
        'distributor.territory', "Store Territory", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('is_store', False),
            'required': Eval('is_store', False),
            })
    latitude = fields.Numeric(
        "Latitude", digits=(3, 6), states=_store,
        domain=['OR', ('latitude', '=', None),
            [('latitude', '>=', -90), ('latitude', '<=', 90)]])
    longitude = fields.Numeric(
        "Longitude", digits=(3, 6), states=_store,
        domain=['OR', ('longitude', '=', None),
            [('longitude', '>=', -180), ('longitude', '<=', 180)]])
    store_size = fields.Selection(
        STORE_SIZES, "Size Class", sort=False, states=_store)
    cooperation_type = fields.Selection(
        COOPERATION_TYPES, "Cooperation Type", sort=False, states=_store)
    store_opening_date = fields.Date("Opening Date", states=_store)
    store_contact = fields.Char(
        "Store Contact", states=_store,
        help="The person the distributor deals with at the store.")
    store_state = fields.Selection(
        STORE_STATES, "Store State", readonly=True, states=_store)
    store_moves = fields.One2Many(
        'distributor.store.move.log', 'store', "Distributor Changes",
        readonly=True, states=_store)
    stores = fields.One2Many(
        'party.party', 'store_distributor', "Stores", readonly=True,
        states={'invisible': ~Eval('is_distributor', False)})

    is_terminal_customer = fields.Boolean(
        "Terminal Customer",
        help="Check for a buyer of a distributor that is not a store: "
        "a store's own buyer or an individual key customer.")
    customer_distributor = fields.Many2One(
        'party.party', "Customer of", ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)],
        states={
            'invisible': ~Eval('is_terminal_customer', False),
            'required': Eval('is_terminal_customer', False),
            })
    customer_store = fields.Many2One(
        'party.party', "Usual Store", ondelete='SET NULL',
        domain=[('is_store', '=', True),
            ('store_distributor', '=', Eval('customer_distributor', -1))],
        states=_customer,
        help="The store where the customer usually buys, if any.")
    channel_purchases = fields.One2Many(
        'distributor.channel.order', 'buyer', "Channel Purchases",
        readonly=True,
        states={'invisible': ~Eval('is_store', False)
            & ~Eval('is_terminal_customer', False)
            & ~Eval('upstream')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.store_distributor, Index.Range()),
                    where=t.is_store),
                Index(t, (t.store_territory, Index.Range()),
                    where=t.is_store),
                Index(t, (t.customer_distributor, Index.Range()),
                    where=t.is_terminal_customer),
                })
        cls._buttons.update({
                'store_close': {
                    'invisible': (~Eval('is_store', False)
                        | (Eval('store_state') != 'active')),
                    'depends': ['is_store', 'store_state'],
                    },
                'store_reopen': {
                    'invisible': (~Eval('is_store', False)
                        | (Eval('store_state') != 'closed')),
                    'depends': ['is_store', 'store_state'],
                    },
                'store_move': {
                    'invisible': ~Eval('is_store', False),
                    'depends': ['is_store'],
                    },
                })
        cls.__rpc__.update({
                'dms_list_stores': RPC(),
                'dms_save_store': RPC(readonly=False),
                'dms_list_customers': RPC(),
                'dms_save_customer': RPC(readonly=False),
                'dms_store_state': RPC(readonly=False),
                })

    @classmethod
    def default_is_store(cls):
        return False

    @classmethod
    def _dms_kind_domains(cls):
        return {
            **super()._dms_kind_domains(),
            'store': [('is_store', '=', True)],
            'customer': [('is_terminal_customer', '=', True)],
            }

    @classmethod
    def _dms_channel_flags(cls):
        return super()._dms_channel_flags() + [
            'is_store', 'is_terminal_customer']

    @classmethod
    def _dms_guarded_fields(cls):
        return super()._dms_guarded_fields() | {
            'is_store', 'store_distributor', 'store_territory',
            'is_terminal_customer', 'customer_distributor',
            'customer_store'}

    @classmethod
    def _dms_reach_territory_fields(cls):
        return super()._dms_reach_territory_fields() + ['store_territory']

    @classmethod
    def _dms_check_reach(cls, parties, values):
        """A caller limited to its territories places stores and customers
        only under distributors it reaches"""
        super()._dms_check_reach(parties, values)
        if cls.dms_reach_territories() is None:
            return
        for name in ['store_distributor', 'customer_distributor']:
            if values.get(name):
                resolve(cls, values[name], cls.fields_get([name])[name][
                        'string'], many=False)

    @classmethod
    def default_is_terminal_customer(cls):
        return False

    @classmethod
    def default_store_state(cls):
        return 'active'

    @fields.depends('store_distributor', 'store_territory')
    def on_change_store_distributor(self):
        if (self.store_distributor and not self.store_territory
                and len(self.store_distributor.territories) == 1):
            self.store_territory, = self.store_distributor.territories

    @classmethod
    def write(cls, *args):
        if not _STORE_MOVE.get(Transaction()):
            actions = iter(args)
            for parties, values in zip(actions, actions):
                if 'store_distributor' in values:
                    for party in parties:
                        if (party.store_distributor
                                and party.store_distributor.id
                                != values['store_distributor']):
                            raise StoreError(gettext(
                                    'distributor_store.msg_store_move_action',
                                    store=party.rec_name))
        super().write(*args)

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('store_moves')
        default.setdefault('store_state')
        return super().copy(parties, default=default)

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names is None or field_names & {
                'is_store', 'store_distributor', 'store_territory',
                'is_distributor', 'is_terminal_customer',
                'customer_distributor', 'customer_store'}:
            cls.check_store_rules(parties)

    @classmethod
    def check_store_rules(cls, parties):
        areas = {}
        for party in parties:
            if party.is_store and getattr(party, 'is_distributor', False):
                raise StoreValidationError(gettext(
                        'distributor_store.msg_store_not_distributor',
                        party=_label(party)))
            if party.is_store and party.store_distributor:
                distributor = party.store_distributor
                if distributor == party:
                    raise StoreValidationError(gettext(
                            'distributor_store.msg_store_not_distributor',
                            party=_label(party)))
                if distributor.id not in areas:
                    areas[distributor.id] = distributor.distributor_area()
                if (party.store_territory
                        and party.store_territory.id
                        not in areas[distributor.id]):
                    raise StoreValidationError(gettext(
                            'distributor_store.msg_store_outside_territory',
                            store=_label(party),
                            territory=party.store_territory.rec_name,
                            distributor=distributor.rec_name))
            if getattr(party, 'is_terminal_customer', False):
                store = getattr(party, 'customer_store', None)
                if (store and store.store_distributor
                        != party.customer_distributor):
                    raise StoreValidationError(gettext(
                            'distributor_store.msg_customer_store',
                            customer=_label(party),
                            store=party.customer_store.rec_name))

    def store_in_area(self):
        "Whether the store lies in its distributor's territories"
        return bool(self.is_store and self.store_distributor
            and self.store_territory
            and self.store_territory.id
            in self.store_distributor.distributor_area())

    @classmethod
    @ModelView.button
    def store_close(cls, parties):
        cls.write([p for p in parties if p.is_store],
            {'store_state': 'closed'})

    @classmethod
    @ModelView.button
    def store_reopen(cls, parties):
        cls.write([p for p in parties if p.is_store],
            {'store_state': 'active'})

    @classmethod
    @ModelView.button_action('distributor_store.wizard_store_move')
    def store_move(cls, parties):
        pass

    @classmethod
    def move_stores(cls, stores, distributor, territory, reason):
        """Give the stores to another distributor (and territory): refused
        while they have open channel orders; logged with the reason"""
        pool = Pool()
        Log = pool.get('distributor.store.move.log')
        Order = pool.get('distributor.channel.order')
        reason = validation.text(reason, gettext('distributor.msg_reason'),
            required=True)
        if not distributor.may_trade():
            raise StoreError(gettext(
                    'distributor_store.msg_store_move_frozen',
                    distributor=distributor.rec_name))
        logs = []
        for store in stores:
            if not store.is_store:
                raise StoreError(gettext(
                        'distributor_store.msg_not_a_store',
                        party=store.rec_name))
            if store.store_distributor == distributor and (
                    not territory or territory == store.store_territory):
                raise StoreError(gettext(
                        'distributor_store.msg_store_move_same',
                        store=store.rec_name,
                        distributor=distributor.rec_name))
            new_territory = territory or store.store_territory
            if new_territory.id not in distributor.distributor_area():
                raise StoreValidationError(gettext(
                        'distributor_store.msg_store_outside_territory',
                        store=store.rec_name,
                        territory=new_territory.rec_name,
                        distributor=distributor.rec_name))
            open_orders = Order.search([
                    ('buyer', '=', store.id),
                    ('seller', '=', store.store_distributor.id),
                    ('state', 'in', ['draft', 'submitted', 'approved']),
                    ], limit=1)
            if open_orders:
                raise StoreError(gettext(
                        'distributor_store.msg_store_move_open_orders',
                        store=store.rec_name,
                        order=open_orders[0].rec_name))
            logs.append(Log(store=store,
                    from_distributor=store.store_distributor,
                    to_distributor=distributor,
                    from_territory=store.store_territory,
                    to_territory=territory or store.store_territory,
                    reason=reason))
        values = {'store_distributor': distributor.id}
        if territory:
            values['store_territory'] = territory.id
        transaction = Transaction()
        _STORE_MOVE[transaction] = True
        try:
            with trusted():
                # validation checks the new territory is covered
                cls.write(list(stores), values)
                Log.save(logs)
        finally:
            _STORE_MOVE[transaction] = False
        return logs

    # Portal API --------------------------------------------------------

    @classmethod
    def _dms_own(cls, party, field, record):
        "The store or customer record must be one of the distributor's"
        if getattr(record, field) != party:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=record.id))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_stores(cls, party):
        "The stores of the distributor as dicts"
        return [{
                'id': s.id,
                'name': s.name,
                'code': s.code,
                'territory': s.store_territory.rec_name,
                'size': s.store_size,
                'cooperation': s.cooperation_type,
                'state': s.store_state,
                'tags': [c.name for c in s.categories],
                } for s in cls.search([
                    ('store_distributor', '=', party.id),
                    ('is_store', '=', True),
                    ], order=[('name', 'ASC')])]

    @classmethod
    @entry_point(parties={'party': ['distributor'], 'store': ['store']})
    def dms_save_store(cls, party, values, store=None):
        """Create (or update store of) a store of the distributor from
        values: name, territory (id), size, cooperation, opening_date,
        contact, latitude, longitude, tags (category ids)"""
        if store is not None:
            cls._dms_own(party, 'store_distributor', store)
        else:
            store = cls(is_store=True, store_distributor=party,
                is_distributor=False, is_terminal_customer=False)
        return cls._dms_apply(store, values, STORE_VALUES)

    @classmethod
    @entry_point(parties={'party': ['distributor']},
        records={'stores': None})
    def dms_store_state(cls, party, stores, action):
        """Close or reopen (action) stores of the distributor, through the
        store_close and store_reopen buttons; returns their ids"""
        action = validation.choice(action, 'action', ['close', 'reopen'])
        for store in stores:
            if not store.is_store:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=store.id))
            cls._dms_own(party, 'store_distributor', store)
        if action == 'close':
            cls.store_close(stores)
        else:
            cls.store_reopen(stores)
        return [s.id for s in stores]

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_customers(cls, party):
        "The terminal customers of the distributor with their purchases"
        Order = Pool().get('distributor.channel.order')
        customers = cls.search([
                ('customer_distributor', '=', party.id),
                ('is_terminal_customer', '=', True),
                ], order=[('name', 'ASC')])
        totals = Order.purchase_totals(customers)
        return [{
                'id': c.id,
                'name': c.name,
                'store': c.customer_store.id if c.customer_store else None,
                'tags': [t.name for t in c.categories],
                'orders': totals.get(c.id, (0, 0))[0],
                'amount': str(totals.get(c.id, (0, 0))[1]),
                } for c in customers]

    @classmethod
    @entry_point(parties={'party': ['distributor'],
            'customer': ['customer']})
    def dms_save_customer(cls, party, values, customer=None):
        """Create (or update) a terminal customer of the distributor from
        values: name, store (id), tags (category ids)"""
        if customer is not None:
            cls._dms_own(party, 'customer_distributor', customer)
        else:
            customer = cls(is_terminal_customer=True,
                customer_distributor=party, is_store=False,
                is_distributor=False, customer_store=None)
        return cls._dms_apply(customer, values, CUSTOMER_VALUES)

    @classmethod
    def _dms_apply(cls, record, values, names):
        """Set the values from outside on the store or customer, each
        through the validation layer, and save it once the channel rules
        pass"""
        pool = Pool()
        Category = pool.get('party.category')
        Territory = pool.get('distributor.territory')
        validation.keys(values, 'values', names)
        for key, value in values.items():
            field, kind = names[key]
            label = cls.fields_get([field])[field]['string']
            if kind == 'name':
                value = validation.text(value, label, size=128,
                    required=True, multiline=False)
            elif kind == 'text':
                value = validation.text(value, label, size=128,
                    multiline=False)
            elif kind == 'date':
                value = validation.date(value, label, required=False)
            elif kind in {'latitude', 'longitude'}:
                if value is not None:
                    limit = 90 if kind == 'latitude' else 180
                    value = validation.number(value, label, digits=6,
                        minimum=-limit, maximum=limit)
            elif kind == 'size':
                value = validation.choice(value, label, STORE_SIZES)
            elif kind == 'cooperation':
                value = validation.choice(value, label, COOPERATION_TYPES)
            elif kind == 'territory':
                value = resolve(Territory, value, label, many=False)
            elif kind == 'store':
                value = resolve(cls, value, label, many=False,
                    domain=[('is_store', '=', True)])
            elif kind == 'tags':
                value = resolve(Category, value, label)
            setattr(record, field, value)
        # the channel rules are checked before anything is written
        cls.check_store_rules([record])
        record.save()
        return record.id


class StoreMoveLog(ModelSQL, ModelView):
    "Store Distributor Change"
    __name__ = 'distributor.store.move.log'

    store = fields.Many2One(
        'party.party', "Store", required=True, readonly=True,
        ondelete='CASCADE')
    from_distributor = fields.Many2One(
        'party.party', "From Distributor", readonly=True,
        ondelete='RESTRICT')
    to_distributor = fields.Many2One(
        'party.party', "To Distributor", required=True, readonly=True,
        ondelete='RESTRICT')
    from_territory = fields.Many2One(
        'distributor.territory', "From Territory", readonly=True)
    to_territory = fields.Many2One(
        'distributor.territory', "To Territory", readonly=True)
    reason = fields.Text("Reason", required=True, readonly=True)
    date = fields.Function(fields.Date("Date"), 'get_date')
    user = fields.Function(
        fields.Many2One('res.user', "User"), 'get_user')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('store')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.store, Index.Range())))

    def get_date(self, name):
        return self.create_date.date() if self.create_date else None

    def get_user(self, name):
        return self.create_uid.id if self.create_uid else None

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'distributor_store.msg_store_move_log_readonly'))


class StoreMoveStart(ModelView):
    "Move Stores to Another Distributor"
    __name__ = 'distributor.store.move.start'

    distributor = fields.Many2One(
        'party.party', "New Distributor", required=True,
        domain=[('is_distributor', '=', True),
            ('distributor_state', '=', 'active')])
    territory = fields.Many2One(
        'distributor.territory', "New Territory",
        help="Leave empty to keep each store's territory.")
    reason = fields.Text("Reason", required=True)


class StoreMove(Wizard):
    "Move Stores to Another Distributor"
    __name__ = 'distributor.store.move'

    start = StateView('distributor.store.move.start',
        'distributor_store.store_move_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Move", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def transition_apply(self):
        self.model.move_stores(list(self.records), self.start.distributor,
            self.start.territory, self.start.reason)
        return 'end'

    def end(self):
        return 'reload'
