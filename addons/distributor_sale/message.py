# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction


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
        return ['sale.sale', 'distributor.sale.discrepancy']

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
            cls.create(vlist)
        return vlist
