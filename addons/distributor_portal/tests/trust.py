# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The walk of a later module's entry points as every role, staff and
portal, both ways (distributor_policy, distributor_account...): a mixin
before PortalTestCase.  The test module gives its tables as class
attributes and its own world (_side, _world); the walk, the declarations
check and the figures are here, once."""
import inspect
import os
from types import SimpleNamespace

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

from distributor.tests.tools import with_transaction
from distributor.tests.trust import (
    _definitions, as_user, button_groups, entry_points, undone,
    wizard_actions, wizards)

STAFF = ['admin', 'manager', 'rep', 'accountant', 'plain']


def write_figures(figures):
    "Append the figures of a trust walk where run_tests.py reads them"
    path = os.environ.get('DMS_TRUST_FIGURES')
    if path and figures:
        with open(path, 'a') as file:
            for key, value in sorted(figures.items()):
                file.write(f'{key}={value}\n')


class TrustWalk:
    """Every entry point (button, RPC method) and wizard of PACKAGE as every
    role for its own party and a foreign one.

    The class sets PACKAGE (the module), PORTAL ({role: (e-mail of the
    portal account, side)}), ENTRY_POINTS ({(model, name): (roles allowed,
    call(Model, side, n))}), DECLARED_OTHERWISE ({(model, name): (roles
    declared, why)} for a declaration that differs from the intent),
    WIZARDS ({wiz_name: (roles allowed, ...)}) and FIGURES (the dict of the
    test module, written by tearDownModule with write_figures); it defines
    _side(key) (the records of a side)."""
    PACKAGE = None
    PORTAL = {}
    ENTRY_POINTS = {}
    DECLARED_OTHERWISE = {}
    WIZARDS = {}
    FIGURES = {}
    # the refusals: a right (group) or a reach (rule)
    REFUSED = (AccessError, AccessButtonError)
    _restart = None

    @classmethod
    def roles(cls):
        return STAFF + list(cls.PORTAL)

    def _ours(self, Model, name):
        "Whether a definition of name on Model lives in PACKAGE"
        for func in _definitions(Model, name):
            module = getattr(inspect.unwrap(func), '__module__', '') or ''
            if module.split('.')[0] == self.PACKAGE:
                return True
        return False

    def _users(self):
        pool = Pool()
        User = pool.get('res.user')
        WebUser = pool.get('web.user')
        users = {'admin': User(1)}
        for login in STAFF[1:]:
            users[login], = User.search([('login', '=', login)])
        for role, (email, _) in self.PORTAL.items():
            users[role] = WebUser(self.world.accounts[email]).dms_user
        return users

    def _world(self):
        return SimpleNamespace(sides={k: self._side(k)
                for k in ['own', 'foreign']}, users=self._users())

    def _expected(self, role, side, allowed):
        if role not in allowed:
            return False
        if role == 'rep':
            return side == 'own'
        if role in self.PORTAL:
            return self.PORTAL[role][1] == side
        return True

    def _company(self):
        return Transaction().set_context(company=self.world.company)

    def _check_call(self, expected, user, call):
        transaction = Transaction()
        with undone() as counter:
            try:
                with as_user(user):
                    call()
            except TransactionError as error:
                # a lock to declare: the test starts over with it (see
                # with_transaction), out of the subTest that would keep it
                self._restart = error
            except self.REFUSED as error:
                if expected:
                    self.fail(f"refused: {error}")
                self.assertEqual(transaction.counter, counter,
                    "written before the refusal")
            except UserError as error:
                self.fail(f"{type(error).__name__}: {error}")
            else:
                if not expected:
                    self.fail("allowed")

    def _raise_restart(self):
        error, self._restart = self._restart, None
        if error is not None:
            raise error

    def _declared_roles(self, users, groups):
        "The roles whose user belongs to one of groups"
        User = Pool().get('res.user')
        result = set()
        for role, user in users.items():
            with Transaction().set_user(user.id):
                if set(User.get_groups()) & set(groups):
                    result.add(role)
        return frozenset(result)

    @with_transaction()
    def test_every_entry_point_is_declared(self):
        """Every button and RPC method the module defines states who may
        call it, and is in the tables of this test with the roles its
        groups give"""
        pool = Pool()
        found = [(m, n, k) for m, n, k in entry_points(pool)
            if self._ours(pool.get(m), n)]
        undeclared = [(m, n) for m, n, k in found if k == 'undeclared']
        self.assertEqual(undeclared, [])
        checked = {(m, n) for m, n, k in found if k in {'button', 'rpc'}}
        self.assertEqual(checked - set(self.ENTRY_POINTS), set(),
            "entry points missing from the expected table")
        self.assertEqual(set(self.ENTRY_POINTS) - checked, set(),
            "entry points in the table that do not exist")
        users = self._users()
        for model, name in sorted(checked):
            with self.subTest(entry_point=f'{model}.{name}'):
                groups = button_groups(model, name)
                self.assertTrue(groups, "no group may call it")
                declared = self._declared_roles(users, groups)
                intended = self.ENTRY_POINTS[(model, name)][0]
                if (model, name) in self.DECLARED_OTHERWISE:
                    self.assertNotEqual(declared, intended,
                        "fixed: remove it from DECLARED_OTHERWISE")
                    self.assertEqual(declared,
                        self.DECLARED_OTHERWISE[(model, name)][0])
                else:
                    self.assertEqual(declared, intended)
        ours = sorted(w for w in wizards(pool)
            if any(k.__module__.split('.')[0] == self.PACKAGE
                for k in pool.get(w, type='wizard').__mro__))
        self.assertEqual(set(ours), set(self.WIZARDS))
        for name in ours:
            with self.subTest(wizard=name):
                actions = wizard_actions(name)
                self.assertTrue(actions, "no action")
                for action in actions:
                    self.assertTrue(action.groups, "no group may run it")
                    declared = self._declared_roles(
                        users, [g.id for g in action.groups])
                    self.assertEqual(declared, self.WIZARDS[name][0])

    def _allowed(self, model, name, allowed):
        return self.DECLARED_OTHERWISE.get((model, name), (allowed,))[0]

    @with_transaction()
    def test_entry_points_by_role(self):
        """Each entry point as every role, for the rep's own party and a
        foreign one: allowed calls work, refused ones write nothing"""
        pool = Pool()
        calls = 0
        with self._company():
            n = self._world()
            self._learn_locks(pool, n)
            for (model, name), (allowed, call) in sorted(
                    self.ENTRY_POINTS.items()):
                allowed = self._allowed(model, name, allowed)
                Model = pool.get(model)
                for role in self.roles():
                    for side in ['own', 'foreign']:
                        expected = self._expected(role, side, allowed)
                        with self.subTest(entry_point=f'{model}.{name}',
                                role=role, side=side):
                            self._check_call(expected, n.users[role],
                                lambda: call(Model, n.sides[side], n))
                        self._raise_restart()
                        calls += 1
        self.FIGURES['entry_point_calls'] = calls

    def _learn_locks(self, pool, n):
        """Call each entry point once as a role allowed, so that the
        locks they need (the sequences and periods of an invoice...)
        restart the test at once, not half-way through the walk"""
        for (model, name), (allowed, call) in sorted(
                self.ENTRY_POINTS.items()):
            allowed = self._allowed(model, name, allowed)
            role = next(r for r in self.roles()
                if self._expected(r, 'own', allowed))
            with undone():
                try:
                    with as_user(n.users[role]):
                        call(pool.get(model), n.sides['own'], n)
                except TransactionError:
                    raise
                except Exception:
                    # the walk tells
                    pass
