# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The Chinese charts of accounts: chart.xml generated from chart.py's
tables and up to date, the 66 level-1 accounts of 小企业会计准则, the
chart created on a fresh company in Chinese and in English (and the
企业会计准则 one) with the defaults set, the type tree's flags, an invoice
posted to 1122 and a deposit on 2203 consumed by an invoice, a second
chart or an unknown one refused with nothing written"""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.account.tests import get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from ..chart import (
    ACCOUNTS, LANGUAGES, ROLES, SMALL, TEMPLATES, XML_PATH, check_tables,
    create_chart, generate_xml, get_account, template_of)
from ..exceptions import ChartError

D = Decimal
# 小企业会计准则 (财会〔2011〕17号) 附录 会计科目: the 66 level-1 codes
SMALL_CODES = '''
    1001 1002 1012 1101 1121 1122 1123 1131 1132 1221 1401 1402 1403 1404
    1405 1407 1408 1411 1421 1501 1511 1601 1602 1604 1605 1606 1621 1622
    1701 1702 1801 1901
    2001 2201 2202 2203 2211 2221 2231 2232 2241 2401 2501 2701
    3001 3002 3101 3103 3104
    4001 4101 4301 4401 4403
    5001 5051 5111 5301 5401 5402 5403 5601 5602 5603 5711 5801'''.split()


def _accounts(company):
    Account = Pool().get('account.account')
    return {a.code: a for a in Account.search([
                ('company', '=', company.id), ('code', '!=', None)])}


def _company(name):
    "A new CNY company (without chart)"
    pool = Pool()
    Currency = pool.get('currency.currency')
    currency, = Currency.search([('code', '=', 'CNY')], limit=1) or (
        Currency.create([{'name': "Yuan", 'code': 'CNY', 'symbol': '¥',
                        'rounding': D('0.01'), 'digits': 2}]))
    return create_company(name, currency)


class ChartTablesTestCase(unittest.TestCase):
    "The tables and the XML generated from them"

    def test_xml_up_to_date(self):
        "chart.xml is what chart.py generates (python -m ...chart)"
        check_tables()
        self.assertEqual(XML_PATH.read_text(encoding='utf-8'),
            generate_xml(),
            "run .venv/bin/python -m distributor_account.chart")

    def test_small_level_one(self):
        "The 66 level-1 accounts of 小企业会计准则, nothing else at level 1"
        codes = [c for c, *_ in SMALL if len(c) == 4]
        self.assertEqual(codes, SMALL_CODES)
        names = {c: zh for c, _, _, zh, _ in SMALL}
        self.assertEqual(names['1122'], "应收账款")
        self.assertEqual(names['2203'], "预收账款")
        self.assertEqual(names['5001'], "主营业务收入")
        self.assertEqual(names['5403'], "税金及附加")
        general = {c: zh for c, _, _, zh, _ in ACCOUNTS['general']}
        self.assertEqual(general['6001'], "主营业务收入")
        self.assertEqual(general['6401'], "主营业务成本")
        self.assertEqual(general['6601'], "销售费用")
        self.assertEqual(general['4001'], "实收资本")


class ChartTestCase(unittest.TestCase):
    "The charts created on fresh companies"

    @classmethod
    def setUpClass(cls):
        activate_module('distributor_account')

    @with_transaction()
    def test_small_chinese(self):
        "小企业会计准则 in Chinese: codes, names, flags, types, defaults"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Type = pool.get('account.account.type')
        company = _company("测试公司")
        with set_company(company):
            root = create_chart(company)
            self.assertEqual(root.name, TEMPLATES['small'][0])
            self.assertEqual(template_of(company), 'small')
            accounts = _accounts(company)
            self.assertEqual(
                {c for c in accounts if len(c) == 4}, set(SMALL_CODES))
            receivable = accounts['1122']
            self.assertEqual(receivable.name, "应收账款")
            self.assertTrue(receivable.type.receivable)
            self.assertTrue(receivable.party_required)
            self.assertTrue(receivable.reconcile)
            payable = accounts['2202']
            self.assertEqual(payable.name, "应付账款")
            self.assertTrue(payable.type.payable)
            self.assertTrue(payable.party_required)
            deposit = accounts['2203']
            self.assertEqual(deposit.name, "预收账款")
            self.assertTrue(deposit.type.deposit)
            self.assertTrue(deposit.party_required)
            self.assertFalse(deposit.type.assets)
            revenue = accounts['5001']
            self.assertEqual(revenue.name, "主营业务收入")
            self.assertIsNone(revenue.type)  # a view: post on 500101...
            self.assertEqual([c.code for c in revenue.childs],
                ['500101', '500102'])
            for code in ['500101', '500102', '5051']:
                self.assertTrue(accounts[code].type.revenue, code)
                self.assertEqual(accounts[code].type.statement, 'income')
            for code in ['5401', '5601', '5602', '560301', '571101',
                    '5801']:
                self.assertTrue(accounts[code].type.expense, code)
            self.assertTrue(accounts['1405'].type.stock)
            self.assertEqual(get_account(company, 'rebate'),
                accounts['500102'])
            self.assertEqual(get_account(company, 'bad_debt').name,
                "坏账损失")
            # the type tree: the balance sheet and the income statement
            self.assertEqual(receivable.type.parent.name, "流动资产")
            self.assertEqual(receivable.type.parent.parent.name, "资产")
            self.assertTrue(receivable.type.parent.parent.assets)
            self.assertEqual(deposit.type.parent.parent.name, "负债")
            net, = Type.search([('company', '=', company.id),
                    ('name', '=', "净利润（利润表）")])
            self.assertEqual(net.statement, 'income')
            self.assertEqual(net.parent.name, "所有者权益")
            self.assertEqual(accounts['500101'].type.parent.name, "营业利润")
            for type_ in Type.search([('company', '=', company.id)]):
                if type_.parent and type_.parent.statement == 'balance' and (
                        type_.statement == 'balance'):
                    self.assertEqual(type_.assets, type_.parent.assets,
                        type_.name)
            config = Configuration(1)
            self.assertEqual(config.default_account_receivable, receivable)
            self.assertEqual(config.default_account_payable, payable)
            self.assertEqual(config.default_category_account_revenue,
                accounts['500101'])
            self.assertEqual(config.default_category_account_expense,
                accounts['5401'])

    @with_transaction()
    def test_english(self):
        "The English translation of 小企业会计准则"
        en = _company("Test EN")
        with set_company(en):
            root = create_chart(en, 'small', 'en')
            self.assertEqual(root.name, TEMPLATES['small'][1])
            accounts = _accounts(en)
            self.assertEqual(accounts['1122'].name, "Accounts Receivable")
            self.assertEqual(accounts['2203'].name, "Advances from Customers")
            self.assertEqual(accounts['5001'].name, "Main Business Revenue")
            self.assertEqual(accounts['1122'].type.parent.name,
                "Current Assets")
            self.assertEqual(len(accounts), len(SMALL))

    @with_transaction()
    def test_general(self):
        "企业会计准则 (6001 主营业务收入...)"
        general = _company("企业会计准则公司")
        with set_company(general):
            create_chart(general, 'general', 'zh')
            self.assertEqual(template_of(general), 'general')
            accounts = _accounts(general)
            self.assertEqual(accounts['6001'].name, "主营业务收入")
            self.assertTrue(accounts['600101'].type.revenue)
            self.assertTrue(accounts['1122'].type.receivable)
            self.assertTrue(accounts['2203'].type.deposit)
            self.assertEqual(accounts['4001'].name, "实收资本")
            for role, code in ROLES['general'].items():
                self.assertEqual(get_account(general, role).code, code)

    @with_transaction()
    def test_refused(self):
        "A second chart or an unknown one: refused, nothing written"
        pool = Pool()
        Account = pool.get('account.account')
        company = _company("重复公司")
        with set_company(company):
            with self.assertRaises(ChartError):
                create_chart(company, 'ifrs')
            with self.assertRaises(ChartError):
                create_chart(company, 'small', 'fr')
            self.assertFalse(Account.search([('company', '=', company.id)]))
            create_chart(company)
            count = Account.search_count([('company', '=', company.id)])
            with self.assertRaises(ChartError):
                create_chart(company, 'small', 'en')
            self.assertEqual(
                Account.search_count([('company', '=', company.id)]), count)
        self.assertEqual(set(LANGUAGES), {'zh', 'en'})

    @with_transaction()
    def test_invoice_and_deposit(self):
        "An invoice posts to 1122, a deposit to 2203 that an invoice uses"
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        Party = pool.get('party.party')
        Invoice = pool.get('account.invoice')
        Journal = pool.get('account.journal')
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        company = _company("开票公司")
        today = dt.date.today()
        with set_company(company):
            create_chart(company)
            fiscalyear = set_invoice_sequences(
                get_fiscalyear(company, today=today))
            fiscalyear.save()
            FiscalYear.create_period([fiscalyear])
            accounts = _accounts(company)
            party, = Party.create([{'name': "经销商甲",
                        'addresses': [('create', [{}])]}])
            self.assertEqual(party.account_receivable_used, accounts['1122'])

            # a deposit received by bank: Dr 1002 / Cr 2203
            journal, = Journal.search([('type', '=', 'cash')], limit=1)
            move, = Move.create([{
                        'journal': journal.id,
                        'period': Period.find(company, date=today),
                        'date': today,
                        'lines': [('create', [{
                                        'account': accounts['1002'].id,
                                        'debit': D(1000), 'credit': D(0),
                                        }, {
                                        'account': accounts['2203'].id,
                                        'party': party.id,
                                        'debit': D(0), 'credit': D(1000),
                                        }])],
                        }])
            Move.post([move])
            self.assertEqual(Party(party.id).deposit, D(1000))

            def invoice(amount):
                revenue, = Journal.search([('type', '=', 'revenue')],
                    limit=1)
                invoice, = Invoice.create([{
                            'type': 'out', 'party': party.id,
                            'invoice_address': party.addresses[0].id,
                            'company': company.id,
                            'currency': company.currency.id,
                            'account': party.account_receivable_used.id,
                            'journal': revenue.id,
                            'invoice_date': today,
                            'lines': [('create', [{
                                            'type': 'line',
                                            'quantity': 1,
                                            'unit_price': amount,
                                            'description': "商品",
                                            'account':
                                            accounts['500101'].id,
                                            }])],
                            }])
                return invoice

            sold = invoice(D(300))
            Invoice.post([sold])
            line, = [l for l in sold.move.lines
                if l.account == accounts['1122']]
            self.assertEqual((line.debit, line.party), (D(300), party))
            self.assertEqual(accounts['500101'].credit, D(300))

            # the deposit pays a second invoice
            used = invoice(D(600))
            self.assertEqual(used.call_deposit(accounts['2203'], "预收款抵扣"),
                D(-600))
            used = Invoice(used.id)
            Invoice.post([used])
            self.assertEqual(used.total_amount, D(0))
            self.assertEqual(Party(party.id).deposit, D(400))
            self.assertEqual(accounts['2203'].balance, D(-400))
            self.assertEqual(accounts['1122'].balance, D(300))
            self.assertEqual(accounts['5001'].balance, D(-900))
