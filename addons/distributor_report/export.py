# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Excel and PDF exports of the analyses (analysis.py, ranking.py, and any
list with a context model): the ``distributor.report.export`` wizard,
launched from the analysis's list, and ``export_analysis`` for code.

What is exported is what the caller sees: the rows of the model under its
access rows and record rules (a rep: its territories) and the filters of
its context (the context model's fields: dates, period, distributor,
tier, territory, category, product...), printed on top with the records'
names; the columns are the visible fields of the model's list view (or
the model's ``_export_columns``), typed (integers, amounts, percentages,
dates).  The rows are counted first and refused beyond the exporters'
limits (distributor_assessment/output.py) with the limit stated; then
they stream from one SQL query (the model's search under the rules, with
the columns of the list) in batches, never one big read."""
import datetime as dt
import re
from decimal import Decimal

from lxml import etree
from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateView, Wizard

from distributor.access import resolve, trusted
from distributor_assessment import output

from .exceptions import ExportError

BATCH = 1_000
# numeric fields named like these are percentages (12.5 = 12.5 %)
PERCENT = re.compile(r'(attainment|growth|ratio|rate|share|percent)$')
# the filters a context holds, in the order they print
FILTERS = ['company', 'from_date', 'to_date', 'date', 'period',
    'distributor', 'tier', 'territory', 'category', 'product']
FORMATS = {'xlsx', 'pdf'}
SKIPPED = {'one2many', 'many2many', 'binary', 'dict', 'multiselection'}
# the sparklines of the lists (a query per row, nothing to compute with)
TREND = re.compile(r'_trend$')


def _type(name, definition):
    "The exporter's column type of a field's definition (fields_get)"
    type_ = definition['type']
    if type_ in {'integer', 'biginteger'}:
        return 'integer'
    if type_ in {'float', 'numeric'}:
        if PERCENT.search(name):
            return 'percent'
        digits = definition.get('digits')
        if type_ == 'numeric' and (not isinstance(digits, (list, tuple))
                or digits[1] == 2 or not isinstance(digits[1], int)):
            return 'amount'
        return 'number'
    if type_ in {'date', 'datetime', 'timestamp'}:
        return 'date'
    return 'text'


def _width(type_, label):
    if type_ == 'text':
        return max(16, min(len(label) + 4, 40))
    return max(11, min(len(label) + 2, 20))


def list_fields(Model):
    """The names of the fields the model's list view shows (or the
    model's _export_columns), with their definitions in the user's
    language: [(name, definition)]"""
    names = getattr(Model, '_export_columns', None)
    if callable(names):
        names = names()
    if names is None:
        view = Model.fields_view_get(view_type='tree')
        tree = etree.fromstring(view['arch'])
        names = []
        for node in tree.iter('field'):
            if any(node.get(a) in {'1', 'True', 'true'}
                    for a in ['tree_invisible', 'invisible']):
                continue
            name = node.get('name')
            if name and name not in names:
                names.append(name)
    definitions = Model.fields_get(names)
    return [(n, definitions[n]) for n in names
        if n in definitions and definitions[n]['type'] not in SKIPPED
        and not TREND.search(n)]


def context_model(Model, context=None):
    """The context model of the analysis: the one the client names
    (``context_model``: sao sends the model of the filters of the screen
    the export is launched from), the model's ``_export_context_model``,
    or the one of the analysis's window action"""
    pool = Pool()
    ActWindow = pool.get('ir.action.act_window')
    if context is None:
        context = Transaction().context
    name = context.get('context_model')
    if isinstance(name, str) and name:
        try:
            return pool.get(name)
        except KeyError:
            pass
    name = getattr(Model, '_export_context_model', None)
    if name:
        return pool.get(name)
    with trusted():
        actions = ActWindow.search([
                ('res_model', '=', Model.__name__),
                ('context_model', '!=', None),
                ], order=[('id', 'ASC')], limit=1)
    if actions:
        return pool.get(actions[0].context_model)
    return None


def relevant_filter(Model, Context, name):
    """Whether the filter name of the context applies to the analysis
    (the model's ``_export_filters`` when it lists them): the channel
    analyses' context holds the stock date, the period and the product
    filters of every analysis; the rankings' the number of products"""
    names = getattr(Model, '_export_filters', None)
    if names is not None:
        return name in names
    model = Model.__name__
    stock = model.startswith('distributor.report.stock.')
    if name == 'period':
        # the time series only
        return 'date' in Model._fields and not stock
    if Context is not None \
            and Context.__name__ == 'distributor.report.context':
        if name == 'date':
            return stock
        if name in {'from_date', 'to_date'}:
            return not stock
        if name in {'category', 'product'}:
            return not model.startswith('distributor.report.receivable.')
    if name == 'limit':
        return model == 'distributor.report.ranking.product'
    return True


def context_filters(Model, context=None):
    """[(label, value as text)] of the filters of the context (the fields
    of the analysis's context model set in it): records by their names,
    resolved under the caller's rules (an id it may not reach is refused
    like one that does not exist)"""
    pool = Pool()
    if context is None:
        context = Transaction().context
    Context = context_model(Model, context)
    if Context is not None:
        definitions = Context.fields_get()
        names = [n for n in FILTERS if n in definitions] + sorted(
            n for n in definitions
            if n not in FILTERS and not n.startswith('_')
            and n not in {'id', 'rec_name', 'create_uid', 'create_date',
                'write_uid', 'write_date'})
    else:
        definitions = {}
        names = FILTERS
    filters = []
    for name in names:
        value = context.get(name)
        if value is None or value == [] or value == '':
            continue
        if not relevant_filter(Model, Context, name):
            continue
        definition = definitions.get(name, {})
        label = output.labels(
            lambda: (Context.fields_get([name])[name]['string']
                if Context is not None else name.replace('_', ' ').title()))
        type_ = definition.get('type')
        relation = definition.get('relation')
        if type_ in {'many2one', 'many2many', 'one2many'} and relation:
            Target = pool.get(relation)
            values = value if isinstance(value, (list, tuple)) else [value]
            with check_access():
                records = resolve(Target, list(values), name)
            text = ', '.join(r.rec_name for r in records)
        elif type_ == 'selection' and isinstance(
                definition.get('selection'), (list, tuple)):
            text = dict(definition['selection']).get(value, value)
        elif isinstance(value, str) and type_ == 'date':
            text = value
        else:
            text = value
        filters.append((label, text))
    return filters


class _Rows:
    """The rows of the model under the caller's rules, streamed from one
    query in batches: the stored fields from SQL, the other ones (functions)
    read batch by batch; many2one fields as their records' names"""

    def __init__(self, Model, columns, domain):
        self.Model = Model
        self.columns = columns
        self.domain = domain

    def count(self):
        with check_access():
            return self.Model.search(self.domain, count=True)

    def _query(self):
        Model = self.Model
        with check_access():
            query = Model.search(self.domain, query=True)
        main = query.columns[0].expression.table
        columns = [main.id.as_('id')]
        self.stored, self.computed = [], []
        for name, definition in self.columns:
            field = Model._fields[name]
            if (isinstance(field, fields.Function)
                    or not getattr(field, 'sql_column', None)
                    or definition['type'] in {'reference'}):
                self.computed.append(name)
            else:
                self.stored.append(name)
                columns.append(field.sql_column(
                    {None: (main, None)}, Model).as_(name))
        query.columns = columns
        return query

    def __iter__(self):
        pool = Pool()
        Model = self.Model
        query = self._query()
        transaction = Transaction()
        if backend.name == 'postgresql':
            cursor = transaction.connection.cursor(
                name='distributor_report_export')
            cursor.itersize = BATCH
        else:
            cursor = transaction.connection.cursor()
        cursor.execute(*query)
        names = {}
        try:
            while True:
                batch = cursor.fetchmany(BATCH)
                if not batch:
                    break
                values = [dict(zip(['id'] + self.stored, r)) for r in batch]
                if self.computed:
                    with check_access():
                        read = {r['id']: r for r in Model.read(
                                [v['id'] for v in values], self.computed)}
                    for value in values:
                        value.update(read[value['id']])
                # the names of the records the rows (read under the rules)
                # show
                for name, definition in self.columns:
                    if definition['type'] != 'many2one':
                        continue
                    cache = names.setdefault(name, {})
                    missing = {v[name] for v in values
                        if v[name] is not None and v[name] not in cache}
                    if missing:
                        Target = pool.get(definition['relation'])
                        with trusted():
                            for record in Target.read(
                                    list(missing), ['rec_name']):
                                cache[record['id']] = record['rec_name']
                    if len(cache) > 10 * BATCH:
                        keep = {v[name] for v in values}
                        names[name] = cache = {
                            k: v for k, v in cache.items() if k in keep}
                for value in values:
                    yield [self._cell(name, definition, value[name], names)
                        for name, definition in self.columns]
        finally:
            cursor.close()

    @staticmethod
    def _cell(name, definition, value, names):
        if value is None:
            return None
        type_ = definition['type']
        if type_ == 'many2one':
            return names[name].get(value, str(value))
        if type_ == 'selection':
            selection = definition.get('selection')
            if isinstance(selection, (list, tuple)):
                return dict(selection).get(value, value)
            return value
        if type_ == 'boolean':
            return '✓' if value else ''
        if type_ in {'numeric', 'float'} and not isinstance(
                value, (Decimal, float, int)):
            return Decimal(str(value))
        if type_ == 'date' and isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
        if type_ in {'datetime', 'timestamp'} and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if type_ in {'char', 'text', 'reference'}:
            return str(value)
        return value


def _title(Model):
    "(title, English title) of the model (its description)"
    def get():
        with trusted():
            return Model.__names__()['model']
    return output.labels(get)


def export_analysis(model, format_, domain=None, context=None):
    """(filename, content) of the export of the analysis model (its name)
    to format_ ('xlsx' or 'pdf') as the caller: the rows matching domain
    under its access rules and the filters of context (the transaction's
    by default), the columns of the model's list view.

    Refused with ExportError beyond the limit of the format (counted
    first) or when the caller may not read the model."""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    if format_ not in FORMATS:
        raise ExportError(gettext('distributor_report.msg_export_format',
                format=str(format_)[:20]))
    Model = pool.get(model)
    if context is not None:
        with Transaction().set_context(context):
            return export_analysis(model, format_, domain)
    with check_access():
        ModelAccess.check(model, 'read')
    definitions = list_fields(Model)
    if not definitions:
        raise ExportError(gettext('distributor_report.msg_export_no_columns',
                model=_title(Model)[0]))
    columns = []
    for name, definition in definitions:
        type_ = _type(name, definition)
        label = output.field_label(Model, name)
        columns.append(output.Column(label, type_,
                _width(type_, label[0])))
    types = getattr(Model, '_export_types', None) or {}
    for index, (name, _) in enumerate(definitions):
        if name in types:
            columns[index] = columns[index]._replace(type=types[name])
    rows = _Rows(Model, definitions, list(domain or []))
    count = rows.count()
    limit = output.MAX_XLSX_ROWS if format_ == 'xlsx' else output.MAX_PDF_ROWS
    if count > limit:
        raise ExportError(gettext(
                f'distributor_report.msg_export_{format_}_limit',
                count=f'{count:,}', limit=f'{limit:,}'))
    filters = context_filters(Model)
    title = _title(Model)
    if format_ == 'xlsx':
        content = output.xlsx_export(title, filters, columns, rows,
            count=count, chart=_chart(definitions, columns))
    else:
        content = output.pdf_export(title, filters, columns, rows,
            count=count)
    today = pool.get('ir.date').today()
    slug = re.sub(r'[^0-9A-Za-z]+', '_', title[1]).strip('_').lower()
    return f'{slug or "export"}_{today.isoformat()}.{format_}', content


def _chart(definitions, columns):
    "A column chart of the first amount by the first text column, if any"
    category = next((i for i, c in enumerate(columns) if c.type == 'text'),
        None)
    value = next((i for i, c in enumerate(columns) if c.type == 'amount'),
        None)
    if category is None or value is None:
        return None
    return {
        'type': 'column',
        'title': columns[value].label,
        'sheet': output.message_label(
            'distributor_assessment.msg_output_chart'),
        'category': category,
        'value': value,
        }


class ExportStart(ModelView):
    "Export an Analysis"
    __name__ = 'distributor.report.export.start'
    format = fields.Selection([
            ('xlsx', "Excel"),
            ('pdf', "PDF"),
            ], "Format", required=True)
    rows = fields.Integer("Rows", readonly=True)
    filters = fields.Text("Filters", readonly=True)

    @classmethod
    def default_format(cls):
        return 'xlsx'


class ExportResult(ModelView):
    "Exported Analysis"
    __name__ = 'distributor.report.export.result'
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class Export(Wizard):
    "Export an Analysis to Excel or PDF"
    __name__ = 'distributor.report.export'
    start = StateView('distributor.report.export.start',
        'distributor_report.export_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('distributor.report.export.result',
        'distributor_report.export_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def _model(self):
        """The analysis the wizard is launched from: one it is bound to
        (export.xml's form_action keywords), else refused"""
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        ActionWizard = pool.get('ir.action.wizard')
        ModelData = pool.get('ir.model.data')
        model = Transaction().context.get('active_model')
        try:
            Model = pool.get(model) if isinstance(model, str) else None
        except KeyError:
            Model = None
        bound = False
        if Model is not None and hasattr(Model, 'table_query'):
            with trusted():
                wizard = ActionWizard(ModelData.get_id(
                        'distributor_report', 'wizard_export'))
                bound = bool(Keyword.search([
                            ('keyword', '=', 'form_action'),
                            ('model', '=', f'{model},-1'),
                            ('action', '=', wizard.action.id),
                            ], limit=1))
        if not bound:
            raise ExportError(gettext('distributor_report.msg_export_model'))
        return model

    def default_start(self, fields):
        Model = Pool().get(self._model())
        rows = _Rows(Model, [], [])
        return {
            'rows': rows.count(),
            'filters': '\n'.join(
                f'{output.bilingual(label)}: {output._filter_text(value)}'
                for label, value in context_filters(Model)),
            }

    def default_result(self, fields):
        filename, content = export_analysis(
            self._model(), self.start.format or 'xlsx')
        return {'file': content, 'filename': filename}

