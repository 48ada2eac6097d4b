# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""One database is one brand.

The channel is the brand's: tiers, territories, stock locations of the
distributors, price floors, configuration and the channel queries (credit
committed, stock levels, sell-out, statements) are the brand's, not a
company's.  A second company would share them without being told, so it
is refused: a second brand runs in its own database."""
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

from .exceptions import BrandError


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    @classmethod
    def create(cls, vlist):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        # every company, whatever the caller's record rules
        cursor.execute(*table.select(Count(table.id)))
        existing, = cursor.fetchone()
        if vlist and existing + len(vlist) > 1:
            raise BrandError(gettext('distributor.msg_one_brand'))
        return super().create(vlist)
