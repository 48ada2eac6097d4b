# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Excel import of distributor files: a template to download, every row
validated before anything is written."""
import datetime as dt
import io
import zipfile

import xlsxwriter
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import PYSONEncoder
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import ImportError_
from .party import GRADES, SETTLEMENT_METHODS
from .qualification import TYPES

# (key, required) in template order
COLUMNS = [
    ('code', True),
    ('name', True),
    ('tier', True),
    ('upstream', False),
    ('territories', True),
    ('grade', False),
    ('settlement_method', False),
    ('sales_rep', False),
    ('cooperation_start', False),
    ('tags', False),
    ('phone', False),
    ('email', False),
    ('street', False),
    ('city', False),
    ('qualification_type', False),
    ('qualification_number', False),
    ('qualification_valid_from', False),
    ('qualification_valid_to', False),
    ]
MAX_ERRORS = 50


def template():
    "Return the bytes of the import template (.xlsx)"
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True})
    bold = workbook.add_format({'bold': True, 'bg_color': '#DDEBF7'})
    date_format = workbook.add_format({'num_format': 'yyyy-mm-dd'})
    sheet = workbook.add_worksheet('distributors')
    for col, (key, required) in enumerate(COLUMNS):
        sheet.write(0, col, key, bold)
        sheet.set_column(col, col, 18)
    example = {
        'code': 'D0001', 'name': '上海示例商贸有限公司', 'tier': 'T2',
        'territories': 'SH', 'grade': 'A', 'settlement_method': 'credit',
        'phone': '021-12345678', 'email': 'sales@example.cn',
        'street': '南京西路 1 号', 'city': '上海',
        'qualification_type': 'business_license',
        'qualification_number': '91310000XXXXXXXXXX',
        'qualification_valid_from': dt.date(2024, 1, 1),
        'qualification_valid_to': dt.date(2029, 12, 31),
        }
    for col, (key, _) in enumerate(COLUMNS):
        value = example.get(key)
        if isinstance(value, dt.date):
            sheet.write_datetime(
                1, col, dt.datetime.combine(value, dt.time()), date_format)
        elif value is not None:
            sheet.write(1, col, value)
    sheet.freeze_panes(1, 0)

    help_sheet = workbook.add_worksheet('help')
    help_sheet.set_column(0, 0, 26)
    help_sheet.set_column(1, 1, 90)
    help_sheet.write(0, 0, gettext('distributor.msg_import_help_column'), bold)
    help_sheet.write(
        0, 1, gettext('distributor.msg_import_help_meaning'), bold)
    for row, (key, required) in enumerate(COLUMNS, 1):
        help_sheet.write(row, 0, key)
        text = gettext(f'distributor.msg_import_help_{key}')
        if required:
            text += ' ' + gettext('distributor.msg_import_help_required')
        help_sheet.write(row, 1, text)
    workbook.close()
    return output.getvalue()


def _text(value):
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _split(value):
    text = _text(value).replace('，', ',').replace(';', ',')
    return [v.strip() for v in text.split(',') if v.strip()]


def _matches_all(domain):
    "Whether a (rule) domain lets every record through"
    if not domain:
        return True
    if isinstance(domain, tuple):
        return False
    if domain[0] == 'OR':
        return any(_matches_all(d) for d in domain[1:])
    if domain[0] == 'AND':
        domain = domain[1:]
    return all(_matches_all(d) for d in domain)


class Importer:
    "Read and validate a workbook, then create the distributors"

    def __init__(self, data):
        self.data = data
        self.errors = []

    def error(self, row, msg_id, **kwargs):
        self.errors.append(gettext(
                'distributor.msg_import_row_error', row=row,
                reason=gettext(msg_id, **kwargs)))

    def rows(self):
        try:
            workbook = load_workbook(
                io.BytesIO(self.data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError,
                ValueError, OSError):
            raise ImportError_(gettext('distributor.msg_import_not_xlsx'))
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ImportError_(gettext('distributor.msg_import_empty'))
        header = [_text(h) for h in header]
        while header and not header[-1]:
            header.pop()
        known = {k for k, _ in COLUMNS}
        unknown = [h for h in header if h not in known]
        missing = [k for k, required in COLUMNS
            if required and k not in header]
        duplicated = {h for h in header if header.count(h) > 1}
        if unknown or missing or duplicated:
            raise ImportError_(gettext(
                    'distributor.msg_import_columns',
                    unknown=', '.join(unknown) or '-',
                    missing=', '.join(missing) or '-',
                    duplicated=', '.join(sorted(duplicated)) or '-'))
        result = []
        for number, values in enumerate(rows, 2):
            values = list(values[:len(header)])
            if not any(_text(v) for v in values):
                continue
            values += [None] * (len(header) - len(values))
            result.append((number, dict(zip(header, values))))
        workbook.close()
        if not result:
            raise ImportError_(gettext('distributor.msg_import_empty'))
        return result

    def _date(self, number, key, value):
        if value in (None, ''):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(_text(value).replace('/', '-'))
        except ValueError:
            self.error(number, 'distributor.msg_import_bad_date',
                column=key, value=_text(value))

    def validate(self, rows):
        "Return the values to create, or raise every error found"
        pool = Pool()
        Party = pool.get('party.party')
        Tier = pool.get('distributor.tier')
        Territory = pool.get('distributor.territory')
        Employee = pool.get('company.employee')
        Category = pool.get('party.category')
        Qualification = pool.get('distributor.qualification')

        tiers = {t.code: t for t in Tier.search([])}
        territories = {t.code: t for t in Territory.search([])}
        categories = {c.name: c for c in Category.search([])}
        employees = {}
        for employee in Employee.search([]):
            employees[employee.party.name] = employee
            if employee.party.code:
                employees[employee.party.code] = employee
        grades = {g for g, _ in GRADES if g}
        methods = {m for m, _ in SETTLEMENT_METHODS if m}
        types = {t for t, _ in TYPES}

        codes = [_text(v.get('code')) for _, v in rows]
        existing = {p.distributor_code: p for p in Party.search([
                    ('distributor_code', 'in', [c for c in codes if c]),
                    ])}
        in_file = {}
        for number, values in rows:
            code = _text(values.get('code'))
            if code in existing:
                continue
            if code and code in in_file:
                self.error(number, 'distributor.msg_import_duplicate_code',
                    code=code, other=in_file[code][0])
            elif code:
                in_file[code] = (number, values)

        today = pool.get('ir.date').today()
        own_territories = self._allowed_territories()
        parsed = []
        for number, values in rows:
            code = _text(values.get('code'))
            name = _text(values.get('name'))
            record = {'number': number, 'code': code}
            for key, required in COLUMNS:
                if required and not _text(values.get(key)):
                    self.error(number, 'distributor.msg_import_required',
                        column=key)
            if code in existing:
                self.error(number, 'distributor.msg_import_code_exists',
                    code=code)
            tier = tiers.get(_text(values.get('tier')))
            if _text(values.get('tier')) and not tier:
                self.error(number, 'distributor.msg_import_unknown',
                    column='tier', value=_text(values.get('tier')))
            record['tier'] = tier

            row_territories = []
            for territory_code in _split(values.get('territories')):
                if territory_code not in territories:
                    self.error(number, 'distributor.msg_import_unknown',
                        column='territories', value=territory_code)
                elif (own_territories is not None
                        and territories[territory_code].id
                        not in own_territories):
                    self.error(number, 'distributor.msg_import_not_yours',
                        territory=territory_code)
                else:
                    row_territories.append(territories[territory_code])
            record['territories'] = row_territories

            upstream_code = _text(values.get('upstream'))
            record['upstream'] = upstream_code or None
            if upstream_code:
                if upstream_code == code:
                    self.error(number, 'distributor.msg_import_self_upstream')
                elif upstream_code not in in_file:
                    upstream = Party.search([
                            ('distributor_code', '=', upstream_code),
                            ], limit=1)
                    if not upstream:
                        self.error(number, 'distributor.msg_import_unknown',
                            column='upstream', value=upstream_code)
                    elif not upstream[0].may_be_upstream():
                        self.error(number,
                            'distributor.msg_import_upstream_may_not_trade',
                            code=upstream_code)
                    else:
                        record['upstream_party'] = upstream[0]

            for key, allowed in [
                    ('grade', grades),
                    ('settlement_method', methods),
                    ('qualification_type', types)]:
                value = _text(values.get(key))
                if value and value not in allowed:
                    self.error(number, 'distributor.msg_import_bad_choice',
                        column=key, value=value,
                        allowed=', '.join(sorted(allowed)))
                record[key] = value or None

            rep = _text(values.get('sales_rep'))
            if rep and rep not in employees:
                self.error(number, 'distributor.msg_import_unknown',
                    column='sales_rep', value=rep)
            record['sales_rep'] = employees.get(rep)

            tags = []
            for tag in _split(values.get('tags')):
                if tag not in categories:
                    self.error(number, 'distributor.msg_import_unknown',
                        column='tags', value=tag)
                else:
                    tags.append(categories[tag])
            record['tags'] = tags

            record['cooperation_start'] = self._date(
                number, 'cooperation_start', values.get('cooperation_start'))
            q_number = _text(values.get('qualification_number'))
            valid_from = self._date(number, 'qualification_valid_from',
                values.get('qualification_valid_from'))
            valid_to = self._date(number, 'qualification_valid_to',
                values.get('qualification_valid_to'))
            if q_number:
                if valid_from and valid_to and valid_to < valid_from:
                    self.error(number, 'distributor.msg_import_bad_period')
                record['qualification'] = {
                    'type': record['qualification_type']
                    or 'business_license',
                    'number': q_number,
                    'valid_from': valid_from or today,
                    'valid_to': valid_to,
                    }
                duplicate = Qualification.search([
                        ('type', '=', record['qualification']['type']),
                        ('number', '=', q_number),
                        ], limit=1)
                if duplicate:
                    self.error(number,
                        'distributor.msg_import_qualification_used',
                        number=q_number,
                        party=duplicate[0].party.rec_name)
            elif (valid_from or valid_to or record['qualification_type']):
                self.error(number, 'distributor.msg_import_required',
                    column='qualification_number')
            record['name'] = name
            record['phone'] = _text(values.get('phone'))
            record['email'] = _text(values.get('email'))
            record['street'] = _text(values.get('street'))
            record['city'] = _text(values.get('city'))
            parsed.append(record)

        self._check_hierarchy(parsed, in_file)
        if self.errors:
            more = len(self.errors) - MAX_ERRORS
            text = '\n'.join(self.errors[:MAX_ERRORS])
            if more > 0:
                text += '\n' + gettext(
                    'distributor.msg_import_more_errors', count=more)
            raise ImportError_(gettext(
                    'distributor.msg_import_failed',
                    count=len(self.errors), errors=text))
        return parsed

    def _allowed_territories(self):
        """The territories where the user may create distributors, None when
        no record rule restricts them (the rules check again on create)"""
        Rule = Pool().get('ir.rule')
        if _matches_all(Rule.domain_get('party.party', mode='create')):
            return None
        return set(Rule._distributor_territories())

    def _check_hierarchy(self, parsed, in_file):
        "Tier pairs and territories against the upstream, as the model does"
        Territory = Pool().get('distributor.territory')
        by_code = {r['code']: r for r in parsed if r['code'] in in_file}
        for record in parsed:
            code = record['upstream']
            if not code or not record['tier']:
                continue
            if code in by_code:
                upstream = by_code[code]
                upstream_tier = upstream['tier']
                upstream_territories = upstream['territories']
            elif record.get('upstream_party'):
                party = record['upstream_party']
                upstream_tier = party.distributor_tier
                upstream_territories = party.territories
            else:
                continue
            if upstream_tier and not upstream_tier.allows_downstream(
                    record['tier']):
                self.error(record['number'],
                    'distributor.msg_import_tier_pair',
                    tier=record['tier'].code, upstream=code,
                    upstream_tier=upstream_tier.code)
            allowed = Territory.area(upstream_territories)
            for territory in record['territories']:
                if territory.id not in allowed:
                    self.error(record['number'],
                        'distributor.msg_import_territory_outside',
                        territory=territory.code, upstream=code)
        # cycles inside the file
        for record in parsed:
            seen, code = {record['code']}, record['upstream']
            while code in by_code:
                if code in seen:
                    self.error(record['number'],
                        'distributor.msg_import_cycle', code=record['code'])
                    break
                seen.add(code)
                code = by_code[code]['upstream']

    def create(self, parsed):
        pool = Pool()
        Party = pool.get('party.party')
        vlist = []
        for record in parsed:
            values = {
                'name': record['name'],
                'is_distributor': True,
                'distributor_code': record['code'],
                'distributor_tier': record['tier'].id,
                'territories': [
                    ('add', [t.id for t in record['territories']])],
                'distributor_grade': record['grade'],
                'settlement_method': record['settlement_method'],
                'cooperation_start': record['cooperation_start'],
                'categories': [('add', [c.id for c in record['tags']])],
                }
            if record['sales_rep']:
                values['sales_rep'] = record['sales_rep'].id
            if record.get('upstream_party'):
                values['upstream'] = record['upstream_party'].id
            mechanisms = []
            if record['phone']:
                mechanisms.append({'type': 'phone', 'value': record['phone']})
            if record['email']:
                mechanisms.append({'type': 'email', 'value': record['email']})
            if mechanisms:
                values['contact_mechanisms'] = [('create', mechanisms)]
            if record['street'] or record['city']:
                values['addresses'] = [('create', [{
                                'street': record['street'] or None,
                                'city': record['city'] or None,
                                }])]
            if record.get('qualification'):
                values['qualifications'] = [
                    ('create', [record['qualification']])]
            vlist.append(values)
        # Parties of the file are created first, then linked to upstreams
        # from the same file, so that the channel rules see both ends
        parties = Party.create(vlist)
        by_code = {p.distributor_code: p for p in parties}
        to_write = []
        for record in parsed:
            if record['upstream'] in by_code:
                to_write.extend([[by_code[record['code']]], {
                            'upstream': by_code[record['upstream']].id,
                            }])
        if to_write:
            Party.write(*to_write)
        return parties


class ImportStart(ModelView):
    __name__ = 'distributor.import.start'
    template = fields.Binary(
        "Template", filename='template_filename', readonly=True,
        help="Download, fill in and upload the template.")
    template_filename = fields.Char("Template Filename", readonly=True)
    file = fields.Binary("File", required=True, filename='filename')
    filename = fields.Char("Filename")


class Import(Wizard):
    "Import distributors from an Excel file"
    __name__ = 'distributor.import'
    start = StateView('distributor.import.start',
        'distributor.import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-import', default=True),
            ])
    import_ = StateAction('distributor.act_distributor_form')

    def default_start(self, fields):
        return {
            'template': template(),
            'template_filename': 'distributor_import.xlsx',
            }

    def do_import_(self, action):
        Party = Pool().get('party.party')
        parties = Party.import_distributors(self.start.file)
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [p.id for p in parties])])
        action['name'] += f' ({len(parties)})'
        return action, {}


def import_distributors(data):
    """Validate every row of the workbook data, then create the
    distributors in draft; on any bad row nothing is written."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImportError_(gettext('distributor.msg_import_not_xlsx'))
    importer = Importer(bytes(data))
    parsed = importer.validate(importer.rows())
    return importer.create(parsed)
