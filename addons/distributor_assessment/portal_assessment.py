# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""A distributor's performance in the portal (业绩与考核): its confirmed
sales targets with the actual and the attainment, its latest approved
assessment (score, grade, rank within its tier, each KPI's value, score,
weight and weighted points) and what it takes to reach the next grade
(the points missing, the KPIs where it can gain most); and the same as
JSON.

Every figure comes from an entry point called with the caller's own
party (distributor.target.dms_targets and
distributor.assessment.result.dms_assessment: every portal account),
never from an id of the request."""
from decimal import Decimal, InvalidOperation

from trytond.pool import Pool

from distributor_portal import schema as s
from distributor_portal.i18n import N_
from distributor_portal.web import api, page

TARGET = 'distributor.target'
RESULT = 'distributor.assessment.result'
DISTRIBUTOR = {'distributor'}
GRADES = ['A', 'B', 'C', 'D']
# the units shown after a value (a percentage shows %, a count nothing)
UNIT_LABELS = {
    'days': N_("days"),
    }
DIRECTION_LABELS = {
    'higher': N_("Higher is better"),
    'lower': N_("Lower is better"),
    }
# an attainment from this percentage is on track (below: behind)
CENT = Decimal('0.01')
ON_TRACK = Decimal(100)
BEHIND = Decimal(80)


def _decimal(value):
    if value is None or value == '':
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _targets(portal):
    "The caller's confirmed targets with their actuals and attainment"
    return Pool().get(TARGET).dms_targets(portal.party.id)


def _assessment(portal):
    "The caller's latest approved assessment, or None"
    return Pool().get(RESULT).dms_assessment(portal.party.id)


def _target_view(portal, target):
    """A target as the page shows it: what it counts (amount or
    quantity), the actual, the attainment and the width of its bar"""
    by_amount = target.get('amount') is not None
    attainment = _decimal(target.get('attainment'))
    view = dict(target)
    view['by_amount'] = by_amount
    view['goal'] = target['amount'] if by_amount else target['quantity']
    view['actual'] = (target['actual_amount'] if by_amount
        else target['actual_quantity'])
    view['percent'] = attainment
    # the bar: 0..100 (an attainment above 100 fills it)
    view['bar'] = (max(min(attainment, Decimal(100)), Decimal(0))
        if attainment is not None else Decimal(0))
    if attainment is None:
        view['status'] = 'none'
    elif attainment >= ON_TRACK:
        view['status'] = 'done'
    elif attainment >= BEHIND:
        view['status'] = 'near'
    else:
        view['status'] = 'behind'
    return view


def _points(value):
    "A score or a number of points with its two decimals (None stays)"
    number = _decimal(value)
    return str(number.quantize(CENT)) if number is not None else None


def _assessment_view(portal, values):
    "The assessment with its labels and the KPIs to improve first"
    if values is None:
        return None
    view = dict(values)
    for key in ['score', 'computed_score', 'adjustment', 'points_missing',
            'next_grade_score']:
        view[key] = _points(values.get(key))
    kpis = []
    for kpi in values['kpis']:
        kpi = dict(kpi)
        for key in ['value', 'score', 'weighted', 'gain']:
            kpi[key] = _points(kpi.get(key))
        weight = _decimal(kpi.get('weight'))
        # a weight as entered: 70, 12.5
        kpi['weight'] = (f'{weight.normalize():f}' if weight is not None
            else None)
        kpi['unit_label'] = (portal._(UNIT_LABELS[kpi['unit']])
            if kpi['unit'] in UNIT_LABELS else '')
        kpi['direction_label'] = portal._(DIRECTION_LABELS.get(
                kpi.get('direction'), '')) if kpi.get('direction') else ''
        kpi['applicable'] = kpi['value'] is not None
        score = _decimal(kpi['score'])
        kpi['bar'] = (max(min(score, Decimal(100)), Decimal(0))
            if score is not None else Decimal(0))
        kpis.append(kpi)
    view['kpis'] = kpis
    by_code = {k['kpi']: k for k in kpis}
    view['improve_kpis'] = [by_code[c] for c in values.get('improve') or []
        if c in by_code]
    view['score_bar'] = max(min(_decimal(values['score']) or Decimal(0),
            Decimal(100)), Decimal(0))
    return view


@page('/assessment', kinds=DISTRIBUTOR)
def assessment_page(portal):
    """My performance: my targets with attainment, my latest approved
    assessment (score, grade, rank in my tier, the KPIs) and what it
    takes to reach the next grade"""
    targets = [_target_view(portal, t) for t in _targets(portal)]
    assessment = _assessment_view(portal, _assessment(portal))
    return portal.render('assessment_page.html', targets=targets,
        assessment=assessment, grades=GRADES)


# The API --------------------------------------------------------------------

NUMBER = {'type': ['string', 'null']}
TARGET_SCHEMA = {
    'type': 'object',
    'properties': {
        'id': s.ID, 'start': s.DATE, 'end': s.DATE,
        'category': {'type': ['string', 'null']},
        'amount': NUMBER,
        'quantity': {'type': ['number', 'null']},
        'actual_amount': NUMBER,
        'actual_quantity': {'type': ['number', 'null']},
        'attainment': NUMBER,
        },
    'required': ['id', 'start', 'end', 'attainment'],
    }
KPI_SCHEMA = {
    'type': 'object',
    'properties': {
        'kpi': {'type': 'string'}, 'name': {'type': 'string'},
        'unit': {'type': ['string', 'null']},
        'direction': {'type': ['string', 'null']},
        'value': NUMBER, 'score': NUMBER, 'weight': {'type': 'string'},
        'weighted': NUMBER, 'gain': NUMBER,
        },
    'required': ['kpi', 'name', 'value', 'score', 'weight', 'weighted'],
    }
ASSESSMENT_SCHEMA = {
    'type': ['object', 'null'],
    'properties': {
        'run': {'type': 'object'},
        'distributor': {'type': 'object'},
        'score': {'type': 'string'},
        'computed_score': {'type': 'string'},
        'adjustment': {'type': 'string'},
        'grade': {'type': 'string', 'enum': GRADES},
        'rank': {'type': ['integer', 'null']},
        'rank_territory': {'type': ['integer', 'null']},
        'rank_tier': {'type': ['integer', 'null']},
        'tier_count': {'type': ['integer', 'null']},
        'tier': {'type': ['string', 'null']},
        'territory': {'type': ['string', 'null']},
        'kpis': {'type': 'array', 'items': KPI_SCHEMA},
        'next_grade': {'type': ['string', 'null']},
        'next_grade_score': NUMBER,
        'points_missing': NUMBER,
        'improve': {'type': 'array', 'items': {'type': 'string'}},
        },
    'required': ['score', 'grade', 'rank_tier', 'tier_count', 'kpis',
        'next_grade', 'points_missing', 'improve'],
    }


@api('/assessment', kinds=DISTRIBUTOR, tag='assessment',
    response={'type': 'object',
        'properties': {'assessment': ASSESSMENT_SCHEMA},
        'required': ['assessment']})
def api_assessment(portal):
    """My latest approved assessment: score, grade, ranks (overall, in my
    territory, in my tier of tier_count), each KPI (value, score, weight,
    weighted points, gain: the points it can still bring), the next grade
    and the points missing, the KPIs to improve first; null without an
    approved assessment"""
    return {'assessment': _assessment(portal)}


@api('/targets', kinds=DISTRIBUTOR, tag='assessment',
    response={'type': 'object',
        'properties': {'items': {'type': 'array', 'items': TARGET_SCHEMA}},
        'required': ['items']})
def api_targets(portal):
    """My confirmed sales targets, newest first: period, category,
    target amount and/or quantity, the actuals (my sell-in over the
    period) and the attainment in % (of the amount when set, else of the
    quantity)"""
    return {'items': _targets(portal)}
