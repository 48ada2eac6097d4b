# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The back office as a person sees it: the demo network in the web client
(sao), driven by headless Chromium through Playwright.

Builds a small demo database with scripts/setup_db.py in a temporary
folder (or serves a copy of the one DMS_BACKOFFICE_DEMO names: a demo
database built before), starts trytond on a free port serving
var/sao/web, logs in and opens Distributors.  Skipped outside CI when
Chromium or the web client is missing; under CI (CI=true) their absence
is a failure."""
import os
import re
import time
import unittest
from pathlib import Path

from lxml import etree

from .demo_db import DemoServer

ROOT = Path(__file__).resolve().parent.parent
# the browser drives the server of ./dms run (SQLite): what it proves is
# the client side (views, menus, rules as a user meets them); the server
# side of every flow runs on PostgreSQL in the module tests
BACKENDS = {'sqlite'}
CHROMIUM = '/usr/bin/chromium'
WEB = ROOT / 'var' / 'sao' / 'web'
SCREENSHOTS = ROOT / 'var' / 'screenshots'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking']
# the message boxes sao opens on a server error (Sao.common.error: an
# exception), on a refusal (Sao.common.warning: UserError, AccessError, the
# server unreachable) and on a warning to confirm (Sao.common.userwarning)
ERROR_DIALOGS = ('.modal.error-dialog, .modal.warning-dialog, '
    '.modal.user-warning-dialog')
# reports each of them to dmsErrorDialog(text) as it enters the page
WATCH_DIALOGS = """
new MutationObserver(records => {
    for (const record of records) {
        for (const node of record.addedNodes) {
            // bootstrap adds the whole dialog to the body when shown
            if (node.nodeType !== Node.ELEMENT_NODE
                    || !node.matches(%(selector)s)) {
                continue;
            }
            const texts = [];
            const walker = document.createTreeWalker(
                node, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const text = walker.currentNode.nodeValue.trim();
                if (text) {
                    texts.push(text);
                }
            }
            window.dmsErrorDialog(
                node.className.split(' ')[0] + ': ' + texts.join(' | '));
        }
    }
}).observe(document, {childList: true, subtree: true});
""" % {'selector': repr(ERROR_DIALOGS)}
# keeps the wizards sao runs in window.dmsWizards until they end, so that
# a test can wait until a wizard is ready (sao ignores a button pressed
# while the wizard is still processing its previous step: the dialog then
# stays open for good)
TRACK_WIZARDS = """
document.addEventListener('DOMContentLoaded', () => {
    if (!window.Sao || !Sao.Wizard) {
        return;
    }
    window.dmsWizards = new Set();
    const run = Sao.Wizard.prototype.run;
    Sao.Wizard.prototype.run = function(attributes) {
        window.dmsWizards.add(this);
        return run.call(this, attributes).always(
            () => window.dmsWizards.delete(this));
    };
});
"""
# true once sao has been idle for three polls in a row: no call to the
# server in flight (sao calls it through jQuery.ajax) and no wizard
# processing a step.  (wait_for_load_state('networkidle') cannot tell:
# Playwright fires it once per document, and sao is one document.)
SAO_IDLE = """() => {
    const busy = !window.jQuery || jQuery.active > 0
        || [...(window.dmsWizards || [])].some(w => w.__processing);
    window.dmsQuiet = busy ? 0 : (window.dmsQuiet || 0) + 1;
    return window.dmsQuiet >= 3;
}"""
# a label still in English: a word of Latin letters and no Chinese
ENGLISH = re.compile(r'^[^\u3400-\u9fff]*[A-Za-z]{2,}[^\u3400-\u9fff]*$')
# what a user reads in the lists and forms of the open tab: column
# headers, field labels, notebook tabs and buttons
LABELS = ('.treeview th label, .form label.form-label, '
    '.form .nav-tabs a, .form button')


class BackOfficeBrowserTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = [str(p) for p in [Path(CHROMIUM), WEB / 'index.html']
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
        cls.server = DemoServer(os.environ.get('DMS_BACKOFFICE_DEMO'),
            prefix='dms-browser-')
        cls.server.start({'web': {'root': WEB}}, ready='/')
        cls.url = cls.server.url + '/'

        from playwright.sync_api import sync_playwright
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS)

    @classmethod
    def tearDownClass(cls):
        for name, stop in [('browser', 'close'), ('playwright', 'stop')]:
            if hasattr(cls, name):
                getattr(getattr(cls, name), stop)()
        if hasattr(cls, 'server'):
            cls.server.stop()

    def open_distributors(self, login, password='dms-demo'):
        """Log in and open 经销商 ▸ 经销商 (Distributors) on the 全部 (All)
        tab: the demo staff work in Chinese"""
        page = self.login(login, password)
        menu = page.locator('#menu')
        menu.get_by_text('经销商', exact=True).first.click()
        menu.get_by_text('经销商', exact=True).nth(1).click()
        page.get_by_text('经销商编码', exact=True).first.wait_for()
        page.locator('.nav-tabs a', has_text='全部').first.click()
        # the list reloads for the tab: wait until the client is idle
        self.idle(page)
        page.get_by_text('D00001', exact=True).first.wait_for()
        return page

    def login(self, login, password='dms-demo', width=1280, height=800):
        "A page of sao logged in as login, its menu shown"
        page = self.browser.new_page(
            viewport={'width': width, 'height': height})
        # closed whatever happens: a test that fails half-way leaves no
        # page behind (with an open dialog, pending calls) for the next
        self.addCleanup(page.close)
        page.set_default_timeout(60000)
        # any JavaScript error of the web client fails the test, and so
        # does a console error (an unknown icon, a failed call) and an
        # error or warning box of sao (a server error, a refusal), at
        # whatever step it shows (tearDown)
        page.on('pageerror', lambda error: self.page_errors.append(error))
        page.on('console', lambda message: message.type == 'error'
            and 'Failed to load resource' not in message.text
            and self.page_errors.append(message.text))
        page.expose_function(
            'dmsErrorDialog', lambda text: self.page_errors.append(text))
        page.add_init_script(WATCH_DIALOGS)
        page.add_init_script(TRACK_WIZARDS)
        page.goto(self.url)
        page.fill('input#login', login)
        page.click('button:has-text("Login")')
        page.fill('input[type=password]:visible', password)
        page.keyboard.press('Enter')
        page.locator('#menu tr:visible').first.wait_for()
        self.idle(page)
        return page

    def setUp(self):
        # the errors of every page the test opens
        self.page_errors = []

    def idle(self, page):
        """Wait until sao is idle: its calls to the server answered and
        what they started done (SAO_IDLE)"""
        page.evaluate('() => { window.dmsQuiet = 0; }')
        page.wait_for_function(SAO_IDLE, polling=100)

    def tearDown(self):
        self.assertEqual([str(e) for e in self.page_errors], [])

    def english_labels(self, page):
        "The labels of the open tab that a user reads in English"
        texts = page.locator('#tabcontent').locator(LABELS).filter(
            visible=True).all_inner_texts()
        return sorted({t.strip() for t in texts if ENGLISH.match(t.strip())})

    def assert_form_in_chinese(self, page):
        """The labels of the form of the open tab, page after page of its
        notebook, are in Chinese"""
        form = page.locator('#tabcontent .form:visible').first
        form.wait_for()
        self.idle(page)
        self.assertEqual(self.english_labels(page), [])
        tabs = form.locator('.form-notebook').first.locator(
            ':scope > .nav-tabs > li > a')
        for i in range(tabs.count()):
            if not tabs.nth(i).is_visible():
                continue
            tabs.nth(i).click()
            self.idle(page)
            with self.subTest(page=tabs.nth(i).inner_text()):
                self.assertEqual(self.english_labels(page), [])

    def count(self, page):
        "The number of records the list shows in its pager ('_/24')"
        label = page.get_by_text(re.compile(r'^_?/\s*\d+$')).filter(
            visible=True).first
        label.wait_for()
        return int(label.inner_text().split('/')[-1])

    def codes(self, page):
        "The distributor codes of the rows rendered"
        cells = page.locator('.treeview tbody td').all_inner_texts()
        return {c.strip() for c in cells if c.strip().startswith('D000')}

    def test_manager_sees_the_network(self):
        "A channel manager sees every distributor of the demo network"
        page = self.open_distributors('manager')
        self.assertEqual(self.count(page), 24)
        self.assertIn('D00002', self.codes(page))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / 'distributors_manager.png'))
        page.close()

    def test_rep_sees_own_region(self):
        "rep1 (East China) sees its region's agent, not the others'"
        page = self.open_distributors('rep1')
        count = self.count(page)
        self.assertLess(count, 24)
        codes = self.codes(page)
        self.assertEqual(len(codes), count)
        # D00001..D00004 are the national agents of the four regions
        self.assertIn('D00001', codes)
        self.assertNotIn('D00002', codes)
        page.screenshot(path=str(SCREENSHOTS / 'distributors_rep1.png'))
        page.close()

    def test_distributor_form(self):
        "The distributor form shows its page, history and buttons"
        page = self.open_distributors('manager')
        page.get_by_text('D00001', exact=True).first.dblclick()
        # labels of the Distributor page, in Chinese
        page.get_by_text('合作开始日期').first.wait_for()
        page.get_by_text('状态变更记录').first.wait_for()
        # expect() waits for the form's button states to settle
        from playwright.sync_api import expect
        # (a loaded machine renders the form's states in more than the
        # default 5 s)
        expect(page.get_by_role('button', name='冻结').first).to_be_visible(
            timeout=30000)
        expect(page.get_by_role('button', name='解冻').first).to_be_hidden(
            timeout=30000)
        page.screenshot(path=str(SCREENSHOTS / 'distributor_form.png'))
        # Tryton's party labels too (sale's, credit limit's…)
        self.assert_form_in_chinese(page)
        # the history list of every distributor
        menu = page.locator('#menu')
        menu.get_by_text('经销商状态变更记录', exact=True).first.click()
        page.locator('td:visible', has_text='已冻结').first.wait_for()
        self.idle(page)
        page.screenshot(path=str(SCREENSHOTS / 'state_history.png'))
        page.close()

    def test_every_menu_opens(self):
        "Each entry of the Distributors menu opens without a client error"
        page = self.open_distributors('manager')
        menu = page.locator('#menu')
        for entry, expected in [
                ('经销商层级结构', 'D00001'),
                ('区域', '华东大区'),
                ('资质', '营业执照'),
                ]:
            with self.subTest(entry=entry):
                menu.get_by_text(entry, exact=True).first.click()
                page.locator('td:visible', has_text=expected).first.wait_for()
                self.idle(page)
        menu.get_by_text('配置', exact=True).first.click()
        menu.get_by_text('渠道层级', exact=True).first.click()
        page.locator('td:visible', has_text='总代理').first.wait_for()
        # the settings are the DMS administrator's
        self.assertEqual(
            menu.get_by_text('经销商配置', exact=True).count(), 0)
        # the import wizard offers its template
        menu.get_by_text('导入经销商', exact=True).first.click()
        dialog = page.locator('.modal-dialog:visible')
        dialog.get_by_text('模板').first.wait_for()
        dialog.get_by_role('button', name='导入').first.wait_for()
        self.idle(page)
        page.screenshot(path=str(SCREENSHOTS / 'import_wizard.png'))
        page.close()

    def open_menu(self, page, *entries):
        "Click the menu entries; the last one opens a tab: wait for it"
        menu = page.locator('#menu')
        for entry in entries:
            menu.get_by_text(entry, exact=True).first.click()
        # the tab's title ends with the entry ('经销商 / 订单 / 待审批订单')
        page.get_by_text(re.compile(f'/ {entries[-1]}$')).filter(
            visible=True).first.wait_for()
        self.idle(page)

    def test_orders_to_approve(self):
        "A channel manager approves a submitted order from its form"
        page = self.open_distributors('manager')
        # the pager shows '_/0' until the list's search answers: read the
        # count once that answer is shown
        with page.expect_response(lambda r: '"model.sale.sale.search"'
                in (r.request.post_data or '')) as answer:
            self.open_menu(page, '订单', '待审批订单')
        waiting = len(answer.value.json()['result'])
        self.assertGreater(waiting, 0)
        page.get_by_text(re.compile(r'^_?/\s*%d$' % waiting)).filter(
            visible=True).first.wait_for()
        page.screenshot(path=str(SCREENSHOTS / 'orders_to_approve.png'))
        page.locator('td:visible', has_text='常规').first.dblclick()
        # the channel page shows every rule's outcome
        tabs = page.locator('.nav-tabs a:visible')
        tabs.filter(has_text=re.compile('^渠道$')).first.click()
        # the checks are a lazy field, read once the tab shows: wait for
        # them (a form without them times out)
        page.wait_for_function(
            "() => [...document.querySelectorAll('textarea')].some("
            "a => a.offsetParent && a.value.includes('\u2714'))")
        checks = page.locator('textarea:visible').evaluate_all(
            'areas => areas.map(a => a.value).join()')
        self.assertIn('✔ 经销商可交易', checks)
        self.assertNotIn('✘', checks)
        page.screenshot(path=str(SCREENSHOTS / 'order_rule_checks.png'))
        buttons = [t.strip() for t in
            page.get_by_role('button').all_inner_texts()]
        # Tryton's own quotation and confirmation are not offered
        for hidden in ['报价', '确认']:
            self.assertNotIn(hidden, buttons)
        page.get_by_role('button', name='审批', exact=True).first.click()
        page.locator('.modal-dialog:visible').get_by_role(
            'button', name='确定').first.click()
        self.idle(page)
        tabs.filter(has_text='渠道流转记录').first.click()
        page.locator('td:visible', has_text='已审批').first.wait_for()
        page.screenshot(path=str(SCREENSHOTS / 'order_approved.png'))
        self.open_menu(page, '待审批订单')
        # the pager may show a stale count until the list's search
        # answers: wait for the expected one (a wrong count times out)
        page.get_by_text(re.compile(r'^_?/\s*%d$' % (waiting - 1))).filter(
            visible=True).first.wait_for()
        page.close()

    def test_every_order_menu_opens(self):
        "Each entry of the Orders menu opens without a client error"
        page = self.open_distributors('manager')
        page.locator('#menu').get_by_text('订单', exact=True).first.click()
        for entry, expected in [
                ('经销商订单', '常规'),
                ('收货差异', '待处理'),
                ('订单流转记录', '已审批'),
                ]:
            with self.subTest(entry=entry):
                self.open_menu(page, entry)
                page.locator('td:visible', has_text=expected).first.wait_for()
                self.idle(page)
        # the inbox of every module, under Distributors: the newest first
        # (stock alerts, transfers and channel orders follow the orders in
        # the demo; channel orders' messages name their CO number)
        self.open_menu(page, '经销商消息')
        page.locator('td:visible', has_text=re.compile(
                r'您的订单|库存预警|库存调拨单|CO\d|资质')).first.wait_for()
        self.idle(page)
        self.open_menu(page, '配置', '最低限价')
        page.locator('td:visible', has_text='总代理').first.wait_for()
        self.idle(page)
        page.close()

    def test_every_stock_menu_opens(self):
        "Each entry of the Channel Stock menu opens with its rows"
        page = self.open_distributors('manager')
        page.locator('#menu').get_by_text('渠道库存', exact=True).first.click()
        for entry, rows in [
                ('渠道库存明细', True),
                ('渠道库存变动明细', True),
                ('可售天数与周转', True),
                ('按区域渠道库存', True),
                ('按层级渠道库存', True),
                ('按品类渠道库存', True),
                ('库存预警', True),
                ('库存调拨', False),
                ('库存盘点', True),
                ('盘点差异', True),
                ('库存上下限', True),
                ]:
            with self.subTest(entry=entry):
                self.open_menu(page, entry)
                if rows:
                    page.locator('.treeview tbody tr:visible').first.wait_for()
                self.idle(page)
                if entry in {'渠道库存明细', '库存预警'}:
                    page.screenshot(
                        path=str(SCREENSHOTS / f'stock_{entry}.png'))
        page.close()

    def stock_rows(self, login):
        page = self.open_distributors(login)
        with page.expect_response(lambda r: (
                    '"model.distributor.stock.level.search"'
                    in (r.request.post_data or ''))) as answer:
            self.open_menu(page, '渠道库存', '渠道库存明细')
        count = len(answer.value.json()['result'])
        page.close()
        return count

    def test_rep_sees_own_stock(self):
        "A sales rep sees the stock of fewer distributors than a manager"
        rep, manager = self.stock_rows('rep1'), self.stock_rows('manager')
        self.assertGreater(rep, 0)
        self.assertLess(rep, manager)

    def all_orders(self, login):
        page = self.open_distributors(login)
        self.open_menu(page, '订单', '经销商订单')
        # wait for the tab's own search: the pager still shows the previous
        # tab's count until its answer arrives
        with page.expect_response(lambda r: '"model.sale.sale.search"'
                in (r.request.post_data or '')) as answer:
            page.locator('.nav-tabs a:visible', has_text='全部').first.click()
        ids = answer.value.json()['result']
        label = page.get_by_text(re.compile(r'^_?/\s*%d$' % len(ids)))
        label.filter(visible=True).first.wait_for()
        count = self.count(page)
        page.close()
        return count

    def test_order_labels_in_chinese(self):
        """The distributor order list and form show Tryton's sale labels in
        Chinese (Number, Party, states, buttons: issue 12)"""
        page = self.open_distributors('manager')
        self.open_menu(page, '订单', '经销商订单')
        page.locator('#tabcontent .treeview tbody tr:visible').first.wait_for()
        headers = [t.strip() for t in page.locator(
                '#tabcontent .treeview th label').filter(
                visible=True).all_inner_texts()]
        self.assertIn('编号', headers)
        self.assertIn('客户', headers)
        self.assertEqual(self.english_labels(page), [])
        page.screenshot(path=str(SCREENSHOTS / 'orders.png'))
        regular = page.locator('#tabcontent td:visible', has_text='常规')
        regular.first.dblclick()
        self.assert_form_in_chinese(page)
        page.screenshot(path=str(SCREENSHOTS / 'order_form.png'))
        page.close()

    def test_rep_sees_own_orders(self):
        "A sales rep sees fewer orders than a channel manager"
        self.assertLess(self.all_orders('rep1'), self.all_orders('manager'))

    # Stores (distributor_store) ------------------------------------------

    def store_menu(self, page):
        """The Stores menu as the server gives it to the user, in the
        user's language: {name, action, children}, read through the web
        client's session (the menu holding the channel orders)"""
        return page.evaluate('''async () => {
            const session = Sao.Session.current_session;
            const call = (method, ...params) => new Promise(
                (resolve, reject) => Sao.rpc({method: method,
                        params: params.concat([{}])}, session)
                    .then(resolve, reject));
            const actions = (await call(
                    'model.ir.action.act_window.search',
                    [['res_model', '=', 'distributor.channel.order']]))
                .map(a => 'ir.action.act_window,' + a);
            const menus = await call('model.ir.ui.menu.search_read', [],
                0, null, null, ['name', 'parent', 'action', 'childs']);
            const byId = new Map(menus.map(m => [m.id, m]));
            const tree = (id) => {
                const menu = byId.get(id);
                return {name: menu.name, action: menu.action,
                    children: menu.childs.filter(c => byId.has(c))
                        .map(tree)};
            };
            return tree(menus.find(m => actions.includes(m.action)).parent);
        }''')

    def menu_entry(self, page, name, depth):
        "The menu row of name at depth (the top entries are at 0)"
        return page.locator('#menu tr').filter(has=page.locator(
                f'span.expander img[style*="margin-left: {depth}em"]')
            ).filter(has=page.get_by_title(name, exact=True)).locator(
            'div.column-char').first

    def test_every_store_menu_opens(self):
        """Each entry of the Stores menu opens with the demo's rows (and
        the form of the first), each wizard with its first step"""
        from playwright.sync_api import expect
        page = self.open_distributors('manager')
        tree = self.store_menu(page)
        tabs = page.locator('#tabcontent')
        top = page.locator('#menu').get_by_title('经销商', exact=True).first
        opened = []

        def show(path, name, depth):
            """Unfold the menu down to name and click it: a wizard run
            from the menu reloads the menu when it ends, which may fold
            it"""
            self.idle(page)
            entries = [self.menu_entry(page, parent, level)
                for parent, level in path]
            for parent, child in zip([top] + entries,
                    entries + [self.menu_entry(page, name, depth)]):
                if not child.is_visible():
                    parent.click()
                    child.wait_for()
            self.menu_entry(page, name, depth).click()

        def walk(node, depth, path):
            path = path + [(node['name'], depth - 1)]
            for child in node['children']:
                name = child['name']
                with self.subTest(entry=name):
                    show(path, name, depth)
                    if child['children']:
                        walk(child, depth + 1, path)
                        continue
                    opened.append(name)
                    if child['action'].startswith('ir.action.wizard'):
                        dialog = page.locator('.wizard-dialog')
                        buttons = dialog.locator('.modal-footer button')
                        buttons.first.wait_for()
                        dialog.locator('.form').first.wait_for()
                        # ready for a button (one pressed while the
                        # wizard still processes its step is ignored)
                        self.idle(page)
                        self.assertGreaterEqual(buttons.count(), 2)
                        page.screenshot(path=str(
                                SCREENSHOTS / f'store_wizard_{name}.png'))
                        # Cancel: the wizard ends, sao removes the dialog
                        # and reloads the menu
                        buttons.first.click()
                        expect(dialog).to_have_count(0, timeout=60000)
                        self.idle(page)
                        continue
                    page.get_by_text(re.compile(f'/ {re.escape(name)}$')
                        ).filter(visible=True).first.wait_for()
                    rows = tabs.locator('.treeview tbody tr:visible')
                    rows.first.wait_for()
                    self.idle(page)
                    page.screenshot(
                        path=str(SCREENSHOTS / f'store_{name}.png'))
                    # the form of the first row, where there is one
                    switch = tabs.locator('button[id="switch_"]:visible')
                    if switch.first.is_enabled():
                        rows.first.locator('td.selection-state input'
                            ).click()
                        switch.first.click()
                        tabs.locator('.form:visible').first.wait_for()
                        self.idle(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.menu_entry(page, tree['name'], 1).click()
        walk(tree, 2, [])
        # stores, customers, the move log, orders, checks, incidents,
        # prices and promotions (4), limits, replenishment, coverage (3),
        # payments, statements
        self.assertGreaterEqual(len(opened), 17)

    def store_count(self, login):
        "The stores the user finds in Stores ▸ Stores (all of them)"
        page = self.open_distributors(login)
        tree = self.store_menu(page)
        self.menu_entry(page, tree['name'], 1).click()
        entry = tree['children'][0]['name']
        with page.expect_response(lambda r: (
                    '"model.party.party.search"'
                    in (r.request.post_data or ''))) as answer:
            self.menu_entry(page, entry, 2).click()
        page.get_by_text(re.compile(f'/ {re.escape(entry)}$')).filter(
            visible=True).first.wait_for()
        self.idle(page)
        count = len(answer.value.json()['result'])
        page.close()
        return count

    def test_rep_sees_own_stores(self):
        "A sales rep sees the stores of its region only"
        rep, manager = self.store_count('rep1'), self.store_count('manager')
        self.assertGreater(rep, 0)
        self.assertLess(rep, manager)

    # Dashboards and analyses (distributor_report) -----------------------

    def rpc(self, page, method, *params):
        "Call the server through the web client's session, as the user"
        return page.evaluate('''async ([method, params]) => {
            const session = Sao.Session.current_session;
            return await new Promise((resolve, reject) => Sao.rpc(
                    {method: method, params: params.concat([{}])}, session)
                .then(resolve, reject));
        }''', [method, list(params)])

    def board_rows(self, page, name):
        """(the records of the board's action name the user reads, at
        most the list's limit; how many rows sao renders at first)"""
        return page.evaluate('''async (name) => {
            const session = Sao.Session.current_session;
            const call = (method, ...params) => new Promise(
                (resolve, reject) => Sao.rpc({method: method,
                        params: params.concat([{}])}, session)
                    .then(resolve, reject));
            const action = await call(
                'model.ir.action.act_window.get', name);
            const decoder = new Sao.PYSON.Decoder(
                jQuery.extend({}, session.context));
            const domain = decoder.decode(action.pyson_domain || '[]');
            const count = await call(
                'model.' + action.res_model + '.search_count', domain);
            return [Math.min(count, action.limit || Sao.config.limit),
                Sao.config.display_size];
        }''', name)

    def open_menu_of(self, page, xml_id):
        """Open the menu entry of distributor_report's xml_id by the path
        of names the server gives the user (in the user's language): wait
        for its tab"""
        menu_id = self.rpc(page, 'model.ir.model.data.get_id',
            'distributor_report', xml_id)
        entry, = self.rpc(page, 'model.ir.ui.menu.read', [menu_id],
            ['complete_name'])
        names = entry['complete_name'].split(' / ')
        menu = page.locator('#menu')
        for name in names:
            menu.get_by_text(name, exact=True).first.click()
        page.get_by_text(re.compile(f'/ {re.escape(names[-1])}$')).filter(
            visible=True).first.wait_for()
        self.idle(page)
        return names[-1]

    def test_dashboards_per_role(self):
        """Each role's dashboard opens from the menu as that role (the
        demo's manager, rep1 and accountant): every action it embeds
        rendered with its title (a list or a chart; rows in the network's
        sell-in chart, the targets of the period and the proposals), no
        error; a screenshot per role.  Then the sell-in by territory as a
        chart, as the manager"""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        views = ROOT / 'addons' / 'distributor_report' / 'view'
        timings = {}
        for login, board, rows in [
                ('manager', 'manager', ['act_board_sell_in',
                        'act_board_targets', 'act_board_proposals']),
                ('rep1', 'rep', ['act_board_sell_in', 'act_board_targets']),
                ('accountant', 'accountant', ['act_board_aging_tier']),
                ]:
            with self.subTest(login=login):
                start = time.perf_counter()
                page = self.login(login, width=1440, height=1800)
                self.open_menu_of(page, f'menu_board_{board}')
                actions = [a.get('name') for a in etree.parse(
                        str(views / f'board_{board}.xml')).iter('action')]
                titles = {name: self.rpc(page,
                        'model.ir.action.act_window.get', name)['name']
                    for name in actions}
                panels = page.locator('#tabcontent .board-action')
                # every action of the board, each with its title
                for title in titles.values():
                    panels.locator('.panel-heading', has_text=title
                        ).first.wait_for()
                self.idle(page)
                self.assertEqual(panels.count(), len(actions))
                for i in range(panels.count()):
                    panel = panels.nth(i)
                    title = panel.locator('.panel-heading').inner_text()
                    with self.subTest(login=login, action=title):
                        # a list (its header) or a chart
                        panel.locator('.treeview table, .graph svg'
                            ).first.wait_for()
                for name in rows:
                    title = titles[f'distributor_report.{name}']
                    panel = panels.filter(has=page.locator(
                            '.panel-heading', has_text=title)).first
                    with self.subTest(login=login, rows=title):
                        panel.locator('.graph svg path.bb-bar, '
                            '.treeview tbody tr td').first.wait_for()
                # the targets show their attainment
                name = 'distributor_report.act_board_targets'
                if name in titles:
                    label = self.rpc(page,
                        'model.distributor.target.fields_get',
                        ['attainment'])['attainment']['string']
                    panels.filter(has=page.locator('.panel-heading',
                            has_text=titles[name])).locator(
                        '.treeview th', has_text=label).first.wait_for()
                self.idle(page)
                # each list shows the records of its action's domain as
                # the user (sao applies the context domain of a board's
                # action, not its domain: board.xml gives both)
                for name, title in titles.items():
                    panel = panels.filter(has=page.locator(
                            '.panel-heading', has_text=title)).first
                    if not panel.locator('.treeview').count():
                        continue
                    with self.subTest(login=login, count=title):
                        shown = panel.locator('.treeview tbody > tr').count()
                        count, first = self.board_rows(page, name)
                        # sao renders more rows as the list scrolls
                        self.assertLessEqual(shown, count)
                        self.assertGreaterEqual(shown, min(count, first))
                page.screenshot(
                    path=str(SCREENSHOTS / f'board_{login}.png'),
                    full_page=True)
                timings[login] = time.perf_counter() - start
                page.close()
        # the sell-in by territory, as a chart
        start = time.perf_counter()
        page = self.login('manager')
        self.open_menu_of(page, 'menu_sell_in_territory')
        tab = page.locator('#tabcontent')
        tab.locator('.treeview tbody tr').first.wait_for()
        tab.locator('button[id="switch_"]:visible').first.click()
        tab.locator('.graph svg path.bb-bar').first.wait_for()
        self.idle(page)
        self.assertGreater(
            tab.locator('.graph svg path.bb-bar').count(), 1)
        page.screenshot(
            path=str(SCREENSHOTS / 'sell_in_territory_graph.png'))
        timings['sell-in graph'] = time.perf_counter() - start
        page.close()
        print('\ndashboards: ' + ', '.join(
                f'{k} {v:.1f} s' for k, v in timings.items()))
