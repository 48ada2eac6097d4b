# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Notifications in one place.

Two ways to tell people of an event, used by every module:

* ``Message.post``: a message to a distributor or a store, its inbox in
  the portal, in the recipient's language;
* ``notify_staff``: a Tryton notification (``res.notification``, the bell
  of the web client) to the sales rep of the party concerned and the
  channel managers, in each user's language.

Both read their recipients once for all the records of a call."""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .access import trusted


class Message(ModelSQL, ModelView):
    """A message to a distributor: its inbox in the portal.

    The workflows post one on every event the distributor must know of
    (approval, rejection, shipment, discrepancy resolution, ...)."""
    __name__ = 'distributor.message'

    # no domain: only the workflows post messages, to distributors
    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    subject = fields.Char("Subject", required=True, readonly=True)
    body = fields.Text("Body", readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True)
    read_at = fields.DateTime("Read At", readonly=True)
    unread = fields.Function(fields.Boolean("Unread"), 'get_unread',
        searcher='search_unread')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.party, Index.Range()),
                (t.date, Index.Range(order='DESC'))))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'mark_read': {
                    'invisible': ~Eval('unread', False),
                    'depends': ['unread'],
                    },
                })

    @classmethod
    def default_date(cls):
        return dt.datetime.now()

    @classmethod
    def _get_origin(cls):
        "The models a message may come from: modules add theirs"
        return ['distributor.qualification']

    @classmethod
    def get_origin(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origin()]

    def get_unread(self, name):
        return self.read_at is None

    @classmethod
    def search_unread(cls, name, clause):
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return [('read_at', '=', None)]
        return [('read_at', '!=', None)]

    @classmethod
    @ModelView.button
    def mark_read(cls, messages):
        cls.write([m for m in messages if m.read_at is None], {
                'read_at': dt.datetime.now(),
                })

    @classmethod
    def post(cls, items):
        """Post messages: items are (party, msg_id, origin, kwargs, body);
        the subject is translated into the language of each party"""
        Config = Pool().get('ir.configuration')
        now = dt.datetime.now()
        vlist = []
        # the distributor's language, else the system's (not the one of
        # the staff member at work)
        default = Config.get_language()
        for party, msg_id, origin, kwargs, body in items:
            language = party.lang.code if party.lang else default
            with Transaction().set_context(language=language):
                subject = gettext(msg_id, **kwargs)
            vlist.append({
                    'party': party.id,
                    'date': now,
                    'subject': subject,
                    'body': body,
                    'origin': str(origin) if origin else None,
                    })
        if vlist:
            with trusted():
                cls.create(vlist)
        return vlist


def staff_users(parties, managers=True, reps=True):
    """{party id: users}: the users of the party's sales rep (reps) and
    the channel managers (managers); two queries for any number of
    parties"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    everyone = set()
    by_employee = defaultdict(set)
    with trusted():
        if managers:
            everyone = set(User.search([('groups', '=', ModelData.get_id(
                                'distributor', 'group_channel_manager'))]))
        employees = {p.sales_rep.id for p in parties
            if reps and p.sales_rep}
        if employees:
            for user in User.search([
                        ('employees', 'in', sorted(employees)),
                        ]):
                for employee in user.employees:
                    by_employee[employee.id].add(user)
    return {p.id: everyone | (by_employee[p.sales_rep.id]
            if reps and p.sales_rep else set())
        for p in parties}


def notify_staff(items, action, icon='tryton-warning', managers=True,
        reps=True):
    """Notify the staff of each item: items are (records, party, msg_id,
    kwargs), records one record or a list of one model; the label is the
    message msg_id (module.xml_id) in the language of each user; action
    (module.xml_id) opens the records.
    Returns the notifications created."""
    pool = Pool()
    Notification = pool.get('res.notification')
    ModelData = pool.get('ir.model.data')
    Action = pool.get('ir.action')
    if not items:
        return []
    action_id = Action.get_action_id(
        ModelData.get_id(*action.split('.', 1)))
    users = staff_users({party for _, party, _, _ in items},
        managers=managers, reps=reps)
    vlist = []
    for records, party, msg_id, kwargs in items:
        if not isinstance(records, (list, tuple)):
            records = [records]
        for user in sorted(users[party.id], key=lambda u: u.id):
            language = user.language.code if user.language else None
            with Transaction().set_context(language=language):
                label = gettext(msg_id, **kwargs)
            vlist.append({
                    'user': user.id,
                    'label': label,
                    'icon': icon,
                    'model': records[0].__name__,
                    'records': str([r.id for r in records]),
                    'action': action_id,
                    })
    with trusted():
        return Notification.create(vlist)
