# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Signing in, sessions, CSRF, languages, accounts and the API's
envelope, through trytond's WSGI application"""
from ..web import PREFIX, SESSION_COOKIE
from .tools import PASSWORD, PortalClient, PortalTestCase, build_portal_world


class PortalSignInTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        return build_portal_world()

    def test_sign_in_page(self):
        "A distributor signs in and sees its account"
        client = self.client('d1@example.com')
        response = client.get('/portal/account')
        self.assertEqual(response.status_code, 200)
        self.assertIn('d1@example.com', response.get_data(as_text=True))

    def test_sign_in_page_wrong_password(self):
        "A wrong password shows the form again (401), no session"
        client = PortalClient()
        client.get('/portal/login')
        response = client.post('/portal/login', {
                'email': 'd1-finance@example.com', 'password': 'wrong'})
        self.assertEqual(response.status_code, 401)
        self.assertIn('name="password"', response.get_data(as_text=True))
        self.assertIsNone(client.client.get_cookie(
                SESSION_COOKIE, path=PREFIX))
        self.assertEqual(client.get('/portal/account').status_code, 303)

    def test_sign_in_page_without_csrf(self):
        "The sign-in form without its CSRF token is refused (403)"
        client = PortalClient()
        client.get('/portal/login')
        response = client.post('/portal/login', {
                'email': 'd1@example.com', 'password': PASSWORD},
            csrf=False)
        self.assertEqual(response.status_code, 403)
        self.assertIsNone(client.client.get_cookie(
                SESSION_COOKIE, path=PREFIX))

    def test_sign_in_next_stays_in_portal(self):
        "After sign-in, next never leads out of the portal"
        for target, expected in [
                ('/portal/account', '/portal/account'),
                ('//evil.example.com/portal/', '/portal/'),
                ('https://evil.example.com/', '/portal/'),
                ]:
            client = PortalClient()
            client.get('/portal/login')
            response = client.post('/portal/login', {
                    'email': 'd1@example.com', 'password': PASSWORD,
                    'next': target})
            self.assertEqual(response.status_code, 303)
            self.assertTrue(response.headers['Location'].endswith(expected),
                (target, response.headers['Location']))

    def test_sign_out(self):
        "Signing out ends the session: the account page asks to sign in"
        client = self.client('d1@example.com')
        response = client.post('/portal/logout')
        self.assertEqual(response.status_code, 303)
        response = client.get('/portal/account')
        self.assertEqual(response.status_code, 303)
        self.assertIn('/portal/login', response.headers['Location'])

    def test_reset_password(self):
        """A reset link (web_user's token, sent by e-mail) sets a new
        password; the old one stops working and the link works once"""
        from trytond.pool import Pool
        email = 'd1-view@example.com'
        client = PortalClient()
        client.get('/portal/reset')
        response = client.post('/portal/reset', {'email': email})
        self.assertEqual(response.status_code, 303)

        def token():
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', email)])
            return user.reset_password_token
        link = self.read(token)
        self.assertTrue(link)
        page = client.get(f'/portal/reset?token={link}&email={email}')
        self.assertIn('name="token"', page.get_data(as_text=True))
        response = client.post('/portal/reset/password', {
                'email': email, 'token': link,
                'password': 'A-new-Pa55word'})
        self.assertEqual(response.status_code, 303)
        self.assertIsNone(self.read(token))
        # the old password no longer signs in, the new one does
        client = PortalClient()
        client.get('/portal/login')
        response = client.post('/portal/login', {
                'email': email, 'password': PASSWORD})
        self.assertEqual(response.status_code, 401)
        client.sign_in(email, 'A-new-Pa55word')
        # the link works once
        again = PortalClient()
        again.get(f'/portal/reset?token={link}&email={email}')
        response = again.post('/portal/reset/password', {
                'email': email, 'token': link, 'password': 'Another-Pa55'})
        self.assertEqual(response.status_code, 400)
