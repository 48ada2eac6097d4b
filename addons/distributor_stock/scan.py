# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Scanned codes: product barcodes (EAN-13), product codes and lot numbers"
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC

from .exceptions import ScanError


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
    def dms_find_code(cls, code):
        """The product of a scanned code: an EAN-13 barcode (check digit
        verified) among the product identifiers, or a product code.
        Returns (product, lot) where lot is found when the code is a lot
        number of a single product."""
        pool = Pool()
        Identifier = pool.get('product.identifier')
        Lot = pool.get('stock.lot')
        code = (code or '').strip() if isinstance(code, str) else code
        if not code or not isinstance(code, str):
            raise ScanError(gettext(
                    'distributor_stock.msg_scan_invalid', code=code))
        if len(code) == 13 and code.isdigit():
            if not ean13_valid(code):
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_bad_check_digit',
                        code=code))
            identifiers = Identifier.search([
                    ('code', '=', code),
                    ('type', 'in', ['ean', None]),
                    ])
            products = {i.product for i in identifiers}
            if len(products) == 1:
                return products.pop(), None
        products = cls.search([('code', '=', code)])
        if len(products) == 1:
            return products[0], None
        lots = Lot.search([('number', '=', code)])
        if len({l.product for l in lots}) == 1 and len(lots) == 1:
            return lots[0].product, lots[0]
        if lots:
            raise ScanError(gettext(
                    'distributor_stock.msg_scan_lot_ambiguous', code=code))
        raise ScanError(gettext(
                'distributor_stock.msg_scan_unknown', code=code))

    @classmethod
    def dms_resolve_product_lot(cls, product, lot=None):
        """(product, lot) from a product id or code and a lot id or
        number; a lot of another product is refused"""
        Lot = Pool().get('stock.lot')
        if isinstance(product, int) and not isinstance(product, bool):
            products = cls.search([('id', '=', product)])
            if not products:
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_unknown', code=product))
            product, found = products[0], None
        else:
            product, found = cls.dms_find_code(product)
        if lot in (None, ''):
            return product, found
        if isinstance(lot, int) and not isinstance(lot, bool):
            lots = Lot.search([('id', '=', lot)])
        else:
            lots = Lot.search([('number', '=', str(lot).strip())])
        mine = [l for l in lots if l.product == product]
        if mine:
            return product, mine[0]
        if lots:
            raise ScanError(gettext(
                    'distributor_stock.msg_lot_other_product',
                    lot=lots[0].rec_name, product=product.rec_name))
        raise ScanError(gettext(
                'distributor_stock.msg_scan_unknown_lot',
                lot=lot, product=product.rec_name))

    @classmethod
    def dms_resolve_scans(cls, scans):
        """Resolve a list of scans into [{product, lot, quantity}].

        A scan is a code (string) or a dict with code, lot (optional) and
        quantity (optional, default 1, positive).  Any scan that does not
        resolve refuses the whole list with the scan's message."""
        result = []
        for scan in scans or []:
            if isinstance(scan, str):
                scan = {'code': scan}
            if not isinstance(scan, dict):
                raise ScanError(gettext(
                        'distributor_stock.msg_scan_invalid', code=scan))
            product, lot = cls.dms_resolve_product_lot(
                scan.get('code'), scan.get('lot'))
            quantity = scan.get('quantity', 1)
            try:
                value = float(quantity)
            except (TypeError, ValueError):
                value = None
            if value is None or not value > 0:
                raise ScanError(gettext(
                        'distributor_stock.msg_quantity_invalid',
                        product=product.rec_name, quantity=quantity))
            result.append({
                    'product': product.id,
                    'lot': lot.id if lot else None,
                    'quantity': value,
                    })
        return result

    @classmethod
    def dms_scan_quantities(cls, scans, lines):
        """Total scanned quantities per document line.

        lines maps line ids to (product, lot or None) expected; a scan of
        a product or lot no line expects is refused."""
        totals = defaultdict(float)
        by_product = defaultdict(list)
        for line_id, (product, lot) in lines.items():
            by_product[product.id].append((line_id, lot.id if lot else None))
        for scan in cls.dms_resolve_scans(scans):
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
