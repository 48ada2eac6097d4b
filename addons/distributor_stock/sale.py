# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Distributor orders move channel stock: receipts, returns, discrepancies"
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import without_check_access

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
    def _dms_rule_label(cls, rule):
        if rule == 'stock':
            return gettext('distributor_stock.msg_rule_stock')
        return super()._dms_rule_label(rule)

    @classmethod
    def _dms_rule_outcomes(cls, sales, cumulative=False):
        """Returns also check the distributor's stock: one cannot send
        back what one does not have"""
        pool = Pool()
        Level = pool.get('distributor.stock.level')
        Uom = pool.get('product.uom')
        result = super()._dms_rule_outcomes(sales, cumulative=cumulative)
        returns = [s for s in sales if s.order_kind == 'return'
            and s.party and s.party.distributor_storage]
        if not returns:
            return result
        levels = Level.levels({s.party for s in returns}, lots=False)
        pending = defaultdict(float)
        for sale in returns:
            need = defaultdict(float)
            for line in sale.line_lines:
                if line.product and line.unit and line.quantity:
                    need[line.product] += Uom.compute_qty(
                        line.unit, -line.quantity,
                        line.product.default_uom, round=False)
            message = None
            for product, quantity in need.items():
                key = (sale.party.id, product.id)
                available = (levels.get(key + (None,), 0.0)
                    - pending[key])
                if product.default_uom.round(available - quantity) < 0:
                    message = gettext(
                        'distributor_stock.msg_rule_stock_failed',
                        order=sale.rec_name, product=product.rec_name,
                        quantity=product.default_uom.round(quantity),
                        available=product.default_uom.round(
                            max(available, 0)))
                    break
            outcome = result[sale.id]
            outcome.append(('stock', message))
            if cumulative and all(m is None for _, m in outcome):
                for product, quantity in need.items():
                    pending[(sale.party.id, product.id)] += quantity
        return result

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
        with without_check_access():
            Move.save(moves)
            Move.do(moves)

    @classmethod
    def dms_confirm_receipt(cls, sales, quantities=None, note=None):
        """The received quantities enter the distributor's stock, with the
        lots the brand shipped"""
        pool = Pool()
        Move = pool.get('stock.move')
        Alert = pool.get('distributor.stock.alert')
        Date = pool.get('ir.date')
        super().dms_confirm_receipt(sales, quantities=quantities, note=note)
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
        with without_check_access():
            Move.save(moves)
            Move.do(moves)
        parties = {s.party for s in sales if s.party.distributor_storage}
        if parties:
            Alert.refresh(list(parties))

    @classmethod
    def dms_receive_scans(cls, sale_id, scans, note=None, party_id=None):
        """Confirm receipt of a shipped order from scanned codes: each
        line is received as the total scanned of its product (a scanned
        lot must be one the brand shipped on the order)"""
        pool = Pool()
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        sales = cls.search([('id', '=', int(sale_id))])
        if not sales:
            raise AccessError(gettext(
                    'distributor_sale.msg_party_unreachable',
                    party=sale_id))
        sale, = sales
        if party_id is not None:
            party = cls._dms_check_party(party_id)
            if sale.party != party:
                raise AccessError(gettext(
                        'distributor_sale.msg_party_unreachable',
                        party=party_id))
        lines = {l.id: (l.product, None) for l in sale.line_lines
            if l.product}
        scanned = Product.dms_resolve_scans(scans)
        transit = sale.party.distributor_transit
        for scan in scanned:
            if scan['lot'] is None:
                continue
            shipped = {lot.id for l in sale.line_lines
                for lot in _lots_of(l.moves, transit) if lot}
            if scan['lot'] not in shipped:
                Lot = pool.get('stock.lot')
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_lot_not_shipped',
                        lot=Lot(scan['lot']).rec_name, order=sale.rec_name))
        totals = Product.dms_scan_quantities(scans, lines)
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
        with without_check_access():
            Move.save(moves)
            Move.do(moves)


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'distributor.stock.alert', 'distributor.stock.transfer']
