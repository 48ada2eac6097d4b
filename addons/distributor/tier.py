# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql import Literal
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import TierValidationError


class Tier(DeactivableMixin, ModelSQL, ModelView):
    "Distributor tier: a level of the channel (national agent, regional, "
    "county distributor...)"
    __name__ = 'distributor.tier'
    _history = True

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    level = fields.Integer(
        "Level", required=True,
        domain=[('level', '>=', 1)],
        help="1 for the national agents, deeper numbers for the tiers "
        "below them.")
    downstream_tiers = fields.Many2Many(
        'distributor.tier-distributor.tier', 'tier', 'downstream',
        "Allowed Downstream Tiers",
        domain=[('level', '>', Eval('level', 0))],
        help="The tiers whose distributors may be placed under a "
        "distributor of this tier.")
    price_list = fields.Many2One(
        'product.price_list', "Price List", ondelete='RESTRICT',
        help="The default price list of the distributors of this tier.")
    payment_term = fields.Many2One(
        'account.invoice.payment_term', "Payment Term", ondelete='RESTRICT',
        help="The default customer payment term of the distributors of "
        "this tier.")
    credit_limit_amount = fields.Numeric(
        "Credit Limit Amount", digits=(16, 2),
        domain=['OR',
            ('credit_limit_amount', '=', None),
            ('credit_limit_amount', '>=', 0),
            ],
        help="The default credit limit of the distributors of this tier.")
    distributor_count = fields.Function(
        fields.Integer("Distributors"), 'get_distributor_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'distributor.msg_tier_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.level, Index.Range())))
        cls._order = [('level', 'ASC'), ('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_level(cls):
        return 1

    def get_rec_name(self, name):
        return f'[{self.code}] {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]

    @classmethod
    def get_distributor_count(cls, tiers, name):
        pool = Pool()
        Party = pool.get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys(map(int, tiers), 0)
        cursor.execute(*party.select(
                party.distributor_tier, Count(),
                where=party.distributor_tier.in_(list(counts))
                & (party.is_distributor == Literal(True))
                & (party.distributor_state != 'terminated'),
                group_by=party.distributor_tier))
        counts.update(cursor)
        return counts

    @classmethod
    def validate_fields(cls, tiers, field_names):
        super().validate_fields(tiers, field_names)
        cls.check_downstream_levels(tiers, field_names)

    @classmethod
    def check_downstream_levels(cls, tiers, field_names=None):
        "Downstream tiers sit below: their level is a larger number"
        if field_names and not (field_names & {'level', 'downstream_tiers'}):
            return
        pool = Pool()
        Relation = pool.get('distributor.tier-distributor.tier')
        tier_ids = list(map(int, tiers))
        relations = Relation.search(['OR',
                ('tier', 'in', tier_ids),
                ('downstream', 'in', tier_ids),
                ])
        for relation in relations:
            if relation.downstream.level <= relation.tier.level:
                raise TierValidationError(gettext(
                        'distributor.msg_tier_downstream_level',
                        tier=relation.tier.rec_name,
                        downstream=relation.downstream.rec_name))

    def allows_downstream(self, tier):
        "Whether a distributor of tier may sit under one of this tier"
        return (tier.level > self.level
            and tier in self.downstream_tiers)


class TierDownstream(ModelSQL):
    __name__ = 'distributor.tier-distributor.tier'
    tier = fields.Many2One(
        'distributor.tier', "Tier", required=True, ondelete='CASCADE')
    downstream = fields.Many2One(
        'distributor.tier', "Downstream Tier", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tier_downstream_unique', Unique(t, t.tier, t.downstream),
                'distributor.msg_tier_downstream_unique'),
            ]
