# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""A quarter of last year assessed and analysed, end to end, as the roles
that act; every number computed by hand below and compared with the
system's.

The network: D1 and D2 regional (T2), D3 (below D1) and D4 (below D2)
county (T3).  D1 serves Nanjing and Suzhou (two cities of Jiangsu), D3
Nanjing, D2 Zhejiang, D4 Hangzhou (a city of Zhejiang); all in East.
P1 costs D1 and D2 9.00 on the regional price list.  The quarter Q is
April-June of last year (the world's own activity is dated today: outside
it); the same quarter a year before is Q-1.

Sell-in (orders placed in the portal, approved by the channel manager,
shipped; dated in the quarter); D3 and D4 may not buy from the brand::

    D1  Apr  5  O1 100 × 9 =   900   invoiced Apr 5 (due before Jun 30)
        Jun 28  O2  60 × 9 =   540   invoiced Jun 30 (not due yet)
    D2  May 10  O3  80 × 9 =   720                          Q: 2,160
    Q-1: D1 120 × 9 = 1,080; D2 100 × 9 = 900

Targets of Q: D1 1,600 set by hand; Zhejiang's 1,500 spread by Q-1's
share: D2 all of it, D4 (nothing bought from the brand) 0; D3 none.

Sell-out (channel orders delivered): D1 → S1 20 × 12 = 240 (May 3),
D1 → S2 10 × 12 = 120 (Jun 2), D1 → D3 30 × 10 = 300 (May 20), D2 → S3
15 × 11 = 165 (Apr 20), D2 → D4 50 × 10 = 500 (Jun 10).

Notice 1 (Apr 10) to D1, D2, D3 and Notice 2 (Jun 1) to D1..D4: D1
acknowledges both, D2 the first, D3 and D4 none.  A diversion (May 15)
and a price incident (May 16) confirmed against D2.  D1 disputes its May
statement (Jun 5).

The template: sales attainment 30 % (linear 0 → 100), growth 20 %
(linear −50 → +50), policy acknowledgement 15 % (linear 0 → 100), overdue
ratio 15 % (linear, 80 scores 0, 0 scores 100), incidents 20 % (penalty
25 a unit); A from 80, B from 70, C from 60 (upgrade on A, downgrade on
D).  The scores, ranks and grades: see test_quarter."""
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

import openpyxl

from trytond.modules.account.tests import get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.tests.tools import acting
from distributor_account.tests.test_scenario import _backdate
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)
from distributor_sale.exceptions import ChannelOrderError
from distributor_sale.tests.tools import run_tasks, ship

D = Decimal
CENT = D('0.01')
WEIGHTED = D('0.0001')
HUNDRED = D(100)


def q(value, exp=CENT):
    return D(value).quantize(exp, rounding=ROUND_HALF_UP)


def user(login):
    User = Pool().get('res.user')
    record, = User.search([('login', '=', login)])
    return record


def portal(world, email, party):
    "Act as the portal account email of party, as the portal does"
    WebUser = Pool().get('web.user')
    return acting(WebUser(world.accounts[email]).dms_user,
        company=world.company, dms_web_user=world.accounts[email],
        dms_portal_party=party)


def kpi_id(code):
    ModelData = Pool().get('ir.model.data')
    return ModelData.get_id('distributor_assessment', f'kpi_{code}')


def rank(values):
    "RANK() by value descending: ties share, the next rank skips"
    return {k: 1 + sum(1 for o in values.values() if o > v)
        for k, v in values.items()}


def linear(value, zero_at, full_at):
    "0 at zero_at, 100 at full_at, straight between, clipped"
    if value is None:
        return None
    score = (D(value) - zero_at) / (full_at - zero_at) * HUNDRED
    return q(min(max(score, D(0)), HUNDRED))


def penalty(value, points):
    if value is None:
        return None
    return q(max(HUNDRED - points * D(value), D(0)))


def grade(score):
    return ('A' if score >= 80 else 'B' if score >= 70
        else 'C' if score >= 60 else 'D')


class ScenarioTestCase(PortalTestCase):
    "A quarter assessed (by hand and by the system) and analysed"
    modules = ['distributor_report']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        FiscalYear = pool.get('account.fiscalyear')
        Tier = pool.get('distributor.tier')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            year = today.year - 1
            # the fiscal year of the quarter: its invoices are posted in it
            date = dt.date(year, 4, 1)
            if not FiscalYear.search([('start_date', '<=', date),
                        ('end_date', '>=', date)]):
                fiscalyear = set_invoice_sequences(get_fiscalyear(
                        Company(world.company), today=date))
                fiscalyear.save()
                FiscalYear.create_period([fiscalyear])
            t = {x.code: x.id for x in Territory.search([])}
            # D1 serves two cities of Jiangsu (no longer the province as
            # a whole); on credit with room for the quarter's orders
            Party.write([Party(world.d1)], {
                    'territories': [('remove', [t['EC-JS']]),
                        ('add', [t['EC-JS-NJ'], t['EC-JS-SZ']])],
                    'credit_limit_amount': D(1000000),
                    })
            tiers = {x.code: x.id for x in Tier.search([])}
        return SimpleNamespace(**vars(world), t=t, tiers=tiers,
            start=dt.date(year, 4, 1), end=dt.date(year, 6, 30),
            year=year)

    def setUp(self):
        super().setUp()
        self.w = self.world
        self._extras = {}

    def write(self, func):
        """Run func() as root in a transaction, then commit; its result.
        The locks the sequences ask for (a transaction started again with
        them) are kept for the next steps: they need the same"""
        extras = self._extras
        while True:
            with Transaction().start(DB_NAME, 1, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    error.fix(extras)
                    continue
                transaction.commit()
                return result

    def day(self, month, day, years_before=0):
        return dt.date(self.w.year - years_before, month, day)

    # the roles' acts ----------------------------------------------------

    def _order(self, email, party, quantity, date):
        """The distributor orders quantity of P1 in the portal, the
        channel manager approves, the brand ships; dated date"""
        w = self.w
        Sale = Pool().get('sale.sale')
        with portal(w, email, party):
            sale_id = Sale.dms_create_order(party,
                [{'product': w.products.p1, 'quantity': quantity}],
                reference=f'PO-{quantity}', submit=True)
        with acting(user('manager'), company=w.company):
            Sale.dms_approve(Sale.browse([sale_id]))
        run_tasks()
        sale = ship(Sale(sale_id))
        self.assertIn(sale.state, {'processing', 'done'})
        table = Sale.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.sale_date], [date], where=table.id == sale_id))
        return sale_id

    def _invoice(self, sale_id, date):
        "The order's invoice posted, dated date"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Invoice = pool.get('account.invoice')
        invoice, = Sale(sale_id).invoices
        with Transaction().set_context(company=self.w.company):
            Invoice.post([invoice])
        _backdate(Invoice(invoice.id).move, date)
        return Invoice(invoice.id)

    def _sell_out(self, seller, store, quantity, price, date):
        """A channel order of the store delivered by the distributor (at
        the price agreed with the store), dated date"""
        from distributor_store.tests.tools import delivered_order
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Order = pool.get('distributor.channel.order')
        OrderLine = pool.get('distributor.channel.order.line')
        today = pool.get('ir.date').today()
        with Transaction().set_context(company=self.w.company):
            order = delivered_order(Party(seller), Party(store),
                [(Product(self.w.products.p1), quantity)],
                days_ago=(today - date).days)
        line = OrderLine.__table__()
        Transaction().connection.cursor().execute(*line.update(
                [line.unit_price, line.discount], [D(price), D(0)],
                where=line.order == order.id))
        self.assertEqual(Order(order.id).delivered_date, date)
        return order.id

    # the scenario ---------------------------------------------------------

    def test_quarter(self):
        "Targets, sales, incidents, a run by hand and by the system, analyses"
        w = self.w
        day = self.day
        Y = SimpleNamespace()

        # ------------------------------------------------------------------
        # the sales of the quarter and of the same quarter a year before
        def sales():
            Sale = Pool().get('sale.sale')
            Y.o1 = self._order('d1-orders@example.com', w.d1, 100,
                day(4, 5))
            Y.o2 = self._order('d1-orders@example.com', w.d1, 60,
                day(6, 28))
            Y.o3 = self._order('d2@example.com', w.d2, 80, day(5, 10))
            self._order('d1-orders@example.com', w.d1, 120,
                day(4, 15, 1))
            self._order('d2@example.com', w.d2, 100, day(5, 5, 1))
            # the story's price: the regional list
            self.assertEqual([Sale(s).lines[0].unit_price
                    for s in [Y.o1, Y.o2, Y.o3]], [D('9.00')] * 3)
            return vars(Y).copy()
        vars(Y).update(self.write(sales))

        def upstream():
            # D3 and D4 buy from their upstream, not from the brand
            Sale = Pool().get('sale.sale')
            for email, party in [('d3@example.com', w.d3),
                    ('d4@example.com', w.d4)]:
                with portal(w, email, party):
                    with self.assertRaises(ChannelOrderError):
                        Sale.dms_create_order(party, [{
                                    'product': w.products.p1,
                                    'quantity': 30}], submit=True)
            Transaction().rollback()
        self.write(upstream)

        def invoices():
            # D1's invoices: O1's falls due in the quarter, O2's later
            i1 = self._invoice(Y.o1, day(4, 5))
            i2 = self._invoice(Y.o2, day(6, 30))
            self.assertEqual((i1.total_amount, i2.total_amount),
                (D(900), D(540)))
            self.assertTrue(all(l.maturity_date < w.end
                    for l in i1.lines_to_pay))
            self.assertTrue(all(l.maturity_date >= w.end
                    for l in i2.lines_to_pay))
        self.write(invoices)

        def sell_out():
            # sell-out to the stores and to the county distributors
            self._sell_out(w.d1, w.s1, 20, 12, day(5, 3))
            self._sell_out(w.d1, w.s2, 10, 12, day(6, 2))
            self._sell_out(w.d1, w.d3, 30, 10, day(5, 20))
            self._sell_out(w.d2, w.s3, 15, 11, day(4, 20))
            self._sell_out(w.d2, w.d4, 50, 10, day(6, 10))
        self.write(sell_out)

        # ------------------------------------------------------------------
        # the targets: D1's by hand, Zhejiang's spread by last year's share
        def targets():
            Target = Pool().get('distributor.target')
            with acting(user('manager'), company=w.company):
                d1, = Target.create([{'company': w.company,
                            'distributor': w.d1, 'start_date': w.start,
                            'end_date': w.end, 'amount': D(1600)}])
                spread = Target.spread(w.t['EC-ZJ'], w.start, w.end,
                    amount=D(1500))
                Target.confirm([d1] + list(spread))
            amounts = {t.distributor.id: t.amount for t in spread}
            # 1,500 × 900 / 1,150 and 1,500 × 250 / 1,150
            # D2 bought 900 a year before, D4 nothing from the brand
            self.assertEqual(amounts, {w.d2: D(1500), w.d4: D(0)})
            self.assertTrue(all('Zhejiang' in t.origin_note
                    for t in spread))
            # attainment shown on the target: 1,440 of 1,600
            d1 = Target(d1.id)
            self.assertEqual((d1.actual_amount, d1.attainment),
                (D(1440), D('90.00')))
        self.write(targets)

        # ------------------------------------------------------------------
        # policies published and acknowledged; incidents confirmed; a
        # statement disputed (dated in the quarter)
        def execution():
            from distributor_stock.tests.test_module import create_lot
            pool = Pool()
            Policy = pool.get('distributor.policy')
            Recipient = pool.get('distributor.policy.recipient')
            Incident = pool.get('distributor.diversion.incident')
            PriceIncident = pool.get('distributor.price.incident')
            Statement = pool.get('distributor.account.statement')
            Log = pool.get('distributor.account.statement.log')
            Party = pool.get('party.party')
            cursor = Transaction().connection.cursor()
            notices = []
            for title, published, recipients in [
                    ("Notice 1", day(4, 10), [w.d1, w.d2, w.d3]),
                    ("Notice 2", day(6, 1), [w.d1, w.d2, w.d3, w.d4])]:
                with acting(user('manager'), company=w.company):
                    policy, = Policy.create([{
                                'kind': 'notice', 'title': title,
                                'company': w.company,
                                'start_date': pool.get('ir.date').today(),
                                'distributors': [('add', recipients)],
                                }])
                    Policy.publish([policy])
                table = Policy.__table__()
                cursor.execute(*table.update([table.published_at],
                        [dt.datetime.combine(published, dt.time(9))],
                        where=table.id == policy.id))
                notices.append(policy.id)
            for email, party, acknowledged in [
                    ('d1@example.com', w.d1, notices),
                    ('d2@example.com', w.d2, notices[:1])]:
                with portal(w, email, party):
                    for policy in acknowledged:
                        Policy.dms_acknowledge_policy(party, policy)
            recipient = Recipient.__table__()
            cursor.execute(*recipient.update([recipient.acknowledged_at],
                    [dt.datetime.combine(day(6, 3), dt.time(10))],
                    where=recipient.acknowledged_at != None))  # noqa: E711
            # incidents against D2, confirmed by the channel manager
            lot = create_lot(pool.get('product.product')(w.products.p1),
                'DIV-Q')
            incident, = Incident.create([{
                        'date': day(5, 15), 'store': w.s1,
                        'store_distributor': w.d1, 'shipped_to': w.d2,
                        'product': w.products.p1, 'lot': lot.id,
                        'quantity': 3}])
            price, = PriceIncident.create([{
                        'date': day(5, 16), 'store': w.s3,
                        'distributor': w.d2, 'product': w.products.p1,
                        'price_seen': D(6)}])
            with acting(user('manager'), company=w.company):
                Incident.confirm([Incident(incident.id)])
                PriceIncident.confirm([PriceIncident(price.id)])
            # D1's statement of May: sent, disputed in the portal
            with acting(user('accountant'), company=w.company):
                statements, skipped = Statement.generate('distributor',
                    [Party(w.d1)], day(5, 1), day(5, 31))
                statement, = statements
                Statement.send([statement])
            with portal(w, 'd1-finance@example.com', w.d1):
                values = Statement.dms_dispute_statement(w.d1,
                    statement.id, comment="The April invoice is not ours")
                self.assertEqual(values['state'], 'disputed')
            log = Log.__table__()
            cursor.execute(*log.update([log.create_date],
                    [dt.datetime.combine(day(6, 5), dt.time(11))],
                    where=(log.document == statement.id)
                    & (log.to_state == 'disputed')))
        self.write(execution)

        # ------------------------------------------------------------------
        # the KPI values, by hand from the figures above
        att = {
            w.d1: q(D(1440) * 100 / 1600),          # 90.00
            w.d2: q(D(720) * 100 / 1500),            # 48.00
            w.d3: None,                              # no target
            w.d4: None,                              # a target of 0
            }
        growth = {
            w.d1: q((D(1440) - 1080) * 100 / 1080),  # 33.33
            w.d2: q((D(720) - 900) * 100 / 900),     # -20.00
            w.d3: None,                              # no sell-in a year
            w.d4: None,                              # before
            }
        # D1 2 of 2, D2 1 of 2, D3 0 of 2, D4 0 of 1
        ack = {w.d1: D('100.00'), w.d2: D('50.00'), w.d3: D('0.00'),
            w.d4: D('0.00')}
        # D1 at Jun 30: O1 900 overdue of 900 + 540 open
        overdue = {w.d1: q(D(900) * 100 / 1440), w.d2: D('0.00'),
            w.d3: D('0.00'), w.d4: D('0.00')}
        incidents = {w.d1: D(0), w.d2: D(2), w.d3: D(0), w.d4: D(0)}
        values = {'sales_attainment': att, 'sales_growth': growth,
            'policy_ack': ack, 'overdue_ratio': overdue,
            'incidents': incidents}
        self.assertEqual([att[w.d2], growth[w.d1], overdue[w.d1]],
            [D('48.00'), D('33.33'), D('62.50')])
        # the template's lines: (weight, scoring)
        spec = {
            'sales_attainment': (D(30), lambda v: linear(v, D(0), D(100))),
            'sales_growth': (D(20), lambda v: linear(v, D(-50), D(50))),
            'policy_ack': (D(15), lambda v: linear(v, D(0), D(100))),
            'overdue_ratio': (D(15), lambda v: linear(v, D(80), D(0))),
            'incidents': (D(20), lambda v: penalty(v, D(25))),
            }
        parties = [w.d1, w.d2, w.d3, w.d4]
        scores = {p: {c: spec[c][1](values[c][p]) for c in spec}
            for p in parties}
        # D1: 90, (33.33 + 50) = 83.33, 100, (80 - 62.5) / 80 = 21.88, 100
        self.assertEqual(scores[w.d1], {'sales_attainment': D('90.00'),
                'sales_growth': D('83.33'), 'policy_ack': D('100.00'),
                'overdue_ratio': D('21.88'), 'incidents': D('100.00')})
        # D2: 48, (−20 + 50) = 30, 50, 100, 100 − 2 × 25 = 50
        self.assertEqual(scores[w.d2]['incidents'], D('50.00'))
        applicable = {p: sum(spec[c][0] for c in spec
                if scores[p][c] is not None) for p in parties}
        # D3, D4 without attainment and growth: 15 + 15 + 20
        self.assertEqual(applicable, {w.d1: 100, w.d2: 100, w.d3: 50,
                w.d4: 50})
        weighted = {p: {c: (spec[c][0] * scores[p][c] / applicable[p]
                    ).quantize(WEIGHTED)
                for c in spec if scores[p][c] is not None}
            for p in parties}
        computed = {p: q(sum(spec[c][0] * scores[p][c] for c in spec
                    if scores[p][c] is not None) / applicable[p])
            for p in parties}
        # D1 (2,700 + 1,666.6 + 1,500 + 328.2 + 2,000) / 100 = 81.95
        # D2 (1,440 + 600 + 750 + 1,500 + 1,000) / 100 = 52.90
        # D3, D4 (0 + 1,500 + 2,000) / 50 = 70
        self.assertEqual(computed, {w.d1: D('81.95'), w.d2: D('52.90'),
                w.d3: D('70.00'), w.d4: D('70.00')})
        territory = {w.d1: w.t['EC-JS-NJ'], w.d2: w.t['EC-ZJ'],
            w.d3: w.t['EC-JS-NJ'], w.d4: w.t['EC-ZJ-HZ']}
        tier = {w.d1: w.tiers['T2'], w.d2: w.tiers['T2'],
            w.d3: w.tiers['T3'], w.d4: w.tiers['T3']}

        def expected_ranks(final):
            "{party: (grade, rank, rank_territory, rank_tier, tier_count)}"
            overall = rank(final)
            result = {}
            for p in parties:
                same_territory = {o: s for o, s in final.items()
                    if territory[o] == territory[p]}
                same_tier = {o: s for o, s in final.items()
                    if tier[o] == tier[p]}
                result[p] = (grade(final[p]), overall[p],
                    rank(same_territory)[p], rank(same_tier)[p],
                    len(same_tier))
            return result
        ranks = expected_ranks(computed)
        # D1 81.95 A, D3 and D4 70 B sharing the 2nd rank (and the 1st
        # in T3), D2 52.90 D; D1 before D3 in Nanjing, before D2 in T2
        self.assertEqual(ranks, {w.d1: ('A', 1, 1, 1, 2),
                w.d2: ('D', 4, 1, 2, 2), w.d3: ('B', 2, 2, 1, 2),
                w.d4: ('B', 2, 1, 1, 2)})

        # ------------------------------------------------------------------
        # the manager's template and run; the queue computes it
        def assess():
            pool = Pool()
            Template = pool.get('distributor.assessment.template')
            Run = pool.get('distributor.assessment.run')
            lines = []
            for sequence, (code, (weight, _)) in enumerate(spec.items()):
                line = {'sequence': sequence, 'kpi': kpi_id(code),
                    'weight': weight}
                if code == 'incidents':
                    line.update(scoring='penalty', penalty_points=D(25))
                else:
                    zero, full = {'sales_growth': (-50, 50),
                        'overdue_ratio': (80, 0)}.get(code, (0, 100))
                    line.update(scoring='linear', zero_at=D(zero),
                        full_at=D(full))
                lines.append(line)
            with acting(user('manager'), company=w.company):
                template, = Template.create([{
                            'name': "Quarterly review",
                            'grade_a': D(80), 'grade_b': D(70),
                            'grade_c': D(60),
                            'lines': [('create', lines)]}])
                run, = Run.create([{'company': w.company,
                            'template': template.id,
                            'start_date': w.start, 'end_date': w.end}])
                Run.compute([run])
            self.assertEqual(Run(run.id).state, 'computing')
            run_tasks()
            return run.id
        Y.run = self.write(assess)

        def check_results(final, adjusted=()):
            Run = Pool().get('distributor.assessment.run')
            run = Run(Y.run)
            results = {r.distributor.id: r for r in run.results}
            self.assertEqual(set(results), set(parties))
            ranks = expected_ranks(final)
            for p, result in results.items():
                with self.subTest(party=p):
                    self.assertEqual((result.territory.id, result.tier.id),
                        (territory[p], tier[p]))
                    self.assertEqual(result.computed_score, computed[p])
                    self.assertEqual(result.score, final[p])
                    self.assertEqual(result.adjustment,
                        final[p] - computed[p])
                    self.assertEqual((result.grade, result.rank,
                            result.rank_territory, result.rank_tier,
                            result.tier_count), ranks[p])
                    lines = {l.kpi.code: l for l in result.kpis}
                    self.assertEqual(set(lines), set(spec))
                    for code, line in lines.items():
                        self.assertEqual(line.weight, spec[code][0])
                        self.assertEqual(line.value, values[code][p],
                            code)
                        self.assertEqual(line.score, scores[p][code], code)
                        self.assertEqual(line.weighted,
                            weighted[p].get(code), code)
            return run

        def computed_run():
            run = check_results(computed)
            self.assertEqual((run.state, run.total, run.progress,
                    run.empty), ('computed', 4, 1.0, False))
            # the dispute: D1's statement of May (the KPI outside the
            # template)
            pool = Pool()
            Kpi = pool.get('distributor.assessment.kpi')
            Party = pool.get('party.party')
            party = Party.__table__()
            kpi = Kpi(kpi_id('statement_disputes'))
            with Transaction().set_context(company=w.company):
                disputes = Kpi.compute([kpi], w.start, w.end,
                    party.select(party.id.as_('party'),
                        where=party.id.in_(parties)))[kpi.id]
            self.assertEqual(disputes, {w.d1: D(1), w.d2: D(0),
                    w.d3: D(0), w.d4: D(0)})
        self.read(computed_run)

        # ------------------------------------------------------------------
        # D4's score adjusted to 85 (the reason given); reviewed, approved
        final = dict(computed)
        final[w.d4] = D(85)
        ranks = expected_ranks(final)
        # D4 first (A), D1 second, D3 third and second in T3
        self.assertEqual(ranks, {w.d1: ('A', 2, 1, 1, 2),
                w.d2: ('D', 4, 1, 2, 2), w.d3: ('B', 3, 2, 2, 2),
                w.d4: ('A', 1, 1, 1, 2)})

        def adjust():
            pool = Pool()
            Result = pool.get('distributor.assessment.result')
            Adjust = pool.get('distributor.assessment.result.adjust',
                type='wizard')
            result, = Result.search([('run', '=', Y.run),
                    ('distributor', '=', w.d4)])
            with acting(user('manager'), company=w.company):
                session_id, _, _ = Adjust.create()
            with acting(user('manager'), check_access=False,
                    company=w.company, active_model=Result.__name__,
                    active_id=result.id, active_ids=[result.id]):
                session = Adjust(session_id)
                session.start.score = D(85)
                session.start.reason = "Opened two new counties"
                session.transition_adjust()
            check_results(final)
            result = Result(result.id)
            self.assertEqual(result.adjustment_reason,
                "Opened two new counties")
            self.assertEqual(result.adjustment, D(15))
        self.write(adjust)

        def approve():
            pool = Pool()
            Run = pool.get('distributor.assessment.run')
            Party = pool.get('party.party')
            with acting(user('manager'), company=w.company):
                Run.review([Run(Y.run)])
                Run.approve([Run(Y.run)])
            run = Run(Y.run)
            self.assertEqual(run.state, 'approved')
            for p in parties:
                self.assertEqual(Party(p).distributor_grade, ranks[p][0])
            # A: up a level (T2 → T1, T3 → T2); D: down (T2 → T3)
            self.assertEqual({(x.distributor.id, x.direction,
                        x.current_tier.code, x.proposed_tier.code,
                        x.grade) for x in run.proposals}, {
                    (w.d1, 'up', 'T2', 'T1', 'A'),
                    (w.d4, 'up', 'T3', 'T2', 'A'),
                    (w.d2, 'down', 'T2', 'T3', 'D')})
            return {x.distributor.id: x.id for x in run.proposals}
        Y.proposals = self.write(approve)

        def accept():
            pool = Pool()
            Proposal = pool.get('distributor.tier.proposal')
            Party = pool.get('party.party')
            with acting(user('manager'), company=w.company):
                Proposal.accept([Proposal(Y.proposals[w.d1])])
            self.assertEqual(Proposal(Y.proposals[w.d1]).state, 'accepted')
            self.assertEqual(Party(w.d1).distributor_tier.code, 'T1')
            self.assertEqual({Proposal(Y.proposals[p]).state
                    for p in [w.d2, w.d4]}, {'proposed'})
        self.write(accept)

        # ------------------------------------------------------------------
        # the run's workbook, parsed back
        def workbook():
            pool = Pool()
            XLSX = pool.get('distributor.assessment.run.xlsx', type='report')
            Party = pool.get('party.party')
            with acting(user('manager'), company=w.company):
                ext, content, _, _ = XLSX.execute([Y.run], {})
            names = {p: Party(p).name for p in parties}
            return ext, bytes(content), names
        ext, content, names = self.read(workbook)
        self.assertEqual(ext, 'xlsx')
        book = openpyxl.load_workbook(io.BytesIO(content))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        # the rows of the results: those starting with a rank
        body = [r for r in rows if isinstance(r[0], int)]
        self.assertEqual(len(body), 4)
        by_name = {r[2]: r for r in body}
        for p in parties:
            row = by_name[names[p]]
            grade_, overall, in_territory, in_tier, _ = ranks[p]
            self.assertEqual(row[0], overall)
            self.assertEqual([None if v is None else q(D(str(v)))
                    for v in row[5:10]],
                [scores[p][c] for c in spec])
            self.assertEqual([q(D(str(v))) for v in row[10:13]],
                [computed[p], final[p] - computed[p], final[p]])
            self.assertEqual(tuple(row[13:16]),
                (grade_, in_territory, in_tier))
        # the grade distribution beside (its data, and its chart)
        self.assertEqual(len(book.sheetnames), 3)
        distribution = {r[0]: r[1] for r in book.worksheets[1].iter_rows(
                min_row=2, values_only=True)}
        self.assertEqual(distribution, {g: sum(1 for p in parties
                    if ranks[p][0] == g) for g in 'ABCD'})
        self.assertEqual(distribution, {'A': 2, 'B': 1, 'C': 0, 'D': 1})

        # ------------------------------------------------------------------
        # the analyses of the quarter, as the channel manager
        def rows_of(model, key, names, **context):
            def read():
                Model = Pool().get(model)
                ctx = {'company': w.company, 'period': 'month',
                    'from_date': w.start, 'to_date': w.end, **context}
                with acting(user('manager'), **ctx):
                    records = Model.search([])
                    result = {}
                    for record in Model.read([r.id for r in records],
                            [key] + list(names)):
                        value = record[key]
                        if isinstance(value, dt.datetime):
                            value = value.date()
                        result[value] = tuple(record[n] for n in names)
                    return result
            return self.read(read)

        # sell-in: D1 O1 + O2, D2 O3
        sell_in = {w.d1: (900 + 540, 100 + 60, 2), w.d2: (720, 80, 1)}
        self.assertEqual(rows_of('distributor.report.sell_in.distributor',
                'distributor', ['amount', 'quantity', 'number']),
            {p: (D(a), n, o) for p, (a, n, o) in sell_in.items()})
        self.assertEqual(rows_of('distributor.report.sell_in.distributor',
                'distributor', ['target', 'attainment']), {
                w.d1: (D(1600), att[w.d1]), w.d2: (D(1500), att[w.d2])})
        # the tree: each territory its distributors and those below, each
        # once (D1 in Nanjing and Suzhou: once in Jiangsu and in East)
        amount = {p: D(a) for p, (a, _, _) in sell_in.items()}
        t = w.t
        tree = {
            t['EC']: ([w.d1, w.d2], None),
            t['EC-JS']: ([w.d1], t['EC']),
            t['EC-JS-NJ']: ([w.d1], t['EC-JS']),
            t['EC-JS-SZ']: ([w.d1], t['EC-JS']),
            t['EC-ZJ']: ([w.d2], t['EC']),
            }
        self.assertEqual(rows_of('distributor.report.sell_in.territory',
                'territory', ['amount', 'distributor_count', 'parent']),
            {k: (sum(amount[p] for p in ps), len(ps), parent)
                for k, (ps, parent) in tree.items()})
        self.assertEqual(sum(amount.values()), D(2160))
        # by month: April O1, May O3, June O2
        self.assertEqual(rows_of('distributor.report.sell_in.time_series',
                'date', ['amount']), {
                day(4, 1): (D(900),), day(5, 1): (D(720),),
                day(6, 1): (D(540),)})
        # sell-out: D1 to S1, S2 and D3; D2 to S3 and D4; by territory the
        # seller's (D1 once in Jiangsu); by month
        sell_out = {w.d1: (D(240 + 120 + 300), 20 + 10 + 30),
            w.d2: (D(165 + 500), 15 + 50)}
        self.assertEqual(rows_of('distributor.report.sell_out.distributor',
                'distributor', ['amount', 'quantity']), sell_out)
        self.assertEqual(rows_of('distributor.report.sell_out.territory',
                'territory', ['amount', 'distributor_count']), {
                t['EC']: (D(660 + 665), 2), t['EC-JS']: (D(660), 1),
                t['EC-JS-NJ']: (D(660), 1), t['EC-JS-SZ']: (D(660), 1),
                t['EC-ZJ']: (D(665), 1)})
        self.assertEqual(rows_of('distributor.report.sell_out.time_series',
                'date', ['amount']), {
                day(4, 1): (D(165),), day(5, 1): (D(240 + 300),),
                day(6, 1): (D(120 + 500),)})
        # the rankings: by sales, growth, attainment (none last); D4 has a
        # target of 0 and no sell-in
        self.assertEqual(rows_of('distributor.report.ranking.distributor',
                'distributor', ['amount', 'previous_amount', 'growth',
                    'target', 'attainment', 'rank_amount', 'rank_growth',
                    'rank_attainment']), {
                w.d1: (D(1440), D(1080), growth[w.d1], D(1600), att[w.d1],
                    1, 1, 1),
                w.d2: (D(720), D(900), growth[w.d2], D(1500), att[w.d2],
                    2, 2, 2),
                w.d4: (D(0), D(0), None, D(0), None, 3, 3, 3)})
