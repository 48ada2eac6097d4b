# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql import Literal, Null
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from . import validation
from .exceptions import DistributorStateError, QualificationValidationError

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
    status = fields.Selection(
        STATUSES, "Status", readonly=True, required=True,
        help="Updated every day by a scheduled task.")
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
                Index(t, (t.status, Index.Equality())),
                })
        cls._order = [('valid_to', 'DESC NULLS FIRST'), ('id', 'DESC')]

    @classmethod
    def default_type(cls):
        return 'business_license'

    @classmethod
    def default_valid_from(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_status(cls):
        return 'valid'

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
    def compute_status(cls, valid_from, valid_to, today=None, days=None):
        if today is None:
            today = Pool().get('ir.date').today()
        if days is None:
            days = cls._warning_days()
        if valid_to and valid_to < today:
            return 'expired'
        if valid_from and valid_from > today:
            # Not yet in force: cannot serve an activation
            return 'expired'
        if valid_to and valid_to <= today + dt.timedelta(days=days):
            return 'expiring'
        return 'valid'

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            values['status'] = cls.compute_status(
                values.get('valid_from'), values.get('valid_to'))
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        super().write(*args)
        changed = []
        actions = iter(args)
        for records, values in zip(actions, actions):
            if {'valid_from', 'valid_to'} & set(values):
                changed.extend(records)
        by_status = defaultdict(list)
        for record in changed:
            by_status[cls.compute_status(
                    record.valid_from, record.valid_to)].append(record)
        to_write = []
        for status, records in by_status.items():
            values = {'status': status}
            if status == 'valid':
                values['notified'] = False
            to_write.extend([records, values])
        if to_write:
            super().write(*to_write)

    @classmethod
    def update_status(cls, qualifications=None, date=None):
        """Recompute the status of the qualifications (all when None) in one
        UPDATE, and reset the warning flag of those valid again.

        The daily task runs it over the whole table."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        today = date or Pool().get('ir.date').today()
        limit = today + dt.timedelta(days=cls._warning_days())
        status = Case(
            ((table.valid_to != Null) & (table.valid_to < today),
                'expired'),
            (table.valid_from > today, 'expired'),
            ((table.valid_to != Null) & (table.valid_to <= limit),
                'expiring'),
            else_='valid')
        where = Literal(True)
        if qualifications is not None:
            ids = list(map(int, qualifications))
            if not ids:
                return
            where = table.id.in_(ids)
        cursor.execute(*table.update(
                [table.status], [status], where=where))
        cursor.execute(*table.update(
                [table.notified], [Literal(False)],
                where=where & (table.status == 'valid')
                & (table.notified == Literal(True))))
        cls._mark_cache_dirty()

    @classmethod
    def _mark_cache_dirty(cls):
        # Raw SQL updates bypass the record cache of the transaction
        Transaction().counter += 1

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
        pool = Pool()
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        Action = pool.get('ir.action')

        cls.update_status(date=date)
        to_warn = cls.search([
                ('status', 'in', ['expiring', 'expired']),
                ('notified', '=', False),
                ('party.distributor_state', 'in', ['draft', 'active',
                        'frozen']),
                ], order=[('party', 'ASC'), ('valid_to', 'ASC')])
        if not to_warn:
            return []
        manager_group = ModelData.get_id(
            'distributor', 'group_channel_manager')
        managers = User.search([('groups', '=', manager_group)])
        action_id = Action.get_action_id(ModelData.get_id(
                'distributor', 'act_qualification_form'))
        notifications = []
        for qualification in to_warn:
            users = set(managers)
            rep = qualification.party.sales_rep
            if rep:
                users.update(User.search([('employees', '=', rep.id)]))
            msg_id = ('distributor.msg_qualification_expired_notification'
                if qualification.status == 'expired'
                else 'distributor.msg_qualification_expiring_notification')
            for user in users:
                with Transaction().set_context(language=user.language.code
                        if user.language else None):
                    label = gettext(msg_id,
                        party=qualification.party.rec_name,
                        qualification=qualification.rec_name,
                        date=qualification.valid_to)
                notifications.append({
                        'user': user.id,
                        'label': label,
                        'icon': 'tryton-warning',
                        'model': cls.__name__,
                        'records': str([qualification.id]),
                        'action': action_id,
                        })
        Notification.create(notifications)
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
