# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @fields.depends('distributor_tier')
    def _distributor_tier_defaults(self):
        defaults = super()._distributor_tier_defaults()
        tier = self.distributor_tier
        if tier and tier.price_list:
            defaults['sale_price_list'] = tier.price_list
        return defaults

    def dms_buys_from_brand(self):
        """Whether the distributor orders from the brand: it has no
        upstream, or its tier buys from the brand.  Else it orders from its
        upstream and is replenished by it, through channel orders."""
        if not self.upstream:
            return True
        tier = self.distributor_tier
        return bool(tier and tier.buys_from_brand)
