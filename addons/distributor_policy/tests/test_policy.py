# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Policies: publication to the targets (tier, territory with its
sub-territories, tag, grade, named distributors, OR), the locks and the
new version, withdrawal, read receipts (first view, acknowledgement),
rates and reminders, roles both ways, and the portal's inbox, detail,
acknowledgement and attachments"""
import datetime as dt

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.exceptions import (
    DocumentLockedError, DocumentStateError, EntryPointRefused,
    RecordNotFound)
from distributor.tests.tools import acting, create_distributor
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from ..exceptions import PolicyError
from ..portal_policy import sanitize_html

API = '/portal/api/v1'
REFUSED = (AccessError, AccessButtonError)
MISSING = 2 ** 31 - 1


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


def _identity(world, email):
    "The res.user a portal account acts as"
    WebUser = Pool().get('web.user')
    return WebUser(world.accounts[email]).dms_user


def _policy(title, **targets):
    "A draft policy (as the caller) with targets: {field: ids or values}"
    Policy = Pool().get('distributor.policy')
    values = {'title': title, 'kind': 'notice', 'body': '<p>Body</p>'}
    for name, value in targets.items():
        if name == 'grades':
            values[name] = value
        else:
            values[name] = [('add', list(value))]
    policy, = Policy.create([values])
    return policy


def _recipients(policy):
    Recipient = Pool().get('distributor.policy.recipient')
    return {r.distributor.id for r in Recipient.search([
                ('policy', '=', int(policy))])}


class PolicyTestCase(PortalTestCase):
    "Policies, their receipts and their portal pages"
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Tier = pool.get('distributor.tier')
        Territory = pool.get('distributor.territory')
        Category = pool.get('party.category')
        Party = pool.get('party.party')
        Policy = pool.get('distributor.policy')
        Attachment = pool.get('ir.attachment')
        with Transaction().set_context(company=world.company):
            tiers = {t.code: t for t in Tier.search([])}
            territories = {t.code: t for t in Territory.search([])}
            gz = territories['SC-GD-GZ']
            ka, = Category.create([{'name': "KA"}])
            # D5 national agent, D6 county with the tag, D7 named only,
            # D8 a frozen national agent (never a recipient)
            d5 = create_distributor('D5', tiers['T1'], [gz],
                distributor_grade='A')
            d6 = create_distributor('D6', tiers['T3'], [gz],
                distributor_grade='B', categories=[('add', [ka.id])])
            d7 = create_distributor('D7', tiers['T3'], [gz])
            d8 = create_distributor('D8', tiers['T1'], [gz],
                distributor_grade='B', categories=[('add', [ka.id])])
            Party.change_distributor_state([d8], 'frozen', "Overdue")
            d2 = Party(world.d2)
            Party.write([d2], {'distributor_grade': 'C'})
            Party.write([Party(world.d4)], {
                    'categories': [('add', [ka.id])]})
            # the portal's policies: main and api to D1 (Jiangsu: D1, D3),
            # foreign to D2
            main = _policy("Spring notice",
                territories=[territories['EC-JS'].id])
            api = _policy("API notice", distributors=[world.d1])
            foreign = _policy("Foreign notice", distributors=[world.d2])
            Policy.publish([main, api, foreign])
            files = Attachment.create([{
                        'name': 'terms.txt', 'type': 'data',
                        'data': b'policy terms',
                        'resource': str(main),
                        }, {
                        'name': 'foreign.txt', 'type': 'data',
                        'data': b'foreign terms',
                        'resource': str(foreign),
                        }])
        world.tiers = {k: v.id for k, v in tiers.items()}
        world.territories = {k: v.id for k, v in territories.items()}
        world.ka = ka.id
        world.d5, world.d6, world.d7, world.d8 = d5.id, d6.id, d7.id, d8.id
        world.pol_main, world.pol_api, world.pol_foreign = (
            main.id, api.id, foreign.id)
        world.main_file, world.foreign_file = [f.id for f in files]
        return world

    def _act(self, login, func):
        "func() as the staff user login, access checked, then commit"
        def run():
            with Transaction().set_context(company=self.world.company), \
                    acting(_user(login)):
                return func()
        return self.write(run)

    def test_targets(self):
        "Publication computes the recipients of each target, OR, once"
        w = self.world
        t = w.territories

        def run():
            Policy = Pool().get('distributor.policy')
            cases = {
                'tier': _policy("Tier", tiers=[w.tiers['T1']]),
                # Jiangsu: D1 and D3 (Nanjing, below), not the draft and
                # frozen distributors of Nanjing
                'territory': _policy("Territory", territories=[t['EC-JS']]),
                'tag': _policy("Tag", categories=[w.ka]),
                'grade': _policy("Grade", grades=['C']),
                'named': _policy("Named", distributors=[w.d7]),
                'or': _policy("Or", tiers=[w.tiers['T1']], grades=['B']),
                }
            drafts = {k: Policy.dms_targets(p) for k, p in cases.items()}
            Policy.publish(list(cases.values()))
            published = {k: _recipients(p) for k, p in cases.items()}
            empty = _policy("Nobody")
            with self.assertRaises(PolicyError):
                Policy.publish([empty])
            self.assertEqual(Policy(empty.id).state, 'draft')
            nobody = _policy("No active", distributors=[w.d8])
            with self.assertRaises(PolicyError):
                Policy.publish([nobody])
            return drafts, published, {k: Policy(p.id).state
                for k, p in cases.items()}
        drafts, published, states = self._act('manager', run)
        expected = {
            'tier': {w.d5},
            'territory': {w.d1, w.d3},
            'tag': {w.d4, w.d6},
            'grade': {w.d2},
            'named': {w.d7},
            'or': {w.d5, w.d6},
            }
        self.assertEqual(published, expected)
        self.assertEqual(drafts, expected)
        self.assertEqual(set(states.values()), {'published'})

        def messages():
            Message = Pool().get('distributor.message')
            return [(m.party.id, m.subject, str(m.origin)) for m in
                Message.search([('subject', '=', "Territory")])]
        found = self.read(messages)
        self.assertEqual({p for p, _, _ in found}, {w.d1, w.d3})
        self.assertTrue(all(o.startswith('distributor.policy,')
                for _, _, o in found))

    def test_locks_and_versions(self):
        "Published: locked on every path; a new version replaces it"
        w = self.world

        def run():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            PolicyTier = pool.get('distributor.policy-distributor.tier')
            Recipient = pool.get('distributor.policy.recipient')
            policy = _policy("Versioned", tiers=[w.tiers['T1']])
            Policy.publish([policy])
            for values in [{'title': "Changed"},
                    {'tiers': [('add', [w.tiers['T2']])]},
                    {'grades': ['A']},
                    {'state': 'draft'}]:
                with self.assertRaises(DocumentLockedError):
                    Policy.write([policy], values)
            with self.assertRaises(DocumentLockedError):
                PolicyTier.create([{'policy': policy.id,
                            'tier': w.tiers['T2']}])
            with self.assertRaises(DocumentLockedError):
                Policy.delete([policy])
            recipient, = Recipient.search([('policy', '=', policy.id)])
            with self.assertRaises((AccessError, PolicyError)):
                Recipient.write([recipient], {'viewed_at': dt.datetime.now()})
            with self.assertRaises((AccessError, PolicyError)):
                Recipient.create([{'policy': policy.id,
                            'distributor': w.d1}])
            new, = Policy.new_version([policy])
            with self.assertRaises(PolicyError):
                Policy.new_version([policy])
            new = Policy(new.id)
            state = (new.state, new.version, new.number == policy.number,
                new.previous_version.id, [t.id for t in new.tiers])
            Policy.write([new], {'tiers': [('add', [w.tiers['T2']])],
                    'title': "Versioned 2"})
            Policy.publish([new])
            return state, Policy(policy.id).state, Policy(new.id).state, \
                _recipients(new), [(l.from_state, l.to_state)
                    for l in Policy(policy.id).state_logs]
        state, old, new, recipients, logs = self._act('manager', run)
        self.assertEqual(state[:4], ('draft', 2, True, state[3]))
        self.assertEqual(state[4], [w.tiers['T1']])
        self.assertEqual((old, new), ('closed', 'published'))
        # T1 (D5) and T2 (D1, D2)
        self.assertEqual(recipients, {w.d5, w.d1, w.d2})
        self.assertEqual(sorted(logs), [('draft', 'published'),
                ('published', 'closed')])

    def test_withdraw(self):
        "Withdrawn with a reason only, from published only"
        w = self.world

        def run():
            Policy = Pool().get('distributor.policy')
            policy = _policy("To withdraw", distributors=[w.d7])
            with self.assertRaises(DocumentStateError):
                Policy.withdraw_policies([policy], "Early")
            Policy.publish([policy])
            with self.assertRaises(UserError):
                Policy.withdraw_policies([policy], "")
            Policy.withdraw_policies([policy], "Wrong prices")
            policy = Policy(policy.id)
            log = policy.state_logs[0]
            return policy.state, policy.reason, log.to_state, log.reason
        self.assertEqual(self._act('manager', run), ('withdrawn',
                "Wrong prices", 'withdrawn', "Wrong prices"))

    def test_receipts_rates_remind(self):
        "First view and acknowledgement kept; rates; remind the rest"
        w = self.world

        def setup():
            Policy = Pool().get('distributor.policy')
            policy = _policy("Receipts", territories=[
                    w.territories['EC-JS']], distributors=[w.d5])
            Policy.publish([policy])
            return policy.id
        policy = self._act('manager', setup)

        def as_portal(email, method, party):
            def run():
                Policy = Pool().get('distributor.policy')
                with acting(_identity(w, email)):
                    return getattr(Policy, method)(party, policy)
            return self.write(run)
        first = as_portal('d1-view@example.com', 'dms_view_policy', w.d1)
        self.assertTrue(first['viewed'])
        self.assertFalse(first['acknowledged'])
        self.assertEqual(first['body'], '<p>Body</p>')
        again = as_portal('d1@example.com', 'dms_view_policy', w.d1)
        self.assertEqual(again['viewed_at'], first['viewed_at'])
        with self.assertRaises(EntryPointRefused):
            as_portal('d1-view@example.com', 'dms_acknowledge_policy', w.d1)
        ack = as_portal('d1-orders@example.com', 'dms_acknowledge_policy',
            w.d1)
        self.assertTrue(ack['acknowledged'])
        ack2 = as_portal('d1@example.com', 'dms_acknowledge_policy', w.d1)
        self.assertEqual(ack2['acknowledged_at'], ack['acknowledged_at'])
        # another party's policy, a party out of reach, a missing id: one
        # answer
        for email, party, policy_id in [
                ('d2@example.com', w.d2, policy),
                ('d2@example.com', w.d1, policy),
                ('d2@example.com', w.d2, MISSING),
                ('d1@example.com', w.d1, w.pol_foreign)]:
            def run():
                Policy = Pool().get('distributor.policy')
                with acting(_identity(w, email)):
                    for method in ['dms_view_policy',
                            'dms_acknowledge_policy']:
                        with self.assertRaises(RecordNotFound):
                            getattr(Policy, method)(party, policy_id)
            self.write(run)

        def receipts():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            Recipient = pool.get('distributor.policy.recipient')
            record = Policy(policy)
            rows = {r.distributor.id: r for r in record.recipients}
            d1 = rows[w.d1]
            return (record.recipient_count, record.viewed_count,
                record.viewed_rate, record.acknowledged_count,
                record.acknowledged_rate,
                d1.viewed_by.id, d1.acknowledged_by.id,
                {r.distributor.id for r in record.recipients_not_viewed},
                {r.distributor.id for r in Recipient.search([
                            ('policy', '=', policy),
                            ('acknowledged', '=', False)])})
        figures = self.read(receipts)
        identities = self.read(lambda: (
                _identity(w, 'd1-view@example.com').id,
                _identity(w, 'd1-orders@example.com').id))
        self.assertEqual(figures[:5], (3, 1, 0.3333, 1, 0.3333))
        self.assertEqual(figures[5:7], identities)
        self.assertEqual(figures[7], {w.d3, w.d5})
        self.assertEqual(figures[8], {w.d3, w.d5})
        # the rates of many policies: one query
        many = self.read(lambda: Pool().get('distributor.policy').receipts(
                [policy, w.pol_main, w.pol_foreign]))
        self.assertEqual(many[policy], (3, 1, 1))
        self.assertEqual(many[w.pol_foreign][0], 1)

        def remind():
            Policy = Pool().get('distributor.policy')
            return Policy.remind([Policy(policy)])
        with self.assertRaises(REFUSED):
            self._act('rep', remind)
        self.assertEqual(self._act('manager', remind), 2)

        def reminded():
            pool = Pool()
            Recipient = pool.get('distributor.policy.recipient')
            Message = pool.get('distributor.message')
            rows = Recipient.search([('policy', '=', policy)])
            return ({r.distributor.id: (r.reminded_at is not None,
                        r.reminder_count) for r in rows},
                {m.party.id for m in Message.search([
                            ('subject', 'like', 'Reminder:%Receipts%')])})
        rows, messaged = self.read(reminded)
        self.assertEqual(rows, {w.d1: (False, 0), w.d3: (True, 1),
                w.d5: (True, 1)})
        self.assertEqual(messaged, {w.d3, w.d5})

        def ack_all():
            Policy = Pool().get('distributor.policy')
            for party in [w.d3, w.d5]:
                Policy.dms_acknowledge_policy(party, policy)
        self.write(ack_all)
        with self.assertRaises(PolicyError):
            self._act('manager', remind)

    def test_roles(self):
        "Managers publish; reps, accountants, plain users do not; reach"
        w = self.world

        def draft():
            return _policy("Roles", distributors=[w.d7]).id
        policy = self._act('manager', draft)

        def publish():
            Policy = Pool().get('distributor.policy')
            Policy.publish([Policy(policy)])
        for login in ['rep', 'accountant', 'plain']:
            with self.subTest(login=login):
                with self.assertRaises(REFUSED):
                    self._act(login, publish)
        with self.assertRaises(REFUSED):
            self._act('rep', lambda: _policy("Rep", distributors=[w.d1]))

        def seen():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            Recipient = pool.get('distributor.policy.recipient')
            return ({p.id for p in Policy.search([])},
                {r.distributor.id for r in Recipient.search([])})
        rep_policies, rep_recipients = self._act('rep', seen)
        self.assertNotIn(policy, rep_policies)
        self.assertTrue({w.pol_main, w.pol_foreign} <= rep_policies)
        # Jiangsu only
        self.assertTrue(rep_recipients <= {w.d1, w.d3})
        accountant_policies, _ = self._act('accountant', seen)
        self.assertIn(policy, accountant_policies)
        self._act('manager', publish)

        def portal_seen():
            pool = Pool()
            Policy = pool.get('distributor.policy')
            with acting(_identity(w, 'd1@example.com')):
                return {p.id for p in Policy.search([])}
        seen_d1 = self.read(portal_seen)
        self.assertTrue({w.pol_main, w.pol_api} <= seen_d1)
        self.assertNotIn(w.pol_foreign, seen_d1)
        self.assertNotIn(policy, seen_d1)

    def test_portal_pages(self):
        "The inbox, a policy (viewed), acknowledged; roles; 404 of others"
        w = self.world
        client = self.client('d1@example.com')
        response = client.get('/portal/policies')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'data-policy="{w.pol_main}"', html)
        self.assertNotIn(f'data-policy="{w.pol_foreign}"', html)
        self.assertIn('href="/portal/policies/promotions"', html)
        self.assertIn('href="/portal/policies/prices"', html)

        response = client.get(f'/portal/policies/{w.pol_main}')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('<p>Body</p>', html)
        self.assertIn('terms.txt', html)
        self.assertIn('id="acknowledge"', html)

        def receipt():
            Recipient = Pool().get('distributor.policy.recipient')
            row, = Recipient.search([('policy', '=', w.pol_main),
                    ('distributor', '=', w.d1)])
            return (row.viewed_at, row.viewed_by and row.viewed_by.id,
                row.acknowledged_at,
                row.acknowledged_by and row.acknowledged_by.id)
        viewed_at, viewed_by, acked, _ = self.read(receipt)
        self.assertIsNotNone(viewed_at)
        self.assertEqual(viewed_by, self.read(
                lambda: _identity(w, 'd1@example.com').id))
        self.assertIsNone(acked)

        viewer = self.client('d1-view@example.com')
        response = viewer.get(f'/portal/policies/{w.pol_main}')
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="acknowledge"',
            response.get_data(as_text=True))
        response = viewer.post(f'/portal/policies/{w.pol_main}/acknowledge')
        self.assertEqual(response.status_code, 403)
        self.assertIsNone(self.read(receipt)[2])
        # the first view stays the first
        self.assertEqual(self.read(receipt)[:2], (viewed_at, viewed_by))

        response = client.post(f'/portal/policies/{w.pol_main}/acknowledge',
            csrf=False)
        self.assertEqual(response.status_code, 403)
        response = client.post(f'/portal/policies/{w.pol_main}/acknowledge')
        self.assertEqual(response.status_code, 303)
        _, _, acked, acked_by = self.read(receipt)
        self.assertIsNotNone(acked)
        response = client.post(f'/portal/policies/{w.pol_main}/acknowledge')
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.read(receipt)[2:], (acked, acked_by))

        for path in [f'/portal/policies/{w.pol_foreign}',
                f'/portal/policies/{MISSING}']:
            response = client.get(path)
            self.assertEqual(response.status_code, 404, path)
        response = client.post(f'/portal/policies/{w.pol_foreign}/acknowledge')
        self.assertEqual(response.status_code, 404)

        # attachments: the recipient downloads, nobody else
        response = client.get(
            f'/portal/policies/{w.pol_main}/attachments/{w.main_file}')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_data(), b'policy terms')
        self.assertIn('attachment', response.headers['Content-Disposition'])
        for path in [
                f'/portal/policies/{w.pol_main}/attachments/{w.foreign_file}',
                f'/portal/policies/{w.pol_foreign}/attachments/'
                f'{w.foreign_file}',
                f'/portal/policies/{w.pol_main}/attachments/{MISSING}']:
            response = client.get(path)
            self.assertEqual(response.status_code, 404, path)
        other = self.client('d2@example.com')
        response = other.get(
            f'/portal/policies/{w.pol_main}/attachments/{w.main_file}')
        self.assertEqual(response.status_code, 404)
        response = other.get(
            f'/portal/policies/{w.pol_foreign}/attachments/{w.foreign_file}')
        self.assertEqual(response.status_code, 200)

    def test_portal_api(self):
        "The JSON API: list, detail (a view), acknowledge"
        w = self.world
        client = self.client('d1-finance@example.com', api=True)
        status, body = client.api('GET', f'{API}/policies?limit=1')
        self.assertEqual(status, 200)
        self.assertEqual(body['limit'], 1)
        self.assertGreaterEqual(body['total'], 2)
        status, body = client.api('GET', f'{API}/policies')
        ids = [p['id'] for p in body['items']]
        self.assertIn(w.pol_api, ids)
        self.assertNotIn(w.pol_foreign, ids)
        status, body = client.api('GET', f'{API}/policies/{w.pol_api}')
        self.assertEqual(status, 200)
        self.assertTrue(body['viewed'])
        self.assertEqual(body['body_html'], '<p>Body</p>')
        status, body = client.api('POST',
            f'{API}/policies/{w.pol_api}/acknowledge')
        self.assertEqual(status, 200, body)
        self.assertTrue(body['acknowledged'])
        status, body = client.api('GET', f'{API}/policies/{w.pol_foreign}')
        self.assertEqual(status, 404)
        viewer = self.client('d1-view@example.com', api=True)
        status, _ = viewer.api('POST',
            f'{API}/policies/{w.pol_api}/acknowledge')
        self.assertEqual(status, 403)

    def test_sanitize(self):
        "The rich text keeps the allowed tags only, without attributes"
        self.assertEqual(str(sanitize_html(
                    '<p onclick="x()">A<script>alert(1)</script>'
                    '<b>B</b><a href="javascript:x">C</a>'
                    '<img src=x onerror=y>&lt;i&gt;</p>')),
            '<p>A<b>B</b>C&lt;i&gt;</p>')
        self.assertEqual(str(sanitize_html('a & b\nc')), 'a &amp; b<br>c')
        self.assertEqual(str(sanitize_html('<div><i>open')),
            '<div><i>open</i></div>')


del PortalTestCase
