# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Assessment templates: the KPIs of an assessment with their weights,
their scoring (linear between two bounds, or a penalty per unit) and the
grade thresholds (A/B/C, below C is D); a template may be meant for some
tiers only.

The lines of a template weigh 100 % together; the weighted score of a
distributor is Σ weight × score ÷ Σ weight over the KPIs that apply to it
(value not None), so a KPI that does not apply spreads its weight over the
others."""
from decimal import ROUND_HALF_UP, Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from distributor.party import GRADES

from .exceptions import TemplateValidationError

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal('0.01')
SCORINGS = [
    ('linear', "Linear"),
    ('penalty', "Penalty"),
    ]
GRADE_ORDER = ['A', 'B', 'C', 'D']
# set while a template writes its own lines: the sum is checked once on the
# template, not after each line
_OWN_LINES = '_distributor_assessment_template_lines'


def decimal(value, exp=CENT):
    "A Decimal of exp's places (SQLite may answer floats or text)"
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(exp, rounding=ROUND_HALF_UP)


def weighted_score(pairs):
    """The weighted score of [(weight, score or None)]: Σ weight × score ÷
    Σ weight over the pairs with a score, 2 places; 0 without any"""
    applicable = [(w, s) for w, s in pairs if s is not None]
    total = sum((w for w, _ in applicable), ZERO)
    if not total:
        return ZERO.quantize(CENT)
    return decimal(sum((w * s for w, s in applicable), ZERO) / total)


class Template(DeactivableMixin, ModelSQL, ModelView):
    """Assessment Template

    The KPIs an assessment scores, their weights and scoring, the grade
    thresholds and the grades that propose a tier change"""
    __name__ = 'distributor.assessment.template'

    name = fields.Char("Name", required=True, translate=True)
    tiers = fields.Many2Many(
        'distributor.assessment.template-distributor.tier', 'template',
        'tier', "Tiers",
        help="The tiers the template assesses (empty: every tier).")
    lines = fields.One2Many(
        'distributor.assessment.template.line', 'template', "KPIs")
    grade_a = fields.Numeric("Grade A From", digits=(5, 2), required=True,
        help="The lowest score of grade A.")
    grade_b = fields.Numeric("Grade B From", digits=(5, 2), required=True)
    grade_c = fields.Numeric("Grade C From", digits=(5, 2), required=True,
        help="Below it: grade D.")
    upgrade_grade = fields.Selection(GRADES, "Upgrade Grade", sort=False,
        help="The grade that proposes moving the distributor up a tier "
        "(empty: none).")
    downgrade_grade = fields.Selection(GRADES, "Downgrade Grade",
        sort=False,
        help="The grade that proposes moving the distributor down a tier "
        "(empty: none).")
    total_weight = fields.Function(fields.Numeric(
            "Total Weight", digits=(5, 2)), 'get_total_weight')
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_grade_a(cls):
        return Decimal(85)

    @classmethod
    def default_grade_b(cls):
        return Decimal(70)

    @classmethod
    def default_grade_c(cls):
        return Decimal(60)

    @classmethod
    def default_upgrade_grade(cls):
        return 'A'

    @classmethod
    def default_downgrade_grade(cls):
        return 'D'

    def get_total_weight(self, name):
        return sum((l.weight or ZERO for l in self.lines), ZERO)

    @classmethod
    def create(cls, vlist):
        with Transaction().set_context(**{_OWN_LINES: True}):
            return super().create(vlist)

    @classmethod
    def write(cls, *args):
        with Transaction().set_context(**{_OWN_LINES: True}):
            super().write(*args)

    @classmethod
    def delete(cls, templates):
        with Transaction().set_context(**{_OWN_LINES: True}):
            super().delete(templates)

    @classmethod
    def validate_fields(cls, templates, field_names):
        super().validate_fields(templates, field_names)
        if {'grade_a', 'grade_b', 'grade_c'} & field_names:
            cls.check_thresholds(templates)
        if {'lines'} & field_names:
            cls.check_lines(templates)

    @classmethod
    def check_thresholds(cls, templates):
        "100 ≥ A > B > C ≥ 0"
        for template in templates:
            a, b, c = template.grade_a, template.grade_b, template.grade_c
            if not (HUNDRED >= a > b > c >= ZERO):
                raise TemplateValidationError(gettext(
                        'distributor_assessment.msg_template_thresholds',
                        template=template.rec_name, a=a, b=b, c=c))

    @classmethod
    def check_lines(cls, templates):
        "At least one KPI, each once, weighing 100 % together"
        for template in templates:
            lines = list(template.lines)
            if not lines:
                raise TemplateValidationError(gettext(
                        'distributor_assessment.msg_template_no_lines',
                        template=template.rec_name))
            seen = set()
            for line in lines:
                if line.kpi.id in seen:
                    raise TemplateValidationError(gettext(
                            'distributor_assessment.msg_template_kpi_twice',
                            template=template.rec_name,
                            kpi=line.kpi.rec_name))
                seen.add(line.kpi.id)
            total = sum((l.weight or ZERO for l in lines), ZERO)
            if total != HUNDRED:
                raise TemplateValidationError(gettext(
                        'distributor_assessment.msg_template_weights',
                        template=template.rec_name, total=total))

    @classmethod
    def for_tier(cls, tier):
        """The active templates that assess tier: those naming it first,
        then those for every tier"""
        templates = cls.search([], order=[('id', 'ASC')])
        tier_id = tier.id if tier else None
        own = [t for t in templates
            if tier_id is not None and tier_id in {x.id for x in t.tiers}]
        every = [t for t in templates if not t.tiers]
        return own + every

    def grade(self, score):
        "The grade of score: 'A'..'D'"
        score = score if score is not None else ZERO
        if score >= self.grade_a:
            return 'A'
        if score >= self.grade_b:
            return 'B'
        if score >= self.grade_c:
            return 'C'
        return 'D'

    def threshold(self, grade):
        "The lowest score of grade (D: 0)"
        return {'A': self.grade_a, 'B': self.grade_b, 'C': self.grade_c,
            'D': ZERO}[grade]

    def weighted_score(self, values):
        """The weighted score of {kpi id: value}: each line's score, spread
        over the lines whose value is not None"""
        return weighted_score([(l.weight, l.score(values.get(l.kpi.id)))
                for l in self.lines])


class TemplateTier(ModelSQL):
    "Assessment Template - Tier"
    __name__ = 'distributor.assessment.template-distributor.tier'
    template = fields.Many2One(
        'distributor.assessment.template', "Template", required=True,
        ondelete='CASCADE')
    tier = fields.Many2One(
        'distributor.tier', "Tier", required=True, ondelete='CASCADE')


class TemplateLine(sequence_ordered(), ModelSQL, ModelView):
    """Assessment Template KPI

    A KPI of a template: its weight and how its value scores 0..100"""
    __name__ = 'distributor.assessment.template.line'

    template = fields.Many2One(
        'distributor.assessment.template', "Template", required=True,
        ondelete='CASCADE')
    kpi = fields.Many2One(
        'distributor.assessment.kpi', "KPI", required=True,
        ondelete='RESTRICT')
    unit = fields.Function(fields.Char("Unit"), 'on_change_with_unit')
    weight = fields.Numeric("Weight (%)", digits=(5, 2), required=True,
        help="The share of the KPI in the score; the lines of a template "
        "weigh 100 together.")
    scoring = fields.Selection(SCORINGS, "Scoring", required=True)
    zero_at = fields.Numeric("Score 0 At", digits=(16, 2),
        states={
            'invisible': Eval('scoring') != 'linear',
            },
        help="The value that scores 0 (above the other bound: lower is "
        "better).")
    full_at = fields.Numeric("Score 100 At", digits=(16, 2),
        states={
            'invisible': Eval('scoring') != 'linear',
            },
        help="The value that scores 100; in between the score is a "
        "straight line, clipped to 0..100.")
    penalty_points = fields.Numeric("Points per Unit", digits=(16, 2),
        states={
            'invisible': Eval('scoring') != 'penalty',
            },
        help="The points taken from 100 per unit of the value (at least "
        "0).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('template')

    @classmethod
    def default_scoring(cls):
        return 'linear'

    @fields.depends('kpi')
    def on_change_with_unit(self, name=None):
        return self.kpi.unit if self.kpi else None

    def get_rec_name(self, name):
        return self.kpi.rec_name if self.kpi else str(self.id)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        for line in lines:
            line.check_scoring()
        if not Transaction().context.get(_OWN_LINES):
            Template = Pool().get('distributor.assessment.template')
            Template.check_lines(Template.browse(
                    list({l.template.id for l in lines})))

    def check_scoring(self):
        template = self.template.rec_name
        if self.weight is None or self.weight <= ZERO:
            raise TemplateValidationError(gettext(
                    'distributor_assessment.msg_template_weight',
                    template=template, kpi=self.kpi.rec_name,
                    weight=self.weight))
        if self.scoring == 'linear':
            if (self.zero_at is None or self.full_at is None
                    or self.zero_at == self.full_at):
                raise TemplateValidationError(gettext(
                        'distributor_assessment.msg_template_linear',
                        template=template, kpi=self.kpi.rec_name))
        elif self.scoring == 'penalty':
            if self.penalty_points is None or self.penalty_points <= ZERO:
                raise TemplateValidationError(gettext(
                        'distributor_assessment.msg_template_penalty',
                        template=template, kpi=self.kpi.rec_name))

    @classmethod
    def delete(cls, lines):
        templates = {l.template.id for l in lines}
        super().delete(lines)
        if not Transaction().context.get(_OWN_LINES):
            Template = Pool().get('distributor.assessment.template')
            Template.check_lines(Template.browse(list(templates)))

    def score(self, value):
        "The score 0..100 of value (2 places), None when value is None"
        if value is None:
            return None
        value = Decimal(str(value)) if not isinstance(
            value, Decimal) else value
        if self.scoring == 'penalty':
            score = HUNDRED - self.penalty_points * value
        else:
            zero, full = self.zero_at, self.full_at
            score = (value - zero) / (full - zero) * HUNDRED
        return decimal(min(max(score, ZERO), HUNDRED))
