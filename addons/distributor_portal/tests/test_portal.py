# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Signing in, sessions, CSRF, languages, accounts and the API's
envelope, through trytond's WSGI application"""
from .tools import PortalTestCase, build_portal_world


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
