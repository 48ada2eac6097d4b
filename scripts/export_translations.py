#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Export the translatable strings of a project module and merge them into
its locale/zh_CN.po, keeping the translations already there.

    .venv/bin/python scripts/export_translations.py distributor [--check]

--check writes nothing and exits 1 when a string has no translation.
Runs on a throwaway SQLite database (DB_CACHE speeds it up).

The file also completes the labels of the base modules the module shows
(sale, party, stock…), which the export does not hold: they are kept as
they are, after the module's own strings.  Those are the entries that
override another module's, msgctxt 'TYPE:NAME:MODULE.FS_ID' (Tryton
imports them over that module's own translation,
trytond/ir/translation.py translation_import), and the plain ones marked
with a '# base label' comment, for a text no base module's file holds."""
import argparse
import os
import sys
from pathlib import Path

import polib

os.environ.setdefault('DB_NAME', ':memory:')

ROOT = Path(__file__).resolve().parent.parent
# the comment of an entry for a base label no base module's file holds
BASE_LABEL = 'base label'


def exported_entries(module, lang='zh_CN'):
    "Return the POFile Tryton exports for the module (msgstr empty)"
    return exported_modules([module], lang)[module]


def exported_modules(modules, lang='zh_CN'):
    """Return {module: POFile} of the modules' exports, from one database
    where they are all activated (the translations are set once)"""
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction

    activate_module(list(modules))
    result = {}
    with Transaction().start(DB_NAME, 0) as transaction:
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        Set = pool.get('ir.translation.set', type='wizard')
        Update = pool.get('ir.translation.update', type='wizard')
        lang, = Lang.search([('code', '=', lang)])
        session_id, _, _ = Set.create()
        Set(session_id).transition_set_()
        session_id, _, _ = Update.create()
        update = Update(session_id)
        update.start.language = lang
        update.do_update({})
        for module in modules:
            data = Translation.translation_export(lang.code, module)
            result[module] = polib.pofile(data.decode('utf-8'))
        transaction.rollback()
    return result


def missing(module, exported=None, lang='zh_CN'):
    "Return the entries of the export without a translation in the file"
    exported = exported or exported_entries(module, lang)
    path = ROOT / 'addons' / module / 'locale' / f'{lang}.po'
    current = polib.pofile(str(path)) if path.exists() else polib.POFile()
    known = {(e.msgctxt, e.msgid): e.msgstr for e in current}
    return [e for e in exported
        if e.msgid and not known.get((e.msgctxt, e.msgid))]


def is_base_label(entry):
    "Whether the entry translates another module's string (see above)"
    res_id = entry.msgctxt.split(':')[-1] if entry.msgctxt else ''
    return '.' in res_id or entry.tcomment.startswith(BASE_LABEL)


def base_labels(current, exported):
    "The entries of the current file that complete base modules' labels"
    own = {(e.msgctxt, e.msgid) for e in exported}
    return [e for e in current
        if is_base_label(e) and (e.msgctxt, e.msgid) not in own]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('module')
    parser.add_argument('--lang', default='zh_CN')
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)
    exported = exported_entries(args.module, args.lang)
    todo = missing(args.module, exported, args.lang)
    if args.check:
        for entry in todo:
            print(f'missing: {entry.msgctxt} {entry.msgid!r}')
        return 1 if todo else 0
    path = ROOT / 'addons' / args.module / 'locale' / f'{args.lang}.po'
    path.parent.mkdir(exist_ok=True)
    current = polib.pofile(str(path)) if path.exists() else None
    known = {(e.msgctxt, e.msgid): e.msgstr for e in current or []}
    for entry in exported:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid), '')
    for entry in base_labels(current or [], exported):
        exported.append(entry)
    exported.save(str(path))
    print(f'{path}: {len(exported)} entries, {len(todo)} to translate')
    pages = ROOT / 'addons' / args.module / 'i18n'
    if pages.is_dir():
        # the strings of the portal's pages: a gettext catalogue of its own
        # (the portal's catalogue tools, for its pages and a later
        # module's)
        from distributor_portal import i18n
        untranslated = i18n.merge(args.lang, folder=str(pages.parent))
        print(f'{pages}/{args.lang}.po: {len(untranslated)} to translate')
    return 0


if __name__ == '__main__':
    sys.exit(main())
