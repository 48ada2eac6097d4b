# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The SQL statements of a scan do not grow with the number of codes"
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

from distributor.tests.tools import (
    acting, channel_manager, count_queries, with_transaction)
from distributor_sale.tests.test_queries import products, report
from distributor_sale.tests.tools import sale_network

# a list of scans, whatever its length: the barcodes, the product codes
# and the lot numbers are each looked up once (up to 3 per code before)
SCAN = 6


def ean13(number):
    "The EAN-13 of a 12-digit number: its check digit appended"
    digits = [int(c) for c in f'{number:012d}']
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return f'{number:012d}{(10 - total % 10) % 10}'


class QueriesTestCase(unittest.TestCase):
    "SQL statements of scanning"

    @classmethod
    def setUpClass(cls):
        activate_module('distributor_stock')

    @with_transaction()
    def test_scan(self):
        "200 scanned codes resolve in as many statements as 20"
        pool = Pool()
        Product = pool.get('product.product')
        Identifier = pool.get('product.identifier')
        Lot = pool.get('stock.lot')
        with sale_network() as n:
            goods = products(n, 70)
            user = channel_manager()
            Identifier.create([{'product': p.id, 'type': 'ean',
                        'code': ean13(690123400000 + i)}
                    for i, p in enumerate(goods)])
            lots = Lot.create([{'product': p.id, 'number': f'LOT-{i:03d}'}
                    for i, p in enumerate(goods)])
            scans = []
            for i, (product, lot) in enumerate(zip(goods, lots)):
                scans += [ean13(690123400000 + i),
                    {'code': product.code, 'quantity': 2},
                    {'code': lot.number, 'quantity': 3}]
            scans = scans[:200]

            def scan(count):
                with acting(user), count_queries() as counter:
                    result = Product.dms_resolve_scans(scans[:count])
                report(f'{count} scans', counter)
                return result, counter.count

            scan(20)  # the caches warm up
            (_, small), (result, big) = scan(20), scan(200)
            self.assertEqual(len(result), 200)
            self.assertEqual(result[:3], [
                    {'product': goods[0].id, 'lot': None, 'quantity': 1},
                    {'product': goods[0].id, 'lot': None, 'quantity': 2},
                    {'product': goods[0].id, 'lot': lots[0].id,
                        'quantity': 3},
                    ])
            self.assertEqual(sum(r['quantity'] for r in result),
                sum(s['quantity'] if isinstance(s, dict) else 1
                    for s in scans))
            self.assertLessEqual(big, SCAN, (small, big))
            self.assertLessEqual(big, small + 2, (small, big))
