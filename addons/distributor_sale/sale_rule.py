# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The channel rules of a distributor order.

One implementation, used on submission, on approval (one by one or in
batch), on the order form and by the API: each rule is a method
``_dms_rule_<name>(sale, context)`` that answers None (passed) or the
message of its refusal, listed in ``_dms_rules()``; a module adds a rule by
extending that list and the context (see distributor_stock's 'stock').
A rule that uses up a limit (credit, deposit, stock) reserves what an
order takes in ``_dms_reserve_<name>``, so that the next orders of a batch
approval see what is left."""
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.backend import MAX_QUERY_PARAMS

from .exceptions import ChannelOrderError


def _selection_string(Model, field, value):
    return dict(Model.fields_get([field])[field]['selection']).get(
        value, value or '')


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def _dms_rules(cls):
        "The channel rules, in the order they are checked and shown"
        return ['trade', 'supplier', 'lines', 'categories', 'territory',
            'price_list', 'price_floor', 'minimum', 'pack', 'settlement']

    @classmethod
    def _dms_rule_label(cls, rule):
        "The name of a rule (a module adding a rule extends it)"
        return gettext(f'distributor_sale.msg_rule_{rule}')

    @classmethod
    def check_channel_rules(cls, sales):
        "Raise ChannelOrderError on the first rule an order breaks"
        outcomes = cls._dms_rule_outcomes(sales)
        for sale in sales:
            for rule, message in outcomes[sale.id]:
                if message is not None:
                    raise ChannelOrderError(message)

    @classmethod
    def _dms_rule_outcomes(cls, sales, cumulative=False):
        """Return {sale id: [(rule, None or error message)]}.

        With cumulative, what an order uses of a limit (credit, deposit,
        stock) counts for the next orders, for the orders that pass every
        rule."""
        sales = list(sales)
        context = cls._dms_rule_context(sales)
        rules = cls._dms_rules()
        result = {}
        for sale in sales:
            context.order = sale.rec_name
            outcome = [(rule, getattr(cls, f'_dms_rule_{rule}')(
                        sale, context)) for rule in rules]
            if cumulative and all(m is None for _, m in outcome):
                for rule in rules:
                    reserve = getattr(cls, f'_dms_reserve_{rule}', None)
                    if reserve:
                        reserve(sale, context)
            result[sale.id] = outcome
        return result

    @classmethod
    def _dms_rule_context(cls, sales):
        """What the rules read, for all the orders at once (a module
        adding a rule adds its own)"""
        pool = Pool()
        Territory = pool.get('distributor.territory')
        Address = pool.get('party.address')
        PriceFloor = pool.get('distributor.price_floor')
        Configuration = pool.get('distributor.configuration')
        Party = pool.get('party.party')
        Lang = pool.get('ir.lang')
        context = SimpleNamespace()
        context.lang = Lang.get()
        context.config = Configuration(1)
        parties = {s.party for s in sales if s.party}
        context.areas = Territory.areas({p.id: p.territories
                for p in parties})
        context.sales_territories = Address.sales_territories(
            {s.shipment_address for s in sales if s.shipment_address})
        products = {l.product for s in sales for l in s.line_lines
            if l.product}
        context.authorized = Party.dms_authorized_products(
            parties, products)
        context.floors = PriceFloor.floors({
                (s.party.distributor_tier.id, l.product.id)
                for s in sales if s.party and s.party.distributor_tier
                for l in s.line_lines if l.product})
        # the limits, per company
        context.credit_used, context.limits = {}, {}
        context.deposits, context.committed = {}, {}
        by_company = defaultdict(set)
        for sale in sales:
            if sale.party and sale.company:
                by_company[sale.company].add(sale.party)
        for company, company_parties in by_company.items():
            credit = [p for p in company_parties
                if p.settlement_method == 'credit']
            prepaid = [p for p in company_parties
                if p.settlement_method == 'prepaid']
            with Transaction().set_context(company=company.id):
                for party in Party.browse(credit):
                    key = (company.id, party.id)
                    context.credit_used[key] = party.credit_amount
                    context.limits[key] = party.get_multivalue(
                        'credit_limit_amount', company=company.id)
                for party in Party.browse(prepaid):
                    context.deposits[(company.id, party.id)] = (
                        party.deposit or Decimal(0))
            for party_id, amount in cls._dms_committed_amounts(
                    prepaid, company, exclude=sales).items():
                context.committed[(company.id, party_id)] = amount
        context.pending = defaultdict(Decimal)
        return context

    @classmethod
    def _dms_committed_amounts(cls, parties, company, exclude=()):
        """{party id: total of its approved orders not invoiced yet} of the
        company: the deposit they will use"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        excluded = [s.id for s in exclude if s.id is not None and s.id >= 0]
        where = (table.state.in_(['confirmed', 'processing'])
            & table.invoice_state.in_(['none', 'pending'])
            & (table.company == company.id))
        if excluded:
            where &= ~table.id.in_(excluded)
        for sub in grouped_slice([p.id for p in parties], MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.party,
                    Sum(table.total_amount_cache),
                    where=where & fields.SQL_OPERATORS['in'](
                        table.party, list(sub)),
                    group_by=[table.party]))
            for party_id, amount in cursor:
                if amount is not None:
                    result[party_id] = Decimal(str(amount))
        return result

    @staticmethod
    def _dms_message(msg_id, context, **kwargs):
        return gettext('distributor_sale.' + msg_id, order=context.order,
            **kwargs)

    # The rules ---------------------------------------------------------

    @classmethod
    def _dms_rule_trade(cls, sale, context):
        "The distributor may trade: active, with a business licence"
        refusal = sale.party.trade_refusal()
        if refusal:
            return cls._dms_message('msg_rule_trade_failed', context,
                reason=refusal)

    @classmethod
    def _dms_rule_supplier(cls, sale, context):
        """A distributor with an upstream buys from it (channel orders),
        unless its tier buys from the brand"""
        party = sale.party
        if not party.dms_buys_from_brand():
            return cls._dms_message('msg_rule_supplier_failed', context,
                distributor=party.rec_name,
                upstream=party.upstream.rec_name)

    @classmethod
    def _dms_rule_lines(cls, sale, context):
        "Lines of salable products, quantities of the right sign, gifts"
        lines = sale.line_lines
        if not lines:
            return cls._dms_message('msg_rule_lines_empty', context)
        if len(lines) > context.config.max_lines:
            return cls._dms_message('msg_rule_lines_too_many', context,
                count=len(lines), maximum=context.config.max_lines)
        for line in lines:
            if not line.product or not line.product.salable:
                return cls._dms_message('msg_rule_lines_product', context,
                    line=line.rec_name)
            if sale.order_kind == 'return':
                if (line.quantity or 0) >= 0:
                    return cls._dms_message(
                        'msg_rule_lines_return_quantity', context,
                        product=line.product.rec_name)
            elif (line.quantity or 0) <= 0:
                return cls._dms_message('msg_rule_lines_quantity', context,
                    product=line.product.rec_name,
                    quantity=line.quantity or 0)
            if line.gift and sale.order_kind != 'promotion':
                return cls._dms_message('msg_rule_lines_gift', context,
                    product=line.product.rec_name)

    @classmethod
    def _dms_rule_categories(cls, sale, context):
        "Every product is authorized for the distributor"
        allowed = context.authorized.get(sale.party.id, set())
        for line in sale.line_lines:
            if line.product and line.product.id not in allowed:
                return cls._dms_message('msg_rule_categories_failed',
                    context, product=line.product.rec_name,
                    distributor=sale.party.rec_name)

    @classmethod
    def _dms_rule_territory(cls, sale, context):
        "The delivery address lies in the distributor's territories"
        address = sale.shipment_address
        territory = context.sales_territories.get(address)
        if not address:
            return cls._dms_message('msg_rule_territory_no_address', context)
        if not territory:
            return cls._dms_message('msg_rule_territory_unknown', context,
                address=address.rec_name)
        if territory.id not in context.areas[sale.party.id]:
            return cls._dms_message('msg_rule_territory_failed', context,
                address=address.rec_name, territory=territory.rec_name,
                distributor=sale.party.rec_name)

    @classmethod
    def _dms_rule_price_list(cls, sale, context):
        "The order is priced with the tier's price list"
        tier = sale.party.distributor_tier
        if tier and tier.price_list and sale.price_list != tier.price_list:
            return cls._dms_message('msg_rule_price_list_failed', context,
                tier=tier.rec_name, price_list=tier.price_list.rec_name)

    @classmethod
    def _dms_rule_price_floor(cls, sale, context):
        "No line under the tier's price floor unless a manager allowed it"
        Uom = Pool().get('product.uom')
        tier = sale.party.distributor_tier
        if sale.order_kind == 'return':
            return
        for line in sale.line_lines:
            if not line.product or line.gift:
                continue
            floor = context.floors.get(
                (tier.id if tier else None, line.product.id))
            if floor is None:
                continue
            if line.product.sale_uom and line.unit and (
                    line.unit != line.product.sale_uom):
                floor = Uom.compute_price(
                    line.product.sale_uom, floor, line.unit)
            if ((line.unit_price or 0) < floor
                    and not line.floor_override_by):
                return cls._dms_message('msg_rule_price_floor_failed',
                    context, product=line.product.rec_name,
                    price=context.lang.currency(
                        line.unit_price or 0, sale.currency),
                    floor=context.lang.currency(floor, sale.currency),
                    tier=tier.rec_name)

    @classmethod
    def _dms_rule_minimum(cls, sale, context):
        "The tier's minimum order amount"
        tier = sale.party.distributor_tier
        minimum = tier.minimum_order_amount if tier else None
        if (minimum and sale.order_kind != 'return'
                and sale.untaxed_amount < minimum):
            return cls._dms_message('msg_rule_minimum_failed', context,
                amount=context.lang.currency(
                    sale.untaxed_amount, sale.currency),
                minimum=context.lang.currency(minimum, sale.currency))

    @classmethod
    def _dms_rule_pack(cls, sale, context):
        "Quantities in whole packs"
        Uom = Pool().get('product.uom')
        for line in sale.line_lines:
            if not line.product or not line.unit:
                continue
            pack = line.product.template.pack_quantity
            if not pack:
                continue
            quantity = abs(Uom.compute_qty(
                    line.unit, line.quantity or 0,
                    line.product.sale_uom, round=False))
            ratio = quantity / pack
            if abs(ratio - round(ratio)) > 1e-6:
                return cls._dms_message('msg_rule_pack_failed', context,
                    product=line.product.rec_name,
                    quantity='%g' % line.quantity, pack='%g' % pack)

    @classmethod
    def _dms_settlement_amount(cls, sale):
        "What the order uses of the distributor's credit or deposit"
        method = sale.party.settlement_method
        if sale.order_kind == 'return' or not method:
            return Decimal(0)
        if method == 'credit':
            return sale.credit_limit_amount
        if method == 'prepaid':
            return sale.total_amount
        return Decimal(0)

    @classmethod
    def _dms_rule_settlement(cls, sale, context):
        "Credit limit, deposit, or the instalment payment term"
        party = sale.party
        method = party.settlement_method
        key = (sale.company.id, party.id)
        lang = context.lang
        if sale.order_kind == 'return' or not method:
            return
        amount = cls._dms_settlement_amount(sale)
        if method == 'credit':
            limit = context.limits.get(key)
            used = context.credit_used.get(key, 0) + context.pending[key]
            if limit is not None and used + amount > limit:
                currency = sale.company.currency
                return cls._dms_message('msg_rule_credit_failed', context,
                    distributor=party.rec_name,
                    amount=lang.currency(amount, currency),
                    used=lang.currency(used, currency),
                    limit=lang.currency(limit, currency))
        elif method == 'prepaid':
            available = (context.deposits.get(key, Decimal(0))
                - context.committed.get(key, Decimal(0))
                - context.pending[key])
            if amount > available:
                return cls._dms_message('msg_rule_deposit_failed', context,
                    distributor=party.rec_name,
                    amount=lang.currency(amount, sale.currency),
                    available=lang.currency(
                        max(available, 0), sale.currency))
        elif method == 'instalment':
            term = context.config.instalment_payment_term
            if not term:
                return cls._dms_message(
                    'msg_rule_instalment_no_term', context)
            if sale.payment_term != term:
                return cls._dms_message('msg_rule_instalment_failed',
                    context, term=term.rec_name)

    @classmethod
    def _dms_reserve_settlement(cls, sale, context):
        context.pending[(sale.company.id, sale.party.id)] += (
            cls._dms_settlement_amount(sale))

    @classmethod
    def get_rule_checks(cls, sales, name):
        result = {s.id: None for s in sales}
        to_check = []
        for sale in sales:
            if not sale.distributor_order:
                continue
            if sale.channel_state in {'draft', 'rejected', 'submitted'}:
                to_check.append(sale)
            elif sale.approved_at:
                result[sale.id] = gettext(
                    'distributor_sale.msg_rules_passed_at_approval',
                    date=sale.approved_at.replace(microsecond=0))
        if to_check:
            outcomes = cls._dms_rule_outcomes(to_check)
            for sale in to_check:
                result[sale.id] = cls._format_outcome(outcomes[sale.id])
        return result

    @classmethod
    def _format_outcome(cls, outcome):
        lines = []
        for rule, message in outcome:
            label = cls._dms_rule_label(rule)
            if message is None:
                lines.append(f'✔ {label}')
            else:
                lines.append(f'✘ {label}: {message}')
        return '\n'.join(lines)

