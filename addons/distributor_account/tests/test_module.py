# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class DistributorAccountTestCase(ModuleTestCase):
    "Test the distributor_account module"
    module = 'distributor_account'
    extras = []


del ModuleTestCase
