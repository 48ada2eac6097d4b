# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Receipt discrepancies: what the brand shipped and the distributor missed"
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import trusted

from .exceptions import OrderStateError


def _now():
    return dt.datetime.now()


def _user():
    return Transaction().user or None


class Discrepancy(ModelSQL, ModelView):
    "Shortfall between what the brand shipped and the distributor received"
    __name__ = 'distributor.sale.discrepancy'

    sale = fields.Many2One(
        'sale.sale', "Order", required=True, ondelete='CASCADE',
        readonly=True)
    line = fields.Many2One(
        'sale.line', "Order Line", required=True, ondelete='CASCADE',
        readonly=True)
    party = fields.Function(
        fields.Many2One('party.party', "Distributor"), 'get_party',
        searcher='search_party')
    product = fields.Function(
        fields.Many2One('product.product', "Product"), 'get_product')
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_product')
    shipped_quantity = fields.Float(
        "Shipped Quantity", digits='unit', readonly=True, required=True)
    received_quantity = fields.Float(
        "Received Quantity", digits='unit', readonly=True, required=True)
    missing_quantity = fields.Function(
        fields.Float("Missing Quantity", digits='unit'),
        'get_missing_quantity')
    missing_amount = fields.Function(
        Monetary("Missing Amount", currency='currency', digits='currency'),
        'get_missing_quantity')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_product')
    note = fields.Text("Distributor's Note", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('resolved', "Resolved"),
            ], "State", required=True, readonly=True, sort=False)
    resolution = fields.Selection([
            (None, ''),
            ('credit', "Credit Note"),
            ('reship', "Reshipment"),
            ('write_off', "Write-off"),
            ], "Resolution", readonly=True, sort=False)
    resolution_note = fields.Text("Resolution Note", readonly=True)
    resolved_by = fields.Many2One(
        'res.user', "Resolved By", readonly=True, ondelete='RESTRICT')
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    credit_note = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True, ondelete='RESTRICT')
    reship_order = fields.Many2One(
        'sale.sale', "Reshipment Order", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sale')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'resolve': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_party(self, name):
        return self.sale.party.id

    @classmethod
    def search_party(cls, name, clause):
        return [('sale.party' + clause[0][len(name):], *clause[1:])]

    def get_product(self, name):
        if name == 'currency':
            return self.sale.currency.id
        value = getattr(self.line, name)
        return value.id if value else None

    def get_missing_quantity(self, name):
        missing = self.shipped_quantity - self.received_quantity
        if name == 'missing_amount':
            return self.sale.currency.round(
                Decimal(str(missing)) * (self.line.unit_price or 0))
        return missing

    def get_rec_name(self, name):
        return f'{self.sale.rec_name} / {self.line.product.rec_name}'

    @classmethod
    @ModelView.button_action('distributor_sale.wizard_resolve')
    def resolve(cls, discrepancies):
        pass

    @classmethod
    def resolve_discrepancies(cls, discrepancies, resolution, note=None):
        """Resolve open discrepancies: a draft credit note for the missing
        quantity, a reshipment order, or a write-off"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        if resolution not in {'credit', 'reship', 'write_off'}:
            raise OrderStateError(gettext(
                    'distributor_sale.msg_unknown_resolution',
                    resolution=resolution))
        note = validation.text(
            note, gettext('distributor_sale.msg_field_note'))
        for discrepancy in discrepancies:
            if discrepancy.state != 'open':
                raise OrderStateError(gettext(
                        'distributor_sale.msg_discrepancy_resolved',
                        discrepancy=discrepancy.rec_name))
        with trusted():
            for discrepancy in discrepancies:
                values = {
                    'state': 'resolved',
                    'resolution': resolution,
                    'resolution_note': note,
                    'resolved_by': _user(),
                    'resolved_at': _now(),
                    }
                if resolution == 'credit':
                    values['credit_note'] = discrepancy._credit_note().id
                elif resolution == 'reship':
                    values['reship_order'] = discrepancy._reship().id
                cls.write([discrepancy], values)
            Message = pool.get('distributor.message')
            Message.post([(d.sale.party,
                        'distributor_sale.msg_message_discrepancy_'
                        + resolution, d,
                        {'order': d.sale.rec_name,
                            'product': d.line.product.rec_name,
                            'quantity': d.missing_quantity},
                        note) for d in discrepancies])
            sales = {d.sale for d in discrepancies}
            done = [s for s in Sale.browse(list(sales))
                if s.channel_state == 'received'
                and all(d.state == 'resolved' for d in s.discrepancies)]
            if done:
                Sale._dms_done(done)

    def _credit_note(self):
        "A draft credit note for the missing quantity at the order's price"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        sale, line = self.sale, self.line
        invoice = sale._get_invoice()
        invoice.invoice_date = None
        invoice_line = InvoiceLine(
            invoice=invoice, type='line', company=sale.company,
            currency=sale.currency, product=line.product,
            quantity=-self.missing_quantity, unit=line.unit,
            unit_price=line.unit_price, taxes=line.taxes,
            description=gettext('distributor_sale.msg_credit_description',
                order=sale.rec_name, product=line.product.rec_name),
            origin=line)
        invoice_line.account = line.product.account_revenue_used
        invoice.lines = [invoice_line]
        invoice.save()
        Invoice.update_taxes([invoice])
        return invoice

    def _reship(self):
        "A new order for the missing quantity, to submit like any order"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        sale, = Sale.copy([self.sale], default={
                'lines': None,
                'order_kind': 'regular',
                'comment': gettext('distributor_sale.msg_reship_comment',
                    order=self.sale.rec_name),
                })
        Line.copy([self.line], default={
                'sale': sale.id,
                'quantity': self.missing_quantity,
                })
        return sale


class ResolveStart(ModelView):
    "Resolve discrepancies"
    __name__ = 'distributor.sale.resolve.start'
    resolution = fields.Selection([
            ('credit', "Credit Note"),
            ('reship', "Reshipment"),
            ('write_off', "Write-off"),
            ], "Resolution", required=True)
    note = fields.Text("Note")


class Resolve(Wizard):
    "Resolve receipt discrepancies"
    __name__ = 'distributor.sale.resolve'
    start = StateView('distributor.sale.resolve.start',
        'distributor_sale.resolve_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Resolve", 'resolve', 'tryton-ok', default=True),
            ])
    resolve = StateTransition()

    def transition_resolve(self):
        self.model.resolve_discrepancies(
            self.records, self.start.resolution, self.start.note)
        return 'end'

