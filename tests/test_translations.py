# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Every user-visible string of every project module has its zh_CN text"
import re
import sys
import unittest
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

import export_translations  # noqa: E402
from setup_db import project_modules  # noqa: E402
# the strings exported do not depend on the database
BACKENDS = {'sqlite'}

PLACEHOLDER = re.compile(r'%\(\w+\)s')


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

    def test_placeholders_kept(self):
        for module in project_modules():
            path = ROOT / 'addons' / module / 'locale' / 'zh_CN.po'
            for entry in polib.pofile(str(path)):
                with self.subTest(module=module, msgid=entry.msgid):
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(entry.msgid)),
                        sorted(PLACEHOLDER.findall(entry.msgstr)))
