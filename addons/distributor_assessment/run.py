# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Assessment runs (考核): a period, a template and a scope; the KPI
values, scores, weighted score, grade and ranks (overall, within the
territory, within the tier) of every distributor of the scope, computed as
a queue task with progress.

draft → (computing) → computed → reviewed → approved; a manager may adjust
a computed score with a reason (logged); approving writes the grades on
the distributors and proposes tier changes (upgrade, downgrade) that
managers accept or refuse.  An approved (or reviewed) run is never
computed again: a new run is a new document, so results stay reproducible.

The results are written in bulk SQL: one INSERT … SELECT of the scope, the
KPI lines in multi-row INSERTs, the scores in UPDATE … FROM (VALUES …), the
grades in one UPDATE and the ranks in one UPDATE from RANK() windows; no
record is created through the ORM per distributor."""
import datetime as dt
import logging
from decimal import Decimal

from sql import Cast, Literal, Values, Window
from sql.aggregate import Count
from sql.conditionals import Case
from sql.functions import Rank

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.document import (
    Document, DocumentLog, ReasonWizard, WorkflowRecords)
from distributor.party import GRADES

from .exceptions import AssessmentError
from .sales import distributor_territories
from .template import CENT, GRADE_ORDER, HUNDRED, ZERO, decimal

logger = logging.getLogger(__name__)
WEIGHTED = Decimal('0.0001')
# rows per multi-row INSERT / UPDATE … FROM (VALUES …)
CHUNK = 500

STATES = [
    ('draft', "Draft"),
    ('computing', "Computing"),
    ('computed', "Computed"),
    ('reviewed', "Reviewed"),
    ('approved', "Approved"),
    ('cancelled', "Cancelled"),
    ]
PROPOSAL_STATES = [
    ('proposed', "Proposed"),
    ('accepted', "Accepted"),
    ('refused', "Refused"),
    ]
DIRECTIONS = [
    ('up', "Upgrade"),
    ('down', "Downgrade"),
    ]


def _num(column):
    "A numeric to compare or sort (SQLite stores Decimals as text)"
    return Cast(column, 'NUMERIC')


def score_value(scoring, zero_at, full_at, points, value):
    """The score 0..100 (2 places) of value under a line's scoring; None
    when value is None"""
    if value is None:
        return None
    if scoring == 'penalty':
        score = HUNDRED - points * value
    else:
        score = (value - zero_at) / (full_at - zero_at) * HUNDRED
    return decimal(min(max(score, ZERO), HUNDRED))


class Run(Document, ModelSQL, ModelView):
    """Assessment Run

    The assessment of the distributors of a scope over a period with a
    template: their KPI values, scores, grades and ranks"""
    __name__ = 'distributor.assessment.run'
    _rec_name = 'number'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {
        'number', 'total', 'progress', 'computed_at', 'computed_by',
        'reviewed_at', 'reviewed_by', 'approved_at', 'approved_by',
        'empty', 'warning', 'error', 'results', 'proposals', 'state_logs'}
    _dms_log_model = 'distributor.assessment.run.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='RESTRICT',
        states=_draft)
    start_date = fields.Date("From", required=True, states=_draft)
    end_date = fields.Date("To", required=True, states=_draft,
        domain=[('end_date', '>=', Eval('start_date', None))])
    template = fields.Many2One(
        'distributor.assessment.template', "Template", required=True,
        ondelete='RESTRICT', states=_draft)
    territory = fields.Many2One(
        'distributor.territory', "Territory", ondelete='RESTRICT',
        states=_draft,
        help="Only the distributors of this territory (and below).")
    tier = fields.Many2One(
        'distributor.tier', "Tier", ondelete='RESTRICT', states=_draft,
        help="Only the distributors of this tier.")
    distributors = fields.Many2Many(
        'distributor.assessment.run-party.party', 'run', 'party',
        "Distributors", states=_draft,
        domain=[('is_distributor', '=', True)],
        help="Only these distributors (empty: every active distributor "
        "of the template's tiers).")
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')
    total = fields.Integer("Distributors", readonly=True)
    progress = fields.Float("Progress", digits=(3, 2), readonly=True)
    computed_at = fields.DateTime("Computed At", readonly=True)
    computed_by = fields.Many2One(
        'res.user', "Computed By", readonly=True, ondelete='RESTRICT')
    reviewed_at = fields.DateTime("Reviewed At", readonly=True)
    reviewed_by = fields.Many2One(
        'res.user', "Reviewed By", readonly=True, ondelete='RESTRICT')
    approved_at = fields.DateTime("Approved At", readonly=True)
    approved_by = fields.Many2One(
        'res.user', "Approved By", readonly=True, ondelete='RESTRICT')
    empty = fields.Boolean("No Activity", readonly=True,
        help="The period had no activity at all: every value is zero or "
        "not applicable and every score is 0.")
    warning = fields.Text("Warning", readonly=True,
        states={'invisible': ~Eval('empty')})
    error = fields.Text("Error", readonly=True,
        states={'invisible': ~Eval('error')})
    results = fields.One2Many(
        'distributor.assessment.result', 'run', "Results", readonly=True)
    proposals = fields.One2Many(
        'distributor.tier.proposal', 'run', "Tier Change Proposals",
        readonly=True)
    state_logs = fields.One2Many(
        'distributor.assessment.run.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low'))))
        cls._order = [('end_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computing'),
            ('computed', 'computing'),
            ('computing', 'computed'),
            ('computing', 'draft'),
            ('computed', 'draft'),
            ('computed', 'reviewed'),
            ('reviewed', 'approved'),
            ('draft', 'cancelled'),
            ('computed', 'cancelled'),
            ('reviewed', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'depends': ['state'],
                    'icon': 'tryton-refresh',
                    },
                'review': {
                    'invisible': Eval('state') != 'computed',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'approve': {
                    'invisible': Eval('state') != 'reviewed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'computed', 'reviewed']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'draft': {
                    'invisible': ~Eval('state').in_(['computed', 'cancelled']),
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_start_date(cls):
        today = Pool().get('ir.date').today()
        return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_end_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1) - dt.timedelta(days=1)

    @classmethod
    def default_empty(cls):
        return False

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('template.name', operator, value),
            ]

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        runs = super().create(vlist)
        # numbered once created: a client may not give the number
        missing = [r for r in runs if not r.number]
        if missing:
            sequence = Sequence(ModelData.get_id(
                    'distributor_assessment', 'sequence_run'))
            with trusted():
                numbers = list(sequence.get_many(n=len(missing)))
                args = []
                for run, number in zip(missing, numbers):
                    args.extend([[run], {'number': number}])
                cls.write(*args)
        return runs

    @classmethod
    def copy(cls, runs, default=None):
        "A copy is a new draft (a new document) over the same scope"
        default = default.copy() if default is not None else {}
        for name in ['number', 'total', 'progress', 'computed_at',
                'computed_by', 'reviewed_at', 'reviewed_by', 'approved_at',
                'approved_by', 'warning', 'error']:
            default.setdefault(name, None)
        default.setdefault('empty', False)
        default.setdefault('results', None)
        default.setdefault('proposals', None)
        default.setdefault('state_logs', None)
        return super().copy(runs, default=default)

    @classmethod
    def delete(cls, runs):
        cls._delete_results(runs)
        super().delete(runs)

    @classmethod
    def validate_fields(cls, runs, field_names):
        super().validate_fields(runs, field_names)
        if {'start_date', 'end_date', 'tier', 'template'} & field_names:
            for run in runs:
                run.check_scope()

    def check_scope(self):
        if self.end_date < self.start_date:
            raise AssessmentError(gettext(
                    'distributor_assessment.msg_run_period',
                    run=self.rec_name, start=self.start_date,
                    end=self.end_date))
        tiers = {t.id for t in self.template.tiers}
        if self.tier and tiers and self.tier.id not in tiers:
            raise AssessmentError(gettext(
                    'distributor_assessment.msg_run_tier',
                    run=self.rec_name, tier=self.tier.rec_name,
                    template=self.template.rec_name))

    # Workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    def compute(cls, runs):
        """Compute the runs again (draft or computed) as a queue task; an
        approved or reviewed run is refused: a new run is a new
        document"""
        def check(runs):
            for run in runs:
                if run.state in {'reviewed', 'approved'}:
                    raise AssessmentError(gettext(
                            'distributor_assessment.msg_run_recompute',
                            run=run.rec_name, state=run.state_string))
                if run.state not in {'draft', 'computed'}:
                    raise AssessmentError(gettext(
                            'distributor_assessment.msg_run_compute_state',
                            run=run.rec_name, state=run.state_string))
        check(runs)
        cls.dms_serialize(runs)
        runs = cls.browse([r.id for r in runs])
        check(runs)
        with trusted():
            cls.write(runs, {'progress': 0.0, 'error': None})
            cls._computing(runs)
        cls.__queue__.process(runs, True)

    @classmethod
    @Workflow.transition('computing')
    def _computing(cls, runs):
        pass

    @classmethod
    @Workflow.transition('computed')
    def _computed(cls, runs):
        pass

    @classmethod
    @Workflow.transition('draft')
    def _failed(cls, runs):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('reviewed')
    def review(cls, runs):
        cls.write(runs, {
                'reviewed_at': dt.datetime.now(),
                'reviewed_by': Transaction().user or None,
                })

    @classmethod
    @ModelView.button
    def approve(cls, runs):
        """Approve reviewed runs: the grades are written on the
        distributors and the tier changes proposed"""
        cls.dms_serialize(runs)
        runs = cls.browse([r.id for r in runs])
        cls.dms_check_state(runs, {'reviewed'})
        with trusted():
            cls._approved(runs)
            cls.write(runs, {
                    'approved_at': dt.datetime.now(),
                    'approved_by': Transaction().user or None,
                    })
            for run in runs:
                run.apply_grades()
                run.propose_tiers()

    @classmethod
    @Workflow.transition('approved')
    def _approved(cls, runs):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, runs):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, runs):
        "Back to draft: the results are deleted (computed again later)"
        cls._delete_results(runs)
        cls.write(runs, {'total': None, 'progress': None, 'empty': False,
                'warning': None, 'computed_at': None, 'computed_by': None})

    # Computation --------------------------------------------------------

    @classmethod
    def process(cls, runs, commit=False):
        """Compute the runs in the computing state, writing the progress
        after each stage; commit (a queue task in its own transaction):
        make each stage visible at once and record a failure (the run
        back to draft with the error)"""
        transaction = Transaction()
        for run in runs:
            run = cls(run.id)
            if run.state != 'computing':
                continue
            try:
                with transaction.set_context(company=run.company.id):
                    run._compute(commit)
            except Exception as exception:
                if not commit:
                    raise
                logger.exception("assessment run %s failed", run.id)
                transaction.rollback()
                run = cls(run.id)
                message = (exception.message
                    if isinstance(exception, UserError)
                    else str(exception))
                with trusted():
                    cls._delete_results([run])
                    cls.write([run], {'error': message[:2000],
                            'progress': None})
                    cls._failed([run])
                transaction.commit()

    def _progress(self, progress, commit, **values):
        with trusted():
            self.__class__.write([self], {'progress': progress, **values})
        if commit:
            Transaction().commit()

    def _compute(self, commit=False):
        pool = Pool()
        Kpi = pool.get('distributor.assessment.kpi')
        Result = pool.get('distributor.assessment.result')
        result = Result.__table__()
        with trusted():
            self._delete_results([self])
        total = self._insert_results()
        self._progress(0.1, commit, total=total)
        lines = list(self.template.lines)
        scope = result.select(result.distributor.as_('party'),
            where=result.run == self.id)
        values = Kpi.compute([l.kpi for l in lines], self.start_date,
            self.end_date, scope)
        self._progress(0.7, commit)
        empty = self._write_scores(lines, values)
        self.rank()
        with trusted():
            cls = self.__class__
            cls.write([self], {
                    'progress': 1.0,
                    'empty': empty,
                    'warning': gettext(
                        'distributor_assessment.msg_run_empty',
                        start=self.start_date, end=self.end_date)
                    if empty else None,
                    'computed_at': dt.datetime.now(),
                    'computed_by': Transaction().user or None,
                    })
            cls._computed([self])
        if commit:
            Transaction().commit()

    def scope_query(self):
        """The distributors of the run (one query): columns party,
        territory (its first territory by code), tier, grade"""
        pool = Pool()
        Party = pool.get('party.party')
        PartyTerritory = pool.get('party.party-distributor.territory')
        Territory = pool.get('distributor.territory')
        Relation = pool.get('distributor.assessment.run-party.party')
        TemplateTier = pool.get(
            'distributor.assessment.template-distributor.tier')
        party = Party.__table__()
        party_territory = PartyTerritory.__table__()
        territory = Territory.__table__()
        relation = Relation.__table__()
        template_tier = TemplateTier.__table__()
        where = ((party.is_distributor == Literal(True))
            & (party.distributor_state == 'active'))
        if self.distributors:
            where &= party.id.in_(relation.select(relation.party,
                    where=relation.run == self.id))
        if self.tier:
            where &= party.distributor_tier == self.tier.id
        if self.template.tiers:
            where &= party.distributor_tier.in_(template_tier.select(
                    template_tier.tier,
                    where=template_tier.template == self.template.id))
        if self.territory:
            closure = distributor_territories()
            where &= party.id.in_(closure.select(closure.distributor,
                    where=closure.territory == self.territory.id))
        first_territory = party_territory.join(territory,
            condition=party_territory.territory == territory.id).select(
            party_territory.territory,
            where=party_territory.party == party.id,
            order_by=[territory.code.asc, territory.id.asc], limit=1)
        return party.select(
            party.id.as_('party'),
            first_territory.as_('territory'),
            party.distributor_tier.as_('tier'),
            party.distributor_grade.as_('grade'),
            where=where)

    def _insert_results(self):
        "Insert the results of the scope in one INSERT … SELECT: their count"
        Result = Pool().get('distributor.assessment.result')
        result = Result.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        scope = self.scope_query()
        now = dt.datetime.now()
        zero = Cast(Literal(0), 'NUMERIC')
        cursor.execute(*result.insert(
                [result.run, result.distributor, result.territory,
                    result.tier, result.previous_grade, result.computed_score,
                    result.adjustment, result.score, result.create_uid,
                    result.create_date],
                scope.select(Literal(self.id), scope.party, scope.territory,
                    scope.tier, scope.grade, zero, zero, zero,
                    Literal(transaction.user), Literal(now))))
        if backend.name == 'postgresql':
            # without statistics on the rows just inserted the planner
            # takes the scope for one row and repeats the KPIs'
            # subqueries once per distributor (minutes at 10,000)
            cursor.execute('ANALYZE "%s"' % Result._table)
        cursor.execute(*result.select(Count(Literal(1)),
                where=result.run == self.id))
        total, = cursor.fetchone()
        transaction.counter += 1
        return int(total or 0)

    def _write_scores(self, lines, values):
        """Score the results from the KPI values: the KPI lines in
        multi-row INSERTs, the weighted scores in UPDATE … FROM (VALUES);
        whether the period was empty (every value zero or None: every
        score 0)"""
        pool = Pool()
        Result = pool.get('distributor.assessment.result')
        ResultKpi = pool.get('distributor.assessment.result.kpi')
        result = Result.__table__()
        result_kpi = ResultKpi.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute(*result.select(result.id, result.distributor,
                where=result.run == self.id, order_by=[result.id.asc]))
        rows = cursor.fetchall()
        specs = [(l.kpi.id, l.sequence or 0, l.weight, l.scoring, l.zero_at,
                l.full_at, l.penalty_points) for l in lines]
        by_kpi = {k: values.get(k) or {} for k, *_ in specs}
        empty = not any(v for d in by_kpi.values() for v in d.values())
        now = dt.datetime.now()
        user = transaction.user
        kpi_rows, scores = [], []
        for result_id, party in rows:
            scored = []
            for kpi, sequence, weight, scoring, zero, full, points in specs:
                value = by_kpi[kpi].get(party)
                value = decimal(value)
                if value is None:
                    score = None
                elif empty:
                    score = ZERO.quantize(CENT)
                else:
                    score = score_value(scoring, zero, full, points, value)
                scored.append((kpi, sequence, weight, value, score))
            applicable = sum((w for _, _, w, _, s in scored
                    if s is not None), ZERO)
            total = ZERO
            for kpi, sequence, weight, value, score in scored:
                weighted = None
                if score is not None and applicable:
                    weighted = (weight * score / applicable).quantize(
                        WEIGHTED)
                    total += weight * score
                kpi_rows.append([result_id, kpi, sequence, weight, value,
                        score, weighted, user, now])
            computed = (decimal(total / applicable) if applicable
                else ZERO.quantize(CENT))
            scores.append((result_id, computed))
        columns = [result_kpi.result, result_kpi.kpi, result_kpi.sequence,
            result_kpi.weight, result_kpi.value, result_kpi.score,
            result_kpi.weighted, result_kpi.create_uid,
            result_kpi.create_date]
        if backend.name == 'postgresql':
            # COPY: multi-row INSERTs spent most of a 10,000 distributor
            # run binding their parameters (42 s against 15 s)
            names = ', '.join(f'"{c.name}"' for c in columns)
            with cursor.copy(f'COPY "{ResultKpi._table}" ({names}) '
                    'FROM STDIN') as copy:
                for row in kpi_rows:
                    copy.write_row(row)
        else:
            for sub in grouped_slice(kpi_rows, CHUNK):
                cursor.execute(*result_kpi.insert(columns, list(sub)))
        for sub in grouped_slice(scores, CHUNK):
            values_ = Values(list(sub))
            cursor.execute(*result.update(
                    [result.computed_score, result.score],
                    [Cast(values_.column2, 'NUMERIC'),
                        Cast(values_.column2, 'NUMERIC')],
                    from_=[values_],
                    where=result.id == values_.column1))
        transaction.counter += 1
        return empty

    def rank(self):
        """Grade and rank the results of the run from their scores: one
        UPDATE of the grades, one UPDATE from the RANK() windows"""
        Result = Pool().get('distributor.assessment.result')
        result = Result.__table__()
        template = self.template
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        score = _num(result.score)
        cursor.execute(*result.update([result.grade], [Case(
                        (score >= _num(Literal(template.grade_a)), 'A'),
                        (score >= _num(Literal(template.grade_b)), 'B'),
                        (score >= _num(Literal(template.grade_c)), 'C'),
                        else_='D')],
                where=result.run == self.id))
        inner = Result.__table__()
        order = [_num(inner.score).desc]
        ranks = inner.select(inner.id.as_('id'),
            Rank(window=Window([], order_by=order)).as_('rank'),
            Rank(window=Window([inner.territory], order_by=order)).as_(
                'rank_territory'),
            Rank(window=Window([inner.tier], order_by=order)).as_(
                'rank_tier'),
            Count(Literal(1), window=Window([inner.tier])).as_('tier_count'),
            where=inner.run == self.id)
        cursor.execute(*result.update(
                [result.rank, result.rank_territory, result.rank_tier,
                    result.tier_count],
                [ranks.rank, ranks.rank_territory, ranks.rank_tier,
                    ranks.tier_count],
                from_=[ranks], where=result.id == ranks.id))
        transaction.counter += 1

    @classmethod
    def _delete_results(cls, runs):
        "Delete the results of the runs (with their KPI lines) in SQL"
        pool = Pool()
        Result = pool.get('distributor.assessment.result')
        ResultKpi = pool.get('distributor.assessment.result.kpi')
        Adjustment = pool.get('distributor.assessment.result.adjustment')
        result = Result.__table__()
        ids = [r.id for r in runs if r.id is not None and r.id >= 0]
        if not ids:
            return
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        of_runs = result.select(result.id, where=result.run.in_(ids))
        for Model_ in [ResultKpi, Adjustment]:
            table = Model_.__table__()
            cursor.execute(*table.delete(where=table.result.in_(of_runs)))
        cursor.execute(*result.delete(where=result.run.in_(ids)))
        transaction.counter += 1

    # Approval -----------------------------------------------------------

    def apply_grades(self):
        "Write each distributor's grade (one write per grade)"
        pool = Pool()
        Party = pool.get('party.party')
        Result = pool.get('distributor.assessment.result')
        result = Result.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*result.select(result.distributor, result.grade,
                where=result.run == self.id))
        groups = {}
        for party, grade in cursor:
            groups.setdefault(grade, []).append(party)
        args = []
        for grade, parties in sorted(groups.items(), key=lambda g: g[0] or ''):
            args.extend([Party.browse(parties), {'distributor_grade': grade}])
        if args:
            with trusted():
                Party.write(*args)

    def propose_tiers(self):
        """Propose a tier change for the results graded the template's
        upgrade grade (the active tier of the nearest smaller level) or
        downgrade grade (the nearest larger level); none without such
        tier"""
        pool = Pool()
        Tier = pool.get('distributor.tier')
        Result = pool.get('distributor.assessment.result')
        Proposal = pool.get('distributor.tier.proposal')
        template = self.template
        grades = {g: d for g, d in [(template.upgrade_grade, 'up'),
                    (template.downgrade_grade, 'down')] if g}
        if not grades:
            return []
        tiers = Tier.search([], order=[('level', 'ASC'), ('code', 'ASC')])
        results = Result.search([('run', '=', self.id),
                ('grade', 'in', list(grades)), ('tier', '!=', None)],
            order=[('rank', 'ASC'), ('id', 'ASC')])
        vlist = []
        for result in results:
            direction = grades[result.grade]
            level = result.tier.level
            if direction == 'up':
                candidates = [t for t in tiers if t.level < level]
                target = ([t for t in candidates
                        if t.level == candidates[-1].level][0]
                    if candidates else None)
            else:
                candidates = [t for t in tiers if t.level > level]
                target = candidates[0] if candidates else None
            if not target:
                continue
            vlist.append({
                    'company': self.company.id,
                    'run': self.id,
                    'result': result.id,
                    'distributor': result.distributor.id,
                    'current_tier': result.tier.id,
                    'proposed_tier': target.id,
                    'direction': direction,
                    'grade': result.grade,
                    })
        with trusted():
            return Proposal.create(vlist) if vlist else []


class RunDistributor(ModelSQL):
    "Assessment Run - Distributor"
    __name__ = 'distributor.assessment.run-party.party'
    run = fields.Many2One(
        'distributor.assessment.run', "Run", required=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE')


class RunLog(DocumentLog, ModelSQL, ModelView):
    "State history of an assessment run"
    __name__ = 'distributor.assessment.run.log'

    document = fields.Many2One(
        'distributor.assessment.run', "Run", required=True,
        ondelete='CASCADE', readonly=True)


class Result(WorkflowRecords, ModelSQL, ModelView):
    """Assessment Result

    A distributor's KPI values, scores, grade and ranks in a run: written
    by the run alone; a manager adjusts its score with a reason"""
    __name__ = 'distributor.assessment.result'
    _dms_readonly_message = 'distributor_assessment.msg_result_readonly'
    _dms_readonly_error = AssessmentError

    run = fields.Many2One(
        'distributor.assessment.run', "Run", required=True, readonly=True,
        ondelete='CASCADE')
    run_state = fields.Function(fields.Selection(STATES, "Run State"),
        'on_change_with_run_state')
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", readonly=True,
        ondelete='SET NULL')
    tier = fields.Many2One(
        'distributor.tier', "Tier", readonly=True, ondelete='SET NULL')
    previous_grade = fields.Selection(GRADES, "Previous Grade",
        readonly=True, sort=False)
    computed_score = fields.Numeric("Computed Score", digits=(5, 2),
        readonly=True)
    adjustment = fields.Numeric("Adjustment", digits=(5, 2), readonly=True)
    adjustment_reason = fields.Text("Adjustment Reason", readonly=True)
    score = fields.Numeric("Score", digits=(5, 2), readonly=True)
    grade = fields.Selection(GRADES, "Grade", readonly=True, sort=False)
    rank = fields.Integer("Rank", readonly=True)
    rank_territory = fields.Integer("Rank in Territory", readonly=True)
    rank_tier = fields.Integer("Rank in Tier", readonly=True)
    tier_count = fields.Integer("Distributors in Tier", readonly=True)
    count = fields.Function(
        fields.Integer("Distributors",
            help="1 for each result: the graphs count distributors."),
        'get_count')
    kpis = fields.One2Many(
        'distributor.assessment.result.kpi', 'result', "KPIs",
        readonly=True)
    adjustments = fields.One2Many(
        'distributor.assessment.result.adjustment', 'result',
        "Adjustments", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('run')
        cls._sql_indexes.update({
                Index(t, (t.run, Index.Range()), (t.rank, Index.Range())),
                Index(t, (t.distributor, Index.Range())),
                })
        cls._order = [('run', 'DESC'), ('rank', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'adjust': {
                    'invisible': Eval('run_state') != 'computed',
                    'depends': ['run_state'],
                    'icon': 'tryton-edit',
                    },
                })
        cls.__rpc__.update({
                'dms_assessment': RPC(),
                })

    @fields.depends('run', '_parent_run.state')
    def on_change_with_run_state(self, name=None):
        return self.run.state if self.run else None

    def get_count(self, name):
        return 1

    def get_rec_name(self, name):
        return f'{self.run.rec_name} {self.distributor.rec_name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('run.rec_name', operator, value),
            ('distributor.rec_name', operator, value),
            ]

    @classmethod
    @ModelView.button_action('distributor_assessment.wizard_result_adjust')
    def adjust(cls, results):
        pass

    @classmethod
    def adjust_scores(cls, results, score, reason):
        """Set the score of computed results (score = computed score +
        adjustment, 0..100) with a reason, logged; the grades and ranks of
        their runs computed again"""
        pool = Pool()
        Run = pool.get('distributor.assessment.run')
        Adjustment = pool.get('distributor.assessment.result.adjustment')
        reason = Run.dms_check_reason(reason)
        score = validation.number(score, gettext(
                'distributor_assessment.msg_field_score'), digits=2,
            minimum=ZERO, maximum=HUNDRED)
        runs = Run.browse(list({r.run.id for r in results}))
        Run.dms_serialize(runs)
        runs = Run.browse([r.id for r in runs])
        for run in runs:
            if run.state != 'computed':
                raise AssessmentError(gettext(
                        'distributor_assessment.msg_result_adjust_state',
                        run=run.rec_name, state=run.state_string))
        results = cls.browse([r.id for r in results])
        user = Transaction().user or None
        args, logs = [], []
        for result in results:
            computed = result.computed_score or ZERO
            args.extend([[result], {
                        'adjustment': score - computed,
                        'adjustment_reason': reason,
                        'score': score,
                        }])
            logs.append({
                    'result': result.id,
                    'user': user,
                    'from_score': result.score,
                    'to_score': score,
                    'reason': reason,
                    })
        with trusted():
            cls.write(*args)
            Adjustment.create(logs)
        for run in runs:
            run.rank()

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_assessment(cls, party):
        """The latest approved assessment of party: score, grade, ranks,
        its KPIs, the next grade and the points it misses, and the KPIs
        where the most weighted points can be gained; None without an
        approved run"""
        from distributor_account.statement import own_party
        own = own_party()
        if own is not None and own != party.id:
            raise AssessmentError(gettext(
                    'distributor_assessment.msg_result_not_own',
                    party=party.rec_name))
        results = cls.search([
                ('distributor', '=', party.id),
                ('run.state', '=', 'approved'),
                ], order=[('run.end_date', 'DESC'),
                ('run.approved_at', 'DESC'), ('id', 'DESC')], limit=1)
        if not results:
            return None
        result, = results
        return result.dms_values()

    def dms_values(self):
        "The result as JSON-ready values (see dms_assessment)"
        run = self.run
        template = run.template
        score = self.score or ZERO
        kpis = []
        applicable = sum((k.weight for k in self.kpis
                if k.score is not None), ZERO)
        for line in self.kpis:
            gain = None
            if line.score is not None and applicable:
                gain = decimal(line.weight * (HUNDRED - line.score)
                    / applicable)
            kpis.append({
                    'kpi': line.kpi.code,
                    'name': line.kpi.name,
                    'unit': line.kpi.unit,
                    'direction': line.kpi.direction,
                    'value': str(decimal(line.value))
                    if line.value is not None else None,
                    'score': str(decimal(line.score))
                    if line.score is not None else None,
                    'weight': str(decimal(line.weight)),
                    'weighted': str(decimal(line.weighted))
                    if line.weighted is not None else None,
                    'gain': str(gain) if gain is not None else None,
                    })
        grade = self.grade or 'D'
        index = GRADE_ORDER.index(grade)
        next_grade = GRADE_ORDER[index - 1] if index else None
        missing = (max(template.threshold(next_grade) - score, ZERO)
            if next_grade else None)
        improve = sorted((k for k in kpis if k['gain']
                and Decimal(k['gain']) > 0),
            key=lambda k: (-Decimal(k['gain']), k['kpi']))[:3]
        return {
            'run': {'id': run.id, 'number': run.number,
                'start_date': run.start_date.isoformat(),
                'end_date': run.end_date.isoformat(),
                'template': template.name},
            'distributor': {'id': self.distributor.id,
                'name': self.distributor.rec_name},
            'score': str(decimal(score)),
            'computed_score': str(decimal(self.computed_score or ZERO)),
            'adjustment': str(decimal(self.adjustment or ZERO)),
            'grade': grade,
            'rank': self.rank,
            'rank_territory': self.rank_territory,
            'rank_tier': self.rank_tier,
            'tier_count': self.tier_count,
            'tier': self.tier.rec_name if self.tier else None,
            'territory': (self.territory.rec_name
                if self.territory else None),
            'kpis': kpis,
            'next_grade': next_grade,
            'next_grade_score': (
                str(decimal(template.threshold(next_grade)))
                if next_grade else None),
            'points_missing': (str(decimal(missing))
                if missing is not None else None),
            'improve': [k['kpi'] for k in improve],
            }


class ResultKpi(WorkflowRecords, ModelSQL, ModelView):
    """Assessment Result KPI

    A KPI of a distributor's result: its value, score and weighted
    points"""
    __name__ = 'distributor.assessment.result.kpi'
    _dms_readonly_message = 'distributor_assessment.msg_result_readonly'
    _dms_readonly_error = AssessmentError

    result = fields.Many2One(
        'distributor.assessment.result', "Result", required=True,
        readonly=True, ondelete='CASCADE')
    kpi = fields.Many2One(
        'distributor.assessment.kpi', "KPI", required=True, readonly=True,
        ondelete='RESTRICT')
    sequence = fields.Integer("Sequence", readonly=True)
    unit = fields.Function(fields.Char("Unit"), 'get_unit')
    weight = fields.Numeric("Weight (%)", digits=(5, 2), readonly=True)
    value = fields.Numeric("Value", digits=(16, 2), readonly=True,
        help="Empty: not applicable (its weight is spread over the "
        "others).")
    score = fields.Numeric("Score", digits=(5, 2), readonly=True)
    weighted = fields.Numeric("Weighted Points", digits=(8, 4),
        readonly=True,
        help="weight × score ÷ the weights of the applicable KPIs.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('result')
        cls._sql_indexes.add(Index(t, (t.result, Index.Range())))
        cls._order = [('result', 'ASC'), ('sequence', 'ASC'),
            ('id', 'ASC')]

    def get_unit(self, name):
        return self.kpi.unit if self.kpi else None


class ResultAdjustment(WorkflowRecords, ModelSQL, ModelView):
    """Assessment Score Adjustment

    The log of a result's adjustments: who, when, from which score to
    which, why"""
    __name__ = 'distributor.assessment.result.adjustment'
    _dms_readonly_message = 'distributor_assessment.msg_result_readonly'
    _dms_readonly_error = AssessmentError

    result = fields.Many2One(
        'distributor.assessment.result', "Result", required=True,
        readonly=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", readonly=True, ondelete='RESTRICT')
    date = fields.Function(fields.DateTime("Date"), 'get_date')
    from_score = fields.Numeric("From", digits=(5, 2), readonly=True)
    to_score = fields.Numeric("To", digits=(5, 2), readonly=True)
    reason = fields.Text("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('result')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    def get_date(self, name):
        return self.create_date.replace(microsecond=0)


class AdjustStart(ModelView):
    "Adjust an Assessment Score"
    __name__ = 'distributor.assessment.result.adjust.start'

    result = fields.Many2One(
        'distributor.assessment.result', "Result", readonly=True)
    computed_score = fields.Numeric("Computed Score", digits=(5, 2),
        readonly=True)
    current_score = fields.Numeric("Current Score", digits=(5, 2),
        readonly=True)
    score = fields.Numeric("New Score", digits=(5, 2), required=True,
        domain=[('score', '>=', 0), ('score', '<=', 100)])
    reason = fields.Text("Reason", required=True)


class Adjust(Wizard):
    "Adjust the score of an assessment result with a reason"
    __name__ = 'distributor.assessment.result.adjust'
    start = StateView('distributor.assessment.result.adjust.start',
        'distributor_assessment.result_adjust_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Adjust", 'adjust', 'tryton-ok', default=True),
            ])
    adjust = StateTransition()

    def default_start(self, fields):
        return {
            'result': self.record.id,
            'computed_score': self.record.computed_score,
            'current_score': self.record.score,
            'score': self.record.score,
            }

    def transition_adjust(self):
        self.model.adjust_scores(list(self.records), self.start.score,
            self.start.reason)
        return 'end'

    def end(self):
        return 'reload'


class TierProposal(Document, ModelSQL, ModelView):
    """Tier Change Proposal

    A distributor's move up or down a tier proposed by an approved
    assessment, accepted (the tier changes) or refused with a reason"""
    __name__ = 'distributor.tier.proposal'
    _dms_editable_states = set()
    _dms_deletable_states = set()
    _dms_workflow_fields = {
        'company', 'distributor', 'run', 'result', 'current_tier',
        'proposed_tier', 'direction', 'grade', 'reason', 'decided_at',
        'decided_by', 'state_logs'}
    _dms_reason_states = {'refused'}
    _dms_log_model = 'distributor.tier.proposal.log'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='RESTRICT')
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, readonly=True,
        ondelete='RESTRICT')
    run = fields.Many2One(
        'distributor.assessment.run', "Assessment Run", required=True,
        readonly=True, ondelete='RESTRICT')
    result = fields.Many2One(
        'distributor.assessment.result', "Result", readonly=True,
        ondelete='SET NULL')
    current_tier = fields.Many2One(
        'distributor.tier', "Current Tier", required=True, readonly=True,
        ondelete='RESTRICT')
    proposed_tier = fields.Many2One(
        'distributor.tier', "Proposed Tier", required=True, readonly=True,
        ondelete='RESTRICT')
    direction = fields.Selection(DIRECTIONS, "Direction", required=True,
        readonly=True)
    grade = fields.Selection(GRADES, "Grade", readonly=True, sort=False)
    score = fields.Function(fields.Numeric("Score", digits=(5, 2)),
        'get_score')
    state = fields.Selection(PROPOSAL_STATES, "State", required=True,
        readonly=True, sort=False)
    state_string = state.translated('state')
    reason = fields.Text("Refusal Reason", readonly=True,
        states={'invisible': Eval('state') != 'refused'})
    decided_at = fields.DateTime("Decided At", readonly=True)
    decided_by = fields.Many2One(
        'res.user', "Decided By", readonly=True, ondelete='RESTRICT')
    state_logs = fields.One2Many(
        'distributor.tier.proposal.log', 'document', "State History",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.distributor, Index.Range())),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('proposed', 'accepted'),
            ('proposed', 'refused'),
            }
        cls._buttons.update({
                'accept': {
                    'invisible': Eval('state') != 'proposed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'refuse': {
                    'invisible': Eval('state') != 'proposed',
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'proposed'

    def get_rec_name(self, name):
        return (f'{self.distributor.rec_name}: '
            f'{self.current_tier.code} → {self.proposed_tier.code}')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('distributor.rec_name',) + tuple(clause[1:])]

    def get_score(self, name):
        return self.result.score if self.result else None

    @classmethod
    @ModelView.button
    def accept(cls, proposals):
        """Accept the proposals: each distributor moves to the proposed
        tier (refused with the hierarchy's reason when its upstream or
        downstream distributors do not allow it)"""
        Party = Pool().get('party.party')
        cls.dms_serialize(proposals)
        proposals = cls.browse([p.id for p in proposals])
        cls.dms_check_state(proposals, {'proposed'})
        for proposal in proposals:
            party = proposal.distributor
            if party.distributor_tier != proposal.current_tier:
                raise AssessmentError(gettext(
                        'distributor_assessment.msg_proposal_tier_changed',
                        proposal=proposal.rec_name,
                        distributor=party.rec_name,
                        tier=party.distributor_tier.rec_name
                        if party.distributor_tier else ''))
            try:
                with trusted():
                    Party.write([party],
                        {'distributor_tier': proposal.proposed_tier.id})
            except (UserError, ValidationError) as exception:
                raise AssessmentError(gettext(
                        'distributor_assessment.msg_proposal_hierarchy',
                        distributor=party.rec_name,
                        tier=proposal.proposed_tier.rec_name,
                        error=exception.message)) from exception
        with trusted():
            cls.write(proposals, {
                    'decided_at': dt.datetime.now(),
                    'decided_by': Transaction().user or None,
                    })
            cls._accepted(proposals)

    @classmethod
    @Workflow.transition('accepted')
    def _accepted(cls, proposals):
        pass

    @classmethod
    @ModelView.button_action('distributor_assessment.wizard_proposal_refuse')
    def refuse(cls, proposals):
        pass

    @classmethod
    def refuse_proposals(cls, proposals, reason):
        "Refuse the proposals with a reason (its wizard)"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(proposals)
        proposals = cls.browse([p.id for p in proposals])
        cls.dms_check_state(proposals, {'proposed'})
        with trusted():
            cls.write(proposals, {
                    'reason': reason,
                    'decided_at': dt.datetime.now(),
                    'decided_by': Transaction().user or None,
                    })
            cls._refused(proposals)

    @classmethod
    @Workflow.transition('refused')
    def _refused(cls, proposals):
        pass


class TierProposalLog(DocumentLog, ModelSQL, ModelView):
    "State history of a tier change proposal"
    __name__ = 'distributor.tier.proposal.log'

    document = fields.Many2One(
        'distributor.tier.proposal', "Proposal", required=True,
        ondelete='CASCADE', readonly=True)


class ProposalRefuse(ReasonWizard):
    "Refuse tier change proposals"
    __name__ = 'distributor.tier.proposal.refuse'
    _method = 'refuse_proposals'
