# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Stock counts of distributors: Tryton inventories with variance reasons"
from decimal import Decimal

from sql import Cast, Null
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from distributor import validation
from distributor.access import entry_point, trusted
from distributor.document import Document, DocumentLine, DocumentLog
from distributor.exceptions import RecordNotFound

from .exceptions import CountError

REASONS = [
    (None, ""),
    ('damaged', "Damaged"),
    ('expired', "Expired"),
    ('loss', "Loss or Theft"),
    ('unrecorded', "Unrecorded Movement"),
    ('count_error', "Previous Count Error"),
    ('other', "Other"),
    ]


class Inventory(Document, metaclass=PoolMeta):
    __name__ = 'stock.inventory'
    _dms_editable_states = {'draft'}
    _dms_deletable_states = {'draft', 'cancelled'}
    _dms_workflow_fields = {'number', 'state_logs'}
    _dms_log_model = 'distributor.stock.count.log'

    distributor = fields.Function(
        fields.Many2One('party.party', "Distributor",
            context={'company': Eval('company', -1)}, depends={'company'}),
        'on_change_with_distributor', searcher='search_distributor')
    variance_quantity = fields.Function(
        fields.Float("Variance", digits=(16, 4),
            help="Counted minus book quantity, all lines together."),
        'get_variance')
    variance_value = fields.Function(
        fields.Numeric("Variance Value", digits=(16, 2),
            help="The variance valued at the products' cost price."),
        'get_variance')
    variance_lines = fields.Function(
        fields.Integer("Lines with Variance"), 'get_variance')
    state_logs = fields.One2Many(
        'distributor.stock.count.log', 'document', "State History",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'dms_start_count': RPC(readonly=False),
                'dms_count_scans': RPC(readonly=False),
                'dms_variance_report': RPC(),
                'dms_set_variance_reasons': RPC(readonly=False),
                'dms_confirm_count': RPC(readonly=False),
                })

    @fields.depends('location')
    def on_change_with_distributor(self, name=None):
        if self.location and self.location.distributor:
            return self.location.distributor

    @classmethod
    def search_distributor(cls, name, clause):
        return [('location.distributor' + clause[0][len(name):],
                *clause[1:])]

    @classmethod
    def get_variance(cls, inventories, names):
        result = {n: {} for n in names}
        for inventory in inventories:
            quantity, value, count = 0.0, Decimal(0), 0
            for line in inventory.lines:
                if line.variance_quantity:
                    quantity += line.variance_quantity
                    value += line.variance_value or 0
                    count += 1
            for name, v in [('variance_quantity', quantity),
                    ('variance_value', value), ('variance_lines', count)]:
                if name in result:
                    result[name][inventory.id] = v
        return result

    @classmethod
    def confirm(cls, inventories):
        "A variance on a distributor's count needs its reason"
        pool = Pool()
        Alert = pool.get('distributor.stock.alert')
        for inventory in inventories:
            if not inventory.distributor:
                continue
            for line in inventory.lines:
                if line.variance_quantity and not line.variance_reason:
                    raise CountError(gettext(
                            'distributor_stock.msg_count_reason_required',
                            inventory=inventory.rec_name,
                            product=line.product.rec_name,
                            variance=line.variance_quantity))
        super().confirm(inventories)
        parties = {i.distributor for i in inventories if i.distributor}
        if parties:
            # the caller may confirm the counts (the button's groups and
            # rules): the alerts of their distributors follow, whatever
            # the caller reads of stock periods and levels
            with trusted():
                Alert.refresh(list(parties))

    @classmethod
    def _dms_check_owner(cls, inventory, party, draft=True):
        """The count is of party's stock (when given: else answered like a
        missing one), and still a draft when draft"""
        if party is not None and inventory.distributor != party:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=inventory.id))
        if draft and inventory.state != 'draft':
            raise CountError(gettext(
                    'distributor_stock.msg_count_not_draft',
                    inventory=inventory.rec_name))

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_start_count(cls, party, date=None):
        """Open a count of the distributor's storage, its lines filled with
        the book quantities per product and lot; return its id"""
        pool = Pool()
        Date = pool.get('ir.date')
        date = validation.date(date, gettext(
                'distributor_stock.msg_field_date'), required=False)
        if not party.distributor_storage:
            raise CountError(gettext(
                    'distributor_stock.msg_count_no_warehouse',
                    distributor=party.rec_name))
        inventory = cls(location=party.distributor_storage,
            date=date or Date.today(), empty_quantity='keep')
        inventory.save()
        cls.complete_lines([inventory])
        return inventory.id

    @classmethod
    @entry_point(record={'inventory': None},
        parties={'party': ['distributor']})
    def dms_count_scans(cls, inventory, scans, party=None):
        """Add scanned quantities to the counted quantities of a draft
        count (lines are added for products or lots not on the book)"""
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('stock.inventory.line')
        cls._dms_check_owner(inventory, party)
        lines = {(l.product.id, l.lot.id if l.lot else None): l
            for l in inventory.lines}
        scanned = Product.dms_resolve_scans(scans)
        if len(lines) + len(scanned) > validation.limits().max_lines * 4:
            raise CountError(gettext(
                    'distributor_stock.msg_count_too_many',
                    inventory=inventory.rec_name))
        for scan in scanned:
            key = (scan['product'], scan['lot'])
            line = lines.get(key)
            if line is None:
                line = lines[key] = Line(inventory=inventory,
                    product=scan['product'], lot=scan['lot'],
                    expected_quantity=0)
            line.quantity = (line.quantity or 0) + scan['quantity']
        Line.save(list({id(l): l for l in (
                        lines[(s['product'], s['lot'])]
                        for s in scanned)}.values()))
        return len(scanned)

    @classmethod
    @entry_point(record={'inventory': None},
        parties={'party': ['distributor']})
    def dms_variance_report(cls, inventory, party=None):
        """The variance per product and lot of a count before (or after)
        its validation: a list of dicts"""
        cls._dms_check_owner(inventory, party, draft=False)
        return [{
                'product': l.product.id,
                'product_name': l.product.rec_name,
                'lot': l.lot.id if l.lot else None,
                'lot_number': l.lot.number if l.lot else None,
                'expected_quantity': l.expected_quantity,
                'quantity': l.quantity,
                'variance_quantity': l.variance_quantity,
                'variance_value': l.variance_value,
                'variance_reason': l.variance_reason,
                } for l in inventory.lines if l.variance_quantity]


    @classmethod
    @entry_point(record={'inventory': None},
        parties={'party': ['distributor']})
    def dms_set_variance_reasons(cls, inventory, reasons, party=None):
        """Give the reason (and a note) of the variances of a draft count:
        reasons is a list of dicts with line (an id of the count's
        lines), reason (a key of the variance reasons) and optionally
        note; all are checked before any is written"""
        pool = Pool()
        Line = pool.get('stock.inventory.line')
        cls._dms_check_owner(inventory, party)
        field = gettext('distributor_stock.msg_field_reasons')
        reasons = validation.lines(reasons, field)
        lines = {l.id: l for l in inventory.lines}
        to_write = []
        for values in reasons:
            validation.keys(values, field, {'line', 'reason', 'note'})
            line_id = validation.integer(values.get('line'), field)
            if line_id not in lines:
                raise RecordNotFound(gettext(
                        'distributor.msg_record_not_found',
                        model=Line.__names__()['model'], id=line_id))
            reason = validation.choice(values.get('reason'), field,
                [k for k, _ in REASONS if k])
            note = validation.text(values.get('note'), field, size=200,
                multiline=False)
            to_write.extend([[lines[line_id]], {
                        'variance_reason': reason,
                        'variance_note': note,
                        }])
        if to_write:
            Line.write(*to_write)
        return len(reasons)

    @classmethod
    @entry_point(record={'inventory': None},
        parties={'party': ['distributor']})
    def dms_confirm_count(cls, inventory, party=None):
        """Confirm a draft count of the distributor: every variance must
        have its reason; the stock is corrected to the counted
        quantities"""
        cls._dms_check_owner(inventory, party)
        cls.confirm([inventory])
        return inventory.id


class InventoryLine(DocumentLine, metaclass=PoolMeta):
    __name__ = 'stock.inventory.line'
    _dms_document = 'inventory'

    variance_quantity = fields.Function(
        fields.Float("Variance", digits='unit'), 'get_variance_quantity')
    variance_value = fields.Function(
        fields.Numeric("Variance Value", digits=(16, 2)),
        'get_variance_value')
    variance_reason = fields.Selection(
        REASONS, "Variance Reason",
        states={
            'readonly': Eval('inventory_state') != 'draft',
            })
    variance_note = fields.Char(
        "Variance Note",
        states={
            'readonly': Eval('inventory_state') != 'draft',
            })

    def get_variance_quantity(self, name):
        counted = self.quantity
        if counted is None:
            if self.inventory.empty_quantity == 'empty':
                counted = 0.0
            else:
                return 0.0
        return self.unit.round(counted - (self.expected_quantity or 0))

    def get_variance_value(self, name):
        variance = self.variance_quantity
        if not variance:
            return Decimal(0)
        with Transaction().set_context(company=self.inventory.company.id):
            cost = self.product.cost_price or Decimal(0)
        return (Decimal(str(variance)) * cost).quantize(Decimal('0.01'))



class CountLog(DocumentLog, ModelSQL, ModelView):
    "State history of a stock count"
    __name__ = 'distributor.stock.count.log'

    document = fields.Many2One(
        'stock.inventory', "Count", required=True, ondelete='CASCADE',
        readonly=True)


class Variance(ModelSQL, ModelView):
    """Count Variance

    The lines of stock counts whose counted quantity differs from the
    book, valued at cost price."""
    __name__ = 'distributor.stock.count.variance'

    inventory = fields.Many2One('stock.inventory', "Count")
    date = fields.Date("Date")
    location = fields.Many2One('stock.location', "Location")
    distributor = fields.Many2One('party.party', "Distributor")
    product = fields.Many2One('product.product', "Product")
    lot = fields.Many2One('stock.lot', "Lot")
    expected_quantity = fields.Float("Book Quantity", digits=(16, 4))
    quantity = fields.Float("Counted Quantity", digits=(16, 4))
    variance_quantity = fields.Float("Variance", digits=(16, 4))
    cost_price = fields.Numeric("Cost Price", digits=(16, 4))
    variance_value = fields.Numeric("Variance Value", digits=(16, 2))
    variance_reason = fields.Selection(REASONS, "Reason")
    variance_note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('inventory', 'DESC'),
            ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Line = pool.get('stock.inventory.line')
        Location = pool.get('stock.location')
        CostPrice = pool.get('product.cost_price')
        inventory = Inventory.__table__()
        line = Line.__table__()
        location = Location.__table__()
        cost = CostPrice.__table__()
        counted = Coalesce(line.quantity, line.expected_quantity)
        variance = counted - line.expected_quantity
        price = Coalesce(cost.cost_price, 0)
        value = Cast(variance, 'NUMERIC') * price
        return (line
            .join(inventory, condition=line.inventory == inventory.id)
            .join(location, condition=inventory.location == location.id)
            .join(cost, 'LEFT', condition=(cost.product == line.product)
                & (cost.company == inventory.company))
            .select(
                line.id.as_('id'),
                line.inventory.as_('inventory'),
                inventory.date.as_('date'),
                inventory.location.as_('location'),
                location.distributor.as_('distributor'),
                line.product.as_('product'),
                line.lot.as_('lot'),
                line.expected_quantity.as_('expected_quantity'),
                line.quantity.as_('quantity'),
                variance.as_('variance_quantity'),
                price.as_('cost_price'),
                value.as_('variance_value'),
                line.variance_reason.as_('variance_reason'),
                line.variance_note.as_('variance_note'),
                where=(line.quantity != Null)
                & (line.quantity != line.expected_quantity)
                & (inventory.state != 'cancelled')))
