# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import weakref

from sql import Literal

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# {transaction: {user id: parties}}: the reach of a portal identity, read
# once per transaction (every model's rule domain asks for it)
_REACH = weakref.WeakKeyDictionary()


def portal_reach(user_id):
    """The party ids a portal identity reaches: its web user's party, the
    distributors downstream of it (at any depth) and its stores; () for a
    user that is no portal identity"""
    pool = Pool()
    User = pool.get('res.user')
    WebUser = pool.get('web.user')
    Party = pool.get('party.party')
    transaction = Transaction()
    cache = _REACH.setdefault(transaction, {})
    if user_id in cache:
        return cache[user_id]
    web_user_id = User.dms_portal_web_user(user_id)
    reach = ()
    if web_user_id:
        web_user = WebUser.__table__()
        party = Party.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*web_user.select(web_user.party,
                where=web_user.id == web_user_id))
        own, = cursor.fetchone()
        if own:
            parties = [own]
            level = [own]
            while level:
                cursor.execute(*party.select(party.id,
                        where=party.upstream.in_(level)
                        & (party.is_distributor == Literal(True))))
                level = [i for i, in cursor if i not in parties]
                parties.extend(level)
            cursor.execute(*party.select(party.id,
                    where=(party.store_distributor == own)
                    & (party.is_store == Literal(True))))
            parties.extend(i for i, in cursor)
            reach = tuple(sorted(set(parties)))
    cache[user_id] = reach
    return reach


def clear_reach():
    "Forget the reach read in this transaction (the network changed)"
    _REACH.pop(Transaction(), None)


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "dms_portal_parties" as list of ids of the parties a '
            'portal user reaches: its own, its downstream distributors and '
            'its stores')

    @classmethod
    def _dms_portal_parties(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user_id = Transaction().user
        if not user_id:
            return ()
        group = ModelData.get_id('distributor_portal', 'group_portal')
        if group not in User.get_groups():
            return ()
        return portal_reach(user_id)

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        # the key varies with the reach or cached domains leak between
        # portal users
        return (*key, cls._dms_portal_parties())

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        parties = list(cls._dms_portal_parties())
        context['dms_portal_parties'] = parties
        context['dms_portal'] = bool(parties)
        return context
