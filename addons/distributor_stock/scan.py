# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Scanned codes: product barcodes (EAN-13), product codes and lot numbers"
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC

from distributor import validation
from distributor.access import entry_point
from distributor.exceptions import InputError

from .exceptions import ScanError

# the longest code a scan may carry
CODE_SIZE = 64


def ean13_valid(code):
    "Whether the 13 digits carry a correct check digit"
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_resolve_scans': RPC(),
                })

    @classmethod
    def _dms_code(cls, code):
        "A scanned code: a bounded text without control characters"
        if not isinstance(code, str) or not code.strip():
            raise ScanError(gettext(
                    'distributor_stock.msg_scan_invalid',
                    code=str(code)[:40]))
        return validation.text(code, gettext(
                'distributor_stock.msg_field_code'), size=CODE_SIZE,
            multiline=False)

    @classmethod
    def dms_find_codes(cls, codes):
        """{code: (product, lot)} of scanned codes, in three queries: an
        EAN-13 barcode (check digit verified) among the product
        identifiers, a product code, or the number of a lot of a single
        product (the lot is then given)"""
        pool = Pool()
        Identifier = pool.get('product.identifier')
        Lot = pool.get('stock.lot')
        codes = {cls._dms_code(c) for c in codes}
        for code in codes:
            if len(code) == 13 and code.isdigit() and not ean13_valid(code):
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_bad_check_digit',
                        code=code))
        result = {}
        barcodes = [c for c in codes if len(c) == 13 and c.isdigit()]
        if barcodes:
            by_code = defaultdict(set)
            for identifier in Identifier.search([
                        ('code', 'in', barcodes),
                        ('type', 'in', ['ean', None]),
                        ], order=[]):
                by_code[identifier.code].add(identifier.product)
            for code, products in by_code.items():
                if len(products) == 1:
                    result[code] = (products.pop(), None)
        rest = [c for c in codes if c not in result]
        if rest:
            by_code = defaultdict(list)
            for product in cls.search([('code', 'in', rest)], order=[]):
                by_code[product.code].append(product)
            for code, products in by_code.items():
                if len(products) == 1:
                    result[code] = (products[0], None)
        rest = [c for c in codes if c not in result]
        if rest:
            by_number = defaultdict(list)
            for lot in Lot.search([('number', 'in', rest)], order=[]):
                by_number[lot.number].append(lot)
            for code in rest:
                lots = by_number.get(code)
                if not lots:
                    raise ScanError(gettext(
                            'distributor_stock.msg_scan_unknown', code=code))
                if len(lots) > 1:
                    raise ScanError(gettext(
                            'distributor_stock.msg_scan_lot_ambiguous',
                            code=code))
                result[code] = (lots[0].product, lots[0])
        return result

    @classmethod
    def dms_find_code(cls, code):
        "(product, lot) of a scanned code (see dms_find_codes)"
        code = cls._dms_code(code)
        return cls.dms_find_codes([code])[code]

    @classmethod
    def dms_resolve_product_lot(cls, product, lot=None):
        """(product, lot) from a product id or code and a lot id or
        number; a lot of another product is refused"""
        return cls.dms_resolve_products_lots([(product, lot)])[0]

    @classmethod
    def dms_resolve_products_lots(cls, pairs):
        """[(product, lot)] of [(product id or code, lot id or number or
        None)], in a few queries; a lot of another product is refused"""
        Lot = Pool().get('stock.lot')
        ids = {p for p, _ in pairs
            if isinstance(p, int) and not isinstance(p, bool)}
        by_id = {p.id: p for p in cls.search(
                [('id', 'in', list(ids))], order=[])} if ids else {}
        codes = [p for p, _ in pairs if not (
                isinstance(p, int) and not isinstance(p, bool))]
        found = cls.dms_find_codes(codes) if codes else {}
        lot_ids = {l for _, l in pairs
            if isinstance(l, int) and not isinstance(l, bool)}
        lot_numbers = {validation.text(l, gettext(
                    'distributor_stock.msg_field_lot'), size=CODE_SIZE,
                multiline=False)
            for _, l in pairs if isinstance(l, str) and l.strip()}
        lots = Lot.search(['OR',
                ('id', 'in', list(lot_ids)),
                ('number', 'in', list(lot_numbers)),
                ], order=[]) if lot_ids or lot_numbers else []
        lots_by_id = {l.id: l for l in lots}
        lots_by_number = defaultdict(list)
        for lot in lots:
            lots_by_number[lot.number].append(lot)
        result = []
        for key, lot_key in pairs:
            if isinstance(key, int) and not isinstance(key, bool):
                if key not in by_id:
                    raise ScanError(gettext(
                            'distributor_stock.msg_scan_unknown', code=key))
                product, lot = by_id[key], None
            else:
                product, lot = found[key.strip()]
            if lot_key not in (None, ''):
                if isinstance(lot_key, int) and not isinstance(
                        lot_key, bool):
                    candidates = [lots_by_id[lot_key]] if (
                        lot_key in lots_by_id) else []
                elif isinstance(lot_key, str):
                    candidates = lots_by_number.get(lot_key.strip(), [])
                else:
                    raise ScanError(gettext(
                            'distributor_stock.msg_scan_invalid',
                            code=str(lot_key)[:40]))
                mine = [l for l in candidates if l.product == product]
                if mine:
                    lot = mine[0]
                elif candidates:
                    raise ScanError(gettext(
                            'distributor_stock.msg_lot_other_product',
                            lot=candidates[0].rec_name,
                            product=product.rec_name))
                else:
                    raise ScanError(gettext(
                            'distributor_stock.msg_scan_unknown_lot',
                            lot=lot_key, product=product.rec_name))
            result.append((product, lot))
        return result

    @classmethod
    @entry_point()
    def dms_resolve_scans(cls, scans):
        """Resolve a list of scans into [{product, lot, quantity}].

        A scan is a code (string) or a dict with code, lot (optional) and
        quantity (optional, default 1, positive).  Any scan that does not
        resolve refuses the whole list with the scan's message."""
        field = gettext('distributor_stock.msg_field_scans')
        if not isinstance(scans, (list, tuple)):
            raise InputError(gettext('distributor.msg_input_lines',
                    field=field))
        scans = validation.lines(
            [{'code': s} if isinstance(s, str) else s for s in scans],
            field, required=False)
        for scan in scans:
            validation.keys(scan, gettext(
                    'distributor_stock.msg_field_scans'),
                {'code', 'lot', 'quantity'})
        resolved = cls.dms_resolve_products_lots(
            [(s.get('code'), s.get('lot')) for s in scans])
        result = []
        for scan, (product, lot) in zip(scans, resolved):
            quantity = validation.quantity(
                scan.get('quantity', 1), product.rec_name)
            result.append({
                    'product': product.id,
                    'lot': lot.id if lot else None,
                    'quantity': quantity,
                    })
        return result

    @classmethod
    def dms_scan_quantities(cls, scanned, lines):
        """Total scanned quantities per document line.

        scanned are resolved scans (see dms_resolve_scans); lines maps
        line ids to (product, lot or None) expected; a scan of a product
        or lot no line expects is refused."""
        totals = defaultdict(float)
        by_product = defaultdict(list)
        for line_id, (product, lot) in lines.items():
            by_product[product.id].append((line_id, lot.id if lot else None))
        for scan in scanned:
            candidates = by_product.get(scan['product'], [])
            match = [i for i, lot in candidates
                if scan['lot'] is None or lot in (None, scan['lot'])]
            if not match:
                product = cls(scan['product'])
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_not_expected',
                        product=product.rec_name))
            totals[match[0]] += scan['quantity']
        return dict(totals)
