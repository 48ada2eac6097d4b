# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from collections import defaultdict

from sql import Literal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields, tree)
from trytond.pool import Pool
from trytond.transaction import Transaction

from .exceptions import TerritoryValidationError

KINDS = [
    ('region', "Region"),
    ('province', "Province"),
    ('city', "City"),
    ('county', "County"),
    ]
KIND_DEPTH = {k: i for i, (k, _) in enumerate(KINDS)}


class Territory(
        DeactivableMixin, tree(separator=' / '), ModelSQL, ModelView):
    "Sales territory: regions, provinces, cities and counties as a tree"
    __name__ = 'distributor.territory'
    _history = True

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    parent = fields.Many2One(
        'distributor.territory', "Parent", ondelete='RESTRICT')
    childs = fields.One2Many(
        'distributor.territory', 'parent', "Children")
    subdivision = fields.Many2One(
        'country.subdivision', "Subdivision", ondelete='SET NULL',
        help="The administrative division the territory matches.")
    reps = fields.Many2Many(
        'distributor.territory-company.employee', 'territory', 'employee',
        "Sales Reps",
        help="The sales reps responsible for the territory and the "
        "territories below it.")
    distributor_count = fields.Function(
        fields.Integer(
            "Distributors",
            help="Distributors in the territory and below it."),
        'get_distributor_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'distributor.msg_territory_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.parent, Index.Range())))
        cls._order = [('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_kind(cls):
        return 'region'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        domain = super().search_rec_name(name, clause)
        if operator.startswith('!') or operator.startswith('not '):
            return ['AND', domain, ('code', operator, operand, *extra)]
        return ['OR', domain, ('code', operator, operand, *extra)]

    @classmethod
    def validate_fields(cls, territories, field_names):
        super().validate_fields(territories, field_names)
        cls.check_kind_depth(territories, field_names)

    @classmethod
    def check_kind_depth(cls, territories, field_names=None):
        "A territory is of a finer kind than its parent"
        if field_names and not (field_names & {'kind', 'parent'}):
            return
        children = cls.search([('parent', 'in', list(map(int, territories)))])
        for territory in set(territories) | set(children):
            parent = territory.parent
            if parent and KIND_DEPTH[territory.kind] <= KIND_DEPTH[
                    parent.kind]:
                raise TerritoryValidationError(gettext(
                        'distributor.msg_territory_kind_depth',
                        territory=territory.rec_name,
                        parent=parent.rec_name))

    @classmethod
    def get_distributor_count(cls, territories, name):
        "Count distinct distributors in each territory and its descendants"
        pool = Pool()
        Party = pool.get('party.party')
        PartyTerritory = pool.get('party.party-distributor.territory')
        party = Party.__table__()
        link = PartyTerritory.__table__()
        cursor = Transaction().connection.cursor()

        ids = list(map(int, territories))
        descendants = cls.search([('parent', 'child_of', ids)], order=[])
        parent_of = {t.id: t.parent.id if t.parent else None
            for t in descendants}
        cursor.execute(*link.join(party,
                condition=link.party == party.id
                ).select(link.territory, link.party,
                where=link.territory.in_(list(parent_of))
                & (party.is_distributor == Literal(True))
                & (party.distributor_state != 'terminated'),
                group_by=[link.territory, link.party]))
        parties = defaultdict(set)
        wanted = set(ids)
        for territory_id, party_id in cursor:
            node = territory_id
            while node is not None:
                if node in wanted:
                    parties[node].add(party_id)
                node = parent_of.get(node)
        return {i: len(parties[i]) for i in ids}

    @classmethod
    def area(cls, territories):
        "Return the ids of the territories and of every territory below"
        return cls.areas({None: territories})[None]

    @classmethod
    def areas(cls, groups):
        """{key: ids of the territories and of every territory below} of
        {key: territories}, in one search whatever the number of keys"""
        roots = {int(t) for territories in groups.values()
            for t in territories}
        below = defaultdict(set)
        if roots:
            for territory in cls.search([
                        ('parent', 'child_of', sorted(roots)),
                        ], order=[]):
                below[territory.parent.id if territory.parent else None].add(
                    territory.id)

        def area(ids):
            result, level = set(), set(ids)
            while level:
                result |= level
                level = {c for t in level for c in below[t]} - result
            return result
        return {key: area(map(int, territories))
            for key, territories in groups.items()}

    @classmethod
    def territories_of_employees(cls, employee_ids):
        """Return the ids of the territories the employees are responsible
        for, with every territory below them.

        Runs raw SQL so that it can serve the record rules themselves."""
        pool = Pool()
        TerritoryEmployee = pool.get('distributor.territory-company.employee')
        link = TerritoryEmployee.__table__()
        territory = cls.__table__()
        if not employee_ids:
            return []
        cursor = Transaction().connection.cursor()
        cursor.execute(*link.select(
                link.territory,
                where=link.employee.in_(list(employee_ids))))
        result = set()
        level = {t for t, in cursor}
        while level:
            result |= level
            cursor.execute(*territory.select(
                    territory.id,
                    where=territory.parent.in_(list(level))))
            level = {t for t, in cursor} - result
        return sorted(result)


class TerritoryEmployee(ModelSQL):
    __name__ = 'distributor.territory-company.employee'
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        ondelete='CASCADE')
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('territory_employee_unique',
                Unique(t, t.territory, t.employee),
                'distributor.msg_territory_employee_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.employee, Index.Equality())))
