# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Expense claims (费用核销): evidence and budgets at submission, review
(approve, partly approve, reject), settlement as a credit note or on the
rebate ledger, roles both ways, raw writes on submitted claims, and the
portal's pages (a photo from a multipart form) and API"""
import base64
import datetime as dt
from io import BytesIO
import re
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from distributor.exceptions import (
    DocumentLockedError, EntryPointRefused, RecordNotFound)
from distributor.tests.tools import acting
from distributor_portal.tests.tools import PortalTestCase, build_portal_world

API = '/portal/api/v1'
# a 1x1 PNG: the evidence of the tests
PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q'
    'DwADhgGAWjR9awAAAABJRU5ErkJggg==')
# a button refused: no group of the button, or no access to the model
REFUSED = (AccessError, AccessButtonError)
PDF = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'


def _policy(title, distributors, budget, per_distributor, allows=True,
        publish=True):
    "A notice policy to distributors that takes claims (as root)"
    pool = Pool()
    Policy = pool.get('distributor.policy')
    today = pool.get('ir.date').today()
    policy, = Policy.create([{
                'kind': 'notice',
                'title': title,
                'start_date': today - dt.timedelta(days=10),
                'end_date': today + dt.timedelta(days=30),
                'distributors': [('add', list(distributors))],
                'allows_claims': allows,
                'claim_budget': budget,
                'claim_budget_per_distributor': per_distributor,
                }])
    if publish:
        Policy.publish([policy])
    return policy


def _claim(party, policy, amounts, evidence=True, submit=False):
    "A claim of party under policy with one line per amount (as root)"
    Claim = Pool().get('distributor.expense.claim')
    claim_id = Claim.dms_save_claim(party, {
            'policy': policy,
            'description': "Shelf display in the mall",
            'lines': [{'activity': 'display', 'description': f"Item {i}",
                    'amount': str(a)} for i, a in enumerate(amounts)],
            })
    if evidence:
        Claim.dms_add_evidence(party, claim_id, 'photo.png', PNG)
    if submit:
        Claim.dms_submit_claim(party, claim_id)
    return claim_id


def _user(login):
    User = Pool().get('res.user')
    user, = User.search([('login', '=', login)])
    return user


class ClaimTestCase(PortalTestCase):
    "Expense claims against a policy's budget, through models and portal"
    modules = ['distributor_policy']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Configuration = pool.get('distributor.configuration')
        with Transaction().set_context(company=world.company):
            # the credit notes' contra-revenue account
            revenue, = Account.search([
                    ('type.revenue', '=', True),
                    ('closed', '!=', True),
                    ], limit=1)
            config = Configuration(1)
            config.rebate_account = revenue
            config.save()
            # the model tests (rolled back): 1,000 in total, 600 each
            world.policy = _policy("Summer displays",
                [world.d1, world.d2], Decimal(1000), Decimal(600)).id
            # the portal tests (committed): room for every test
            world.portal_policy = _policy("Tasting weeks",
                [world.d1, world.d2, world.d3], Decimal(100000),
                Decimal(50000)).id
            world.closed_policy = _policy("No claims here",
                [world.d1], None, None, allows=False).id
            world.d3_claim = _claim(world.d3, world.portal_policy, [10])
            world.d1_claim = _claim(world.d1, world.portal_policy, [20])
        return world

    def rolled_back(self, func):
        """func() as root in a transaction rolled back afterwards (with
        the locks it turned out to need)"""
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 1, context={
                        'company': self.world.company}, **extras) as t:
                try:
                    return func()
                except TransactionError as error:
                    t.rollback()
                    error.fix(extras)
                    continue
                finally:
                    t.rollback()

    def _wizard(self, name, claim, values):
        """Run the claim's wizard name on claim with the values of its
        start form, as its client does (access checked by Tryton)"""
        Wizard = Pool().get(f'distributor.expense.claim.{name}',
            type='wizard')
        with Transaction().set_context(
                active_model='distributor.expense.claim', active_id=claim,
                active_ids=[claim]):
            session_id, _, _ = Wizard.create()
            Wizard.execute(session_id, {'start': values}, 'apply')
            Wizard.delete(session_id)

    # Policies -----------------------------------------------------------

    def test_publish_requires_budget(self):
        "A policy taking claims is published only with a positive budget"
        w = self.world

        def run():
            Policy = Pool().get('distributor.policy')
            policy = _policy("No budget", [w.d1], Decimal(0), None,
                publish=False)
            with self.assertRaisesRegex(UserError, 'claim budget'):
                Policy.publish([policy])
            self.assertEqual(Policy(policy.id).state, 'draft')
            policy.claim_budget = Decimal(100)
            policy.claim_budget_per_distributor = Decimal(200)
            policy.save()
            with self.assertRaisesRegex(UserError, 'per distributor'):
                Policy.publish([policy])
            Policy.write([policy], {'claim_budget_per_distributor': None})
            Policy.publish([policy])
            self.assertEqual(Policy(policy.id).state, 'published')
            # past draft, the budget is the policy's: locked
            with acting(_user('manager')):
                with self.assertRaises(DocumentLockedError):
                    Policy.write([Policy(policy.id)],
                        {'claim_budget': Decimal(5000)})
        self.rolled_back(run)

    # Submission ---------------------------------------------------------

    def test_submit_needs_evidence_and_lines(self):
        "No evidence or a policy not taking claims: refused, nothing done"
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            claim_id = _claim(w.d1, w.policy, [100], evidence=False)
            with acting(_user('manager')):
                with self.assertRaisesRegex(UserError, 'without evidence'):
                    Claim.submit([Claim(claim_id)])
            claim = Claim(claim_id)
            self.assertEqual(claim.state, 'draft')
            self.assertEqual(claim.state_logs, ())
            self.assertEqual(claim.evidence_count, 0)
            # a policy that takes no claims, or does not target d2
            with self.assertRaisesRegex(UserError, 'does not take'):
                _claim(w.d1, w.closed_policy, [10])
            with self.assertRaises(RecordNotFound):
                _claim(w.d2, w.closed_policy, [10])
            # bad input: nothing written
            count = Claim.search_count([])
            for lines in [[{'activity': 'display', 'description': "x",
                            'amount': '-5'}],
                    [{'activity': 'party', 'description': "x",
                            'amount': '5'}],
                    [{'activity': 'display', 'description': "",
                            'amount': '5'}]]:
                with self.assertRaises(UserError):
                    Claim.dms_save_claim(w.d1, {
                            'policy': w.policy, 'lines': lines})
            self.assertEqual(Claim.search_count([]), count)
            # evidence: photos and PDF only, read from the data
            with self.assertRaisesRegex(UserError, 'not a photo'):
                Claim.dms_add_evidence(w.d1, claim_id, 'x.png',
                    b'<html>not a photo</html>')
            with self.assertRaisesRegex(UserError, 'base64'):
                Claim.dms_add_evidence(w.d1, claim_id, 'x.png', '@@@')
            with self.assertRaisesRegex(UserError, 'larger'):
                Claim.dms_add_evidence(w.d1, claim_id, 'x.jpg',
                    b'\xff\xd8\xff' + b'0' * (5 * 1024 * 1024))
            Claim.dms_add_evidence(w.d1, claim_id, 'receipt.pdf',
                base64.b64encode(PDF).decode())
            self.assertEqual(Claim(claim_id).evidence_count, 1)
            with acting(_user('manager')):
                Claim.submit([Claim(claim_id)])
            self.assertEqual(Claim(claim_id).state, 'submitted')
        self.rolled_back(run)

    def test_budget_per_distributor_and_total(self):
        """Above the distributor's or the policy's remaining budget:
        refused with nothing written; used and remaining per policy and
        distributor follow submission and review"""
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            Policy = pool.get('distributor.policy')
            Budget = pool.get('distributor.expense.claim.budget')
            a = _claim(w.d1, w.policy, [300, 200], submit=True)
            b = _claim(w.d1, w.policy, [150])
            with self.assertRaisesRegex(UserError, 'remaining for'):
                Claim.dms_submit_claim(w.d1, b)
            self.assertEqual(Claim(b).state, 'draft')
            self.assertEqual(Claim(b).state_logs, ())
            c = _claim(w.d2, w.policy, [450], submit=True)
            # d2 may still claim 150 of its own, the policy only 50
            d = _claim(w.d2, w.policy, [100])
            with self.assertRaisesRegex(UserError, 'remaining budget of'):
                Claim.dms_submit_claim(w.d2, d)
            self.assertEqual(Claim(d).state, 'draft')
            policy = Policy(w.policy)
            self.assertEqual(policy.claim_claimed, Decimal(950))
            self.assertEqual(policy.claim_used, Decimal(950))
            self.assertEqual(policy.claim_approved, Decimal(0))
            self.assertEqual(policy.claim_remaining, Decimal(50))
            claim = Claim(b)
            self.assertEqual(claim.claimed_amount, Decimal(150))
            self.assertEqual(claim.distributor_used, Decimal(500))
            self.assertEqual(claim.distributor_remaining, Decimal(50))
            self.assertEqual(Claim(d).distributor_remaining, Decimal(50))
            self.assertEqual(Claim(d).policy_remaining, Decimal(50))
            # a review frees what it does not approve
            with acting(_user('manager')):
                Claim.partly_approve_claim(Claim(a), Decimal(350),
                    "Two receipts are missing")
                Claim.reject_claims([Claim(c)], "No photo of the display")
            policy = Policy(w.policy)
            self.assertEqual(policy.claim_used, Decimal(350))
            self.assertEqual(policy.claim_approved, Decimal(350))
            self.assertEqual(policy.claim_claimed, Decimal(500))
            self.assertEqual(policy.claim_remaining, Decimal(650))
            self.assertEqual(Claim(b).distributor_remaining, Decimal(250))
            Claim.dms_submit_claim(w.d1, b)
            Claim.dms_submit_claim(w.d2, d)
            rows = {r.distributor.id: r for r in Budget.search([
                        ('policy', '=', w.policy)])}
            self.assertEqual(rows[w.d1].used, Decimal(500))
            self.assertEqual(rows[w.d1].approved, Decimal(350))
            self.assertEqual(rows[w.d1].claimed, Decimal(650))
            self.assertEqual(rows[w.d1].remaining, Decimal(100))
            self.assertEqual(rows[w.d2].used, Decimal(100))
            # the portal's view of d1's budget
            budgets = {r['policy']: r for r in Claim.dms_claim_budgets(w.d1)}
            self.assertEqual(budgets[w.policy]['remaining'], '100.00')
            self.assertEqual(budgets[w.policy]['used'], '500.00')
            self.assertNotIn(w.closed_policy, budgets)
            # cancelling frees the budget
            Claim.dms_cancel_claim(w.d2, d)
            self.assertEqual(Policy(w.policy).claim_used, Decimal(500))
        self.rolled_back(run)

    # Review and settlement ----------------------------------------------

    def test_review(self):
        "Approve, partly approve (a reason), reject (a reason): managers"
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            Message = pool.get('distributor.message')
            a, b, c = [_claim(w.d1, w.policy, [100], submit=True)
                for _ in range(3)]
            messages = Message.search_count([('party', '=', w.d1)])
            for login in ['rep', 'accountant', 'plain']:
                with acting(_user(login)):
                    with self.assertRaises(REFUSED):
                        Claim.approve([Claim(a)])
            with acting(_user('rep')):
                with self.assertRaises(REFUSED):
                    self._wizard('partly_approve', b,
                        {'approved_amount': Decimal(60), 'reason': "x"})
            with acting(_user('manager')):
                Claim.approve([Claim(a)])
                with self.assertRaisesRegex(UserError, 'Reason'):
                    self._wizard('partly_approve', b,
                        {'approved_amount': Decimal(60), 'reason': ''})
                with self.assertRaisesRegex(UserError, 'below the claimed'):
                    self._wizard('partly_approve', b,
                        {'approved_amount': Decimal(100), 'reason': "x"})
                self._wizard('partly_approve', b,
                    {'approved_amount': Decimal(60),
                        'reason': "One tasting was not held"})
                with self.assertRaisesRegex(UserError, 'Reason'):
                    self._wizard('reject', c, {'reason': ' '})
                self._wizard('reject', c, {'reason': "Outside the policy"})
            a, b, c = Claim.browse([a, b, c])
            self.assertEqual((a.state, a.approved_amount),
                ('approved', Decimal(100)))
            self.assertEqual((b.state, b.approved_amount, b.review_reason),
                ('partial', Decimal(60), "One tasting was not held"))
            self.assertEqual((c.state, c.review_reason),
                ('rejected', "Outside the policy"))
            self.assertEqual([l.to_state for l in b.state_logs],
                ['partial', 'submitted'])
            self.assertEqual(b.state_logs[0].reason,
                "One tasting was not held")
            self.assertEqual(Message.search_count([('party', '=', w.d1)]),
                messages + 3)
            # a reviewed claim is not reviewed again
            with acting(_user('manager')):
                with self.assertRaises(UserError):
                    Claim.reject_claims([a], "Again")
        self.rolled_back(run)

    def test_settle_credit_note_and_ledger(self):
        """Settled by an accountant: a posted credit note (negative) or a
        credit on the rebate ledger (the balance grows); once"""
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            Ledger = pool.get('distributor.rebate.ledger')
            a, b = [_claim(w.d1, w.policy, [120, 80], submit=True)
                for _ in range(2)]
            with acting(_user('manager')):
                Claim.approve([Claim(a)])
                Claim.partly_approve_claim(Claim(b), Decimal(150), "Part")
            balance = Ledger.balance(w.d1)
            with acting(_user('rep')):
                with self.assertRaises(REFUSED):
                    Claim.settle_credit_note([Claim(a)])
            with acting(_user('accountant')):
                Claim.settle_credit_note([Claim(a)])
                Claim.settle_ledger([Claim(b)])
                with self.assertRaises(UserError):
                    Claim.settle_ledger([Claim(a)])
            a, b = Claim.browse([a, b])
            self.assertEqual((a.state, a.settlement_method),
                ('settled', 'credit_note'))
            invoice = a.settled_invoice
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.type, 'out')
            self.assertEqual(invoice.party.id, w.d1)
            self.assertEqual(invoice.total_amount, Decimal(-200))
            self.assertEqual((b.state, b.settlement_method),
                ('settled', 'ledger'))
            self.assertEqual(b.ledger_entry.kind, 'claim')
            self.assertEqual(b.ledger_entry.amount, Decimal(150))
            self.assertEqual(Ledger.balance(w.d1), balance + Decimal(150))
            # a settled claim still uses its approved amount
            self.assertEqual(Pool().get('distributor.policy')(
                    w.policy).claim_used, Decimal(350))
        self.rolled_back(run)

    # Roles and locks ----------------------------------------------------

    def test_roles(self):
        "Staff entry points by role; a rep within its territories only"
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            values = {'policy': w.policy, 'lines': [{'activity': 'tasting',
                        'description': "Tasting", 'amount': '50'}]}
            with acting(_user('rep')):
                claim_id = Claim.dms_save_claim(w.d1, values)
                with self.assertRaises(RecordNotFound):
                    Claim.dms_save_claim(w.d2, values)
                self.assertIn(claim_id,
                    [c['id'] for c in Claim.dms_list_claims(w.d1)])
                with self.assertRaises(RecordNotFound):
                    Claim.dms_list_claims(w.d2)
            d2_claim = _claim(w.d2, w.policy, [40])
            with acting(_user('rep')):
                # d2's claim: out of the rep's reach, as if missing
                with self.assertRaises(AccessError):
                    Claim.dms_add_evidence(w.d1, d2_claim, 'p.png', PNG)
                self.assertEqual(Claim.search([('id', '=', d2_claim)]), [])
                # and another party's claim through its own party
                with self.assertRaises(RecordNotFound):
                    Claim.dms_submit_claim(w.d1, w.d3_claim)
            for login in ['plain', 'accountant']:
                with acting(_user(login)):
                    with self.assertRaises(EntryPointRefused):
                        Claim.dms_save_claim(w.d1, values)
            with acting(_user('accountant')):
                self.assertTrue(Claim.dms_list_claims(w.d2))
            with acting(_user('plain')):
                with self.assertRaises(EntryPointRefused):
                    Claim.dms_list_claims(w.d1)
            # the portal identities read their party's own claims: not
            # those of its downstream distributor (d3), nor d2's
            WebUser = pool.get('web.user')
            seen = {}
            for email, party in [('d1-view@example.com', w.d1),
                    ('d3@example.com', w.d3)]:
                identity = WebUser(w.accounts[email]).dms_user
                with acting(identity):
                    seen[party] = {c.id for c in Claim.search([])}
                self.assertEqual(seen[party], {c.id for c in Claim.search([
                                ('distributor', '=', party)])})
            self.assertIn(w.d1_claim, seen[w.d1])
            self.assertNotIn(w.d3_claim, seen[w.d1])
            self.assertEqual(seen[w.d3], {w.d3_claim})
        self.rolled_back(run)

    def test_raw_writes_refused(self):
        "A submitted claim and its lines change only through the workflow"
        w = self.world

        def run():
            pool = Pool()
            Claim = pool.get('distributor.expense.claim')
            Line = pool.get('distributor.expense.claim.line')
            claim_id = _claim(w.d1, w.policy, [100], submit=True)
            line, = Claim(claim_id).lines
            with acting(_user('manager')):
                claim = Claim(claim_id)
                for values in [{'description': "More"},
                        {'date': claim.date - dt.timedelta(days=1)},
                        {'state': 'approved'},
                        {'approved_amount': Decimal(100)}]:
                    with self.assertRaises(AccessError):
                        Claim.write([claim], values)
                with self.assertRaises(AccessError):
                    Line.write([Line(line.id)], {'amount': Decimal(1000)})
                with self.assertRaises(AccessError):
                    Line.create([{'claim': claim_id, 'activity': 'other',
                                'description': "x", 'amount': Decimal(5)}])
                with self.assertRaises(AccessError):
                    Line.delete([Line(line.id)])
                with self.assertRaises(AccessError):
                    Claim.delete([claim])
                with self.assertRaises(AccessError):
                    Claim.create([{'policy': w.policy, 'distributor': w.d1,
                                'state': 'approved'}])
            claim = Claim(claim_id)
            self.assertEqual((claim.state, claim.claimed_amount),
                ('submitted', Decimal(100)))
        self.rolled_back(run)

    # Portal -------------------------------------------------------------

    def _state(self, claim):
        def read():
            record = Pool().get('distributor.expense.claim')(claim)
            return record.state, record.evidence_count
        return self.read(read)

    def test_portal_pages(self):
        """A claim with a photo filed from the phone's form (multipart),
        submitted, its review state shown; other parties get 404"""
        w = self.world
        client = self.client('d1-orders@example.com')
        response = client.get('/portal/claims')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'data-policy="{w.portal_policy}"', html)
        self.assertNotIn(f'data-policy="{w.closed_policy}"', html)
        self.assertIn(f'data-claim="{w.d1_claim}"', html)
        # the downstream's claim is its own, not d1's
        self.assertNotIn(f'data-claim="{w.d3_claim}"', html)
        response = client.get(f'/portal/claims/new?policy={w.portal_policy}')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('capture="environment"', html)
        self.assertIn('enctype="multipart/form-data"', html)
        self.assertEqual(client.get(
                f'/portal/claims/new?policy={w.closed_policy}').status_code,
            404)
        form = {
            'policy': str(w.portal_policy),
            'description': "Tasting at the mall",
            'line-0-activity': 'tasting', 'line-0-description': "Staff",
            'line-0-amount': '300',
            'line-1-activity': 'display', 'line-1-description': "Stand",
            'line-1-amount': '200.50',
            'line-2-activity': 'display', 'line-2-description': '',
            'line-2-amount': '',
            'action': 'submit',
            }
        # without a photo: refused, the form shown again, nothing written
        response = client.post('/portal/claims', dict(form),
            content_type='multipart/form-data')
        self.assertEqual(response.status_code, 422)
        html = response.get_data(as_text=True)
        self.assertIn('without evidence', html)
        self.assertIn('value="200.50"', html)
        count = self.read(lambda: Pool().get(
                'distributor.expense.claim').search_count([]))
        response = client.post('/portal/claims', dict(form,
                evidence=[(BytesIO(PNG), 'stand.png'),
                    (BytesIO(PDF), 'receipt.pdf')]),
            content_type='multipart/form-data')
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        claim = int(re.search(r'/portal/claims/(\d+)$',
                response.headers['Location']).group(1))
        self.assertEqual(self.read(lambda: Pool().get(
                    'distributor.expense.claim').search_count([])),
            count + 1)
        self.assertEqual(self._state(claim), ('submitted', 2))
        response = client.get(f'/portal/claims/{claim}')
        html = response.get_data(as_text=True)
        self.assertIn('data-state="submitted"', html)
        self.assertIn('500.50', html)
        image = re.search(r'<img src="([^"]+)"', html).group(1)
        response = client.get(image)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'image/png')
        self.assertEqual(response.get_data(), PNG)
        # the manager partly approves: the distributor sees state and reason
        self.write(lambda: Pool().get(
                'distributor.expense.claim').partly_approve_claim(
                Pool().get('distributor.expense.claim')(claim),
                Decimal(400), "The stand is shared"))
        html = client.get(f'/portal/claims/{claim}').get_data(as_text=True)
        self.assertIn('data-state="partial"', html)
        self.assertIn('The stand is shared', html)
        self.assertIn('400.00', html)
        # d2 and d3: the claim, its photo and its buttons are missing
        missing = 2 ** 31 - 1
        for email in ['d2@example.com', 'd3@example.com']:
            other = self.client(email)
            for path in [f'/portal/claims/{claim}', image,
                    f'/portal/claims/{missing}']:
                self.assertEqual(other.get(path).status_code, 404, path)
            other.get('/portal/claims')
            for action in ['submit', 'cancel']:
                self.assertEqual(other.post(
                        f'/portal/claims/{w.d1_claim}/{action}'
                        ).status_code, 404)
        self.assertEqual(self._state(w.d1_claim), ('draft', 1))
        # the view role reads, but files nothing
        viewer = self.client('d1-view@example.com')
        self.assertEqual(viewer.get(f'/portal/claims/{claim}').status_code,
            200)
        self.assertEqual(viewer.post(
                f'/portal/claims/{w.d1_claim}/submit').status_code, 403)
        # the draft: more evidence, then submitted from its page
        client.get(f'/portal/claims/{w.d1_claim}')
        response = client.post(f'/portal/claims/{w.d1_claim}/evidence',
            {'evidence': [(BytesIO(b'GIF89a....'), 'x.gif')]},
            content_type='multipart/form-data')
        self.assertEqual(response.status_code, 422)
        self.assertIn('not a photo', response.get_data(as_text=True))
        self.assertEqual(self._state(w.d1_claim), ('draft', 1))
        # a phone's photo is larger than trytond's default request size
        photo = b'\xff\xd8\xff\xe0' + b'\0' * (3 * 1024 * 1024)
        client.get(f'/portal/claims/{w.d1_claim}')
        response = client.post(f'/portal/claims/{w.d1_claim}/evidence',
            {'evidence': [(BytesIO(photo), 'IMG_0001.JPG')]},
            content_type='multipart/form-data')
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._state(w.d1_claim), ('draft', 2))
        client.get(f'/portal/claims/{w.d1_claim}')
        response = client.post(f'/portal/claims/{w.d1_claim}/submit')
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._state(w.d1_claim), ('submitted', 2))

    def test_portal_api(self):
        "Create, add evidence (base64), submit (idempotent), read, cancel"
        w = self.world
        client = self.client('d1-finance@example.com', api=True)
        status, body = client.api('POST', f'{API}/claims', {
                'policy': w.portal_policy,
                'description': "Local radio",
                'lines': [{'activity': 'advertising',
                        'description': "Radio spots", 'amount': 800}],
                })
        self.assertEqual(status, 201, body)
        claim = body['id']
        self.assertEqual((body['state'], body['claimed_amount']),
            ('draft', '800.00'))
        status, body = client.api('POST', f'{API}/claims/{claim}/submit')
        self.assertEqual(status, 422, body)
        self.assertIn('without evidence', body['message'])
        status, body = client.api('POST', f'{API}/claims/{claim}/evidence',
            {'name': 'note.txt',
                'data': base64.b64encode(b'just text').decode()})
        self.assertEqual(status, 400, body)
        self.assertEqual(self._state(claim), ('draft', 0))
        status, body = client.api('POST', f'{API}/claims/{claim}/evidence',
            {'name': 'spot.png', 'data': base64.b64encode(PNG).decode()})
        self.assertEqual(status, 201, body)
        self.assertEqual(body['evidence_count'], 1)
        # above the remaining budget: refused
        status, body = client.api('PUT', f'{API}/claims/{claim}',
            {'lines': [{'activity': 'advertising',
                        'description': "Radio spots", 'amount': 60000}]})
        self.assertEqual(status, 200, body)
        status, body = client.api('POST', f'{API}/claims/{claim}/submit')
        self.assertEqual(status, 422, body)
        self.assertIn('remaining', body['message'])
        status, body = client.api('PUT', f'{API}/claims/{claim}',
            {'lines': [{'activity': 'advertising',
                        'description': "Radio spots", 'amount': 800}]})
        for _ in range(2):
            status, body = client.api('POST',
                f'{API}/claims/{claim}/submit')
            self.assertEqual((status, body['state']), (200, 'submitted'))
        self.assertEqual(len(body['evidence']), 1)
        status, body = client.api('GET', f'{API}/claims?limit=1')
        self.assertEqual((status, len(body['items'])), (200, 1))
        self.assertGreaterEqual(body['total'], 2)
        status, body = client.api('GET', f'{API}/claims/budgets')
        budgets = {b['policy']: b for b in body['items']}
        self.assertIn(w.portal_policy, budgets)
        # other parties: 404 like a missing claim
        other = self.client('d2@example.com', api=True)
        for method, path in [('GET', f'{API}/claims/{claim}'),
                ('POST', f'{API}/claims/{claim}/cancel'),
                ('POST', f'{API}/claims/{w.d1_claim}/submit')]:
            status, body = other.api(method, path)
            self.assertEqual(status, 404, (path, body))
        status, body = client.api('POST', f'{API}/claims/{claim}/cancel')
        self.assertEqual((status, body['state']), (200, 'cancelled'))
        status, body = client.api('POST', f'{API}/claims/{claim}/evidence',
            {'name': 'late.png', 'data': base64.b64encode(PNG).decode()})
        self.assertEqual(status, 422, body)

