# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Portal accounts (账号管理): portal identities follow the web user, an
administrator manages its party's and its stores' accounts, every other
role is refused, and another party's accounts are out of reach"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from .tools import PASSWORD, PortalTestCase, build_portal_world


class PortalAccountTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        return build_portal_world()

    def accounts(self, party):
        def read():
            WebUser = Pool().get('web.user')
            with Transaction().set_context(active_test=False):
                return sorted((u.email, u.dms_role, u.active) for u in
                    WebUser.search([('party', '=', party)]))
        return self.read(read)

    def test_identity_follows_the_account(self):
        "Each account runs as a user without password in its role's groups"
        def read():
            pool = Pool()
            WebUser = pool.get('web.user')
            ModelData = pool.get('ir.model.data')
            result = {}
            with Transaction().set_context(active_test=False):
                users = WebUser.search([('email', 'in', [
                                'd1@example.com', 'd1-view@example.com',
                                's1-orders@example.com'])])
            for user in users:
                identity = user.dms_user
                groups = {g.id for g in identity.groups}
                result[user.email] = (
                    identity.password_hash,
                    ModelData.get_id('distributor_portal',
                        'group_portal_admin') in groups,
                    ModelData.get_id('distributor_portal',
                        'group_portal_orders') in groups,
                    ModelData.get_id('distributor_portal',
                        'group_portal') in groups)
            return result
        self.assertEqual(self.read(read), {
                'd1@example.com': (None, True, True, True),
                'd1-view@example.com': (None, False, False, True),
                's1-orders@example.com': (None, False, True, True),
                })

    def test_admin_creates_store_account(self):
        "D1's administrator creates an account for its store, which signs in"
        client = self.client('d1@example.com')
        response = client.post('/portal/account/users', {
                'email': 'S1-Cashier@example.com',
                'password': PASSWORD,
                'role': 'orders',
                'store': str(self.world.s1),
                })
        self.assertEqual(response.status_code, 303)
        self.assertIn(('s1-cashier@example.com', 'orders', True),
            self.accounts(self.world.s1))
        cashier = self.client('s1-cashier@example.com')
        status, me = cashier.api('GET', '/portal/api/v1/me')
        self.assertEqual(status, 200)
        self.assertEqual((me['kind'], me['role'], me['party']['id']),
            ('store', 'orders', self.world.s1))

    def test_store_cannot_get_stock_role(self):
        "A store account may not have the stock role: refused, nothing saved"
        client = self.client('d1@example.com', api=True)
        before = self.accounts(self.world.s1)
        status, body = client.api('POST', '/portal/api/v1/accounts', {
                'email': 'stock-keeper@example.com', 'password': PASSWORD,
                'role': 'stock', 'store': self.world.s1})
        self.assertEqual(status, 422)
        self.assertEqual(body['code'], 'portal_user')
        self.assertEqual(self.accounts(self.world.s1), before)

    def test_other_roles_refused(self):
        "Only an administrator manages accounts: 403, nothing written"
        before = self.accounts(self.world.d1)
        for email in ['d1-orders@example.com', 'd1-view@example.com',
                'd1-finance@example.com']:
            with self.subTest(email=email):
                client = self.client(email, api=True)
                status, body = client.api('POST', '/portal/api/v1/accounts',
                    {'email': 'new@example.com', 'password': PASSWORD,
                        'role': 'view'})
                self.assertEqual((status, body['code']), (403, 'forbidden'))
                status, _ = client.api('GET', '/portal/api/v1/accounts')
                self.assertEqual(status, 403)
        self.assertEqual(self.accounts(self.world.d1), before)

    def test_foreign_accounts_out_of_reach(self):
        """D1's administrator cannot change D2's accounts nor create one for
        D2's store: the same 404 as a missing id"""
        client = self.client('d1@example.com', api=True)
        d2_account = self.world.accounts['d2@example.com']
        answers = []
        for account in [d2_account, 2 ** 31 - 1]:
            answers.append(client.api('PUT',
                    f'/portal/api/v1/accounts/{account}',
                    {'role': 'view'}))
        self.assertEqual(answers[0][0], 404)
        self.assertEqual(answers[0], answers[1])
        status, body = client.api('POST', '/portal/api/v1/accounts', {
                'email': 'intruder@example.com', 'password': PASSWORD,
                'role': 'view', 'store': self.world.s3})
        self.assertEqual(status, 404)
        self.assertEqual(self.accounts(self.world.d2), [
                ('d2@example.com', 'admin', True)])
        self.assertNotIn('intruder@example.com',
            [e for e, *_ in self.accounts(self.world.s3)])

    def test_deactivated_account_signed_out(self):
        "Deactivating an account ends its sessions at once"
        client = self.client('s1-orders@example.com')
        self.assertEqual(client.get('/portal/account').status_code, 200)
        admin = self.client('d1@example.com', api=True)
        account = self.world.accounts['s1-orders@example.com']
        status, _ = admin.api('PUT', f'/portal/api/v1/accounts/{account}',
            {'active': False})
        self.assertEqual(status, 200)
        response = client.get('/portal/account')
        self.assertEqual(response.status_code, 303)
        self.assertIn('/portal/login', response.headers['Location'])
        status, _ = admin.api('PUT', f'/portal/api/v1/accounts/{account}',
            {'active': True})
        self.assertEqual(status, 200)
