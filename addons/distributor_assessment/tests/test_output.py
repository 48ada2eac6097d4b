# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The shared exporters (output.py) parsed back: the workbook's typed
cells, number formats, frozen header, autofilter, filters on top and chart
sheet (openpyxl); the PDF's text (pypdf); the limits refused with the
translated message; the reports of a run as the manager and as a rep (its
territories' results only), refused outside the groups"""
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import openpyxl
import pypdf

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from .. import output
from .test_kpi import sell_in

D = Decimal
COLUMNS = [
    output.Column('Name', 'text', 20),
    output.Column('Quantity', 'integer', 8),
    output.Column('Amount', 'amount', 12),
    output.Column('Share', 'percent', 8),
    output.Column('Date', 'date', 11),
    output.Column(('得分', 'Score'), 'number', 9),
    ]
ROWS = [('经销商 %d' % i, i, D('12.50') * i, D('12.5'), dt.date(2025, 1, i),
        D('1.25') if i % 2 else None) for i in range(1, 21)]
FILTERS = [('From', dt.date(2025, 1, 1)), ('Territory', 'East 华东'),
    ('Tiers', ['A', 'B'])]


def _user(login):
    user, = Pool().get('res.user').search([('login', '=', login)])
    return user


class OutputTestCase(PortalTestCase):
    "The Excel and PDF exporters and the reports of an assessment run"
    modules = ['distributor_assessment']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Kpi = pool.get('distributor.assessment.kpi')
        Template = pool.get('distributor.assessment.template')
        Run = pool.get('distributor.assessment.run')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            year = today.year - 1
            d1 = Party(world.d1)
            Party.write([d1], {'credit_limit_amount': D(1000000)})
            p1 = Product(world.products.p1)
            sell_in(d1, [(p1, 100, '2.00')], dt.date(year, 2, 1))
            sell_in(d1, [(p1, 30, '5.00')], dt.date(year - 1, 2, 1))
            growth, = Kpi.search([('code', '=', 'sales_growth')])
            incidents, = Kpi.search([('code', '=', 'incidents')])
            template, = Template.create([{
                        'name': "Quarter",
                        'grade_a': D(90), 'grade_b': D(75),
                        'grade_c': D(60),
                        'lines': [('create', [{
                                        'kpi': growth.id, 'weight': D(60),
                                        'scoring': 'linear',
                                        'zero_at': D(0), 'full_at': D(50),
                                        }, {
                                        'kpi': incidents.id,
                                        'weight': D(40),
                                        'scoring': 'penalty',
                                        'penalty_points': D(10),
                                        }])],
                        }])
            run, = Run.create([{
                        'company': world.company,
                        'start_date': dt.date(year, 1, 1),
                        'end_date': dt.date(year, 3, 31),
                        'template': template.id,
                        }])
            Run._computing([run])
            Run.process([run])
            return SimpleNamespace(**vars(world), run=run.id,
                kpis=[growth.id, incidents.id])

    def _execute(self, report, login):
        def run():
            Report = Pool().get(report, type='report')
            with acting(_user(login)):
                oext, content, _, _ = Report.execute([self.world.run], {})
            return oext, bytes(content)
        return self.read(run)

    def _results(self):
        "{distributor name: (score, grade, rank, {kpi: score})} as root"
        def read():
            Result = Pool().get('distributor.assessment.result')
            return {r.distributor.name: (r.score, r.grade, r.rank,
                    {k.kpi.id: k.score for k in r.kpis})
                for r in Result.search([('run', '=', self.world.run)])}
        return self.read(read)

    def _offline(self):
        "The exporters with a transaction (translated messages)"
        return Transaction().start(self.world_db(), 0, readonly=True)

    @staticmethod
    def world_db():
        from trytond.tests.test_tryton import DB_NAME
        return DB_NAME

    def test_xlsx_export(self):
        "A workbook: title, filters, typed cells, frozen header, chart"
        with self._offline():
            content = output.xlsx_export("销售 Sales", FILTERS, COLUMNS,
                iter(ROWS), chart={'type': 'column', 'title': 'Amounts',
                    'category': 0, 'value': 2})
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(len(workbook.chartsheets), 1)
        sheet = workbook.worksheets[0]
        self.assertEqual(sheet['A1'].value, "销售 Sales")
        self.assertEqual(sheet['A2'].value, "From: 2025-01-01")
        self.assertEqual(sheet['A3'].value, "Territory: East 华东")
        self.assertEqual(sheet['A4'].value, "Tiers: A, B")
        self.assertEqual([c.value for c in sheet[6]],
            ['Name', 'Quantity', 'Amount', 'Share', 'Date', '得分\nScore'])
        self.assertEqual(sheet.freeze_panes, 'A7')
        self.assertEqual(sheet.auto_filter.ref, 'A6:F26')
        first = sheet[7]
        self.assertEqual(first[0].value, '经销商 1')
        self.assertEqual((first[1].value, first[1].number_format),
            (1, '#,##0'))
        self.assertEqual((first[2].value, first[2].number_format),
            (12.5, '#,##0.00'))
        self.assertEqual((first[3].value, first[3].number_format),
            (0.125, '0.00%'))
        self.assertEqual(first[4].value, dt.datetime(2025, 1, 1))
        self.assertEqual(first[4].number_format, 'yyyy-mm-dd')
        self.assertEqual(first[5].value, 1.25)
        self.assertIsNone(sheet[8][5].value)
        total = sum(sheet.cell(r, 3).value for r in range(7, 27))
        self.assertEqual(D(str(total)), sum(r[2] for r in ROWS))

    def test_pdf_export(self):
        "A PDF: title, filters, headers, rows, page numbers"
        with self._offline():
            content = output.pdf_export("销售 Sales", FILTERS, COLUMNS,
                iter(ROWS))
        text = '\n'.join(p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(content)).pages)
        self.assertIn("销售 Sales", text)
        self.assertIn("Territory: East 华东", text)
        self.assertIn("得分", text)
        self.assertIn("经销商 20 20 250.00 12.50 % 2025-01-20", text)
        self.assertIn("Page 1 / 1", text)

    def test_limits(self):
        "Beyond the limits: refused with the translated limit, counted"
        with self._offline():
            with mock.patch.object(output, 'MAX_XLSX_ROWS', 10):
                with self.assertRaises(output.ExportError) as error:
                    output.xlsx_export('T', [], COLUMNS, iter(ROWS))
                self.assertIn('10', error.exception.message)
                self.assertIn('Excel', error.exception.message)
                with self.assertRaises(output.ExportError) as error:
                    output.xlsx_export('T', [], COLUMNS, iter([]),
                        count=1_000_001)
                self.assertIn('1,000,001', error.exception.message)
            with mock.patch.object(output, 'MAX_PDF_ROWS', 5):
                with self.assertRaises(output.ExportError) as error:
                    output.pdf_export('T', [], COLUMNS, iter(ROWS))
                self.assertIn('5', error.exception.message)
                self.assertIn('PDF', error.exception.message)
            with Transaction().set_context(language='en'):
                with self.assertRaises(output.ExportError) as error:
                    output.pdf_export('T', [], COLUMNS, iter([]),
                        count=5_001)
            self.assertIn('5,000', error.exception.message)

    def test_run_xlsx(self):
        "The run's workbook as the manager: every result, KPI columns"
        results = self._results()
        self.assertGreaterEqual(len(results), 2)
        oext, content = self._execute(
            'distributor.assessment.run.xlsx', 'manager')
        self.assertEqual(oext, 'xlsx')
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(len(workbook.chartsheets), 1)
        sheet = workbook.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r[0] == 'Rank')
        self.assertTrue(any(str(r[0]).startswith('Period: ')
                for r in rows[:header]))
        self.assertTrue(any(str(r[0]).startswith('Template: Quarter')
                for r in rows[:header]))
        names = rows[header]
        score = names.index('Score')
        grade = names.index('Grade')
        self.assertIn('Sales Growth', names)
        growth = names.index('Sales Growth')
        data = {r[2]: r for r in rows[header + 1:]}
        self.assertEqual(set(data), set(results))
        for name, (value, letter, rank, kpis) in results.items():
            row = data[name]
            self.assertEqual(D(str(row[score])).quantize(D('0.01')), value)
            self.assertEqual(row[grade], letter)
            self.assertEqual(row[0], rank)
            expected = kpis.get(self.world.kpis[0])
            self.assertEqual(row[growth] if row[growth] is None
                else D(str(row[growth])).quantize(D('0.01')), expected)
        self.assertEqual(sheet.freeze_panes, f'A{header + 2}')
        # the grade distribution counts the results
        grades = workbook.worksheets[1]
        counts = {r[0]: r[1] for r in grades.iter_rows(min_row=2,
                values_only=True)}
        for letter in 'ABCD':
            self.assertEqual(counts[letter], sum(1 for v in results.values()
                    if v[1] == letter))

    def test_run_pdf(self):
        "The run's PDF as the manager"
        results = self._results()
        oext, content = self._execute(
            'distributor.assessment.run.pdf', 'manager')
        self.assertEqual(oext, 'pdf')
        text = '\n'.join(p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(content)).pages)
        self.assertIn('Assessment Results', text)
        for name in results:
            self.assertIn(name, text)

    def test_run_rep(self):
        "A rep's workbook holds its territories' results only"
        results = self._results()

        def reachable():
            Result = Pool().get('distributor.assessment.result')
            with acting(_user('rep')):
                return {r.distributor.name for r in Result.search(
                        [('run', '=', self.world.run)])}
        own = self.read(reachable)
        self.assertTrue(own)
        self.assertLess(len(own), len(results))
        oext, content = self._execute(
            'distributor.assessment.run.xlsx', 'rep')
        sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r[0] == 'Rank')
        self.assertEqual({r[2] for r in rows[header + 1:]}, own)

    def test_run_refused(self):
        "A staff user outside the report's groups is refused"
        for report in ['distributor.assessment.run.xlsx',
                'distributor.assessment.run.pdf']:
            with self.subTest(report=report):
                with self.assertRaises(AccessError):
                    self._execute(report, 'plain')
