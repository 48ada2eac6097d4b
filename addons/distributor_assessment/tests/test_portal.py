# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The performance page of the portal, through HTTP as a phone and an API
client do: D1 reads its confirmed targets with the actual and attainment,
its latest approved assessment (score, grade, rank in its tier, every
KPI's value, score, weight and weighted points) and what it takes to
reach the next grade, as the records say; D2 reads its own only; D3
(neither target nor assessment) sees the empty states; a store is
refused; nothing of the request names a party"""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor_portal import web
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import order, run_tasks

API = web.API
D = Decimal
CENT = D('0.01')


def money(value):
    return f'{D(value).quantize(CENT):,}'


def kpi(code):
    ModelData = Pool().get('ir.model.data')
    Kpi = Pool().get('distributor.assessment.kpi')
    return Kpi(ModelData.get_id('distributor_assessment', f'kpi_{code}'))


def brand_sale(party, lines, date):
    """A confirmed brand sale to party (lines: [(product, quantity, unit
    price)]) dated date (set in SQL)"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    sale = order(party, [(p, q) for p, q, _ in lines])
    sale_t, line_t = Sale.__table__(), SaleLine.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*sale_t.update([sale_t.state, sale_t.sale_date],
            ['confirmed', date], where=sale_t.id == sale.id))
    for line, (_, _, price) in zip(Sale(sale.id).lines, lines):
        cursor.execute(*line_t.update([line_t.unit_price], [D(price)],
                where=line_t.id == line.id))
    return sale


class PortalAssessmentTestCase(PortalTestCase):
    "The performance page and its endpoints"
    modules = ['distributor_assessment']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Template = pool.get('distributor.assessment.template')
        Target = pool.get('distributor.target')
        Run = pool.get('distributor.assessment.run')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            # a quarter of last year: nothing of the world's own activity
            year = today.year - 1
            start, end = dt.date(year, 1, 1), dt.date(year, 3, 31)
            p1 = Product(world.products.p1)
            # D1 bought 300.00 (30 units) in the quarter, D2 100.00
            brand_sale(Party(world.d1), [(p1, 30, '10.00')],
                dt.date(year, 2, 1))
            brand_sale(Party(world.d2), [(p1, 10, '10.00')],
                dt.date(year, 2, 3))
            # targets: D1 400.00 (75 %) and 20 units (150 %), D2 50.00;
            # a draft target of D1 not shown
            targets = Target.create([{
                        'company': world.company, 'distributor': d,
                        'start_date': start, 'end_date': end,
                        **values,
                        } for d, values in [
                        (world.d1, {'amount': D(400)}),
                        (world.d2, {'amount': D(50)}),
                        ]] + [{
                        'company': world.company,
                        'distributor': world.d1,
                        'start_date': dt.date(year, 4, 1),
                        'end_date': dt.date(year, 6, 30),
                        'quantity': 20.0,
                        }])
            draft, = Target.create([{
                        'company': world.company, 'distributor': world.d1,
                        'start_date': dt.date(year, 7, 1),
                        'end_date': dt.date(year, 9, 30),
                        'amount': D(1),
                        }])
            Target.confirm(targets)
            # the quantity target's period: D1 bought 30 units
            brand_sale(Party(world.d1), [(p1, 30, '1.00')],
                dt.date(year, 5, 2))
            template, = Template.create([{
                        'name': "Portal",
                        'grade_a': D(90), 'grade_b': D(70),
                        'grade_c': D(50),
                        'lines': [('create', [{
                                        'kpi': kpi('sales_attainment').id,
                                        'weight': D(70),
                                        'scoring': 'linear',
                                        'zero_at': D(0), 'full_at': D(100),
                                        }, {
                                        'kpi': kpi('incidents').id,
                                        'weight': D(30),
                                        'scoring': 'penalty',
                                        'penalty_points': D(25),
                                        }])],
                        }])
            run, = Run.create([{
                        'company': world.company,
                        'template': template.id,
                        'start_date': start, 'end_date': end,
                        'distributors': [('add', [world.d1, world.d2])],
                        }])
            Run.compute([run])
            run_tasks()
            Run.review([run])
            Run.approve([run])
            return SimpleNamespace(**vars(world), start=start, end=end,
                run=run.id, targets=[t.id for t in targets],
                draft=draft.id)

    def result(self, party):
        "The values of party's result in the run, from the records"
        def read():
            Result = Pool().get('distributor.assessment.result')
            result, = Result.search([('run', '=', self.world.run),
                    ('distributor', '=', party)])
            return SimpleNamespace(score=result.score, grade=result.grade,
                rank=result.rank, rank_tier=result.rank_tier,
                tier_count=result.tier_count,
                kpis={k.kpi.code: (k.value, k.score, k.weight, k.weighted)
                    for k in result.kpis})
        return self.read(read)

    def test_page(self):
        """D1's page: the grade, score, rank in its tier, every KPI, the
        points missing for the next grade; its confirmed targets with the
        actual and attainment (the draft one and D2's not shown)"""
        w = self.world
        result = self.result(w.d1)
        # by hand: attainment 300 / 400 = 75 % → 75 points × 70 %; no
        # incident → 100 × 30 %: 82.50, grade B (A from 90)
        self.assertEqual(result.kpis['sales_attainment'][:2],
            (D('75.00'), D('75.00')))
        self.assertEqual(result.score, D('82.50'))
        self.assertEqual(result.grade, 'B')
        response = self.client('d1-view@example.com').get(
            '/portal/assessment')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'data-grade="B" data-score="82.50" '
            f'data-run="{w.run}"', html)
        self.assertIn('id="assessment-grade" ', html)
        self.assertIn('id="assessment-score">82.50<', html)
        self.assertIn(f'id="assessment-rank-tier">{result.rank_tier} / '
            f'{result.tier_count}<', html)
        for code, (value, score, weight, weighted) in result.kpis.items():
            item = html.split(f'data-kpi="{code}">')[-1].split(
                '</div>\n  </div>')[0]
            self.assertIn(f'data-field="score">{D(score).quantize(CENT)}<',
                item)
            self.assertIn(f'data-field="weight">{D(weight).normalize():f} %<',
                item)
            self.assertIn(f'data-field="weighted">'
                f'{D(weighted).quantize(CENT)}<', item)
        # the next grade: A at 90, 7.50 points missing; attainment can
        # bring 70 × 25 % = 17.50 more
        self.assertIn('data-next="A" data-missing="7.50"', html)
        improve = html.split('id="improve"')[1].split('</ol>')[0]
        self.assertIn('data-kpi="sales_attainment"', improve)
        self.assertIn('+17.50', improve)
        self.assertNotIn('data-kpi="incidents"', improve)
        # the targets: the amount one at 75 %, the quantity one at 150 %
        amount, other, quantity = w.targets
        self.assertIn(f'data-target="{amount}" data-status="behind" '
            f'data-attainment="75.00"', html)
        self.assertIn(f'data-target="{quantity}" data-status="done" '
            f'data-attainment="150.00"', html)
        item = html.split(f'data-target="{amount}"')[1].split(
            '</div>\n  </div>')[0]
        self.assertIn(f'data-field="actual">{money(300)}<', item)
        self.assertIn(f'data-field="goal">{money(400)}<', item)
        self.assertIn('style="width: 75.00%"', item)
        item = html.split(f'data-target="{quantity}"')[1].split(
            '</div>\n  </div>')[0]
        self.assertIn('style="width: 100%"', item)
        self.assertIn('data-field="actual">30<', item)
        self.assertIn('data-field="goal">20<', item)
        self.assertNotIn(f'data-target="{w.draft}"', html)
        self.assertNotIn(f'data-target="{other}"', html)
        self.assertNotIn('id="no-assessment"', html)
        self.assertNotIn('id="no-targets"', html)

    def test_others_and_empty(self):
        """D2 reads its own; D3 (no target, not assessed) the empty
        states; a store is refused; a party in the query changes nothing"""
        w = self.world
        result = self.result(w.d2)
        client = self.client('d2@example.com')
        html = client.get(f'/portal/assessment?party={w.d1}').get_data(
            as_text=True)
        self.assertIn(f'data-grade="{result.grade}" '
            f'data-score="{D(result.score).quantize(CENT)}"', html)
        self.assertIn(f'data-target="{w.targets[1]}"', html)
        for target in [w.targets[0], w.targets[2]]:
            self.assertNotIn(f'data-target="{target}"', html)
        response = self.client('d3@example.com').get('/portal/assessment')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('id="no-assessment"', html)
        self.assertIn('id="no-targets"', html)
        self.assertNotIn('data-target=', html)
        status, body = self.client('d3@example.com', api=True).api(
            'GET', API + '/assessment')
        self.assertEqual((status, body), (200, {'assessment': None}))
        # a store has no performance page
        store = self.client('s1@example.com')
        response = store.get('/portal/assessment')
        self.assertEqual(response.status_code, 403)
        self.assertNotIn('href="/portal/assessment"',
            store.get('/portal/').get_data(as_text=True))
        store = self.client('s1@example.com', api=True)
        for path in ['/assessment', '/targets']:
            status, body = store.api('GET', API + path)
            self.assertEqual((status, body['code']), (403, 'forbidden'))
        status, body = self.client().api('GET', API + '/assessment')
        self.assertEqual((status, body['code']), (401, 'unauthorized'))
        # the navigation of a distributor has the page
        self.assertIn('href="/portal/assessment"', self.client(
                'd1-view@example.com').get('/portal/').get_data(
                as_text=True))

    def test_api(self):
        """The JSON of D1: its assessment and targets as the records say;
        the OpenAPI document describes them"""
        w = self.world
        result = self.result(w.d1)
        client = self.client('d1@example.com', api=True)
        status, body = client.api('GET', API + '/assessment')
        self.assertEqual(status, 200, body)
        values = body['assessment']
        self.assertEqual((D(values['score']), values['grade'],
                values['rank_tier'], values['tier_count'],
                values['next_grade'], D(values['points_missing'])),
            (result.score, result.grade, result.rank_tier,
                result.tier_count, 'A', D('7.50')))
        self.assertEqual(values['distributor']['id'], w.d1)
        def number(value):
            return D(value) if value is not None else None
        self.assertEqual({k['kpi']: (number(k['value']), number(k['score']),
                    number(k['weight'])) for k in values['kpis']},
            {c: v[:3] for c, v in result.kpis.items()})
        self.assertEqual(values['improve'], ['sales_attainment'])
        status, body = client.api('GET', API + '/targets')
        self.assertEqual(status, 200, body)
        targets = {t['id']: t for t in body['items']}
        self.assertEqual(set(targets), {w.targets[0], w.targets[2]})
        self.assertEqual((targets[w.targets[0]]['actual_amount'],
                targets[w.targets[0]]['attainment']), ('300.00', '75.00'))
        self.assertEqual((targets[w.targets[2]]['actual_quantity'],
                targets[w.targets[2]]['attainment']), (30.0, '150.00'))
        # a body or a query names no party
        status, other = client.api('GET',
            f'{API}/targets?party={w.d2}')
        self.assertEqual(other, body)
        document = self.client().get(API + '/openapi.json').get_json()
        for path in ['/assessment', '/targets']:
            self.assertIn(API + path, document['paths'])
