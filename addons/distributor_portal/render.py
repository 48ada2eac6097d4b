# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Server-rendered pages: Jinja2 templates under templates/, autoescaped,
translated with the caller's language."""
import datetime as dt
import os
import urllib.parse
from decimal import Decimal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.access import trusted

from . import i18n

HERE = os.path.dirname(__file__)

environment = Environment(
    loader=FileSystemLoader(os.path.join(HERE, 'templates')),
    autoescape=select_autoescape(['html', 'xml']),
    extensions=['jinja2.ext.i18n'],
    trim_blocks=True, lstrip_blocks=True)


def money(value, digits=2):
    if value is None:
        return ''
    value = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits))
    return f'{value:,}'


def quantity(value):
    if value is None:
        return ''
    value = float(value)
    if value == int(value):
        return f'{int(value):,}'
    return f'{value:,.2f}'


def date(value):
    if value is None:
        return ''
    if isinstance(value, dt.datetime):
        return value.strftime('%Y-%m-%d %H:%M')
    return value.isoformat()


def query(**values):
    return urllib.parse.urlencode(
        {k: v for k, v in values.items() if v not in (None, '')})


def selection(model, field):
    """[(key, label)] of a selection field, labels in the caller's language
    (Tryton's own translations: states, kinds, reasons)"""
    Model = Pool().get(model)
    # the field's definition, not a record: nothing of a party to check
    with trusted():
        definition = Model.fields_get([field])[field]
    return [(k, l) for k, l in definition['selection'] if k]


def label(model, field, value):
    "The label of value in a selection field, in the caller's language"
    if value is None:
        return ''
    return dict(selection(model, field)).get(value, value)


environment.globals.update({
        'selection': selection,
        'label': label,
        })
environment.filters.update({
        'money': money,
        'quantity': quantity,
        'date': date,
        })
environment.globals['query'] = query


def add_templates(path):
    """Serve the templates of a later module's pages too (it names them
    with its own prefix, e.g. policy_*.html)"""
    if path not in environment.loader.searchpath:
        environment.loader.searchpath.append(path)


# the navigation: (path, label, icon, kinds, roles (None: every role))
NAV = [
    ('/portal/', i18n.N_("Home"), 'home', {'distributor', 'store'}, None),
    ('/portal/catalogue', i18n.N_("Place an Order"), 'cart',
        {'distributor', 'store'}, {'orders'}),
    ('/portal/orders', i18n.N_("Orders"), 'list',
        {'distributor', 'store'}, None),
    ('/portal/stock', i18n.N_("Stock"), 'box', {'distributor'}, None),
    ('/portal/stores', i18n.N_("Stores"), 'shop', {'distributor'}, None),
    ('/portal/sales', i18n.N_("Sales"), 'chart', {'distributor'}, None),
    ('/portal/statement', i18n.N_("Statement"), 'money', {'store'}, None),
    ('/portal/messages', i18n.N_("Messages"), 'bell',
        {'distributor', 'store'}, None),
    ('/portal/account', i18n.N_("Account"), 'user',
        {'distributor', 'store'}, None),
    ]


# {path: module} of the entries a later module adds (add_nav)
NAV_MODULES = {}


def add_nav(entry, before=None, module=None):
    """Add a later module's entry to the navigation, before the entry of
    path before (else last); shown only where module is activated"""
    paths = [e[0] for e in NAV]
    if entry[0] in paths:
        return
    index = paths.index(before) if before in paths else len(NAV)
    NAV.insert(index, entry)
    if module:
        NAV_MODULES[entry[0]] = module


def navigation(portal):
    items = []
    modules = getattr(portal.pool, '_modules', ())
    for path, label, icon, kinds, roles in NAV:
        if portal.kind not in kinds:
            continue
        if path in NAV_MODULES and NAV_MODULES[path] not in modules:
            continue
        if roles is not None and not portal.may(*roles):
            continue
        items.append({'path': path, 'label': portal._(label), 'icon': icon})
    return items


def unread(portal):
    "The caller's unread messages (as the portal identity)"
    if portal.web_user is None or not Transaction().user:
        return None
    Message = Pool().get('distributor.message')
    return Message.search_count([
            ('party', '=', portal.party.id),
            ('read_at', '=', None),
            ])


def render(portal, template, context):
    lang = portal.lang

    def gettext(message, **variables):
        text = i18n.translate(message, lang)
        return text % variables if variables else text

    def ngettext(singular, plural, n, **variables):
        text = i18n.translate(singular if n == 1 else plural, lang)
        variables.setdefault('num', n)
        return text % variables
    request = portal.request
    values = {
        '_': gettext,
        'gettext': gettext,
        'ngettext': ngettext,
        'portal': portal,
        'lang': lang,
        'html_lang': 'zh-CN' if lang == 'zh_CN' else 'en',
        'csrf': portal.csrf or '',
        'web_user': portal.web_user,
        'party': portal.party,
        'nav': navigation(portal) if portal.web_user else [],
        'unread': unread(portal) if portal.web_user else None,
        'flash': portal.flash or portal.pop_flash(),
        'path': request.path,
        'Markup': Markup,
        }
    values.update(context)
    return environment.get_template(template).render(values)
