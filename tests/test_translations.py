# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Every user-visible string of every project module has its zh_CN text,
and so has every label of the base modules (sale, party, product, stock…)
that a DMS user meets in our menus, lists, forms and buttons: Tryton's own
zh_CN is incomplete, our locale/zh_CN.po files complete it."""
import functools
import glob
import re
import sys
import unittest
from pathlib import Path
from typing import NamedTuple

import polib
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

import export_translations  # noqa: E402
from setup_db import project_modules  # noqa: E402
# the strings exported do not depend on the database
BACKENDS = {'sqlite'}

PLACEHOLDER = re.compile(r'%\(\w+\)s')
# a text still in English: a word of Latin letters and no Chinese
WORD = re.compile(r'[A-Za-z]{2,}')
CJK = re.compile(r'[\u3400-\u9fff]')
# written the same in Chinese
AS_IS = {'ID', 'SIP', 'Skype'}
DMS_GROUPS = ['group_dms_admin', 'group_channel_manager',
    'group_sales_rep', 'group_dms_accountant']
# the attributes of a view the client shows (ir/ui/view.py _translate)
ARCH_STRINGS = ['string', 'sum', 'confirm', 'help']
# the kinds of label that are a field of a record
RECORDS = {'menu', 'action', 'tab', 'button'}
# the model whose translations hold an action's name
ACTIONS = {'ir.action.act_window', 'ir.action.wizard', 'ir.action.report',
    'ir.action.url'}


def untranslated(text):
    "Whether the text a user reads is still English"
    return bool(text and text.strip() not in AS_IS and WORD.search(text)
        and not CJK.search(text))


def load_translations(lang='zh_CN'):
    """Import the lang .po of every activated module in the order of their
    dependencies, as trytond-admin -l lang does (trytond/modules/__init__.py
    load_translations): a module's entries may override those of the
    modules it depends on.  Call in a transaction."""
    from trytond.modules import create_graph
    from trytond.pool import Pool
    pool = Pool()
    Module = pool.get('ir.module')
    Translation = pool.get('ir.translation')
    graph = create_graph(
        {m.name for m in Module.search([('state', '=', 'activated')])})
    for node in graph:
        directory = node.info['directory']
        files = sorted(glob.glob(f'{directory}/locale/{lang}.po')
            + glob.glob(f'{directory}/locale/override/{lang}.po'))
        if files:
            Translation.translation_import(lang, node.name, files)


class Label(NamedTuple):
    """A text a user reads.  kind: field, help, selection (key: its value),
    view (a string of a view, key: the attribute), model (its name), or a
    field of a record (model, name: its id): menu, action (also a toolbar
    entry), tab (a domain of an action) or button (key: the attribute);
    where: what shows it; module: the project module that shows it (None
    for a base menu)"""
    kind: str
    model: str
    name: str
    key: str
    text: str
    where: str
    module: str

    def __str__(self):
        return (f'{self.kind} {self.model} {self.name} {self.key} '
            f'{self.text!r} ({self.where})').replace('  ', ' ')


def dms_labels(lang='zh_CN'):
    """The labels of the menus, lists, forms and buttons a DMS user meets,
    as the server gives them in lang to a user of every DMS group: the
    views of our modules (with the base views they extend), the views of
    the actions of our modules and of the menus the DMS groups see, the
    lists and forms of the x2many fields these views show (one level),
    the names of those menus and actions, their tabs, the names of their
    models and their toolbars (print, action, relate).  Call in a
    transaction."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    transaction = Transaction()
    ModelData = pool.get('ir.model.data')
    Model = pool.get('ir.model')
    Button = pool.get('ir.model.button')
    View = pool.get('ir.ui.view')
    Menu = pool.get('ir.ui.menu')
    ActWindow = pool.get('ir.action.act_window')
    User = pool.get('res.user')
    modules = project_modules()

    user, = User.create([{
                'name': "DMS labels", 'login': 'dms_labels',
                'groups': [('add', [ModelData.get_id('distributor', g)
                            for g in DMS_GROUPS])],
                }])
    labels = []
    # (model, view id, view type, module, what shows it)
    views = []
    actions = {}
    for data in ModelData.search([
                ('module', 'in', modules),
                ('model', 'in', ['ir.ui.view', 'ir.action.act_window']),
                ], order=[('id', 'ASC')]):
        if data.model == 'ir.ui.view':
            view = View(data.db_id)
            if view.model:
                views.append((view.model, view.id, None, data.module,
                        f'view {data.module}.{data.fs_id}'))
        else:
            actions.setdefault(data.db_id, data.module)

    def in_lang():
        return transaction.set_context(language=lang)

    def as_user():
        return transaction.set_user(user.id)

    with in_lang(), as_user(), transaction.set_context(_check_access=True):
        for menu in Menu.search([]):
            data = ModelData.search([
                    ('model', '=', 'ir.ui.menu'), ('db_id', '=', menu.id),
                    ], limit=1)
            module = data[0].module if data else None
            module = module if module in modules else None
            labels.append(Label('menu', 'ir.ui.menu', str(menu.id), '',
                    menu.name, f'menu {menu.complete_name}', module))
            if menu.action and menu.action.__name__ == ActWindow.__name__:
                actions.setdefault(menu.action.id, module)
    toolbars = {}
    with in_lang():
        for action in ActWindow.browse(sorted(actions)):
            module = actions[action.id]
            where = f'action {action.name}'
            labels.append(Label('action', ActWindow.__name__,
                    str(action.id), '', action.name, where, module))
            for domain in action.act_window_domains:
                labels.append(Label('tab', 'ir.action.act_window.domain',
                        str(domain.id), '', domain.name, where, module))
            if not action.res_model:
                continue
            toolbars.setdefault(action.res_model, module)
            types = set()
            for action_view in action.act_window_views:
                views.append((action.res_model, action_view.view.id, None,
                        module, where))
                types.add(action_view.view.type)
            # the client opens the default view of the other types
            for type_ in ['tree', 'form']:
                if type_ not in types:
                    views.append(
                        (action.res_model, None, type_, module, where))
    with in_lang(), as_user():
        for model, module in toolbars.items():
            labels.append(Label('model', model, '', '',
                    Model.get_name(model), f'model {model}', module))
            toolbar = pool.get(model).view_toolbar_get()
            for key in ['print', 'action', 'relate']:
                for action in toolbar[key]:
                    labels.append(Label('action', action['type'],
                            str(action['id']), '', action['name'],
                            f'{key} of {model}', module))

    seen = set()

    def walk(model, view_id, view_type, module, where, depth=0):
        if (model, view_id, view_type) in seen:
            return
        seen.add((model, view_id, view_type))
        view = pool.get(model).fields_view_get(view_id, view_type or 'form')
        where = f'{where}: {model} {view["type"]}'
        fields = view['fields']
        shown = set()
        for element in etree.fromstring(view['arch']).iter():
            name = element.get('name')
            if (element.tag in {'field', 'label', 'page', 'group',
                        'separator'}
                    and name in fields and not element.get('string')
                    and element.get('invisible') != '1'
                    and element.get('tree_invisible') != '1'):
                shown.add(name)
            buttons = []
            if element.tag == 'button' and name:
                buttons = Button.search([
                        ('model', '=', model), ('name', '=', name)])
            for attribute in ARCH_STRINGS:
                text = element.get(attribute)
                if not text:
                    continue
                if buttons:
                    labels.append(Label('button', Button.__name__,
                            str(buttons[0].id), attribute, text, where,
                            module))
                else:
                    labels.append(Label('view', model, '', attribute,
                            text, where, module))
        for name in sorted(shown):
            field = fields[name]
            labels.append(Label('field', model, name, '', field['string'],
                    where, module))
            if field.get('help'):
                labels.append(Label('help', model, name, '', field['help'],
                        where, module))
            if isinstance(field.get('selection'), list):
                for key, text in field['selection']:
                    if text:
                        labels.append(Label('selection', model, name,
                                str(key), text, where, module))
            if depth or field['type'] not in {'one2many', 'many2many'}:
                continue
            relation = field['relation']
            for sub_view in (field.get('views') or {}).values():
                walk(relation, sub_view['view_id'], sub_view['type'],
                    module, f'{where} {name}', depth + 1)
            walk(relation, None, 'form', module, f'{where} {name}',
                depth + 1)

    with in_lang(), as_user():
        for model, view_id, view_type, module, where in views:
            walk(model, view_id, view_type, module, where)
    return labels


def source(label):
    "The English text of the label (call in a transaction)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Translation = pool.get('ir.translation')
    with Transaction().set_context(language='en'):
        if label.kind in RECORDS:
            record = pool.get(label.model)(int(label.name))
            return getattr(record, label.key or 'name')
        if label.kind == 'model':
            return pool.get('ir.model').get_name(label.model)
        if label.kind == 'view':
            # the text may be a translation in English ('Sales' for 'Sale')
            rows = Translation.search([
                    ('type', '=', 'view'), ('name', '=', label.model),
                    ('value', '=', label.text), ('fuzzy', '=', False),
                    ], limit=1)
            return rows[0].src if rows else label.text
        field = pool.get(label.model)._fields[label.name]
        if label.kind in {'field', 'help'}:
            # its parts may be lazy messages
            return ''.join(map(str, getattr(field, {
                            'field': 'string', 'help': 'help'}[label.kind])))
        return dict(field.selection)[label.key]


def message(label):
    "The ir.message id of the label, None when it has none"
    from trytond.pool import Pool
    from trytond.tools.string_ import LazyString
    if label.kind not in {'field', 'help'}:
        return
    field = Pool().get(label.model)._fields[label.name]
    text = field.string if label.kind == 'field' else field.help
    for part in text:
        if isinstance(part, LazyString):
            return part._args[0]


def po_context(label, lang='zh_CN'):
    """The msgctxt of the .po entry that translates the label: a base
    module's entry is overridden by naming it, 'TYPE:NAME:MODULE.FS_ID'
    (trytond/ir/translation.py translation_import); plain 'TYPE:NAME:' or
    'TYPE:NAME:FS_ID' for a string of our modules or one no base module's
    file holds (call in a transaction)"""
    from trytond.pool import Pool
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Translation = pool.get('ir.translation')
    if label.kind in RECORDS:
        data = ModelData.search([
                ('model', '=', label.model),
                ('db_id', '=', int(label.name)),
                ], limit=1)
        model = 'ir.action' if label.model in ACTIONS else label.model
        field = label.key or 'name'
        if not data:
            fs_id = '?'
        elif data[0].module in project_modules():
            # the module's own entry
            fs_id = data[0].fs_id
        else:
            fs_id = f'{data[0].module}.{data[0].fs_id}'
        return f'model:{model},{field}:{fs_id}'
    if message_id := message(label):
        module, fs_id = message_id.split('.', 1)
        if module in project_modules():
            message_id = fs_id
        return f'model:ir.message,text:{message_id}'
    if label.kind == 'model':
        type_, name = 'model', f'{label.model},string'
    elif label.kind == 'view':
        type_, name = 'view', label.model
    else:
        type_, name = label.kind, f'{label.model},{label.name}'
    domain = [
        ('lang', '=', lang), ('type', '=', type_), ('name', '=', name),
        ('res_id', '=', -1),
        ]
    if type_ in {'view', 'selection', 'help'}:
        domain.append(('src', '=', source(label)))
    rows = Translation.search(domain, order=[('id', 'ASC')])
    modules = set(project_modules())
    rows = [r for r in rows if r.module not in modules]
    if rows:
        return f'{type_}:{name}:{rows[0].module}.'
    return f'{type_}:{name}:'


class TranslationTestCase(unittest.TestCase):

    def test_modules_found(self):
        self.assertIn('distributor', project_modules())

    def test_zh_CN_complete(self):
        modules = project_modules()
        exported = export_translations.exported_modules(modules)
        for module in modules:
            with self.subTest(module=module):
                todo = export_translations.missing(module, exported[module])
                self.assertEqual(
                    [f'{e.msgctxt} {e.msgid}' for e in todo], [])

    def test_portal_pages_zh_CN(self):
        """Every string of the portal's pages (templates, N_ in the Python
        files of each module with pages: an i18n/ folder) is in its
        module's catalogue, in Chinese, placeholders kept"""
        sys.path.insert(0, str(ROOT / 'addons'))
        from distributor_portal import i18n
        folders = [ROOT / 'addons' / m for m in project_modules()
            if (ROOT / 'addons' / m / 'i18n').is_dir()]
        self.assertIn(ROOT / 'addons' / 'distributor_portal', folders)
        for folder in folders:
            self.assertEqual(
                i18n.merge('zh_CN', check=True, folder=str(folder)), [],
                folder.name)
            path = folder / 'i18n' / 'zh_CN.po'
            extracted = set(i18n.extract(str(folder)))
            for entry in polib.pofile(str(path)):
                with self.subTest(module=folder.name, msgid=entry.msgid):
                    self.assertIn(entry.msgid, extracted, "no longer used")
                    self.assertTrue(CJK.search(entry.msgstr)
                        or entry.msgstr.strip() in AS_IS
                        or not WORD.search(entry.msgid), entry.msgstr)
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(entry.msgid)),
                        sorted(PLACEHOLDER.findall(entry.msgstr)))

    def test_placeholders_kept(self):
        for module in project_modules():
            path = ROOT / 'addons' / module / 'locale' / 'zh_CN.po'
            for entry in polib.pofile(str(path)):
                with self.subTest(module=module, msgid=entry.msgid):
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(entry.msgid)),
                        sorted(PLACEHOLDER.findall(entry.msgstr)))

    def test_base_labels_kept_by_export(self):
        "export_translations.py keeps the entries of base labels"
        for module in project_modules():
            path = ROOT / 'addons' / module / 'locale' / 'zh_CN.po'
            current = polib.pofile(str(path))
            entries = [e for e in current
                if export_translations.is_base_label(e)]
            with self.subTest(module=module):
                self.assertEqual(export_translations.base_labels(
                        current, polib.POFile()), entries)

    def test_overrides_name_base_entries(self):
        """Each override names an entry of a module the module depends on,
        with the same English text, and changes its translation (Tryton
        fails to import an override of a missing entry, and leaves a fuzzy
        entry fuzzy when the override has its text)"""
        from trytond.modules import get_module_info

        @functools.cache
        def depends(module):
            result = set()
            for name in get_module_info(module).get('depends', []):
                result |= {name} | depends(name)
            return result

        files = {}
        for module in project_modules():
            path = ROOT / 'addons' / module / 'locale' / 'zh_CN.po'
            for entry in polib.pofile(str(path)):
                type_, name, res_id = entry.msgctxt.split(':')
                if '.' not in res_id:
                    continue
                base, fs_id = res_id.split('.', 1)
                with self.subTest(module=module, msgctxt=entry.msgctxt,
                        msgid=entry.msgid):
                    self.assertIn(base, depends(module))
                    if base not in files:
                        directory = get_module_info(base)['directory']
                        files[base] = {(e.msgctxt, e.msgid): e
                            for e in polib.pofile(
                                f'{directory}/locale/zh_CN.po')}
                    overridden = files[base].get(
                        (f'{type_}:{name}:{fs_id}', entry.msgid))
                    self.assertIsNotNone(overridden)
                    self.assertFalse('fuzzy' in overridden.flags
                        and overridden.msgstr == entry.msgstr)


class BaseLabelTestCase(unittest.TestCase):
    "The labels a DMS user meets are in Chinese, the base modules' too"
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        from trytond.tests.test_tryton import activate_module
        activate_module(project_modules())

    def test_dms_labels_zh_CN(self):
        """Every label of a DMS menu, list, form and button reads in
        Chinese once the zh_CN files of the modules are loaded"""
        from trytond.pool import Pool
        from trytond.tests.test_tryton import DB_NAME
        from trytond.transaction import Transaction
        with Transaction().start(DB_NAME, 0) as transaction:
            load_translations('zh_CN')
            labels = dms_labels('zh_CN')
            english = {}
            for label in labels:
                if untranslated(label.text):
                    key = (po_context(label), source(label))
                    english.setdefault(key, (label, set()))[1].add(
                        label.module)
            # the distributor order list of issue 12
            pool = Pool()
            Sale = pool.get('sale.sale')
            ModelData = pool.get('ir.model.data')
            with transaction.set_context(language='zh_CN'):
                fields = Sale.fields_view_get(ModelData.get_id(
                        'distributor_sale', 'order_view_list'))['fields']
            transaction.rollback()
        self.assertGreater(len(labels), 1000)
        self.assertEqual(fields['number']['string'], '编号')
        self.assertEqual(fields['party']['string'], '客户')
        self.assertEqual(sorted(
                f'{context} {text!r} reads {label.text!r} in '
                f'{label.where} ({", ".join(sorted(filter(None, modules)))})'
                for (context, text), (label, modules) in english.items()),
            [])
