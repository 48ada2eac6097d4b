# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Chinese charts of accounts: the one source of chart.xml.

Two templates, each in Chinese and in English (Tryton's account names are
not translatable: a chart exists once per language, like account's
account_chart_en/fr.xml):

- 'small': 小企业会计准则 (财会〔2011〕17号, with 5403 renamed 税金及附加 by
  财会〔2016〕22号): its 66 level-1 accounts with their standard codes, and
  the level-2 accounts the DMS posts to (销售折让与返利, 坏账损失, VAT...);
- 'general': 企业会计准则 (应用指南 附录 会计科目), the level-1 accounts of
  an ordinary enterprise (no bank, insurance or leasing specific accounts).

Both share one tree of account types laid out like the Chinese balance
sheet and income statement (资产负债表 / 利润表).

chart.xml is generated from the tables below, never edited by hand:

    .venv/bin/python -m distributor_account.chart   # rewrites chart.xml

(tests/test_chart.py checks that it is up to date).  ``create_chart``
runs Tryton's account.create_chart wizard for a company with the chart's
default receivable (1122), payable (2202) and product category accounts.
"""
from pathlib import Path
from xml.sax.saxutils import escape

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

LANGUAGES = ('zh', 'en')
TEMPLATES = {
    'small': ("小企业会计准则科目表", "Chart of Accounts (Small Business "
        "Accounting Standards, China)"),
    'general': ("企业会计准则科目表", "Chart of Accounts (Accounting "
        "Standards for Business Enterprises, China)"),
    }
# the template ids (xml ids in this module) per template and language
ROOT_XML_ID = 'account_template_root_{template}_{language}'

# ---------------------------------------------------------------- types
# key, parent key, sequence, statement, flags, Chinese, English
# flags: assets, receivable, payable, stock, revenue, expense, deposit
TYPES = [
    ('root', None, 10, None, '',
        "中国会计准则报表", "Chinese Financial Statements"),
    # 资产负债表
    ('assets', 'root', 10, 'balance', 'assets', "资产", "Assets"),
    ('current_assets', 'assets', 10, 'balance', 'assets',
        "流动资产", "Current Assets"),
    ('cash', 'current_assets', 10, 'balance', 'assets',
        "货币资金", "Cash and Cash Equivalents"),
    ('short_investments', 'current_assets', 20, 'balance', 'assets',
        "短期投资", "Short-term Investments"),
    ('notes_receivable', 'current_assets', 30, 'balance', 'assets',
        "应收票据", "Notes Receivable"),
    ('receivable', 'current_assets', 40, 'balance', 'assets receivable',
        "应收账款", "Accounts Receivable"),
    ('prepayments', 'current_assets', 50, 'balance', 'assets',
        "预付账款", "Prepayments"),
    ('dividends_receivable', 'current_assets', 60, 'balance', 'assets',
        "应收股利", "Dividends Receivable"),
    ('interest_receivable', 'current_assets', 70, 'balance', 'assets',
        "应收利息", "Interest Receivable"),
    ('other_receivables', 'current_assets', 80, 'balance', 'assets',
        "其他应收款", "Other Receivables"),
    ('inventories', 'current_assets', 90, 'balance', 'assets stock',
        "存货", "Inventories"),
    ('other_current_assets', 'current_assets', 100, 'balance', 'assets',
        "其他流动资产", "Other Current Assets"),
    ('non_current_assets', 'assets', 20, 'balance', 'assets',
        "非流动资产", "Non-current Assets"),
    ('long_investments', 'non_current_assets', 10, 'balance', 'assets',
        "长期投资", "Long-term Investments"),
    ('fixed_assets', 'non_current_assets', 20, 'balance', 'assets',
        "固定资产", "Fixed Assets"),
    ('construction', 'non_current_assets', 30, 'balance', 'assets',
        "在建工程及工程物资", "Construction in Progress and Materials"),
    ('fixed_assets_disposal', 'non_current_assets', 40, 'balance', 'assets',
        "固定资产清理", "Fixed Assets Disposal"),
    ('biological_assets', 'non_current_assets', 50, 'balance', 'assets',
        "生产性生物资产", "Productive Biological Assets"),
    ('intangible_assets', 'non_current_assets', 60, 'balance', 'assets',
        "无形资产", "Intangible Assets"),
    ('development', 'non_current_assets', 70, 'balance', 'assets',
        "开发支出", "Development Expenditure"),
    ('deferred_expenses', 'non_current_assets', 80, 'balance', 'assets',
        "长期待摊费用", "Long-term Deferred Expenses"),
    ('other_non_current_assets', 'non_current_assets', 90, 'balance',
        'assets', "其他非流动资产", "Other Non-current Assets"),
    ('liabilities', 'root', 20, 'balance', '', "负债", "Liabilities"),
    ('current_liabilities', 'liabilities', 10, 'balance', '',
        "流动负债", "Current Liabilities"),
    ('short_borrowings', 'current_liabilities', 10, 'balance', '',
        "短期借款", "Short-term Borrowings"),
    ('notes_payable', 'current_liabilities', 20, 'balance', '',
        "应付票据", "Notes Payable"),
    ('payable', 'current_liabilities', 30, 'balance', 'payable',
        "应付账款", "Accounts Payable"),
    ('advances_received', 'current_liabilities', 40, 'balance', 'deposit',
        "预收账款", "Advances from Customers"),
    ('employee_benefits', 'current_liabilities', 50, 'balance', '',
        "应付职工薪酬", "Employee Benefits Payable"),
    ('taxes_payable', 'current_liabilities', 60, 'balance', '',
        "应交税费", "Taxes Payable"),
    ('interest_payable', 'current_liabilities', 70, 'balance', '',
        "应付利息", "Interest Payable"),
    ('profits_payable', 'current_liabilities', 80, 'balance', '',
        "应付利润", "Profits and Dividends Payable"),
    ('other_payables', 'current_liabilities', 90, 'balance', '',
        "其他应付款", "Other Payables"),
    ('other_current_liabilities', 'current_liabilities', 100, 'balance', '',
        "其他流动负债", "Other Current Liabilities"),
    ('non_current_liabilities', 'liabilities', 20, 'balance', '',
        "非流动负债", "Non-current Liabilities"),
    ('long_borrowings', 'non_current_liabilities', 10, 'balance', '',
        "长期借款", "Long-term Borrowings"),
    ('long_payables', 'non_current_liabilities', 20, 'balance', '',
        "长期应付款", "Long-term Payables"),
    ('deferred_income', 'non_current_liabilities', 30, 'balance', '',
        "递延收益", "Deferred Income"),
    ('other_non_current_liabilities', 'non_current_liabilities', 40,
        'balance', '', "其他非流动负债", "Other Non-current Liabilities"),
    ('equity', 'root', 30, 'balance', '',
        "所有者权益", "Owners' Equity"),
    ('paid_in_capital', 'equity', 10, 'balance', '',
        "实收资本", "Paid-in Capital"),
    ('capital_reserve', 'equity', 20, 'balance', '',
        "资本公积", "Capital Reserve"),
    ('surplus_reserve', 'equity', 30, 'balance', '',
        "盈余公积", "Surplus Reserve"),
    ('retained_earnings', 'equity', 40, 'balance', '',
        "未分配利润", "Retained Earnings"),
    # 利润表: the current year's result is part of the equity
    ('net_profit', 'equity', 50, 'income', '',
        "净利润（利润表）", "Net Profit (Income Statement)"),
    ('total_profit', 'net_profit', 10, 'income', '',
        "利润总额", "Total Profit"),
    ('operating_profit', 'total_profit', 10, 'income', '',
        "营业利润", "Operating Profit"),
    ('operating_revenue', 'operating_profit', 10, 'income', 'revenue',
        "营业收入", "Operating Revenue"),
    ('operating_costs', 'operating_profit', 20, 'income', 'expense',
        "营业成本", "Operating Costs"),
    ('taxes_surcharges', 'operating_profit', 30, 'income', 'expense',
        "税金及附加", "Taxes and Surcharges"),
    ('selling_expenses', 'operating_profit', 40, 'income', 'expense',
        "销售费用", "Selling Expenses"),
    ('administrative_expenses', 'operating_profit', 50, 'income', 'expense',
        "管理费用", "Administrative Expenses"),
    ('financial_expenses', 'operating_profit', 60, 'income', 'expense',
        "财务费用", "Financial Expenses"),
    ('impairment_losses', 'operating_profit', 70, 'income', 'expense',
        "资产减值损失", "Asset Impairment Losses"),
    ('fair_value_changes', 'operating_profit', 80, 'income', '',
        "公允价值变动收益", "Gains from Fair Value Changes"),
    ('investment_income', 'operating_profit', 90, 'income', '',
        "投资收益", "Investment Income"),
    ('asset_disposal', 'operating_profit', 100, 'income', '',
        "资产处置收益", "Gains on Asset Disposal"),
    ('non_operating_income', 'total_profit', 20, 'income', '',
        "营业外收入", "Non-operating Income"),
    ('non_operating_expenses', 'total_profit', 30, 'income', 'expense',
        "营业外支出", "Non-operating Expenses"),
    ('income_tax', 'net_profit', 20, 'income', 'expense',
        "所得税费用", "Income Tax Expenses"),
    ]

# -------------------------------------------------------------- accounts
# code, type key (None: a view account, the sum of its children), flags,
# Chinese, English.  The parent of a level-2 account (6 digits) is its
# first 4 digits, of a level-3 account (8 digits) its first 6.
# flags: reconcile, party (party required)
SMALL = [
    # 资产类
    ('1001', 'cash', '', "库存现金", "Cash on Hand"),
    ('1002', 'cash', '', "银行存款", "Bank Deposits"),
    ('1012', 'cash', '', "其他货币资金", "Other Monetary Funds"),
    ('1101', 'short_investments', '', "短期投资", "Short-term Investments"),
    ('1121', 'notes_receivable', 'reconcile party', "应收票据",
        "Notes Receivable"),
    ('1122', 'receivable', 'reconcile party', "应收账款",
        "Accounts Receivable"),
    ('1123', 'prepayments', 'reconcile party', "预付账款",
        "Advances to Suppliers"),
    ('1131', 'dividends_receivable', '', "应收股利", "Dividends Receivable"),
    ('1132', 'interest_receivable', '', "应收利息", "Interest Receivable"),
    ('1221', 'other_receivables', 'reconcile', "其他应收款",
        "Other Receivables"),
    ('1401', 'inventories', '', "材料采购", "Materials Procurement"),
    ('1402', 'inventories', '', "在途物资", "Goods in Transit"),
    ('1403', 'inventories', '', "原材料", "Raw Materials"),
    ('1404', 'inventories', '', "材料成本差异", "Materials Cost Variance"),
    ('1405', 'inventories', '', "库存商品", "Merchandise Inventory"),
    ('1407', 'inventories', '', "商品进销差价",
        "Merchandise Price Differences"),
    ('1408', 'inventories', '', "委托加工物资",
        "Materials for Outsourced Processing"),
    ('1411', 'inventories', '', "周转材料", "Revolving Materials"),
    ('1421', 'inventories', '', "消耗性生物资产",
        "Consumable Biological Assets"),
    ('1501', 'long_investments', '', "长期债券投资",
        "Long-term Bond Investments"),
    ('1511', 'long_investments', '', "长期股权投资",
        "Long-term Equity Investments"),
    ('1601', 'fixed_assets', '', "固定资产", "Fixed Assets"),
    ('1602', 'fixed_assets', '', "累计折旧", "Accumulated Depreciation"),
    ('1604', 'construction', '', "在建工程", "Construction in Progress"),
    ('1605', 'construction', '', "工程物资", "Construction Materials"),
    ('1606', 'fixed_assets_disposal', '', "固定资产清理",
        "Fixed Assets Disposal"),
    ('1621', 'biological_assets', '', "生产性生物资产",
        "Productive Biological Assets"),
    ('1622', 'biological_assets', '', "生产性生物资产累计折旧",
        "Accumulated Depreciation of Productive Biological Assets"),
    ('1701', 'intangible_assets', '', "无形资产", "Intangible Assets"),
    ('1702', 'intangible_assets', '', "累计摊销", "Accumulated Amortisation"),
    ('1801', 'deferred_expenses', '', "长期待摊费用",
        "Long-term Deferred Expenses"),
    ('1901', 'other_current_assets', '', "待处理财产损溢",
        "Unsettled Property Losses and Gains"),
    # 负债类
    ('2001', 'short_borrowings', '', "短期借款", "Short-term Borrowings"),
    ('2201', 'notes_payable', 'reconcile party', "应付票据",
        "Notes Payable"),
    ('2202', 'payable', 'reconcile party', "应付账款", "Accounts Payable"),
    ('2203', 'advances_received', 'reconcile party', "预收账款",
        "Advances from Customers"),
    ('2211', 'employee_benefits', '', "应付职工薪酬",
        "Employee Benefits Payable"),
    ('2221', None, '', "应交税费", "Taxes Payable"),
    ('222101', None, '', "应交增值税", "VAT Payable"),
    ('22210101', 'taxes_payable', '', "进项税额", "Input VAT"),
    ('22210102', 'taxes_payable', '', "销项税额", "Output VAT"),
    ('222102', 'taxes_payable', '', "未交增值税", "Unpaid VAT"),
    ('222103', 'taxes_payable', '', "应交所得税", "Income Tax Payable"),
    ('222104', 'taxes_payable', '', "应交城市维护建设税",
        "Urban Maintenance and Construction Tax Payable"),
    ('222105', 'taxes_payable', '', "应交教育费附加",
        "Education Surcharge Payable"),
    ('2231', 'interest_payable', '', "应付利息", "Interest Payable"),
    ('2232', 'profits_payable', '', "应付利润", "Profits Payable"),
    ('2241', 'other_payables', 'reconcile', "其他应付款", "Other Payables"),
    ('2401', 'deferred_income', '', "递延收益", "Deferred Income"),
    ('2501', 'long_borrowings', '', "长期借款", "Long-term Borrowings"),
    ('2701', 'long_payables', '', "长期应付款", "Long-term Payables"),
    # 所有者权益类
    ('3001', 'paid_in_capital', '', "实收资本", "Paid-in Capital"),
    ('3002', 'capital_reserve', '', "资本公积", "Capital Reserve"),
    ('3101', 'surplus_reserve', '', "盈余公积", "Surplus Reserve"),
    ('3103', 'retained_earnings', '', "本年利润", "Current Year Profit"),
    ('3104', 'retained_earnings', '', "利润分配", "Profit Distribution"),
    # 成本类
    ('4001', 'inventories', '', "生产成本", "Production Costs"),
    ('4101', 'inventories', '', "制造费用", "Manufacturing Overhead"),
    ('4301', 'development', '', "研发支出",
        "Research and Development Expenditure"),
    ('4401', 'inventories', '', "工程施工", "Construction Contracts"),
    ('4403', 'inventories', '', "机械作业", "Machinery Operations"),
    # 损益类
    ('5001', None, '', "主营业务收入", "Main Business Revenue"),
    ('500101', 'operating_revenue', '', "商品销售收入", "Sales of Goods"),
    ('500102', 'operating_revenue', '', "销售折让与返利",
        "Sales Allowances and Rebates"),
    ('5051', 'operating_revenue', '', "其他业务收入",
        "Other Business Revenue"),
    ('5111', 'investment_income', '', "投资收益", "Investment Income"),
    ('5301', 'non_operating_income', '', "营业外收入",
        "Non-operating Income"),
    ('5401', 'operating_costs', '', "主营业务成本", "Main Business Costs"),
    ('5402', 'operating_costs', '', "其他业务成本", "Other Business Costs"),
    ('5403', 'taxes_surcharges', '', "税金及附加", "Taxes and Surcharges"),
    ('5601', 'selling_expenses', '', "销售费用", "Selling Expenses"),
    ('5602', 'administrative_expenses', '', "管理费用",
        "Administrative Expenses"),
    ('5603', None, '', "财务费用", "Financial Expenses"),
    ('560301', 'financial_expenses', '', "利息费用", "Interest Expenses"),
    ('560302', 'financial_expenses', '', "手续费", "Bank Charges"),
    ('560303', 'financial_expenses', '', "现金折扣与尾差",
        "Cash Discounts and Rounding Differences"),
    ('5711', None, '', "营业外支出", "Non-operating Expenses"),
    ('571101', 'non_operating_expenses', '', "坏账损失", "Bad Debt Losses"),
    ('571102', 'non_operating_expenses', '', "其他营业外支出",
        "Other Non-operating Expenses"),
    ('5801', 'income_tax', '', "所得税费用", "Income Tax Expenses"),
    ]

# 企业会计准则 (general enterprises): level-1 accounts, the DMS level-2 ones
GENERAL = [
    # 资产类
    ('1001', 'cash', '', "库存现金", "Cash on Hand"),
    ('1002', 'cash', '', "银行存款", "Bank Deposits"),
    ('1012', 'cash', '', "其他货币资金", "Other Monetary Funds"),
    ('1101', 'short_investments', '', "交易性金融资产",
        "Financial Assets Held for Trading"),
    ('1121', 'notes_receivable', 'reconcile party', "应收票据",
        "Notes Receivable"),
    ('1122', 'receivable', 'reconcile party', "应收账款",
        "Accounts Receivable"),
    ('1123', 'prepayments', 'reconcile party', "预付账款",
        "Advances to Suppliers"),
    ('1131', 'dividends_receivable', '', "应收股利", "Dividends Receivable"),
    ('1132', 'interest_receivable', '', "应收利息", "Interest Receivable"),
    ('1221', 'other_receivables', 'reconcile', "其他应收款",
        "Other Receivables"),
    ('1231', 'other_receivables', '', "坏账准备", "Bad Debt Provision"),
    ('1401', 'inventories', '', "材料采购", "Materials Procurement"),
    ('1402', 'inventories', '', "在途物资", "Goods in Transit"),
    ('1403', 'inventories', '', "原材料", "Raw Materials"),
    ('1404', 'inventories', '', "材料成本差异", "Materials Cost Variance"),
    ('1405', 'inventories', '', "库存商品", "Merchandise Inventory"),
    ('1406', 'inventories', '', "发出商品", "Goods Shipped"),
    ('1407', 'inventories', '', "商品进销差价",
        "Merchandise Price Differences"),
    ('1408', 'inventories', '', "委托加工物资",
        "Materials for Outsourced Processing"),
    ('1411', 'inventories', '', "周转材料", "Revolving Materials"),
    ('1471', 'inventories', '', "存货跌价准备",
        "Inventory Impairment Provision"),
    ('1501', 'long_investments', '', "持有至到期投资",
        "Held-to-maturity Investments"),
    ('1502', 'long_investments', '', "持有至到期投资减值准备",
        "Held-to-maturity Investments Impairment"),
    ('1503', 'long_investments', '', "可供出售金融资产",
        "Available-for-sale Financial Assets"),
    ('1511', 'long_investments', '', "长期股权投资",
        "Long-term Equity Investments"),
    ('1512', 'long_investments', '', "长期股权投资减值准备",
        "Long-term Equity Investments Impairment"),
    ('1521', 'long_investments', '', "投资性房地产",
        "Investment Property"),
    ('1531', 'other_non_current_assets', '', "长期应收款",
        "Long-term Receivables"),
    ('1532', 'other_non_current_assets', '', "未实现融资收益",
        "Unrealised Financing Income"),
    ('1601', 'fixed_assets', '', "固定资产", "Fixed Assets"),
    ('1602', 'fixed_assets', '', "累计折旧", "Accumulated Depreciation"),
    ('1603', 'fixed_assets', '', "固定资产减值准备",
        "Fixed Assets Impairment"),
    ('1604', 'construction', '', "在建工程", "Construction in Progress"),
    ('1605', 'construction', '', "工程物资", "Construction Materials"),
    ('1606', 'fixed_assets_disposal', '', "固定资产清理",
        "Fixed Assets Disposal"),
    ('1701', 'intangible_assets', '', "无形资产", "Intangible Assets"),
    ('1702', 'intangible_assets', '', "累计摊销", "Accumulated Amortisation"),
    ('1703', 'intangible_assets', '', "无形资产减值准备",
        "Intangible Assets Impairment"),
    ('1711', 'other_non_current_assets', '', "商誉", "Goodwill"),
    ('1801', 'deferred_expenses', '', "长期待摊费用",
        "Long-term Deferred Expenses"),
    ('1811', 'other_non_current_assets', '', "递延所得税资产",
        "Deferred Tax Assets"),
    ('1901', 'other_current_assets', '', "待处理财产损溢",
        "Unsettled Property Losses and Gains"),
    # 负债类
    ('2001', 'short_borrowings', '', "短期借款", "Short-term Borrowings"),
    ('2101', 'other_current_liabilities', '', "交易性金融负债",
        "Financial Liabilities Held for Trading"),
    ('2201', 'notes_payable', 'reconcile party', "应付票据",
        "Notes Payable"),
    ('2202', 'payable', 'reconcile party', "应付账款", "Accounts Payable"),
    ('2203', 'advances_received', 'reconcile party', "预收账款",
        "Advances from Customers"),
    ('2211', 'employee_benefits', '', "应付职工薪酬",
        "Employee Benefits Payable"),
    ('2221', None, '', "应交税费", "Taxes Payable"),
    ('222101', None, '', "应交增值税", "VAT Payable"),
    ('22210101', 'taxes_payable', '', "进项税额", "Input VAT"),
    ('22210102', 'taxes_payable', '', "销项税额", "Output VAT"),
    ('222102', 'taxes_payable', '', "未交增值税", "Unpaid VAT"),
    ('222103', 'taxes_payable', '', "应交所得税", "Income Tax Payable"),
    ('2231', 'interest_payable', '', "应付利息", "Interest Payable"),
    ('2232', 'profits_payable', '', "应付股利", "Dividends Payable"),
    ('2241', 'other_payables', 'reconcile', "其他应付款", "Other Payables"),
    ('2401', 'deferred_income', '', "递延收益", "Deferred Income"),
    ('2501', 'long_borrowings', '', "长期借款", "Long-term Borrowings"),
    ('2502', 'long_borrowings', '', "应付债券", "Bonds Payable"),
    ('2701', 'long_payables', '', "长期应付款", "Long-term Payables"),
    ('2702', 'long_payables', '', "未确认融资费用",
        "Unrecognised Financing Charges"),
    ('2711', 'long_payables', '', "专项应付款", "Special Payables"),
    ('2801', 'other_non_current_liabilities', '', "预计负债", "Provisions"),
    ('2901', 'other_non_current_liabilities', '', "递延所得税负债",
        "Deferred Tax Liabilities"),
    # 所有者权益类
    ('4001', 'paid_in_capital', '', "实收资本", "Paid-in Capital"),
    ('4002', 'capital_reserve', '', "资本公积", "Capital Reserve"),
    ('4101', 'surplus_reserve', '', "盈余公积", "Surplus Reserve"),
    ('4103', 'retained_earnings', '', "本年利润", "Current Year Profit"),
    ('4104', 'retained_earnings', '', "利润分配", "Profit Distribution"),
    ('4201', 'capital_reserve', '', "库存股", "Treasury Shares"),
    # 成本类
    ('5001', 'inventories', '', "生产成本", "Production Costs"),
    ('5101', 'inventories', '', "制造费用", "Manufacturing Overhead"),
    ('5201', 'inventories', '', "劳务成本", "Service Costs"),
    ('5301', 'development', '', "研发支出",
        "Research and Development Expenditure"),
    # 损益类
    ('6001', None, '', "主营业务收入", "Main Business Revenue"),
    ('600101', 'operating_revenue', '', "商品销售收入", "Sales of Goods"),
    ('600102', 'operating_revenue', '', "销售折让与返利",
        "Sales Allowances and Rebates"),
    ('6051', 'operating_revenue', '', "其他业务收入",
        "Other Business Revenue"),
    ('6101', 'fair_value_changes', '', "公允价值变动损益",
        "Gains and Losses from Fair Value Changes"),
    ('6111', 'investment_income', '', "投资收益", "Investment Income"),
    ('6115', 'asset_disposal', '', "资产处置损益",
        "Gains and Losses on Asset Disposal"),
    ('6301', 'non_operating_income', '', "营业外收入",
        "Non-operating Income"),
    ('6401', 'operating_costs', '', "主营业务成本", "Main Business Costs"),
    ('6402', 'operating_costs', '', "其他业务成本", "Other Business Costs"),
    ('6403', 'taxes_surcharges', '', "税金及附加", "Taxes and Surcharges"),
    ('6601', 'selling_expenses', '', "销售费用", "Selling Expenses"),
    ('6602', 'administrative_expenses', '', "管理费用",
        "Administrative Expenses"),
    ('6603', None, '', "财务费用", "Financial Expenses"),
    ('660301', 'financial_expenses', '', "利息费用", "Interest Expenses"),
    ('660302', 'financial_expenses', '', "手续费", "Bank Charges"),
    ('660303', 'financial_expenses', '', "现金折扣与尾差",
        "Cash Discounts and Rounding Differences"),
    ('6701', 'impairment_losses', '', "资产减值损失",
        "Asset Impairment Losses"),
    ('6702', 'impairment_losses', '', "信用减值损失",
        "Credit Impairment Losses"),
    ('6711', None, '', "营业外支出", "Non-operating Expenses"),
    ('671101', 'non_operating_expenses', '', "坏账损失", "Bad Debt Losses"),
    ('671102', 'non_operating_expenses', '', "其他营业外支出",
        "Other Non-operating Expenses"),
    ('6801', 'income_tax', '', "所得税费用", "Income Tax Expenses"),
    ('6901', 'non_operating_income', '', "以前年度损益调整",
        "Prior Year Profit and Loss Adjustment"),
    ]

ACCOUNTS = {'small': SMALL, 'general': GENERAL}

# the accounts the DMS looks up by role, per template
ROLES = {
    'small': {
        'cash': '1001', 'bank': '1002', 'receivable': '1122',
        'payable': '2202', 'deposit': '2203', 'revenue': '500101',
        'rebate': '500102', 'expense': '5401', 'bad_debt': '571101',
        'write_off': '560303', 'bank_charges': '560302',
        'profit': '3103', 'stock': '1405',
        },
    'general': {
        'cash': '1001', 'bank': '1002', 'receivable': '1122',
        'payable': '2202', 'deposit': '2203', 'revenue': '600101',
        'rebate': '600102', 'expense': '6401', 'bad_debt': '671101',
        'write_off': '660303', 'bank_charges': '660302',
        'profit': '4103', 'stock': '1405',
        },
    }

FLAGS = {'assets', 'receivable', 'payable', 'stock', 'revenue', 'expense',
    'deposit'}
ACCOUNT_FLAGS = {'reconcile', 'party'}


def parent_code(code):
    "The code of the parent account (None for a level-1 account)"
    if len(code) <= 4:
        return None
    return code[:len(code) - 2]


def type_xml_id(key, language):
    return f'account_type_template_cn_{key}_{language}'


def account_xml_id(template, code, language):
    return f'account_template_{template}_{code}_{language}'


def check_tables():
    "The tables are consistent (raise AssertionError otherwise)"
    keys = set()
    for key, parent, _, statement, flags, zh, en in TYPES:
        assert key not in keys, key
        assert parent is None or parent in keys, key
        assert set(flags.split()) <= FLAGS, key
        assert zh and en, key
        keys.add(key)
    for template, accounts in ACCOUNTS.items():
        codes = set()
        for code, type_, flags, zh, en in accounts:
            assert code not in codes, (template, code)
            assert parent_code(code) is None or parent_code(code) in codes, (
                template, code)
            assert type_ is None or type_ in keys, (template, code)
            assert set(flags.split()) <= ACCOUNT_FLAGS, (template, code)
            assert zh and en, (template, code)
            codes.add(code)
        for role, code in ROLES[template].items():
            assert code in codes, (template, role)
        viewed = {parent_code(c) for c in codes} - {None}
        for code, type_, *_ in accounts:
            # an account with children is a view account
            assert (type_ is None) == (code in viewed), (template, code)


def _field(name, value=None, ref=None, eval_=None):
    if ref is not None:
        return f'<field name="{name}" ref="{ref}"/>'
    if eval_ is not None:
        return f'<field name="{name}" eval="{eval_}"/>'
    return f'<field name="{name}">{escape(value)}</field>'


def generate_xml():
    "The text of chart.xml"
    check_tables()
    out = ['<?xml version="1.0" encoding="utf-8"?>',
        '<!-- This file is part of the DMS project.  The COPYRIGHT file at '
        'the top',
        'level of this repository contains the full copyright notices and '
        'license',
        'terms.',
        '',
        'GENERATED by distributor_account/chart.py (python -m',
        'distributor_account.chart): edit the tables there, not this file. '
        '-->',
        '<tryton>']
    for language in LANGUAGES:
        index = LANGUAGES.index(language)
        out.append('    <data>')
        for key, parent, sequence, statement, flags, *names in TYPES:
            out.append('        <record model="account.account.type.template"'
                f' id="{type_xml_id(key, language)}">')
            out.append('            ' + _field('name', names[index]))
            if parent:
                out.append('            ' + _field(
                        'parent', ref=type_xml_id(parent, language)))
            out.append('            ' + _field(
                    'sequence', eval_=str(sequence)))
            if statement:
                out.append('            ' + _field('statement', statement))
            else:
                out.append('            ' + _field(
                        'statement', eval_='None'))
            for flag in flags.split():
                out.append('            ' + _field(flag, eval_='True'))
            out.append('        </record>')
        out.append('    </data>')
        for template, accounts in ACCOUNTS.items():
            root = ROOT_XML_ID.format(template=template, language=language)
            out.append('    <data>')
            out.append('        <record model="account.account.template"'
                f' id="{root}">')
            out.append('            ' + _field(
                    'name', TEMPLATES[template][index]))
            out.append('            ' + _field(
                    'type', ref=type_xml_id('root', language)))
            out.append('            ' + _field('closed', eval_='True'))
            out.append('        </record>')
            out.append('    </data>')
            # grouped by level: a parent is created before its children
            for level in (4, 6, 8):
                out.append('    <data grouped="1">')
                for code, type_, flags, *names in accounts:
                    if len(code) != level:
                        continue
                    parent = parent_code(code)
                    xml_id = account_xml_id(template, code, language)
                    out.append('        <record model="account.account.'
                        f'template" id="{xml_id}">')
                    out.append('            ' + _field('code', code))
                    out.append('            ' + _field(
                            'name', names[index]))
                    out.append('            ' + _field('parent', ref=(
                                account_xml_id(template, parent, language)
                                if parent else root)))
                    if type_:
                        out.append('            ' + _field(
                                'type', ref=type_xml_id(type_, language)))
                    flags = flags.split()
                    if 'reconcile' in flags:
                        out.append('            ' + _field(
                                'reconcile', eval_='True'))
                    if 'party' in flags:
                        out.append('            ' + _field(
                                'party_required', eval_='True'))
                    out.append('        </record>')
                out.append('    </data>')
    out.append('</tryton>')
    return '\n'.join(out) + '\n'


XML_PATH = Path(__file__).with_name('chart.xml')


def write_xml(path=XML_PATH):
    text = generate_xml()
    Path(path).write_text(text, encoding='utf-8')
    return text


# ------------------------------------------------------------ creation
def template_of(company):
    """The template ('small' or 'general') of the company's chart, or None
    when the company's chart is not one of these"""
    pool = Pool()
    Account = pool.get('account.account')
    ModelData = pool.get('ir.model.data')
    roots = Account.search([
            ('company', '=', company.id),
            ('parent', '=', None),
            ('template', '!=', None),
            ])
    for root in roots:
        for template in TEMPLATES:
            for language in LANGUAGES:
                xml_id = ROOT_XML_ID.format(
                    template=template, language=language)
                if root.template.id == ModelData.get_id(
                        'distributor_account', xml_id):
                    return template
    return None


def get_account(company, role, template=None):
    """The company's account of the role (see ROLES: 'receivable',
    'deposit', 'rebate', 'bad_debt'...) in its Chinese chart, or None"""
    Account = Pool().get('account.account')
    template = template or template_of(company)
    if template is None:
        return None
    accounts = Account.search([
            ('company', '=', company.id),
            ('code', '=', ROLES[template][role]),
            ], limit=1)
    return accounts[0] if accounts else None


def create_chart(company, template='small', language='zh'):
    """Create the company's chart from the template ('small': 小企业会计准则,
    'general': 企业会计准则) in the language ('zh' or 'en') with Tryton's
    account.create_chart wizard, and set the default receivable (1122)
    and payable (2202) accounts and, with account_product, the default
    category revenue and expense accounts.  Returns the root account."""
    from .exceptions import ChartError
    pool = Pool()
    AccountTemplate = pool.get('account.account.template')
    Account = pool.get('account.account')
    ModelData = pool.get('ir.model.data')
    CreateChart = pool.get('account.create_chart', type='wizard')
    if template not in TEMPLATES or language not in LANGUAGES:
        raise ChartError(gettext('distributor_account.msg_chart_unknown',
                template=template, language=language))
    if Account.search([('company', '=', company.id)], limit=1):
        raise ChartError(gettext('distributor_account.msg_chart_exists',
                company=company.rec_name))
    roles = ROLES[template]
    root_template = AccountTemplate(ModelData.get_id('distributor_account',
            ROOT_XML_ID.format(template=template, language=language)))
    with Transaction().set_context(company=company.id):
        session_id, _, _ = CreateChart.create()
        wizard = CreateChart(session_id)
        wizard.account.account_template = root_template
        wizard.account.company = company
        wizard.transition_create_account()

        def account(role):
            account, = Account.search([
                    ('company', '=', company.id),
                    ('code', '=', roles[role]),
                    ('template', '!=', None),
                    ], limit=1)
            return account

        properties = wizard.properties
        properties.company = company
        properties.account_receivable = account('receivable')
        properties.account_payable = account('payable')
        if 'category_account_revenue' in properties._fields:
            properties.category_account_revenue = account('revenue')
        if 'category_account_expense' in properties._fields:
            properties.category_account_expense = account('expense')
        wizard.transition_create_properties()
        CreateChart.delete(session_id)
        root, = Account.search([
                ('company', '=', company.id),
                ('parent', '=', None),
                ('template', '=', root_template.id),
                ])
    return root

if __name__ == '__main__':
    write_xml()
    print(f'written {XML_PATH}')
