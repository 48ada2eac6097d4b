# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The outputs of the statements of account: a PDF (an HTML template under
report/, rendered with Jinja2 and converted by weasyprint) and an Excel
workbook (xlsxwriter), both with the issuer's letterhead, bilingual
headers and the numbers stored on the statement and its lines (the same
as on screen, never computed again).

Several statements make one file: a page break (PDF) or a sheet (Excel)
between them.

The reports (``distributor.account.statement.pdf`` and ``.xlsx``) are
printed from the statement's form (Tryton checks the groups of the action
and the record rules on the statements); ``statement_pdf`` and
``statement_xlsx`` are the same outputs for code that has already checked
who may read the statements (the portal's downloads): they read as root."""
import base64
import datetime as dt
import functools
import io
import os
import re
from decimal import Decimal
from types import SimpleNamespace

import dateutil.tz
from jinja2 import Environment, FileSystemLoader, select_autoescape

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.report import Report
from trytond.transaction import Transaction

from distributor.access import trusted

HERE = os.path.dirname(__file__)
CENT = Decimal('0.01')
# the images a logo may be: (signature, mimetype)
IMAGES = [
    (b'\x89PNG\r\n\x1a\n', 'image/png'),
    (b'\xff\xd8\xff', 'image/jpeg'),
    (b'GIF87a', 'image/gif'),
    (b'GIF89a', 'image/gif'),
    ]

environment = Environment(
    loader=FileSystemLoader(os.path.join(HERE, 'report')),
    autoescape=select_autoescape(['html', 'xml']),
    trim_blocks=True, lstrip_blocks=True)

# (key, Chinese, English, Excel width): the columns of the lines, in order
COLUMNS = [
    ('date', "日期", "Date", 11),
    ('kind', "类型", "Kind", 16),
    ('number', "单据号", "Document", 16),
    ('reference', "订单参考", "Order Ref.", 16),
    ('description', "摘要", "Description", 30),
    ('maturity_date', "到期日", "Due Date", 11),
    ('debit', "借方", "Debit", 14),
    ('credit', "贷方", "Credit", 14),
    ('balance', "余额", "Balance", 15),
    ('reconciled', "核销", "Reconciled", 10),
    ('disputed', "异议", "Disputed", 10),
    ]
AMOUNTS = {'debit', 'credit', 'balance'}
DATES = {'date', 'maturity_date'}
MARKS = {'reconciled', 'disputed'}
TITLE = ("对账单", "Statement of Account")
# the labels of the header, (Chinese, English)
LABELS = {
    'party': ("客户", "Party"),
    'code': ("编号", "Code"),
    'number': ("对账单号", "Statement No."),
    'period': ("期间", "Period"),
    'state': ("状态", "State"),
    'kind': ("类型", "Kind"),
    'currency': ("币种", "Currency"),
    'generated_at': ("生成时间", "Generated"),
    'sent_at': ("发送时间", "Sent"),
    'opening_balance': ("期初余额", "Opening Balance"),
    'total': ("本期合计", "Period Totals"),
    'closing_balance': ("期末余额", "Closing Balance"),
    'settled_amount': ("已结算", "Settled"),
    'open_amount': ("未结算", "Open"),
    'confirmed': ("确认", "Confirmation"),
    'confirmed_by': ("确认人", "Confirmed by"),
    'confirmed_at': ("确认时间", "Confirmed at"),
    'not_confirmed': ("未确认", "Not confirmed"),
    'phone': ("电话", "Phone"),
    'tax_identifier': ("税号", "Tax ID"),
    'page': ("页", "Page"),
    'printed_at': ("打印时间", "Printed"),
    'no_lines': ("本期无发生额", "No movement in the period"),
    }


def bilingual(pair, separator=' '):
    "'中文 English' (one of them when both are the same)"
    chinese, english = pair
    if not chinese or chinese == english:
        return english or ''
    return f'{chinese}{separator}{english}'


def money(value):
    "An amount as text: 1,234.50 (empty for None)"
    if value is None:
        return ''
    return f'{Decimal(value).quantize(CENT):,}'


def date(value):
    if value is None:
        return ''
    if isinstance(value, dt.datetime):
        return value.strftime('%Y-%m-%d %H:%M')
    return value.isoformat()


environment.globals.update({
        'columns': COLUMNS,
        'labels': LABELS,
        'title': TITLE,
        'bilingual': bilingual,
        'AMOUNTS': AMOUNTS,
        'DATES': DATES,
        'MARKS': MARKS,
        })
environment.filters.update({
        'money': money,
        'date': date,
        })


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    statement_letterhead = fields.Text(
        "Statement Letterhead",
        help="Printed under the brand's name at the top of the statements "
        "of account (e.g. its bank account for payments); empty: the "
        "company's header.")
    statement_logo = fields.Binary(
        "Statement Logo",
        help="The image (PNG or JPEG) at the top left of the statements "
        "of account; empty: the company's logo.")


def _labels(Model, field):
    """{value: (Chinese, English)} of a selection field, from the
    translations of the module (the Chinese one only where zh_CN is
    loaded)"""
    result = {}
    for language in ['zh_CN', 'en']:
        with Transaction().set_context(language=language):
            definition = Model.fields_get([field])[field]
        for key, label in definition['selection']:
            if key:
                result.setdefault(key, []).append(label)
    return {k: tuple(v) for k, v in result.items()}


def _image(data):
    "(mimetype, data) of a PNG, JPEG or GIF image, None otherwise"
    if not data:
        return None
    data = bytes(data)
    for signature, mimetype in IMAGES:
        if data.startswith(signature):
            return mimetype, data
    return None


def _localize(value, timezone):
    "A stored (UTC) timestamp in the company's timezone"
    if value is None:
        return None
    if timezone:
        value = value.replace(tzinfo=dt.timezone.utc).astimezone(
            timezone).replace(tzinfo=None)
    return value


def _issuer(statement, config):
    """The letterhead: the issuer of the statement (the brand, or the
    distributor of a store statement); the brand's letterhead text and
    logo only on the brand's statements"""
    company = statement.company
    issuer = statement.issuer or company.party
    brand = issuer == company.party
    address = issuer.address_get()
    phone = issuer.contact_mechanism_get({'phone', 'mobile'})
    tax_identifier = None
    if brand:
        tax_identifier = company.get_tax_identifier()
    if not tax_identifier:
        tax_identifier = issuer.tax_identifier
    letterhead = logo = None
    if brand:
        letterhead = config.statement_letterhead or company.header
        logo = _image(config.statement_logo) or _image(company.logo)
    return SimpleNamespace(
        name=issuer.name,
        address=[line.strip() for line in (
                address.full_address if address else '').splitlines()
            if line.strip()],
        phone=phone.value if phone else None,
        tax_identifier=tax_identifier.code if tax_identifier else None,
        letterhead=letterhead,
        logo=logo,
        logo_uri=(f'data:{logo[0]};base64,'
            + base64.b64encode(logo[1]).decode('ascii')) if logo else None,
        )


def statement_values(statements):
    """The values printed of the statements (records or ids), in their
    order: plain namespaces the templates read, read as root (the caller
    has checked who may read them)"""
    pool = Pool()
    Statement = pool.get('distributor.account.statement')
    Line = pool.get('distributor.account.statement.line')
    Configuration = pool.get('distributor.configuration')
    User = pool.get('res.user')
    ids = [int(s) for s in statements]
    with trusted():
        config = Configuration(1)
        records = Statement.browse(ids)
        kinds = _labels(Line, 'kind')
        states = _labels(Statement, 'state')
        statement_kinds = _labels(Statement, 'kind')
        names = ['statement', 'date', 'kind', 'number', 'reference',
            'description', 'maturity_date', 'debit', 'credit', 'balance',
            'reconciled', 'disputed']
        lines = {i: [] for i in ids}
        # lines of every statement in one query each way (their order is
        # the statement's sequence)
        for row in Line.search_read(
                [('statement', 'in', ids)],
                order=[('statement', 'ASC'), ('sequence', 'ASC'),
                    ('id', 'ASC')],
                fields_names=names):
            lines[row['statement']].append(row)
        now = dt.datetime.now(dt.timezone.utc).replace(
            tzinfo=None, second=0, microsecond=0)
        values = []
        for statement in records:
            company = statement.company
            timezone = (dateutil.tz.gettz(company.timezone)
                if company.timezone else None)
            currency = statement.currency or company.currency
            party = statement.party
            confirmed_by = statement.confirmed_by
            if confirmed_by:
                confirmed_by = User(confirmed_by.id).rec_name
            values.append(SimpleNamespace(
                    id=statement.id,
                    number=statement.number or str(statement.id),
                    kind=statement.kind,
                    kind_label=bilingual(statement_kinds.get(
                            statement.kind, (statement.kind,) * 2)),
                    state=statement.state,
                    state_label=bilingual(
                        states.get(statement.state, (statement.state,) * 2)),
                    issuer=_issuer(statement, config),
                    party_name=party.name,
                    party_code=(getattr(party, 'distributor_code', None)
                        or party.code),
                    start_date=statement.start_date,
                    end_date=statement.end_date,
                    currency=currency.code if currency else '',
                    generated_at=_localize(statement.generated_at, timezone),
                    sent_at=_localize(statement.sent_at, timezone),
                    confirmed_at=_localize(statement.confirmed_at, timezone),
                    confirmed_by=confirmed_by,
                    printed_at=_localize(now, timezone),
                    opening_balance=statement.opening_balance or Decimal(0),
                    total_debit=statement.total_debit or Decimal(0),
                    total_credit=statement.total_credit or Decimal(0),
                    closing_balance=statement.closing_balance or Decimal(0),
                    settled_amount=statement.settled_amount or Decimal(0),
                    open_amount=statement.open_amount or Decimal(0),
                    lines=[SimpleNamespace(
                            date=row['date'],
                            kind=bilingual(kinds.get(
                                    row['kind'], (row['kind'] or '',) * 2)),
                            number=row['number'] or '',
                            reference=row['reference'] or '',
                            description=row['description'] or '',
                            maturity_date=row['maturity_date'],
                            debit=row['debit'] or Decimal(0),
                            credit=row['credit'] or Decimal(0),
                            balance=row['balance'] or Decimal(0),
                            reconciled=bool(row['reconciled']),
                            disputed=bool(row['disputed']),
                            )
                        for row in lines[statement.id]],
                    ))
    return values


@functools.lru_cache(maxsize=8)
def _template(source):
    return environment.from_string(source)


def render_html(values, source=None):
    """The HTML of each of the statements' values (statement_values): a
    list of documents; source: the template's text (the report's, which an
    administrator may replace), report/statement.html by default"""
    if source is None:
        template = environment.get_template('statement.html')
    else:
        template = _template(source)
    if not values:
        return [template.render(statements=[])]
    return [template.render(statements=[v]) for v in values]


def html_to_pdf(documents):
    """One PDF of the HTML documents by weasyprint, each starting on a new
    page and numbering its own pages (only data: resources fetched: the
    logo)"""
    import weasyprint
    fetcher = weasyprint.URLFetcher(allowed_protocols={'data'})
    if isinstance(documents, str):
        documents = [documents]
    rendered = [weasyprint.HTML(string=html, url_fetcher=fetcher,
            base_url=os.path.join(HERE, 'report') + os.sep).render()
        for html in documents]
    pages = [page for document in rendered for page in document.pages]
    return rendered[0].copy(pages).write_pdf()


def _sheet_name(value, used):
    "A sheet name from value: no []:*?/\\, at most 31 characters, unique"
    name = re.sub(r'[\[\]:*?/\\]', '-', value).strip("'") or 'Statement'
    name = name[:31]
    candidate, counter = name, 1
    while candidate.lower() in used:
        counter += 1
        suffix = f' ({counter})'
        candidate = name[:31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def render_xlsx(values):
    "The workbook of the statements' values (statement_values): bytes"
    import xlsxwriter
    content = io.BytesIO()
    workbook = xlsxwriter.Workbook(content, {
            'in_memory': True,
            'default_date_format': 'yyyy-mm-dd',
            })
    font = {'font_name': 'Arial'}
    styles = {
        'brand': workbook.add_format({**font, 'bold': True, 'font_size': 14}),
        'text': workbook.add_format({**font}),
        'small': workbook.add_format({**font, 'font_size': 9,
                'font_color': '#555555', 'text_wrap': True,
                'valign': 'top'}),
        'title': workbook.add_format({**font, 'bold': True,
                'font_size': 16}),
        'label': workbook.add_format({**font, 'bold': True}),
        'date': workbook.add_format({**font, 'num_format': 'yyyy-mm-dd',
                'align': 'left'}),
        'datetime': workbook.add_format({**font,
                'num_format': 'yyyy-mm-dd hh:mm', 'align': 'left'}),
        'header': workbook.add_format({**font, 'bold': True,
                'bg_color': '#DDE4EE', 'border': 1, 'text_wrap': True,
                'valign': 'vcenter', 'align': 'center'}),
        'cell': workbook.add_format({**font, 'border': 1,
                'valign': 'top'}),
        'wrap': workbook.add_format({**font, 'border': 1,
                'text_wrap': True, 'valign': 'top'}),
        'cell_date': workbook.add_format({**font, 'border': 1,
                'num_format': 'yyyy-mm-dd', 'valign': 'top'}),
        'amount': workbook.add_format({**font, 'border': 1,
                'num_format': '#,##0.00', 'valign': 'top'}),
        'mark': workbook.add_format({**font, 'border': 1,
                'align': 'center', 'valign': 'top'}),
        'total_label': workbook.add_format({**font, 'bold': True,
                'border': 1, 'bg_color': '#F2F2F2'}),
        'total': workbook.add_format({**font, 'bold': True, 'border': 1,
                'bg_color': '#F2F2F2', 'num_format': '#,##0.00'}),
        'summary': workbook.add_format({**font, 'bold': True,
                'num_format': '#,##0.00'}),
        }
    keys = [c[0] for c in COLUMNS]
    last = len(COLUMNS) - 1
    used = set()
    if not values:
        workbook.add_worksheet(_sheet_name(TITLE[1], used))
    for statement in values:
        sheet = workbook.add_worksheet(_sheet_name(statement.number, used))
        sheet.set_paper(9)  # A4
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        sheet.set_footer('&L%s: &A&R%s &P / &N' % (
                bilingual(LABELS['number']), bilingual(LABELS['page'])))
        for index, (key, _, _, width) in enumerate(COLUMNS):
            sheet.set_column(index, index, width)
        issuer = statement.issuer
        row = 0
        if issuer.logo:
            sheet.insert_image(row, last - 1, 'logo', {
                    'image_data': io.BytesIO(issuer.logo[1]),
                    'x_scale': 1, 'y_scale': 1,
                    'object_position': 3,
                    })
        sheet.write_string(row, 0, issuer.name, styles['brand'])
        row += 1
        details = list(issuer.address)
        if issuer.phone:
            details.append(f"{bilingual(LABELS['phone'])}: {issuer.phone}")
        if issuer.tax_identifier:
            details.append(
                f"{bilingual(LABELS['tax_identifier'])}: "
                f"{issuer.tax_identifier}")
        if details:
            sheet.write_string(row, 0, '  '.join(details), styles['small'])
            row += 1
        if issuer.letterhead:
            for text in issuer.letterhead.splitlines():
                sheet.write_string(row, 0, text, styles['small'])
                row += 1
        row += 1
        sheet.write_string(row, 0, bilingual(TITLE), styles['title'])
        sheet.set_row(row, 22)
        row += 1

        def pair(row, col, label, value, style='text'):
            sheet.write_string(row, col, bilingual(LABELS[label]) + ':',
                styles['label'])
            if value is None or value == '':
                sheet.write_blank(row, col + 2, None, styles[style])
            elif style in {'date', 'datetime'}:
                sheet.write_datetime(row, col + 2, value, styles[style])
            elif style == 'summary':
                sheet.write_number(row, col + 2, value, styles[style])
            else:
                sheet.write_string(row, col + 2, str(value), styles[style])
        pair(row, 0, 'party', statement.party_name)
        pair(row, 5, 'number', statement.number)
        row += 1
        pair(row, 0, 'code', statement.party_code or '')
        pair(row, 5, 'state', statement.state_label)
        row += 1
        sheet.write_string(row, 0, bilingual(LABELS['period']) + ':',
            styles['label'])
        sheet.write_datetime(row, 2, statement.start_date, styles['date'])
        sheet.write_datetime(row, 3, statement.end_date, styles['date'])
        pair(row, 5, 'generated_at', statement.generated_at, 'datetime')
        row += 1
        pair(row, 0, 'kind', statement.kind_label)
        pair(row, 5, 'currency', statement.currency)
        row += 2

        header = row
        for index, (key, chinese, english, _) in enumerate(COLUMNS):
            sheet.write_string(row, index, f'{chinese}\n{english}',
                styles['header'])
        sheet.set_row(row, 30)
        sheet.freeze_panes(row + 1, 0)
        sheet.repeat_rows(row)
        row += 1
        # the opening balance: a row of its own, its balance in the
        # balance column where the running balance starts
        sheet.write_datetime(row, 0, statement.start_date,
            styles['cell_date'])
        sheet.merge_range(row, 1, row, keys.index('balance') - 1,
            bilingual(LABELS['opening_balance']), styles['total_label'])
        sheet.write_number(row, keys.index('balance'),
            statement.opening_balance, styles['total'])
        for index in range(keys.index('balance') + 1, last + 1):
            sheet.write_blank(row, index, None, styles['cell'])
        row += 1
        for line in statement.lines:
            for index, key in enumerate(keys):
                value = getattr(line, key)
                if key in DATES:
                    if value is None:
                        sheet.write_blank(row, index, None, styles['cell'])
                    else:
                        sheet.write_datetime(row, index, value,
                            styles['cell_date'])
                elif key in AMOUNTS:
                    sheet.write_number(row, index, value, styles['amount'])
                elif key in MARKS:
                    sheet.write_boolean(row, index, value, styles['mark'])
                else:
                    sheet.write_string(row, index, value,
                        styles['wrap' if key == 'description'
                            else 'cell'])
            row += 1
        # the period's totals, then the closing balance
        sheet.merge_range(row, 0, row, keys.index('debit') - 1,
            bilingual(LABELS['total']), styles['total_label'])
        sheet.write_number(row, keys.index('debit'), statement.total_debit,
            styles['total'])
        sheet.write_number(row, keys.index('credit'),
            statement.total_credit, styles['total'])
        for index in range(keys.index('credit') + 1, last + 1):
            sheet.write_blank(row, index, None, styles['total_label'])
        row += 1
        sheet.write_datetime(row, 0, statement.end_date,
            styles['cell_date'])
        sheet.merge_range(row, 1, row, keys.index('balance') - 1,
            bilingual(LABELS['closing_balance']), styles['total_label'])
        sheet.write_number(row, keys.index('balance'),
            statement.closing_balance, styles['total'])
        for index in range(keys.index('balance') + 1, last + 1):
            sheet.write_blank(row, index, None, styles['total_label'])
        sheet.autofilter(header, 0, row - 2, last)
        row += 2
        pair(row, 5, 'settled_amount', statement.settled_amount, 'summary')
        row += 1
        pair(row, 5, 'open_amount', statement.open_amount, 'summary')
        row += 2
        if statement.confirmed_at:
            pair(row, 0, 'confirmed_by', statement.confirmed_by or '')
            row += 1
            pair(row, 0, 'confirmed_at', statement.confirmed_at, 'datetime')
        else:
            pair(row, 0, 'confirmed', bilingual(LABELS['not_confirmed']))
        row += 1
        pair(row, 0, 'printed_at', statement.printed_at, 'datetime')
    workbook.close()
    return content.getvalue()


class StatementOutput(Report):
    "The base of the statements' outputs: the values, read once"

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        # Report.execute checked the action's groups and the caller's
        # read access to the statements: read them as root
        context['statements'] = statement_values(records)
        return context

    @classmethod
    def execute(cls, ids, data):
        # without the action (code, not the client), find it whatever the
        # caller may read, so that check_access refuses a caller outside
        # the action's groups with an access error
        data = dict(data or {})
        if data.get('action_id') is None:
            data['action_id'] = cls._action().id
        return super().execute(ids, data)

    @classmethod
    def _action(cls):
        ActionReport = Pool().get('ir.action.report')
        with trusted():
            action, = ActionReport.search([
                    ('report_name', '=', cls.__name__),
                    ], limit=1)
        return action

    @classmethod
    def output(cls, statements):
        """The output of the statements (records or ids) as bytes, read as
        root: for callers that checked who may read them"""
        pool = Pool()
        Statement = pool.get('distributor.account.statement')
        with trusted():
            action = cls._action()
            records = Statement.browse([int(s) for s in statements])
            context = cls.get_context(records, {}, {})
            _, content = cls.convert(action, cls.render(action, context))
        return bytes(content)


class StatementPDF(StatementOutput):
    "Statement of Account (PDF)"
    __name__ = 'distributor.account.statement.pdf'

    @classmethod
    def render(cls, report, report_context):
        content = report.report_content
        source = None
        if content:
            source = (content.decode('utf-8')
                if isinstance(content, bytes) else content)
        return render_html(report_context['statements'], source)

    @classmethod
    def convert(cls, report, data, **kwargs):
        return 'pdf', html_to_pdf(data)


class StatementXLSX(StatementOutput):
    "Statement of Account (Excel)"
    __name__ = 'distributor.account.statement.xlsx'

    @classmethod
    def render(cls, report, report_context):
        return render_xlsx(report_context['statements'])

    @classmethod
    def convert(cls, report, data, **kwargs):
        return 'xlsx', data


def statement_pdf(statements):
    "The PDF of the statements (records or ids), one per page: bytes"
    return Pool().get(
        'distributor.account.statement.pdf', type='report').output(
        statements)


def statement_xlsx(statements):
    "The workbook of the statements (records or ids), one sheet each: bytes"
    return Pool().get(
        'distributor.account.statement.xlsx', type='report').output(
        statements)
