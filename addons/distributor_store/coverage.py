# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Coverage plans (铺货计划): a set of stores × a set of products to reach
by a deadline, and their progress measured in SQL"""
from sql import Literal
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case
from sql import Cast
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .exceptions import CoverageError
from .party import STORE_SIZES

STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('closed', "Closed"),
    ('cancelled', "Cancelled"),
    ]


def coverage_events():
    """(store, product, date) at which a product reached a store: the
    delivered channel orders, and the shelf checks that found it"""
    pool = Pool()
    Order = pool.get('distributor.channel.order')
    Line = pool.get('distributor.channel.order.line')
    Check = pool.get('distributor.store.check')
    CheckLine = pool.get('distributor.store.check.line')
    order = Order.__table__()
    line = Line.__table__()
    check = Check.__table__()
    cline = CheckLine.__table__()
    delivered = line.join(order, condition=line.order == order.id).select(
        order.buyer.as_('store'), line.product.as_('product'),
        order.delivered_date.as_('date'),
        where=order.state.in_(['delivered', 'received', 'done'])
        & (order.buyer_kind == 'store')
        & (line.delivered_quantity > 0))
    found = cline.join(check, condition=cline.check == check.id).select(
        check.store.as_('store'), cline.product.as_('product'),
        check.date.as_('date'),
        where=(check.state == 'done') & (cline.quantity > 0))
    return delivered, found


def covered_condition(store, product, start):
    "An EXISTS condition: the (store, product) pair covered since start"
    delivered, found = coverage_events()
    return (Exists(delivered.select(Literal(1),
                where=(delivered.store == store)
                & (delivered.product == product)
                & (delivered.date >= start)))
        | Exists(found.select(Literal(1),
                where=(found.store == store)
                & (found.product == product)
                & (found.date >= start))))


def plan_pairs(plan_ids=None):
    """One row per (plan, store, product) pair with covered 1 or 0:
    columns pid (unique), plan, store, distributor, territory, product,
    covered"""
    pool = Pool()
    Plan = pool.get('distributor.coverage.plan')
    PlanStore = pool.get('distributor.coverage.plan.store')
    PlanProduct = pool.get('distributor.coverage.plan-product.product')
    plan = Plan.__table__()
    pstore = PlanStore.__table__()
    pproduct = PlanProduct.__table__()
    where = Literal(True)
    if plan_ids is not None:
        where = pstore.plan.in_(list(plan_ids) or [-1])
    delivered, found = coverage_events()
    return (pstore
        .join(plan, condition=pstore.plan == plan.id)
        .join(pproduct, condition=pproduct.plan == pstore.plan)
        .select(
            # Cantor pairing of the two row ids: unique for every pair
            ((Cast(pstore.id, 'BIGINT') + pproduct.id)
                * (Cast(pstore.id, 'BIGINT') + pproduct.id + 1) / 2
                + pproduct.id).as_('pid'),
            pstore.plan.as_('plan'),
            pstore.store.as_('store'),
            pstore.distributor.as_('distributor'),
            pstore.territory.as_('territory'),
            pproduct.product.as_('product'),
            Case((covered_condition(pstore.store, pproduct.product,
                        plan.start_date), 1), else_=0).as_('covered'),
            where=where))


class Plan(Workflow, ModelSQL, ModelView):
    """Coverage Plan (铺货计划)

    Stores chosen by territory, tag, size class or by name, and products,
    to cover by a deadline; a pair is covered once a delivery (or a shelf
    check) put the product in the store after the plan started."""
    __name__ = 'distributor.coverage.plan'

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
        """{plan id: (stores, pairs, covered)}: one SQL aggregate over the
        plans' (store, product) pairs"""
        pairs = plan_pairs([p.id for p in plans])
        cursor = Transaction().connection.cursor()
        cursor.execute(*pairs.select(pairs.plan,
                Count(pairs.store, distinct=True), Count(),
                Sum(pairs.covered), group_by=[pairs.plan]))
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
    def dms_plan_progress(cls, party_id):
        """The running plans covering the distributor's stores with its own
        progress and missing pairs"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        party = Sale._dms_check_party(party_id)
        pairs = plan_pairs()
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
        for plan_id, entry in result.items():
            record = cls(plan_id)
            entry['name'] = record.name
            entry['deadline'] = record.deadline.isoformat()
        return list(result.values())


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


class PlanTerritory(ModelSQL):
    "Coverage Plan - Territory"
    __name__ = 'distributor.coverage.plan-distributor.territory'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        ondelete='CASCADE')


class PlanTag(ModelSQL):
    "Coverage Plan - Tag"
    __name__ = 'distributor.coverage.plan-party.category'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'party.category', "Tag", required=True, ondelete='CASCADE')


class PlanExplicitStore(ModelSQL):
    "Coverage Plan - Named Store"
    __name__ = 'distributor.coverage.plan-party.party'
    plan = fields.Many2One(
        'distributor.coverage.plan', "Plan", required=True,
        ondelete='CASCADE')
    store = fields.Many2One(
        'party.party', "Store", required=True, ondelete='CASCADE')


class PlanProduct(ModelSQL):
    "Coverage Plan - Product"
    __name__ = 'distributor.coverage.plan-product.product'
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
        pairs = plan_pairs()
        return pairs.select(
            Min(pairs.pid).as_('id'),
            pairs.plan.as_('plan'),
            pairs.distributor.as_('distributor'),
            pairs.territory.as_('territory'),
            pairs.product.as_('product'),
            Count().as_('pairs'),
            Sum(pairs.covered).as_('covered'),
            (Sum(pairs.covered) * 1.0 / Count()).as_('rate'),
            group_by=[pairs.plan, pairs.distributor, pairs.territory,
                pairs.product])


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
    def table_query(cls):
        pairs = plan_pairs()
        return pairs.select(
            pairs.pid.as_('id'), pairs.plan.as_('plan'),
            pairs.store.as_('store'),
            pairs.distributor.as_('distributor'),
            pairs.territory.as_('territory'),
            pairs.product.as_('product'),
            where=pairs.covered == 0)

