# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The outputs of the statements of account, parsed back: the PDF's text
(pypdf) and the workbook's typed cells (openpyxl) carry the statement's
stored numbers and every line; several statements make several pages and
sheets; the letterhead is the issuer's; the reports run for the groups of
their actions only, the helpers for code that checked the caller"""
import base64
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pypdf

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.tests.tools import acting
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from .. import output

D = Decimal
# a 40 × 20 red PNG: the logo of the configuration
LOGO = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAACgAAAAUCAIAAABwJOjsAAAAJ0lEQVR4nGM8ISfHMBCA'
    'aUBsHbV41OJRi0ctHrV41OJRi0ctHhAAAF+MASwoT9QRAAAAAElFTkSuQmCC')
LETTERHEAD = "开户行 Bank: ICBC 6222 0000 1111\nPay to: Brand Co."


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _invoice(party, lines, date):
    "A posted customer invoice of lines [(product, quantity, price)]"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Product = pool.get('product.product')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    Journal = pool.get('account.journal')
    company = Company(Transaction().context['company'])
    party = Party(party)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    invoice = Invoice(type='out', party=party, invoice_date=date,
        company=company, currency=company.currency,
        account=party.account_receivable_used,
        invoice_address=party.address_get(type='invoice'),
        journal=journal, payment_term=None)
    invoice_lines = []
    for product, quantity, price in lines:
        product = Product(product)
        line = Line(invoice=invoice, type='line', product=product,
            quantity=quantity, unit=product.default_uom,
            unit_price=D(price), taxes=[], company=company,
            currency=company.currency)
        line.account = product.account_revenue_used
        invoice_lines.append(line)
    invoice.lines = invoice_lines
    invoice.save()
    Invoice.post([invoice])
    return invoice


def _cash_move(party, account, amount, date, description):
    "A posted cash receipt of the party credited to account"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    Period = pool.get('account.period')
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(cash.company, date=date),
                'date': date,
                'description': description,
                'lines': [('create', [{
                                'account': cash.id,
                                'debit': amount, 'credit': D(0),
                                }, {
                                'account': account.id, 'party': party.id,
                                'debit': D(0), 'credit': amount,
                                }])],
                }])
    Move.post([move])
    return move


def _money(value):
    return f'{D(value).quantize(D("0.01")):,}'


class OutputTestCase(PortalTestCase):
    "The PDF and Excel outputs of statements"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Configuration = pool.get('distributor.configuration')
        Party = pool.get('party.party')
        Statement = pool.get('distributor.account.statement')
        Date = pool.get('ir.date')
        p = world.products
        with Transaction().set_context(company=world.company):
            today = Date.today()
            start = today.replace(day=1)
            config = Configuration(1)
            config.statement_letterhead = LETTERHEAD
            config.statement_logo = LOGO
            config.save()
            d1, d2 = Party(world.d1), Party(world.d2)
            Party.write([d1, d2], {'credit_limit_amount': D(100000)})
            _invoice(d1, [(p.p1, 12, '10.25'), (p.p2, 3, 20)], today)
            _invoice(d1, [(p.p1, 40, 10)], today)
            _invoice(d2, [(p.p1, 7, 10)], today)
            _cash_move(d1, d1.account_receivable_used, D('150.75'), today,
                "Bank transfer 对账")
            deposit, = Account.search([('code', '=', '2203')], limit=1)
            _cash_move(d1, deposit, D(300), today, "Deposit")
            statements, _ = Statement.generate(
                'distributor', [d1, d2], start, today)
            st1, st2 = sorted(statements,
                key=lambda s: s.party.id != d1.id)
            # d1's statement confirmed by d1's portal account
            Statement.send([st1])
            identity = _identity(world, 'd1@example.com')
            with Transaction().set_user(identity.id):
                Statement.dms_confirm_statement(d1.id, st1.id)
            store, _ = Statement.generate('store', [Party(world.s1)],
                start, today, issuer=d1)
            return SimpleNamespace(**vars(world), st1=st1.id, st2=st2.id,
                store=store[0].id if store else None, start=start,
                today=today)

    def _values(self, statement_id):
        "The statement's stored figures and lines, as root"
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        Line = pool.get('distributor.account.statement.line')
        statement = Statement(statement_id)
        lines = Line.search([('statement', '=', statement_id)],
            order=[('sequence', 'ASC')])
        return SimpleNamespace(
            number=statement.number, party=statement.party.name,
            opening=statement.opening_balance,
            debit=statement.total_debit, credit=statement.total_credit,
            closing=statement.closing_balance,
            settled=statement.settled_amount, open=statement.open_amount,
            lines=[SimpleNamespace(date=l.date, number=l.number or '',
                    debit=l.debit, credit=l.credit, balance=l.balance,
                    maturity_date=l.maturity_date,
                    reconciled=l.reconciled, disputed=l.disputed)
                for l in lines])

    def _execute(self, report, ids, login, client=False):
        """The report run as login, access checked: (extension, content);
        client: with the action and model as the client sends them"""
        def run():
            pool = Pool()
            Report = pool.get(report, type='report')
            ActionReport = pool.get('ir.action.report')
            data = {}
            if client:
                action, = ActionReport.search(
                    [('report_name', '=', report)])
                data = {'action_id': action.id, 'model': action.model}
            with acting(_user(login)):
                oext, content, _, name = Report.execute(ids, data)
            return oext, bytes(content)
        return self.read(run)

    def _pdf_pages(self, content):
        reader = pypdf.PdfReader(io.BytesIO(content))
        return reader, [page.extract_text() for page in reader.pages]

    def test_pdf(self):
        "The PDF as the accountant: one statement per page run, numbers"
        w = self.world
        values = self.read(
            lambda: [self._values(w.st1), self._values(w.st2)])
        oext, content = self._execute(
            'distributor.account.statement.pdf', [w.st1, w.st2],
            'accountant', client=True)
        self.assertEqual(oext, 'pdf')
        self.assertTrue(content.startswith(b'%PDF'))
        reader, pages = self._pdf_pages(content)
        # each statement starts a page and numbers its own pages
        self.assertEqual(len(reader.outline), 2)
        for value in values:
            own = [t for t in pages if value.number in t]
            self.assertTrue(own, value.number)
            text = '\n'.join(own)
            self.assertIn("对账单", text)
            self.assertIn("Statement of Account", text)
            self.assertIn("日期", text)
            self.assertIn(value.party, text)
            self.assertIn(f'{w.start.isoformat()} – {w.today.isoformat()}',
                text)
            for amount in [value.opening, value.debit, value.credit,
                    value.closing, value.settled, value.open]:
                self.assertIn(_money(amount), text)
            self.assertTrue(value.lines)
            for line in value.lines:
                self.assertIn(line.number, text)
                for amount in [line.debit, line.credit, line.balance]:
                    self.assertIn(_money(amount), text)
            self.assertIn(f'第 1 / {len(own)} 页', own[0])
            # the brand's letterhead
            self.assertIn("开户行 Bank: ICBC 6222 0000 1111", text)
        first = values[0]
        # the figures of d1: 12 × 10.25 + 3 × 20 = 183, 400; paid 150.75;
        # a deposit of 300
        amounts = {(l.debit, l.credit) for l in first.lines}
        self.assertTrue({(D('183.00'), D(0)), (D('400.00'), D(0)),
                (D(0), D('150.75')), (D(0), D('300.00'))} <= amounts)
        self.assertEqual(first.lines[-1].balance, first.closing)
        self.assertEqual(first.opening + first.debit - first.credit,
            first.closing)
        d1_text = '\n'.join(t for t in pages if first.number in t)
        self.assertIn("确认人 Confirmed by", d1_text)
        d2_text = '\n'.join(t for t in pages if values[1].number in t)
        self.assertIn("未确认 Not confirmed", d2_text)
        # the logo is in the PDF (an image on the first page)
        self.assertTrue(list(reader.pages[0].images))

    def test_xlsx(self):
        "The workbook as the accountant: a sheet per statement, typed"
        w = self.world
        values = self.read(
            lambda: [self._values(w.st1), self._values(w.st2)])
        oext, content = self._execute(
            'distributor.account.statement.xlsx', [w.st1, w.st2],
            'accountant')
        self.assertEqual(oext, 'xlsx')
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(workbook.sheetnames, [v.number for v in values])
        for value, sheet in zip(values, workbook.worksheets):
            rows = list(sheet.iter_rows())
            header = next(i for i, r in enumerate(rows)
                if isinstance(r[0].value, str)
                and r[0].value.startswith("日期"))
            self.assertEqual(rows[header][0].value, "日期\nDate")
            self.assertEqual(rows[header][8].value, "余额\nBalance")
            # frozen below the column headers
            self.assertEqual(sheet.freeze_panes, f'A{header + 2}')
            self.assertGreater(sheet.column_dimensions['E'].width, 20)
            opening = rows[header + 1]
            self.assertEqual(opening[0].value.date(), w.start)
            self.assertEqual(D(str(opening[8].value)), value.opening)
            balance = value.opening
            for line, row in zip(value.lines, rows[header + 2:]):
                self.assertIsInstance(row[0].value, dt.datetime)
                self.assertEqual(row[0].value.date(), line.date)
                self.assertEqual(row[2].value or '', line.number)
                if line.maturity_date:
                    self.assertEqual(row[5].value.date(), line.maturity_date)
                for cell, amount in zip(row[6:9],
                        [line.debit, line.credit, line.balance]):
                    self.assertIsInstance(cell.value, (int, float))
                    self.assertEqual(cell.number_format, '#,##0.00')
                    self.assertEqual(
                        D(str(cell.value)).quantize(D('0.01')), amount)
                self.assertIs(row[9].value, bool(line.reconciled))
                self.assertIs(row[10].value, bool(line.disputed))
                balance += line.debit - line.credit
                self.assertEqual(line.balance, balance)
            end = header + 2 + len(value.lines)
            totals, closing = rows[end], rows[end + 1]
            self.assertEqual(D(str(totals[6].value)).quantize(D('0.01')),
                value.debit)
            self.assertEqual(D(str(totals[7].value)).quantize(D('0.01')),
                value.credit)
            self.assertEqual(closing[0].value.date(), w.today)
            self.assertEqual(D(str(closing[8].value)).quantize(D('0.01')),
                value.closing)
            # the running balance ends at the closing balance
            self.assertEqual(balance, value.closing)
            texts = {c.value: c for r in rows for c in r
                if isinstance(c.value, str)}
            self.assertIn(value.party, texts)
            settled = texts["已结算 Settled:"]
            self.assertEqual(D(str(sheet.cell(settled.row,
                            settled.column + 2).value)), value.settled)
            opened = texts["未结算 Open:"]
            self.assertEqual(D(str(sheet.cell(opened.row,
                            opened.column + 2).value)), value.open)
            # the logo
            self.assertEqual(len(sheet._images), 1)

    def test_refused(self):
        "A staff user outside the groups of the reports is refused"
        w = self.world
        for report in ['distributor.account.statement.pdf',
                'distributor.account.statement.xlsx']:
            for client in [False, True]:
                with self.subTest(report=report, client=client):
                    with self.assertRaises(AccessError):
                        self._execute(report, [w.st1], 'plain', client)

    def test_rep(self):
        "A rep prints the statements of its territories, not the others"
        w = self.world
        oext, content = self._execute(
            'distributor.account.statement.xlsx', [w.st1], 'rep')
        self.assertEqual(oext, 'xlsx')
        with self.assertRaises(AccessError):
            self._execute('distributor.account.statement.xlsx', [w.st2],
                'rep')

    def test_helpers_portal(self):
        """The helpers run for a portal account (after the portal's own
        check) and answer the same outputs; the store statement's
        letterhead is its distributor's"""
        w = self.world
        ids = [i for i in [w.st1, w.store] if i]

        def run():
            values = [self._values(i) for i in ids]
            identity = _identity(w, 'd1@example.com')
            with acting(identity):
                pdf = output.statement_pdf(ids)
                xlsx = output.statement_xlsx(ids)
            return values, pdf, xlsx, Pool().get('party.party')(w.d1).name
        values, pdf, xlsx, d1_name = self.read(run)
        reader, pages = self._pdf_pages(pdf)
        workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
        self.assertEqual(workbook.sheetnames, [v.number for v in values])
        text = '\n'.join(pages)
        self.assertIn(_money(values[0].closing), text)
        if w.store:
            store_pages = [t for t in pages if values[1].number in t]
            self.assertTrue(store_pages)
            store_text = '\n'.join(store_pages)
            # issued by d1: its name heads the page, not the brand's bank
            self.assertTrue(store_text.lstrip().startswith(d1_name))
            self.assertNotIn("ICBC", store_text)

    def test_sheet_names(self):
        "Sheet names: Excel's forbidden characters replaced, ≤ 31, unique"
        used = set()
        names = [output._sheet_name(n, used) for n in [
                'ST/2024:01', 'ST-2024-01', 'x' * 40, 'x' * 40, '']]
        self.assertEqual(names[0], 'ST-2024-01')
        self.assertEqual(names[1], 'ST-2024-01 (2)')
        self.assertEqual(len(names[2]), 31)
        self.assertEqual(len(names[3]), 31)
        self.assertNotEqual(names[2], names[3])
        self.assertEqual(names[4], 'Statement')
        self.assertEqual(len(set(names)), 5)
