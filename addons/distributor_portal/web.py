# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""How a portal request runs: the one place that decides who calls.

Every page and endpoint is declared with ``page`` or ``api``: its path,
methods, the party kinds and roles that may call it, the JSON body it
takes (a JSON schema, also published in the OpenAPI document) and the
record ids its path carries (for the isolation tests).  ``dispatch`` then
runs each request the same way:

1. the session (cookie) or API token (``Authorization: Bearer``) names a
   web user, read as root (trytond routes start as root);
2. forms and session-authenticated API calls must carry the CSRF token;
3. the route's kinds and roles are checked;
4. the handler runs **as the web user's portal identity with access
   checked** (its groups, access rows and record rules: rule.xml), with
   the web user's party as the acting party: every id from the request
   goes through ``Portal.resolve`` (``distributor.access.resolve``) or an
   entry point, so an id of another party answers exactly like a missing
   one (404, same body);
5. a refusal rolls the transaction back: nothing is written; the page
   shows the translated message, the API answers
   ``{code, message, details}`` with an HTTP status."""
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import urllib.parse
from decimal import Decimal
from http import HTTPStatus

from werkzeug.exceptions import HTTPException
from werkzeug.utils import redirect as werkzeug_redirect
from werkzeug.wrappers import Response

from trytond import backend
from trytond.config import config
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, TransactionError, check_access)
from trytond.wsgi import app

from distributor.access import resolve as _resolve
from distributor.exceptions import (
    EntryPointRefused, InputError)
from distributor.validation import check_characters

from . import i18n

logger = logging.getLogger(__name__)

PREFIX = '/portal'
API = PREFIX + '/api/v1'
SESSION_COOKIE = 'dms_portal_session'
PRE_COOKIE = 'dms_portal_pre'
LANG_COOKIE = 'dms_portal_lang'
FLASH_COOKIE = 'dms_portal_flash'
KINDS = frozenset({'distributor', 'store'})
# the roles of every portal account: a writing route that any of them may
# call (signing out, reading one's messages) says so with these
EVERY_ROLE = frozenset({'admin', 'orders', 'stock', 'finance', 'view'})
LANGUAGES = ('zh_CN', 'en')
# a session is touched (its idle time restarted) at most this often
TOUCH_SECONDS = 60
MAX_BODY = 1 << 20
PAGE_LIMIT = 50
MAX_LIMIT = 200

ROUTES = []


class Route:
    "The declaration of a page or an endpoint"

    def __init__(self, kind, path, methods, handler, roles=None,
            kinds=KINDS, auth=True, body=None, query=None, summary=None,
            idempotent=False, ids=None, response=None, tag=None,
            paginated=False, name=None, csrf=True, module=None,
            max_body=None):
        self.kind = kind
        self.path = path
        self.methods = tuple(methods)
        self.handler = handler
        # None: every role (view only included); admin may do everything
        self.roles = frozenset(roles) if roles is not None else None
        self.kinds = frozenset(kinds)
        self.auth = auth
        self.body = body
        self.query = query or {}
        self.summary = summary or (handler.__doc__ or '').strip().split(
            '\n')[0]
        self.idempotent = idempotent
        # {path argument: model name}: the record ids the path carries
        self.ids = dict(ids or {})
        self.response = response
        self.tag = tag
        self.paginated = paginated
        self.name = name or handler.__name__
        # JSON sign-in takes no CSRF token: a cross-site page cannot send
        # a JSON body (the browser asks first, trytond refuses the origin)
        self.csrf = csrf
        # the Tryton module that declares the route: it answers only on a
        # database where that module is activated (a later module adds
        # its pages to the portal, see render.add_templates)
        self.module = module or _module_of(handler)
        # the largest request body (photos as evidence need more)
        self.max_body = max_body or MAX_BODY

    def available(self, pool=None):
        "Whether the route's module is activated on the pool's database"
        if pool is None:
            pool = Pool()
        return self.module in getattr(pool, '_modules', ())

    @property
    def writes(self):
        return any(m not in {'GET', 'HEAD'} for m in self.methods)

    def allows(self, kind, role):
        if kind not in self.kinds:
            return False
        return self.roles is None or role == 'admin' or role in self.roles

    def __repr__(self):
        return f'<Route {self.kind} {",".join(self.methods)} {self.path}>'


def _module_of(handler):
    "The Tryton module of a handler (imported as trytond.modules.X or X)"
    name = handler.__module__
    if name.startswith('trytond.modules.'):
        name = name[len('trytond.modules.'):]
    return name.split('.')[0]


def _register(kind, path, methods, **kwargs):
    def decorator(func):
        route = Route(kind, path, methods, func, **kwargs)
        ROUTES.append(route)

        def endpoint(request, **view_args):
            return dispatch(route, request, view_args)
        endpoint.__name__ = f'portal_{kind}_{func.__name__}'
        endpoint.route = route
        if route.max_body > MAX_BODY:
            # trytond caps a request at [request] max_size unless its
            # endpoint allows more
            endpoint.max_request_size = route.max_body
        app.route(path, methods=list(route.methods)
            + (['HEAD'] if 'GET' in route.methods else []))(endpoint)
        func.route = route
        return func
    return decorator


def page(path, methods=('GET',), **kwargs):
    "Declare an HTML page under /portal/"
    return _register('page', PREFIX + path, methods, **kwargs)


def api(path, methods=('GET',), **kwargs):
    "Declare a JSON endpoint under /portal/api/v1/"
    return _register('api', API + path, methods, **kwargs)


def portal_database():
    "The database the portal serves: [portal] database or the only one"
    name = config.get('portal', 'database', default=None)
    if name:
        return name
    names = Pool.database_list()
    if len(names) == 1:
        return names[0]
    return None


class PortalError(Exception):
    "A refusal decided by the portal layer: a status, a code, a message"

    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


class Refused(Exception):
    """A business refusal a handler answers itself, e.g. a form shown
    again with the message next to its lines: the transaction is rolled
    back (nothing the handler wrote stays), then answer(error) builds the
    response, as the caller"""

    def __init__(self, error, answer):
        super().__init__(error)
        self.error = error
        self.answer = answer


def csrf_token(secret):
    "The CSRF token of a session key (or of the pre-session cookie)"
    return hashlib.sha256(('csrf:' + secret).encode()).hexdigest()[:40]


def _error_code(exception):
    "A stable code from the exception's class: ChannelRuleError → ..."
    name = type(exception).__name__.rstrip('_')
    name = re.sub(r'(Error|Exception)$', '', name) or name
    return re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, 'id') and hasattr(value, '__name__'):
        return value.id
    raise TypeError(f'{type(value)} is not JSON serializable')


def json_response(data, status=200, headers=None):
    return Response(json.dumps(data, default=_json_default,
            ensure_ascii=False, separators=(',', ':')),
        status=status, mimetype='application/json', headers=headers)


class Session:
    "Who calls: the web user of the request, before any model code runs"
    __slots__ = ('web_user', 'key', 'token', 'csrf', 'touch')

    def __init__(self, web_user=None, key=None, token=False, csrf=None):
        self.web_user = web_user
        self.key = key
        self.token = token
        self.csrf = csrf
        # the idle time to restart after a read-only request
        self.touch = False


def authenticate(request, pool):
    """The Session of the request (as root): its session cookie or API
    token; an expired session is deleted when the transaction may write,
    and a live one is touched at most once a minute"""
    WebUser = pool.get('web.user')
    UserSession = pool.get('web.user.session')
    authorization = request.headers.get('Authorization', '')
    if authorization.startswith('Bearer '):
        user = WebUser.from_api_token(authorization[7:].strip())
        return Session(user, token=True)
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        sessions = UserSession.search([('key', '=', key)], limit=1)
        if sessions:
            session, = sessions
            if session.expired:
                if not Transaction().readonly:
                    UserSession.delete([session])
            elif session.user.active:
                result = Session(session.user, key=key, csrf=csrf_token(key))
                touched = session.write_date or session.create_date
                if (dt.datetime.now() - touched).total_seconds() \
                        > TOUCH_SECONDS:
                    if Transaction().readonly:
                        result.touch = True
                    else:
                        UserSession.reset(key)
                return result
    pre = request.cookies.get(PRE_COOKIE)
    return Session(csrf=csrf_token(pre) if pre else None)


def touch(database, key):
    """Restart a session's idle time after a read-only request: a short
    transaction of its own, once a minute at most"""
    try:
        with Transaction().start(database, 0) as transaction:
            Pool().get('web.user.session').reset(key)
            transaction.commit()
    except backend.DatabaseOperationalError:
        # busy: the next request touches it
        logger.debug("session touch skipped", exc_info=True)


def choose_language(request, web_user=None):
    "zh_CN or en: the cookie, then the account's party, then the browser"
    lang = request.cookies.get(LANG_COOKIE)
    if lang in LANGUAGES:
        return lang
    if web_user and web_user.party and web_user.party.lang:
        code = web_user.party.lang.code
        return 'zh_CN' if code.startswith('zh') else 'en'
    best = request.accept_languages.best_match(
        ['zh-CN', 'zh', 'en'], default='zh-CN')
    return 'en' if best == 'en' else 'zh_CN'


class Portal:
    """What a handler gets: the request, the caller (web user, party, kind,
    role), its language, the validated body and query, and helpers that
    keep every id within the caller's reach"""

    def __init__(self, route, request, pool, session, lang):
        self.route = route
        self.request = request
        self.pool = pool
        self.session = session
        self.web_user = session.web_user
        self.lang = lang
        self.party = self.web_user.party if self.web_user else None
        self.kind = (self.web_user.party_kind(self.party)
            if self.web_user else None)
        self.role = self.web_user.dms_role if self.web_user else None
        self.body = None
        self.query = {}
        self.cookies = []
        self.flash = None
        # the handler's answer is a refusal: roll back what it wrote
        self.refused = False

    # the caller
    def may(self, *roles):
        "Whether the caller's role is one of roles (admin may everything)"
        return self.role == 'admin' or self.role in roles

    @property
    def csrf(self):
        return self.session.csrf

    # ids from the request
    def resolve(self, model, value, field='id', domain=None):
        """The record of model with id value that the caller reaches,
        or the same 404 as for a missing id"""
        Model = self.pool.get(model)
        return _resolve(Model, value, field, domain=domain, many=False)

    def resolve_many(self, model, values, field='ids', domain=None):
        Model = self.pool.get(model)
        return _resolve(Model, values, field, domain=domain)

    def int_arg(self, value, field):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise PortalError(HTTPStatus.NOT_FOUND, 'not_found',
                gettext('distributor_portal.msg_not_found'))
        return number

    # answers
    def page_window(self):
        "offset, limit of a list (query ?offset=&limit=, bounded)"
        args = self.request.args
        try:
            offset = max(int(args.get('offset', 0)), 0)
            limit = min(max(int(args.get('limit', PAGE_LIMIT)), 1),
                MAX_LIMIT)
        except ValueError:
            raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
                gettext('distributor_portal.msg_invalid_body',
                    detail='offset/limit'))
        return offset, limit

    def paginated(self, items, total, offset, limit):
        return {'items': items, 'total': total, 'offset': offset,
            'limit': limit}

    def render(self, template, status=200, **context):
        from .render import render
        return Response(render(self, template, context), status=status,
            mimetype='text/html')

    def redirect(self, url, flash=None):
        "See other url, showing flash there once (a short-lived cookie)"
        if flash:
            self.set_cookie(FLASH_COOKIE, urllib.parse.quote(flash[:500]),
                max_age=60)
        return werkzeug_redirect(url, code=303)

    def pop_flash(self):
        "The message of the previous step, shown once"
        value = self.request.cookies.get(FLASH_COOKIE)
        if value:
            self.set_cookie(FLASH_COOKIE, None)
            return urllib.parse.unquote(value)
        return None

    def set_cookie(self, name, value, max_age=None):
        self.cookies.append((name, value, max_age))

    def gettext(self, message):
        return i18n.translate(message, self.lang)

    _ = gettext


def _set_cookies(response, request, cookies):
    secure = request.scheme == 'https'
    for name, value, max_age in cookies:
        if value is None:
            response.delete_cookie(name, path=PREFIX, httponly=True,
                secure=secure, samesite='Lax')
        else:
            response.set_cookie(name, value, max_age=max_age, path=PREFIX,
                httponly=True, secure=secure, samesite='Lax')


def _parse_body(route, request):
    "The JSON body (API) or form (page) of a writing request"
    if route.kind == 'page':
        return request.form.to_dict(flat=False)
    if (request.content_length
            and request.content_length > route.max_body):
        raise PortalError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
            gettext('distributor_portal.msg_too_large'))
    raw = request.get_data(cache=True)
    if len(raw) > route.max_body:
        raise PortalError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
            gettext('distributor_portal.msg_too_large'))
    if route.body is None:
        if raw.strip() not in {b'', b'{}', b'null'}:
            raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
                gettext('distributor_portal.msg_invalid_body',
                    detail='no body expected'))
        return {}
    if not raw.strip():
        data = {}
    else:
        try:
            data = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise PortalError(HTTPStatus.BAD_REQUEST, 'bad_json',
                gettext('distributor_portal.msg_bad_json'))
    from .schema import validate
    problem = validate(data, route.body)
    if problem:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            gettext('distributor_portal.msg_invalid_body', detail=problem),
            {'problem': problem})
    return data


def _check_strings(value, field):
    """Refuse control characters (NUL and the like) in every string of a
    body or form, before any of it reaches a query"""
    if isinstance(value, str):
        check_characters(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, field)
            _check_strings(item, str(key)[:40])
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, field)


def _error_answer(route, portal, status, code, message, details=None):
    if route.kind == 'api' or portal is None:
        return json_response({'code': code, 'message': message,
                'details': details or {}}, status=status)
    if status == HTTPStatus.UNAUTHORIZED:
        target = portal.request.full_path if portal.request.method == 'GET' \
            else PREFIX + '/'
        response = werkzeug_redirect(PREFIX + '/login?'
            + urllib.parse.urlencode({'next': target.rstrip('?')}), code=303)
        portal.set_cookie(FLASH_COOKIE, urllib.parse.quote(message),
            max_age=60)
        return response
    return portal.render('error.html', status=status, code=code,
        message=message, details=details or {})


def dispatch(route, request, view_args):
    "Run one portal request (see the module's docstring)"
    database = portal_database()
    if not database:
        return json_response({'code': 'not_found',
                'message': 'No portal database', 'details': {}}, 404)
    pool = Pool(database)
    if database not in Pool.database_list():
        with Transaction().start(database, 0, readonly=True):
            pool.init()
    try:
        pool.get('web.user.session')
        pool.get('distributor.portal.idempotency')
    except KeyError:
        return json_response({'code': 'not_found',
                'message': 'The portal is not activated', 'details': {}},
            404)
    if not route.available(pool):
        return json_response({'code': 'not_found',
                'message': 'Not found', 'details': {}}, 404)
    readonly = request.method in {'GET', 'HEAD'}
    retry = config.getint('database', 'retry')
    # the locks a transaction turned out to need (trytond's dispatcher
    # restarts a request with them declared, as here)
    extras = {}
    count = 0
    while True:
        if count:
            time.sleep(0.02 * count)
        with Transaction().start(database, 0, readonly=readonly,
                context={'_request': request.context},
                **extras) as transaction:
            try:
                response, ok, session = _run(
                    route, request, pool, view_args)
            except TransactionError as error:
                transaction.rollback()
                transaction.tasks.clear()
                error.fix(extras)
                continue
            except backend.DatabaseOperationalError:
                transaction.rollback()
                if count < retry and not readonly:
                    count += 1
                    continue
                logger.info("portal busy on %s", request.path, exc_info=True)
                response = json_response({'code': 'busy',
                        'message': gettext('distributor_portal.msg_busy'),
                        'details': {}}, HTTPStatus.SERVICE_UNAVAILABLE)
                ok, session = False, None
            if ok:
                transaction.commit()
            else:
                transaction.rollback()
        if ok:
            from trytond.worker import run_task
            while transaction.tasks:
                run_task(pool, transaction.tasks.pop())
        if session is not None and session.touch:
            touch(database, session.key)
        return response


def _run(route, request, pool, view_args):
    """(response, ok, session): ok False rolls the transaction back"""
    transaction = Transaction()
    session = authenticate(request, pool)
    web_user = session.web_user
    lang = choose_language(request, web_user)
    with transaction.set_context(language=lang):
        portal = Portal(route, request, pool, session, lang)
        # (status, code, message, details) of a refusal
        refusal = None
        try:
            if route.auth and web_user is None:
                raise PortalError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
                    gettext('distributor_portal.msg_not_signed_in'))
            if (request.method not in {'GET', 'HEAD'} and not session.token
                    and route.csrf):
                sent = (request.headers.get('X-CSRF-Token')
                    or request.form.get('csrf_token', ''))
                if not (session.csrf and sent
                        and hmac.compare_digest(sent, session.csrf)):
                    raise PortalError(HTTPStatus.FORBIDDEN, 'csrf',
                        gettext('distributor_portal.msg_csrf'))
            if web_user is not None and route.auth:
                if not route.allows(portal.kind, portal.role):
                    raise PortalError(HTTPStatus.FORBIDDEN, 'forbidden',
                        gettext('distributor_portal.msg_forbidden'))
            for name, value in request.args.items(multi=True):
                # line breaks and tabs: codes typed one a line
                check_characters(value, name)
            if request.method not in {'GET', 'HEAD'}:
                portal.body = _parse_body(route, request)
                _check_strings(portal.body, 'body')
            if web_user is None:
                # the sign-in pages: no identity to run as, no model code
                # but the authentication's own
                response = route.handler(portal, **view_args)
            else:
                response = _as_portal_user(portal, view_args)
        except PortalError as e:
            refusal = (e.status, e.code, e.message, e.details)
        except EntryPointRefused as e:
            refusal = (HTTPStatus.FORBIDDEN, 'forbidden', e.message, {})
        except AccessError:
            # a missing id and an id out of reach: one answer
            refusal = (HTTPStatus.NOT_FOUND, 'not_found',
                gettext('distributor_portal.msg_not_found'), {})
        except InputError as e:
            field = getattr(e, 'field', None)
            refusal = (HTTPStatus.BAD_REQUEST, 'invalid_input', e.message,
                {'field': field} if field else {})
        except (UserError, UserWarning) as e:
            refusal = (HTTPStatus.UNPROCESSABLE_ENTITY, _error_code(e),
                e.message, getattr(e, 'dms_details', None) or {})
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except HTTPException as e:
            refusal = (e.code, 'http_%s' % e.code, e.description or '', {})
        except Exception:
            logger.exception("portal error on %s", request.path)
            refusal = (HTTPStatus.INTERNAL_SERVER_ERROR, 'internal',
                gettext('distributor_portal.msg_internal'), {})
        ok = refusal is None and not portal.refused
        if refusal is not None:
            # nothing of the request stays, and the answer is read from
            # a clean transaction (a database error aborts it)
            transaction.rollback()
            response = _error_answer(route, portal, *refusal)
        if isinstance(response, (dict, list)):
            response = json_response(response)
        if portal.cookies:
            _set_cookies(response, request, portal.cookies)
        response.headers.setdefault('Cache-Control', 'no-store')
        response.headers.setdefault('X-Content-Type-Options', 'nosniff')
        if route.kind == 'page':
            response.headers.setdefault('X-Frame-Options', 'DENY')
            response.headers.setdefault('Referrer-Policy', 'same-origin')
        return response, ok, session


def _as_portal_user(portal, view_args):
    """Run the handler as the web user's portal identity, access checked,
    with an idempotency key honoured for the submissions that take one"""
    transaction = Transaction()
    web_user = portal.web_user
    if not web_user.dms_user or not web_user.party:
        raise PortalError(HTTPStatus.FORBIDDEN, 'forbidden',
            gettext('distributor_portal.msg_forbidden'))
    company = web_user.dms_user.company
    context = {
        'company': company.id if company else None,
        'language': portal.lang,
        'dms_web_user': web_user.id,
        'dms_portal_party': portal.party.id,
        }
    key = None
    if portal.route.idempotent and portal.request.method == 'POST':
        key = (portal.request.headers.get('Idempotency-Key')
            or (portal.body.get('idempotency_key', [None])[0]
                if portal.route.kind == 'page' and portal.body else None))
        if key is not None:
            stored = _idempotent_answer(portal, key)
            if stored is not None:
                return stored
    with transaction.set_user(web_user.dms_user.id), \
            transaction.set_context(context), check_access():
        try:
            response = portal.route.handler(portal, **view_args)
        except Refused as refused:
            transaction.rollback()
            portal.refused = True
            return refused.answer(refused.error)
    if key is not None:
        _remember(portal, key, response)
    return response


def _endpoint_key(portal):
    return f'{portal.request.method} {portal.request.path}'


def _idempotent_answer(portal, key):
    """The stored answer of an earlier submission with key, after taking
    the key (a concurrent twin waits on it, then finds the answer)"""
    Idempotency = portal.pool.get('distributor.portal.idempotency')
    if not isinstance(key, str) or not 8 <= len(key) <= 200:
        raise PortalError(HTTPStatus.BAD_REQUEST, 'invalid_input',
            gettext('distributor_portal.msg_invalid_body',
                detail='Idempotency-Key: 8 to 200 characters'))
    records = Idempotency.search([
            ('web_user', '=', portal.web_user.id),
            ('key', '=', key),
            ], limit=1)
    if records:
        record, = records
        if record.endpoint != _endpoint_key(portal):
            raise PortalError(HTTPStatus.UNPROCESSABLE_ENTITY,
                'idempotency_key_reused',
                gettext('distributor_portal.msg_idempotency_other'))
        if record.status is None:
            raise PortalError(HTTPStatus.CONFLICT, 'idempotency_busy',
                gettext('distributor_portal.msg_idempotency_busy'))
        if portal.route.kind == 'page':
            return werkzeug_redirect(record.answer, code=303)
        return Response(record.answer, status=record.status,
            mimetype='application/json',
            headers={'Idempotent-Replayed': 'true'})
    return None


def _remember(portal, key, response):
    Idempotency = portal.pool.get('distributor.portal.idempotency')
    if isinstance(response, (dict, list)):
        body = json.dumps(response, default=_json_default,
            ensure_ascii=False, separators=(',', ':'))
        status = 200
    elif portal.route.kind == 'page':
        body = response.headers.get('Location', PREFIX + '/')
        status = response.status_code
    else:
        body = response.get_data(as_text=True)
        status = response.status_code
    table = Idempotency.__table__()
    cursor = Transaction().connection.cursor()
    # older keys go; the unique key makes a concurrent twin wait here and
    # then fail, so that only one of them commits its document
    cursor.execute(*table.delete(where=(
                table.create_date < dt.datetime.now()
                - Idempotency.lifetime())
            & (table.web_user == portal.web_user.id)))
    try:
        Idempotency.create([{
                    'web_user': portal.web_user.id,
                    'key': key,
                    'endpoint': _endpoint_key(portal),
                    'status': status,
                    'answer': body,
                    }])
    except backend.DatabaseIntegrityError:
        raise PortalError(HTTPStatus.CONFLICT, 'idempotency_busy',
            gettext('distributor_portal.msg_idempotency_busy'))
    return response


def new_token():
    return secrets.token_urlsafe(24)
