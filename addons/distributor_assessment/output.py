# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The shared exporters of the assessments and the analyses
(distributor_report/export.py): a table of typed columns to Excel
(xlsxwriter in constant memory: the rows stream from an iterator, so a
million rows do not sit in memory) or to PDF (an HTML template under
report/, rendered with Jinja2, converted by weasyprint like the
statements of distributor_account/output.py), with the title and the
filters used printed on top.

- ``columns``: ``Column(label, type, width)`` (or a (label, type, width)
  tuple, or a dict with those keys); type one of TYPES:
  text, integer, number, amount, percent (a percentage: 12.5 is 12.5 %,
  written as the fraction 0.125 with a percent format), date; label a
  text or a (label, English label) pair (see ``labels``).
- ``filters``: [(label, value)], printed 'label: value', one per line;
  values as text (records by their names: the caller resolves them).
- ``rows``: an iterable of sequences in the order of the columns.

The limits (MAX_XLSX_ROWS, MAX_PDF_ROWS) are refused with ExportError
naming them: when the caller counted first (``count``) before anything is
written, otherwise as soon as the stream passes the limit.

The reports of the assessment runs (``distributor.assessment.run.xlsx``
and ``.pdf``) print a run's results under the caller's record rules (a
rep: the results of its territories)."""
import datetime as dt
import functools
import io
import os
import re
from collections import namedtuple
from decimal import Decimal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from distributor.access import trusted
from distributor_account.output import _sheet_name, bilingual, html_to_pdf

HERE = os.path.dirname(__file__)
MAX_XLSX_ROWS = 1_000_000
MAX_PDF_ROWS = 5_000
# the rows of the data a chart over a column covers at most
MAX_CHART_ROWS = 1_000
# rows read at once by the reports
BATCH = 1_000
TYPES = {'text', 'integer', 'number', 'amount', 'percent', 'date'}
NUMBER_FORMATS = {
    'integer': '#,##0',
    'number': '#,##0.00',
    'amount': '#,##0.00',
    'percent': '0.00%',
    'date': 'yyyy-mm-dd',
    }
CHART_TYPES = {'column', 'bar', 'pie', 'line'}
MAX_TEXT = 32_767

Column = namedtuple('Column', ['label', 'type', 'width'],
    defaults=['text', 14])


class ExportError(UserError):
    "An export is refused (beyond its limit of rows)"


environment = Environment(
    loader=FileSystemLoader(os.path.join(HERE, 'report')),
    autoescape=select_autoescape(['html', 'xml']),
    trim_blocks=True, lstrip_blocks=True)
# a text inside a CSS string (the margin boxes of the pages)
environment.filters['cssstring'] = lambda value: Markup(re.sub(
        r'["\'\\\n<>&]', lambda m: '\\%x ' % ord(m.group()), str(value)))


def _is_english():
    return (Transaction().language or 'en').split('_')[0] == 'en'


def labels(get):
    """(label in the user's language, English label) of get(), a callable
    reading a translated string (a field's string, a gettext message),
    called a second time in English when the user reads another language:
    bilingual headers as the statements print them"""
    label = get()
    if _is_english():
        return (label, label)
    with Transaction().set_context(language='en'):
        english = get()
    return (label, english)


def field_label(Model, name):
    "(label, English label) of the field name of Model (see labels)"
    return labels(lambda: Model.fields_get([name])[name]['string'])


def message_label(message_id, **variables):
    "(label, English label) of the message (see labels)"
    return labels(lambda: gettext(message_id, **variables))


def _text(label, separator=' '):
    if isinstance(label, (tuple, list)):
        return bilingual(tuple(label), separator)
    return '' if label is None else str(label)


def _columns(columns):
    "The columns as Column, checked"
    result = []
    for column in columns:
        if isinstance(column, dict):
            column = Column(**column)
        elif not isinstance(column, Column):
            column = Column(*column)
        if column.type not in TYPES:
            raise ValueError(f'unknown column type {column.type!r}')
        result.append(column)
    return result


def _filter_text(value):
    "A filter's value as text"
    if value is None:
        return ''
    if isinstance(value, (list, tuple, set)):
        return ', '.join(_filter_text(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.strftime('%Y-%m-%d %H:%M')
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return '✓' if value else '✗'
    return str(value)


def _too_many(kind, limit, count=None):
    "The ExportError of a kind ('xlsx', 'pdf') beyond its limit"
    if count is None:
        return ExportError(gettext(
                f'distributor_assessment.msg_output_{kind}_limit_streamed',
                limit=f'{limit:,}'))
    return ExportError(gettext(
            f'distributor_assessment.msg_output_{kind}_limit',
            limit=f'{limit:,}', count=f'{count:,}'))


def check_count(kind, count):
    """Refuse count rows for an export of kind ('xlsx' or 'pdf') beyond
    its limit, before anything is written"""
    limit = MAX_XLSX_ROWS if kind == 'xlsx' else MAX_PDF_ROWS
    if count is not None and count > limit:
        raise _too_many(kind, limit, count)


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def xlsx_export(title, filters, columns, rows, chart=None, count=None,
        sheet=None):
    """The workbook (bytes) of one sheet: the title, the filters (label:
    value, one per row), the header (frozen, with an autofilter over the
    data), then the typed rows streamed from the iterable rows.

    chart: an optional chart sheet, a dict with type (column, bar, pie,
    line), title, sheet (its name), and either category and value
    (indexes of the columns: the chart covers the first MAX_CHART_ROWS
    rows) or data [(category, value)] (or a callable answering them, called
    once the rows are written), written on a sheet of their own (data_sheet,
    labels: the headers of its two columns).
    count: the number of rows when the caller counted them (refused
    beyond MAX_XLSX_ROWS before anything is written)."""
    import xlsxwriter
    check_count('xlsx', count)
    columns = _columns(columns)
    if chart and chart.get('type', 'column') not in CHART_TYPES:
        raise ValueError(f'unknown chart type {chart.get("type")!r}')
    content = io.BytesIO()
    workbook = xlsxwriter.Workbook(content, {
            'constant_memory': True,
            'default_date_format': 'yyyy-mm-dd',
            })
    try:
        font = {'font_name': 'Arial'}
        styles = {
            'title': workbook.add_format({**font, 'bold': True,
                    'font_size': 14}),
            'filter': workbook.add_format({**font, 'font_color': '#333333'}),
            'header': workbook.add_format({**font, 'bold': True,
                    'bg_color': '#DDE4EE', 'border': 1, 'text_wrap': True,
                    'valign': 'vcenter', 'align': 'center'}),
            'text': workbook.add_format({**font}),
            }
        for type_, number_format in NUMBER_FORMATS.items():
            styles[type_] = workbook.add_format({
                    **font, 'num_format': number_format})
        used = set()
        title_text = _text(title)
        worksheet = workbook.add_worksheet(
            _sheet_name(_text(sheet) if sheet else title_text, used))
        worksheet.set_paper(9)
        worksheet.set_landscape()
        worksheet.fit_to_pages(1, 0)
        worksheet.set_footer('&L&A&R&P / &N')
        for index, column in enumerate(columns):
            worksheet.set_column(index, index, column.width)
        row = 0
        worksheet.write_string(row, 0, title_text[:MAX_TEXT],
            styles['title'])
        row += 1
        for label, value in filters or []:
            worksheet.write_string(row, 0,
                f'{_text(label)}: {_filter_text(value)}'[:MAX_TEXT],
                styles['filter'])
            row += 1
        row += 1
        header = row
        multiline = False
        for index, column in enumerate(columns):
            text = _text(column.label, '\n')
            multiline |= '\n' in text
            worksheet.write_string(row, index, text, styles['header'])
        if multiline:
            worksheet.set_row(row, 30)
        worksheet.freeze_panes(header + 1, 0)
        worksheet.repeat_rows(header)
        writers = [_writer(worksheet, column.type, styles)
            for column in columns]
        first = header + 1
        last = header + MAX_XLSX_ROWS
        for values in rows:
            row += 1
            if row > last:
                raise _too_many('xlsx', MAX_XLSX_ROWS)
            for index, (write, value) in enumerate(zip(writers, values)):
                if value is not None:
                    write(row, index, value)
        if columns:
            worksheet.autofilter(header, 0, max(row, header),
                len(columns) - 1)
        if chart:
            _chart(workbook, worksheet, chart, columns, first, row, used)
        workbook.close()
    except BaseException:
        # the temporary files of constant_memory
        for worksheet in workbook.worksheets():
            handle = getattr(worksheet, 'row_data_fh', None)
            if handle and not handle.closed:
                handle.close()
        raise
    return content.getvalue()


def _writer(worksheet, type_, styles):
    "The function writing a value of the type in (row, col)"
    style = styles.get(type_, styles['text'])
    if type_ == 'text':
        def write(row, col, value):
            if isinstance(value, (list, tuple)):
                value = _text(value)
            worksheet.write_string(row, col, str(value)[:MAX_TEXT], style)
    elif type_ == 'date':
        def write(row, col, value):
            if isinstance(value, str):
                value = dt.date.fromisoformat(value)
            worksheet.write_datetime(row, col, value, style)
    elif type_ == 'percent':
        def write(row, col, value):
            worksheet.write_number(row, col, float(value) / 100, style)
    else:
        def write(row, col, value):
            worksheet.write_number(row, col, _number(value), style)
    return write


def _chart(workbook, worksheet, spec, columns, first, last, used):
    "Add the chart sheet of spec (see xlsx_export)"
    kind = spec.get('type', 'column')
    title = _text(spec.get('title') or '')
    chart = workbook.add_chart({'type': kind})
    if spec.get('data') is not None:
        data = spec['data']
        data = list(data() if callable(data) else data)
        data_sheet = workbook.add_worksheet(
            _sheet_name(_text(spec.get('data_sheet') or title or 'Data'),
                used))
        heads = spec.get('labels') or ('', '')
        data_sheet.write_string(0, 0, _text(heads[0]))
        data_sheet.write_string(0, 1, _text(heads[1]))
        data_sheet.set_column(0, 1, 18)
        for index, (category, value) in enumerate(data, 1):
            data_sheet.write_string(index, 0, _text(category))
            data_sheet.write_number(index, 1, _number(value or 0))
        rows = max(len(data), 1)
        chart.add_series({
                'name': _text(heads[1]) or title,
                'categories': [data_sheet.name, 1, 0, rows, 0],
                'values': [data_sheet.name, 1, 1, rows, 1],
                **({'data_labels': {'value': True}}
                    if kind != 'pie' else {
                        'data_labels': {'percentage': True,
                            'category': True}}),
                })
    else:
        category, value = spec['category'], spec['value']
        end = max(min(last, first + MAX_CHART_ROWS - 1), first)
        chart.add_series({
                'name': _text(columns[value].label),
                'categories': [worksheet.name, first, category, end,
                    category],
                'values': [worksheet.name, first, value, end, value],
                })
    chart.set_title({'name': title})
    if kind == 'pie':
        chart.set_legend({'position': 'right'})
    else:
        chart.set_legend({'none': True})
    chartsheet = workbook.add_chartsheet(
        _sheet_name(_text(spec.get('sheet') or title or 'Chart'), used))
    chartsheet.set_chart(chart)


# the PDF

def _cell(type_, value):
    "A value as the PDF prints it"
    if value is None:
        return ''
    if type_ == 'text':
        return _text(value)
    if type_ == 'date':
        return _filter_text(value)
    if type_ == 'integer':
        return f'{int(value):,}'
    if type_ == 'percent':
        return f'{Decimal(str(value)).quantize(Decimal("0.01")):,} %'
    return f'{Decimal(str(value)).quantize(Decimal("0.01")):,}'


@functools.lru_cache(maxsize=1)
def _template():
    return environment.get_template('export.html')


def pdf_export(title, filters, columns, rows, count=None, source=None):
    """The PDF (bytes) of the table: A4 landscape, the title and the
    filters on top, the header repeated on every page, page numbers.
    Refused beyond MAX_PDF_ROWS rows (count: when the caller counted
    first, before anything is rendered). source: a Jinja2 template's text
    replacing report/export.html"""
    check_count('pdf', count)
    columns = _columns(columns)
    lines = []
    for values in rows:
        if len(lines) >= MAX_PDF_ROWS:
            raise _too_many('pdf', MAX_PDF_ROWS)
        lines.append([_cell(c.type, v) for c, v in zip(columns, values)])
    template = (environment.from_string(source) if source
        else _template())
    now = dt.datetime.now().replace(second=0, microsecond=0)
    html = template.render(
        title=_text(title),
        filters=[(_text(label), _filter_text(value))
            for label, value in filters or []],
        columns=[SimpleColumn(_text(c.label, '\n').split('\n'), c.type,
                c.width) for c in columns],
        rows=lines,
        page=_text(message_label('distributor_assessment.msg_output_page')),
        printed=(_text(message_label(
                    'distributor_assessment.msg_output_printed')),
            now.strftime('%Y-%m-%d %H:%M')),
        no_rows=_text(message_label(
                'distributor_assessment.msg_output_no_rows')),
        )
    return html_to_pdf(html)


SimpleColumn = namedtuple('SimpleColumn', ['labels', 'type', 'width'])


# the reports of the assessment runs

class ExportReport(Report):
    """A report whose content an exporter makes (render answers the
    bytes): execute finds its action whoever calls (Tryton then checks the
    action's groups and the read access to the records)"""

    @classmethod
    def execute(cls, ids, data):
        data = dict(data or {})
        if data.get('action_id') is None:
            ActionReport = Pool().get('ir.action.report')
            with trusted():
                action, = ActionReport.search([
                        ('report_name', '=', cls.__name__),
                        ], limit=1)
            data['action_id'] = action.id
        return super().execute(ids, data)

    @classmethod
    def render(cls, report, report_context):
        return cls.export(report, report_context)

    @classmethod
    def export(cls, report, report_context):
        raise NotImplementedError


def run_table(run):
    """(title, filters, columns, rows, grades) of an assessment run's
    results: the results are searched under the caller's record rules
    (Report.execute runs with the caller's access), read in batches; rows
    an iterator; grades {grade: count} of the results read"""
    pool = Pool()
    Run = pool.get('distributor.assessment.run')
    Result = pool.get('distributor.assessment.result')
    ResultKpi = pool.get('distributor.assessment.result.kpi')
    Kpi = pool.get('distributor.assessment.kpi')
    title = message_label('distributor_assessment.msg_output_run_title',
        number=run.number or str(run.id))
    filters = [
        (message_label('distributor_assessment.msg_output_period'),
            f'{_filter_text(run.start_date)} – '
            f'{_filter_text(run.end_date)}'),
        ]
    for name in ['template', 'territory', 'tier']:
        value = getattr(run, name, None)
        if value is not None:
            filters.append((field_label(Run, name), value.rec_name))
    distributors = getattr(run, 'distributors', None)
    if distributors:
        filters.append((field_label(Run, 'distributors'),
                [d.rec_name for d in distributors]))
    filters.append((field_label(Run, 'state'),
            dict(Run.fields_get(['state'])['state']['selection']).get(
                run.state, run.state)))
    # the results the caller may read (a rep: its territories)
    ids = [r.id for r in Result.search([('run', '=', run.id)],
            order=[('rank', 'ASC NULLS LAST'), ('id', 'ASC')])]
    # the KPIs of the run, in the template's order when it has lines
    result_kpi = ResultKpi.__table__()
    with trusted():
        cursor = Transaction().connection.cursor()
        result = Result.__table__()
        cursor.execute(*result_kpi.join(result,
                condition=result_kpi.result == result.id).select(
                result_kpi.kpi, where=result.run == run.id,
                group_by=[result_kpi.kpi]))
        kpi_ids = [k for k, in cursor]
        order = {}
        template = getattr(run, 'template', None)
        for line in getattr(template, 'lines', None) or []:
            order.setdefault(line.kpi.id, (line.sequence or 0, line.id))
        kpis = sorted(Kpi.browse(kpi_ids),
            key=lambda k: (order.get(k.id, (1 << 30, 0)), k.id))
        kpi_labels = labels(lambda: {k.id: k.name for k in Kpi.browse(
                    [k.id for k in kpis])})
    columns = [
        Column(field_label(Result, 'rank'), 'integer', 7),
        Column(message_label('distributor_assessment.msg_output_code'),
            'text', 12),
        Column(field_label(Result, 'distributor'), 'text', 28),
        Column(field_label(Result, 'territory'), 'text', 16),
        Column(field_label(Result, 'tier'), 'text', 14),
        ]
    for kpi in kpis:
        columns.append(Column(
                (kpi_labels[0][kpi.id], kpi_labels[1][kpi.id]), 'number',
                12))
    columns.extend([
            Column(field_label(Result, 'computed_score'), 'number', 11),
            Column(field_label(Result, 'adjustment'), 'number', 11),
            Column(field_label(Result, 'score'), 'number', 10),
            Column(field_label(Result, 'grade'), 'text', 8),
            Column(field_label(Result, 'rank_territory'), 'integer', 10),
            Column(field_label(Result, 'rank_tier'), 'integer', 10),
            ])
    grades = {}
    names = ['rank', 'distributor', 'territory.rec_name', 'tier.rec_name',
        'computed_score', 'adjustment', 'score', 'grade', 'rank_territory',
        'rank_tier']

    def rows():
        Party = pool.get('party.party')
        for sub_ids in grouped_slice(ids, BATCH):
            sub_ids = list(sub_ids)
            records = {r['id']: r for r in Result.read(sub_ids, names)}
            # the results were read under the rules: their parties and
            # KPI rows follow them
            with trusted():
                parties = {p.id: p for p in Party.browse(list({
                                r['distributor'] for r in records.values()
                                if r['distributor']}))}
                scores = {}
                for line in ResultKpi.search_read(
                        [('result', 'in', sub_ids)],
                        fields_names=['result', 'kpi', 'score']):
                    scores[(line['result'], line['kpi'])] = line['score']
            for id_ in sub_ids:
                record = records[id_]
                party = parties.get(record['distributor'])
                grades[record['grade']] = grades.get(record['grade'], 0) + 1
                yield ([record['rank'],
                        (getattr(party, 'distributor_code', None)
                            or getattr(party, 'code', None)) if party
                        else None,
                        party.name if party else None,
                        (record.get('territory.') or {}).get('rec_name'),
                        (record.get('tier.') or {}).get('rec_name'),
                        ]
                    + [scores.get((id_, k.id)) for k in kpis]
                    + [record['computed_score'], record['adjustment'],
                        record['score'], record['grade'],
                        record['rank_territory'], record['rank_tier']])
    return title, filters, columns, rows(), grades, len(ids)


class RunXLSX(ExportReport):
    "Assessment Results (Excel)"
    __name__ = 'distributor.assessment.run.xlsx'

    @classmethod
    def export(cls, report, report_context):
        run, = report_context['records']
        title, filters, columns, rows, grades, count = run_table(run)

        def distribution():
            # the grades are counted as the rows stream: the chart's data
            # is written once the data sheet is complete
            return [(grade, grades.get(grade, 0))
                for grade in ['A', 'B', 'C', 'D']]

        return xlsx_export(title, filters, columns, rows, count=count,
            sheet=run.number or str(run.id),
            chart={
                'type': 'column',
                'title': message_label(
                    'distributor_assessment.msg_output_grades'),
                'sheet': message_label(
                    'distributor_assessment.msg_output_chart'),
                'data_sheet': message_label(
                    'distributor_assessment.msg_output_grades'),
                'labels': (field_label(
                        Pool().get('distributor.assessment.result'),
                        'grade'),
                    message_label('distributor_assessment.msg_output_count')),
                'data': distribution,
                })

    @classmethod
    def convert(cls, report, data, **kwargs):
        return 'xlsx', data


class RunPDF(ExportReport):
    "Assessment Results (PDF)"
    __name__ = 'distributor.assessment.run.pdf'

    @classmethod
    def export(cls, report, report_context):
        run, = report_context['records']
        title, filters, columns, rows, grades, count = run_table(run)
        content = report.report_content
        source = None
        if content:
            source = (content.decode('utf-8')
                if isinstance(content, bytes) else content)
        return pdf_export(title, filters, columns, rows, count=count,
            source=source)

    @classmethod
    def convert(cls, report, data, **kwargs):
        return 'pdf', data
