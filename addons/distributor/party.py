# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql.aggregate import Max, Min
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction

from . import validation
from .access import check_rules, entry_point, is_trusted, trusted
from .document import ReasonWizard
from .exceptions import (
    ChannelRuleError, DistributorStateError, ReachError, TradeRefused)
from .territory import KIND_DEPTH

STATES = [
    ('draft', "Draft"),
    ('active', "Active"),
    ('frozen', "Frozen"),
    ('terminated', "Terminated"),
    ]
GRADES = [
    (None, ""),
    ('A', "A"),
    ('B', "B"),
    ('C', "C"),
    ('D', "D"),
    ]
SETTLEMENT_METHODS = [
    (None, ""),
    ('prepaid', "Prepaid"),
    ('credit', "Credit"),
    ('instalment', "Instalment"),
    ]
# from state -> allowed target states
TRANSITIONS = {
    ('draft', 'active'),
    ('draft', 'terminated'),
    ('active', 'frozen'),
    ('active', 'terminated'),
    ('frozen', 'active'),
    ('frozen', 'terminated'),
    }
REASON_REQUIRED = {'frozen', 'terminated'}
QUALIFICATION_RANK = {'valid': 0, 'expiring': 1, 'expired': 2}
# Tryton's own fields that, on a channel party, only channel managers and
# DMS administrators change (the DMS fields are guarded by field access)
MANAGED_FIELDS = {
    'credit_limit_amount', 'customer_payment_term', 'sale_price_list',
    }
QUALIFICATION_STATUS = {v: k for k, v in QUALIFICATION_RANK.items()}

_distributor = {
    'invisible': ~Eval('is_distributor', False),
    }
_editable = {
    'invisible': ~Eval('is_distributor', False),
    'readonly': Eval('distributor_state') == 'terminated',
    }


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    is_distributor = fields.Boolean(
        "Distributor",
        states={
            'readonly': Eval('distributor_state', 'draft') != 'draft',
            },
        help="Check to manage the party as a distributor of the brand.")
    distributor_code = fields.Char(
        "Distributor Code", strip=True,
        states={
            'invisible': ~Eval('is_distributor', False),
            'readonly': Eval('distributor_state', 'draft') != 'draft',
            },
        help="Leave empty to number the distributor from the sequence of "
        "the configuration.")
    distributor_tier = fields.Many2One(
        'distributor.tier', "Tier", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('is_distributor', False),
            'required': (Eval('is_distributor', False)
                & (Eval('distributor_state', 'draft') != 'draft')),
            'readonly': Eval('distributor_state') == 'terminated',
            })
    distributor_level = fields.Function(
        fields.Integer("Level", states=_distributor),
        'on_change_with_distributor_level')
    upstream = fields.Many2One(
        'party.party', "Upstream Distributor", ondelete='RESTRICT',
        domain=[
            ('is_distributor', '=', True),
            ('id', '!=', Eval('id', -1)),
            ],
        states=_editable,
        help="The distributor this one buys from; "
        "empty when it buys from the brand.")
    downstreams = fields.One2Many(
        'party.party', 'upstream', "Downstream Distributors",
        readonly=True, states=_distributor)
    territories = fields.Many2Many(
        'party.party-distributor.territory', 'party', 'territory',
        "Territories", states=_editable)
    territory_names = fields.Function(
        fields.Char("Territory Names", states=_distributor),
        'get_territory_names')
    territory_scope = fields.Function(
        fields.Many2One(
            'distributor.territory', "Territory (incl. sub-territories)",
            help="Search distributors by territory, sub-territories "
            "included."),
        'get_territory_scope', searcher='search_territory_scope')
    authorized_categories = fields.Many2Many(
        'party.party-product.category', 'party', 'category',
        "Authorized Categories", states=_editable,
        help="The product categories the distributor may order and sell.")
    distributor_grade = fields.Selection(
        GRADES, "Grade", sort=False, states=_editable)
    settlement_method = fields.Selection(
        SETTLEMENT_METHODS, "Settlement Method", sort=False,
        states=_editable)
    sales_rep = fields.Many2One(
        'company.employee', "Sales Rep", ondelete='RESTRICT',
        states=_editable)
    cooperation_start = fields.Date(
        "Cooperation Start", states=_editable)
    qualifications = fields.One2Many(
        'distributor.qualification', 'party', "Qualifications",
        states=_editable)
    qualification_status = fields.Function(
        fields.Selection([
                (None, ""),
                ('valid', "Valid"),
                ('expiring', "Expiring"),
                ('expired', "Expired"),
                ], "Qualification Status", states=_distributor),
        'get_qualification_status',
        searcher='search_qualification_status')
    distributor_state = fields.Selection(
        STATES, "Distributor State", readonly=True, required=True,
        states=_distributor)
    state_logs = fields.One2Many(
        'distributor.state.log', 'party', "State History", readonly=True,
        states=_distributor)
    channel_party = fields.Function(
        fields.Boolean("Channel Party",
            help="A distributor, or a store or customer of one: read and "
            "changed by the DMS roles only."),
        'get_channel_party', searcher='search_channel_party')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            # NULLs (parties that are not distributors) do not collide
            ('distributor_code_unique', Unique(t, t.distributor_code),
                'distributor.msg_distributor_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.upstream, Index.Range())),
                Index(t, (t.distributor_tier, Index.Range())),
                Index(t, (t.distributor_state, Index.Equality()),
                    where=t.is_distributor),
                })
        cls.__rpc__.update({
                'import_distributors': RPC(
                    readonly=False, result=lambda r: list(map(int, r))),
                'change_distributor_state': RPC(readonly=False),
                })
        cls._buttons.update({
                'distributor_activate': {
                    'invisible': (~Eval('is_distributor', False)
                        | (Eval('distributor_state') != 'draft')),
                    'icon': 'tryton-ok',
                    'depends': ['is_distributor', 'distributor_state'],
                    },
                'distributor_unfreeze': {
                    'invisible': (~Eval('is_distributor', False)
                        | (Eval('distributor_state') != 'frozen')),
                    'icon': 'dms-unlock',
                    'depends': ['is_distributor', 'distributor_state'],
                    },
                'distributor_freeze': {
                    'invisible': (~Eval('is_distributor', False)
                        | (Eval('distributor_state') != 'active')),
                    'icon': 'dms-lock',
                    'depends': ['is_distributor', 'distributor_state'],
                    },
                'distributor_terminate': {
                    'invisible': (~Eval('is_distributor', False)
                        | (Eval('distributor_state') == 'terminated')),
                    'icon': 'tryton-cancel',
                    'depends': ['is_distributor', 'distributor_state'],
                    },
                })

    @classmethod
    @entry_point()
    def import_distributors(cls, data):
        """Create draft distributors from the bytes of an import workbook.

        Every row is validated first; on any bad row an ImportError_ lists
        the rows and reasons and nothing is written."""
        from .import_ import import_distributors
        return import_distributors(data)

    # Reach ---------------------------------------------------------------

    @classmethod
    def _dms_kind_domains(cls):
        "{kind: domain} of the kinds of party a caller may act for"
        return {'distributor': [('is_distributor', '=', True)]}

    @classmethod
    def dms_kind_domain(cls, kinds):
        "The domain of the parties of one of kinds"
        domains = cls._dms_kind_domains()
        return [['OR', *(domains[k] for k in kinds)]]

    @classmethod
    def _dms_channel_flags(cls):
        """The boolean fields that make a party the channel's (modules add
        theirs): only the DMS roles read and change such parties"""
        return ['is_distributor']

    @classmethod
    def get_channel_party(cls, parties, name):
        flags = cls._dms_channel_flags()
        return {p.id: any(getattr(p, f, False) for f in flags)
            for p in parties}

    @classmethod
    def search_channel_party(cls, name, clause):
        _, operator, value = clause
        flags = cls._dms_channel_flags()
        if operator not in {'=', '!='}:
            return []
        if (operator == '=') == bool(value):
            return [['OR', *((f, '=', True) for f in flags)]]
        return [(f, '=', False) for f in flags]

    @classmethod
    def dms_reach_territories(cls):
        """The territory ids (sub-territories included) the caller is
        limited to, or None when its reach is not limited by territory

        A sales rep who is neither a channel manager nor a DMS
        administrator reaches the channel of its territories only."""
        pool = Pool()
        Rule = pool.get('ir.rule')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        if not transaction.user or is_trusted():
            return None
        groups = set(User.get_groups())
        unlimited = {ModelData.get_id('distributor', x) for x in [
                'group_dms_admin', 'group_channel_manager']}
        if groups & unlimited:
            return None
        if ModelData.get_id('distributor', 'group_sales_rep') not in groups:
            return None
        return set(Rule._distributor_territories())

    @classmethod
    def _dms_check_reach(cls, parties, values):
        """A caller limited to its territories never widens its reach: the
        territories it gives lie in them, and it leaves the fields that
        only managers change"""
        area = cls.dms_reach_territories()
        if area is None:
            return
        Territory = Pool().get('distributor.territory')
        for name in MANAGED_FIELDS & set(values):
            if any(p.channel_party for p in parties) or not parties:
                raise ReachError(gettext('distributor.msg_reach_field',
                        field=cls.fields_get([name])[name]['string']))
        added = set()
        for action in values.get('territories') or []:
            if action[0] in {'add', 'set'}:
                added.update(action[1])
            elif action[0] == 'create':
                raise ReachError(gettext('distributor.msg_reach_field',
                        field=cls.fields_get(['territories'])[
                            'territories']['string']))
        for name in cls._dms_reach_territory_fields():
            if values.get(name):
                added.add(values[name])
        outside = sorted(added - area)
        if outside:
            raise ReachError(gettext('distributor.msg_reach_territory',
                    territory=Territory(outside[0]).rec_name))

    @classmethod
    def _dms_reach_territory_fields(cls):
        "Many2One fields to territories a limited caller keeps in its area"
        return []

    @classmethod
    def default_is_distributor(cls):
        return Transaction().context.get('is_distributor', False)

    @classmethod
    def default_distributor_state(cls):
        return 'draft'

    @fields.depends('distributor_tier')
    def on_change_with_distributor_level(self, name=None):
        if self.distributor_tier:
            return self.distributor_tier.level

    @fields.depends('distributor_tier', methods=['_distributor_tier_defaults'])
    def on_change_distributor_tier(self):
        for name, value in self._distributor_tier_defaults().items():
            if not getattr(self, name, None):
                setattr(self, name, value)

    @fields.depends('distributor_tier')
    def _distributor_tier_defaults(self):
        "Values the tier gives to a distributor that has none of its own"
        defaults = {}
        tier = self.distributor_tier
        if tier:
            if tier.payment_term:
                defaults['customer_payment_term'] = tier.payment_term
            if tier.credit_limit_amount is not None:
                defaults['credit_limit_amount'] = tier.credit_limit_amount
        return defaults

    def get_territory_names(self, name):
        return ', '.join(t.name for t in self.territories)

    def get_territory_scope(self, name):
        return None

    @classmethod
    def search_territory_scope(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator in {'=', 'in'} and not isinstance(operand, str):
            return [('territories', 'child_of', operand, 'parent')]
        Territory = Pool().get('distributor.territory')
        territories = Territory.search(
            [('rec_name', operator, operand, *extra)], order=[])
        return [('territories', 'child_of',
                [t.id for t in territories], 'parent')]

    @classmethod
    def get_qualification_status(cls, parties, name):
        """The best qualification of each type counts (a renewed licence
        supersedes the expired one); the worst type gives the status"""
        result = {}
        for party in parties:
            if not party.is_distributor or not party.qualifications:
                result[party.id] = None
                continue
            best = {}
            for qualification in party.qualifications:
                rank = QUALIFICATION_RANK[qualification.status]
                best[qualification.type] = min(
                    rank, best.get(qualification.type, rank))
            result[party.id] = QUALIFICATION_STATUS[max(best.values())]
        return result

    @classmethod
    def search_qualification_status(cls, name, clause):
        "The same rule as the getter, in one SQL query"
        pool = Pool()
        Qualification = pool.get('distributor.qualification')
        _, operator, operand, *extra = clause
        values = operand if isinstance(operand, (list, tuple)) else [operand]
        ranks = [QUALIFICATION_RANK[v] for v in values if v]
        if operator not in {'=', '!=', 'in', 'not in'}:
            return []
        q = Qualification.__table__()
        status = q.select(q.party, q.type,
            Qualification.status_sql(q).as_('status'))
        rank = Case(*((status.status == s, r)
                for s, r in QUALIFICATION_RANK.items()))
        best = status.select(status.party, status.type,
            Min(rank).as_('rank'), group_by=[status.party, status.type])
        query = best.select(best.party,
            group_by=[best.party],
            having=Max(best.rank).in_(ranks or [-1]))
        if operator in {'=', 'in'}:
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/form//page[@id="distributor"]', 'states', {
                    'invisible': ~Eval('is_distributor', False),
                    }),
            ('/tree', 'visual', If(
                    Eval('distributor_state', '') == 'frozen', 'warning',
                    If(Eval('distributor_state', '') == 'terminated',
                        'muted', ''))),
            ]

    @classmethod
    def _new_distributor_code(cls):
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        sequence = Configuration(1).distributor_sequence
        if not sequence:
            raise ChannelRuleError(gettext(
                    'distributor.msg_distributor_code_required'))
        return sequence.get()

    @classmethod
    def _dms_guarded_fields(cls):
        """The DMS fields whose writes are decided by field access: a
        client's create sends every field with its default, which sets
        nothing and needs no right"""
        return {'is_distributor', 'distributor_code', 'distributor_tier',
            'upstream', 'territories', 'authorized_categories',
            'distributor_grade', 'settlement_method', 'sales_rep',
            'cooperation_start'}

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Tier = pool.get('distributor.tier')
        guarded = cls._dms_guarded_fields()
        vlist = [{k: v for k, v in values.items()
                if not (k in guarded and v in (None, False, [], ''))}
            for values in vlist]
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            for values in vlist:
                cls._dms_check_reach([], values)
        for values in vlist:
            if not values.get('distributor_code'):
                # NULL, not '': codes are unique
                values.pop('distributor_code', None)
            if (values.get('is_distributor')
                    and not values.get('distributor_code')):
                values['distributor_code'] = cls._new_distributor_code()
            if values.get('distributor_tier'):
                party = cls()
                party.distributor_tier = Tier(values['distributor_tier'])
                for name, value in party._distributor_tier_defaults(
                        ).items():
                    values.setdefault(name, getattr(value, 'id', value))
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        transaction = Transaction()
        check = transaction.user and transaction.check_access
        for parties, values in zip(actions, actions):
            if check:
                cls._dms_check_reach(parties, values)
            if values.get('is_distributor'):
                uncoded = [p for p in parties if not p.distributor_code]
                parties = [p for p in parties if p.distributor_code]
                for party in uncoded:
                    args.extend([[party], {
                                **values,
                                'distributor_code': (
                                    values.get('distributor_code')
                                    or cls._new_distributor_code()),
                                }])
            if parties:
                args.extend([parties, values])
        if args:
            super().write(*args)

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('distributor_code', None)
        default.setdefault('distributor_state', 'draft')
        default.setdefault('state_logs', None)
        # Qualifications belong to the legal entity that was checked
        default.setdefault('qualifications', None)
        default.setdefault('downstreams', None)
        return super().copy(parties, default=default)

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        cls.check_channel_rules(parties, field_names)

    @classmethod
    def check_channel_rules(cls, parties, field_names=None):
        """Check the hierarchy rules of the distributors:
        tier pairs, territories inside the upstream's and no cycles.
        A newly chosen upstream must not be frozen nor terminated."""
        hierarchy = {'upstream', 'distributor_tier', 'territories',
            'is_distributor'}
        if field_names and not (field_names & hierarchy):
            return
        distributors = [p for p in parties if p.is_distributor]
        # Downstreams are affected when an upstream changes tier or
        # territories
        if not field_names or field_names & {
                'distributor_tier', 'territories'}:
            distributors += cls.search([
                    ('upstream', 'in', list(map(int, distributors))),
                    ('distributor_state', '!=', 'terminated'),
                    ])
        for party in parties:
            if party.upstream and not party.is_distributor:
                raise ChannelRuleError(gettext(
                        'distributor.msg_upstream_not_distributor',
                        party=party.rec_name))
        upstream_changed = not field_names or 'upstream' in field_names
        changed_ids = set(map(int, parties))
        areas = {}
        for party in distributors:
            party._check_upstream_cycle()
            upstream = party.upstream
            if not upstream:
                continue
            if not upstream.is_distributor:
                raise ChannelRuleError(gettext(
                        'distributor.msg_upstream_not_distributor',
                        party=upstream.rec_name))
            if upstream_changed and party.id in changed_ids:
                upstream.check_may_be_upstream(party)
            party._check_tier_pair()
            if upstream.id not in areas:
                areas[upstream.id] = upstream.distributor_area()
            party._check_territories_inside_upstream(areas[upstream.id])

    def _check_upstream_cycle(self):
        seen = {self.id}
        node = self.upstream
        while node:
            if node.id in seen:
                raise ChannelRuleError(gettext(
                        'distributor.msg_upstream_cycle',
                        party=self.rec_name))
            seen.add(node.id)
            node = node.upstream

    def _check_tier_pair(self):
        tier, upstream_tier = (
            self.distributor_tier, self.upstream.distributor_tier)
        if not tier or not upstream_tier:
            return
        if not upstream_tier.allows_downstream(tier):
            raise ChannelRuleError(gettext(
                    'distributor.msg_tier_pair_not_allowed',
                    party=self.rec_name,
                    tier=tier.rec_name,
                    upstream=self.upstream.rec_name,
                    upstream_tier=upstream_tier.rec_name))

    def distributor_area(self):
        "Ids of the territories of the distributor and every one below"
        Territory = Pool().get('distributor.territory')
        return Territory.area(self.territories)

    def _check_territories_inside_upstream(self, allowed=None):
        if not self.territories:
            return
        if allowed is None:
            allowed = self.upstream.distributor_area()
        for territory in self.territories:
            if territory.id not in allowed:
                raise ChannelRuleError(gettext(
                        'distributor.msg_territory_outside_upstream',
                        party=self.rec_name,
                        territory=territory.rec_name,
                        upstream=self.upstream.rec_name))

    # Trading -------------------------------------------------------------

    def trade_refusal(self, date=None):
        """Why the party may not buy or sell in the channel, or None.

        The single answer the other modules use: only active distributors
        whose business licence is in force (or expired less than the
        configured grace days ago) may place or receive orders."""
        if not self.is_distributor or self.distributor_state != 'active':
            state = dict(self.fields_get(['distributor_state'])[
                    'distributor_state']['selection'])
            return gettext('distributor.msg_may_not_trade',
                distributor=self.rec_name,
                state=state.get(self.distributor_state, '')
                if self.is_distributor else '')
        licence_end = self.licence_end(date)
        if licence_end is not True:
            pool = Pool()
            Configuration = pool.get('distributor.configuration')
            grace = Configuration(1).licence_grace_days
            if licence_end is None:
                return gettext('distributor.msg_trade_no_licence',
                    distributor=self.rec_name)
            return gettext('distributor.msg_trade_licence_expired',
                distributor=self.rec_name, date=licence_end, days=grace)
        return None

    def licence_end(self, date=None):
        """True when a business licence of the party is in force at date
        (today), counting the configured grace days after its end; else
        the end of its latest licence, None without any"""
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('distributor.configuration')
        date = date or Date.today()
        grace = dt.timedelta(days=Configuration(1).licence_grace_days)
        latest = None
        for qualification in self.qualifications:
            if qualification.type != 'business_license':
                continue
            if qualification.valid_from and qualification.valid_from > date:
                continue
            end = qualification.valid_to
            if end is None or end + grace >= date:
                return True
            latest = max(latest or end, end)
        return latest

    def may_trade(self, date=None):
        "Whether the party may buy or sell in the channel (trade_refusal)"
        return self.trade_refusal(date) is None

    def check_may_trade(self, date=None):
        "Raise TradeRefused when the party may not trade"
        refusal = self.trade_refusal(date)
        if refusal:
            raise TradeRefused(refusal)

    @classmethod
    def dms_authorized_products(cls, parties, products):
        """{party id: ids of the products it may buy and sell}.

        One meaning everywhere (brand orders, channel orders, transfers,
        replenishment): a product is authorized for a distributor when one
        of its categories is an authorized category of the distributor or
        lies under one; a distributor without authorized categories is
        authorized for nothing.  A party that is not a distributor (a
        store, a customer) carries no authorization of its own: every
        product, its seller's authorization decides."""
        pool = Pool()
        Category = pool.get('product.category')
        Product = pool.get('product.product')
        products = Product.browse(list({int(p) for p in products}))
        all_ids = {p.id for p in products}
        result, trees = {}, {}
        for party in parties:
            if not party.is_distributor:
                result[party.id] = set(all_ids)
                continue
            key = frozenset(map(int, party.authorized_categories))
            if key not in trees:
                trees[key] = set(map(int, Category.search([
                                ('parent', 'child_of', list(key)),
                                ], order=[]))) if key else set()
            allowed = trees[key]
            result[party.id] = {p.id for p in products
                if set(map(int, p.categories)) & allowed}
        return result

    def may_be_upstream(self):
        "Whether new downstreams may be placed under the distributor"
        return bool(self.is_distributor
            and self.distributor_state not in {'frozen', 'terminated'})

    def check_may_be_upstream(self, party):
        if not self.may_be_upstream():
            state = dict(self.fields_get(['distributor_state'])[
                    'distributor_state']['selection'])
            raise TradeRefused(gettext(
                    'distributor.msg_upstream_may_not_trade',
                    distributor=self.rec_name,
                    state=state.get(self.distributor_state, ''),
                    party=party.rec_name))

    # Lifecycle -----------------------------------------------------------

    @classmethod
    @ModelView.button
    def distributor_activate(cls, parties):
        cls.change_distributor_state(
            parties, 'active', from_states={'draft'})

    @classmethod
    @ModelView.button
    def distributor_unfreeze(cls, parties):
        cls.change_distributor_state(
            parties, 'active', from_states={'frozen'})

    @classmethod
    @ModelView.button_action('distributor.wizard_freeze')
    def distributor_freeze(cls, parties):
        pass

    @classmethod
    @ModelView.button_action('distributor.wizard_terminate')
    def distributor_terminate(cls, parties):
        pass

    @classmethod
    def dms_freeze(cls, parties, reason):
        "Freeze the distributors with a reason (their wizard)"
        cls.change_distributor_state(parties, 'frozen', reason=reason)

    @classmethod
    def dms_terminate(cls, parties, reason):
        "Terminate the distributors with a reason (their wizard)"
        cls.change_distributor_state(parties, 'terminated', reason=reason)

    @classmethod
    @entry_point(records={'parties': None})
    def change_distributor_state(
            cls, parties, state, reason=None, from_states=None):
        """Move the distributors to state and log who, when, from, to, why.

        Every path (buttons, wizards, imports, portal) goes through here."""
        state = validation.choice(state, 'state', STATES)
        reason = validation.text(reason, gettext('distributor.msg_reason'))
        if from_states is not None:
            if not isinstance(from_states, (list, tuple, set)):
                from_states = [from_states]
            from_states = {validation.choice(s, 'from_states', STATES)
                for s in from_states}
        cls.dms_change_state(parties, state, reason, from_states)

    @classmethod
    def dms_change_state(cls, parties, state, reason, from_states=None):
        """The lifecycle change itself, once the arguments are checked
        (modules extend it: distributor_stock creates the warehouses of
        the distributors activated)"""
        pool = Pool()
        Log = pool.get('distributor.state.log')
        if state in REASON_REQUIRED and not reason:
            raise DistributorStateError(gettext(
                    'distributor.msg_state_reason_required'))
        for party in parties:
            if not party.is_distributor:
                raise DistributorStateError(gettext(
                        'distributor.msg_not_distributor',
                        party=party.rec_name))
            if ((party.distributor_state, state) not in TRANSITIONS
                    or (from_states is not None
                        and party.distributor_state not in from_states)):
                labels = dict(cls.fields_get(['distributor_state'])[
                        'distributor_state']['selection'])
                raise DistributorStateError(gettext(
                        'distributor.msg_state_transition',
                        party=party.rec_name,
                        from_=labels[party.distributor_state],
                        to=labels[state]))
            if state == 'active':
                party.check_activation()
        logs = [{
                'party': p.id,
                'from_state': p.distributor_state,
                'to_state': state,
                'reason': reason,
                } for p in parties]
        with trusted():
            cls.write(list(parties), {'distributor_state': state})
            # the history is written by the system, whoever may read it
            Log.create(logs)

    def check_activation(self):
        "A distributor is activated with a tier, a territory and "
        "valid qualifications"
        Qualification = Pool().get('distributor.qualification')
        if not self.distributor_tier:
            raise DistributorStateError(gettext(
                    'distributor.msg_activation_tier',
                    party=self.rec_name))
        if not self.territories:
            raise DistributorStateError(gettext(
                    'distributor.msg_activation_territory',
                    party=self.rec_name))
        Qualification.check_valid_for_activation(self)

    @classmethod
    def check_modification(cls, mode, parties, values=None, external=False):
        if external and mode in {'write', 'delete'}:
            check_rules(cls, parties, mode)
        super().check_modification(
            mode, parties, values=values, external=external)
        if mode == 'delete':
            for party in parties:
                if party.is_distributor and party.distributor_state != 'draft':
                    raise DistributorStateError(gettext(
                            'distributor.msg_delete_not_draft',
                            party=party.rec_name))
        elif mode == 'write' and 'distributor_state' in values and external:
            raise DistributorStateError(gettext(
                    'distributor.msg_state_write'))
        if mode == 'write' and 'is_distributor' in values:
            for party in parties:
                if (party.is_distributor != values['is_distributor']
                        and party.is_distributor
                        and party.distributor_state != 'draft'):
                    raise DistributorStateError(gettext(
                            'distributor.msg_is_distributor_locked',
                            party=party.rec_name))


class PartyTerritory(ModelSQL):
    __name__ = 'party.party-distributor.territory'
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE')
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        t = cls.__table__()
        cls._sql_constraints += [
            ('party_territory_unique', Unique(t, t.party, t.territory),
                'distributor.msg_party_territory_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.territory, Index.Range())))


class PartyProductCategory(ModelSQL):
    __name__ = 'party.party-product.category'
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE')
    category = fields.Many2One(
        'product.category', "Category", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        t = cls.__table__()
        cls._sql_constraints += [
            ('party_category_unique', Unique(t, t.party, t.category),
                'distributor.msg_party_category_unique'),
            ]


class StateLog(ModelSQL, ModelView):
    "Every lifecycle change of a distributor: who, when, from, to, why"
    __name__ = 'distributor.state.log'
    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        readonly=True)
    from_state = fields.Selection(STATES, "From", readonly=True)
    to_state = fields.Selection(STATES, "To", required=True, readonly=True)
    reason = fields.Text("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.party, Index.Range())))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise DistributorStateError(gettext(
                    'distributor.msg_state_log_readonly'))


class Freeze(ReasonWizard):
    "Freeze distributors"
    __name__ = 'distributor.freeze'
    _method = 'dms_freeze'


class Terminate(ReasonWizard):
    "Terminate distributors"
    __name__ = 'distributor.terminate'
    _method = 'dms_terminate'


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'

    territory = fields.Many2One(
        'distributor.territory', "Sales Territory", ondelete='RESTRICT',
        help="The sales territory the address lies in; when empty it is "
        "deduced from the subdivision.")

    def get_sales_territory(self):
        """Return the sales territory of the address: the one set, else
        the deepest territory matching its subdivision (or a parent
        subdivision)"""
        return self.sales_territories([self]).get(self)

    @classmethod
    def sales_territories(cls, addresses):
        """{address: its sales territory} (see get_sales_territory) for
        the addresses that have one, in one search"""
        pool = Pool()
        Territory = pool.get('distributor.territory')
        result, chains = {}, {}
        for address in addresses:
            if address.territory:
                result[address] = address.territory
                continue
            chain = []
            subdivision = getattr(address, 'subdivision', None)
            while subdivision:
                chain.append(subdivision.id)
                subdivision = subdivision.parent
            if chain:
                chains[address] = chain
        if chains:
            by_subdivision = defaultdict(list)
            for territory in Territory.search([
                        ('subdivision', 'in', sorted(
                                {s for c in chains.values() for s in c})),
                        ]):
                by_subdivision[territory.subdivision.id].append(territory)
            for address, chain in chains.items():
                for subdivision in chain:
                    territories = by_subdivision.get(subdivision)
                    if territories:
                        result[address] = max(territories,
                            key=lambda t: KIND_DEPTH[t.kind])
                        break
        return result
