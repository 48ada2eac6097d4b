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
