# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "distributor_territories" as list of ids of the territories '
            '(sub-territories included) the user\'s employees are '
            'responsible for')

    @classmethod
    def _distributor_territories(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Territory = pool.get('distributor.territory')
        UserEmployee = pool.get('res.user-company.employee')
        user_id = Transaction().user
        if not user_id:
            return ()
        # Only the sales reps' rules use it: avoid the query for the others
        rep_group = ModelData.get_id('distributor', 'group_sales_rep')
        if rep_group not in User.get_groups():
            return ()
        link = UserEmployee.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*link.select(
                link.employee, where=link.user == user_id))
        employee_ids = [e for e, in cursor]
        return tuple(Territory.territories_of_employees(employee_ids))

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        # The key must vary with the context value or cached domains leak
        # between users
        return (*key, cls._distributor_territories())

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        context['distributor_territories'] = list(
            cls._distributor_territories())
        return context


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('distributor.qualification|check_expiry',
                "Check Distributor Qualification Expiry"))
