# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Payments stores make to their distributor and the distributor ↔ store
statements (与门店对账): balances from delivered channel orders and
payments, in SQL"""
import datetime as dt
from decimal import Decimal

from sql import Literal, Union
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce
from sql import Cast

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor import validation
from distributor.access import entry_point
from distributor.document import Document, DocumentLog
from distributor.exceptions import RecordNotFound

from .exceptions import StorePaymentError

METHODS = [
    ('cash', "Cash"),
    ('bank', "Bank Transfer"),
    ('wechat', "WeChat Pay"),
    ('alipay', "Alipay"),
    ('other', "Other"),
    ]
ZERO = Decimal(0)


def _decimal(value):
    "A SQL numeric as a Decimal of cents (SQLite may answer bytes)"
    if isinstance(value, bytes):
        value = value.decode()
    return Decimal(str(value or 0)).quantize(Decimal('0.01'))


class StorePayment(Document, ModelSQL, ModelView):
    """Store Payment

    Money a store (or terminal customer) paid its distributor, recorded by
    the distributor; posted payments count in the statements."""
    __name__ = 'distributor.store.payment'
    _dms_editable_states = {'draft'}
    _dms_workflow_fields = {'state_logs'}
    _dms_log_model = 'distributor.store.payment.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)], states=_draft)
    store = fields.Many2One(
        'party.party', "Payer", required=True, ondelete='RESTRICT',
        domain=['OR',
            ('store_distributor', '=', Eval('distributor', -1)),
            ('customer_distributor', '=', Eval('distributor', -1)),
            ],
        states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, states=_draft,
        domain=[('amount', '>', 0)])
    method = fields.Selection(METHODS, "Method", required=True, states=_draft)
    reference = fields.Char("Reference", states=_draft)
    state = fields.Selection([
            ('draft', "Draft"),
            ('posted', "Posted"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_logs = fields.One2Many(
        'distributor.store.payment.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.store, Index.Range()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'posted'),
            ('posted', 'cancelled'),
            ('draft', 'cancelled'),
            }
        cls._buttons.update({
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') == 'cancelled',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_record_payment': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_method(cls):
        return 'bank'

    @classmethod
    def validate_fields(cls, payments, field_names):
        super().validate_fields(payments, field_names)
        cls.check_payer(payments)

    @classmethod
    def check_payer(cls, payments):
        "The payer is a store or a terminal customer of the distributor"
        for payment in payments:
            if payment.distributor not in {
                    payment.store.store_distributor,
                    payment.store.customer_distributor}:
                raise StorePaymentError(gettext(
                        'distributor_store.msg_payment_not_own',
                        store=payment.store.rec_name,
                        distributor=payment.distributor.rec_name))

    def get_rec_name(self, name):
        return f'{self.store.rec_name} {self.date} {self.amount}'

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, payments):
        cls.check_payer(payments)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, payments):
        pass

    @classmethod
    @entry_point(parties={'party': ['distributor'],
            'store': ['store', 'customer']})
    def dms_record_payment(cls, party, store, amount, date=None,
            method='bank', reference=None):
        "The distributor records (and posts) a payment of its store"
        if party not in {store.store_distributor,
                store.customer_distributor}:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=store.__names__()['model'], id=store.id))
        amount = validation.amount(amount, gettext(
                'distributor_store.msg_field_amount'), positive=True,
            digits=2)
        date = validation.date(date, gettext(
                'distributor_store.msg_field_date'), required=False)
        method = validation.choice(method, gettext(
                'distributor_store.msg_field_method'), METHODS)
        reference = validation.text(reference, gettext(
                'distributor_store.msg_field_reference'), size=128,
            multiline=False)
        payment = cls(distributor=party, store=store, amount=amount,
            date=date or cls.default_date(), method=method,
            reference=reference)
        payment.save()
        cls.post([payment])
        return payment.id


class StorePaymentLog(DocumentLog, ModelSQL, ModelView):
    "State history of a store payment"
    __name__ = 'distributor.store.payment.log'

    document = fields.Many2One(
        'distributor.store.payment', "Payment", required=True,
        ondelete='CASCADE', readonly=True)


def ledger():
    """Signed amounts a store owes its distributor: delivered channel
    orders (+ billed amount) and posted payments (− amount); columns
    distributor, store, date, amount, kind, origin, reference"""
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Payment = pool.get('distributor.store.payment')
    order = Order.__table__()
    payment = Payment.__table__()
    return Union(
        order.select(order.seller.as_('distributor'),
            order.buyer.as_('store'), order.delivered_date.as_('date'),
            Coalesce(order.billed_amount, 0).as_('amount'),
            Literal('order').as_('kind'), order.id.as_('origin'),
            Coalesce(order.number, '').as_('reference'),
            where=order.state.in_(['delivered', 'received', 'done'])
            & order.buyer_kind.in_(['store', 'customer'])),
        payment.select(payment.distributor.as_('distributor'),
            payment.store.as_('store'), payment.date.as_('date'),
            (-payment.amount).as_('amount'),
            Literal('payment').as_('kind'), payment.id.as_('origin'),
            Coalesce(payment.reference, '').as_('reference'),
            where=payment.state == 'posted'),
        all_=True)


class StatementContext(ModelView):
    "Store Statement Context"
    __name__ = 'distributor.store.statement.context'

    start_date = fields.Date("From", required=True)
    end_date = fields.Date(
        "To", required=True,
        domain=[('end_date', '>=', Eval('start_date', None))])
    distributor = fields.Many2One(
        'party.party', "Distributor",
        domain=[('is_distributor', '=', True)])

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today().replace(day=1)

    @classmethod
    def default_end_date(cls):
        return Pool().get('ir.date').today()


class Statement(ModelSQL, ModelView):
    """Store Statement

    Per store and its distributor over the period of the context: the
    opening balance, the channel orders delivered, the payments posted
    and the closing balance."""
    __name__ = 'distributor.store.statement'

    distributor = fields.Many2One('party.party', "Distributor")
    store = fields.Many2One('party.party', "Store")
    opening_balance = fields.Numeric("Opening Balance", digits=(16, 2))
    delivered_amount = fields.Numeric("Delivered", digits=(16, 2))
    paid_amount = fields.Numeric("Paid", digits=(16, 2))
    closing_balance = fields.Numeric("Closing Balance", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('distributor', 'ASC'), ('store', 'ASC'),
            ('id', 'ASC')]
        cls.__rpc__.update({
                'dms_store_statement': RPC(),
                })

    @classmethod
    def _period(cls):
        context = Transaction().context
        today = Pool().get('ir.date').today()
        start = context.get('start_date') or today.replace(day=1)
        end = context.get('end_date') or today
        return start, end

    @classmethod
    def table_query(cls):
        start, end = cls._period()
        rows = ledger()
        where = rows.date <= end
        distributor = Transaction().context.get('distributor')
        if distributor:
            where &= rows.distributor == distributor
        before = rows.date < start
        inside = rows.date >= start
        return rows.select(
            # Cantor pairing in 64 bits: unique per (store, distributor)
            ((Cast(rows.store, 'BIGINT') + rows.distributor)
                * (Cast(rows.store, 'BIGINT') + rows.distributor + 1) / 2
                + rows.distributor).as_('id'),
            rows.distributor.as_('distributor'), rows.store.as_('store'),
            Sum(Case((before, rows.amount), else_=0)).as_('opening_balance'),
            Sum(Case((inside & (rows.kind == 'order'), rows.amount),
                    else_=0)).as_('delivered_amount'),
            Sum(Case((inside & (rows.kind == 'payment'), -rows.amount),
                    else_=0)).as_('paid_amount'),
            Sum(rows.amount).as_('closing_balance'),
            where=where,
            group_by=[rows.distributor, rows.store])

    @classmethod
    def statement(cls, distributor, store, start, end):
        """The statement of a store with its distributor between start and
        end: opening, the lines (date, kind, reference, debit, credit,
        balance) and closing, in two queries over the ledger"""
        rows = ledger()
        cursor = Transaction().connection.cursor()
        cursor.execute(*rows.select(
                Sum(rows.amount),
                where=(rows.distributor == distributor.id)
                & (rows.store == store.id) & (rows.date < start)))
        opening, = cursor.fetchone()
        opening = _decimal(opening)
        cursor.execute(*rows.select(rows.date, rows.kind, rows.origin,
                rows.amount, rows.reference,
                where=(rows.distributor == distributor.id)
                & (rows.store == store.id) & (rows.date >= start)
                & (rows.date <= end),
                order_by=[rows.date, rows.kind, rows.origin]))
        balance = opening
        lines = []
        for date, kind, origin, amount, reference in cursor.fetchall():
            amount = _decimal(amount)
            balance += amount
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            lines.append({
                    'date': date, 'kind': kind, 'origin': origin,
                    'reference': reference,
                    'debit': amount if amount > 0 else ZERO,
                    'credit': -amount if amount < 0 else ZERO,
                    'balance': balance,
                    })
        return {
            'opening_balance': opening,
            'delivered_amount': sum(
                (l['debit'] for l in lines), ZERO),
            'paid_amount': sum((l['credit'] for l in lines), ZERO),
            'closing_balance': balance,
            'lines': lines,
            }

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store'],
            'store': ['store', 'customer']})
    def dms_store_statement(cls, party, store, start, end):
        """The statement of a store of the distributor party (or of the
        store itself with its distributor), with dates as ISO strings and
        amounts as strings"""
        if party.is_store:
            if store != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=store.__names__()['model'], id=store.id))
            distributor = party.store_distributor
        else:
            distributor = party
            if party not in {store.store_distributor,
                    store.customer_distributor}:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=store.__names__()['model'], id=store.id))
        start = validation.date(start, gettext(
                'distributor_store.msg_field_start'))
        end = validation.date(end, gettext(
                'distributor_store.msg_field_end'))
        result = cls.statement(distributor, store, start, end)
        return {
            **{k: str(v) for k, v in result.items() if k != 'lines'},
            'lines': [{**l, 'date': l['date'].isoformat(),
                    'debit': str(l['debit']), 'credit': str(l['credit']),
                    'balance': str(l['balance'])}
                for l in result['lines']],
            }
