# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The exports of the analyses (export.py) parsed back: the receivables
analysis (distributor.account.aging, a table_query model with a context
model and rep rules) exported by the manager with filters (printed with
the records' names), its totals equal to the model's; a rep's export holds
its rows only; the limits refused, counted first; the wizard answers a
file.  The sell-in by territory (distributor_report's analysis, its
context distributor.report.context) exported with its filters, the rows
and totals those of the model; the wizard bound to every analysis and
ranking, refused elsewhere"""
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import openpyxl
import pypdf

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting
from distributor_assessment import output
from distributor_assessment.tests.test_kpi import receivable
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from .. import export
from ..exceptions import ExportError
from .test_analysis import sale

D = Decimal
MODEL = 'distributor.account.aging'
TERRITORY = 'distributor.report.sell_in.territory'
# the sell-in of the first quarter of 2025 (and one sale outside it)
PERIOD = {'from_date': dt.date(2025, 1, 1), 'to_date': dt.date(2025, 3, 31)}


def _user(login):
    user, = Pool().get('res.user').search([('login', '=', login)])
    return user


class ExportTestCase(PortalTestCase):
    "Excel and PDF exports of an analysis, with its filters, per role"
    modules = ['distributor_report']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            receivable(Party(world.d1), D('120.50'), today,
                today - dt.timedelta(days=40))
            receivable(Party(world.d1), D('30.00'), today)
            receivable(Party(world.d2), D('75.25'), today,
                today - dt.timedelta(days=10))
            p1, p2 = world.products.p1, world.products.p2
            sale(world.d1, dt.date(2025, 1, 10), [(p1, 10, '10.50')])
            sale(world.d1, dt.date(2025, 2, 15), [(p2, 5, 20)])
            sale(world.d2, dt.date(2025, 1, 20), [(p1, 30, 10)])
            sale(world.d3, dt.date(2025, 3, 25), [(p1, 5, '12.25')])
            sale(world.d4, dt.date(2025, 3, 1), [(p2, 20, 20)])
            sale(world.d1, dt.date(2024, 12, 31), [(p1, 99, 10)])
        return SimpleNamespace(**vars(world), today=today)

    def _context(self):
        return {'company': self.world.company, 'date': self.world.today}

    def _export(self, login, format_, **context):
        def run():
            with acting(_user(login), **self._context(), **context):
                return export.export_analysis(MODEL, format_)
        return self.read(run)

    def _model_rows(self, login, **context):
        "{party name: total} of the model as login"
        def run():
            Aging = Pool().get(MODEL)
            with acting(_user(login), **self._context(), **context):
                return {r.party.name: r.total for r in Aging.search([])}
        return self.read(run)

    def _sheet(self, content, first='Distributor'):
        sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows)
            if r[0] == first)
        return sheet, rows, header

    def test_xlsx_manager(self):
        "The manager's workbook: filters by name, typed rows, totals"
        expected = self._model_rows('manager')
        self.assertGreaterEqual(len(expected), 2)
        filename, content = self._export('manager', 'xlsx')
        self.assertTrue(filename.endswith('.xlsx'))
        sheet, rows, header = self._sheet(content)
        filters = [r[0] for r in rows[1:header] if r[0]]
        self.assertIn(f'Date: {self.world.today.isoformat()}', filters)
        self.assertTrue(any(f.startswith('Company: ') and not
                f.endswith(str(self.world.company)) for f in filters))
        names = rows[header]
        total = names.index('Total Open')
        data = {r[0]: r for r in rows[header + 1:]}
        self.assertEqual(set(data), set(expected))
        for name, value in expected.items():
            self.assertEqual(
                D(str(data[name][total])).quantize(D('0.01')), value)
        self.assertEqual(sum(D(str(r[total])) for r in data.values()),
            sum(expected.values()))
        self.assertEqual(sheet.freeze_panes, f'A{header + 2}')
        cell = sheet.cell(header + 2, total + 1)
        self.assertEqual(cell.number_format, '#,##0.00')
        self.assertTrue(sheet.auto_filter.ref)

    def test_filtered(self):
        "A territory filter: printed by name, rows narrowed"
        def territory():
            Party = Pool().get('party.party')
            party = Party(self.world.d1)
            return party.territories[0].id, party.territories[0].rec_name
        territory_id, name = self.read(territory)
        expected = self._model_rows('manager', territory=territory_id)
        _, content = self._export('manager', 'xlsx', territory=territory_id)
        _, rows, header = self._sheet(content)
        self.assertIn(f'Territory: {name}',
            [r[0] for r in rows[1:header]])
        self.assertEqual({r[0] for r in rows[header + 1:]}, set(expected))

    def test_rep(self):
        "A rep exports its territories' rows only"
        everything = self._model_rows('manager')
        own = self._model_rows('rep')
        self.assertTrue(own)
        self.assertLess(len(own), len(everything))
        _, content = self._export('rep', 'xlsx')
        _, rows, header = self._sheet(content)
        self.assertEqual({r[0] for r in rows[header + 1:]}, set(own))

    def test_pdf(self):
        "The PDF: title, filters, rows"
        expected = self._model_rows('manager')
        filename, content = self._export('manager', 'pdf')
        self.assertTrue(filename.endswith('.pdf'))
        text = '\n'.join(p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(content)).pages)
        self.assertIn(f'Date: {self.world.today.isoformat()}', text)
        for name, total in expected.items():
            self.assertIn(name, text)
            self.assertIn(f'{total:,}', text)

    def test_limits(self):
        "Beyond the limits: refused after counting, the limit stated"
        with mock.patch.object(output, 'MAX_PDF_ROWS', 1):
            with self.assertRaises(ExportError) as error:
                self._export('manager', 'pdf')
        self.assertIn('at most 1 rows', error.exception.message)
        with mock.patch.object(output, 'MAX_XLSX_ROWS', 1):
            with self.assertRaises(ExportError):
                self._export('manager', 'xlsx')
        with self.assertRaises(ExportError):
            self._export('manager', 'csv')

    # the sell-in by territory (distributor_report's analysis) ----------

    def _territory_filter(self):
        """D1's territory: (id, name, the distributors of the world in it
        or below it)"""
        def run():
            Party = Pool().get('party.party')
            territory = Party(self.world.d1).territories[0]
            inside = Party.search([
                    ('territories', 'child_of', [territory.id], 'parent'),
                    ])
            return territory.id, territory.rec_name, {p.id for p in inside}
        return self.read(run)

    def test_sell_in_territory(self):
        """The manager's sell-in by territory with its filters: printed by
        name (those of the analysis only), rows and totals the model's"""
        territory, name, inside = self._territory_filter()
        context = dict(PERIOD, company=self.world.company, period='month',
            date=self.world.today, territory=territory,
            context_model='distributor.report.context')

        def model():
            Model = Pool().get(TERRITORY)
            with acting(_user('manager'), **context):
                return Model.__names__()['model'], {
                    r.territory.rec_name: (r.amount, r.number)
                    for r in Model.search([])}

        def run():
            with acting(_user('manager'), **context):
                return export.export_analysis(TERRITORY, 'xlsx')
        title, expected = self.read(model)
        # the filter's territory: the sell-in of the period of the
        # distributors in it or below it (D1 10 × 10.50 + 5 × 20 in two
        # orders, D3 5 × 12.25; D2 and D4 lie elsewhere)
        w = self.world
        self.assertIn(w.d1, inside)
        self.assertNotIn(w.d2, inside)
        by_hand = {w.d1: (D('205.00'), 2), w.d2: (D('300.00'), 1),
            w.d3: (D('61.25'), 1), w.d4: (D('400.00'), 1)}
        self.assertEqual(expected[name], (
                sum(by_hand[d][0] for d in inside if d in by_hand),
                sum(by_hand[d][1] for d in inside if d in by_hand)))
        filename, content = self.read(run)
        self.assertTrue(filename.endswith(
                f'_{self.world.today.isoformat()}.xlsx'), filename)
        self.assertIn('sell_in', filename)
        sheet, rows, header = self._sheet(content, 'Territory')
        self.assertEqual(rows[0][0], title)
        filters = [r[0] for r in rows[1:header] if r[0]]
        self.assertIn(f'Territory: {name}', filters)
        self.assertIn('From Date: 2025-01-01', filters)
        self.assertIn('To Date: 2025-03-31', filters)
        self.assertTrue(any(f.startswith('Company: ') for f in filters))
        # the stock date and the period are not this analysis's filters
        self.assertFalse([f for f in filters
                if f.startswith(('Stock Date', 'Period'))], filters)
        names = list(rows[header])
        self.assertNotIn('Amount Trend', names)
        column, orders = names.index('Amount'), names.index('Orders')
        data = {r[0]: r for r in rows[header + 1:]}
        self.assertEqual(set(data), set(expected))
        for key, (value, number) in expected.items():
            self.assertEqual(
                D(str(data[key][column])).quantize(D('0.01')), value)
            self.assertEqual(data[key][orders], number)
        self.assertEqual(
            sum(D(str(r[column])) for r in data.values()).quantize(
                D('0.01')),
            sum(v for v, _ in expected.values()))
        cell = sheet.cell(header + 2, column + 1)
        self.assertEqual(cell.number_format, '#,##0.00')
        # the PDF of the same: the filters and every row
        def pdf():
            with acting(_user('manager'), **context):
                return export.export_analysis(TERRITORY, 'pdf')
        _, content = self.read(pdf)
        text = '\n'.join(p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(content)).pages)
        self.assertIn(f'Territory: {name}', text)
        for key, (value, _) in expected.items():
            self.assertIn(key, text)
            self.assertIn(f'{value:,}', text)

    def test_bound_everywhere(self):
        """The wizard is offered on every analysis and ranking of the
        module (a form_action keyword each), on none of the contexts"""
        def run():
            pool = Pool()
            ActWindow = pool.get('ir.action.act_window')
            Keyword = pool.get('ir.action.keyword')
            ModelData = pool.get('ir.model.data')
            Wizard = pool.get('ir.action.wizard')
            wizard = Wizard(ModelData.get_id(
                    'distributor_report', 'wizard_export'))
            models = {a.res_model for a in ActWindow.search([
                        ('res_model', 'like', 'distributor.report.%'),
                        ('context_model', 'in', [
                                'distributor.report.context',
                                'distributor.report.ranking.context']),
                        ])}
            bound = {k.model.split(',')[0] for k in Keyword.search([
                        ('keyword', '=', 'form_action'),
                        ('action', '=', wizard.action.id),
                        ])}
            with acting(_user('manager')):
                toolbar = pool.get(TERRITORY).view_toolbar_get()
            return models, bound, [a['name'] for a in toolbar['action']]
        models, bound, toolbar = self.read(run)
        self.assertGreaterEqual(len(models), 30)
        self.assertEqual(models - bound, set())
        self.assertIn('Export to Excel / PDF', toolbar)

    def test_wizard_sell_in(self):
        """The wizard from the sell-in by territory as sao launches it
        (the screen's filters and context model in the context): the
        filters by name, a workbook; refused on a model it is not bound
        to"""
        territory, name, _ = self._territory_filter()

        def run(model):
            pool = Pool()
            Export = pool.get('distributor.report.export', type='wizard')
            with acting(_user('manager'), active_model=model,
                    active_ids=[], company=self.world.company,
                    territory=territory, period='month',
                    date=self.world.today, **PERIOD,
                    context_model='distributor.report.context'):
                session_id, _, _ = Export.create()
                try:
                    start = Export.execute(session_id, {}, 'start')
                    values = start['view']['defaults']
                    result = Export.execute(session_id, {'start': {
                                'format': 'xlsx', 'rows': values['rows'],
                                'filters': values['filters']}}, 'result')
                finally:
                    Export.delete(session_id)
            return values, result['view']['defaults']
        start, result = self.write(lambda: run(TERRITORY))
        self.assertGreaterEqual(start['rows'], 3)
        self.assertIn(f'Territory: {name}', start['filters'])
        self.assertNotIn('Stock Date', start['filters'])
        _, rows, header = self._sheet(bytes(result['file']), 'Territory')
        self.assertIn(name, [r[0] for r in rows[header + 1:]])
        for model in ['party.party', 'distributor.target']:
            with self.subTest(model=model):
                with self.assertRaises(ExportError):
                    self.write(lambda: run(model))  # noqa: B023

    def test_wizard(self):
        "The wizard from the analysis: rows counted, a file answered"
        def run():
            pool = Pool()
            Export = pool.get('distributor.report.export', type='wizard')
            with acting(_user('manager'), active_model=MODEL,
                    active_ids=[], **self._context()):
                session_id, _, _ = Export.create()
                start = Export.execute(session_id, {}, 'start')
                values = start['view']['defaults']
                result = Export.execute(session_id, {'start': {
                            'format': 'xlsx', 'rows': values['rows'],
                            'filters': values['filters']}}, 'result')
                Export.delete(session_id)
            return values, result['view']['defaults']
        start, result = self.write(run)
        self.assertGreaterEqual(start['rows'], 2)
        self.assertIn('Date:', start['filters'])
        self.assertTrue(result['filename'].endswith('.xlsx'))
        openpyxl.load_workbook(io.BytesIO(bytes(result['file'])))
