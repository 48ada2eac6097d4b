# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Portal accounts: Tryton web users of a distributor or a store.

Each web user with a party is tied to a portal identity, a ``res.user``
without password (so it cannot sign in to the back office) whose groups
follow the web user's role.  A portal request runs as that user with
access checked: its rights are the portal groups' access rows, button
groups and record rules (rule.xml), keyed on the web user's party, its
downstream distributors and its stores (ir.py)."""
import datetime as dt
import hashlib
import secrets

from sql import Literal
from sql.conditionals import Coalesce

from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from distributor.access import entry_point, trusted

from .exceptions import PortalUserError
from .i18n import N_

# the labels are translated by Tryton in the back office and by the
# portal's catalogue on the pages (N_)
ROLES = [
    ('admin', N_("Administrator")),
    ('orders', N_("Orders")),
    ('stock', N_("Stock")),
    ('finance', N_("Finance")),
    ('view', N_("View Only")),
    ]
# the portal groups of each role (distributor_portal.group_portal_*)
ROLE_GROUPS = {
    'admin': ['portal', 'portal_orders', 'portal_stock', 'portal_finance',
        'portal_admin'],
    'orders': ['portal', 'portal_orders'],
    'stock': ['portal', 'portal_stock'],
    'finance': ['portal', 'portal_finance'],
    'view': ['portal'],
    }
# a store has no warehouse of its own in the DMS: no stock role
KIND_ROLES = {
    'distributor': {'admin', 'orders', 'stock', 'finance', 'view'},
    'store': {'admin', 'orders', 'finance', 'view'},
    }
API_TOKEN_PREFIX = 'dmsp_'


def hash_token(token):
    "The stored form of an API token (a random secret: no salt needed)"
    return hashlib.sha256(token.encode()).hexdigest()


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    dms_role = fields.Selection(ROLES, "Portal Role", required=True,
        help="What the user may do in the portal: an administrator "
        "manages the accounts of its party too; view only reads.")
    dms_user = fields.Many2One('res.user', "Portal Identity", readonly=True,
        ondelete='RESTRICT',
        help="The Tryton user the portal requests of this account run as.")
    dms_kind = fields.Function(fields.Selection([
                (None, ''),
                ('distributor', "Distributor"),
                ('store', "Store"),
                ], "Party Kind"), 'get_dms_kind')
    dms_api_token_hash = fields.Char("API Token Hash", readonly=True,
        strip=False)
    dms_api_token_hint = fields.Char("API Token", readonly=True,
        help="The first characters of the account's API token.")
    dms_created_by = fields.Many2One('web.user', "Created By", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.dms_user, Index.Equality(cardinality='high'))),
                Index(t, (Coalesce(t.dms_api_token_hash, ''),
                        Index.Equality(cardinality='high')),
                    where=t.dms_api_token_hash != ''),
                })
        # a portal account belongs to a distributor or a store
        cls.party.domain = [
            ['OR',
                ('is_distributor', '=', True),
                ('is_store', '=', True),
                ],
            ]
        cls.party.states = {
            'required': Eval('active', True),
            }

    @classmethod
    def default_dms_role(cls):
        return 'view'

    @classmethod
    def get_dms_kind(cls, users, name):
        return {u.id: u.party_kind(u.party) for u in users}

    @staticmethod
    def party_kind(party):
        if party is None:
            return None
        if getattr(party, 'is_store', False):
            return 'store'
        if party.is_distributor:
            return 'distributor'
        return None

    @classmethod
    def validate_fields(cls, users, field_names):
        super().validate_fields(users, field_names)
        if field_names & {'party', 'dms_role', 'active'}:
            cls.check_portal_party(users)

    @classmethod
    def check_portal_party(cls, users):
        for user in users:
            if not user.active:
                continue
            kind = cls.party_kind(user.party)
            if kind is None:
                raise PortalUserError(gettext(
                        'distributor_portal.msg_portal_party',
                        user=user.rec_name))
            if user.dms_role not in KIND_ROLES[kind]:
                raise PortalUserError(gettext(
                        'distributor_portal.msg_portal_role',
                        user=user.rec_name,
                        role=dict(cls.fields_get(['dms_role'])['dms_role'][
                                'selection'])[user.dms_role]))

    @classmethod
    def create(cls, vlist):
        users = super().create(vlist)
        cls.sync_identities(users)
        return users

    @classmethod
    def write(cls, *args):
        super().write(*args)
        users = sum(args[0:None:2], [])
        fields_ = set().union(*args[1:None:2])
        if fields_ & {'party', 'dms_role', 'active', 'email'}:
            cls.sync_identities(users)
        if fields_ & {'party', 'dms_role', 'active', 'password_hash'}:
            # a changed role or password ends the sessions opened before
            Session = Pool().get('web.user.session')
            with trusted():
                Session.delete(Session.search(
                        [('user', 'in', [u.id for u in users])]))

    @classmethod
    def copy(cls, users, default=None):
        default = {} if default is None else default.copy()
        default.setdefault('dms_user')
        default.setdefault('dms_api_token_hash')
        default.setdefault('dms_api_token_hint')
        return super().copy(users, default=default)

    @classmethod
    def sync_identities(cls, users):
        """Create or update the portal identity of the users: groups from
        the role, active like the account, the brand's company"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Company = pool.get('company.company')
        with trusted():
            companies = Company.search([], limit=1, order=[('id', 'ASC')])
            to_save = []
            for user in cls.browse(users):
                identity = user.dms_user or User(
                    login='portal-%s' % secrets.token_hex(8))
                identity.name = user.email or identity.login
                identity.active = bool(user.active and user.party)
                identity.groups = [
                    ModelData.get_id('distributor_portal', 'group_' + g)
                    for g in ROLE_GROUPS[user.dms_role or 'view']]
                if companies:
                    identity.companies = companies
                    identity.company = companies[0]
                if user.party and user.party.lang:
                    identity.language = user.party.lang
                to_save.append((user, identity))
            User.save([i for _, i in to_save])
            missing = [(u, i) for u, i in to_save if u.dms_user != i]
            for user, identity in missing:
                # super(): a write of dms_user alone needs no new sync
                super().write([user], {'dms_user': identity.id})

    @classmethod
    def authenticate(cls, email, password):
        """The user of email and password, or None; refused as throttled
        once the e-mail failed the configured times within the window
        (web.user.authenticate.attempt)"""
        Attempt = Pool().get('web.user.authenticate.attempt')
        if (isinstance(email, str)
                and Attempt.count(email.lower()) >= Attempt.max_failures()):
            raise RateLimitException()
        return super().authenticate(email, password)

    @classmethod
    def dms_new_api_token(cls, user):
        "A new API token for the user (the previous one stops working)"
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with trusted():
            super().write([user], {
                    'dms_api_token_hash': hash_token(token),
                    'dms_api_token_hint': token[:len(API_TOKEN_PREFIX) + 4],
                    })
        return token

    @classmethod
    def dms_revoke_api_token(cls, user):
        with trusted():
            super().write([user], {
                    'dms_api_token_hash': None,
                    'dms_api_token_hint': None,
                    })

    @classmethod
    def from_api_token(cls, token):
        "The active user of the token, or None"
        if not token or not token.startswith(API_TOKEN_PREFIX):
            return None
        users = cls.search([
                ('dms_api_token_hash', '=', hash_token(token)),
                ('active', '=', True),
                ], limit=1)
        return users[0] if users else None

    @classmethod
    def sign_out_everywhere(cls, user):
        "End every session of the user and revoke its API token"
        Session = Pool().get('web.user.session')
        with trusted():
            Session.delete(Session.search([('user', '=', user.id)]))
        cls.dms_revoke_api_token(user)

    @classmethod
    def dms_accounts(cls, party):
        "The portal accounts of party and of its stores"
        Party = Pool().get('party.party')
        parties = [party] + Party.search([
                ('is_store', '=', True),
                ('store_distributor', '=', party.id),
                ])
        with Transaction().set_context(active_test=False):
            return cls.search([
                    ('party', 'in', [p.id for p in parties]),
                    ], order=[('party', 'ASC'), ('email', 'ASC')])

    @classmethod
    @entry_point(parties={'party': ['distributor', 'store'],
            'store': ['store']})
    def dms_save_account(cls, party, values, account=None, store=None):
        """Create (account None) or update a portal account of party or of
        one of its stores (store): e-mail, role, active, password; returns
        the account's id.  Called by an administrator of party."""
        from distributor import validation
        from distributor.exceptions import RecordNotFound
        validation.keys(values, 'values',
            {'email', 'role', 'active', 'password'})
        target = party
        if store is not None:
            if store.store_distributor != party:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=store.__names__()['model'], id=store.id))
            target = store
        if account is not None:
            accounts = {a.id: a for a in cls.dms_accounts(party)}
            account_id = validation.integer(account, 'account')
            if account_id not in accounts:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=cls.__names__()['model'], id=account_id))
            account = accounts[account_id]
        to_write = {}
        if 'email' in values:
            to_write['email'] = validation.text(values['email'], 'email',
                size=200, required=True, multiline=False).lower()
        if 'role' in values:
            to_write['dms_role'] = validation.choice(
                values['role'], 'role', ROLES)
        if 'active' in values:
            to_write['active'] = validation.flag(values['active'], 'active')
        if values.get('password') is not None:
            to_write['password'] = validation.text(values['password'],
                'password', size=200, required=True, multiline=False)
        if account is None:
            if 'email' not in to_write:
                raise validation.InputError(gettext(
                        'distributor.msg_input_required', field='email'))
            to_write.setdefault('dms_role', 'view')
            to_write['party'] = target.id
            to_write['dms_created_by'] = Transaction().context.get(
                'dms_web_user')
            account, = cls.create([to_write])
        else:
            if store is not None and account.party != target:
                to_write['party'] = target.id
            if to_write:
                cls.write([account], to_write)
        return account.id


class UserSession(metaclass=PoolMeta):
    """Portal sessions end after the idle timeout and, whatever their use,
    after the lifetime counted from sign-in (distributor.configuration)"""
    __name__ = 'web.user.session'

    @classmethod
    def timeout(cls):
        Configuration = Pool().get('distributor.configuration')
        return dt.timedelta(
            minutes=Configuration(1).portal_idle_minutes or 30)

    @classmethod
    def lifetime(cls):
        Configuration = Pool().get('distributor.configuration')
        return dt.timedelta(
            hours=Configuration(1).portal_session_hours or 12)

    @property
    def expired(self):
        now = dt.datetime.now()
        return (super().expired
            or now - self.create_date > self.lifetime())


class UserAuthenticateAttempt(metaclass=PoolMeta):
    """Failed sign-ins count over a short window, and a try refused as
    throttled does not count again: an e-mail is free again at most the
    window after its last real failure (trytond counts over the session
    timeout, which locked users out for days)"""
    __name__ = 'web.user.authenticate.attempt'

    @staticmethod
    def delay():
        Configuration = Pool().get('distributor.configuration')
        return dt.datetime.now() - dt.timedelta(
            minutes=Configuration(1).portal_failure_minutes or 5)

    @classmethod
    def max_failures(cls):
        Configuration = Pool().get('distributor.configuration')
        return Configuration(1).portal_max_failures or 5

    @classmethod
    def add(cls, login, device_cookie=None):
        if cls.count(login) >= cls.max_failures():
            return
        super().add(login, device_cookie)


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    @classmethod
    def dms_portal_web_user(cls, user_id):
        "The id of the web user whose portal identity is user_id, or None"
        WebUser = Pool().get('web.user')
        table = WebUser.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=(table.dms_user == user_id)
                & (table.active == Literal(True)),
                limit=1))
        row = cursor.fetchone()
        return row[0] if row else None


class Idempotency(ModelSQL):
    """The answer given to a submission with an idempotency key: the same
    key from the same user gets the same answer, never a second
    document"""
    __name__ = 'distributor.portal.idempotency'

    web_user = fields.Many2One('web.user', "Web User", required=True,
        ondelete='CASCADE')
    key = fields.Char("Key", required=True, strip=False)
    endpoint = fields.Char("Endpoint", required=True)
    status = fields.Integer("Status")
    answer = fields.Text("Answer")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.web_user, t.key),
                'distributor_portal.msg_idempotency_unique'),
            ]

    @classmethod
    def lifetime(cls):
        return dt.timedelta(hours=24)
