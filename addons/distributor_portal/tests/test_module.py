# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class DistributorPortalTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Distributor Portal module"
    module = 'distributor_portal'


del ModuleTestCase
