# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The demo / benchmark generator builds a consistent, repeatable network"
import hashlib
import sys
import unittest
from collections import Counter
from pathlib import Path

from trytond.modules.company.tests import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

import generate  # noqa: E402


def digest():
    "A fingerprint of the network: codes, names, tiers, upstreams, states"
    with Transaction().start(DB_NAME, 0, readonly=True):
        Party = Pool().get('party.party')
        rows = [(p.distributor_code, p.name, p.distributor_tier.code,
                p.upstream.distributor_code if p.upstream else '',
                ','.join(t.code for t in p.territories),
                p.distributor_state, p.distributor_grade or '')
            for p in Party.search([('is_distributor', '=', True)],
                order=[('distributor_code', 'ASC')])]
    return hashlib.sha256(repr(rows).encode()).hexdigest(), rows


class GenerateTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['distributor'])

    def setUp(self):
        # each test starts from the activated modules and a company
        drop_db()
        activate_module(['distributor'])
        with Transaction().start(DB_NAME, 0) as transaction:
            create_company()
            transaction.commit()

    def test_network(self):
        counts = generate.generate(
            DB_NAME, distributors=40, products=12, seed=7, verbose=False)
        self.assertEqual(sum(counts.values()), 40)
        first, rows = digest()

        tiers = Counter(code[0] for code, _ in counts)
        self.assertEqual(sum(n for (t, _), n in counts.items()
                if t == 'T1'), 4)
        self.assertEqual(sum(n for (t, _), n in counts.items()
                if t == 'T2'), 10)
        self.assertTrue(tiers)
        states = {s for (_, s) in counts}
        self.assertLessEqual({'active', 'frozen', 'draft', 'terminated'},
            states)

        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Party = pool.get('party.party')
            Territory = pool.get('distributor.territory')
            Template = pool.get('product.template')
            User = pool.get('res.user')
            Qualification = pool.get('distributor.qualification')
            kinds = Counter(t.kind for t in Territory.search([]))
            self.assertGreaterEqual(kinds['region'], 2)
            self.assertGreaterEqual(kinds['province'], 6)
            self.assertGreaterEqual(kinds['city'] + kinds['county'], 30)
            self.assertEqual(Template.search_count([]), 12)
            for party in Party.search([('is_distributor', '=', True)]):
                self.assertEqual(len(party.qualifications) >= 1, True)
                if not party.upstream:
                    continue
                self.assertLess(party.upstream.distributor_tier.level,
                    party.distributor_tier.level)
                area = party.upstream.distributor_area()
                for territory in party.territories:
                    self.assertIn(territory.id, area)
                self.assertIsNotNone(party.sales_rep)
            logins = {u.login for u in User.search([])}
            self.assertLessEqual(
                {'rep1', 'rep2', 'manager', 'accountant', 'dmsadmin'},
                logins)
            statuses = Counter(q.status for q in Qualification.search([]))
            self.assertGreaterEqual(statuses['expiring'], 1)
            self.assertEqual(statuses['expired'], 2)

        # a second run adds no distributor
        generate.generate(DB_NAME, distributors=40, products=12, seed=7,
            verbose=False)
        self.assertEqual(digest()[0], first)

    def test_same_seed_same_network(self):
        "Two databases generated with one seed hold the same network"
        generate.generate(
            DB_NAME, distributors=25, products=5, seed=11, verbose=False)
        first, rows = digest()
        self.assertEqual(len(rows), 25)
        drop_db()
        activate_module(['distributor'])
        with Transaction().start(DB_NAME, 0) as transaction:
            create_company()
            transaction.commit()
        generate.generate(
            DB_NAME, distributors=25, products=5, seed=11, verbose=False)
        self.assertEqual(digest()[0], first)
        drop_db()
        activate_module(['distributor'])
