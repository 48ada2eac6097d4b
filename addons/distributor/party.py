# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql.aggregate import Max, Min
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .territory import KIND_DEPTH
from .exceptions import ChannelRuleError, DistributorStateError, TradeRefused

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
                'change_distributor_state': RPC(
                    readonly=False, instantiate=0),
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
    def import_distributors(cls, data):
        """Create draft distributors from the bytes of an import workbook.

        Every row is validated first; on any bad row an ImportError_ lists
        the rows and reasons and nothing is written."""
        from .import_ import import_distributors
        return import_distributors(data)

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
        rank = Case(
            *((q.status == s, r) for s, r in QUALIFICATION_RANK.items()))
        best = q.select(q.party, q.type, Min(rank).as_('rank'),
            group_by=[q.party, q.type])
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
    def create(cls, vlist):
        pool = Pool()
        Tier = pool.get('distributor.tier')
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if not values.get('distributor_code'):
                values['distributor_code'] = None
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
        for parties, values in zip(actions, actions):
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

    def may_trade(self):
        """Whether the party may buy or sell in the channel.

        The single answer the other modules use: only active distributors
        may place or receive orders and be chosen as upstream."""
        return bool(self.is_distributor
            and self.distributor_state == 'active')

    def check_may_trade(self, msg_id='distributor.msg_may_not_trade', **kw):
        "Raise TradeRefused when the party may not trade"
        if not self.may_trade():
            state = dict(self.fields_get(['distributor_state'])[
                    'distributor_state']['selection'])
            raise TradeRefused(gettext(msg_id,
                    distributor=self.rec_name,
                    state=state.get(self.distributor_state, '')
                    if self.is_distributor else '',
                    **kw))

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
    def change_distributor_state(
            cls, parties, state, reason=None, from_states=None):
        """Move the distributors to state and log who, when, from, to, why.

        Every path (buttons, wizards, imports, portal) goes through here."""
        pool = Pool()
        Log = pool.get('distributor.state.log')
        reason = (reason or '').strip() or None
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
        cls.write(list(parties), {'distributor_state': state})
        # The history is written by the system, whoever may read it
        with without_check_access():
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


class ChangeStateStart(ModelView):
    __name__ = 'distributor.change_state.start'
    reason = fields.Text("Reason", required=True)
    distributors = fields.Many2Many(
        'party.party', None, None, "Distributors", readonly=True)


class _ChangeState(Wizard):
    start = StateView('distributor.change_state.start',
        'distributor.change_state_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("OK", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()
    target_state = None

    def default_start(self, fields):
        return {
            'distributors': [r.id for r in self.records],
            }

    def transition_apply(self):
        self.model.change_distributor_state(
            self.records, self.target_state, reason=self.start.reason)
        return 'end'


class Freeze(_ChangeState):
    "Freeze distributors"
    __name__ = 'distributor.freeze'
    target_state = 'frozen'


class Terminate(_ChangeState):
    "Terminate distributors"
    __name__ = 'distributor.terminate'
    target_state = 'terminated'


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
        pool = Pool()
        Territory = pool.get('distributor.territory')
        if self.territory:
            return self.territory
        subdivision = getattr(self, 'subdivision', None)
        while subdivision:
            territories = Territory.search([
                    ('subdivision', '=', subdivision.id),
                    ])
            if territories:
                return max(territories, key=lambda t: KIND_DEPTH[t.kind])
            subdivision = subdivision.parent
        return None
