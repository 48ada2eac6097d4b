# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Signing in and out, password reset, language, the account page (API
token, sign out everywhere) and sub-accounts (账号管理)."""
from http import HTTPStatus

from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.pool import Pool

from distributor.access import trusted

from . import schema as s
from .i18n import N_
from .user import ROLES, KIND_ROLES
from .web import (
    EVERY_ROLE, LANG_COOKIE, LANGUAGES, PREFIX, SESSION_COOKIE, PRE_COOKIE,
    api, csrf_token, json_response, new_token, page)


def _safe_next(value):
    "Only a path of the portal: never a redirect elsewhere"
    if (isinstance(value, str) and value.startswith(PREFIX + '/')
            and not value.startswith('//') and '\\' not in value):
        return value
    return PREFIX + '/'


def _field(portal, name):
    "One value of a form"
    values = (portal.body or {}).get(name) or ['']
    return values[0]


def _sign_in(portal, email, password):
    """The web user of email and password with a new session, or an error
    code; failures are counted (and kept: the caller commits)"""
    pool = Pool()
    WebUser = pool.get('web.user')
    Session = pool.get('web.user.session')
    if not isinstance(email, str) or not isinstance(password, str) \
            or not email or not password or len(email) > 200 \
            or len(password) > 200:
        return None, 'sign_in_failed'
    try:
        user = WebUser.authenticate(email.strip(), password)
    except RateLimitException:
        return None, 'throttled'
    if user is None or not user.party or not user.dms_user:
        return None, 'sign_in_failed'
    old = portal.request.cookies.get(SESSION_COOKIE)
    if old:
        Session.remove(old)
    key = user.new_session()
    portal.set_cookie(SESSION_COOKIE, key)
    portal.set_cookie(PRE_COOKIE, None)
    return user, key


_SIGN_IN_ERRORS = {
    'sign_in_failed': (HTTPStatus.UNAUTHORIZED,
        'distributor_portal.msg_sign_in_failed'),
    'throttled': (HTTPStatus.TOO_MANY_REQUESTS,
        'distributor_portal.msg_sign_in_throttled'),
    }


@page('/login', methods=('GET', 'POST'), auth=False, roles=EVERY_ROLE)
def login(portal):
    "Sign in with e-mail and password"
    if portal.request.method == 'GET':
        if portal.web_user is not None:
            return portal.redirect(_safe_next(portal.request.args.get('next')))
        # the CSRF token of the sign-in form: a cookie of its own
        pre = portal.request.cookies.get(PRE_COOKIE)
        if not pre:
            pre = new_token()
            portal.set_cookie(PRE_COOKIE, pre)
        portal.session.csrf = csrf_token(pre)
        return portal.render('login.html',
            next=_safe_next(portal.request.args.get('next')))
    email = _field(portal, 'email')
    user, result = _sign_in(portal, email, _field(portal, 'password'))
    if user is None:
        status, message = _SIGN_IN_ERRORS[result]
        # a page, not a refusal: the failure's count is kept
        return portal.render('login.html', status=status,
            error=gettext(message), email=email,
            next=_safe_next(_field(portal, 'next')))
    return portal.redirect(_safe_next(_field(portal, 'next')))


@page('/logout', methods=('POST',), roles=EVERY_ROLE)
def logout(portal):
    "Sign out of this device"
    Session = Pool().get('web.user.session')
    with trusted():
        Session.remove(portal.session.key)
    portal.set_cookie(SESSION_COOKIE, None)
    return portal.redirect(PREFIX + '/login')


@page('/logout/everywhere', methods=('POST',), roles=EVERY_ROLE)
def logout_everywhere(portal):
    "Sign out of every device and revoke the API token"
    WebUser = Pool().get('web.user')
    WebUser.sign_out_everywhere(portal.web_user)
    portal.set_cookie(SESSION_COOKIE, None)
    return portal.redirect(PREFIX + '/login',
        flash=portal._(N_("You are signed out on every device.")))


@page('/lang', methods=('POST',), auth=False, roles=EVERY_ROLE)
def switch_language(portal):
    "Show the portal in another language"
    lang = _field(portal, 'lang')
    if lang not in LANGUAGES:
        lang = 'zh_CN'
    portal.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return portal.redirect(_safe_next(_field(portal, 'next')))


@page('/reset', methods=('GET', 'POST'), auth=False,
    roles=EVERY_ROLE)
def reset(portal):
    "Ask for a link to choose a new password"
    pre = portal.request.cookies.get(PRE_COOKIE)
    if not pre:
        pre = new_token()
        portal.set_cookie(PRE_COOKIE, pre)
    portal.session.csrf = portal.session.csrf or csrf_token(pre)
    if portal.request.method == 'GET':
        return portal.render('reset.html',
            token=portal.request.args.get('token'),
            email=portal.request.args.get('email'))
    WebUser = Pool().get('web.user')
    email = _field(portal, 'email').strip().lower()
    if email and len(email) <= 200:
        users = WebUser.search([
                ('email', '=', email),
                ('party', '!=', None),
                ], limit=1)
        if users:
            WebUser.reset_password(users)
    # the same answer whether the address has an account or not
    return portal.redirect(PREFIX + '/login',
        flash=gettext('distributor_portal.msg_reset_sent'))


@page('/reset/password', methods=('POST',), auth=False,
    roles=EVERY_ROLE)
def reset_password(portal):
    "Choose a new password with the link's token"
    WebUser = Pool().get('web.user')
    email = _field(portal, 'email')
    token = _field(portal, 'token')
    password = _field(portal, 'password')
    if not (email and token and password) or not WebUser.set_password_token(
            email, token, password):
        return portal.render('reset.html', status=HTTPStatus.BAD_REQUEST,
            error=gettext('distributor_portal.msg_reset_failed'))
    return portal.redirect(PREFIX + '/login',
        flash=portal._(N_("Your password is set. Sign in.")))


def _account(portal):
    "The caller's account as JSON"
    user = portal.web_user
    return {
        'id': user.id,
        'email': user.email,
        'role': user.dms_role,
        'party': {'id': portal.party.id, 'name': portal.party.rec_name,
            'code': portal.party.code},
        'kind': portal.kind,
        'language': portal.lang,
        'api_token': user.dms_api_token_hint,
        }


def _accounts(portal):
    "The accounts the caller administers: its party's and its stores'"
    WebUser = Pool().get('web.user')
    with trusted():
        accounts = WebUser.dms_accounts(portal.party)
        return [{
                'id': a.id,
                'email': a.email,
                'role': a.dms_role,
                'active': a.active,
                'party': {'id': a.party.id, 'name': a.party.rec_name},
                'store': a.party.id if a.party != portal.party else None,
                } for a in accounts]


def _stores(portal):
    Party = Pool().get('party.party')
    if portal.kind != 'distributor':
        return []
    return Party.search([
            ('is_store', '=', True),
            ('store_distributor', '=', portal.party.id),
            ], order=[('name', 'ASC')])


def _account_page(portal, new_token=None):
    "The account page (new_token: a token just made, shown once)"
    return portal.render('account.html',
        account=_account(portal),
        accounts=_accounts(portal) if portal.may('admin') else None,
        stores=_stores(portal) if portal.may('admin') else [],
        roles=[(k, portal._(v)) for k, v in ROLES
            if k in KIND_ROLES[portal.kind]],
        store_roles=[(k, portal._(v)) for k, v in ROLES
            if k in KIND_ROLES['store']],
        new_token=new_token)


@page('/account')
def account_page(portal):
    "The account: sessions, API token, and the accounts of an admin"
    return _account_page(portal)


@page('/account/token', methods=('POST',), roles=EVERY_ROLE)
def account_token_page(portal):
    "A new API token, shown once"
    WebUser = Pool().get('web.user')
    return _account_page(portal,
        new_token=WebUser.dms_new_api_token(portal.web_user))


def _account_values(portal):
    values = {}
    for name in ['email', 'role', 'password']:
        value = _field(portal, name)
        if value:
            values[name] = value
    if 'active' in (portal.body or {}) or 'email' not in values:
        values['active'] = _field(portal, 'active') in {'1', 'on', 'true'}
    return values


@page('/account/users', methods=('POST',), roles={'admin'})
def account_create_page(portal):
    "Create an account for a colleague or a store"
    WebUser = Pool().get('web.user')
    store = _field(portal, 'store') or None
    values = _account_values(portal)
    values.setdefault('active', True)
    WebUser.dms_save_account(portal.party, values,
        store=portal.int_arg(store, 'store') if store else None)
    return portal.redirect(PREFIX + '/account',
        flash=portal._(N_("The account is saved.")))


@page('/account/users/<int:account>', methods=('POST',), roles={'admin'},
    ids={'account': 'web.user'})
def account_update_page(portal, account):
    "Change the role of an account, or (de)activate it"
    WebUser = Pool().get('web.user')
    values = _account_values(portal)
    values.pop('email', None)
    WebUser.dms_save_account(portal.party, values, account=account)
    return portal.redirect(PREFIX + '/account',
        flash=portal._(N_("The account is saved.")))


# The API

SIGN_IN = s.obj(['email', 'password'], email=s.SHORT, password=s.SHORT)
ACCOUNT = s.obj(
    email={'type': 'string', 'format': 'email', 'maxLength': 200},
    role={'type': 'string', 'enum': [k for k, _ in ROLES]},
    active={'type': 'boolean'},
    password={'type': 'string', 'minLength': 1, 'maxLength': 200},
    store=s.ID)


@api('/session', methods=('POST',), auth=False, body=SIGN_IN, csrf=False,
    roles=EVERY_ROLE, tag='account')
def api_sign_in(portal):
    """Sign in: sets the session cookie; answers the account and the CSRF
    token that writing calls with this session send as X-CSRF-Token"""
    user, result = _sign_in(portal, portal.body['email'],
        portal.body['password'])
    if user is None:
        status, message = _SIGN_IN_ERRORS[result]
        return json_response({'code': result, 'message': gettext(message),
                'details': {}}, status=status)
    return {'id': user.id, 'email': user.email, 'role': user.dms_role,
        'csrf_token': csrf_token(result)}


@api('/session', methods=('DELETE',), roles=EVERY_ROLE, tag='account')
def api_sign_out(portal):
    "Sign out of this session"
    Session = Pool().get('web.user.session')
    if portal.session.key:
        with trusted():
            Session.remove(portal.session.key)
    portal.set_cookie(SESSION_COOKIE, None)
    return {'signed_out': True}


@api('/session/everywhere', methods=('POST',), roles=EVERY_ROLE,
    tag='account')
def api_sign_out_everywhere(portal):
    "End every session of the account and revoke its API token"
    WebUser = Pool().get('web.user')
    WebUser.sign_out_everywhere(portal.web_user)
    portal.set_cookie(SESSION_COOKIE, None)
    return {'signed_out': True}


@api('/me', tag='account')
def api_me(portal):
    "The signed-in account, its party and role"
    return _account(portal)


@api('/token', methods=('POST',), roles=EVERY_ROLE, tag='account')
def api_new_token(portal):
    """A new API token for the account (shown once; the previous one
    stops working): send it as Authorization: Bearer TOKEN"""
    WebUser = Pool().get('web.user')
    return {'token': WebUser.dms_new_api_token(portal.web_user)}


@api('/accounts', roles={'admin'}, tag='account', paginated=True)
def api_accounts(portal):
    "The accounts of the party and of its stores"
    offset, limit = portal.page_window()
    accounts = _accounts(portal)
    return portal.paginated(accounts[offset:offset + limit], len(accounts),
        offset, limit)


@api('/accounts', methods=('POST',), roles={'admin'}, body=ACCOUNT,
    tag='account', idempotent=True)
def api_create_account(portal):
    "Create an account for a colleague or a store of the party"
    WebUser = Pool().get('web.user')
    values = dict(portal.body)
    store = values.pop('store', None)
    values.setdefault('active', True)
    id_ = WebUser.dms_save_account(portal.party, values, store=store)
    return json_response({'id': id_}, status=HTTPStatus.CREATED)


@api('/accounts/<int:account>', methods=('PUT',), roles={'admin'},
    body=ACCOUNT, tag='account', ids={'account': 'web.user'})
def api_update_account(portal, account):
    "Change an account's role, e-mail, password or activity"
    WebUser = Pool().get('web.user')
    values = dict(portal.body)
    store = values.pop('store', None)
    WebUser.dms_save_account(portal.party, values, account=account,
        store=store)
    return {'id': account}

