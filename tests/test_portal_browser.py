# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal as a phone shows it: the demo network's portal accounts
(distributor_portal/demo.py) in headless Chromium at 375 x 812, driven by
Playwright.

Builds a small demo database with scripts/setup_db.py in a temporary
folder, starts trytond on a free port with the portal on it ([portal]
database, and the npm assets of ./dms under var/portal), signs in through
/portal/login and walks the pages, then does the issue's flows (test_flow_*:
an order refused by a channel rule then fixed, approving, rejecting with
a reason and delivering a store's order, receipts with a shortfall, a
manual scan, a message read, a sub-distributor's order to its upstream,
the store's statement), each account signed in once for the class.
Screenshots are kept in var/screenshots/portal_*.png.  Skipped outside CI
when Chromium, Playwright or the portal's npm assets are missing; under CI
(CI=true) their absence is a failure.

DMS_PORTAL_DEMO=FILE reuses a demo database built before (a copy of its
SQLite file is served), to iterate on the tests without building one."""
import math
import os
import re
import unittest
import urllib.parse
from pathlib import Path

from .demo_db import DemoServer

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
# an amount above the demo's largest minimum order amount (distributor_sale
# demo.py: 5000 for the national agents' tier T1)
BRAND_MINIMUM = 6000
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
        cls.server = DemoServer(os.environ.get('DMS_PORTAL_DEMO'),
            prefix='dms-portal-browser-')
        cls.server.start({'portal': {'database': 'dms', 'vendor': VENDOR}},
            ready='/portal/login')
        cls.url = cls.server.url

        from playwright.sync_api import sync_playwright
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # {e-mail: page}: the accounts signed in once for the flows
        cls.signed_in = {}

    @classmethod
    def tearDownClass(cls):
        for page in getattr(cls, 'signed_in', {}).values():
            page.context.close()
        for name, stop in [('browser', 'close'), ('playwright', 'stop')]:
            if hasattr(cls, name):
                getattr(getattr(cls, name), stop)()
        if hasattr(cls, 'server'):
            cls.server.stop()

    def setUp(self):
        # the JavaScript errors of every page the test opens (the pages
        # kept signed in for the class report to the running test)
        self.page_errors = []
        type(self).errors = self.page_errors

    def tearDown(self):
        self.assertEqual([str(e) for e in self.page_errors], [])

    def server_errors(self):
        "The tracebacks trytond logged so far (the end of its log)"
        text = self.server.log_text()
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
        cls = type(self)
        page.on('pageerror', lambda error: cls.errors.append(error))
        page.on('console', lambda message: message.type == 'error'
            and 'Failed to load resource' not in message.text
            and cls.errors.append(message.text))
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

    # the flows of the issue: what a person does and sees ----------------

    def account(self, email):
        """The page of email signed in once for the class (its browser in
        Chinese, as the demo's parties read)"""
        page = self.signed_in.get(email)
        if page is None:
            page = self.signed_in[email] = self.sign_in(email)
        return page

    def submit(self, page, button, status=None):
        """Click button (a locator) of a form and wait for the page it
        leads to: its response; with status, the page must answer it
        (else: below 400 and no error card)"""
        with page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        page.wait_for_load_state('networkidle')
        errors = page.locator('.card.error')
        message = errors.first.inner_text() if errors.count() else ''
        if status is not None:
            self.assertEqual(response.status, status,
                f'{page.url}: {message}\n{self.server_errors()}')
        else:
            self.assertLess(response.status, 400,
                f'{page.url}: {message}\n{self.server_errors()}')
            self.assertEqual(errors.count(), 0,
                f'{page.url}: {message}\n{self.server_errors()}')
        return response

    def api(self, page, path):
        "GET an endpoint with the page's session: its JSON"
        response = page.request.get(f'{self.url}/portal/api/v1{path}')
        self.assertEqual(response.status, 200, response.text())
        return response.json()

    def stock_of(self, page):
        "{product id: quantity on hand} of the signed-in distributor"
        levels = self.api(page, '/stock/levels?limit=500')['items']
        result = {}
        for level in levels:
            result[level['product']] = (result.get(level['product'], 0)
                + float(level['quantity']))
        return result

    def orderable(self, page, minimum=0, stock=None, quantity=None):
        """A product of the signed-in account's catalogue with a pack of
        more than one: (product, quantity), quantity in whole packs worth
        at least minimum (or quantity packs), within stock ({product:
        quantity}) when given"""
        products = self.api(page, '/catalogue')['products']
        for product in products:
            pack = float(product['pack'] or 0)
            price = float(product['price'] or 0)
            if pack <= 1 or price <= 0:
                continue
            packs = quantity or max(1, math.ceil(minimum / (price * pack)))
            wanted = pack * packs
            if stock is not None and stock.get(product['id'], 0) < wanted:
                continue
            return product, int(wanted)
        self.fail(f'no product to order: {products}')

    def order(self, page, quantities, status=None):
        """Fill the cart of the catalogue with {product id: quantity} and
        submit it: the response"""
        self.open(page, '/portal/catalogue')
        for product, quantity in quantities.items():
            page.fill(f'#cart input[name="qty_{product}"]', str(quantity))
        return self.submit(page,
            page.locator('#cart button[type=submit]'), status=status)

    def order_id(self, page, kind='channel-orders'):
        "The id of the order page shown"
        match = re.search(rf'/portal/{kind}/(\d+)$', page.url)
        self.assertTrue(match, page.url)
        return int(match.group(1))

    def state(self, page):
        "The state of the order page shown (its class) and its label"
        state = page.locator('#order-state')
        return (state.get_attribute('class').split()[-1],
            state.inner_text().strip())

    def incoming(self, page, state=None):
        """The orders to approve of the distributor's incoming tab (or
        those in state, chosen in the filter): {id: row text}"""
        self.open(page, '/portal/orders?tab=incoming')
        if state:
            page.select_option('select[name=state]', state)
            self.submit(page, page.locator(
                    'form[action="/portal/orders"] button[type=submit]'))
        rows = page.locator('tr[data-order]')
        return {int(rows.nth(i).get_attribute('data-order')):
            rows.nth(i).inner_text() for i in range(rows.count())}

    def store_order(self):
        """The demo's store orders one pack of a product its distributor
        has in stock: the channel order's id (submitted)"""
        stock = self.stock_of(self.account(DISTRIBUTOR))
        page = self.account(STORE)
        product, quantity = self.orderable(page, stock=stock, quantity=1)
        self.order(page, {product['id']: quantity})
        self.assertEqual(self.state(page)[0], 'submitted')
        self.assertEqual(page.locator('.flash').count(), 1)
        return self.order_id(page)

    def approve_deliver(self, order):
        "The distributor approves and delivers order from its order page"
        page = self.account(DISTRIBUTOR)
        self.open(page, f'/portal/channel-orders/{order}')
        for action, state in [('approve', 'approved'),
                ('deliver', 'delivered')]:
            self.submit(page, page.locator(
                    f'form[action="/portal/channel-orders/{order}/{action}"]'
                    ' button'))
            self.assertEqual(self.state(page)[0], state)

    def receive_short(self, page, order, name):
        """Confirm the receipt of the delivered order with one less than
        delivered on its first line: the page shows it received, with the
        quantities delivered and received"""
        self.open(page, f'/portal/channel-orders/{order}')
        self.assertEqual(self.state(page)[0], 'delivered')
        line = page.locator('#receive tr[data-line]').first
        line_id = line.get_attribute('data-line')
        field = line.locator('input')
        delivered = float(field.input_value())
        field.fill(f'{delivered - 1:g}')
        self.submit(page, page.locator('#receive button[type=submit]'))
        self.assertEqual(self.state(page)[0], 'received')
        self.assertEqual(page.locator('.flash').count(), 1)
        self.assertEqual(page.locator('#receive').count(), 0)
        cells = page.locator(f'tr[data-line="{line_id}"] td')
        self.assertEqual(float(cells.nth(4).inner_text()), delivered)
        self.assertEqual(float(cells.nth(5).inner_text()), delivered - 1)
        self.assertEqual(page.locator('#timeline li').last.get_attribute(
                'class'), 'received')
        self.screenshot(page, f'{name}_received_shortfall')

    def test_flow_order_with_rule_error(self):
        """The distributor orders a quantity that is no whole pack: the
        rule's message shows beside that line; whole packs submit it"""
        page = self.account(DISTRIBUTOR)
        product, quantity = self.orderable(page, minimum=BRAND_MINIMUM)
        self.open(page, '/portal/catalogue')
        self.assertEqual(page.locator('#seller').count(), 1)
        self.order(page, {product['id']: quantity + 1}, status=422)
        row = page.locator(f'tr[data-product="{product["id"]}"]')
        self.assertIn('error', row.get_attribute('class'))
        beside = row.locator('.line-error').inner_text()
        self.assertIn(product['name'], beside)
        self.assertIn(str(quantity + 1), beside)
        self.assertIn(page.locator('#cart-error').inner_text().strip(),
            beside)
        # the other lines are not marked, the cart keeps the quantity
        self.assertEqual(page.locator('tr.error').count(), 1)
        self.assertEqual(row.locator('input').input_value(),
            str(quantity + 1))
        self.screenshot(page, 'distributor_rule_error')
        row.locator('input').fill(str(quantity))
        self.submit(page, page.locator('#cart button[type=submit]'))
        sale = self.order_id(page, 'orders')
        self.assertEqual(self.state(page)[0], 'submitted')
        self.assertEqual(page.locator('.flash').count(), 1)
        self.assertIn(product['name'],
            page.locator('tr[data-line]').first.inner_text())
        self.screenshot(page, 'distributor_order_submitted')
        # the list of its submitted brand orders holds it
        self.open(page, '/portal/orders?tab=brand&state=submitted')
        self.assertEqual(page.locator(f'a[data-order="{sale}"]').count(), 1)

    def test_flow_approve_and_deliver(self):
        """The distributor approves its store's submitted order from the
        orders to approve and delivers it; the store sees it delivered,
        confirms it with a shortfall and sees it in its statement"""
        order = self.store_order()
        page = self.account(DISTRIBUTOR)
        waiting = self.incoming(page)
        self.assertIn(order, waiting)
        self.screenshot(page, 'distributor_incoming')
        page.locator(f'tr[data-order="{order}"] a').click()
        page.wait_for_load_state('networkidle')
        self.assertEqual(self.state(page)[0], 'submitted')
        self.submit(page, page.locator(
                f'form[action="/portal/channel-orders/{order}/approve"] '
                'button'))
        self.assertEqual(self.state(page)[0], 'approved')
        self.submit(page, page.locator(
                f'form[action="/portal/channel-orders/{order}/deliver"] '
                'button'))
        self.assertEqual(self.state(page)[0], 'delivered')
        self.assertEqual(page.locator('#timeline li').evaluate_all(
                'items => items.map(i => i.className)')[-3:],
            ['submitted', 'approved', 'delivered'])
        self.screenshot(page, 'distributor_delivered')
        # one order less to approve
        self.assertEqual(set(self.incoming(page)), set(waiting) - {order})

        # the store receives one less than delivered on its first line
        self.receive_short(self.account(STORE), order, 'store')

    def test_flow_rejection_reason(self):
        """The distributor rejects its store's order with a reason from
        the orders to approve; the reason shows on the rejected order (found
        with the state filter), to the distributor and to the store"""
        order = self.store_order()
        page = self.account(DISTRIBUTOR)
        self.assertIn(order, self.incoming(page))
        page.check(f'tr[data-order="{order}"] input[name=order]')
        reason = '缺货，请下周再订'
        page.fill('#bulk input[name=reason]', reason)
        self.submit(page, page.locator('#bulk button.danger'))
        self.assertIn('1', page.locator('.flash').inner_text())
        self.assertNotIn(order, self.incoming(page))
        rejected = self.incoming(page, state='rejected')
        self.assertIn(order, rejected)
        page.locator(f'tr[data-order="{order}"] a').click()
        page.wait_for_load_state('networkidle')
        self.assertEqual(self.state(page)[0], 'rejected')
        self.assertIn(reason, page.locator('#reason').inner_text())
        self.assertIn(reason, page.locator('#timeline').inner_text())
        self.screenshot(page, 'distributor_rejected')
        store = self.account(STORE)
        self.open(store, f'/portal/channel-orders/{order}')
        self.assertEqual(self.state(store)[0], 'rejected')
        self.assertIn(reason, store.locator('#reason').inner_text())
        self.screenshot(store, 'store_rejected')

    def test_flow_scan_manual_entry(self):
        """The distributor types codes on the scan page: the products and
        quantities show"""
        page = self.account(DISTRIBUTOR)
        products = self.api(page, '/catalogue')['products'][:2]
        self.open(page, '/portal/stock/scan')
        page.fill('#scan-form textarea',
            f'{products[0]["code"]}\n{products[1]["code"]} 3')
        self.submit(page, page.locator('#scan-form button[type=submit]'))
        self.assertEqual(page.locator('#scan-error').count(), 0)
        rows = page.locator('#scanned tbody tr')
        self.assertEqual(rows.count(), 2)
        self.assertIn(products[0]['name'], rows.nth(0).inner_text())
        self.assertEqual(rows.nth(0).get_attribute('data-product'),
            str(products[0]['id']))
        self.assertIn(products[1]['name'], rows.nth(1).inner_text())
        self.assertEqual(
            float(rows.nth(1).locator('td.num').inner_text()), 3)
        self.screenshot(page, 'distributor_scan')

    def test_flow_read_message(self):
        """The distributor opens an unread message: the unread count on
        the page drops by one"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/messages')
        unread = int(page.locator('#unread-count').inner_text())
        self.assertGreater(unread, 0)
        message = page.locator('a.list-item.unread').first
        subject = message.locator('.title').inner_text()
        message.click()
        page.wait_for_load_state('networkidle')
        self.assertEqual(page.locator('#message h1').inner_text(), subject)
        badge = page.locator('#unread-count')
        self.assertEqual(int(badge.inner_text()) if badge.count() else 0,
            unread - 1)
        self.screenshot(page, 'distributor_message')
        self.open(page, '/portal/messages')
        self.assertEqual(page.locator('a.list-item.unread').count(),
            min(unread - 1, page.locator('a.list-item').count()))

    def test_flow_subdistributor_orders_upstream(self):
        """The sub-distributor orders from its upstream (a channel order),
        which the distributor sees to approve and delivers; the
        sub-distributor confirms its receipt with a shortfall, and finds the
        rejected orders of its own stores with their reason"""
        page = self.account(SUBDISTRIBUTOR)
        upstream = self.account(DISTRIBUTOR)
        self.open(upstream, '/portal/')
        name = upstream.locator('header .who').inner_text().strip()
        self.open(page, '/portal/catalogue')
        self.assertIn(name, page.locator('#seller').inner_text())
        product, quantity = self.orderable(page, quantity=2,
            stock=self.stock_of(upstream))
        self.order(page, {product['id']: quantity})
        order = self.order_id(page)
        self.assertEqual(self.state(page)[0], 'submitted')
        self.assertIn(name, page.locator('main').inner_text())
        self.screenshot(page, 'subdistributor_order')
        self.assertIn(order, self.incoming(upstream))
        self.approve_deliver(order)
        self.receive_short(page, order, 'subdistributor')
        # the demo's rejected orders of its stores, when it has some (the
        # rejection flow itself is test_flow_rejection_reason's)
        rejected = self.incoming(page, state='rejected')
        if rejected:
            first = next(iter(rejected))
            page.locator(f'tr[data-order="{first}"] a').click()
            page.wait_for_load_state('networkidle')
            self.assertEqual(self.state(page)[0], 'rejected')
            self.assertTrue(page.locator('#reason').inner_text().strip())

    def test_flow_store_statement(self):
        """The store orders from its distributor, which delivers it: the
        store finds the order in its list and the delivery in its running
        statement, its closing balance up by the order's total"""
        page = self.account(STORE)

        def balance():
            self.open(page, '/portal/statement')
            text = page.locator('#closing-balance').inner_text()
            return float(re.sub(r'[^\d.-]', '', text))
        before = balance()
        order = self.store_order()
        number = page.locator('h1').inner_text().split()[1]
        total = float(re.search(r'([\d,]+\.\d+)', page.locator(
                    'main section.card').first.inner_text()).group(1)
            .replace(',', ''))
        self.open(page, '/portal/orders')
        self.assertEqual(page.locator(f'a[data-order="{order}"]').count(), 1)
        self.approve_deliver(order)
        self.assertAlmostEqual(balance(), before + total, places=2)
        rows = page.locator('#statement tbody tr', has_text=number)
        self.assertEqual(rows.count(), 1)
        self.screenshot(page, 'store_statement')

    # policies, rebates and expense claims (distributor_policy) -----------

    def test_flow_policy_inbox(self):
        """The distributor opens a policy it has not acknowledged from its
        policy inbox and acknowledges it; the inbox then shows it
        acknowledged (the demo publishes to it policies left unread)"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/policies')
        self.assertGreater(
            page.locator('#policies a[data-policy]').count(), 0)
        pending = page.locator(
            '#policies a[data-policy]:not(:has([data-acknowledged]))')
        self.assertGreater(pending.count(), 0, 'nothing to acknowledge')
        policy = pending.first.get_attribute('data-policy')
        self.screenshot(page, 'distributor_policies')
        self.open(page, f'/portal/policies/{policy}')
        self.assertEqual(
            page.locator('#policy').get_attribute('data-policy'), policy)
        self.assertTrue(page.locator('#policy-body').inner_text().strip())
        self.assertEqual(page.locator('#acknowledged').count(), 0)
        self.submit(page, page.locator('#acknowledge button[type=submit]'))
        self.assertEqual(page.locator('#acknowledged').count(), 1)
        self.assertRegex(page.locator('#acknowledged').inner_text(),
            CHINESE)
        self.screenshot(page, 'distributor_policy_acknowledged')
        self.open(page, '/portal/policies')
        self.assertEqual(page.locator(
                f'a[data-policy="{policy}"] [data-acknowledged]').count(), 1)

    def test_flow_rebate_progress(self):
        """The distributor sees its rebate program's progress: volume,
        tier, accrued amount and the gap to the next tier, as the API
        answers them (the demo's program is mid-period)"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/rebates')
        programs = self.api(page, '/rebates')['programs']
        cards = page.locator('section[data-program]')
        self.assertGreater(cards.count(), 0, 'no rebate program')
        self.assertEqual(cards.count(), len(programs))
        card = cards.first
        progress = card.locator('progress')
        self.assertEqual(progress.count(), 1)
        value = float(progress.get_attribute('value'))
        self.assertTrue(0 <= value <= 100, value)
        accrued = card.locator('[data-field=accrued]').inner_text()
        self.assertRegex(accrued, r'\d')
        self.assertTrue(card.locator('[data-field=gap]').inner_text())
        # the page fits the phone: nothing wider than the screen
        width = page.evaluate('document.documentElement.scrollWidth')
        self.assertLessEqual(width, PHONE['width'] + 1)
        self.screenshot(page, 'distributor_rebates')

    def test_flow_claim_with_photo(self):
        """The distributor files an expense claim against a policy that
        funds activities, with a photo taken on the phone (a file input),
        and submits it: the claim shows submitted with its photo, and the
        budget left shrinks by its amount"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/claims')
        new = page.locator('a[href^="/portal/claims/new?policy="]')
        self.assertGreater(new.count(), 0, 'no policy to claim against')
        href = new.first.get_attribute('href')
        policy = href.rsplit('=', 1)[1]

        def remaining():
            self.open(page, '/portal/claims')
            return float(page.locator(f'#budgets [data-policy="{policy}"] '
                    '[data-remaining]').get_attribute('data-remaining'))
        before = remaining()
        self.open(page, href)
        form = page.locator('#new-claim')
        form.locator('textarea[name=description]').fill('门店端架陈列')
        form.locator('input[name=line-0-description]').fill('端架陈列一周')
        form.locator('input[name=line-0-amount]').fill('120')
        form.locator('input[type=file]').set_input_files(
            files=[{'name': 'display.png', 'mimeType': 'image/png',
                    'buffer': _png()}])
        self.screenshot(page, 'distributor_claim_form')
        self.submit(page, form.locator('button[value=submit]'))
        self.assertEqual(
            page.locator('#claim').get_attribute('data-state'), 'submitted')
        self.assertEqual(page.locator('#evidence img').count(), 1)
        self.assertIn('120', page.locator('#claimed-amount').inner_text())
        # the photo is served to its owner
        src = page.locator('#evidence img').first.get_attribute('src')
        response = page.request.get(self.url + src)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body()[:8], b'\x89PNG\r\n\x1a\n')
        self.screenshot(page, 'distributor_claim_submitted')
        self.assertAlmostEqual(remaining(), before - 120, places=2)

    # statements of account (distributor_account) ------------------------

    def fits_phone(self, page, where):
        "Nothing of the page is wider than the phone's screen"
        width = page.evaluate('document.documentElement.scrollWidth')
        self.assertLessEqual(width, PHONE['width'] + 1, where)

    def statement_state(self, page):
        "(state, label) of the statement page shown"
        return (page.locator('#statement').get_attribute('data-state'),
            page.locator('#statement-state').inner_text().strip())

    def statement_label(self, state):
        "The label of a statement's state in distributor_account's pages"
        import polib
        path = ROOT / 'addons' / 'distributor_account' / 'i18n' / 'zh_CN.po'
        entries = ({e.msgid: e.msgstr for e in polib.pofile(str(path))
                if e.msgstr and not e.obsolete} if path.exists() else {})
        return entries.get(state, state)

    def resolve_statement(self, statement, answer):
        """The brand's accountant answers a disputed statement, as the
        back office's resolve wizard does (Statement.resolved), in the
        served database through trytond in a process of its own"""
        import subprocess
        import sys
        script = '\n'.join([
                'import sys',
                'from trytond import config',
                'config.update_etc(sys.argv[1])',
                'from trytond.pool import Pool',
                'from trytond.transaction import Transaction',
                'database, statement = sys.argv[2], int(sys.argv[3])',
                'Pool.start()',
                'pool = Pool(database)',
                'with Transaction().start(database, 0, readonly=True):',
                '    pool.init()',
                'with Transaction().start(database, 0) as transaction:',
                '    Statement = pool.get("distributor.account.statement")',
                '    Statement.resolved([Statement(statement)], sys.argv[4])',
                '    transaction.commit()',
                ])
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        subprocess.run([sys.executable, '-c', script,
                str(self.server.tmp / 'trytond.conf'), 'dms',
                str(statement), answer],
            check=True, env=env, cwd=ROOT, timeout=300,
            stdout=subprocess.DEVNULL)

    def test_flow_statement_dispute_then_confirm(self):
        """The distributor opens its statement of the month (sent by the
        brand), disputes one line with a comment and sees it disputed;
        the accountant answers; the distributor reads the answer and
        confirms the statement"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/statements')
        self.fits_phone(page, '/portal/statements')
        sent = page.locator('#statements a[data-statement][data-state=sent]')
        self.assertGreater(sent.count(), 0, 'no statement to confirm')
        statement = sent.first.get_attribute('data-statement')
        self.screenshot(page, 'distributor_statements')
        self.open(page, f'/portal/statements/{statement}')
        self.fits_phone(page, f'/portal/statements/{statement}')
        self.assertEqual(self.statement_state(page)[0], 'sent')
        self.assertRegex(page.locator('#closing-balance').inner_text(),
            r'\d')
        lines = page.locator('#lines li[data-line]')
        self.assertGreater(lines.count(), 0, 'a statement without lines')
        line = lines.first
        line_id = line.get_attribute('data-line')
        line.locator('details.dispute-line summary').click()
        line.locator('textarea').fill('该笔金额与我方记录不符，请提供发货单')
        page.locator('#dispute-form textarea[name=comment]').fill(
            '请核对本月付款')
        self.fits_phone(page, 'the dispute opened on a line')
        self.screenshot(page, 'distributor_statement_dispute')
        self.submit(page, page.locator('#dispute-statement'))
        self.assertEqual(self.statement_state(page)[0], 'disputed')
        self.assertEqual(page.locator(
                f'#lines li[data-line="{line_id}"][data-disputed]').count(),
            1)
        self.assertIn('该笔金额与我方记录不符',
            page.locator('#conversation').inner_text())
        self.assertEqual(page.locator('#confirm-form').count(), 0)
        self.screenshot(page, 'distributor_statement_disputed')
        self.resolve_statement(statement, '已核对：金额与发货单一致')
        self.open(page, f'/portal/statements/{statement}')
        self.assertEqual(self.statement_state(page)[0], 'resolved')
        self.assertIn('已核对：金额与发货单一致',
            page.locator('#conversation').inner_text())
        self.submit(page, page.locator('#confirm-statement'))
        state, label = self.statement_state(page)
        self.assertEqual(state, 'confirmed')
        self.assertEqual(label, self.statement_label('Confirmed'))
        self.assertEqual(page.locator('#dispute-form').count(), 0)
        self.fits_phone(page, 'the statement confirmed')
        self.screenshot(page, 'distributor_statement_confirmed')
        # the PDF of the statement is its owner's to download
        response = page.request.get(
            f'{self.url}/portal/statements/{statement}/pdf')
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body()[:4], b'%PDF')
        # its other tabs fit the phone too
        for path, name in [('/portal/statements/stores', 'to_stores'),
                ('/portal/receivables', 'receivables')]:
            self.open(page, path)
            self.fits_phone(page, path)
            self.screenshot(page, f'distributor_statements_{name}')
        self.assertGreater(page.locator('#aging [data-bucket]').count(), 0)

    def test_flow_store_confirms_statement(self):
        """The distributor generates and sends the statements of its
        stores for the month (the deliveries and payments other tests
        made since the demo are in them: a statement whose figures moved
        must be generated again before it is confirmed); the store opens
        the statement and confirms it"""
        issuer = self.account(DISTRIBUTOR)
        self.open(issuer, '/portal/statements/stores')
        self.fits_phone(issuer, '/portal/statements/stores')
        self.submit(issuer, issuer.locator(
                '#generate-form button[type=submit]'))
        page = self.account(STORE)
        self.open(page, '/portal/statements')
        self.fits_phone(page, '/portal/statements')
        sent = page.locator('#statements a[data-statement][data-state=sent]')
        self.assertGreater(sent.count(), 0, 'no statement to confirm')
        statement = sent.first.get_attribute('data-statement')
        self.screenshot(page, 'store_statements')
        self.open(page, f'/portal/statements/{statement}')
        self.fits_phone(page, f'/portal/statements/{statement}')
        self.assertEqual(page.locator('#statement').get_attribute(
                'data-role'), 'party')
        self.submit(page, page.locator('#confirm-statement'))
        state, label = self.statement_state(page)
        self.assertEqual(state, 'confirmed')
        self.assertEqual(label, self.statement_label('Confirmed'))
        self.screenshot(page, 'store_statement_confirmed')
        self.open(page, '/portal/statements')
        self.assertEqual(page.locator(
                f'#statements a[data-statement="{statement}"]'
                ).get_attribute('data-state'), 'confirmed')

    # performance and sales analysis (distributor_assessment,
    # distributor_report) ------------------------------------------------

    def test_flow_performance_and_analysis(self):
        """The distributor, on a phone in Chinese, opens its performance
        page: the latest approved assessment (grade, score, rank in its
        tier, the KPIs, what the next grade takes) and its targets with
        their attainment bars, as the API answers them; then its sales
        analysis: the SVG charts of sell-in and sell-out by month with
        their amounts written, the totals, a period of 6 months; nothing
        wider than the screen.  The store sees its purchases by month"""
        page = self.account(DISTRIBUTOR)
        self.open(page, '/portal/assessment')
        self.assertEqual(page.locator('html').get_attribute('lang'),
            'zh-CN')
        self.assertRegex(page.locator('nav.main').inner_text(), CHINESE)
        self.fits_phone(page, '/portal/assessment')
        values = self.api(page, '/assessment')['assessment']
        self.assertIsNotNone(values, 'the demo has no approved assessment '
            'of the distributor (distributor_assessment/demo_run.py)')
        card = page.locator('#assessment')
        self.assertEqual(card.get_attribute('data-grade'), values['grade'])
        self.assertEqual(float(card.get_attribute('data-score')),
            float(values['score']))
        self.assertEqual(page.locator('#assessment-grade').inner_text(),
            values['grade'])
        self.assertEqual(
            page.locator('#assessment-rank-tier').inner_text().strip(),
            f"{values['rank_tier']} / {values['tier_count']}")
        self.assertEqual(page.locator('#kpis [data-kpi]').count(),
            len(values['kpis']))
        if values['next_grade']:
            self.assertEqual(page.locator('#next-grade').get_attribute(
                    'data-next'), values['next_grade'])
            self.assertRegex(page.locator('#points-missing').inner_text(),
                r'\d')
        else:
            self.assertEqual(page.locator('#top-grade').count(), 1)
        targets = self.api(page, '/targets')['items']
        self.assertGreater(len(targets), 0, 'the demo has no confirmed '
            'target of the distributor (distributor_assessment/'
            'demo_target.py)')
        self.assertEqual(page.locator('#targets [data-target]').count(),
            len(targets))
        target = targets[0]['id']
        first = page.locator(f'#targets [data-target="{target}"]')
        self.assertEqual(first.locator('.bar').count(), 1)
        self.screenshot(page, 'distributor_performance')

        self.open(page, '/portal/analysis')
        self.fits_phone(page, '/portal/analysis')
        analysis = self.api(page, '/analysis/sales')
        for chart in ['sell-in', 'sell-out']:
            bars = page.locator(f'#chart-{chart} svg.chart g[data-month]')
            self.assertEqual(bars.count(), 12, chart)
            # the amounts are written beside the bars, readable
            box = page.locator(f'#chart-{chart} svg.chart').bounding_box()
            self.assertLessEqual(box['x'] + box['width'],
                PHONE['width'] + 1, chart)
            font = page.locator(f'#chart-{chart} svg.chart text.amount'
                ).first.evaluate(
                'e => e.getBoundingClientRect().height')
            self.assertGreaterEqual(font, 9, chart)
        self.assertGreater(float(analysis['totals']['sell_in']), 0,
            'the demo distributor bought nothing in 12 months')
        for row in analysis['by_month']:
            month = row['month']
            bar = page.locator(f'#chart-sell-in g[data-month="{month}"]')
            self.assertEqual(float(bar.get_attribute('data-value')),
                float(row['sell_in']))
        self.assertRegex(page.locator('#total-sell-in').inner_text(), r'\d')
        self.screenshot(page, 'distributor_analysis')
        with page.expect_navigation():
            page.locator('#analysis-periods a[data-months="6"]').click()
        self.assertEqual(page.locator(
                '#chart-sell-out svg.chart g[data-month]').count(), 6)
        self.fits_phone(page, '/portal/analysis?months=6')

        store = self.account(STORE)
        self.open(store, '/portal/analysis')
        self.fits_phone(store, '/portal/analysis (store)')
        purchases = self.api(store, '/analysis/purchases')
        self.assertEqual(store.locator(
                '#chart-purchases svg.chart g[data-month]').count(),
            len(purchases['by_month']))
        self.screenshot(store, 'store_purchases')


def _png(width=64, height=48):
    "A small PNG photo (a red square), as a phone's camera would send one"
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return (struct.pack('>I', len(data)) + body
            + struct.pack('>I', zlib.crc32(body) & 0xffffffff))
    row = b'\x00' + b'\xcc\x22\x22' * width
    return (b'\x89PNG\r\n\x1a\n'
        + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0,
                0, 0))
        + chunk(b'IDAT', zlib.compress(row * height))
        + chunk(b'IEND', b''))
