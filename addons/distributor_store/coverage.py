# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Coverage plans (铺货计划): a set of stores × a set of products to reach
by a deadline, and their progress measured in SQL"""
import math

from sql import Cast, Literal, Null, Union
from sql.aggregate import Count, Min
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor.access import entry_point
from distributor.document import Document, DocumentLine, DocumentLog

from .exceptions import CoverageError
from .party import STORE_SIZES

STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('closed', "Closed"),
    ('cancelled', "Cancelled"),
    ]


def context_plans():
    """The plan ids of the context (coverage_plan, set by the plan's
    Progress and Missing Pairs actions and by the menu entries' context
    form): the views then read only that plan's pairs"""
    plan = Transaction().context.get('coverage_plan')
    return [int(plan)] if plan else None


def pair_id(first, second):
    "Cantor pairing of two row ids: unique for every pair, in 64 bits"
    first = Cast(first, 'BIGINT')
    return (first + second) * (first + second + 1) / 2 + second


def unpair_id(value):
    "The two row ids of a pair_id"
    w = (math.isqrt(8 * value + 1) - 1) // 2
    second = value - w * (w + 1) // 2
    return w - second, second


def covered_pairs(plan_ids=None, distributors=None):
    """The (plan, store, product) pairs of the plans covered since their
    start, each once: columns plan, store, product.  A product reached a
    target store of a plan when a delivered (received, done) channel order
    to the store had a delivered line of it, or a done shelf check of the
    store found it, dated on or after the plan's start.

    Each source is joined to the plans' target stores and products first:
    the database reads only the orders and checks of these stores (a
    UNION, not an EXISTS per pair, which the planner cannot hash as the
    start date differs per plan)."""
    pool = Pool()
    Plan = pool.get('distributor.coverage.plan')
    PlanStore = pool.get('distributor.coverage.plan.store')
    PlanProduct = pool.get('distributor.coverage.plan-product.product')
    Order = pool.get('distributor.channel.order')
    Line = pool.get('distributor.channel.order.line')
    Check = pool.get('distributor.store.check')
    CheckLine = pool.get('distributor.store.check.line')

    def targets():
        plan = Plan.__table__()
        pstore = PlanStore.__table__()
        pproduct = PlanProduct.__table__()
        where = Literal(True)
        if plan_ids is not None:
            where &= pstore.plan.in_(list(plan_ids) or [-1])
        if distributors is not None:
            where &= pstore.distributor.in_(list(distributors) or [-1])
        return plan, pstore, pproduct, where

    plan, pstore, pproduct, where = targets()
    order = Order.__table__()
    line = Line.__table__()
    delivered = (pstore
        .join(plan, condition=plan.id == pstore.plan)
        .join(order, condition=(order.buyer == pstore.store)
            & (order.delivered_date >= plan.start_date))
        .join(line, condition=line.order == order.id)
        .join(pproduct, condition=(pproduct.plan == pstore.plan)
            & (pproduct.product == line.product))
        .select(pstore.plan.as_('plan'), pstore.store.as_('store'),
            line.product.as_('product'),
            where=where
            & order.state.in_(['delivered', 'received', 'done'])
            & (order.buyer_kind == 'store')
            & (line.delivered_quantity > 0)))
    plan, pstore, pproduct, where = targets()
    check = Check.__table__()
    cline = CheckLine.__table__()
    found = (pstore
        .join(plan, condition=plan.id == pstore.plan)
        .join(check, condition=(check.store == pstore.store)
            & (check.date >= plan.start_date))
        .join(cline, condition=cline.check == check.id)
        .join(pproduct, condition=(pproduct.plan == pstore.plan)
            & (pproduct.product == cline.product))
        .select(pstore.plan.as_('plan'), pstore.store.as_('store'),
            cline.product.as_('product'),
            where=where & (check.state == 'done') & (cline.quantity > 0)))
    # UNION (not ALL): each covered pair once
    return Union(delivered, found)


def plan_pairs(plan_ids=None, distributors=None, missing=False,
        pair_ids=None):
    """One row per (plan, store, product) pair with covered 1 or 0:
    columns pid (unique), plan, store, distributor, territory, product,
    covered; only the pairs not covered when missing; only the pairs
    among pair_ids (pid values) when given"""
    pool = Pool()
    PlanStore = pool.get('distributor.coverage.plan.store')
    PlanProduct = pool.get('distributor.coverage.plan-product.product')
    pstore = PlanStore.__table__()
    pproduct = PlanProduct.__table__()
    where = Literal(True)
    if plan_ids is not None:
        where &= pstore.plan.in_(list(plan_ids) or [-1])
    if distributors is not None:
        where &= pstore.distributor.in_(list(distributors) or [-1])
    if pair_ids is not None:
        # the rows the ids stand for, found by their keys (the database
        # cannot look a computed id up): a superset of the pairs, which
        # the caller's own condition on the ids narrows
        pairs = [unpair_id(int(i)) for i in pair_ids]
        where &= (pstore.id.in_(sorted({f for f, _ in pairs}) or [-1])
            & pproduct.id.in_(sorted({s for _, s in pairs}) or [-1]))
    # a filter on the plan of the pairs reaches the covered pairs too:
    # the database carries it through the join's equality
    covered = covered_pairs(plan_ids, distributors)
    if missing:
        # an anti-join, which the planner estimates (not covered = 0)
        where &= covered.store == Null
    return (pstore
        .join(pproduct, condition=pproduct.plan == pstore.plan)
        .join(covered, type_='LEFT',
            condition=(covered.plan == pstore.plan)
            & (covered.store == pstore.store)
            & (covered.product == pproduct.product))
        .select(
            pair_id(pstore.id, pproduct.id).as_('pid'),
            pstore.plan.as_('plan'),
            pstore.store.as_('store'),
            pstore.distributor.as_('distributor'),
            pstore.territory.as_('territory'),
            pproduct.product.as_('product'),
            Case((covered.store != Null, 1), else_=0).as_('covered'),
            where=where))


class Plan(Document, ModelSQL, ModelView):
    """Coverage Plan (铺货计划)

    Stores chosen by territory, tag, size class or by name, and products,
    to cover by a deadline; a pair is covered once a delivery (or a shelf
    check) put the product in the store after the plan started."""
    __name__ = 'distributor.coverage.plan'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_free_fields = {'name'}
    _dms_workflow_fields = {'stores', 'state_logs'}
    _dms_log_model = 'distributor.coverage.plan.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    name = fields.Char("Name", required=True)
    owner_distributor = fields.Many2One(
        'party.party', "Owner Distributor", ondelete='RESTRICT',
        domain=[('is_distributor', '=', True)], states=_draft,
        help="When set, only the distributor's stores are targeted.")
    owner_rep = fields.Many2One(
        'company.employee', "Owner Rep", ondelete='RESTRICT',
        states=_draft)
    start_date = fields.Date("Start Date", required=True, states=_draft)
    deadline = fields.Date(
        "Deadline", required=True, states=_draft,
        domain=[('deadline', '>=', Eval('start_date', None))])
    territories = fields.Many2Many(
        'distributor.coverage.plan-distributor.territory', 'plan',
        'territory', "Territories", states=_draft,
        help="Stores in these territories (and below).")
    tags = fields.Many2Many(
        'distributor.coverage.plan-party.category', 'plan', 'category',
        "Tags", states=_draft, help="Stores with any of these tags.")
    size_classes = fields.MultiSelection(
        [s for s in STORE_SIZES if s[0]], "Size Classes", states=_draft,
        help="Stores of these size classes.")
    explicit_stores = fields.Many2Many(
        'distributor.coverage.plan-party.party', 'plan', 'store',
        "Named Stores", domain=[('is_store', '=', True)], states=_draft,
        help="Stores targeted by name, beside those of the criteria.")
    products = fields.Many2Many(
        'distributor.coverage.plan-product.product', 'plan', 'product',
        "Products", states=_draft)
    stores = fields.One2Many(
        'distributor.coverage.plan.store', 'plan', "Target Stores",
        readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    store_count = fields.Function(
        fields.Integer("Stores"), 'get_progress')
    pair_count = fields.Function(
        fields.Integer("Pairs"), 'get_progress')
    covered_count = fields.Function(
        fields.Integer("Covered"), 'get_progress')
    progress = fields.Function(
        fields.Float("Progress", digits=(1, 4)), 'get_progress')
    state_logs = fields.One2Many(
        'distributor.coverage.plan.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('deadline', 'ASC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'running'),
            ('running', 'closed'),
            ('draft', 'cancelled'),
            ('running', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'start': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'running',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'running']),
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_plan_progress': RPC(),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def coverage(cls, plans):
        """{plan id: (stores, pairs, covered)}: in one SQL, the target
        stores times the products (a plan has each store and each product
        once) and the covered pairs counted, not every pair listed"""
        pool = Pool()
        PlanStore = pool.get('distributor.coverage.plan.store')
        PlanProduct = pool.get('distributor.coverage.plan-product.product')
        ids = [p.id for p in plans] or [-1]
        pstore = PlanStore.__table__()
        pproduct = PlanProduct.__table__()
        stores = pstore.select(pstore.plan.as_('plan'),
            Count().as_('count'),
            where=pstore.plan.in_(ids), group_by=[pstore.plan])
        products = pproduct.select(pproduct.plan.as_('plan'),
            Count().as_('count'),
            where=pproduct.plan.in_(ids), group_by=[pproduct.plan])
        covered = covered_pairs(ids)
        covered = covered.select(covered.plan.as_('plan'),
            Count().as_('count'), group_by=[covered.plan])
        cursor = Transaction().connection.cursor()
        cursor.execute(*stores
            .join(products, condition=products.plan == stores.plan)
            .join(covered, type_='LEFT',
                condition=covered.plan == stores.plan)
            .select(stores.plan, stores.count,
                stores.count * products.count,
                Coalesce(covered.count, 0)))
        return {plan: (stores, total, int(covered or 0))
            for plan, stores, total, covered in cursor}

    @classmethod
    def get_progress(cls, plans, names):
        figures = cls.coverage(plans)
        result = {n: {} for n in names}
        for plan in plans:
            stores, total, covered = figures.get(plan.id, (0, 0, 0))
            values = {
                'store_count': stores,
                'pair_count': total,
                'covered_count': covered,
                'progress': round(covered / total, 4) if total else 0.0,
                }
            for name in names:
                result[name][plan.id] = values[name]
        return result

    def target_stores(self):
        "The active stores the plan's criteria and named stores give"
        pool = Pool()
        Party = pool.get('party.party')
        criteria = []
        if self.territories:
            criteria.append(('store_territory', 'child_of',
                    [t.id for t in self.territories], 'parent'))
        if self.tags:
            criteria.append(('categories', 'in', [t.id for t in self.tags]))
        if self.size_classes:
            criteria.append(('store_size', 'in', list(self.size_classes)))
        base = [('is_store', '=', True), ('store_state', '=', 'active')]
        if self.owner_distributor:
            base.append(
                ('store_distributor', '=', self.owner_distributor.id))
        stores = set()
        if not criteria and not self.explicit_stores \
                and self.owner_distributor:
            # a distributor's plan without criteria: all its stores
            stores.update(Party.search(base, order=[]))
        if criteria:
            stores.update(Party.search(base + criteria, order=[]))
        if self.explicit_stores:
            stores.update(Party.search(base + [('id', 'in',
                            [s.id for s in self.explicit_stores])],
                    order=[]))
        return sorted(stores, key=lambda s: s.id)

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def start(cls, plans):
        """Fix the plan's target stores (each once) with their distributor
        and territory at the start"""
        pool = Pool()
        PlanStore = pool.get('distributor.coverage.plan.store')
        cls.dms_serialize(plans)
        rows = []
        for plan in plans:
            if not plan.products:
                raise CoverageError(gettext(
                        'distributor_store.msg_plan_no_products',
                        plan=plan.rec_name))
            stores = plan.target_stores()
            if not stores:
                raise CoverageError(gettext(
                        'distributor_store.msg_plan_no_stores',
                        plan=plan.rec_name))
            PlanStore.delete(PlanStore.search([('plan', '=', plan.id)]))
            rows.extend({
                    'plan': plan.id,
                    'store': s.id,
                    'distributor': s.store_distributor.id,
                    'territory': s.store_territory.id,
                    } for s in stores)
        PlanStore.create(rows)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, plans):
        pass

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_plan_progress(cls, party):
        """The running plans covering the distributor's stores with its own
        progress and missing pairs"""
        pairs = plan_pairs(distributors=[party.id])
        cursor = Transaction().connection.cursor()
        plan = cls.__table__()
        cursor.execute(*pairs.join(plan, condition=pairs.plan == plan.id
                ).select(pairs.plan, pairs.store, pairs.product,
                pairs.covered,
                where=(pairs.distributor == party.id)
                & (plan.state == 'running')))
        result = {}
        for plan_id, store, product, covered in cursor:
            entry = result.setdefault(plan_id, {
                    'plan': plan_id, 'pairs': 0, 'covered': 0,
                    'missing': []})
            entry['pairs'] += 1
            if covered:
                entry['covered'] += 1
            else:
                entry['missing'].append({'store': store, 'product': product})
        for record in cls.browse(list(result)):
            entry = result[record.id]
            entry['name'] = record.name
            entry['deadline'] = record.deadline.isoformat()
        return list(result.values())


class PlanLog(DocumentLog, ModelSQL, ModelView):
    "State history of a coverage plan"
    __name__ = 'distributor.coverage.plan.log'

    document = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE', readonly=True)


class PlanStore(ModelSQL, ModelView):
    "Coverage Plan Target Store"
    __name__ = 'distributor.coverage.plan.store'

    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE', readonly=True)
    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='CASCADE',
        readonly=True)
    distributor = fields.Many2One(
        'party.party', "Distributor", readonly=True)
    territory = fields.Many2One(
        'distributor.territory', "Territory", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('plan_store_unique', Unique(t, t.plan, t.store),
                'distributor_store.msg_plan_store_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.plan, Index.Range()),
                (t.store, Index.Range())))


class PlanTerritory(DocumentLine, ModelSQL):
    "Coverage Plan - Territory"
    __name__ = 'distributor.coverage.plan-distributor.territory'
    _dms_document = 'plan'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        ondelete='CASCADE')


class PlanTag(DocumentLine, ModelSQL):
    "Coverage Plan - Tag"
    __name__ = 'distributor.coverage.plan-party.category'
    _dms_document = 'plan'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'party.category', "Tag", required=True, ondelete='CASCADE')


class PlanExplicitStore(DocumentLine, ModelSQL):
    "Coverage Plan - Named Store"
    __name__ = 'distributor.coverage.plan-party.party'
    _dms_document = 'plan'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='CASCADE')


class PlanProduct(DocumentLine, ModelSQL):
    "Coverage Plan - Product"
    __name__ = 'distributor.coverage.plan-product.product'
    _dms_document = 'plan'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('plan_product_unique', Unique(t, t.plan, t.product),
                'distributor_store.msg_plan_product_unique'),
            ]


class CoverageContext(ModelView):
    """Coverage Context

    The plan whose progress or missing pairs the menu entries show (the
    latest running plan by default): the views then read that plan's
    pairs only.  Empty shows every plan, which costs a pass over all of
    them."""
    __name__ = 'distributor.coverage.context'

    coverage_plan = fields.Many2One(
        'distributor.coverage.plan', "Plan",
        domain=[('state', 'in', ['running', 'closed'])],
        help="Leave empty to list every plan (slower on a large network).")

    @classmethod
    def default_coverage_plan(cls):
        pool = Pool()
        Plan = pool.get('distributor.coverage.plan')
        plans = Plan.search([('state', '=', 'running')],
            order=[('start_date', 'DESC'), ('id', 'DESC')], limit=1)
        return plans[0].id if plans else None


class Progress(ModelSQL, ModelView):
    "Coverage Progress"
    __name__ = 'distributor.coverage.progress'

    plan = fields.Many2One('distributor.coverage.plan', "Plan")
    distributor = fields.Many2One('party.party', "Distributor")
    territory = fields.Many2One('distributor.territory', "Territory")
    product = fields.Many2One('product.product', "Product")
    pairs = fields.Integer("Stores Targeted")
    covered = fields.Integer("Stores Covered")
    rate = fields.Float("Coverage", digits=(1, 4))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('plan', 'ASC'), ('distributor', 'ASC'),
            ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        """The target stores counted per plan, distributor and territory
        (each is a pair with every product of its plan) and the covered
        pairs counted per the same and product: no pair listed"""
        pool = Pool()
        PlanStore = pool.get('distributor.coverage.plan.store')
        PlanProduct = pool.get('distributor.coverage.plan-product.product')
        pstore = PlanStore.__table__()
        pproduct = PlanProduct.__table__()
        plan_ids = context_plans()
        targets = pstore.select(
            Min(pstore.id).as_('gid'),
            pstore.plan.as_('plan'),
            pstore.distributor.as_('distributor'),
            pstore.territory.as_('territory'),
            Count().as_('stores'),
            where=(pstore.plan.in_(plan_ids) if plan_ids
                else Literal(True)),
            group_by=[pstore.plan, pstore.distributor, pstore.territory])
        covered = covered_pairs(plan_ids)
        hstore = PlanStore.__table__()
        # ids are positive: 0 stands for none in the join below
        distributor = Coalesce(hstore.distributor, 0)
        territory = Coalesce(hstore.territory, 0)
        hits = covered.join(hstore,
            condition=(hstore.plan == covered.plan)
            & (hstore.store == covered.store)
            ).select(
                hstore.plan.as_('plan'),
                distributor.as_('distributor'),
                territory.as_('territory'),
                covered.product.as_('product'),
                Count().as_('count'),
                group_by=[hstore.plan, hstore.distributor,
                    hstore.territory, covered.product])
        count = Coalesce(hits.count, 0)
        return (targets
            .join(pproduct, condition=pproduct.plan == targets.plan)
            .join(hits, type_='LEFT',
                condition=(hits.plan == targets.plan)
                & (hits.distributor == Coalesce(targets.distributor, 0))
                & (hits.territory == Coalesce(targets.territory, 0))
                & (hits.product == pproduct.product))
            .select(
                pair_id(targets.gid, pproduct.id).as_('id'),
                targets.plan.as_('plan'),
                targets.distributor.as_('distributor'),
                targets.territory.as_('territory'),
                pproduct.product.as_('product'),
                targets.stores.as_('pairs'),
                count.as_('covered'),
                (count * 1.0 / targets.stores).as_('rate')))


class Missing(ModelSQL, ModelView):
    "Coverage Missing Pair"
    __name__ = 'distributor.coverage.missing'

    plan = fields.Many2One('distributor.coverage.plan', "Plan")
    store = fields.Many2One('party.party', "Store")
    distributor = fields.Many2One('party.party', "Distributor")
    territory = fields.Many2One('distributor.territory', "Territory")
    product = fields.Many2One('product.product', "Product")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('plan', 'ASC'), ('distributor', 'ASC'),
            ('store', 'ASC'), ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def read(cls, ids, fields_names):
        # the client reads a page back by ids, which are computed: without
        # the pairs they stand for, the database would compute the ids of
        # every missing pair to find them (seconds on a million pairs)
        with Transaction().set_context(_coverage_pair_ids=list(map(int, ids))):
            return super().read(ids, fields_names)

    @classmethod
    def table_query(cls):
        pairs = plan_pairs(context_plans(), missing=True,
            pair_ids=Transaction().context.get('_coverage_pair_ids'))
        return pairs.select(
            pairs.pid.as_('id'), pairs.plan.as_('plan'),
            pairs.store.as_('store'),
            pairs.distributor.as_('distributor'),
            pairs.territory.as_('territory'),
            pairs.product.as_('product'))

