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


def catalogue(lang):
    "{msgid: msgstr} of lang (English: none)"
    if lang == 'en':
        return {}
    if lang not in _CATALOGUES:
        path = os.path.join(HERE, 'i18n', f'{lang}.po')
        entries = {}
        if os.path.exists(path):
            for entry in polib.pofile(path):
                if entry.msgstr and not entry.obsolete:
                    entries[entry.msgid] = entry.msgstr
        _CATALOGUES[lang] = entries
    return _CATALOGUES[lang]


def translate(message, lang):
    return catalogue(lang).get(message, message)


def N_(message):
    "Mark a string for extraction; translated where it is shown"
    return message
