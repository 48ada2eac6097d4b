# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal's own strings (templates and page labels) in Chinese.

Messages of the models are Tryton's (ir.message, translated in
locale/zh_CN.po); the strings of the pages are English msgids in
i18n/zh_CN.po, gettext's format, extracted from the templates and the
Python files by scripts/export_translations.py distributor_portal."""
import os

import polib

HERE = os.path.dirname(__file__)
CATALOGUE = os.path.join(HERE, 'i18n', 'zh_CN.po')
_CATALOGUES = {}
# the folders of the modules whose pages the portal shows: each has its
# i18n/LANG.po (a later module adds its own with add_module)
MODULES = [HERE]


def add_module(folder):
    "Translate the pages of a later module from its folder's i18n/"
    if folder not in MODULES:
        MODULES.append(folder)
        _CATALOGUES.clear()


def catalogue(lang):
    "{msgid: msgstr} of lang (English: none)"
    if lang == 'en':
        return {}
    if lang not in _CATALOGUES:
        entries = {}
        for folder in MODULES:
            path = os.path.join(folder, 'i18n', f'{lang}.po')
            if not os.path.exists(path):
                continue
            for entry in polib.pofile(path):
                if entry.msgstr and not entry.obsolete:
                    entries.setdefault(entry.msgid, entry.msgstr)
        _CATALOGUES[lang] = entries
    return _CATALOGUES[lang]


def translate(message, lang):
    return catalogue(lang).get(message, message)


def N_(message):
    "Mark a string for extraction; translated where it is shown"
    return message


def extract(folder=HERE):
    """The msgids of the pages: the strings of the templates (_("..."))
    and those marked N_("...") in the Python files, with where they are
    {msgid: [(file, line)]}"""
    import ast

    from .render import environment
    found = {}
    templates = os.path.join(folder, 'templates')
    for name in sorted(os.listdir(templates)):
        if not name.endswith('.html'):
            continue
        with open(os.path.join(templates, name), encoding='utf-8') as file:
            source = file.read()
        for line, _, message in environment.extract_translations(source):
            # a call with keywords or ngettext: a tuple of its strings
            messages = message if isinstance(message, tuple) else [message]
            for text in messages:
                if isinstance(text, str):
                    found.setdefault(text, []).append(
                        (f'templates/{name}', line))
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.py'):
            continue
        with open(os.path.join(folder, name), encoding='utf-8') as file:
            tree = ast.parse(file.read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, 'id', None) == 'N_'
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, []).append(
                    (name, node.lineno))
    return found


def merge(lang='zh_CN', check=False, folder=HERE):
    """Merge the extracted msgids into i18n/LANG.po, keeping the
    translations there and dropping the strings gone; answers the msgids
    without translation"""
    path = os.path.join(folder, 'i18n', f'{lang}.po')
    old = polib.pofile(path) if os.path.exists(path) else polib.POFile()
    known = {e.msgid: e for e in old if not e.obsolete}
    po = polib.POFile()
    po.metadata = old.metadata or {
        'Content-Type': 'text/plain; charset=utf-8'}
    po.header = old.header
    missing = []
    for msgid, places in sorted(extract(folder).items()):
        entry = polib.POEntry(msgid=msgid,
            msgstr=known[msgid].msgstr if msgid in known else '',
            occurrences=[(f, str(n)) for f, n in places])
        if not entry.msgstr:
            missing.append(msgid)
        po.append(entry)
    if not check:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        po.save(path)
        _CATALOGUES.clear()
    return missing
