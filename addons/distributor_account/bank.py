# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Bank reconciliation: distributor payments on Tryton's bank statements
(account_statement) matched by statement rules (account_statement_rule).

- A payment whose number or description names a customer invoice number
  pays that invoice (Tryton's rule line with the group 'invoice'; several
  invoices named and paid in full: one line each).
- A payment naming a statement of account (distributor.account.statement)
  goes to that statement's distributor; paid in full (its open amount, or
  the open invoices of the statement), one line per open invoice,
  otherwise on the distributor's receivable for reconciliation by hand.
- A payment of a prepaid distributor naming no document, or of any
  distributor naming a deposit keyword, goes to the deposit account
  (account_deposit) of the distributor: its deposit grows.
- A reference that looks like one of our document numbers but names
  none, or a document named by a party out of the channel, is refused at
  validation, nothing written.

The statement lines show what they matched and whether their move line
is reconciled (reconciliation_state, one SQL query)."""
import re

from sql import Literal, Null
from sql.conditionals import Case
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from .exceptions import BankError

# the words that make a payment a deposit (预付款: prepayment, 预收:
# advance receipt)
DEPOSIT_KEYWORDS = re.compile(
    r'预付款|预付|预收|定金|\bdeposit\b|\bDEP\b', re.IGNORECASE)
# a token of a reference: letters, digits and the separators of sequence
# numbers, starting and ending with a letter or a digit
TOKEN = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9/_.\-]*[A-Za-z0-9])?')
SEPARATOR = re.compile(r'[/_.\-]')
# the substitutions of ir.sequence prefixes and suffixes (${year}...)
SUBSTITUTION = re.compile(r'\$\{[^}]*\}')
# the statements of account a distributor may pay (sent to it)
PAYABLE_STATES = ['sent', 'disputed', 'resolved', 'confirmed']
MATCHES = [
    (None, ""),
    ('invoice', "Invoice"),
    ('statement', "Statement of Account"),
    ('deposit', "Deposit"),
    ]
RECONCILIATION_STATES = [
    (None, ""),
    ('open', "Open"),
    ('partial', "Partially Reconciled"),
    ('reconciled', "Reconciled"),
    ]


def tokens(text):
    """The tokens of text that may be document numbers: each word of
    letters, digits and separators, then its parts between separators
    ("INV1/INV2" names INV1 and INV2)"""
    result = []
    for token in TOKEN.findall(text or ''):
        result.append(token)
        parts = [p for p in SEPARATOR.split(token) if p]
        if len(parts) > 1:
            result.extend(parts)
    return list(dict.fromkeys(result))


def named(text, documents, patterns):
    """The documents (values of documents by upper number) text names,
    and the tokens that look like a number of patterns but name none"""
    found, unknown = [], []

    def check(candidate):
        "Whether candidate is a document number or looks like one"
        document = documents.get(candidate.upper())
        if document:
            if document not in found:
                found.append(document)
            return True
        if any(p.fullmatch(candidate) for p in patterns):
            unknown.append(candidate)
            return True
        return False
    for token in TOKEN.findall(text or ''):
        if not check(token):
            parts = [p for p in SEPARATOR.split(token) if p]
            if len(parts) > 1:
                for part in parts:
                    check(part)
    return found, unknown


def _sequence_pattern(sequence):
    """The regular expression of the numbers of sequence, or None when
    its prefix and suffix have no letter (a bare number looks like too
    many things to be told for one of our documents)"""
    prefix = sequence.prefix or ''
    suffix = sequence.suffix or ''
    if not re.search(r'[A-Za-z]', SUBSTITUTION.sub('', prefix + suffix)):
        return None

    def part(text):
        return r'\d+'.join(re.escape(p) for p in SUBSTITUTION.split(text))
    return re.compile(part(prefix) + r'\d+' + part(suffix), re.IGNORECASE)


def statement_model():
    "The statement of account model, None while it is not there"
    try:
        return Pool().get('distributor.account.statement')
    except KeyError:
        return None


def reconciliation_state(move_line_ids):
    """{move line id: 'reconciled' | 'partial' | 'open'} in one query a
    slice: reconciled, used as a payment of an invoice (or an invoice's
    line with payments) without being reconciled yet, or open"""
    pool = Pool()
    MoveLine = pool.get('account.move.line')
    Invoice = pool.get('account.invoice')
    PaymentLine = pool.get('account.invoice-account.move.line')
    cursor = Transaction().connection.cursor()
    line = MoveLine.__table__()
    invoice = Invoice.__table__()
    payment = PaymentLine.__table__()
    payment2 = PaymentLine.__table__()
    state = Case(
        (line.reconciliation != Null, Literal('reconciled')),
        (Exists(payment.select(Literal(1),
                    where=payment.line == line.id)),
            Literal('partial')),
        (Exists(invoice.join(payment2,
                    condition=payment2.invoice == invoice.id
                    ).select(Literal(1),
                    where=(invoice.move == line.move)
                    & (invoice.account == line.account))),
            Literal('partial')),
        else_=Literal('open'))
    result = {}
    ids = [int(i) for i in move_line_ids]
    for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
        cursor.execute(*line.select(line.id, state,
                where=reduce_ids(line.id, sub_ids)))
        result.update(cursor)
    return result


class Statement(metaclass=PoolMeta):
    __name__ = 'account.statement'

    @classmethod
    @ModelView.button
    @Workflow.transition('validated')
    def validate_statement(cls, statements):
        Line = Pool().get('account.statement.line')
        Line.dms_check_references(
            [l for s in statements for l in s.lines])
        super().validate_statement(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, statements):
        Line = Pool().get('account.statement.line')
        Line.dms_check_references(
            [l for s in statements for l in s.lines])
        super().post(statements)


class StatementLine(metaclass=PoolMeta):
    __name__ = 'account.statement.line'

    dms_match = fields.Selection(MATCHES, "Matched", readonly=True,
        help="What the statement rules matched the payment to.")
    dms_reference = fields.Char("Matched Reference", readonly=True,
        help="The document number the payment named.")
    dms_invoice = fields.Function(fields.Many2One(
            'account.invoice', "Invoice"), 'get_dms_invoice')
    dms_account_statement = fields.Function(fields.Many2One(
            'distributor.account.statement', "Statement of Account"),
        'get_dms_account_statement')
    dms_reconciliation = fields.Function(fields.Selection(
            RECONCILIATION_STATES, "Reconciliation"),
        'get_dms_reconciliation')

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dms_match', None)
        default.setdefault('dms_reference', None)
        return super().copy(lines, default=default)

    def get_dms_invoice(self, name):
        return self.invoice.id if self.invoice else None

    @classmethod
    def get_dms_account_statement(cls, lines, name):
        result = {l.id: None for l in lines}
        Statement = statement_model()
        numbers = {l.dms_reference for l in lines
            if l.dms_match == 'statement' and l.dms_reference}
        if Statement is None or not numbers:
            return result
        by_number = {(s.company.id, s.number): s.id
            for s in Statement.search([('number', 'in', list(numbers))])}
        for line in lines:
            if line.dms_match == 'statement':
                result[line.id] = by_number.get(
                    (line.company.id, line.dms_reference))
        return result

    @classmethod
    def get_dms_reconciliation(cls, lines, name):
        "The state of the move line of each statement line (SQL)"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        move_line = MoveLine.__table__()
        result = {l.id: None for l in lines}
        origins = {'%s,%s' % (cls.__name__, l.id): l.id for l in lines}
        move_lines = {}
        for sub in grouped_slice(list(origins), MAX_QUERY_PARAMS):
            cursor.execute(*move_line.select(
                    move_line.id, move_line.origin,
                    where=move_line.origin.in_(list(sub))))
            for id_, origin in cursor:
                move_lines[id_] = origins[origin]
        rank = {'open': 0, 'partial': 1, 'reconciled': 2}
        for id_, state in reconciliation_state(move_lines).items():
            line_id = move_lines[id_]
            if (result[line_id] is None
                    or rank[state] < rank[result[line_id]]):
                result[line_id] = state
        return result

    def dms_text(self):
        "The text a payment names its documents in (its origin's too)"
        texts = [self.number, self.description]
        if self.origin:
            texts += [self.origin.number, self.origin.description]
        return ' '.join(dict.fromkeys(filter(None, texts)))

    @classmethod
    def dms_documents(cls, company, tokens_):
        """{number: ('invoice' | 'statement', record)} of the customer
        invoices and statements of account of company numbered like one
        of tokens_ (case insensitive)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Statement = statement_model()
        numbers = list({t.upper() for t in tokens_} | set(tokens_))
        result = {}
        if not numbers:
            return result
        for invoice in Invoice.search([
                    ('company', '=', company.id),
                    ('type', '=', 'out'),
                    ('number', 'in', numbers),
                    ('state', 'in', ['posted', 'paid']),
                    ]):
            result[invoice.number.upper()] = ('invoice', invoice)
        if Statement is not None:
            for statement in Statement.search([
                        ('company', '=', company.id),
                        ('number', 'in', numbers),
                        ]):
                result[statement.number.upper()] = ('statement', statement)
        return result

    @classmethod
    def dms_number_patterns(cls, company):
        """The regular expressions of our document numbers: the customer
        invoices and credit notes of company, the statements of account"""
        pool = Pool()
        InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequences = set()
        for invoice_sequence in InvoiceSequence.search([
                    ('company', '=', company.id)]):
            sequences.add(invoice_sequence.out_invoice_sequence)
            sequences.add(invoice_sequence.out_credit_note_sequence)
        try:
            sequences.add(Sequence(ModelData.get_id(
                        'distributor_account', 'sequence_statement')))
        except KeyError:
            pass
        return [p for p in map(_sequence_pattern, filter(None, sequences))
            if p]

    @classmethod
    def dms_deposit_account(cls, company):
        "The deposit account of the distributors of company"
        Account = Pool().get('account.account')
        accounts = Account.search([
                ('company', '=', company.id),
                ('type.deposit', '=', True),
                ('party_required', '=', True),
                ('closed', '!=', True),
                ], order=[('code', 'ASC'), ('id', 'ASC')], limit=1)
        if not accounts:
            raise BankError(gettext(
                    'distributor_account.msg_bank_no_deposit_account',
                    company=company.rec_name))
        return accounts[0]

    def _dms_label(self):
        return ' '.join(filter(None, [
                    self.statement.rec_name, self.number,
                    self.description, str(self.amount)]))

    @classmethod
    def dms_check_references(cls, lines):
        """Refuse the payments whose reference looks like one of our
        document numbers but names none, or that name a document of
        another party or pay a party out of the channel"""
        by_company = {}
        for line in lines:
            by_company.setdefault(line.statement.company, []).append(line)
        for company, company_lines in by_company.items():
            patterns = cls.dms_number_patterns(company)
            texts = {l: tokens(l.dms_text()) for l in company_lines}
            documents = cls.dms_documents(
                company, [t for ts in texts.values() for t in ts])
            for line in company_lines:
                found, unknown = named(
                    line.dms_text(), documents, patterns)
                if unknown:
                    raise BankError(gettext(
                            'distributor_account.msg_bank_unknown_reference',
                            line=line._dms_label(), reference=unknown[0]))
                if line.amount > 0 and (found or line.dms_match):
                    cls._dms_check_party(line, found)

    @classmethod
    def _dms_check_party(cls, line, named):
        "The party of a distributor payment is the documents' and ours"
        party = line.party
        if party and not party.channel_party:
            raise BankError(gettext(
                    'distributor_account.msg_bank_party_not_customer',
                    line=line._dms_label(), party=party.rec_name))
        for kind, document in named:
            payees = {document.party}
            if kind == 'invoice':
                payees.update(document.alternative_payees)
            if party and party not in payees:
                raise BankError(gettext(
                        'distributor_account.msg_bank_party_mismatch',
                        line=line._dms_label(), party=party.rec_name,
                        reference=document.number,
                        document_party=document.party.rec_name))


class StatementRule(metaclass=PoolMeta):
    __name__ = 'account.statement.rule'

    dms_kind = fields.Selection([
            (None, ""),
            ('document', "Invoice or Statement Number"),
            ('deposit', "Distributor Deposit"),
            ], "Distributor Matching",
        help="Invoice or Statement Number: the payment names customer "
        "invoices or a statement of account in its number or "
        "description.\n"
        "Distributor Deposit: a payment of a prepaid distributor that "
        "names no document, or of a distributor that names a deposit.")

    def match(self, origin):
        keywords = super().match(origin)
        if not keywords or not self.dms_kind:
            return keywords
        if origin.amount <= 0:
            return False
        Line = Pool().get('account.statement.line')
        text = ' '.join(filter(None, [origin.number, origin.description]))
        documents, _ = named(text, Line.dms_documents(
                origin.company, tokens(text)), [])
        if self.dms_kind == 'document':
            return self._dms_match_document(origin, keywords, documents)
        if documents:
            return False
        party = self._dms_party(origin, keywords)
        if not party or not party.is_distributor:
            return False
        if (not DEPOSIT_KEYWORDS.search(text)
                and party.settlement_method != 'prepaid'):
            return False
        keywords.update(dms_kind='deposit', dms_party=party.id)
        return keywords

    def _dms_party(self, origin, keywords):
        "The party that pays: from the rule, its keywords or the origin"
        party = None
        if self.lines:
            party = self.lines[0]._get_party(
                origin, keywords, amount=origin.amount)
        return party or origin.party

    def _dms_match_document(self, origin, keywords, documents):
        if not documents:
            return False
        statements = [d for k, d in documents if k == 'statement']
        invoices = [d for k, d in documents if k == 'invoice']
        if statements:
            statement = statements[0]
            if (statement.state not in PAYABLE_STATES
                    or statement.kind != 'distributor'):
                return False
            if origin.party and origin.party != statement.party:
                return False
            invoices = self._dms_statement_invoices(statement)
            keywords.update(dms_kind='statement',
                dms_reference=statement.number,
                dms_party=statement.party.id)
            open_amount = sum(i.amount_to_pay for i in invoices)
            if invoices and origin.amount in {
                    open_amount, statement.open_amount}:
                keywords['dms_invoices'] = [i.id for i in invoices]
            return keywords
        parties = {i.party for i in invoices}
        if len(parties) > 1:
            return False
        party, = parties
        if origin.party and origin.party != party and not all(
                origin.party in i.alternative_payees for i in invoices):
            return False
        keywords.update(dms_kind='invoice',
            dms_reference=', '.join(i.number for i in invoices),
            dms_party=party.id)
        invoices = [i for i in invoices if i.state == 'posted']
        if len(invoices) == 1:
            keywords['invoice'] = invoices[0].number
        elif invoices and origin.amount == sum(
                i.amount_to_pay for i in invoices):
            keywords['dms_invoices'] = [i.id for i in invoices]
        return keywords

    @classmethod
    def _dms_statement_invoices(cls, statement):
        "The posted customer invoices with an amount to pay on statement"
        Invoice = Pool().get('account.invoice')
        invoices = []
        for line in statement.lines:
            origin = getattr(line, 'origin', None)
            if (isinstance(origin, Invoice) and origin.type == 'out'
                    and origin.state == 'posted'
                    and origin.amount_to_pay > 0
                    and origin not in invoices):
                invoices.append(origin)
        return invoices

    def apply(self, origin, keywords):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.statement.line')
        kind = keywords.get('dms_kind')
        if keywords.get('dms_invoices'):
            # several invoices paid in full: one line each
            lines = []
            for invoice in Invoice.browse(keywords['dms_invoices']):
                line = Line(statement=origin.statement,
                    number=origin.number, description=origin.description,
                    origin=origin, date=origin.date,
                    amount=invoice.amount_to_pay, party=invoice.party,
                    account=invoice.account, related_to=invoice)
                lines.append(line)
        else:
            lines = list(super().apply(origin, keywords))
            lines = self._dms_split_overpayment(origin, lines)
        for line in lines:
            line.dms_match = kind
            line.dms_reference = keywords.get('dms_reference')
            yield line

    @classmethod
    def _dms_split_overpayment(cls, origin, lines):
        """A line paying more than its invoice's amount to pay: the rest
        on the party's receivable, to reconcile by hand"""
        Line = Pool().get('account.statement.line')
        result = []
        for line in lines:
            invoice = line.invoice
            if invoice and invoice.type == 'out' and (
                    0 < invoice.amount_to_pay < line.amount):
                rest = line.amount - invoice.amount_to_pay
                line.amount = invoice.amount_to_pay
                result.append(line)
                result.append(Line(statement=origin.statement,
                        number=origin.number,
                        description=origin.description, origin=origin,
                        date=origin.date, amount=rest, party=line.party,
                        account=line.account))
            else:
                result.append(line)
        return result


class StatementRuleLine(metaclass=PoolMeta):
    __name__ = 'account.statement.rule.line'

    dms_deposit = fields.Boolean("Deposit Account",
        states={
            'invisible': Eval('account', None) != None,  # noqa: E711
            },
        help="Book the amount on the distributors' deposit account of "
        "the company (the account's type is a deposit).")

    def _get_party(self, origin, keywords, amount=0):
        Party = Pool().get('party.party')
        if not self.party and keywords.get('dms_party'):
            return Party(keywords['dms_party'])
        return super()._get_party(origin, keywords, amount=amount)

    def get_line(self, origin, keywords, **context):
        line = super().get_line(origin, keywords, **context)
        if line and self.dms_deposit:
            Line = Pool().get('account.statement.line')
            if not line.party:
                return None
            line.account = Line.dms_deposit_account(origin.company)
            line.related_to = None
        return line

