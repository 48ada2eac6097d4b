# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The rebate ledger (返利账户): a distributor's rebate account.

Each entry is a signed amount (+ a credit to the distributor: a settled
rebate, an approved expense claim, a reversal; - what it used: a
deduction on an order) with its kind, its origin and a description.  The
balance of a distributor is the sum of its entries, always: entries are
never written nor deleted once posted, a mistake is corrected with a new
entry (an adjustment with a reason, or a reversal).

Entries are created only by the workflows (settlements, claims, order
deductions) through ``LedgerEntry.dms_post``, which makes the posters of
one distributor take turns (``distributor.document.serialize`` on the
party) and refuses a movement that would leave the balance negative; the
one thing a person posts by hand is an adjustment (a manager, with a
reason: ``dms_adjust``).  A raw create, write or delete from a client is
refused.

``LedgerEntry.dms_credit_note`` gives a rebate as a Tryton customer credit
note instead (an ``account.invoice`` of type out whose total is negative):
it reaches the receivables and the statements like any invoice."""
from decimal import Decimal

from sql import Window
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from distributor import validation
from distributor.access import entry_point, is_trusted, trusted
from distributor.document import serialize

from .exceptions import LedgerError

KINDS = [
    ('settlement', "Rebate Settlement"),
    ('claim', "Expense Claim"),
    ('deduction', "Order Deduction"),
    ('adjustment', "Adjustment"),
    ('reversal', "Reversal"),
    ]
ZERO = Decimal('0.00')
CENT = Decimal('0.01')


def _from_outside():
    transaction = Transaction()
    return bool(transaction.user and transaction.check_access
        and not is_trusted())


class Configuration(metaclass=PoolMeta):
    __name__ = 'distributor.configuration'

    rebate_account = fields.Many2One(
        'account.account', "Rebate Account", ondelete='RESTRICT',
        domain=[
            ('closed', '!=', True),
            ('type.revenue', '=', True),
            ],
        help="The account of the rebate credit notes (a contra-revenue "
        "account such as Sales Rebates: Tryton's customer invoice lines "
        "take revenue accounts): a rebate settled as a credit note "
        "debits it and credits the distributor's receivable.")
    rebate_deduction_product = fields.Many2One(
        'product.product', "Rebate Deduction Product", ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        help="The service product of the order line that takes a "
        "distributor's rebate balance off an order (quantity -1, the "
        "amount deducted as unit price).")


class LedgerEntry(ModelSQL, ModelView):
    """Rebate Ledger Entry

    A movement of a distributor's rebate account: + a credit to the
    distributor (settled rebate, approved claim, reversal), - what it used
    (deduction on an order).  Written by the workflows only."""
    __name__ = 'distributor.rebate.ledger'
    # a new entry (an adjustment by hand) is the only one a form edits
    _new = {'readonly': Eval('id', -1) >= 0}

    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)], states=_new)
    date = fields.Date("Date", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True,
        sort=False)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, states=_new,
        help="+ credited to the distributor, - used by it.")
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True)
    description = fields.Char("Description", readonly=True)
    reason = fields.Text("Reason", states=_new,
        help="Why the balance is adjusted (required for an adjustment).")
    company = fields.Many2One(
        'company.company', "Company", readonly=True, ondelete='RESTRICT')
    running_balance = fields.Function(fields.Numeric(
            "Balance", digits=(16, 2),
            help="The distributor's balance after this entry."),
        'get_running_balance')
    del _new

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.origin, Index.Similarity())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls.__rpc__.update({
                'dms_adjust': RPC(readonly=False),
                'dms_balances': RPC(),
                'dms_ledger': RPC(),
                })

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def _get_origin(cls):
        "The models an entry may come from: modules add theirs"
        return ['distributor.rebate.settlement', 'sale.sale',
            'distributor.expense.claim', 'distributor.rebate.ledger',
            'account.invoice']

    @classmethod
    def get_origin(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origin()]

    def get_rec_name(self, name):
        return f'{self.party.rec_name} {self.date} {self.amount}'

    # The guard: workflows only ------------------------------------------

    @classmethod
    def create(cls, vlist):
        if _from_outside():
            # the one entry a person creates: an adjustment with a reason,
            # by those who may adjust (dms_adjust), posted like the others
            allowed = {'party', 'amount', 'reason', 'kind', 'date',
                'company'}
            today = cls.default_date()
            for values in vlist:
                if (set(values) - allowed
                        or values.get('kind', 'adjustment') != 'adjustment'
                        or values.get('date', today) != today):
                    raise LedgerError(gettext(
                            'distributor_policy.msg_ledger_readonly'))
            return cls.browse([cls.dms_adjust(
                        v.get('party'), v.get('amount'), v.get('reason'))
                    for v in vlist])
        return super().create(vlist)

    @classmethod
    def default_kind(cls):
        return 'adjustment'

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'} and (external or _from_outside()):
            raise LedgerError(gettext(
                    'distributor_policy.msg_ledger_readonly'))

    @classmethod
    def copy(cls, records, default=None):
        if _from_outside():
            raise LedgerError(gettext(
                    'distributor_policy.msg_ledger_readonly'))
        return super().copy(records, default=default)

    # Balances -----------------------------------------------------------

    @classmethod
    def balances(cls, parties):
        "{party id: balance} of the parties (one SQL sum)"
        ids = sorted({int(p) for p in parties})
        result = {i: ZERO for i in ids}
        if not ids:
            return result
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.party,
                    Coalesce(Sum(table.amount), 0),
                    where=reduce_ids(table.party, sub_ids),
                    group_by=[table.party]))
            for party, total in cursor:
                result[party] = Decimal(str(total or 0)).quantize(CENT)
        return result

    @classmethod
    def balance(cls, party):
        "The balance of the party's rebate account (SQL sum)"
        return cls.balances([party])[int(party)]

    @classmethod
    def get_running_balance(cls, entries, name):
        """The balance after each entry, in the order of the ledger
        (date, id): a window sum over the entries of their parties"""
        result = {e.id: None for e in entries}
        parties = {e.party.id for e in entries}
        if not parties:
            return result
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        window = Window([table.party],
            order_by=[table.date.asc, table.id.asc])
        wanted = set(result)
        for sub_ids in grouped_slice(sorted(parties), MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.id,
                    Sum(table.amount, window=window),
                    where=reduce_ids(table.party, sub_ids)))
            for id_, total in cursor:
                if id_ in wanted:
                    result[id_] = Decimal(str(total or 0)).quantize(CENT)
        return result

    # Posting ------------------------------------------------------------

    @classmethod
    def dms_post(cls, vlist):
        """Post entries (trusted: called by the workflows).

        vlist: dicts with party, kind, amount (signed), origin,
        description, reason, date (today by default).  The posters of a
        party take turns (serialize on the party, before the balance is
        read) and a movement that would leave a balance below zero is
        refused with LedgerError.  Returns the entries."""
        pool = Pool()
        Party = pool.get('party.party')
        if not vlist:
            return []
        vlist = [v.copy() for v in vlist]
        parties = set()
        for values in vlist:
            party = values.get('party')
            if party is None:
                raise LedgerError(gettext(
                        'distributor_policy.msg_ledger_no_party'))
            values['party'] = int(party)
            parties.add(values['party'])
            amount = values.get('amount')
            if amount is None:
                amount = ZERO
            amount = Decimal(str(amount)).quantize(CENT)
            if not amount:
                raise LedgerError(gettext(
                        'distributor_policy.msg_ledger_zero',
                        party=Party(values['party']).rec_name))
            values['amount'] = amount
            origin = values.get('origin')
            if origin is not None and not isinstance(origin, str):
                values['origin'] = str(origin)
            values.setdefault('date', cls.default_date())
            values.setdefault('company', cls.default_company())
        serialize(Party, parties)
        balances = cls.balances(parties)
        for values in vlist:
            balances[values['party']] += values['amount']
        for party_id, total in balances.items():
            if total < 0:
                raise LedgerError(gettext(
                        'distributor_policy.msg_ledger_negative',
                        party=Party(party_id).rec_name,
                        balance=total - sum(
                            v['amount'] for v in vlist
                            if v['party'] == party_id),
                        amount=-sum(v['amount'] for v in vlist
                            if v['party'] == party_id and v['amount'] < 0)))
        with trusted():
            return cls.create(vlist)

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_adjust(cls, party, amount, reason):
        """Adjust a distributor's rebate balance by hand (a manager): a
        signed amount and a mandatory reason; never below zero"""
        amount = validation.amount(amount, gettext(
                'distributor_policy.msg_field_ledger_amount'))
        reason = validation.text(reason, gettext('distributor.msg_reason'),
            required=True)
        entry, = cls.dms_post([{
                    'party': party.id,
                    'kind': 'adjustment',
                    'amount': amount,
                    'reason': reason,
                    'description': gettext(
                        'distributor_policy.msg_ledger_adjustment'),
                    }])
        return entry.id

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_balances(cls, party):
        "The rebate balance of a distributor (JSON: a string amount)"
        return str(cls.balance(party))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_ledger(cls, party, offset=0, limit=50):
        """The rebate ledger of a distributor, latest first: its entries
        with the balance after each, the total count and the balance"""
        offset = validation.integer(offset, 'offset', minimum=0)
        limit = validation.integer(limit, 'limit', minimum=1, maximum=200)
        domain = [('party', '=', party.id)]
        total = cls.search_count(domain)
        entries = cls.search(domain, offset=offset, limit=limit,
            order=[('date', 'DESC'), ('id', 'DESC')])
        kinds = dict(cls.fields_get(['kind'])['kind']['selection'])
        return {
            'balance': str(cls.balance(party)),
            'total': total,
            'offset': offset,
            'limit': limit,
            'items': [{
                    'id': e.id,
                    'date': e.date.isoformat(),
                    'kind': e.kind,
                    'kind_string': kinds.get(e.kind, e.kind),
                    'amount': str(e.amount),
                    'balance': str(e.running_balance),
                    'description': e.description or '',
                    'reason': e.reason or '',
                    'origin': (e.origin.rec_name if e.origin else None),
                    } for e in entries],
            }

    # Credit notes -------------------------------------------------------

    @classmethod
    def dms_credit_note(cls, party, amount, description, origin=None):
        """A posted customer credit note of amount for the party: an
        account.invoice of type out with one line of the configured
        rebate expense account, quantity -1 and the amount as unit price
        (so its total is negative: Tryton's credit note), reaching the
        distributor's receivable.  Trusted (workflow code)."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Configuration = pool.get('distributor.configuration')
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        amount = Decimal(str(amount)).quantize(CENT)
        party = Party(int(party))
        if amount <= 0:
            raise LedgerError(gettext(
                    'distributor_policy.msg_ledger_credit_amount',
                    party=party.rec_name, amount=amount))
        config = Configuration(1)
        if not config.rebate_account:
            raise LedgerError(gettext(
                    'distributor_policy.msg_ledger_no_account'))
        company_id = Transaction().context.get('company')
        if not company_id:
            companies = Company.search([], limit=1, order=[('id', 'ASC')])
            company_id = companies[0].id if companies else None
        company = Company(company_id)
        with trusted(), Transaction().set_context(company=company.id):
            invoice = Invoice(type='out', company=company, party=party,
                currency=company.currency,
                invoice_date=Pool().get('ir.date').today(),
                description=description)
            invoice.on_change_type()
            invoice.invoice_address = party.address_get(type='invoice')
            invoice.account = cls._rebate_receivable(party, company)
            invoice.payment_term = None
            line = InvoiceLine(type='line', company=company,
                currency=company.currency, invoice_type='out',
                party=party, account=config.rebate_account,
                quantity=-1, unit_price=amount, description=description,
                taxes=[])
            if origin is not None:
                invoice.reference = (
                    origin.rec_name if hasattr(origin, 'rec_name')
                    else str(origin))[:100]
            invoice.lines = [line]
            invoice.save()
            Invoice.update_taxes([invoice])
            Invoice.validate_invoice([invoice])
            Invoice.post([invoice])
        return Invoice(invoice.id)


    @staticmethod
    def _rebate_receivable(party, company):
        "The party's receivable account in the company"
        with Transaction().set_context(company=company.id):
            return party.__class__(party.id).account_receivable_used


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    rebate_balance = fields.Function(fields.Numeric(
            "Rebate Balance", digits=(16, 2),
            help="The distributor's rebate account: the sum of its rebate "
            "ledger entries."),
        'get_rebate_balance')

    @classmethod
    def get_rebate_balance(cls, parties, name):
        Ledger = Pool().get('distributor.rebate.ledger')
        return Ledger.balances(parties)
