# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The promotions that apply to me and my price policy (促销与价格):

- /portal/policies/promotions: the purchase discounts and promotions
  active today for the caller's distributor (published, in their dates,
  the distributor a recipient), each rule in words;
- /portal/policies/prices: the bounds of the caller's tier per product
  (to its stores, to its downstream distributors), the brand's retail
  guide price and promotional range, and the price incidents at its
  stores.

Every role may read them (admin included).  The data come from entry
points with the caller's party (distributor.policy dms_list_promotions,
distributor.tier.price.bound dms_list_bounds, distributor.price.incident
dms_list_incidents)."""
from trytond.pool import Pool

from distributor_portal.i18n import N_
from distributor_portal.web import api, page

DISTRIBUTOR = {'distributor'}
KIND_LABELS = {
    'discount': N_("Purchase Discount"),
    'promotion': N_("Promotion"),
    }
INCIDENT_STATES = {
    'open': N_("Open"),
    'confirmed': N_("Confirmed"),
    'dismissed': N_("Dismissed"),
    }
# the first incidents shown on the page (the API pages through them all)
PAGE_INCIDENTS = 20


def _promotions(portal):
    Policy = Pool().get('distributor.policy')
    return Policy.dms_list_promotions(portal.party)


def _bounds(portal):
    Bound = Pool().get('distributor.tier.price.bound')
    return Bound.dms_list_bounds(portal.party)


def _incidents(portal, offset, limit):
    "(total, incidents) of the caller's stores, latest first"
    Incident = Pool().get('distributor.price.incident')
    return Incident.dms_list_incidents(portal.party, offset, limit)


# Pages

@page('/policies/promotions', kinds=DISTRIBUTOR)
def promotions_page(portal):
    "The promotions that apply to the caller's orders today"
    return portal.render('promotion_list.html',
        promotions=_promotions(portal),
        kinds={k: portal._(v) for k, v in KIND_LABELS.items()})


@page('/policies/prices', kinds=DISTRIBUTOR)
def prices_page(portal):
    """The caller's price bounds, the retail prices and the price
    incidents at its stores"""
    total, incidents = _incidents(portal, 0, PAGE_INCIDENTS)
    return portal.render('price_policy.html', bounds=_bounds(portal),
        incidents=incidents, incident_total=total,
        states={k: portal._(v) for k, v in INCIDENT_STATES.items()})


# The API

@api('/promotions', kinds=DISTRIBUTOR, tag='policies')
def api_promotions(portal):
    """The purchase discounts and promotions active today for the
    caller's distributor: title, dates and rules (in words and as
    numbers: percentage off as a share, amount off per unit, thresholds,
    gift product, free quantity per quantity bought)"""
    return {'items': _promotions(portal)}


@api('/price-bounds', kinds=DISTRIBUTOR, tag='policies')
def api_price_bounds(portal):
    """The caller's price policy per product: its tier's bounds to stores
    (the tightest with the network's store bound) and to downstream
    distributors, the retail guide price and promotional range"""
    return {'items': _bounds(portal)}


@api('/price-incidents', kinds=DISTRIBUTOR, tag='policies', paginated=True)
def api_price_incidents(portal):
    """The price incidents (乱价) at the caller's stores, latest first:
    store, product, price seen, allowed range, state"""
    offset, limit = portal.page_window()
    total, incidents = _incidents(portal, offset, limit)
    return portal.paginated(incidents, total, offset, limit)
