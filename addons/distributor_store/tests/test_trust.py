# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The trust boundary, walked over every module: each entry point called as
every role, for its own party and for a foreign one; what each rep sees of
every model; raw writes on every document."""
import datetime as dt
import io
import os
import unittest
from decimal import Decimal

import xlsxwriter

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction
from trytond.wizard import StateView

from distributor.exceptions import InputError, RecordNotFound
from distributor.tests.trust import (
    as_user, button_groups, entry_points, undone, wizard_actions, wizards)

from distributor.tests.tools import with_transaction

from .tools import trust_world

ROLES = ['admin', 'manager', 'rep', 'accountant', 'plain']
A = {'admin', 'manager'}
AR = A | {'rep'}
ALL = AR | {'accountant'}
# the refusals: a right (group), a reach (rule), or the same answer as a
# missing record
REFUSED = (AccessError, AccessButtonError)
# the refusals of the input checks, before anything is written
InputErrors = (InputError, RecordNotFound)


def _workbook(code, territory):
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {'in_memory': True})
    sheet = book.add_worksheet()
    for col, (key, value) in enumerate([('code', code),
                ('name', f"Imported {code}"), ('tier', 'T3'),
                ('territories', territory)]):
        sheet.write(0, col, key)
        sheet.write(1, col, value)
    book.close()
    return output.getvalue()


def _today():
    return Pool().get('ir.date').today()


# (model, entry point): (roles allowed, call(Model, side, world)).  The
# side is the rep's own (D1) or a foreign one (D2); the other roles reach
# both.  This table is the expected answer, written apart from the access
# data it checks.
ENTRY_POINTS = {
    # distributor
    ('party.party', 'distributor_activate'): (A,
        lambda M, s, n: M.distributor_activate([s.draft_distributor])),
    ('party.party', 'distributor_unfreeze'): (A,
        lambda M, s, n: M.distributor_unfreeze([s.frozen_distributor])),
    ('party.party', 'distributor_freeze'): (A,
        lambda M, s, n: M.distributor_freeze([s.party])),
    ('party.party', 'distributor_terminate'): (A,
        lambda M, s, n: M.distributor_terminate([s.party])),
    ('party.party', 'import_distributors'): (A,
        lambda M, s, n: M.import_distributors(_workbook(
                f'IMP-{s.key}', s.territory.code))),
    ('party.party', 'change_distributor_state'): (A,
        lambda M, s, n: M.change_distributor_state(
            [s.party.id], 'frozen', "Overdue")),
    # stores
    ('party.party', 'store_close'): (A,
        lambda M, s, n: M.store_close([s.store])),
    ('party.party', 'store_reopen'): (A,
        lambda M, s, n: M.store_reopen([s.closed_store])),
    ('party.party', 'store_move'): (A,
        lambda M, s, n: M.store_move([s.store])),
    ('party.party', 'dms_list_stores'): (ALL,
        lambda M, s, n: M.dms_list_stores(s.party.id)),
    ('party.party', 'dms_save_store'): (AR,
        lambda M, s, n: M.dms_save_store(s.party.id,
            {'name': "New store", 'territory': s.territory.id})),
    ('party.party', 'dms_list_customers'): (ALL,
        lambda M, s, n: M.dms_list_customers(s.party.id)),
    ('party.party', 'dms_save_customer'): (AR,
        lambda M, s, n: M.dms_save_customer(s.party.id,
            {'name': "New customer"})),
    ('party.party', 'dms_store_state'): (A,
        lambda M, s, n: M.dms_store_state(s.party.id, [s.store.id],
            'close')),
    # distributor orders
    ('sale.sale', 'dms_submit'): (AR,
        lambda M, s, n: M.dms_submit([s.sale_draft])),
    ('sale.sale', 'dms_approve'): (AR,
        lambda M, s, n: M.dms_approve([s.sale_submitted])),
    ('sale.sale', 'dms_reject'): (AR,
        lambda M, s, n: M.dms_reject([s.sale_submitted])),
    ('sale.sale', 'dms_cancel'): (AR,
        lambda M, s, n: M.dms_cancel([s.sale_draft])),
    ('sale.sale', 'dms_override_floor'): (A,
        lambda M, s, n: M.dms_override_floor([s.sale_low])),
    ('sale.sale', 'dms_receive'): (AR,
        lambda M, s, n: M.dms_receive([s.sale_shipped])),
    ('sale.sale', 'dms_approve_orders'): (AR,
        lambda M, s, n: M.dms_approve_orders([s.sale_submitted.id])),
    ('sale.sale', 'dms_create_order'): (AR,
        lambda M, s, n: M.dms_create_order(s.party.id,
            [{'product': 'P1', 'quantity': 10}])),
    ('sale.sale', 'dms_cancel_orders'): (AR,
        lambda M, s, n: M.dms_cancel_orders([s.sale_draft.id], "Typo")),
    ('sale.sale', 'dms_reject_orders'): (AR,
        lambda M, s, n: M.dms_reject_orders(
            [s.sale_submitted.id], "No")),
    ('sale.sale', 'dms_confirm_receipt'): (AR,
        lambda M, s, n: M.dms_confirm_receipt([s.sale_shipped.id])),
    ('sale.sale', 'dms_rule_report'): (ALL,
        lambda M, s, n: M.dms_rule_report([s.sale_draft.id])),
    ('sale.sale', 'dms_receive_scans'): (AR,
        lambda M, s, n: M.dms_receive_scans(s.sale_shipped.id,
            [{'code': 'P1', 'quantity': 10}], party=s.party.id)),
    ('distributor.sale.discrepancy', 'resolve'): (A,
        lambda M, s, n: M.resolve([s.discrepancy])),
    ('distributor.message', 'mark_read'): (AR,
        lambda M, s, n: M.mark_read([s.message])),
    # channel stock
    ('distributor.stock.level', 'dms_list_levels'): (ALL,
        lambda M, s, n: M.dms_list_levels(s.party.id)),
    ('distributor.stock.alert', 'dismiss'): (AR,
        lambda M, s, n: M.dismiss([s.alert])),
    ('distributor.stock.alert', 'create_orders'): (AR,
        lambda M, s, n: M.create_orders([s.alert])),
    ('distributor.stock.alert', 'dms_list_alerts'): (ALL,
        lambda M, s, n: M.dms_list_alerts(s.party.id)),
    ('distributor.stock.alert', 'dms_order_alerts'): (AR,
        lambda M, s, n: M.dms_order_alerts(s.party.id, [s.alert.id])),
    ('distributor.stock.transfer', 'request'): (A,
        lambda M, s, n: M.request([s.transfer_draft])),
    ('distributor.stock.transfer', 'approve'): (A,
        lambda M, s, n: M.approve([s.transfer_requested])),
    ('distributor.stock.transfer', 'reject'): (A,
        lambda M, s, n: M.reject([s.transfer_requested])),
    ('distributor.stock.transfer', 'ship'): (A,
        lambda M, s, n: M.ship([s.transfer_approved])),
    ('distributor.stock.transfer', 'receive'): (A,
        lambda M, s, n: M.receive([s.transfer_shipped])),
    ('distributor.stock.transfer', 'resolve'): (A,
        lambda M, s, n: M.resolve([s.transfer_received])),
    ('distributor.stock.transfer', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.transfer_draft])),
    ('distributor.stock.transfer', 'draft'): (A,
        lambda M, s, n: M.draft([s.transfer_rejected])),
    ('distributor.stock.transfer', 'dms_create_transfer'): (A,
        lambda M, s, n: M.dms_create_transfer(s.party.id,
            s.downstream.id, [{'product': 'P1', 'quantity': 1}])),
    ('distributor.stock.transfer', 'giver_approve'): (A,
        lambda M, s, n: M.giver_approve(
            [s.transfer_requested.id], s.party.id)),
    ('distributor.stock.transfer', 'receive_transfers'): (A,
        lambda M, s, n: M.receive_transfers([s.transfer_shipped.id],
            party=s.downstream.id)),
    ('stock.inventory', 'dms_start_count'): (A,
        lambda M, s, n: M.dms_start_count(s.party.id)),
    ('stock.inventory', 'dms_count_scans'): (A,
        lambda M, s, n: M.dms_count_scans(s.count.id, ['P1'],
            s.party.id)),
    ('stock.inventory', 'dms_variance_report'): (A,
        lambda M, s, n: M.dms_variance_report(s.count.id, s.party.id)),
    ('stock.inventory', 'dms_set_variance_reasons'): (A,
        lambda M, s, n: M.dms_set_variance_reasons(s.count.id, [
                {'line': s.count.lines[0].id, 'reason': 'damaged'}],
            s.party.id)),
    ('stock.inventory', 'dms_confirm_count'): (A,
        lambda M, s, n: M.dms_confirm_count(s.count.id, s.party.id)),
    ('product.product', 'dms_resolve_scans'): (AR,
        lambda M, s, n: M.dms_resolve_scans(['P1'])),
    # channel orders
    ('distributor.channel.order', 'submit'): (A,
        lambda M, s, n: M.submit([s.co_draft])),
    ('distributor.channel.order', 'approve'): (A,
        lambda M, s, n: M.approve([s.co_submitted])),
    ('distributor.channel.order', 'reject'): (A,
        lambda M, s, n: M.reject([s.co_submitted])),
    ('distributor.channel.order', 'deliver'): (A,
        lambda M, s, n: M.deliver([s.co_approved])),
    ('distributor.channel.order', 'receive'): (A,
        lambda M, s, n: M.receive([s.co_delivered])),
    ('distributor.channel.order', 'resolve'): (A,
        lambda M, s, n: M.resolve([s.co_received])),
    ('distributor.channel.order', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.co_draft])),
    ('distributor.channel.order', 'draft'): (A,
        lambda M, s, n: M.draft([s.co_rejected])),
    ('distributor.channel.order', 'dms_create_channel_order'): (AR,
        lambda M, s, n: M.dms_create_channel_order(s.party.id,
            [{'product': 'P1', 'quantity': 1}], buyer=s.store.id)),
    ('distributor.channel.order', 'dms_approve_channel_orders'): (A,
        lambda M, s, n: M.dms_approve_channel_orders(
            s.party.id, [s.co_submitted.id])),
    ('distributor.channel.order', 'dms_reject_channel_orders'): (A,
        lambda M, s, n: M.dms_reject_channel_orders(
            s.party.id, [s.co_submitted.id], "No")),
    ('distributor.channel.order', 'dms_deliver_channel_orders'): (A,
        lambda M, s, n: M.dms_deliver_channel_orders(
            s.party.id, [s.co_approved.id])),
    ('distributor.channel.order', 'dms_receive_channel_order'): (A,
        lambda M, s, n: M.dms_receive_channel_order(
            s.downstream.id, s.co_down_delivered.id)),
    ('distributor.channel.order', 'dms_cancel_channel_orders'): (A,
        lambda M, s, n: M.dms_cancel_channel_orders(
            s.downstream.id, [s.co_down_submitted.id], "Typo")),
    # shelf checks and diversion
    ('distributor.store.check', 'confirm'): (AR,
        lambda M, s, n: M.confirm([s.check])),
    ('distributor.store.check', 'dms_shelf_check'): (AR,
        lambda M, s, n: M.dms_shelf_check(s.party.id, s.store.id,
            ['P1'])),
    ('distributor.diversion.incident', 'confirm'): (A,
        lambda M, s, n: M.confirm([s.incident_open])),
    ('distributor.diversion.incident', 'dismiss'): (A,
        lambda M, s, n: M.dismiss([s.incident_open])),
    ('distributor.diversion.incident', 'reopen'): (A,
        lambda M, s, n: M.reopen([s.incident_confirmed])),
    # promotions, coverage, payments, prices, replenishment
    ('distributor.store.promotion', 'activate'): (A,
        lambda M, s, n: M.activate([s.promotion_draft])),
    ('distributor.store.promotion', 'close'): (A,
        lambda M, s, n: M.close([s.promotion_active])),
    ('distributor.store.promotion', 'draft'): (A,
        lambda M, s, n: M.draft([s.promotion_active])),
    ('distributor.store.promotion', 'dms_list_promotions'): (ALL,
        lambda M, s, n: M.dms_list_promotions(s.party.id)),
    ('distributor.store.promotion', 'dms_save_promotion'): (A,
        lambda M, s, n: M.dms_save_promotion(s.party.id, {
                'name': "New promotion", 'kind': 'threshold',
                'threshold_amount': '100', 'amount_off': '5',
                'stores': [s.store.id], 'start_date': _today().isoformat(),
                'end_date': _today().isoformat()})),
    ('distributor.store.promotion', 'dms_promotion_action'): (A,
        lambda M, s, n: M.dms_promotion_action(s.party.id,
            [s.promotion_draft.id], 'activate')),
    ('distributor.coverage.plan', 'start'): (A,
        lambda M, s, n: M.start([s.plan_draft])),
    ('distributor.coverage.plan', 'close'): (A,
        lambda M, s, n: M.close([s.plan_running])),
    ('distributor.coverage.plan', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.plan_draft])),
    ('distributor.coverage.plan', 'draft'): (A,
        lambda M, s, n: M.draft([s.plan_cancelled])),
    ('distributor.coverage.plan', 'dms_plan_progress'): (ALL,
        lambda M, s, n: M.dms_plan_progress(s.party.id)),
    ('distributor.store.payment', 'post'): (A,
        lambda M, s, n: M.post([s.payment])),
    ('distributor.store.payment', 'cancel'): (A,
        lambda M, s, n: M.cancel([s.payment])),
    ('distributor.store.payment', 'dms_record_payment'): (A,
        lambda M, s, n: M.dms_record_payment(
            s.party.id, s.store.id, '10.00')),
    ('distributor.store.statement', 'dms_store_statement'): (ALL,
        lambda M, s, n: M.dms_store_statement(s.party.id, s.store.id,
            '2020-01-01', _today().isoformat())),
    ('distributor.store.price', 'dms_set_prices'): (A,
        lambda M, s, n: M.dms_set_prices(s.party.id,
            {str(n.products.p1.id): '12'})),
    ('distributor.store.price', 'dms_list_prices'): (ALL,
        lambda M, s, n: M.dms_list_prices(s.party.id)),
    ('distributor.store.limit', 'dms_store_suggestions'): (AR,
        lambda M, s, n: M.dms_store_suggestions(s.party.id)),
    ('distributor.store.limit', 'dms_order_store_suggestions'): (A,
        lambda M, s, n: M.dms_order_store_suggestions(s.party.id, [
                {'store': s.store.id, 'product': n.products.p1.id,
                    'quantity': 2}])),
    }

# wizard: (roles allowed, model, records of the side, [(state, data)])
WIZARDS = {
    'distributor.freeze': (A, 'party.party', lambda s: [s.party],
        [('apply', {'start': {'reason': "Overdue"}})]),
    'distributor.terminate': (A, 'party.party', lambda s: [s.party],
        [('apply', {'start': {'reason': "Closed"}})]),
    'distributor.import': (A, None, None,
        [('import_', {'start': {'file': None}})]),
    'distributor.sale.reject': (AR, 'sale.sale',
        lambda s: [s.sale_submitted],
        [('apply', {'start': {'reason': "No"}})]),
    'distributor.sale.cancel': (AR, 'sale.sale', lambda s: [s.sale_draft],
        [('apply', {'start': {'reason': "Typo"}})]),
    'distributor.sale.override_floor': (A, 'sale.sale',
        lambda s: [s.sale_low],
        [('apply', {'start': {'reason': "Launch"}})]),
    'distributor.sale.batch': (AR, 'sale.sale',
        lambda s: [s.sale_submitted],
        [('run', {'start': {'action': 'approve', 'reason': None}})]),
    'distributor.sale.receive': (AR, 'sale.sale',
        lambda s: [s.sale_shipped], [('confirm', 'defaults')]),
    'distributor.sale.resolve': (A, 'distributor.sale.discrepancy',
        lambda s: [s.discrepancy],
        [('resolve', {'start': {'resolution': 'write_off',
                        'note': None}})]),
    'distributor.stock.alert.create_orders': (AR,
        'distributor.stock.alert', lambda s: [s.alert], [('create_', {})]),
    'distributor.stock.alert.refresh': (A, None, None,
        [('start', {})]),
    'distributor.stock.transfer.reject': (A, 'distributor.stock.transfer',
        lambda s: [s.transfer_requested],
        [('apply', {'start': {'reason': "No"}})]),
    'distributor.stock.transfer.cancel': (A, 'distributor.stock.transfer',
        lambda s: [s.transfer_draft],
        [('apply', {'start': {'reason': "Typo"}})]),
    'distributor.stock.transfer.receive': (A,
        'distributor.stock.transfer', lambda s: [s.transfer_shipped],
        [('confirm', 'defaults')]),
    'distributor.stock.transfer.resolve': (A,
        'distributor.stock.transfer', lambda s: [s.transfer_received],
        [('resolve', {'start': {'resolution': 'write_off',
                        'note': None}})]),
    'distributor.channel.order.reject': (A, 'distributor.channel.order',
        lambda s: [s.co_submitted],
        [('apply', {'start': {'reason': "No"}})]),
    'distributor.channel.order.cancel': (A, 'distributor.channel.order',
        lambda s: [s.co_draft],
        [('apply', {'start': {'reason': "Typo"}})]),
    'distributor.channel.order.receive': (A, 'distributor.channel.order',
        lambda s: [s.co_delivered], [('apply', 'defaults')]),
    'distributor.channel.order.resolve': (A, 'distributor.channel.order',
        lambda s: [s.co_received],
        [('apply', {'start': {'resolution': 'write_off'}})]),
    'distributor.store.replenish': (A, 'party.party', lambda s: [s.store],
        [('suggest', 'defaults')]),
    'distributor.store.move': (A, 'party.party',
        lambda s: [s.spare_store], [('apply', 'move')]),
    }


# the figures the test run prints (scripts/run_tests.py)
FIGURES = {}


def tearDownModule():
    path = os.environ.get('DMS_TRUST_FIGURES')
    if path and FIGURES:
        with open(path, 'a') as file:
            for key, value in sorted(FIGURES.items()):
                file.write(f'{key}={value}\n')


class TrustTestCase(unittest.TestCase):
    "The trust boundary of every module, walked"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['distributor_store'])

    def _users(self, n):
        return {'admin': Pool().get('res.user')(1), **vars(n.users)}

    @with_transaction()
    def test_every_entry_point_is_declared(self):
        """Every button, RPC method and wizard the project defines states
        who may call it, and is in the tables of this test"""
        pool = Pool()
        found = entry_points(pool)
        undeclared = [(m, n) for m, n, k in found if k == 'undeclared']
        self.assertEqual(undeclared, [])
        checked = {(m, n) for m, n, k in found if k in {'button', 'rpc'}}
        self.assertEqual(checked - set(ENTRY_POINTS), set(),
            "entry points missing from the expected table")
        self.assertEqual(set(ENTRY_POINTS) - checked, set(),
            "entry points in the table that do not exist")
        for model, name in sorted(checked):
            with self.subTest(entry_point=f'{model}.{name}'):
                self.assertTrue(button_groups(model, name),
                    "no group may call it")
        self.assertEqual(set(wizards(pool)), set(WIZARDS))
        for name in wizards(pool):
            with self.subTest(wizard=name):
                actions = wizard_actions(name)
                self.assertTrue(actions, "no action")
                for action in actions:
                    self.assertTrue(action.groups, "no group may run it")

    @with_transaction()
    def test_entry_points_by_role(self):
        """Each entry point as every role, for the rep's own party and a
        foreign one: allowed calls work, refused ones write nothing"""
        pool = Pool()
        calls = 0
        with trust_world() as n:
            users = self._users(n)
            for (model, name), (allowed, call) in sorted(
                    ENTRY_POINTS.items()):
                Model = pool.get(model)
                for role in ROLES:
                    for side in ['own', 'foreign']:
                        expected = role in allowed and (
                            role != 'rep' or side == 'own'
                            or name in {'dms_resolve_scans'})
                        with self.subTest(entry_point=f'{model}.{name}',
                                role=role, side=side):
                            self._check_call(expected, users[role],
                                lambda: call(Model, n.sides[side], n))
                        calls += 1
        FIGURES['entry_point_calls'] = calls

    @with_transaction()
    def test_wizards_by_role(self):
        "Each wizard run as every role, on its own and a foreign record"
        pool = Pool()
        calls = 0
        with trust_world() as n:
            users = self._users(n)
            for name, (allowed, model, records, steps) in sorted(
                    WIZARDS.items()):
                for role in ROLES:
                    for side in ['own', 'foreign']:
                        expected = role in allowed and (
                            role != 'rep' or side == 'own' or not model)
                        with self.subTest(wizard=name, role=role,
                                side=side):
                            s = n.sides[side]
                            self._check_call(expected, users[role],
                                lambda: self._run_wizard(pool, n, s, name,
                                    model, records(s) if records else [],
                                    steps))
                        calls += 1
        FIGURES['wizard_calls'] = calls

    def _check_call(self, expected, user, call):
        transaction = Transaction()
        with undone() as counter:
            try:
                with as_user(user):
                    call()
            except REFUSED as error:
                if expected:
                    self.fail(f"refused: {error}")
                self.assertEqual(transaction.counter, counter,
                    "written before the refusal")
            except UserError as error:
                self.fail(f"{type(error).__name__}: {error}")
            else:
                if not expected:
                    self.fail("allowed")

    def _run_wizard(self, pool, n, side, name, model, records, steps):
        "Run the wizard as its client does: create, start, the button"
        Wizard = pool.get(name, type='wizard')
        actions = wizard_actions(name)
        context = {'action_id': actions[0].id if actions else None}
        if model:
            ids = [r.id for r in records]
            context.update(active_model=model, active_ids=ids,
                active_id=ids[0] if ids else None)
        transaction = Transaction()
        with transaction.set_context(**context):
            # as the client calls it: create checks the access, execute
            # runs the states without (the wizard checks its own)
            session_id, start, _ = Wizard.create()
        with transaction.set_context(_check_access=False, **context):
            if not isinstance(Wizard.states[start], StateView):
                Wizard.execute(session_id, {}, start)
            else:
                view = Wizard.execute(session_id, {}, start).get('view', {})
                for state, values in steps:
                    if values == 'defaults':
                        values = {start: {**view.get('defaults', {}),
                                **view.get('values', {})}}
                    elif values == 'move':
                        other = n.sides['foreign' if side.key == 'own'
                            else 'own']
                        values = {start: {'distributor': other.party.id,
                                'territory': other.territory.id,
                                'reason': "Moved"}}
                    elif name == 'distributor.import':
                        values = {start: {'file': _workbook(
                                    f'WIZ-{side.key}', side.territory.code),
                                'filename': 'import.xlsx'}}
                    Wizard.execute(session_id, values, state)
            Wizard.delete(session_id)



# model: the paths to the parties a record belongs to ('id' for a party
# itself); None when every rep reads every record (reference data).  A
# record is the rep's when one of its parties is, public when none has a
# party.
REACH = {
    'party.party': ['id'],
    'party.address': ['party'],
    'party.contact_mechanism': ['party'],
    'party.party-distributor.territory': ['party'],
    'party.party-product.category': ['party'],
    'distributor.qualification': ['party'],
    'distributor.state.log': ['party'],
    'distributor.tier': None,
    'distributor.tier-distributor.tier': None,
    'distributor.territory': None,
    'distributor.territory-company.employee': None,
    'distributor.configuration': None,
    'distributor.price_floor': None,
    'sale.sale': ['party'],
    'sale.line': ['sale.party'],
    'distributor.sale.log': ['document.party'],
    'distributor.sale.discrepancy': ['sale.party'],
    'distributor.message': ['party'],
    'stock.move': ['from_location.distributor', 'to_location.distributor'],
    'stock.inventory': ['location.distributor'],
    'stock.inventory.line': ['inventory.location.distributor'],
    'distributor.stock.level': ['distributor'],
    'distributor.stock.count.variance': ['distributor'],
    'distributor.stock.count.log': ['document.location.distributor'],
    'distributor.stock.turnover': ['distributor'],
    'distributor.stock.limit': ['party'],
    'distributor.stock.alert': ['party'],
    'distributor.stock.transfer': ['from_party', 'to_party'],
    'distributor.stock.transfer.line': [
        'transfer.from_party', 'transfer.to_party'],
    'distributor.stock.transfer.log': [
        'document.from_party', 'document.to_party'],
    'distributor.channel.order': ['seller', 'buyer'],
    'distributor.channel.order.line': ['order.seller', 'order.buyer'],
    'distributor.channel.order.log': ['document.seller', 'document.buyer'],
    'distributor.store.check': ['store'],
    'distributor.store.check.line': ['check.store'],
    'distributor.store.check.log': ['document.store'],
    'distributor.diversion.incident': ['store', 'shipped_to'],
    'distributor.diversion.incident.log': [
        'document.store', 'document.shipped_to'],
    'distributor.store.promotion': ['distributor'],
    'distributor.store.promotion-party.party': ['promotion.distributor'],
    'distributor.store.promotion-product.product': [
        'promotion.distributor'],
    'distributor.store.promotion.log': ['document.distributor'],
    'distributor.store.promotion.usage': ['promotion.distributor'],
    'distributor.coverage.plan': None,
    'distributor.coverage.plan.log': None,
    'distributor.coverage.plan-distributor.territory': None,
    'distributor.coverage.plan-party.category': None,
    'distributor.coverage.plan-party.party': None,
    'distributor.coverage.plan-product.product': None,
    'distributor.coverage.plan.store': ['store'],
    'distributor.coverage.progress': ['distributor'],
    'distributor.coverage.missing': ['distributor'],
    'distributor.store.payment': ['distributor', 'store'],
    'distributor.store.payment.log': [
        'document.distributor', 'document.store'],
    'distributor.store.statement': ['distributor', 'store'],
    'distributor.store.price': ['distributor'],
    'distributor.store.price.bound': None,
    'distributor.store.limit': ['store'],
    'distributor.store.move.log': [
        'store', 'from_distributor', 'to_distributor'],
    }
# the brand's own records among them (no party): not the reps'
BRAND_OWN = {'stock.move'}
# not data of anyone: Tryton's own bookkeeping extended by the project
NOT_DATA = {'res.user.login.attempt', 'ir.rule', 'ir.cron',
    'product.category', 'product.product', 'product.template',
    'stock.location',
    # the brand itself (one company a database), Tryton's rules
    'company.company'}


def _follow(record, path):
    for name in path.split('.'):
        if record is None:
            return None
        record = record if name == 'id' else getattr(record, name)
    return record


class ReachTestCase(unittest.TestCase):
    "What each sales rep reads of every model"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['distributor_store'])

    @with_transaction()
    def test_every_model_is_classified(self):
        "A new model of the project says whose data it holds"
        pool = Pool()
        from trytond.model import ModelSQL
        from distributor.tests.trust import PROJECT
        models = set()
        for name, Model in pool.iterobject():
            if not issubclass(Model, ModelSQL):
                continue
            if any(k.__module__.split('.')[0].startswith(PROJECT)
                    for k in Model.__mro__):
                models.add(name)
        self.assertEqual(models - set(REACH) - NOT_DATA, set())

    @with_transaction()
    def test_reps_read_their_parties_data_only(self):
        """Each model read as each rep holds exactly the records of the
        parties of its territories (and the public ones)"""
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        from trytond.modules.company.tests import create_employee
        from distributor_sale.tests.test_module import make_user
        compared = 0
        with trust_world() as n:
            zj = create_employee(n.company, "Rep Zhejiang")
            Territory.write([n.territories.zj], {'reps': [('add', [zj.id])]})
            reps = {
                'js': (n.users.rep, Territory.area([n.territories.js])),
                'zj': (make_user('rep_zj', ['distributor.group_sales_rep'],
                        zj), Territory.area([n.territories.zj])),
                }
            parties = Party.search([])

            def reachable(party, area):
                if party.is_distributor:
                    return bool({t.id for t in party.territories} & area)
                if party.is_store:
                    return party.store_territory.id in area
                if party.is_terminal_customer:
                    return reachable(party.customer_distributor, area)
                return True
            for key, (user, area) in reps.items():
                mine = {p.id for p in parties if reachable(p, set(area))}
                for model, paths in sorted(REACH.items()):
                    Model = pool.get(model)
                    records = Model.search([], order=[])
                    if paths is None:
                        expected = {r.id for r in records}
                    else:
                        expected = set()
                        for record in records:
                            owners = [_follow(record, p) for p in paths]
                            owners = [o.id if hasattr(o, 'id') else o
                                for o in owners if o is not None]
                            if set(owners) & mine or (
                                    not owners and model not in BRAND_OWN):
                                expected.add(record.id)
                    with self.subTest(rep=key, model=model):
                        with as_user(user):
                            try:
                                seen = {r.id for r in Model.search(
                                        [], order=[])}
                            except AccessError:
                                # no access to the model at all
                                continue
                        describe = {r.id: (r.rec_name, [
                                    getattr(_follow(r, p), 'rec_name', None)
                                    for p in paths or []])
                            for r in records}
                        self.assertEqual(
                            [describe[i] for i in sorted(seen - expected)],
                            [], "reads data out of its reach")
                        self.assertEqual(
                            [describe[i] for i in sorted(expected - seen)],
                            [], "misses data of its territories")
                        compared += len(records)
        FIGURES['reach_records_compared'] = compared


# document: (the locked record, the draft one, a field the lock protects,
# a free field or None, (line model, its document field, values of a new
# line, values of a line write) or None)
RAW = {
    'sale.sale': ('sale_submitted', 'sale_draft', {'reference': "X"},
        {'comment': "Note"}, ('sale.line', 'sale',
            lambda n: {'type': 'line', 'product': n.products.p1.id,
                'quantity': 1, 'unit': n.products.unit.id,
                'unit_price': Decimal(1)},
            {'quantity': 5})),
    'distributor.channel.order': ('co_submitted', 'co_draft',
        {'date': dt.date(2020, 1, 1)}, {'comment': "Note"},
        ('distributor.channel.order.line', 'order',
            lambda n: {'product': n.products.p1.id, 'quantity': 1},
            {'quantity': 5})),
    'distributor.stock.transfer': ('transfer_requested', 'transfer_draft',
        {'date': dt.date(2020, 1, 1)}, {'note': "Note"},
        ('distributor.stock.transfer.line', 'transfer',
            lambda n: {'product': n.products.p1.id, 'quantity': 1},
            {'quantity': 5})),
    'stock.inventory': ('count_done', 'count', {'date': dt.date(2020, 1, 1)},
        None, ('stock.inventory.line', 'inventory',
            lambda n: {'product': n.products.p2.id, 'quantity': 1},
            {'quantity': 5})),
    'distributor.store.check': ('check_done', 'check',
        {'date': dt.date(2020, 1, 1)}, None,
        ('distributor.store.check.line', 'check',
            lambda n: {'product': n.products.p2.id, 'quantity': 1},
            {'quantity': 5})),
    'distributor.store.payment': ('payment_posted', 'payment',
        {'amount': Decimal(1)}, None, None),
    'distributor.store.promotion': ('promotion_active', 'promotion_draft',
        {'name': "Renamed"}, None,
        ('distributor.store.promotion-product.product', 'promotion',
            lambda n: {'product': n.products.p1.id},
            {'product': None})),
    'distributor.coverage.plan': ('plan_running', 'plan_draft',
        {'deadline': dt.date(2099, 1, 1)}, {'name': "Renamed"},
        ('distributor.coverage.plan-product.product', 'plan',
            lambda n: {'product': n.products.p2.id},
            {'product': None})),
    'distributor.diversion.incident': ('incident_open', None,
        {'quantity': 99}, {'note': "Seen"}, None),
    'distributor.stock.alert': ('alert_dismissed', 'alert',
        {'suggested_quantity': 99}, None, None),
    }


class RawWriteTestCase(unittest.TestCase):
    """Every document refuses raw writes past draft, on every path, even
    to a channel manager who may write it"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['distributor_store'])

    @with_transaction()
    def test_documents_refuse_raw_writes(self):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Check = pool.get('distributor.store.check')
        Payment = pool.get('distributor.store.payment')
        Alert = pool.get('distributor.stock.alert')
        refusals = 0
        with trust_world() as n:
            s = n.sides['own']
            Inventory.confirm([s.count])
            s.count_done = Inventory(s.count.id)
            s.count = Inventory(Inventory.dms_start_count(s.party))
            Check.confirm([s.check])
            s.check_done = Check(s.check.id)
            s.check, = Check.create([{'store': s.store.id, 'lines': [
                            ('create', [{'product': n.products.p1.id,
                                        'quantity': 3}])]}])
            Payment.post([s.payment])
            s.payment_posted = Payment(s.payment.id)
            s.payment, = Payment.copy([s.payment_posted])
            Alert.dismiss([s.alert])
            s.alert_dismissed = Alert(s.alert.id)
            s.alert, = Alert.search([('party', '=', s.party.id),
                    ('state', '=', 'open')], limit=1)
            for model, (locked, draft, protected, free, line) in sorted(
                    RAW.items()):
                Model = pool.get(model)
                record = getattr(s, locked)
                state = Model._dms_state
                attempts = [
                    ('write', lambda: Model.write([record], protected)),
                    ('write state', lambda: Model.write(
                            [record], {state: 'draft'})),
                    ('delete', lambda: Model.delete([record])),
                    ]
                if draft:
                    attempts.append(('write state of a draft',
                            lambda: Model.write(
                                [getattr(s, draft)], {state: 'done'})))
                if line:
                    Line, field, create, write = line
                    Line = pool.get(Line)
                    lines = Line.search([(field, '=', record.id)])
                    draft_lines = Line.search(
                        [(field, '=', getattr(s, draft).id)]) if draft \
                        else []
                    attempts += [
                        ('line create', lambda: Line.create([{
                                        **create(n), field: record.id}])),
                        ('line write', lambda: Line.write(lines, write)),
                        ('line delete', lambda: Line.delete(lines)),
                        ]
                    if draft_lines:
                        attempts.append(('line moved in', lambda: Line.write(
                                    draft_lines[:1], {field: record.id})))
                for what, attempt in attempts:
                    with self.subTest(document=model, attempt=what):
                        with undone(), as_user(n.users.manager):
                            with self.assertRaises(AccessError):
                                attempt()
                        refusals += 1
                if free:
                    with self.subTest(document=model, attempt='free'):
                        with undone(), as_user(n.users.manager):
                            Model.write([record], free)
                if model not in {'distributor.diversion.incident',
                        'distributor.stock.alert'}:
                    with self.subTest(document=model, attempt='copy'):
                        with undone(), as_user(n.users.manager):
                            copy, = Model.copy([record])
                            default = getattr(Model, 'default_' + state)()
                            self.assertEqual(getattr(copy, state), default)
                            for name in sorted(Model._dms_workflow_fields):
                                field = Model._fields[name]
                                if field._type in {'one2many', 'many2many',
                                        'function'} or name == state:
                                    continue
                                method = getattr(Model, 'default_' + name,
                                    None)
                                value = getattr(copy, name)
                                if name == 'number' and value:
                                    # numbered anew at creation
                                    self.assertNotEqual(
                                        value, getattr(record, name))
                                    continue
                                self.assertIn(value, [None, method()
                                        if method else None],
                                    f"{name} copied")
        FIGURES['raw_write_refusals'] = refusals


def _strategies(n):
    "Arguments from outside: junk of every type, and near-valid values"
    from hypothesis import strategies as st
    s = n.sides['own']
    ids = [s.party.id, s.store.id, s.downstream.id, s.sale_draft.id,
        s.sale_shipped.id, s.co_submitted.id, s.co_delivered.id,
        s.transfer_requested.id, s.count.id, s.alert.id,
        n.products.p1.id, -1, 0, 2 ** 31, 2 ** 63]
    scalars = (st.none() | st.booleans()
        | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=12)
        | st.sampled_from(['', 'P1', 'P2', '2026-13-45', '2026-02-28',
                'NaN', 'inf', '-1', '1e18', 'a\x00b', 'evil\u202etxt',
                'x' * 70000, 'regular', 'return', 'seller', 'buyer'])
        | st.sampled_from(ids))
    keys = st.sampled_from(['product', 'quantity', 'lot', 'code', 'store',
            'name', 'territory', 'gift', 'tags', 'latitude', str(
                n.products.p1.id)]) | st.text(max_size=4)
    junk = st.recursive(scalars, lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(keys, children, max_size=4)), max_leaves=10)
    line = st.fixed_dictionaries({
            'product': st.sampled_from(['P1', n.products.p1.id, 'NOPE']),
            'quantity': scalars})
    return junk | st.lists(line, max_size=3) | st.sampled_from(ids)


class InputTestCase(unittest.TestCase):
    """Every API method with arguments from outside, generated: a refusal
    is a clear error (UserError), never a raw exception, and comes before
    anything is written"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['distributor_store'])

    @with_transaction()
    def test_api_arguments(self):
        import inspect

        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
        pool = Pool()
        tried = 0
        with trust_world() as n:
            arguments = _strategies(n)
            methods = sorted((m, name) for m, name in ENTRY_POINTS
                if getattr(getattr(pool.get(m), name), 'entry_point', None))
            for model, name in methods:
                Model = pool.get(model)
                signature = inspect.signature(
                    inspect.unwrap(getattr(Model, name).__func__))
                count = len(signature.parameters) - 1

                @settings(max_examples=12, deadline=None, derandomize=True,
                    database=None, suppress_health_check=list(HealthCheck))
                @given(st.lists(arguments, min_size=count,
                        max_size=count))
                def call(args):
                    nonlocal tried
                    tried += 1
                    transaction = Transaction()
                    with undone() as counter, as_user(n.users.manager):
                        try:
                            getattr(Model, name)(*args)
                        except (InputErrors) as error:
                            self.assertEqual(transaction.counter, counter,
                                f"{model}.{name}{tuple(args)!r:.200}: "
                                f"written before {error}")
                        except UserError:
                            pass
                with self.subTest(entry_point=f'{model}.{name}'):
                    call()
        FIGURES['bad_inputs_tried'] = tried
