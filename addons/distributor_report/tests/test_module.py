# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class DistributorReportTestCase(ModuleTestCase):
    "Test the distributor_report module"
    module = 'distributor_report'
    extras = []


del ModuleTestCase
