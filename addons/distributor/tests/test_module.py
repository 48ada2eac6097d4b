# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import io
from contextlib import contextmanager
from decimal import Decimal

import xlsxwriter
from openpyxl import load_workbook

from trytond.exceptions import UserError
from trytond.model import ModelSingleton, ModelSQL
from trytond.model.exceptions import (
    AccessButtonError, AccessError, SQLConstraintError)
from trytond.model.modelstorage import DomainValidationError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, create_employee, set_company)
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.cache import Cache
from trytond.config import config
from trytond.tests.test_tryton import DB_NAME, USER, ModuleTestCase
from trytond.transaction import Transaction

from distributor import validation
from distributor.exceptions import (
    ChannelRuleError, DistributorStateError, EntryPointRefused, ImportError_,
    InputError, RecordNotFound, TerritoryValidationError,
    TierValidationError, TradeRefused)
from distributor.import_ import COLUMNS, template

from .tools import (
    create_distributor, create_territories, create_tiers, license_values,
    network, with_transaction)

PROJECT_PREFIXES = ('distributor',)
# Reference data every user may read (shown on party forms): still
# nobody writes them without a DMS group
READABLE_BY_DEFAULT = {
    'distributor.tier',
    'distributor.tier-distributor.tier',
    'distributor.territory',
    'distributor.territory-company.employee',
    'party.party-distributor.territory',
    'party.party-product.category',
    }


def workbook(rows, header=None):
    "Return xlsx bytes with header and rows (list of dicts)"
    header = header or [k for k, _ in COLUMNS]
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {'in_memory': True})
    sheet = book.add_worksheet()
    for col, key in enumerate(header):
        sheet.write(0, col, key)
    for row, values in enumerate(rows, 1):
        for col, key in enumerate(header):
            value = values.get(key)
            if value is not None:
                sheet.write(row, col, value)
    book.close()
    return output.getvalue()


def create_user(login, group_xml_ids, employee=None, company=None):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    values = {
        'login': login,
        'name': login,
        'groups': [('add', [
                    ModelData.get_id('distributor', g)
                    for g in group_xml_ids])],
        }
    if company:
        values['companies'] = [('add', [company.id])]
        values['company'] = company.id
    if employee:
        values['employees'] = [('add', [employee.id])]
        values['employee'] = employee.id
    user, = User.create([values])
    return user


class DistributorTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Distributor module"
    module = 'distributor'

    # Access ------------------------------------------------------------

    @with_transaction()
    def test_every_model_has_denying_default_access(self):
        "Every project model has a default access row that denies"
        pool = Pool()
        Access = pool.get('ir.model.access')
        checked = 0
        for name, Model in pool.iterobject():
            if (not issubclass(Model, ModelSQL)
                    or callable(getattr(Model, 'table_query', None))):
                continue
            module = pool.get('ir.model').search(
                [('name', '=', name)])[0].module
            if not (module or '').startswith(PROJECT_PREFIXES):
                continue
            checked += 1
            with self.subTest(model=name):
                defaults = Access.search([
                        ('model', '=', name),
                        ('group', '=', None),
                        ])
                self.assertEqual(len(defaults), 1, name)
                default, = defaults
                self.assertFalse(default.perm_write, name)
                self.assertFalse(default.perm_create, name)
                self.assertFalse(default.perm_delete, name)
                if not issubclass(Model, ModelSingleton):
                    self.assertEqual(
                        default.perm_read, name in READABLE_BY_DEFAULT, name)
                else:
                    self.assertFalse(default.perm_read, name)
        self.assertGreaterEqual(checked, 8)

    # Tiers and territories ----------------------------------------------

    @with_transaction()
    def test_tier_downstream_must_be_deeper(self):
        "A downstream tier has a deeper level"
        Tier = Pool().get('distributor.tier')
        t1, t2, t3 = create_tiers()
        self.assertTrue(t1.allows_downstream(t2))
        self.assertTrue(t1.allows_downstream(t3))
        self.assertFalse(t2.allows_downstream(t1))
        self.assertFalse(t2.allows_downstream(t2))
        with self.assertRaises(DomainValidationError):
            Tier.write([t3], {'downstream_tiers': [('add', [t2.id])]})
        # Changing a level may break an existing pair too
        with self.assertRaises(TierValidationError):
            Tier.write([t2], {'level': 1})

    @with_transaction()
    def test_tier_code_unique(self):
        Tier = Pool().get('distributor.tier')
        create_tiers()
        with self.assertRaises(SQLConstraintError):
            Tier.create([{'code': 'T1', 'name': "Again", 'level': 4}])

    @with_transaction()
    def test_territory_rules(self):
        "Territory codes are unique, kinds deepen, no cycles"
        Territory = Pool().get('distributor.territory')
        ts = create_territories()
        self.assertEqual(ts.nj.rec_name, "East / Jiangsu / Nanjing")
        with self.assertRaises(TerritoryValidationError):
            Territory.create([{'code': 'X', 'name': "X", 'kind': 'region',
                        'parent': ts.js.id}])
        with self.assertRaises(TerritoryValidationError):
            # a province under a city
            Territory.write([ts.zj], {'parent': ts.nj.id})
        with self.assertRaises(UserError):
            Territory.write([ts.east], {'parent': ts.nj.id})
        # Last: the database refuses the statement
        with self.assertRaises(SQLConstraintError):
            Territory.create([{'code': 'EC', 'name': "X", 'kind': 'region'}])

    # Distributor files -------------------------------------------------

    @with_transaction()
    def test_distributor_code_unique(self):
        with network() as (company, (t1, t2, t3), ts):
            create_distributor('D1', t1, [ts.east])
            with self.assertRaises(SQLConstraintError):
                create_distributor('D1', t1, [ts.south])

    @with_transaction()
    def test_tier_defaults(self):
        "The tier gives its payment term and credit limit"
        pool = Pool()
        Tier = pool.get('distributor.tier')
        PaymentTerm = pool.get('account.invoice.payment_term')
        company = create_company()
        with set_company(company):
            term, = PaymentTerm.create([{
                        'name': "30 days",
                        'lines': [('create', [{'type': 'remainder'}])],
                        }])
            t1, t2, t3 = create_tiers()
            Tier.write([t1], {
                    'payment_term': term.id,
                    'credit_limit_amount': Decimal('500000'),
                    })
            ts = create_territories()
            party = create_distributor('D1', t1, [ts.east])
            self.assertEqual(party.customer_payment_term, term)
            self.assertEqual(party.credit_limit_amount, Decimal('500000'))
            # Own values win
            other = create_distributor('D2', t1, [ts.south],
                credit_limit_amount=Decimal('1000'))
            self.assertEqual(other.credit_limit_amount, Decimal('1000'))

    @with_transaction()
    def test_tier_pair(self):
        "The upstream's tier is higher and allows the downstream's tier"
        pool = Pool()
        Party = pool.get('party.party')
        with network() as (company, (t1, t2, t3), ts):
            agent = create_distributor('D1', t1, [ts.east])
            regional = create_distributor('D2', t2, [ts.js], upstream=agent)
            county = create_distributor('D3', t3, [ts.nj], upstream=regional)
            self.assertEqual(regional.upstream, agent)
            self.assertEqual(list(agent.downstreams), [regional])
            # a regional under a county: refused
            with self.assertRaises(ChannelRuleError):
                create_distributor('D4', t2, [ts.nj], upstream=county)
            # a regional under a regional: same level, refused
            with self.assertRaises(ChannelRuleError):
                create_distributor('D5', t2, [ts.nj], upstream=regional)
            # changing the tier of an upstream re-checks its downstreams
            with self.assertRaises(ChannelRuleError):
                Party.write([regional], {'distributor_tier': t3.id})

    @with_transaction()
    def test_territory_inside_upstream(self):
        "A downstream's territories lie inside its upstream's"
        pool = Pool()
        Party = pool.get('party.party')
        with network() as (company, (t1, t2, t3), ts):
            agent = create_distributor('D1', t1, [ts.east])
            regional = create_distributor('D2', t2, [ts.js], upstream=agent)
            with self.assertRaises(ChannelRuleError):
                create_distributor('D3', t3, [ts.hz], upstream=regional)
            with self.assertRaises(ChannelRuleError):
                create_distributor('D4', t2, [ts.gz], upstream=agent)
            # shrinking the upstream's territories re-checks downstreams
            with self.assertRaises(ChannelRuleError):
                Party.write([agent], {
                        'territories': [('remove', [ts.east.id])],
                        })
            self.assertEqual(
                [t.code for t in Party(regional.id).territories], ['EC-JS'])

    @with_transaction()
    def test_no_hierarchy_cycle(self):
        pool = Pool()
        Party = pool.get('party.party')
        Tier = pool.get('distributor.tier')
        with network() as (company, (t1, t2, t3), ts):
            a = create_distributor('D1', t1, [ts.east])
            b = create_distributor('D2', t2, [ts.east], upstream=a)
            # Let every tier sit under every other to isolate the cycle rule
            Tier.write([t2], {'level': 2})
            with self.assertRaises(ChannelRuleError):
                Party.write([a], {'upstream': b.id})
            with self.assertRaises(UserError):
                Party.write([a], {'upstream': a.id})

    @with_transaction()
    def test_upstream_must_trade(self):
        "A frozen or terminated distributor cannot be chosen as upstream"
        pool = Pool()
        Party = pool.get('party.party')
        with network() as (company, (t1, t2, t3), ts):
            agent = create_distributor('D1', t1, [ts.east])
            Party.change_distributor_state([agent], 'frozen', "Overdue")
            with self.assertRaisesRegex(TradeRefused, 'Frozen'):
                create_distributor('D2', t2, [ts.js], upstream=agent)
            # a draft upstream is fine: both may be activated together
            draft = create_distributor(
                'D3', t1, [ts.south], activate=False)
            create_distributor('D4', t2, [ts.gd], upstream=draft,
                activate=False)
            # existing downstreams are kept when their upstream is frozen
            Party.change_distributor_state([agent], 'active')
            regional = create_distributor('D5', t2, [ts.js], upstream=agent)
            Party.change_distributor_state([agent], 'frozen', "Overdue")
            Party.write([regional], {'distributor_grade': 'B'})
            self.assertEqual(regional.upstream, agent)

    # Lifecycle ---------------------------------------------------------

    @with_transaction()
    def test_activation_requirements(self):
        "Activation needs a tier, a territory and a business license"
        pool = Pool()
        Party = pool.get('party.party')
        Qualification = pool.get('distributor.qualification')
        with network() as (company, (t1, t2, t3), ts):
            party, = Party.create([{
                        'name': "New", 'is_distributor': True,
                        'distributor_code': 'N1',
                        }])
            with self.assertRaisesRegex(DistributorStateError, 'tier'):
                Party.change_distributor_state([party], 'active')
            Party.write([party], {'distributor_tier': t1.id})
            with self.assertRaisesRegex(DistributorStateError, 'territory'):
                Party.change_distributor_state([party], 'active')
            Party.write([party], {'territories': [('add', [ts.east.id])]})
            with self.assertRaisesRegex(
                    DistributorStateError, 'business license'):
                Party.change_distributor_state([party], 'active')
            today = pool.get('ir.date').today()
            expired, = Qualification.create([{
                        'party': party.id,
                        **license_values('BL-OLD', days=-1, start=-400)}])
            self.assertEqual(expired.status, 'expired')
            with self.assertRaises(DistributorStateError):
                Party.change_distributor_state([party], 'active')
            food, = Qualification.create([{
                        'party': party.id, 'type': 'food_license',
                        'number': 'FL-1',
                        'valid_from': today - dt.timedelta(days=900),
                        'valid_to': today - dt.timedelta(days=10),
                        }])
            Qualification.create([{
                        'party': party.id,
                        **license_values('BL-NEW', days=20)}])
            # the business license is renewed but the food license expired
            with self.assertRaisesRegex(
                    DistributorStateError, 'FL-1'):
                Party.change_distributor_state([party], 'active')
            Qualification.write([food], {
                    'valid_to': today + dt.timedelta(days=400)})
            Party.change_distributor_state([party], 'active')
            self.assertEqual(party.distributor_state, 'active')
            self.assertEqual(party.qualification_status, 'expiring')
            self.assertTrue(party.may_trade())

    @with_transaction()
    def test_lifecycle_and_history(self):
        "draft > active > frozen > active > terminated, with history"
        pool = Pool()
        Party = pool.get('party.party')
        Log = pool.get('distributor.state.log')
        with network() as (company, (t1, t2, t3), ts):
            party = create_distributor('D1', t1, [ts.east], activate=False)
            self.assertEqual(party.distributor_state, 'draft')
            self.assertFalse(party.may_trade())
            with self.assertRaises(TradeRefused):
                party.check_may_trade()
            Party.distributor_activate([party])
            self.assertTrue(party.may_trade())
            party.check_may_trade()
            for reason in [None, '', '   ']:
                with self.assertRaisesRegex(
                        DistributorStateError, 'reason'):
                    Party.change_distributor_state([party], 'frozen', reason)
            self.assertEqual(party.distributor_state, 'active')
            Party.change_distributor_state([party], 'frozen', "Overdue")
            self.assertFalse(party.may_trade())
            with self.assertRaises(DistributorStateError):
                Party.distributor_activate([party])  # draft only
            # activate and unfreeze share the same transition
            Party.distributor_unfreeze([party])
            self.assertEqual(party.distributor_state, 'active')
            with self.assertRaises(DistributorStateError):
                Party.change_distributor_state([party], 'terminated')
            Party.change_distributor_state(
                [party], 'terminated', "Contract ended")
            with self.assertRaises(DistributorStateError):
                Party.change_distributor_state([party], 'active')
            logs = Log.search(
                [('party', '=', party.id)], order=[('id', 'ASC')])
            self.assertEqual(
                [(l.from_state, l.to_state, l.reason) for l in logs], [
                    ('draft', 'active', None),
                    ('active', 'frozen', "Overdue"),
                    ('frozen', 'active', None),
                    ('active', 'terminated', "Contract ended"),
                    ])
            self.assertTrue(all(l.create_uid and l.create_date for l in logs))
            with self.assertRaises(DistributorStateError):
                Log.write(logs, {'reason': "rewritten"})
            with self.assertRaises(DistributorStateError):
                Log.delete(logs)
            # only draft distributors are deleted
            with self.assertRaises(DistributorStateError):
                Party.delete([party])

    @with_transaction()
    def test_state_not_writable_from_outside(self):
        "The state changes only through the workflow"
        pool = Pool()
        Party = pool.get('party.party')
        with network() as (company, (t1, t2, t3), ts):
            party = create_distributor('D1', t1, [ts.east], activate=False)
            with Transaction().set_context(_check_access=True):
                with self.assertRaises(DistributorStateError):
                    Party.write([party], {'distributor_state': 'active'})
            self.assertEqual(party.distributor_state, 'draft')

    @with_transaction()
    def test_copy_distributor(self):
        "A copy starts in draft without code nor history"
        pool = Pool()
        Party = pool.get('party.party')
        with network() as (company, (t1, t2, t3), ts):
            party = create_distributor('D1', t1, [ts.east])
            copy, = Party.copy([party])
            self.assertEqual(copy.distributor_state, 'draft')
            # PostgreSQL's sequences keep what tests before used (nextval
            # is not rolled back): the number is the next of the sequence
            self.assertRegex(copy.distributor_code, r'^DST\d{5}$')
            number = int(copy.distributor_code[3:])
            self.assertEqual(copy.state_logs, ())
            self.assertEqual(copy.qualifications, ())
            # a party becoming a distributor is numbered too
            plain, = Party.create([{'name': "Plain"}])
            self.assertIsNone(plain.distributor_code)
            Party.write([plain], {'is_distributor': True})
            self.assertEqual(plain.distributor_code, f'DST{number + 1:05d}')

    # Territory analysis -------------------------------------------------

    @with_transaction()
    def test_territory_counts_and_scope(self):
        "Counts include sub-territories, once per distributor"
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        with network() as (company, (t1, t2, t3), ts):
            agent = create_distributor('D1', t1, [ts.east])
            create_distributor('D2', t2, [ts.nj, ts.sz], upstream=agent)
            create_distributor('D3', t2, [ts.hz], upstream=agent)
            gone = create_distributor('D4', t1, [ts.south])
            Party.change_distributor_state([gone], 'terminated', "Closed")
            counts = {t.code: t.distributor_count
                for t in Territory.browse([ts.east, ts.js, ts.nj, ts.south])}
            self.assertEqual(
                counts, {'EC': 3, 'EC-JS': 1, 'EC-JS-NJ': 1, 'SC': 0})
            found = Party.search([('territory_scope', '=', ts.js.id)])
            self.assertEqual([p.distributor_code for p in found], ['D2'])
            found = Party.search(
                [('territory_scope', 'ilike', '%Zhejiang%')])
            self.assertEqual([p.distributor_code for p in found], ['D3'])

    # Qualifications ----------------------------------------------------

    @with_transaction()
    def test_qualification_expiry_cron(self):
        "The daily task flags expiring and expired and warns once"
        pool = Pool()
        Qualification = pool.get('distributor.qualification')
        Notification = pool.get('res.notification')
        Date = pool.get('ir.date')
        company = create_company()
        with set_company(company):
            rep = create_employee(company, "Rep East")
            manager = create_user('manager', ['group_channel_manager'])
            rep_user = create_user('rep', ['group_sales_rep'],
                employee=rep, company=company)
            t1, t2, t3 = create_tiers()
            ts = create_territories()
            fine = create_distributor('D1', t1, [ts.east])
            soon = create_distributor('D2', t1, [ts.south], sales_rep=rep.id)
            today = Date.today()
            q_soon, = [q for q in soon.qualifications]
            Qualification.write([q_soon], {
                    'valid_to': today + dt.timedelta(days=10)})
            self.assertEqual(q_soon.status, 'expiring')
            self.assertEqual(Qualification.search(
                    [('status', '=', 'expiring')]), [q_soon])
            # Time passes: the status is of the day, no task updates it
            later = today + dt.timedelta(days=11)
            warned = Qualification.check_expiry(date=later)
            self.assertEqual(warned, [q_soon])
            self.assertEqual(Qualification(q_soon.id).status, 'expiring')
            with Transaction().set_context(qualification_date=later):
                self.assertEqual(Qualification(q_soon.id).status, 'expired')
                self.assertEqual(
                    Qualification(fine.qualifications[0].id).status, 'valid')
                self.assertEqual(Qualification.search(
                        [('status', '=', 'expired')]), [q_soon])
                self.assertEqual(Qualification.search(
                        [('status', 'in', ['valid', 'expiring'])],
                        order=[('status', 'ASC'), ('id', 'ASC')]),
                    [q for q in Qualification.search([],
                            order=[('id', 'ASC')]) if q != q_soon])
            # the distributor hears of it in its inbox, in its language
            Message = pool.get('distributor.message')
            message, = Message.search([('party', '=', soon.id)])
            self.assertIn('BL-D2', message.subject)
            self.assertEqual(message.origin, q_soon)
            # written through the ORM: who and when are set
            self.assertTrue(Qualification(q_soon.id).notified)
            self.assertIsNotNone(Qualification(q_soon.id).write_date)
            notifications = Notification.search([])
            self.assertEqual(
                sorted(n.user.login for n in notifications),
                ['admin', 'manager', 'rep'])
            self.assertIn('BL-D2', notifications[0].label)
            self.assertIn(manager, [n.user for n in notifications])
            self.assertIn(rep_user, [n.user for n in notifications])
            # Warned once
            Qualification.check_expiry(date=today + dt.timedelta(days=12))
            self.assertEqual(Notification.search_count([]), 3)
            Party = pool.get('party.party')
            with Transaction().set_context(qualification_date=later):
                found = Party.search(
                    [('qualification_status', '=', 'expired')])
                self.assertEqual(found, [soon])
                self.assertEqual(
                    Party(soon.id).qualification_status, 'expired')
            self.assertEqual(Party.search(
                    [('qualification_status', '=', 'expiring')]), [soon])
            # a renewed licence supersedes the expired one
            Qualification.create([{
                        'party': soon.id, **license_values('BL-D2-2026')}])
            with Transaction().set_context(qualification_date=later):
                self.assertEqual(
                    Party(soon.id).qualification_status, 'valid')
                self.assertEqual(Party.search([('qualification_status',
                                'in', ['expiring', 'expired'])]), [])
                self.assertEqual(Party.search(
                        [('qualification_status', '=', 'valid')],
                        order=[('id', 'ASC')]), [fine, soon])
            # renewed: the old licence's warning flag stays, the new one
            # is warned about in its turn
            Qualification.write([q_soon], {
                    'valid_to': today + dt.timedelta(days=400)})
            self.assertFalse(Qualification(q_soon.id).notified)

    @with_transaction()
    def test_one_brand(self):
        "A database holds one brand: a second company is refused"
        pool = Pool()
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        company = create_company()
        party, = Party.create([{'name': "Second Brand"}])
        with self.assertRaisesRegex(UserError, 'one brand'):
            Company.create([{'party': party.id,
                        'currency': company.currency.id}])
        self.assertEqual(Company.search([]), [company])

    @with_transaction()
    def test_qualification_validity(self):
        "A qualification ends after it starts and is registered once"
        pool = Pool()
        Qualification = pool.get('distributor.qualification')
        with network() as (company, (t1, t2, t3), ts):
            a = create_distributor('D1', t1, [ts.east])
            b = create_distributor('D2', t1, [ts.south])
            today = Pool().get('ir.date').today()
            with self.assertRaises(UserError):
                Qualification.create([{
                            'party': a.id, 'number': 'X',
                            'valid_from': today,
                            'valid_to': today - dt.timedelta(days=1)}])
            with self.assertRaises(UserError):
                Qualification.create([{
                            'party': b.id, **license_values('BL-D1')}])

    # Import ------------------------------------------------------------

    def _import_world(self):
        pool = Pool()
        Category = pool.get('party.category')
        t1, t2, t3 = create_tiers()
        ts = create_territories()
        Category.create([{'name': "KA"}])
        agent = create_distributor('A1', t1, [ts.east])
        return t1, ts, agent

    @with_transaction()
    def test_import_template(self):
        "The template has every column and an example row"
        company = create_company()
        with set_company(company):
            book = load_workbook(io.BytesIO(template()))
            sheet = book.worksheets[0]
            header = [c.value for c in sheet[1]]
            self.assertEqual(header, [k for k, _ in COLUMNS])
            self.assertEqual(sheet['A2'].value, 'D0001')
            self.assertEqual(book.sheetnames, ['distributors', 'help'])

    @with_transaction()
    def test_import_distributors(self):
        "A good file creates draft distributors, upstreams in the file too"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            self._import_world()
            data = workbook([{
                        'code': 'B1', 'name': "Nanjing Trading",
                        'tier': 'T2', 'upstream': 'A1',
                        'territories': 'EC-JS', 'grade': 'A',
                        'settlement_method': 'credit', 'tags': 'KA',
                        'phone': '025-1234567', 'street': "1 Zhongshan Rd",
                        'city': "Nanjing",
                        'qualification_number': 'BL-B1',
                        'qualification_valid_from': '2024-01-01',
                        'qualification_valid_to': '2099-12-31',
                        }, {
                        'code': 'C1', 'name': "Suzhou County Trading",
                        'tier': 'T3', 'upstream': 'B1',
                        'territories': 'EC-JS-SZ',
                        'cooperation_start': '2025/03/01',
                        }])
            parties = Party.import_distributors(data)
            self.assertEqual(len(parties), 2)
            b1, c1 = parties
            self.assertEqual(b1.distributor_state, 'draft')
            self.assertEqual(b1.upstream.distributor_code, 'A1')
            self.assertEqual(c1.upstream, b1)
            self.assertEqual(c1.cooperation_start, dt.date(2025, 3, 1))
            self.assertEqual([c.name for c in b1.categories], ["KA"])
            self.assertEqual(b1.qualifications[0].valid_to,
                dt.date(2099, 12, 31))
            self.assertEqual(b1.addresses[0].city, "Nanjing")
            Party.change_distributor_state([b1], 'active')

    @with_transaction()
    def test_import_wizard(self):
        "The wizard offers the template and opens what it imported"
        pool = Pool()
        Import = pool.get('distributor.import', type='wizard')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            self._import_world()
            session_id, _, _ = Import.create()
            start = Import(session_id).default_start(None)
            self.assertEqual(
                start['template_filename'], 'distributor_import.xlsx')
            self.assertTrue(load_workbook(io.BytesIO(start['template'])))
            result = Import.execute(session_id, {'start': {
                        'file': workbook([{'code': 'W1', 'name': "Wizard Co",
                                    'tier': 'T1', 'territories': 'SC'}]),
                        'filename': 'w.xlsx',
                        }}, 'import_')
            (action, _), = result['actions']
            party, = Party.search([('distributor_code', '=', 'W1')])
            self.assertEqual(PYSONDecoder().decode(action['pyson_domain']),
                [['id', 'in', [party.id]]])
            self.assertTrue(action['name'].endswith('(1)'))

    @with_transaction()
    def test_import_bad_rows_write_nothing(self):
        "Every bad row is reported with its number and nothing is written"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            self._import_world()
            before = Party.search_count([])
            data = workbook([
                    {'code': 'OK1', 'name': "Good", 'tier': 'T2',
                        'territories': 'EC-JS', 'upstream': 'A1'},
                    {'code': 'X2', 'name': "Bad tier", 'tier': 'T9',
                        'territories': 'EC'},
                    {'code': 'X3', 'name': "Bad date", 'tier': 'T1',
                        'territories': 'SC',
                        'cooperation_start': '2025-13-40'},
                    {'code': 'OK1', 'name': "Duplicate", 'tier': 'T1',
                        'territories': 'SC'},
                    {'code': 'X5', 'name': "Outside", 'tier': 'T2',
                        'territories': 'SC-GD', 'upstream': 'A1'},
                    {'code': 'X6', 'name': "", 'tier': 'T1',
                        'territories': 'SC', 'grade': 'Z'},
                    {'code': 'A1', 'name': "Exists", 'tier': 'T1',
                        'territories': 'SC'},
                    {'code': 'X8', 'name': "Pair", 'tier': 'T1',
                        'territories': 'EC-JS', 'upstream': 'A1'},
                    ])
            with self.assertRaises(ImportError_) as cm:
                Party.import_distributors(data)
            message = cm.exception.message
            for expected in [
                    'Row 3: unknown value "T9" in column "tier"',
                    'Row 4: value "2025-13-40" in column "cooperation_start"',
                    'Row 5: distributor code "OK1" is also on row 2',
                    'Row 6: territory "SC-GD" lies outside',
                    'Row 7: column "name" is required',
                    'Row 7: value "Z" in column "grade"',
                    'Row 8: distributor code "A1" already exists',
                    'Row 9: tier "T1" cannot sit under upstream "A1"',
                    ]:
                self.assertIn(expected, message)
            self.assertNotIn('Row 2:', message)
            self.assertEqual(Party.search_count([]), before)

    @with_transaction()
    def test_import_malformed_files(self):
        "Not a workbook, wrong columns, empty: clear errors"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            self._import_world()
            with self.assertRaisesRegex(ImportError_, 'not an Excel'):
                Party.import_distributors(b'code,name\nD1,Foo\n')
            with self.assertRaisesRegex(ImportError_, 'Unknown: colour'):
                Party.import_distributors(workbook(
                        [{'code': 'D1'}], header=['code', 'name', 'colour']))
            with self.assertRaisesRegex(ImportError_, 'Missing: tier'):
                Party.import_distributors(workbook(
                        [{'code': 'D1'}], header=['code', 'name']))
            with self.assertRaisesRegex(ImportError_, 'no distributor'):
                Party.import_distributors(workbook([]))

    # Security ----------------------------------------------------------

    def _security_world(self, company):
        rep_east = create_employee(company, "Rep East")
        rep_south = create_employee(company, "Rep South")
        pool = Pool()
        Territory = pool.get('distributor.territory')
        t1, t2, t3 = create_tiers()
        ts = create_territories()
        Territory.write([ts.east], {'reps': [('add', [rep_east.id])]},
            [ts.gd], {'reps': [('add', [rep_south.id])]})
        agent = create_distributor('E1', t1, [ts.east])
        regional = create_distributor('E2', t2, [ts.nj], upstream=agent)
        south = create_distributor('S1', t1, [ts.gd])
        users = {
            'east': create_user('rep_east', ['group_sales_rep'],
                employee=rep_east, company=company),
            'south': create_user('rep_south', ['group_sales_rep'],
                employee=rep_south, company=company),
            'manager': create_user('manager', ['group_channel_manager'],
                company=company),
            'accountant': create_user('accountant',
                ['group_dms_accountant'], company=company),
            'both': create_user('rep_manager',
                ['group_sales_rep', 'group_channel_manager'],
                employee=rep_south, company=company),
            }
        return ts, (agent, regional, south), users

    @contextmanager
    def _as(self, user):
        "Run as user with access checks, as an RPC call does"
        transaction = Transaction()
        with transaction.set_user(user.id), transaction.set_context(
                _check_access=True):
            yield

    @with_transaction()
    def test_rep_sees_own_territories(self):
        "A rep sees the distributors of their territories, and below"
        pool = Pool()
        Party = pool.get('party.party')
        Qualification = pool.get('distributor.qualification')
        Log = pool.get('distributor.state.log')
        company = create_company()
        with set_company(company):
            ts, (agent, regional, south), users = self._security_world(
                company)
            domain = [('is_distributor', '=', True)]

            def codes(user, Model=Party, domain=domain, field=None):
                with self._as(user):
                    records = Model.search(domain)
                    if field:
                        return sorted(
                            getattr(r, field).distributor_code
                            for r in records)
                    return sorted(r.distributor_code for r in records)

            # the same process, one after the other: no cached domain leaks
            self.assertEqual(codes(users['east']), ['E1', 'E2'])
            self.assertEqual(codes(users['south']), ['S1'])
            self.assertEqual(codes(users['east']), ['E1', 'E2'])
            self.assertEqual(
                codes(users['manager']), ['E1', 'E2', 'S1'])
            self.assertEqual(
                codes(users['accountant']), ['E1', 'E2', 'S1'])
            self.assertEqual(codes(users['both']), ['E1', 'E2', 'S1'])
            self.assertEqual(
                codes(users['south'], Qualification, [], 'party'), ['S1'])
            self.assertEqual(
                codes(users['east'], Log, [], 'party'), ['E1', 'E2'])

            # reading a record outside the territory is refused
            with self._as(users['south']):
                with self.assertRaises(AccessError):
                    Party.read([agent.id], ['name'])
                with self.assertRaises(AccessError):
                    Party.write([Party(agent.id)], {'name': "Agent"})
                # and inside, allowed for the contact data
                Party.write([Party(south.id)], {'name': "South Co"})
                # the channel fields are the managers'
                for values in [{'distributor_grade': 'C'},
                        {'settlement_method': 'prepaid'},
                        {'sales_rep': None}, {'upstream': None},
                        {'credit_limit_amount': 1}]:
                    with self.assertRaises(AccessError):
                        Party.write([Party(south.id)], values)
                # a rep never widens its reach: no territory of another
                with self.assertRaises(AccessError):
                    Party.write([Party(south.id)], {
                            'territories': [('add', [ts.nj.id])]})
            self.assertEqual(
                [t.code for t in Party(south.id).territories], ['SC-GD'])
            with self._as(users['east']):
                self.assertEqual(Party.search_count(
                        [('id', '=', south.id)]), 0)

    @with_transaction()
    def test_rep_territory_change_applies(self):
        "Assigning a territory to a rep widens what they see at once"
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        company = create_company()
        with set_company(company):
            ts, _, users = self._security_world(company)
            with self._as(users['south']):
                self.assertEqual(Party.search_count(
                        [('is_distributor', '=', True)]), 1)
            Territory.write([ts.js], {
                    'reps': [('add', [users['south'].employee.id])]})
            with self._as(users['south']):
                self.assertEqual(Party.search_count(
                        [('is_distributor', '=', True)]), 2)

    @with_transaction()
    def test_who_may_press_lifecycle_buttons(self):
        "Reps and accountants cannot freeze; managers can"
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        company = create_company()
        with set_company(company):
            ts, (agent, regional, south), users = self._security_world(
                company)
            for name in ['east', 'accountant']:
                with self._as(users[name]):
                    with self.assertRaises(AccessButtonError):
                        Party.distributor_activate([Party(agent.id)])
            with self._as(users['manager']):
                Party.distributor_freeze([Party(agent.id)])
            # Reps do not edit territories
            with self._as(users['east']):
                with self.assertRaises(AccessError):
                    Territory.write([Territory(ts.nj.id)], {'name': "X"})

    @with_transaction()
    def test_rep_creates_only_in_own_territories(self):
        "A rep imports or creates distributors of their territories only"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            ts, _, users = self._security_world(company)
            before = Party.search_count([])
            with self._as(users['south']):
                # the import sets channel fields: managers only
                with self.assertRaises(EntryPointRefused):
                    Party.import_distributors(workbook([
                                {'code': 'N1', 'name': "Guangzhou Co",
                                    'tier': 'T1', 'territories': 'SC-GD-GZ'},
                                ]))
            self.assertEqual(Party.search_count([]), before)
            with self._as(users['south']):
                # a lead of its own territory, which it then sees
                party, = Party.create([{
                            'name': "Guangzhou Co", 'is_distributor': True,
                            'territories': [('add', [ts.gd.id])],
                            'distributor_tier': None,
                            'distributor_grade': None,
                            }])
                self.assertEqual(Party.search_count(
                        [('id', '=', party.id)]), 1)
                # outside its territories: refused
                with self.assertRaises(AccessError):
                    Party.create([{
                                'name': "Hangzhou Co", 'is_distributor': True,
                                'territories': [('add', [ts.hz.id])],
                                }])
                # a tier is the managers'
                with self.assertRaises(AccessError):
                    Party.create([{
                                'name': "Foshan Co", 'is_distributor': True,
                                'territories': [('add', [ts.gd.id])],
                                'distributor_tier': party.id,
                                }])
            self.assertEqual(Party.search_count([]), before + 1)

    @with_transaction()
    def test_plain_user_reads_party_form(self):
        """A user outside the DMS groups keeps Tryton's parties, not the
        channel's"""
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        company = create_company()
        with set_company(company):
            ts, (agent, regional, south), users = self._security_world(
                company)
            lead = create_distributor('E9', None, [ts.east], activate=False)
            plain, = User.create([{'login': 'plain', 'name': "Plain"}])
            with Transaction().set_user(plain.id), \
                    Transaction().set_context(_check_access=True):
                # the company's own party and any other party
                self.assertTrue(Party.read([company.party.id], ['name']))
                # a client's create sends every field with its default
                guarded = Party._dms_guarded_fields()
                defaults = Party.default_get(
                    list(guarded), with_rec_name=False)
                party, = Party.create([{
                            **{k: defaults.get(k) for k in guarded},
                            'name': "Walk-in"}])
                Party.write([party], {'name': "Walk-in Customer"})
                # the distributors stay out of reach, every way
                self.assertEqual(Party.search_count(
                        [('is_distributor', '=', True)]), 0)
                with self.assertRaises(AccessError):
                    Party.read([agent.id], ['name'])
                with self.assertRaises(AccessError):
                    Party.write([Party(agent.id)], {'name': "Mine"})
                for party in [regional, lead]:
                    with self.assertRaises(AccessError):
                        Party.delete([Party(party.id)])
                # and so are the channel fields
                with self.assertRaises(AccessError):
                    Party.write([party], {'is_distributor': True})

    @with_transaction()
    def test_accountant_reads_only(self):
        "The DMS accountant reads every distributor and changes none"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            ts, (agent, regional, south), users = self._security_world(
                company)
            lead = create_distributor('E9', None, [ts.east], activate=False)
            with self._as(users['accountant']):
                self.assertEqual(Party.search_count(
                        [('is_distributor', '=', True)]), 4)
                for values in [{'settlement_method': 'prepaid'},
                        {'sales_rep': None}, {'name': "Renamed"}]:
                    with self.assertRaises(AccessError):
                        Party.write([Party(agent.id)], values)
                with self.assertRaises(AccessError):
                    Party.delete([Party(lead.id)])
                with self.assertRaises(EntryPointRefused):
                    Party.change_distributor_state(
                        [agent.id], 'frozen', "Overdue")
            self.assertEqual(Party(agent.id).distributor_state, 'active')
            with self._as(users['manager']):
                Party.change_distributor_state(
                    [agent.id], 'frozen', "Overdue")
                # an id out of reach reads like a missing one
                with self.assertRaises(RecordNotFound):
                    Party.change_distributor_state(
                        [10 ** 9], 'frozen', "Overdue")
            self.assertEqual(Party(agent.id).distributor_state, 'frozen')


    # Transactions ------------------------------------------------------

    def test_rollback_after_cache_timeout(self):
        """A transaction that starts once the cache's clean timeout has
        passed (the cache then syncs on its connection) still rolls back
        whole"""
        Tier = Pool(DB_NAME).get('distributor.tier')
        timeout = config.get('cache', 'clean_timeout')
        config.set('cache', 'clean_timeout', '1')
        try:
            Cache._clean_last = dt.datetime.now() - dt.timedelta(hours=1)
            with Transaction().start(DB_NAME, USER) as transaction:
                Tier.create([{'code': 'ROLLBACK', 'name': "Refused",
                            'level': 9}])
                self.assertTrue(Tier.search([('code', '=', 'ROLLBACK')]))
                transaction.rollback()
            with Transaction().start(DB_NAME, USER):
                self.assertEqual(
                    Tier.search([('code', '=', 'ROLLBACK')]), [])
        finally:
            config.set('cache', 'clean_timeout', timeout)

    # Validation layer --------------------------------------------------

    @with_transaction()
    def test_validation_layer(self):
        "Numbers, dates, texts and lines from outside are checked"
        for value in ['inf', float('nan'), float('inf'), 'ten', None, [],
                True, 'NaN']:
            with self.assertRaises(InputError):
                validation.number(value, 'quantity')
        self.assertEqual(validation.number('1.5', 'q'), Decimal('1.5'))
        with self.assertRaisesRegex(InputError, 'maximum'):
            validation.quantity(1e18, 'quantity')
        with self.assertRaisesRegex(InputError, 'greater than zero'):
            validation.quantity(0, 'quantity')
        self.assertEqual(validation.quantity(0, 'q', allow_zero=True), 0)
        with self.assertRaises(InputError):
            validation.quantity(-1, 'q', allow_zero=True)
        with self.assertRaisesRegex(InputError, 'digits|decimals'):
            validation.number('1.234', 'price', digits=2, strict=True)
        for value in ['2026-13-45', '2026-02-30', 'tomorrow', 20260101]:
            with self.assertRaises(InputError):
                validation.date(value, 'date')
        self.assertEqual(validation.date('2026-02-28', 'date'),
            dt.date(2026, 2, 28))
        for value in ['a\x00b', 'evil\u202etxt', 'tab\x1b[2J']:
            with self.assertRaisesRegex(InputError, 'control'):
                validation.text(value, 'comment')
        self.assertEqual(validation.text('  two\nlines ', 'c'),
            'two\nlines')
        with self.assertRaises(InputError):
            validation.text('two\nlines', 'reference', multiline=False)
        with self.assertRaisesRegex(InputError, 'at most 4000'):
            validation.text('x' * 1024 * 1024, 'comment')
        with self.assertRaisesRegex(InputError, 'at most 500'):
            validation.lines([{}] * 501, 'lines')
        for value in ['lines', [1, 2], {'product': 1}]:
            with self.assertRaises(InputError):
                validation.lines(value, 'lines')
        self.assertEqual(validation.id_mapping({'7': 1}, 'q'), {7: 1})
        for value in [{'x': 1}, {True: 1}, [1]]:
            with self.assertRaises(InputError):
                validation.id_mapping(value, 'q')

    @with_transaction()
    def test_document_fields_are_bounded(self):
        "A record's text is bounded and clean whatever the path"
        pool = Pool()
        Qualification = pool.get('distributor.qualification')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            create_tiers()
            party, = Party.create([{'name': "D", 'is_distributor': True}])
            for number in ['x' * 300, 'BL\u202e1']:
                with self.assertRaises(InputError):
                    Qualification.create([{**license_values(number),
                                'party': party.id}])

    # Login throttling --------------------------------------------------

    @with_transaction()
    def test_login_throttling_window(self):
        """Failed logins count over minutes, and tries refused while
        blocked do not count again"""
        pool = Pool()
        User = pool.get('res.user')
        Attempt = pool.get('res.user.login.attempt')
        user, = User.create([{'login': 'target', 'name': "Target",
                    'password': 'right-password'}])
        maximum = config.getint('session', 'max_attempt', default=5)
        for _ in range(maximum + 5):
            Attempt.add('target')
        self.assertEqual(Attempt.count('target'), maximum + 1)
        # once the window has passed, the login is free again
        table = Attempt.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.create_date],
                [dt.datetime.now() - dt.timedelta(minutes=6)]))
        self.assertEqual(Attempt.count('target'), 0)
        self.assertEqual(User.get_login('target', {
                    'password': 'right-password'}), user.id)

    # Trading -----------------------------------------------------------

    @with_transaction()
    def test_trading_needs_a_licence_in_force(self):
        "An expired business licence stops trading after the grace days"
        pool = Pool()
        Configuration = pool.get('distributor.configuration')
        Qualification = pool.get('distributor.qualification')
        Date = pool.get('ir.date')
        with network() as (company, (t1, t2, t3), ts):
            party = create_distributor('L1', t1, [ts.east])
            self.assertTrue(party.may_trade())
            licence, = party.qualifications
            today = Date.today()
            Qualification.write([licence], {
                    'valid_to': today - dt.timedelta(days=3)})
            self.assertEqual(party.distributor_state, 'active')
            refusal = party.trade_refusal()
            self.assertIn('expired on', refusal)
            with self.assertRaisesRegex(TradeRefused, 'expired'):
                party.check_may_trade()
            Configuration.write([Configuration(1)], {
                    'licence_grace_days': 5})
            self.assertTrue(party.may_trade())
            Qualification.create([{**license_values('BL-L1-2'),
                        'party': party.id}])
            Configuration.write([Configuration(1)], {
                    'licence_grace_days': 0})
            self.assertTrue(type(party)(party.id).may_trade())

del ModuleTestCase
