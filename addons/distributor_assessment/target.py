# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Sales targets (销售目标) of a distributor over a period: an amount and/or
a quantity, for every product or for a product category (and the
categories below it); set by hand, imported from Excel, or spread from a
territory target by each distributor's share of last year's sell-in.

The actuals are the distributor's sell-in (sales.sell_in_lines) over the
target's period, read for many targets in one query; attainment = actual
÷ target (the amount when set, else the quantity)."""
import datetime as dt
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import xlsxwriter
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sql import Literal, Null, Union, With
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from distributor.access import entry_point, trusted
from distributor.document import Document, DocumentLog
from distributor.import_ import _text

from . import sales
from .exceptions import TargetError, TargetValidationError

ZERO = Decimal(0)
CENT = Decimal('0.01')
HUNDRED = Decimal(100)
# ids per query (trytond 8's grouped_slice without a size slices by 1)
IN_MAX = 1000
# the most rows an import file may hold
MAX_IMPORT_ROWS = 10000
MAX_IMPORT_ERRORS = 50

STATES = [
    ('draft', "Draft"),
    ('confirmed', "Confirmed"),
    ('cancelled', "Cancelled"),
    ]
# (column key, required) of the import file, in template order
IMPORT_COLUMNS = [
    ('distributor', True),
    ('start_date', True),
    ('end_date', True),
    ('category', False),
    ('amount', False),
    ('quantity', False),
    ]


def _decimal(value, exp=CENT):
    "A SQL numeric as a Decimal (SQLite may answer bytes or floats)"
    if isinstance(value, bytes):
        value = value.decode()
    return Decimal(str(value or 0)).quantize(exp)


def _date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def year_before(date):
    "The same day a year before (February 29th: the 28th)"
    try:
        return date.replace(year=date.year - 1)
    except ValueError:
        return date.replace(year=date.year - 1, day=28)


def category_closure(categories):
    """A recursive query of (ancestor, category) pairs: each of categories
    (a list of ids or a query of ids) with itself and every category
    below it"""
    Category = Pool().get('product.category')
    anchor = Category.__table__()
    child = Category.__table__()
    if isinstance(categories, (list, tuple, set)):
        categories = sorted(categories) or [-1]
    closure = With('ancestor', 'category', recursive=True)
    closure.query = Union(
        anchor.select(anchor.id, anchor.id,
            where=anchor.id.in_(categories)),
        child.join(closure, condition=child.parent == closure.category
            ).select(closure.ancestor, child.id),
        all_=True)
    return closure


def in_category(product, category, closure):
    """The condition that product (a column) is in category (a column)
    or one of its children, closure from category_closure"""
    pool = Pool()
    Product = pool.get('product.product')
    TemplateCategory = pool.get('product.template-product.category')
    product_t = Product.__table__()
    template_category = TemplateCategory.__table__()
    return Exists(product_t
        .join(template_category,
            condition=template_category.template == product_t.template)
        .join(closure, condition=closure.category
            == template_category.category)
        .select(Literal(1),
            where=(product_t.id == product)
            & (closure.ancestor == category)))


def split(total, weights, exp):
    """total split by weights (>= 0; all equal when they sum to 0), each
    part rounded to exp, the remainder on the largest weight (the first
    one among equals): the parts sum exactly to total"""
    if not weights:
        return []
    weights = [max(Decimal(w), ZERO) for w in weights]
    whole = sum(weights)
    if not whole:
        weights = [Decimal(1)] * len(weights)
        whole = Decimal(len(weights))
    parts = [(total * w / whole).quantize(exp, rounding=ROUND_HALF_UP)
        for w in weights]
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    parts[largest] += total - sum(parts)
    return parts


class Target(Document, ModelSQL, ModelView):
    """Sales Target

    What a distributor should buy from the brand over a period: an amount
    and/or a quantity, of every product or of a category"""
    __name__ = 'distributor.target'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {'state_logs'}
    _dms_free_fields = {'origin_note'}
    _dms_log_model = 'distributor.target.log'
    _dms_reason_states = set()

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='RESTRICT',
        states=_draft)
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='RESTRICT',
        states=_draft, domain=[('is_distributor', '=', True)])
    start_date = fields.Date("From", required=True, states=_draft)
    end_date = fields.Date("To", required=True, states=_draft)
    category = fields.Many2One(
        'product.category', "Category", ondelete='RESTRICT', states=_draft,
        help="Only the products of this category and of the categories "
        "below it (empty: every product).")
    amount = fields.Numeric(
        "Target Amount", digits=(16, 2), states=_draft)
    quantity = fields.Float(
        "Target Quantity", digits=(16, 2), states=_draft)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    actual_amount = fields.Function(fields.Numeric(
            "Actual Amount", digits=(16, 2),
            help="The distributor's sell-in over the period."),
        'get_actuals')
    actual_quantity = fields.Function(fields.Float(
            "Actual Quantity", digits=(16, 2),
            help="The quantity of the distributor's sell-in over the "
            "period."),
        'get_actuals')
    attainment = fields.Function(fields.Numeric(
            "Attainment (%)", digits=(16, 2),
            help="Actual ÷ target: the amount when set, else the "
            "quantity."),
        'get_actuals')
    period = fields.Function(fields.Date(
            "Period",
            help="Search the targets whose period includes a date, or "
            "overlaps a range of dates."),
        'get_period', searcher='search_period')
    origin_note = fields.Char(
        "Origin", help="Where the target comes from (a spread, a file).")
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')
    state_logs = fields.One2Many(
        'distributor.target.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.distributor, Index.Range()),
                    (t.start_date, Index.Range())),
                })
        cls._order = [('start_date', 'DESC'), ('distributor', 'ASC'),
            ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'confirmed'),
            ('draft', 'cancelled'),
            ('confirmed', 'cancelled'),
            ('confirmed', 'draft'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'confirmed']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'draft': {
                    'invisible': ~Eval('state').in_(
                        ['confirmed', 'cancelled']),
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                })
        cls.__rpc__.update({
                'dms_targets': RPC(),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        text = (f'{self.distributor.rec_name if self.distributor else ""} '
            f'{self.start_date or ""}..{self.end_date or ""}')
        if self.category:
            text += f' [{self.category.rec_name}]'
        return text

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('distributor.rec_name', operator, value),
            ('category.rec_name', operator, value),
            ('origin_note', operator, value),
            ]

    def get_period(self, name):
        return None

    @classmethod
    def search_period(cls, name, clause):
        "= a date: the period includes it; >= and <=: a range it overlaps"
        _, operator, value = clause[:3]
        if value is None:
            return []
        if operator == '=':
            return [('start_date', '<=', value), ('end_date', '>=', value)]
        if operator in {'>=', '>'}:
            return [('end_date', operator, value)]
        if operator in {'<=', '<'}:
            return [('start_date', operator, value)]
        if operator == '!=':
            return ['OR', ('start_date', '>', value),
                ('end_date', '<', value)]
        return []

    @classmethod
    def copy(cls, targets, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('state_logs', None)
        default.setdefault('origin_note', None)
        return super().copy(targets, default=default)

    # Checks -------------------------------------------------------------

    @classmethod
    def validate_fields(cls, targets, field_names):
        super().validate_fields(targets, field_names)
        if {'amount', 'quantity', 'start_date', 'end_date'} & set(
                field_names):
            cls.check_values(targets)
        if {'distributor', 'category', 'start_date', 'end_date', 'state',
                'company'} & set(field_names):
            cls.check_overlap(targets)

    @classmethod
    def check_values(cls, targets):
        "No negative figure, at least one of them, the end after the start"
        for target in targets:
            for name in ['amount', 'quantity']:
                value = getattr(target, name)
                if value is not None and value < 0:
                    raise TargetValidationError(gettext(
                            'distributor_assessment.msg_target_negative',
                            target=target.rec_name,
                            field=cls.fields_get([name])[name]['string'],
                            value=value))
            if target.amount is None and target.quantity is None:
                raise TargetValidationError(gettext(
                        'distributor_assessment.msg_target_no_figure',
                        target=target.rec_name))
            if target.end_date < target.start_date:
                raise TargetValidationError(gettext(
                        'distributor_assessment.msg_target_period',
                        target=target.rec_name,
                        start=target.start_date, end=target.end_date))

    @classmethod
    def check_overlap(cls, targets):
        """No two targets of the same distributor and category (or both
        without) that are not cancelled share a day: one query for all
        the targets"""
        ids = [t.id for t in targets if t.state != 'cancelled']
        if not ids:
            return
        table = cls.__table__()
        other = cls.__table__()
        cursor = Transaction().connection.cursor()
        same_category = ((other.category == table.category)
            | ((other.category == Null) & (table.category == Null)))
        for sub_ids in grouped_slice(ids, IN_MAX):
            cursor.execute(*table.join(other,
                    condition=(other.distributor == table.distributor)
                    & same_category
                    & (other.company == table.company)
                    & (other.id != table.id)
                    & (other.state != 'cancelled')
                    & (other.start_date <= table.end_date)
                    & (other.end_date >= table.start_date)).select(
                    table.id, other.id,
                    where=reduce_ids(table.id, list(sub_ids))
                    & (table.state != 'cancelled'),
                    limit=1))
            row = cursor.fetchone()
            if row:
                target, other_target = cls.browse(row)
                raise TargetValidationError(gettext(
                        'distributor_assessment.msg_target_overlap',
                        distributor=target.distributor.rec_name,
                        category=(target.category.rec_name
                            if target.category else '-'),
                        start=target.start_date, end=target.end_date,
                        other_start=other_target.start_date,
                        other_end=other_target.end_date))

    # Actuals ------------------------------------------------------------

    @classmethod
    def actuals(cls, target_ids):
        """{target id: (actual amount, actual quantity)}: the sell-in of
        each target's distributor over its period (its category and the
        categories below, when it has one); one query"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        target_ids = [i for i in target_ids if i is not None and i >= 0]
        if not target_ids:
            return result
        for sub_ids in grouped_slice(target_ids, IN_MAX):
            sub_ids = list(sub_ids)
            # the categories of the targets and those below them
            with_target = cls.__table__()
            closure = category_closure(with_target.select(
                    with_target.category,
                    where=reduce_ids(with_target.id, sub_ids)
                    & (with_target.category != Null)))
            lines = sales.sell_in_lines()
            condition = ((lines.distributor == table.distributor)
                & (lines.company == table.company)
                & (lines.date >= table.start_date)
                & (lines.date <= table.end_date)
                & ((table.category == Null)
                    | in_category(lines.product, table.category, closure)))
            cursor.execute(*table.join(lines, 'LEFT',
                    condition=condition).select(
                    table.id,
                    Coalesce(Sum(lines.amount), 0),
                    Coalesce(Sum(lines.quantity), 0),
                    where=reduce_ids(table.id, sub_ids),
                    group_by=[table.id],
                    with_=[closure]))
            for id_, amount, quantity in cursor:
                result[id_] = (_decimal(amount), float(quantity or 0))
        return result

    @classmethod
    def get_actuals(cls, targets, names):
        "actual_amount, actual_quantity and attainment (one query)"
        result = {n: {} for n in names}
        actuals = cls.actuals([t.id for t in targets])
        for target in targets:
            amount, quantity = actuals.get(target.id, (ZERO, 0.0))
            if 'actual_amount' in names:
                result['actual_amount'][target.id] = amount
            if 'actual_quantity' in names:
                result['actual_quantity'][target.id] = round(quantity, 4)
            if 'attainment' in names:
                result['attainment'][target.id] = cls._attainment(
                    target.amount, target.quantity, amount, quantity)
        return result

    @staticmethod
    def _attainment(amount, quantity, actual_amount, actual_quantity):
        "actual ÷ target in %, 2 places; None when the target is 0"
        if amount is not None:
            if not amount:
                return None
            return (actual_amount * HUNDRED / amount).quantize(CENT)
        if quantity:
            return (Decimal(str(actual_quantity)) * HUNDRED
                / Decimal(str(quantity))).quantize(CENT)
        return None

    # Workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, targets):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, targets):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, targets):
        pass

    # Spread -------------------------------------------------------------

    @classmethod
    def _overlapping(cls, company, party_ids, start, end, category):
        """{party id: an existing target} of party_ids that is not
        cancelled, for category (or without), overlapping start..end"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        where = ((table.company == company) & (table.state != 'cancelled')
            & (table.start_date <= end) & (table.end_date >= start))
        if category:
            where &= table.category == category
        else:
            where &= table.category == Null
        for sub_ids in grouped_slice(party_ids, IN_MAX):
            cursor.execute(*table.select(table.distributor, table.id,
                    where=where & reduce_ids(table.distributor,
                        list(sub_ids))))
            for party, id_ in cursor:
                result.setdefault(party, id_)
        return result

    @classmethod
    def spread_shares(cls, company, territory, start, end, category=None):
        """[(party id, amount, quantity)] of the active distributors of
        territory and the territories below it, with their sell-in over
        the same period a year before (of category when given); one
        query"""
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        pairs = sales.distributor_territories()
        lines = sales.sell_in_lines()
        condition = ((lines.distributor == party.id)
            & (lines.company == company)
            & (lines.date >= year_before(start))
            & (lines.date <= year_before(end)))
        with_ = []
        if category:
            closure = category_closure([category])
            with_.append(closure)
            condition &= in_category(lines.product, category, closure)
        query = (pairs
            .join(party, condition=pairs.distributor == party.id)
            .join(lines, 'LEFT', condition=condition)
            .select(party.id,
                Coalesce(Sum(lines.amount), 0),
                Coalesce(Sum(lines.quantity), 0),
                where=(pairs.territory == territory)
                & (party.is_distributor == Literal(True))
                & (party.distributor_state == 'active')
                & (party.active == Literal(True)),
                group_by=[party.id],
                order_by=[party.id]))
        if with_:
            query.with_ = with_
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return [(p, _decimal(a), _decimal(q)) for p, a, q in cursor]

    @classmethod
    def spread(cls, territory, start, end, amount=None, quantity=None,
            category=None, company=None):
        """Create the draft targets of the active distributors of
        territory (and below) that split amount and quantity by their
        share of the sell-in over the same period a year before (equally
        when none bought); refused when one would overlap a target"""
        pool = Pool()
        Party = pool.get('party.party')
        if company is None:
            company = Transaction().context.get('company')
        company = int(company)
        territory_id = int(territory)
        category_id = int(category) if category else None
        if start is None or end is None or end < start:
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_spread_period',
                    start=start, end=end))
        if amount is None and quantity is None:
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_spread_no_figure'))
        for name, value in [('amount', amount), ('quantity', quantity)]:
            if value is not None and value < 0:
                raise TargetError(gettext(
                        'distributor_assessment.msg_target_spread_negative',
                        field=cls.fields_get([name])[name]['string'],
                        value=value))
        shares = cls.spread_shares(
            company, territory_id, start, end, category_id)
        Territory = pool.get('distributor.territory')
        territory = Territory(territory_id)
        if not shares:
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_spread_nobody',
                    territory=territory.rec_name))
        existing = cls._overlapping(company, [s[0] for s in shares],
            start, end, category_id)
        if existing:
            party = Party(min(existing))
            other = cls(existing[party.id])
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_spread_overlap',
                    distributor=party.rec_name,
                    start=other.start_date, end=other.end_date))
        amounts = quantities = [None] * len(shares)
        if amount is not None:
            amounts = split(Decimal(str(amount)).quantize(CENT),
                [s[1] for s in shares], CENT)
        if quantity is not None:
            quantities = [float(q) for q in split(
                    Decimal(str(quantity)).quantize(CENT),
                    [s[2] for s in shares], CENT)]
        note = gettext('distributor_assessment.msg_target_spread_note',
            territory=territory.rec_name, start=start, end=end)
        vlist = [{
                'company': company,
                'distributor': party_id,
                'start_date': start,
                'end_date': end,
                'category': category_id,
                'amount': a,
                'quantity': q,
                'origin_note': note,
                } for (party_id, _, _), a, q in zip(
                shares, amounts, quantities)]
        with trusted():
            return cls.create(vlist)

    # Import -------------------------------------------------------------

    @classmethod
    def import_targets(cls, data, filename=None, company=None):
        """Check every row of the workbook data, then create the draft
        targets; on any bad row nothing is written"""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_import_not_xlsx'))
        if company is None:
            company = Transaction().context.get('company')
        importer = TargetImporter(bytes(data), filename, int(company))
        with trusted():
            vlist = importer.validate(importer.rows())
            return cls.create(vlist)

    # Entry points -------------------------------------------------------

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_targets(cls, party):
        """The confirmed targets of party (a portal account: its own
        party only) with their actuals and attainment"""
        from distributor_account.statement import own_party
        own = own_party()
        if own is not None and own != party.id:
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_not_own',
                    party=party.rec_name))
        targets = cls.search([
                ('distributor', '=', party.id),
                ('state', '=', 'confirmed'),
                ], order=[('start_date', 'DESC'), ('id', 'DESC')],
            limit=500)
        actuals = cls.get_actuals(targets,
            ['actual_amount', 'actual_quantity', 'attainment'])

        def string(value):
            return str(value.quantize(CENT)) if value is not None else None
        return [{
                'id': t.id,
                'start': t.start_date.isoformat(),
                'end': t.end_date.isoformat(),
                'category': t.category.rec_name if t.category else None,
                'amount': string(t.amount),
                'quantity': t.quantity,
                'actual_amount': string(actuals['actual_amount'][t.id]),
                'actual_quantity': actuals['actual_quantity'][t.id],
                'attainment': string(actuals['attainment'][t.id]),
                } for t in targets]


class TargetLog(DocumentLog, ModelSQL, ModelView):
    "State history of a sales target"
    __name__ = 'distributor.target.log'

    document = fields.Many2One(
        'distributor.target', "Target", required=True,
        ondelete='CASCADE', readonly=True)


# Import -----------------------------------------------------------------

def import_template():
    "The bytes of the import template (.xlsx)"
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True})
    bold = workbook.add_format({'bold': True, 'bg_color': '#DDEBF7'})
    date_format = workbook.add_format({'num_format': 'yyyy-mm-dd'})
    money = workbook.add_format({'num_format': '#,##0.00'})
    sheet = workbook.add_worksheet('targets')
    for col, (key, _) in enumerate(IMPORT_COLUMNS):
        sheet.write(0, col, key, bold)
        sheet.set_column(col, col, 16)
    sheet.write(1, 0, 'D0001')
    sheet.write_datetime(1, 1, dt.datetime(2026, 1, 1), date_format)
    sheet.write_datetime(1, 2, dt.datetime(2026, 1, 31), date_format)
    sheet.write(1, 3, '')
    sheet.write_number(1, 4, 50000, money)
    sheet.write_number(1, 5, 1000)
    sheet.freeze_panes(1, 0)
    help_sheet = workbook.add_worksheet('help')
    help_sheet.set_column(0, 0, 16)
    help_sheet.set_column(1, 1, 90)
    for row, (key, required) in enumerate(IMPORT_COLUMNS):
        help_sheet.write(row, 0, key, bold)
        text = gettext(f'distributor_assessment.msg_target_import_help_{key}')
        if required:
            text += ' ' + gettext(
                'distributor_assessment.msg_target_import_help_required')
        help_sheet.write(row, 1, text)
    workbook.close()
    return output.getvalue()


class TargetImporter:
    "Read and check a workbook of targets"

    def __init__(self, data, filename, company):
        self.data = data
        self.filename = filename or 'targets.xlsx'
        self.company = company
        self.errors = []

    def error(self, row, column, msg_id, **kwargs):
        self.errors.append(gettext(
                'distributor_assessment.msg_target_import_row',
                row=row, column=column, reason=gettext(msg_id, **kwargs)))

    def rows(self):
        "[(row number, {column: value})] of the first sheet"
        try:
            workbook = load_workbook(
                io.BytesIO(self.data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError,
                ValueError, OSError):
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_import_not_xlsx'))
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            header = [_text(h) for h in (header or [])]
            while header and not header[-1]:
                header.pop()
            if not header:
                raise TargetError(gettext(
                        'distributor_assessment.msg_target_import_empty'))
            known = {k for k, _ in IMPORT_COLUMNS}
            unknown = [h for h in header if h not in known]
            missing = [k for k, required in IMPORT_COLUMNS
                if required and k not in header]
            duplicated = sorted({h for h in header if header.count(h) > 1})
            if unknown or missing or duplicated:
                raise TargetError(gettext(
                        'distributor_assessment.msg_target_import_columns',
                        unknown=', '.join(unknown) or '-',
                        missing=', '.join(missing) or '-',
                        duplicated=', '.join(duplicated) or '-'))
            result = []
            for number, values in enumerate(rows, 2):
                values = list(values[:len(header)])
                if not any(_text(v) for v in values):
                    continue
                if len(result) >= MAX_IMPORT_ROWS:
                    raise TargetError(gettext(
                            'distributor_assessment.msg_target_import_too_many',
                            maximum=MAX_IMPORT_ROWS))
                values += [None] * (len(header) - len(values))
                result.append((number, dict(zip(header, values))))
        finally:
            workbook.close()
        if not result:
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_import_empty'))
        return result

    def _date(self, number, key, value):
        if value in (None, ''):
            self.error(number, key,
                'distributor_assessment.msg_target_import_required')
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(_text(value).replace('/', '-'))
        except ValueError:
            self.error(number, key,
                'distributor_assessment.msg_target_import_bad_date',
                value=_text(value)[:40])

    def _number(self, number, key, value):
        if value in (None, ''):
            return None
        if isinstance(value, bool):
            value = _text(value)
        try:
            result = Decimal(_text(value).replace(',', ''))
        except ArithmeticError:
            result = None
        if result is None or not result.is_finite():
            self.error(number, key,
                'distributor_assessment.msg_target_import_bad_number',
                value=_text(value)[:40])
            return None
        if result < 0:
            self.error(number, key,
                'distributor_assessment.msg_target_import_negative',
                value=_text(value)[:40])
            return None
        if result >= Decimal('1e14'):
            self.error(number, key,
                'distributor_assessment.msg_target_import_bad_number',
                value=_text(value)[:40])
            return None
        return result

    def validate(self, rows):
        "The values to create, or a TargetError listing the errors"
        pool = Pool()
        Party = pool.get('party.party')
        Category = pool.get('product.category')
        Target = pool.get('distributor.target')
        codes = {_text(v.get('distributor')) for _, v in rows}
        codes.discard('')
        parties = {}
        for sub in grouped_slice(sorted(codes), IN_MAX):
            for party in Party.search([
                        ('is_distributor', '=', True),
                        ('distributor_code', 'in', list(sub)),
                        ]):
                parties[party.distributor_code] = party
        categories = {c.code: c for c in Category.search([
                    ('code', 'in', sorted({_text(v.get('category'))
                                for _, v in rows} - {''}))])}
        parsed = []
        for number, values in rows:
            code = _text(values.get('distributor'))
            party = parties.get(code)
            if not code:
                self.error(number, 'distributor',
                    'distributor_assessment.msg_target_import_required')
            elif party is None:
                self.error(number, 'distributor',
                    'distributor_assessment.msg_target_import_distributor',
                    value=code[:40])
            start = self._date(number, 'start_date', values.get('start_date'))
            end = self._date(number, 'end_date', values.get('end_date'))
            if start and end and end < start:
                self.error(number, 'end_date',
                    'distributor_assessment.msg_target_import_period',
                    start=start, end=end)
            category_code = _text(values.get('category'))
            category = categories.get(category_code)
            if category_code and category is None:
                self.error(number, 'category',
                    'distributor_assessment.msg_target_import_category',
                    value=category_code[:40])
            amount = self._number(number, 'amount', values.get('amount'))
            quantity = self._number(
                number, 'quantity', values.get('quantity'))
            if amount is not None:
                amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
            if quantity is not None:
                quantity = float(quantity.quantize(CENT,
                        rounding=ROUND_HALF_UP))
            if (_text(values.get('amount')) == ''
                    and _text(values.get('quantity')) == ''):
                self.error(number, 'amount',
                    'distributor_assessment.msg_target_import_no_figure')
            parsed.append((number, {
                        'company': self.company,
                        'distributor': party.id if party else None,
                        'start_date': start,
                        'end_date': end,
                        'category': category.id if category else None,
                        'amount': amount,
                        'quantity': quantity,
                        'origin_note': gettext(
                            'distributor_assessment.msg_target_import_note',
                            filename=self.filename[:80], row=number),
                        }))
        self._check_overlap(parsed, Target)
        if self.errors:
            shown = self.errors[:MAX_IMPORT_ERRORS]
            if len(self.errors) > MAX_IMPORT_ERRORS:
                shown.append(gettext(
                        'distributor_assessment.msg_target_import_more',
                        count=len(self.errors) - MAX_IMPORT_ERRORS))
            raise TargetError(gettext(
                    'distributor_assessment.msg_target_import_errors',
                    count=len(self.errors)), '\n'.join(shown))
        return [v for _, v in parsed]

    def _check_overlap(self, parsed, Target):
        """Rows overlapping each other or a target that is not cancelled
        (same distributor and category): one query for the file"""
        good = [(n, v) for n, v in parsed
            if v['distributor'] and v['start_date'] and v['end_date']
            and v['end_date'] >= v['start_date']]
        if not good:
            return
        table = Target.__table__()
        cursor = Transaction().connection.cursor()
        existing = {}
        start = min(v['start_date'] for _, v in good)
        end = max(v['end_date'] for _, v in good)
        for sub in grouped_slice(
                sorted({v['distributor'] for _, v in good}), IN_MAX):
            cursor.execute(*table.select(table.distributor, table.category,
                    table.start_date, table.end_date,
                    where=reduce_ids(table.distributor, list(sub))
                    & (table.company == self.company)
                    & (table.state != 'cancelled')
                    & (table.start_date <= end)
                    & (table.end_date >= start)))
            for party, category, s, e in cursor:
                existing.setdefault((party, category), []).append(
                    (_date(s), _date(e), None))
        seen = {}
        for number, v in good:
            key = (v['distributor'], v['category'])
            for s, e, row in existing.get(key, []) + seen.get(key, []):
                if s <= v['end_date'] and e >= v['start_date']:
                    if row is None:
                        self.error(number, 'start_date',
                            'distributor_assessment.'
                            'msg_target_import_overlap',
                            start=s, end=e)
                    else:
                        self.error(number, 'start_date',
                            'distributor_assessment.'
                            'msg_target_import_overlap_row', other=row)
                    break
            seen.setdefault(key, []).append(
                (v['start_date'], v['end_date'], number))


class TargetImportStart(ModelView):
    "Import Targets"
    __name__ = 'distributor.target.import.start'
    template = fields.Binary(
        "Template", filename='template_filename', readonly=True,
        help="Download, fill in and upload the template.")
    template_filename = fields.Char("Template Filename", readonly=True)
    file = fields.Binary("File", required=True, filename='filename')
    filename = fields.Char("Filename")


class TargetImport(Wizard):
    "Import targets from an Excel file (draft targets)"
    __name__ = 'distributor.target.import'
    start = StateView('distributor.target.import.start',
        'distributor_assessment.target_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-import', default=True),
            ])
    import_ = StateAction('distributor_assessment.act_target_form')

    def default_start(self, fields):
        return {
            'template': import_template(),
            'template_filename': 'target_import.xlsx',
            }

    def do_import_(self, action):
        Target = Pool().get('distributor.target')
        targets = Target.import_targets(
            self.start.file, filename=self.start.filename)
        return _open(action, targets)


def _open(action, targets):
    action['pyson_domain'] = PYSONEncoder().encode(
        [('id', 'in', [t.id for t in targets])])
    action['name'] += f' ({len(targets)})'
    return action, {}


class TargetSpreadStart(ModelView):
    "Spread a Territory Target"
    __name__ = 'distributor.target.spread.start'
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        help="Its active distributors and those of the territories below.")
    start_date = fields.Date("From", required=True)
    end_date = fields.Date(
        "To", required=True,
        domain=[('end_date', '>=', Eval('start_date', None))])
    category = fields.Many2One('product.category', "Category")
    amount = fields.Numeric(
        "Target Amount", digits=(16, 2),
        domain=['OR', ('amount', '=', None), ('amount', '>=', 0)])
    quantity = fields.Float(
        "Target Quantity", digits=(16, 2),
        domain=['OR', ('quantity', '=', None), ('quantity', '>=', 0)])

    @classmethod
    def default_start_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1)

    @classmethod
    def default_end_date(cls):
        today = Pool().get('ir.date').today()
        following = (today.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1)
        return following - dt.timedelta(days=1)


class TargetSpread(Wizard):
    """Spread a territory target over its distributors by their share of
    the sell-in of the same period a year before"""
    __name__ = 'distributor.target.spread'
    start = StateView('distributor.target.spread.start',
        'distributor_assessment.target_spread_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Spread", 'spread', 'tryton-ok', default=True),
            ])
    spread = StateAction('distributor_assessment.act_target_form')

    def do_spread(self, action):
        Target = Pool().get('distributor.target')
        start = self.start
        targets = Target.spread(start.territory, start.start_date,
            start.end_date, amount=start.amount, quantity=start.quantity,
            category=start.category)
        return _open(action, targets)
