# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Rebates in the portal (返利): the progress of each rebate program the
distributor receives (current period's volume, tier reached, amount
accrued, volume left to the next tier), its rebate ledger with the
running balance, and the deduction of the balance on its draft orders.

Roles: every role reads the progress; finance (and admin) read the
ledger and the balance; orders (and admin) set deductions.  Every read and
write goes through an entry point with the caller's party
(distributor.rebate.accrual dms_progress, distributor.rebate.ledger
dms_ledger, sale.sale dms_set_rebate_deduction)."""
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool

from distributor.exceptions import EntryPointRefused, InputError

from distributor_portal import orders
from distributor_portal import schema as s
from distributor_portal.i18n import N_
from distributor_portal.web import (
    PREFIX, PortalError, Refused, api, page)

DISTRIBUTOR = {'distributor'}
SALE_IDS = {'sale': 'sale.sale'}
DEDUCTION = s.obj(['amount'], amount=s.AMOUNT)
# the order states where a deduction may still change
EDITABLE = ['draft', 'rejected']


def _percent(program):
    "How far the volume went towards the next tier (0-100)"
    volume = Decimal(program['volume'])
    following = program['next_threshold']
    if following is None:
        return 100 if program['tier_threshold'] is not None else 0
    following = Decimal(following)
    if following <= 0:
        return 100
    return int(max(min(volume / following * 100, 100), 0))


def _progress(portal):
    Accrual = Pool().get('distributor.rebate.accrual')
    programs = Accrual.dms_progress(portal.party.id)
    for program in programs:
        program['percent'] = _percent(program)
    return programs


def _balance(portal):
    Ledger = Pool().get('distributor.rebate.ledger')
    if not portal.may('finance', 'orders'):
        return None
    return Ledger.dms_balances(portal.party.id)


def _draft_orders(portal):
    "The caller's orders that may still take a deduction"
    Sale = Pool().get('sale.sale')
    if not portal.may('orders'):
        return []
    sales = Sale.search([
            ('party', '=', portal.party.id),
            ('channel_state', 'in', EDITABLE),
            ], order=[('id', 'DESC')], limit=50)
    return [{
            'id': sale.id,
            'name': sale.number or sale.reference or f'#{sale.id}',
            'state': sale.channel_state,
            'total': sale.total_amount,
            'deduction': sale.rebate_deduction or Decimal(0),
            } for sale in sales]


def _ledger(portal, offset, limit):
    Ledger = Pool().get('distributor.rebate.ledger')
    return Ledger.dms_ledger(portal.party.id, offset, limit)


def _set_deduction(portal, sale, amount):
    Sale = Pool().get('sale.sale')
    sale = portal.resolve('sale.sale', sale, 'sale')
    return Sale.dms_set_rebate_deduction(portal.party.id, sale.id, amount)


def _amount(portal, value):
    try:
        number = Decimal(str(value).strip() or '0')
    except (InvalidOperation, ValueError):
        number = None
    if (number is None or not number.is_finite() or number < 0
            or number > Decimal('1e12')):
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            portal._(N_("The deduction is not an amount.")))
    return number


# Pages ----------------------------------------------------------------------

@page('/rebates', kinds=DISTRIBUTOR)
def rebates_page(portal, error=None):
    "My rebate programs, balance and deductions"
    return portal.render('rebate_progress.html',
        status=HTTPStatus.UNPROCESSABLE_ENTITY if error else 200,
        programs=_progress(portal), balance=_balance(portal),
        orders=_draft_orders(portal), error=error,
        may_ledger=portal.may('finance'))


@page('/rebates/deduction', methods=('POST',), kinds=DISTRIBUTOR,
    roles={'orders'})
def rebates_deduction_page(portal):
    "Set the rebate deduction of a draft order"
    form = portal.request.form
    sale = portal.int_arg(form.get('sale'), 'sale')
    amount = _amount(portal, form.get('amount', ''))
    try:
        _set_deduction(portal, sale, amount)
    except (AccessError, EntryPointRefused, InputError):
        raise
    except UserError as error:
        raise Refused(error,
            lambda e: rebates_page(portal, error=e.message))
    return portal.redirect(f'{PREFIX}/rebates',
        flash=portal._(N_("The rebate deduction is saved.")))


@page('/rebates/ledger', kinds=DISTRIBUTOR, roles={'finance'})
def rebates_ledger_page(portal):
    "My rebate ledger"
    offset, limit = portal.page_window()
    ledger = _ledger(portal, offset, limit)
    return portal.render('rebate_ledger.html', ledger=ledger,
        offset=offset, limit=limit, total=ledger['total'])


# JSON -----------------------------------------------------------------------

@api('/rebates', kinds=DISTRIBUTOR, tag='rebates')
def api_rebates(portal):
    """The rebate programs I receive: for each, the current period's
    volume, tier reached, amount accrued, next threshold and gap; my
    rebate balance (finance and orders roles)"""
    programs = _progress(portal)
    return {'programs': programs, 'balance': _balance(portal)}


@api('/rebates/ledger', kinds=DISTRIBUTOR, roles={'finance'},
    tag='rebates', paginated=True)
def api_rebates_ledger(portal):
    "My rebate ledger, latest first, with the balance after each entry"
    offset, limit = portal.page_window()
    ledger = _ledger(portal, offset, limit)
    result = portal.paginated(ledger['items'], ledger['total'], offset,
        limit)
    result['balance'] = ledger['balance']
    return result


@api('/orders/<int:sale>/rebate-deduction', methods=('POST',),
    kinds=DISTRIBUTOR, roles={'orders'}, body=DEDUCTION, tag='rebates',
    ids=SALE_IDS, idempotent=True)
def api_rebate_deduction(portal, sale):
    """Set the rebate deduction of my draft order (0 removes it): taken
    off at submission, within my balance and the order's goods"""
    return _set_deduction(portal, sale, portal.body['amount'])


def _cart_option(portal):
    """The rebate deduction field of the cart: offered to an account that
    orders, with the balance it may spend (None: nothing to spend)"""
    if not portal.may('orders'):
        return None
    Ledger = Pool().get('distributor.rebate.ledger')
    balance = Decimal(Ledger.dms_balances(portal.party.id))
    if balance <= 0:
        return None
    return {'balance': balance}


orders.add_order_option(orders.OrderOption('rebate_deduction', s.AMOUNT,
        'rebate_cart.html', _cart_option, 'distributor_policy'))
