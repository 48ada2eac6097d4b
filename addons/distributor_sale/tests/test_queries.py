# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The SQL statements of the order flows do not grow with their size: the
rules read what they need once for all the lines and orders"""
import os
import unittest
from collections import Counter
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

from distributor.tests.tools import (
    acting, channel_manager, count_queries, with_transaction)

from .tools import sale_network

# statements an order may take per line beyond the fixed part: its INSERT
# and the two queries of Tryton's price list that prices it; what the
# channel rules read is read once for all the lines (5 a line before)
PER_LINE = 3.5
# a 50-line order, created and submitted
ORDER_50 = 340


def products(n, count):
    "count more drinks at 10"
    pool = Pool()
    Template = pool.get('product.template')
    p1 = n.products.p1
    templates = Template.create([{
                'name': f"Drink {i}", 'type': 'goods', 'salable': True,
                'default_uom': n.products.unit.id,
                'sale_uom': n.products.unit.id,
                'list_price': Decimal(10),
                'account_category': p1.template.account_category.id,
                'categories': [('add', [n.products.drinks.id])],
                'code': f'Q{i:03d}',
                'products': [('create', [{}])],
                } for i in range(count)])
    return [t.products[0] for t in templates]


def report(name, counter):
    "The statements by kind and table (DMS_SQL_REPORT=1)"
    if os.environ.get('DMS_SQL_REPORT'):
        import re
        kinds = Counter(' '.join(s.split()[:4])[:40] + ' '
            + ' '.join(re.findall(r'FROM "(\w+)"', s)[:3])
            for s in counter.statements)
        print(f'\n{name}: {counter.count} statements')
        for kind, count in kinds.most_common(25):
            print(f'  {count:5d}  {kind}')


class QueriesTestCase(unittest.TestCase):
    "SQL statements of the order flows"

    @classmethod
    def setUpClass(cls):
        activate_module('distributor_sale')

    @with_transaction()
    def test_order_submission(self):
        "A 50-line order is created and submitted in bounded statements"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with sale_network() as n:
            goods = products(n, 50)
            user = channel_manager()

            def submit(count):
                lines = [{'product': p.id, 'quantity': 1}
                    for p in goods[:count]]
                with acting(user), count_queries() as counter:
                    sale_id = Sale.dms_create_order(
                        n.d1.id, lines, submit=True)
                self.assertEqual(Sale(sale_id).channel_state, 'submitted')
                self.assertEqual(len(Sale(sale_id).lines), count)
                report(f'order of {count} lines', counter)
                return counter.count

            submit(10)  # the caches warm up
            small, big = submit(10), submit(50)
            self.assertLessEqual((big - small) / 40, PER_LINE,
                (small, big))
            self.assertLessEqual(big, ORDER_50)
