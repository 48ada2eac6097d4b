# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Targets: actuals and attainment against confirmed sales (all products,
a category with its children, quantity targets), every bad input refused
with nothing written, the Excel import (a good file, bad files), the
spread of a territory target by last year's share (exact parts, the
remainder, equal parts without history), roles both ways and the
portal's entry point"""
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

from openpyxl import Workbook, load_workbook

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import EntryPointRefused, RecordNotFound
from distributor.tests.tools import acting, count_queries
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.tests.tools import order

from .. import target as target_module
from ..exceptions import TargetError, TargetValidationError
from ..target import split

REFUSED = (AccessError, AccessButtonError, EntryPointRefused)
D = Decimal


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _sell(party, lines, date):
    """A confirmed brand sale to party (ordered, submitted and approved),
    dated date; lines [(product, quantity, unit price)]"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    Product = pool.get('product.product')
    Party = pool.get('party.party')
    sale = order(Party(party), [(Product(p), q) for p, q, _ in lines],
        submit=True)
    Sale.dms_approve([sale])
    sale = Sale(sale.id)
    assert sale.state in {'confirmed', 'processing'}, sale.state
    cursor = Transaction().connection.cursor()
    sale_t, line_t = Sale.__table__(), SaleLine.__table__()
    cursor.execute(*sale_t.update([sale_t.sale_date], [date],
            where=sale_t.id == sale.id))
    for line, (_, _, price) in zip(
            [l for l in sale.lines if l.type == 'line' and l.product],
            lines):
        cursor.execute(*line_t.update([line_t.unit_price], [D(price)],
                where=line_t.id == line.id))
    return sale


def _xlsx(rows, header=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or ['distributor', 'start_date', 'end_date',
            'category', 'amount', 'quantity'])
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


class TargetTestCase(PortalTestCase):
    "Sales targets, their actuals, import, spread and the portal"
    modules = ['distributor_assessment']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Category = pool.get('product.category')
        Territory = pool.get('distributor.territory')
        p = world.products
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            # two years back: no sale of the world falls in these periods
            year = today.year - 2
            start, end = dt.date(year, 3, 1), dt.date(year, 3, 31)
            Party.write(Party.browse([world.d1, world.d2, world.d3]), {
                    'credit_limit_amount': D(1000000)})
            drinks, = Category.search([('name', '=', 'Drinks')])
            juice, = Category.search([('name', '=', 'Juice')])
            snacks, = Category.search([('name', '=', 'Snacks')])
            Category.write([drinks], {'code': 'DRK'})
            Category.write([juice], {'code': 'JUC'})
            js, = Territory.search([('code', '=', 'EC-JS')])
            # the period: d1 bought 10 × P1 at 11 and 6 × P2 (juice, below
            # drinks) at 15: 200 for 16 units
            _sell(world.d1, [(p.p1, 10, 11)], dt.date(year, 3, 5))
            _sell(world.d1, [(p.p2, 6, 15)], dt.date(year, 3, 20))
            # just outside the period
            _sell(world.d1, [(p.p1, 10, 7)], dt.date(year, 4, 1))
            # a year before: d1 300 (30 units), d3 100 (10 units)
            _sell(world.d1, [(p.p1, 30, 10)], dt.date(year - 1, 3, 10))
            # d3 buys through d1 now: its sale from the brand of the time
            # is made for d1 then given to d3 in SQL
            old = _sell(world.d1, [(p.p1, 10, 10)], dt.date(year - 1, 3, 11))
            sale_t = pool.get('sale.sale').__table__()
            Transaction().connection.cursor().execute(*sale_t.update(
                    [sale_t.party], [world.d3], where=sale_t.id == old.id))
            codes = {k: Party(getattr(world, k)).distributor_code
                for k in ['d1', 'd2', 'd3']}
            return SimpleNamespace(**vars(world), year=year, start=start,
                end=end, drinks=drinks.id, juice=juice.id,
                snacks=snacks.id, js=js.id, codes=codes)

    def setUp(self):
        super().setUp()
        self.w = self.world

    def scratch(self, func):
        "Run func() as root in a transaction rolled back afterwards"
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 1, context={
                        'company': self.w.company}, **extras) as transaction:
                try:
                    return func()
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    error.fix(extras)
                    continue
                finally:
                    transaction.rollback()
                    transaction.tasks.clear()

    def committed(self, func):
        "Run func() as root with the company, then commit"
        company = self.w.company

        def run():
            with Transaction().set_context(company=company):
                return func()
        return self.write(run)

    def count(self):
        return self.read(lambda: Pool().get('distributor.target').search(
                [], count=True))

    def target(self, **values):
        w = self.w
        values.setdefault('distributor', w.d1)
        values.setdefault('start_date', w.start)
        values.setdefault('end_date', w.end)
        values.setdefault('company', w.company)
        return values

    # Actuals ------------------------------------------------------------

    def test_actuals_attainment(self):
        "Sell-in over the period, by category with its children, one query"
        w = self.w

        def check():
            Target = Pool().get('distributor.target')
            targets = Target.create([
                    self.target(amount=D(400)),
                    self.target(distributor=w.d2, amount=D(100)),
                    self.target(category=w.drinks, amount=D(150),
                        quantity=30),
                    self.target(category=w.juice, quantity=10),
                    self.target(category=w.snacks, amount=D(0)),
                    # April: the sale of the 1st only
                    self.target(start_date=w.end + dt.timedelta(days=1),
                        end_date=w.end + dt.timedelta(days=30),
                        quantity=14),
                    ])
            Target.confirm(targets)
            with count_queries() as counter:
                actuals = Target.actuals([t.id for t in targets])
            self.assertEqual(counter.count, 1)
            self.assertEqual([actuals[t.id] for t in targets], [
                    (D(200), 16.0), (D(0), 0.0), (D(200), 16.0),
                    (D(90), 6.0), (D(0), 0.0), (D(70), 10.0)])
            targets = Target.browse(targets)
            self.assertEqual([t.attainment for t in targets], [
                    D('50.00'), D('0.00'), D('133.33'), D('60.00'), None,
                    D('71.43')])
            self.assertEqual(targets[3].actual_quantity, 6.0)
            # searched by a date of the period, by a range it overlaps
            found = Target.search([('period', '=', w.start
                        + dt.timedelta(days=3)), ('distributor', '=', w.d1)])
            self.assertEqual(len(found), 4)
            found = Target.search([('period', '>=', w.end),
                    ('period', '<=', w.end + dt.timedelta(days=1)),
                    ('distributor', '=', w.d1)])
            self.assertEqual(len(found), 5)
            self.assertEqual(targets[2].actual_amount, D(200))
            # cancelled sales do not count
            Sale = Pool().get('sale.sale')
            sale, = Sale.search([('party', '=', w.d1),
                    ('sale_date', '=', dt.date(w.year, 3, 20))])
            table = Sale.__table__()
            Transaction().connection.cursor().execute(*table.update(
                    [table.state], ['cancelled'],
                    where=table.id == sale.id))
            self.assertEqual(Target.actuals([targets[0].id])[targets[0].id],
                (D(110), 10.0))
        self.scratch(check)

    # Bad input ----------------------------------------------------------

    def test_bad_input(self):
        "Negative, no figure, end before start, overlaps: nothing written"
        # a period of its own: the targets committed here stay
        w = SimpleNamespace(**vars(self.w))
        w.start, w.end = dt.date(w.year - 3, 3, 1), dt.date(w.year - 3, 3, 31)
        target = self.target

        def period(**values):
            values.setdefault('start_date', w.start)
            values.setdefault('end_date', w.end)
            return target(**values)
        self.target = period
        before = self.count()

        def create(*vlist):
            def func():
                Target = Pool().get('distributor.target')
                with acting(_user('manager'), company=w.company):
                    return Target.create(list(vlist))
            return func

        for vlist in [
                [self.target(amount=D(-1))],
                [self.target(quantity=-5)],
                [self.target()],
                [self.target(amount=D(1), start_date=w.end,
                        end_date=w.start)],
                # two targets of the same distributor and category overlap
                [self.target(amount=D(1)), self.target(amount=D(2),
                        start_date=w.end, end_date=w.end)],
                ]:
            with self.assertRaises(TargetValidationError) as cm:
                self.write(create(*vlist))
            self.assertTrue(str(cm.exception))
        self.assertEqual(self.count(), before)

        # an overlap through a write, and through draft of a cancelled one
        def setup():
            Target = Pool().get('distributor.target')
            first, second, third = Target.create([
                    self.target(amount=D(1)),
                    self.target(amount=D(1), start_date=w.end
                        + dt.timedelta(days=1), end_date=w.end
                        + dt.timedelta(days=10)),
                    self.target(amount=D(1), category=w.drinks),
                    ])
            Target.cancel([third])
            # same period, other category than the cancelled one: allowed
            Target.create([self.target(amount=D(1), category=w.drinks)])
            return first.id, second.id, third.id
        first, second, third = self.committed(setup)
        after = self.count()

        def move():
            Target = Pool().get('distributor.target')
            with acting(_user('manager'), company=w.company):
                Target.write([Target(second)], {'start_date': w.end})

        def redraft():
            Target = Pool().get('distributor.target')
            with acting(_user('manager'), company=w.company):
                Target.draft([Target(third)])
        for func in [move, redraft]:
            with self.assertRaises(TargetValidationError) as cm:
                self.write(func)
        self.assertIn(str(w.start), str(cm.exception))

        def unchanged():
            Target = Pool().get('distributor.target')
            self.assertEqual(Target(second).start_date,
                w.end + dt.timedelta(days=1))
            self.assertEqual(Target(third).state, 'cancelled')
        self.read(unchanged)
        self.assertEqual(self.count(), after)

        # confirmed: locked
        def locked():
            Target = Pool().get('distributor.target')
            Target.confirm([Target(first)])
            with acting(_user('manager'), company=w.company):
                with self.assertRaises(Exception):
                    Target.write([Target(first)], {'amount': D(5)})
                with self.assertRaises(Exception):
                    Target.delete([Target(first)])
        self.scratch(locked)

    # Roles --------------------------------------------------------------

    def test_roles(self):
        "Managers act; reps read their territories; others refused"
        w = self.w

        def check():
            Target = Pool().get('distributor.target')
            Log = Pool().get('distributor.target.log')
            with acting(_user('manager'), company=w.company):
                own, foreign = Target.create([
                        self.target(amount=D(10)),
                        self.target(distributor=w.d2, amount=D(10)),
                        ])
                Target.confirm([own, foreign])
                Target.cancel([foreign])
                Target.draft([foreign])
            own, foreign = Target(own.id), Target(foreign.id)
            self.assertEqual(own.state, 'confirmed')
            self.assertEqual([(l.from_state, l.to_state)
                    for l in reversed(foreign.state_logs)], [
                    ('draft', 'confirmed'), ('confirmed', 'cancelled'),
                    ('cancelled', 'draft')])
            with acting(_user('rep'), company=w.company):
                found = Target.search([('id', 'in', [own.id, foreign.id])])
                self.assertEqual([t.id for t in found], [own.id])
                self.assertEqual(Target(own.id).attainment, D('2000.00'))
                self.assertEqual(len(Log.search(
                            [('document', '=', foreign.id)])), 0)
                with self.assertRaises(REFUSED):
                    Target.create([self.target(amount=D(1),
                                start_date=w.end + dt.timedelta(days=40),
                                end_date=w.end + dt.timedelta(days=41))])
                with self.assertRaises(REFUSED):
                    Target.cancel([Target(own.id)])
            with acting(_user('accountant'), company=w.company):
                self.assertEqual(len(Target.search(
                            [('id', 'in', [own.id, foreign.id])])), 2)
                with self.assertRaises(REFUSED):
                    Target.write([Target(foreign.id)], {'amount': D(1)})
            with acting(_user('plain'), company=w.company):
                with self.assertRaises(REFUSED):
                    Target.search([])
                with self.assertRaises(REFUSED):
                    Target.confirm([Target(foreign.id)])
            # the wizards: managers only
            for name in ['distributor.target.import',
                    'distributor.target.spread']:
                Wizard = Pool().get(name, type='wizard')
                with acting(_user('manager'), company=w.company):
                    Wizard.create()
                for login in ['rep', 'plain']:
                    with acting(_user(login), company=w.company):
                        with self.assertRaises(AccessError):
                            Wizard.create()
        self.scratch(check)

    # Import -------------------------------------------------------------

    def test_import(self):
        "A good file creates drafts; any bad row: nothing, rows named"
        w = self.w
        c = w.codes
        before = self.count()
        good = _xlsx([
                [c['d1'], dt.datetime(w.year, 3, 1),
                    dt.datetime(w.year, 3, 31), None, 400, None],
                [c['d1'], '%s-03-01' % w.year, '%s-03-31' % w.year, 'JUC',
                    None, 10],
                [c['d2'], dt.date(w.year, 3, 1), dt.date(w.year, 3, 31),
                    'DRK', '1,000.50', 20],
                [None, None, None, None, None, None],
                ])

        def run_wizard():
            Target = Pool().get('distributor.target')
            Import = Pool().get('distributor.target.import', type='wizard')
            with acting(_user('manager'), company=w.company):
                session_id, _, _ = Import.create()
            with acting(_user('manager'), check_access=False,
                    company=w.company):
                session = Import(session_id)
                defaults = session.default_start(None)
                template = load_workbook(io.BytesIO(defaults['template']))
                self.assertEqual([c.value for c in template.active[1]],
                    [k for k, _ in target_module.IMPORT_COLUMNS])
                session.start.file = good
                session.start.filename = 'march.xlsx'
                action = {'name': "Targets"}
                action, _ = session.do_import_(action)
            self.assertIn('(3)', action['name'])
            targets = Target.search([], order=[('id', 'ASC')])[-3:]
            self.assertEqual([(t.distributor.id, t.category and t.category.id,
                        t.amount, t.quantity, t.state) for t in targets], [
                    (w.d1, None, D(400), None, 'draft'),
                    (w.d1, w.juice, None, 10.0, 'draft'),
                    (w.d2, w.drinks, D('1000.50'), 20.0, 'draft'),
                    ])
            self.assertEqual(targets[1].origin_note,
                'Imported from march.xlsx, row 3')
            self.assertEqual(targets[0].attainment, D('50.00'))
        self.scratch(run_wizard)

        def load(data):
            def func():
                Target = Pool().get('distributor.target')
                with acting(_user('manager'), company=w.company):
                    Target.import_targets(data, 'bad.xlsx')
            return func

        def refused(data):
            with self.assertRaises(TargetError) as cm:
                self.write(load(data))
            return (cm.exception.message + '\n'
                + (cm.exception.description or ''))

        self.assertIn('Excel', refused(b'not a workbook'))
        self.assertIn('amounts', refused(_xlsx([], header=[
                        'distributor', 'start_date', 'end_date',
                        'amounts'])))
        self.assertIn('no target row', refused(_xlsx([])))
        text = refused(_xlsx([
                    [c['d1'], '2020-01-01', '2020-01-31', None, 1, None],
                    ['NOPE', '2020-01-01', '2020-01-31', None, 1, None],
                    [c['d1'], 'yesterday', '2020-01-31', None, 1, None],
                    [c['d2'], '2020-02-01', '2020-01-31', None, 1, None],
                    [c['d2'], '2020-03-01', '2020-03-31', 'XXX', 1, None],
                    [c['d2'], '2020-04-01', '2020-04-30', None, -5, None],
                    [c['d2'], '2020-05-01', '2020-05-31', None, None, None],
                    [c['d2'], '2020-06-01', '2020-06-30', None, 'abc', None],
                    # overlaps row 2
                    [c['d1'], '2020-01-15', '2020-02-15', None, 1, None],
                    ]))
        for expected in [
                'Row 3, column distributor: no distributor has the code',
                'Row 4, column start_date: "yesterday" is not a date',
                'Row 5, column end_date: the end',
                'Row 6, column category: no product category has the '
                'code "XXX"',
                'Row 7, column amount: "-5" is negative',
                'Row 8, column amount: an amount or a quantity',
                'Row 9, column amount: "abc" is not a valid number',
                'Row 10, column start_date: overlaps row 2',
                '8 error(s)']:
            self.assertIn(expected, text)
        # overlapping an existing target

        def existing():
            Target = Pool().get('distributor.target')
            Target.create([self.target(amount=D(1),
                        start_date=dt.date(2019, 1, 1),
                        end_date=dt.date(2019, 1, 31))])
        self.committed(existing)
        text = refused(_xlsx([
                    [c['d1'], '2019-01-31', '2019-02-28', None, 1, None]]))
        self.assertIn('Row 2, column start_date: overlaps the existing '
            'target from 2019-01-01 to 2019-01-31', text)
        # too many rows (the limit lowered for the test)
        limit = target_module.MAX_IMPORT_ROWS
        target_module.MAX_IMPORT_ROWS = 2
        try:
            text = refused(_xlsx([
                        [c['d1'], '2018-0%s-01' % m, '2018-0%s-02' % m,
                            None, 1, None] for m in range(1, 4)]))
        finally:
            target_module.MAX_IMPORT_ROWS = limit
        self.assertIn('more than 2 target rows', text)
        self.assertEqual(self.count(), before + 1)

    # Spread -------------------------------------------------------------

    def test_split(self):
        "Parts rounded, the remainder on the largest share, exact sums"
        self.assertEqual(split(D(100), [1, 1, 1], D('0.01')),
            [D('33.34'), D('33.33'), D('33.33')])
        self.assertEqual(split(D(100), [1, 2, 1], D('0.01')),
            [D(25), D(50), D(25)])
        # 0.025 each rounds up: the first of the equals gives back a cent
        self.assertEqual(split(D('0.05'), [1, 1], D('0.01')),
            [D('0.02'), D('0.03')])
        parts = split(D('1000.01'), [3, 7, 0, 11], D('0.01'))
        self.assertEqual(sum(parts), D('1000.01'))
        self.assertEqual(parts[2], D(0))
        # the largest share takes the remainder
        self.assertEqual(split(D(10), [2, 1, 0], D('0.01')),
            [D('6.67'), D('3.33'), D(0)])
        self.assertEqual(split(D(10), [0, 0], D('0.01')), [D(5), D(5)])

    def test_spread(self):
        "Jiangsu's target split 3:1 between d1 and d3; equal without sales"
        w = self.w

        def check():
            Target = Pool().get('distributor.target')
            Territory = Pool().get('distributor.territory')
            Spread = Pool().get('distributor.target.spread', type='wizard')
            with acting(_user('manager'), company=w.company):
                session_id, _, _ = Spread.create()
            with acting(_user('manager'), check_access=False,
                    company=w.company):
                session = Spread(session_id)
                session.start.territory = Territory(w.js)
                session.start.start_date = w.start
                session.start.end_date = w.end
                session.start.category = None
                session.start.amount = D('1000.01')
                session.start.quantity = 100.0
                action = {'name': "Targets"}
                action, _ = session.do_spread(action)
            targets = Target.search([('start_date', '=', w.start)],
                order=[('distributor', 'ASC')])
            # the draft and frozen distributors of Jiangsu get nothing
            self.assertEqual({t.distributor.id: (t.amount, t.quantity)
                    for t in targets}, {
                    w.d1: (D('750.01'), 75.0),
                    w.d3: (D('250.00'), 25.0),
                    })
            self.assertEqual(sum(t.amount for t in targets), D('1000.01'))
            self.assertTrue(all(t.state == 'draft' for t in targets))
            self.assertIn('Jiangsu', targets[0].origin_note)
            # again on the same period: refused, naming the distributor
            Party = Pool().get('party.party')
            with self.assertRaises(TargetError) as cm:
                Target.spread(w.js, w.start, w.end, amount=D(1))
            self.assertIn(Party(w.d1).rec_name, str(cm.exception))
            # another category: nobody bought juice a year before:
            # equal parts, the cent of rounding off the first
            targets = Target.spread(w.js, w.start, w.end, amount=D('0.05'),
                quantity=1, category=w.juice)
            self.assertEqual(sorted((t.distributor.id, t.amount, t.quantity)
                    for t in targets), sorted([
                        (w.d1, D('0.02'), 0.5), (w.d3, D('0.03'), 0.5)]))
            # drinks (P1 is a drink): the same 3:1 shares
            targets = Target.spread(w.js, w.start, w.end, amount=D(100),
                category=w.drinks)
            self.assertEqual({t.distributor.id: t.amount for t in targets},
                {w.d1: D(75), w.d3: D(25)})
            # bad territory targets: nothing created
            count = Target.search([], count=True)
            other = w.end + dt.timedelta(days=100)
            for start, args, text in [
                    (other, {}, 'amount or a quantity'),
                    (other, {'amount': D(-1)}, 'negative'),
                    (other, {'quantity': -1}, 'negative'),
                    (other + dt.timedelta(days=1), {'amount': D(1)},
                        'before it starts')]:
                with self.assertRaises(TargetError) as cm:
                    Target.spread(w.js, start, other, **args)
                self.assertIn(text, str(cm.exception))
            self.assertEqual(Target.search([], count=True), count)
        self.scratch(check)

    # Portal -------------------------------------------------------------

    def test_portal(self):
        "d1 sees its confirmed targets with attainment, not d2's"
        w = self.w

        def check():
            Target = Pool().get('distributor.target')
            targets = Target.create([
                    self.target(amount=D(400), quantity=30),
                    self.target(amount=D(10), start_date=w.end
                        + dt.timedelta(days=1), end_date=w.end
                        + dt.timedelta(days=2)),
                    self.target(distributor=w.d2, amount=D(10)),
                    ])
            Target.confirm([targets[0], targets[2]])
            ids = [t.id for t in targets]
            with acting(_identity(w, 'd1@example.com')):
                rows = Target.dms_targets(w.d1)
                self.assertEqual(rows, [{
                            'id': ids[0],
                            'start': w.start.isoformat(),
                            'end': w.end.isoformat(),
                            'category': None,
                            'amount': '400.00',
                            'quantity': 30.0,
                            'actual_amount': '200.00',
                            'actual_quantity': 16.0,
                            'attainment': '50.00',
                            }])
                with self.assertRaises(RecordNotFound):
                    Target.dms_targets(w.d2)
                # its downstream distributor's: not through d1's account
                with self.assertRaises(TargetError):
                    Target.dms_targets(w.d3)
                # no direct read of the model
                with self.assertRaises(REFUSED):
                    Target.search([])
            with acting(_identity(w, 'd2@example.com')):
                rows = Target.dms_targets(w.d2)
                self.assertEqual([r['id'] for r in rows], [ids[2]])
            with acting(_user('manager')):
                with self.assertRaises(REFUSED):
                    Target.dms_targets(w.d1)
        self.scratch(check)

    # Demo ---------------------------------------------------------------

    def test_demo(self):
        "The demo's monthly targets of this year, confirmed"
        w = self.w

        def check():
            from ..demo_target import PARTS
            pool = Pool()
            Target = pool.get('distributor.target')
            Party = pool.get('party.party')
            Company = pool.get('company.company')
            today = pool.get('ir.date').today()
            Target.delete(Target.search([]))
            demo = SimpleNamespace(pool=pool, company=Company(w.company),
                today=today, report=[])
            for part in PARTS:
                part.run(demo)
            count = Party.search([('is_distributor', '=', True),
                    ('distributor_state', '=', 'active')], count=True)
            targets = Target.search([])
            self.assertEqual(len(targets), 12 * count)
            self.assertEqual({t.state for t in targets}, {'confirmed'})
            self.assertEqual({t.start_date.year for t in targets},
                {today.year})
            self.assertIn(str(12 * count), demo.report[0])
            # once only
            for part in PARTS:
                part.run(demo)
            self.assertEqual(Target.search([], count=True), 12 * count)
        self.scratch(check)
