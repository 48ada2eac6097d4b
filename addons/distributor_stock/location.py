# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from distributor.access import trusted

ROLES = [
    (None, ""),
    ('warehouse', "Warehouse"),
    ('storage', "Storage"),
    ('transit', "Incoming Transit"),
    ('lost_found', "Lost and Found"),
    ]


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'

    distributor = fields.Many2One(
        'party.party', "Distributor", readonly=True, ondelete='RESTRICT',
        help="The distributor that owns the location.")
    distributor_role = fields.Selection(
        ROLES, "Distributor Role", readonly=True)
    input_transit = fields.Many2One(
        'stock.location', "Incoming Transit", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('input_transit'),
            },
        help="Where the brand's shipments to the distributor wait for "
        "its receipt confirmation.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.distributor, Index.Range()),
                (t.distributor_role, Index.Equality())))

    @classmethod
    def get_default_warehouse(cls):
        "The brand's warehouse: distributors' warehouses are not candidates"
        warehouse = Transaction().context.get('warehouse')
        if warehouse:
            return warehouse
        warehouse = cls._default_warehouse_cache.get('brand', -1)
        if warehouse == -1:
            warehouses = cls.search([
                    ('type', '=', 'warehouse'),
                    ('distributor', '=', None),
                    ], limit=2)
            warehouse = warehouses[0].id if len(warehouses) == 1 else None
            cls._default_warehouse_cache.set('brand', warehouse)
        return warehouse

    @classmethod
    def _set_warehouse_parent(cls, locations):
        """Put the storage of new distributor warehouses under them in one
        write (Tryton's save does the same for the others): one update of
        the tree for a whole network activated at once"""
        channel = [l for l in locations
            if l.type == 'warehouse' and l.distributor
            and l.storage_location and not l.storage_location.parent]
        super()._set_warehouse_parent(
            [l for l in locations if l not in channel])
        to_write = []
        for warehouse in channel:
            to_write.extend([[warehouse.storage_location],
                    {'parent': warehouse.id}])
        if to_write:
            cls.write(*to_write)

    @classmethod
    def brand_storage(cls):
        "The storage location of the brand's warehouse"
        warehouse = cls.get_default_warehouse()
        if not warehouse:
            from .exceptions import ChannelStockError
            raise ChannelStockError(gettext(
                    'distributor_stock.msg_no_brand_warehouse'))
        return cls(warehouse).storage_location

    @classmethod
    def channel_transit(cls):
        ModelData = Pool().get('ir.model.data')
        return cls(ModelData.get_id(
                'distributor_stock', 'location_channel_transit'))

    @classmethod
    def check_modification(cls, mode, locations, values=None,
            external=False):
        super().check_modification(
            mode, locations, values=values, external=external)
        if external and mode == 'delete':
            for location in locations:
                if location.distributor:
                    raise AccessError(gettext(
                            'distributor_stock.msg_location_owned',
                            location=location.rec_name,
                            distributor=location.distributor.rec_name))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    distributor_warehouse = fields.Many2One(
        'stock.location', "Distributor Warehouse", readonly=True,
        ondelete='RESTRICT',
        domain=[('type', '=', 'warehouse')],
        states={
            'invisible': ~Eval('is_distributor', False),
            },
        help="The distributor's own warehouse, created on activation.")

    @property
    def distributor_storage(self):
        if self.distributor_warehouse:
            return self.distributor_warehouse.storage_location

    @property
    def distributor_transit(self):
        if self.distributor_warehouse:
            return self.distributor_warehouse.input_transit

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('distributor_warehouse')
        return super().copy(parties, default=default)

    @classmethod
    def dms_change_state(cls, parties, state, reason, from_states=None):
        super().dms_change_state(
            parties, state, reason, from_states=from_states)
        if state == 'active':
            cls.dms_ensure_locations(parties)

    @classmethod
    def dms_ensure_locations(cls, parties):
        """Create the location tree of the distributors that have none:
        a warehouse whose storage holds the stock, an incoming transit
        (where the brand's shipments wait for the receipt confirmation,
        also the distributor's customer location) and a lost and found
        location for count and receipt differences"""
        pool = Pool()
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        parties = [p for p in cls.browse(list(map(int, parties)))
            if p.is_distributor and not p.distributor_warehouse]
        if not parties:
            return []
        root = ModelData.get_id('distributor_stock', 'location_channel')
        # Tryton keeps customer and lost and found locations under their
        # own kind: the transit and lost and found locations of the
        # distributors hang under the channel's ones; Tryton puts the
        # storage under its warehouse when the warehouse is created
        transit_root = ModelData.get_id(
            'distributor_stock', 'location_channel_customer')
        lost_found_root = ModelData.get_id(
            'distributor_stock', 'location_channel_lost_found')
        with trusted():
            children = Location.create([v
                    for p in parties for v in [{
                            'name': gettext(
                                'distributor_stock.msg_location_storage'),
                            'code': f'{p.distributor_code}-STO',
                            'type': 'storage',
                            'distributor': p.id,
                            'distributor_role': 'storage',
                            }, {
                            'name': gettext(
                                'distributor_stock.msg_location_transit'),
                            'code': f'{p.distributor_code}-TRN',
                            'type': 'customer',
                            'parent': transit_root,
                            'distributor': p.id,
                            'distributor_role': 'transit',
                            }, {
                            'name': gettext(
                                'distributor_stock.msg_location_lost_found'),
                            'code': f'{p.distributor_code}-LF',
                            'type': 'lost_found',
                            'parent': lost_found_root,
                            'distributor': p.id,
                            'distributor_role': 'lost_found',
                            }]])
            vlist = []
            for i, party in enumerate(parties):
                storage, transit, lost_found = children[3 * i:3 * i + 3]
                vlist.append({
                        'name': party.name,
                        'code': party.distributor_code,
                        'type': 'warehouse',
                        'parent': root,
                        'distributor': party.id,
                        'distributor_role': 'warehouse',
                        'input_location': storage.id,
                        'output_location': storage.id,
                        'storage_location': storage.id,
                        'lost_found_location': lost_found.id,
                        'input_transit': transit.id,
                        'address': (party.addresses[0].id
                            if party.addresses else None),
                        })
            warehouses = Location.create(vlist)
            for party, warehouse in zip(parties, warehouses):
                party.distributor_warehouse = warehouse
                party.customer_location = warehouse.input_transit
            cls.save(parties)
        return warehouses


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'sale.sale', 'distributor.stock.transfer.line']
