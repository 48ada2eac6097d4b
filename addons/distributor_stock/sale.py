# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Distributor orders move channel stock: receipts, returns, discrepancies"
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.exceptions import RecordNotFound

from .exceptions import ScanError
from .transfer import pick_lots


def _lots_of(moves, location):
    "{lot: quantity} of the done moves into location, in shipping order"
    result = {}
    for move in sorted(moves, key=lambda m: m.id):
        if move.state == 'done' and move.to_location == location:
            result.setdefault(move.lot, 0.0)
            result[move.lot] += move.quantity
    return result


def _slice(lots, start, quantity):
    "[(lot, quantity)] of quantity taken after the first start units"
    result = []
    for lot, available in lots.items():
        skip = min(available, start)
        start -= skip
        available -= skip
        take = min(available, quantity)
        if take > 0:
            result.append((lot, take))
            quantity -= take
        if quantity <= 0:
            break
    return result


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_receive_scans': RPC(readonly=False),
                })

    @classmethod
    def _dms_rules(cls):
        return super()._dms_rules() + ['stock']

    @classmethod
    def _dms_rule_label(cls, rule):
        if rule == 'stock':
            return gettext('distributor_stock.msg_rule_stock')
        return super()._dms_rule_label(rule)

    @classmethod
    def _dms_rule_context(cls, sales):
        pool = Pool()
        Level = pool.get('distributor.stock.level')
        context = super()._dms_rule_context(sales)
        returns = {s.party for s in sales if s.order_kind == 'return'
            and s.party and s.party.distributor_storage}
        context.levels = (Level.levels(returns, lots=False)
            if returns else {})
        context.returned = defaultdict(float)
        return context

    @classmethod
    def _dms_return_needs(cls, sale):
        "{product: quantity in its default unit} a return takes from stock"
        Uom = Pool().get('product.uom')
        need = defaultdict(float)
        for line in sale.line_lines:
            if line.product and line.unit and line.quantity:
                need[line.product] += Uom.compute_qty(
                    line.unit, -line.quantity,
                    line.product.default_uom, round=False)
        return need

    @classmethod
    def _dms_rule_stock(cls, sale, context):
        """A return takes what the distributor has: one cannot send back
        what one does not hold"""
        if (sale.order_kind != 'return' or not sale.party
                or not sale.party.distributor_storage):
            return
        for product, quantity in cls._dms_return_needs(sale).items():
            key = (sale.party.id, product.id)
            available = (context.levels.get(key + (None,), 0.0)
                - context.returned[key])
            if product.default_uom.round(available - quantity) < 0:
                return gettext('distributor_stock.msg_rule_stock_failed',
                    order=sale.rec_name, product=product.rec_name,
                    quantity=product.default_uom.round(quantity),
                    available=product.default_uom.round(max(available, 0)))

    @classmethod
    def _dms_reserve_stock(cls, sale, context):
        if (sale.order_kind != 'return' or not sale.party
                or not sale.party.distributor_storage):
            return
        for product, quantity in cls._dms_return_needs(sale).items():
            context.returned[(sale.party.id, product.id)] += quantity

    @classmethod
    def dms_approve_batch(cls, sales, _strict=False):
        refused = super().dms_approve_batch(sales, _strict=_strict)
        refused_ids = {s.id for s, _ in refused}
        approved = [s for s in cls.browse(
                [s.id for s in sales if s.id not in refused_ids])
            if s.order_kind == 'return' and s.channel_state == 'approved']
        if approved:
            cls._dms_hand_over_returns(approved)
        return refused

    @classmethod
    def _dms_hand_over_returns(cls, sales):
        """Approved returns leave the distributor's stock for its transit
        location, where the brand's return shipment picks them up"""
        pool = Pool()
        Move = pool.get('stock.move')
        Uom = pool.get('product.uom')
        Date = pool.get('ir.date')
        moves = []
        for sale in sales:
            party = sale.party
            if not party.distributor_storage:
                continue
            for line in sale.line_lines:
                if not line.product or not line.quantity:
                    continue
                quantity = Uom.compute_qty(line.unit, -line.quantity,
                    line.product.default_uom)
                for lot, take in pick_lots(
                        party.distributor_storage, line.product, quantity):
                    moves.append(Move(
                            from_location=party.distributor_storage,
                            to_location=party.distributor_transit,
                            product=line.product, lot=lot, quantity=take,
                            unit=line.product.default_uom,
                            company=sale.company,
                            unit_price=line.unit_price,
                            currency=sale.currency,
                            effective_date=Date.today(), origin=sale))
        with trusted():
            Move.save(moves)
            Move.do(moves)

    @classmethod
    def _dms_confirm_receipt(cls, sales, quantities, note):
        """The received quantities enter the distributor's stock, with the
        lots the brand shipped"""
        pool = Pool()
        Move = pool.get('stock.move')
        Alert = pool.get('distributor.stock.alert')
        Date = pool.get('ir.date')
        super()._dms_confirm_receipt(sales, quantities, note)
        moves = []
        sales = cls.browse(list(map(int, sales)))
        for sale in sales:
            party = sale.party
            if not party.distributor_storage:
                continue
            for line in sale.line_lines:
                if not line.received_quantity or line.quantity <= 0:
                    continue
                lots = _lots_of(line.moves, party.distributor_transit)
                for lot, quantity in _slice(
                        lots, 0, line.received_quantity):
                    moves.append(Move(
                            from_location=party.distributor_transit,
                            to_location=party.distributor_storage,
                            product=line.product, lot=lot,
                            quantity=quantity, unit=line.unit,
                            company=sale.company,
                            unit_price=line.unit_price,
                            currency=sale.currency,
                            effective_date=Date.today(), origin=sale))
        with trusted():
            Move.save(moves)
            Move.do(moves)
            parties = {s.party for s in sales if s.party.distributor_storage}
            if parties:
                Alert.refresh(list(parties))

    @classmethod
    @entry_point(record={'sale': None},
        parties={'party': ['distributor']})
    def dms_receive_scans(cls, sale, scans, note=None, party=None):
        """Confirm receipt of a shipped order from scanned codes: each
        line is received as the total scanned of its product (a scanned
        lot must be one the brand shipped on the order).  party: the
        distributor the caller acts for, which must be the order's."""
        pool = Pool()
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        Lot = pool.get('stock.lot')
        if party is not None and sale.party != party:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=sale.id))
        note = validation.text(
            note, gettext('distributor_sale.msg_field_note'))
        lines = {l.id: (l.product, None) for l in sale.line_lines
            if l.product}
        scanned = Product.dms_resolve_scans(scans)
        transit = sale.party.distributor_transit
        shipped = {lot.id for l in sale.line_lines
            for lot in _lots_of(l.moves, transit) if lot}
        for scan in scanned:
            if scan['lot'] is not None and scan['lot'] not in shipped:
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_lot_not_shipped',
                        lot=Lot(scan['lot']).rec_name, order=sale.rec_name))
        totals = Product.dms_scan_quantities(scanned, lines)
        line_of = {l.id: l for l in sale.line_lines}
        quantities = {line_id: Uom.compute_qty(
                line_of[line_id].product.default_uom, quantity,
                line_of[line_id].unit)
            for line_id, quantity in totals.items()}
        for line_id in lines:
            quantities.setdefault(line_id, 0)
        cls.dms_confirm_receipt([sale], quantities, note)


class Discrepancy(metaclass=PoolMeta):
    __name__ = 'distributor.sale.discrepancy'

    @classmethod
    def resolve_discrepancies(cls, discrepancies, resolution, note=None):
        """The missing goods, still in the distributor's transit location,
        are written off to its lost and found whatever the resolution:
        the brand credits them, reships them or writes them off"""
        pool = Pool()
        Move = pool.get('stock.move')
        Date = pool.get('ir.date')
        super().resolve_discrepancies(discrepancies, resolution, note=note)
        moves = []
        for discrepancy in discrepancies:
            party = discrepancy.sale.party
            line = discrepancy.line
            if not party.distributor_storage:
                continue
            transit = party.distributor_transit
            lots = _lots_of(line.moves, transit)
            for lot, quantity in _slice(lots, line.received_quantity or 0,
                    discrepancy.missing_quantity):
                moves.append(Move(
                        from_location=transit,
                        to_location=party.distributor_warehouse
                        .lost_found_location,
                        product=line.product, lot=lot, quantity=quantity,
                        unit=line.unit, company=discrepancy.sale.company,
                        effective_date=Date.today(), origin=discrepancy.sale))
        with trusted():
            Move.save(moves)
            Move.do(moves)


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'distributor.stock.alert', 'distributor.stock.transfer']
