# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal as a phone shows it: the demo network's portal accounts
(distributor_portal/demo.py) in headless Chromium at 375 x 812, driven by
Playwright.

Builds a small demo database with scripts/setup_db.py in a temporary
folder, starts trytond on a free port with the portal on it ([portal]
database, and the npm assets of ./dms under var/portal), signs in through
/portal/login and walks the pages.  Screenshots are kept in
var/screenshots/portal_*.png.  Skipped outside CI when Chromium,
Playwright or the portal's npm assets are missing; under CI (CI=true)
their absence is a failure.

DMS_PORTAL_DEMO=FILE reuses a demo database built before (a copy of its
SQLite file is served), to iterate on the tests without building one."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

from .demo_db import demo_database

ROOT = Path(__file__).resolve().parent.parent
# the browser drives the server of ./dms run (SQLite): the server side of
# every flow runs on PostgreSQL in the module's tests
BACKENDS = {'sqlite'}
CHROMIUM = '/usr/bin/chromium'
VENDOR = ROOT / 'var' / 'portal' / 'node_modules'
ASSETS = [VENDOR / 'chart.js' / 'dist' / 'chart.umd.js',
    VENDOR / '@zxing' / 'browser' / 'umd' / 'zxing-browser.min.js']
SCREENSHOTS = ROOT / 'var' / 'screenshots'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking']
PHONE = {'width': 375, 'height': 812}
PASSWORD = 'dms-demo'
# the demo's portal accounts (distributor_portal/demo.py)
DISTRIBUTOR = 'distributor@demo.dms'
DISTRIBUTOR_VIEW = 'distributor-view@demo.dms'
SUBDISTRIBUTOR = 'subdistributor@demo.dms'
STORE = 'store@demo.dms'
CHINESE = re.compile(r'[\u3400-\u9fff]')
# links of a page's content the walk does not follow: they leave the
# portal, sign out, or start a download
SKIP_LINK = re.compile(r'^(?!/portal/)|/logout|/lang|javascript:|\.(csv|pdf)$')
# the content links followed from each page of the navigation: one per
# kind of link (its path with the numbers as <id>)
CONTENT_LINKS = 6


def catalogue():
    "{msgid: msgstr} of the portal's page catalogue in Chinese"
    import polib
    path = ROOT / 'addons' / 'distributor_portal' / 'i18n' / 'zh_CN.po'
    if not path.exists():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path))
        if e.msgstr and not e.obsolete}


CATALOGUE = catalogue()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def shape(path):
    "A link's kind: its path with the numbers as <id>, without its query"
    return re.sub(r'/\d+(?=/|$)', '/<id>', urllib.parse.urlsplit(path).path)


class PortalBrowserTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = [str(p) for p in [Path(CHROMIUM), *ASSETS]
            if not p.exists()]
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing.append('playwright')
        if missing:
            message = f'missing: {", ".join(missing)}'
            if os.environ.get('CI'):
                raise AssertionError(message)
            raise unittest.SkipTest(message)
        cls.tmp = Path(tempfile.mkdtemp(prefix='dms-portal-browser-'))
        (cls.tmp / 'db').mkdir()
        cls.port = free_port()
        config = cls.tmp / 'trytond.conf'
        config.write_text(f'''[database]
uri = sqlite://
path = {cls.tmp / 'db'}
[web]
listen = 127.0.0.1:{cls.port}
[password]
length = 8
[portal]
database = dms
vendor = {VENDOR}
''')
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        python = sys.executable
        reuse = os.environ.get('DMS_PORTAL_DEMO')
        shutil.copy(reuse or demo_database(), cls.tmp / 'db' / 'dms.sqlite')
        trytond = str(Path(python).parent / 'trytond')
        cls.log = open(cls.tmp / 'trytond.log', 'w')
        cls.server = subprocess.Popen(
            [trytond, '-c', str(config), '-d', 'dms'], env=env, cwd=ROOT,
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.url = f'http://127.0.0.1:{cls.port}'
        for _ in range(120):
            try:
                urllib.request.urlopen(cls.url + '/portal/login', timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            cls.tearDownClass()
            raise AssertionError('trytond did not start')

        from playwright.sync_api import sync_playwright
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        for name, stop in [('browser', 'close'), ('playwright', 'stop')]:
            if hasattr(cls, name):
                getattr(getattr(cls, name), stop)()
        if hasattr(cls, 'server'):
            cls.server.terminate()
            cls.server.wait(timeout=20)
        if hasattr(cls, 'log'):
            cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        # the JavaScript errors of every page the test opens
        self.page_errors = []

    def tearDown(self):
        self.assertEqual([str(e) for e in self.page_errors], [])

    def server_errors(self):
        "The tracebacks trytond logged so far (the end of its log)"
        self.log.flush()
        text = (self.tmp / 'trytond.log').read_text(errors='replace')
        return text[-3000:] if 'Traceback' in text else ''

    def screenshot(self, page, name):
        page.screenshot(path=str(SCREENSHOTS / f'portal_{name}.png'),
            full_page=True)

    def sign_in(self, email, password=PASSWORD, lang=None):
        """A new phone-sized page signed in as email through the sign-in
        page; lang 'en' or 'zh-CN' is the browser's language"""
        context = self.browser.new_context(viewport=PHONE,
            device_scale_factor=2, is_mobile=True, has_touch=True,
            locale=lang or 'zh-CN')
        page = context.new_page()
        page.set_default_timeout(60000)
        page.on('pageerror', lambda error: self.page_errors.append(error))
        page.on('console', lambda message: message.type == 'error'
            and 'Failed to load resource' not in message.text
            and self.page_errors.append(message.text))
        page.goto(self.url + '/portal/login')
        page.fill('input[name=email]', email)
        page.fill('input[name=password]', password)
        with page.expect_navigation():
            page.click('form[action="/portal/login"] button[type=submit]')
        self.assertNotIn('/portal/login', page.url,
            f'{email} could not sign in')
        errors = page.locator('.card.error')
        self.assertEqual(errors.count(), 0, f'{page.url}: '
            f'{errors.first.inner_text() if errors.count() else ""}\n'
            f'{self.server_errors()}')
        return page

    def open(self, page, path):
        "Open path: its status, and no error card shown"
        response = page.goto(self.url + path)
        page.wait_for_load_state('networkidle')
        status = response.status if response else 0
        errors = page.locator('.card.error')
        message = (errors.first.inner_text() if errors.count() else '')
        self.assertLess(status, 400,
            f'{path}: {status} {message}\n{self.server_errors()}')
        self.assertEqual(errors.count(), 0,
            f'{path}: {message}\n{self.server_errors()}')
        return response

    def nav(self, page):
        "The links of the navigation: [(path, label)]"
        links = page.locator('nav.main a')
        return [(links.nth(i).get_attribute('href'),
                links.nth(i).inner_text().strip())
            for i in range(links.count())]

    def content_links(self, page):
        "The content's links to follow: the first of each kind"
        seen, links = set(), []
        for href in page.locator('main a[href]').evaluate_all(
                'links => links.map(a => a.getAttribute("href"))'):
            if not href or SKIP_LINK.search(href):
                continue
            kind = shape(href)
            if kind not in seen:
                seen.add(kind)
                links.append(href)
        return links[:CONTENT_LINKS]

    def walk(self, email, name):
        """Sign in as email and open every link of the navigation, then
        the first content link of each kind on each of its pages; answers
        the navigation's paths"""
        page = self.sign_in(email)
        self.screenshot(page, f'{name}_signed_in')
        nav = self.nav(page)
        self.assertTrue(nav, 'no navigation')
        opened = set()
        for path, label in nav:
            with self.subTest(who=name, page=path):
                self.open(page, path)
                opened.add(path)
                self.assertIn(label, page.locator('nav.main').inner_text())
                slug = path[len('/portal/'):].strip('/').replace(
                    '/', '_') or 'home'
                self.screenshot(page, f'{name}_{slug}')
                for link in self.content_links(page):
                    if link in opened or shape(link) in opened:
                        continue
                    opened.add(shape(link))
                    with self.subTest(who=name, link=link):
                        self.open(page, link)
                # back where the navigation is
                self.open(page, path)
        page.context.close()
        return [p for p, _ in nav]

    # the distributor (a national agent with stores and a downstream) -----

    def test_distributor_walks_every_page(self):
        "The demo's distributor opens every page of its navigation"
        paths = self.walk(DISTRIBUTOR, 'distributor')
        for path in ['/portal/', '/portal/orders', '/portal/stock',
                '/portal/stores', '/portal/messages', '/portal/account']:
            self.assertIn(path, paths)
        # the administrator orders
        self.assertIn('/portal/catalogue', paths)
        self.assertNotIn('/portal/statement', paths)

    def test_view_only_colleague(self):
        "A view-only colleague has no ordering in its navigation"
        paths = self.walk(DISTRIBUTOR_VIEW, 'distributor_view')
        self.assertNotIn('/portal/catalogue', paths)
        self.assertIn('/portal/orders', paths)

    def test_subdistributor_walks_every_page(self):
        "The demo's sub-distributor opens every page of its navigation"
        paths = self.walk(SUBDISTRIBUTOR, 'subdistributor')
        self.assertIn('/portal/stock', paths)

    def test_switch_language(self):
        """The language button switches between Chinese and English, and
        the choice stays from page to page"""
        page = self.sign_in(DISTRIBUTOR, lang='en')
        # the navigation's labels as the page catalogue translates them
        labels = {'Orders', 'Messages'}
        chinese = {CATALOGUE.get(label) for label in labels} - {None}

        def lang():
            return page.locator('html').get_attribute('lang')

        def switch(to):
            with page.expect_navigation():
                page.locator('#switch-lang').click()
            self.assertEqual(lang(), to)
        # the distributor's party reads Chinese (the demo's parties do)
        if lang() != 'zh-CN':
            switch('zh-CN')
        self.assertEqual(page.locator('#switch-lang').inner_text(),
            'English')
        nav = page.locator('nav.main').inner_text()
        for text in chinese:
            self.assertIn(text, nav)
        self.screenshot(page, 'distributor_zh')
        switch('en')
        self.assertEqual(page.locator('#switch-lang').inner_text(), '中文')
        nav = page.locator('nav.main').inner_text()
        self.assertNotRegex(nav, CHINESE)
        for text in labels:
            self.assertIn(text, nav)
        self.screenshot(page, 'distributor_en')
        # the choice holds on the next page, and the page switched on is
        # the page switched from
        self.open(page, '/portal/orders')
        self.assertEqual(lang(), 'en')
        switch('zh-CN')
        self.assertTrue(page.url.endswith('/portal/orders'), page.url)
        main = page.locator('body').inner_text()
        self.assertRegex(main, CHINESE)
        page.context.close()
        if len(chinese) < len(labels):
            self.skipTest('the page catalogue (distributor_portal/i18n/'
                'zh_CN.po) does not translate the navigation yet')

    def test_wrong_password(self):
        "A wrong password keeps the sign-in page with its message"
        page = self.browser.new_page(viewport=PHONE)
        page.goto(self.url + '/portal/login')
        page.fill('input[name=email]', DISTRIBUTOR)
        page.fill('input[name=password]', 'not-the-password')
        page.click('form[action="/portal/login"] button[type=submit]')
        page.locator('[role=alert]').first.wait_for()
        self.assertIn('/portal/login', page.url)
        page.close()

    # the store ------------------------------------------------------------

    def test_store_walks_every_page(self):
        "The demo's store opens every page of its navigation"
        paths = self.walk(STORE, 'store')
        for path in ['/portal/', '/portal/orders', '/portal/messages',
                '/portal/account']:
            self.assertIn(path, paths)
        # a store has no stock nor stores of its own
        self.assertNotIn('/portal/stock', paths)
        self.assertNotIn('/portal/stores', paths)

    def test_store_refused_distributor_pages(self):
        "A distributor's page refuses a store with the error page"
        page = self.sign_in(STORE)
        response = page.goto(self.url + '/portal/stores')
        self.assertEqual(response.status, 403)
        self.assertEqual(page.locator('.card.error').count(), 1)
        self.screenshot(page, 'store_refused')
        page.context.close()
