# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from . import validation
from .exceptions import DistributorStateError, QualificationValidationError
from .inbox import notify_staff

TYPES = [
    ('business_license', "Business License"),
    ('food_license', "Food Business License"),
    ('tax_registration', "Tax Registration"),
    ('brand_authorization', "Brand Authorization"),
    ('other', "Other"),
    ]
STATUSES = [
    ('valid', "Valid"),
    ('expiring', "Expiring"),
    ('expired', "Expired"),
    ]


class Qualification(ModelSQL, ModelView):
    "Distributor qualification: a licence or authorisation with its validity"
    __name__ = 'distributor.qualification'
    _history = True

    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        domain=[('is_distributor', '=', True)])
    type = fields.Selection(TYPES, "Type", required=True, sort=False)
    number = fields.Char("Number", required=True, strip=True)
    valid_from = fields.Date(
        "Valid From", required=True,
        domain=[If(Eval('valid_to'),
                ('valid_from', '<=', Eval('valid_to')),
                ())])
    valid_to = fields.Date(
        "Valid To",
        domain=[If(Eval('valid_to') & Eval('valid_from'),
                ('valid_to', '>=', Eval('valid_from')),
                ())],
        help="Leave empty for a qualification without end.")
    scan = fields.Binary("Scan", filename='scan_filename')
    scan_filename = fields.Char("Scan Filename")
    status = fields.Function(fields.Selection(
            STATUSES, "Status",
            help="Expired: out of force (ended or not yet started); "
            "expiring: ends within the warning days of the configuration."),
        'get_status', searcher='search_status')
    notified = fields.Boolean(
        "Notified", readonly=True,
        help="Whether the staff were warned about its expiry.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range())),
                Index(t, (t.valid_to, Index.Range())),
                })
        cls._order = [('valid_to', 'DESC NULLS FIRST'), ('id', 'DESC')]

    @classmethod
    def default_type(cls):
        return 'business_license'

    @classmethod
    def default_valid_from(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # the status was a column updated by a daily task
        for history in [False, True]:
            table_h = cls.__table_handler__(module, history=history)
            if table_h.column_exist('status'):
                table_h.drop_column('status')

    @classmethod
    def default_notified(cls):
        return False

    def get_rec_name(self, name):
        type_ = dict(self.fields_get(['type'])['type']['selection'])
        return f'{type_.get(self.type, "")} {self.number}'

    @classmethod
    def _warning_days(cls):
        Configuration = Pool().get('distributor.configuration')
        return Configuration(1).qualification_warning_days

    @classmethod
    def status_sql(cls, table, date=None):
        """The status of the qualification in table as an SQL expression:
        the one rule, used by the getter, the searcher, the order and the
        distributor's own status.  date: the context's
        qualification_date, else today"""
        if date is None:
            date = (Transaction().context.get('qualification_date')
                or Pool().get('ir.date').today())
        limit = date + dt.timedelta(days=cls._warning_days())
        return Case(
            ((table.valid_to != Null) & (table.valid_to < date), 'expired'),
            # not yet in force: cannot serve an activation
            (table.valid_from > date, 'expired'),
            ((table.valid_to != Null) & (table.valid_to <= limit),
                'expiring'),
            else_='valid')

    @classmethod
    def get_status(cls, qualifications, name):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        status = cls.status_sql(table)
        result = {}
        for sub in grouped_slice(qualifications, MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.id, status,
                    where=reduce_ids(table.id, [q.id for q in sub])))
            result.update(cursor)
        return result

    @classmethod
    def search_status(cls, name, clause):
        table = cls.__table__()
        _, operator, value = clause[:3]
        Operator = fields.SQL_OPERATORS[operator]
        return [('id', 'in', table.select(table.id,
                    where=Operator(cls.status_sql(table), value)))]

    @classmethod
    def order_status(cls, tables):
        table, _ = tables[None]
        return [cls.status_sql(table)]

    @classmethod
    def write(cls, *args):
        # a new validity is warned about again
        args = list(args)
        for index in range(1, len(args), 2):
            if {'valid_from', 'valid_to'} & set(args[index]):
                args[index] = {'notified': False, **args[index]}
        super().write(*args)

    @classmethod
    def check_valid_for_activation(cls, party):
        """A distributor needs a business license in force, and the latest
        qualification of every type it holds must not have expired."""
        today = Pool().get('ir.date').today()
        latest = defaultdict(lambda: None)
        for qualification in party.qualifications:
            current = latest[qualification.type]
            if current is None or _end(qualification) > _end(current):
                latest[qualification.type] = qualification
        license_ = latest['business_license']
        if (license_ is None
                or license_.valid_from > today
                or (license_.valid_to and license_.valid_to < today)):
            raise DistributorStateError(gettext(
                    'distributor.msg_activation_business_license',
                    party=party.rec_name))
        for qualification in latest.values():
            if qualification.valid_to and qualification.valid_to < today:
                raise DistributorStateError(gettext(
                        'distributor.msg_activation_qualification_expired',
                        party=party.rec_name,
                        qualification=qualification.rec_name,
                        date=qualification.valid_to))

    @classmethod
    def check_expiry(cls, date=None):
        """Daily task: flag expiring and expired qualifications and warn the
        sales rep of each distributor and the channel managers once.

        Returns the qualifications warned about."""
        Message = Pool().get('distributor.message')
        with Transaction().set_context(qualification_date=date):
            # valid again (a renewal, a licence come into force): warn
            # about the next expiry
            cls.write(cls.search([
                        ('notified', '=', True),
                        ('status', '=', 'valid'),
                        ]), {'notified': False})
            to_warn = cls.search([
                    ('status', 'in', ['expiring', 'expired']),
                    ('notified', '=', False),
                    ('party.distributor_state', 'in', ['draft', 'active',
                            'frozen']),
                    ], order=[('party', 'ASC'), ('valid_to', 'ASC')])
            items, messages = [], []
            for qualification in to_warn:
                msg_id = (
                    'distributor.msg_qualification_expired_notification'
                    if qualification.status == 'expired' else
                    'distributor.msg_qualification_expiring_notification')
                kwargs = {
                    'party': qualification.party.rec_name,
                    'qualification': qualification.rec_name,
                    'date': qualification.valid_to,
                    }
                items.append((qualification, qualification.party, msg_id,
                        kwargs))
                messages.append((qualification.party, msg_id,
                        qualification, kwargs, None))
        if to_warn:
            notify_staff(items, 'distributor.act_qualification_form')
            # and the distributor itself, in its inbox
            Message.post(messages)
            cls.write(to_warn, {'notified': True})
        return to_warn

    @classmethod
    def validate_fields(cls, qualifications, field_names):
        super().validate_fields(qualifications, field_names)
        validation.check_record_fields(qualifications, field_names)
        if field_names and not (field_names & {'type', 'number', 'party'}):
            return
        for qualification in qualifications:
            duplicates = cls.search([
                    ('type', '=', qualification.type),
                    ('number', '=', qualification.number),
                    ('party', '!=', qualification.party.id),
                    ], limit=1)
            if duplicates:
                raise QualificationValidationError(gettext(
                        'distributor.msg_qualification_number_used',
                        qualification=qualification.rec_name,
                        party=duplicates[0].party.rec_name))


def _end(qualification):
    return qualification.valid_to or dt.date.max
