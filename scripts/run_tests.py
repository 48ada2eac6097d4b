#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Run every test of the project: each module's tests (addons/*/tests, with
Tryton's scenario doctests) and the cross-module tests under tests/.

    .venv/bin/python scripts/run_tests.py [--report FILE] [PATTERN ...]
    .venv/bin/python scripts/run_tests.py --summary FILE ...

The backend is the environment's (DB_NAME, TRYTOND_DATABASE__URI; ./dms
test sets them and runs SQLite and PostgreSQL side by side, each with
--report, then --summary to print both in one table).  Each group runs in
its own process (a Tryton test database holds one set of activated
modules).  PATTERN keeps the test ids that contain it (e.g.
distributor, scenario).  The run ends with the seconds of each group beside
its budget (over budget marked '!': a warning, these machines are noisy),
the figures of the trust tests, and a line 'N passed, N failed, N skipped';
exits 1 on any failure or when no test ran.

Every group runs with a cache clean timeout of one second, so that the
transactions of the whole suite go through the path that once turned them
into autocommit on SQLite (see addons/distributor/sqlite.py)."""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from trytond import backend

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r'^group result: (\d+) passed, (\d+) failed, (\d+) skipped$')
# seconds a group may take on this kind of machine (2 cores, the other
# backend's run beside it): later modules keep to theirs
BUDGETS = {
    'sqlite': {
        'distributor': 90,
        'distributor_sale': 200,
        'distributor_stock': 160,
        'distributor_store': 330,
        'distributor_portal': 240,
        'distributor_policy': 260,
        'distributor_account': 200,
        'distributor_assessment': 200,
        'distributor_report': 200,
        # the browser tests on one demo built per run (nine modules' demo,
        # the dashboards per role)
        'tests': 800,
        },
    'postgresql': {
        'distributor': 130,
        'distributor_sale': 280,
        'distributor_stock': 230,
        'distributor_store': 520,
        'distributor_portal': 300,
        'distributor_policy': 360,
        'distributor_account': 620,
        'distributor_assessment': 300,
        'distributor_report': 300,
        'tests': 60,
        },
    }
FIGURES = [
    ('entry_point_calls', "entry points × roles called"),
    ('wizard_calls', "wizards × roles run"),
    ('raw_write_refusals', "raw writes on documents refused"),
    ('reach_records_compared', "records compared with each rep's reach"),
    ('bad_inputs_tried', "generated bad inputs tried"),
    ('races_sqlite', "races run over HTTP on SQLite"),
    ('races_postgresql', "races run over HTTP on PostgreSQL"),
    ('report_calls', "reports × roles printed"),
    ('portal_refusals', "portal calls for another party refused"),
    ('races', "races run in two transactions"),
    ]


def iter_tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from iter_tests(test)
        else:
            yield test


class TimedResult(unittest.TextTestResult):
    "Records the seconds of each test (Python 3.11 has no --durations)"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.durations = []

    def startTest(self, test):
        self._started = time.perf_counter()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append(
            (test.id(), time.perf_counter() - self._started))


def groups():
    """(name, start dir, top level dir) of each test group: the modules in
    the order of their dependencies (a module after those it depends on,
    whose activated database the cache then holds), tests/ last"""
    from trytond.modules import get_module_info
    depends = {}

    def count(module):
        # the project modules a module depends on, itself included
        if module not in depends:
            depends[module] = {module}.union(*(count(m)
                    for m in get_module_info(module).get('depends', [])
                    if (ROOT / 'addons' / m / 'tryton.cfg').exists()))
        return depends[module]
    for tests in sorted((ROOT / 'addons').glob('*/tests'),
            key=lambda t: (len(count(t.parent.name)), t.parent.name)):
        yield tests.parent.name, tests, ROOT / 'addons'
    yield 'tests', ROOT / 'tests', ROOT


def ordered(tests):
    """The tests in the order DMS_TEST_ORDER asks: as found (default),
    reverse, or shuffle:SEED; classes stay together (one setUpClass each)
    and the order applies to the classes and to the tests in each, so
    that a test leaning on another's leftovers shows"""
    order = os.environ.get('DMS_TEST_ORDER', '')
    if not order:
        return tests
    classes = {}
    for test in tests:
        classes.setdefault(type(test), []).append(test)
    groups = list(classes.values())
    if order == 'reverse':
        groups = [g[::-1] for g in groups[::-1]]
    elif order.startswith('shuffle:'):
        rng = random.Random(order.partition(':')[2])
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
    else:
        raise SystemExit(f'DMS_TEST_ORDER: {order}? reverse or shuffle:SEED')
    print(f'test order: {order}')
    return [t for g in groups for t in g]


def remember_module_imports():
    """Resolve each Tryton module's entry point once per process.

    trytond's ModuleTestCase checks (and company's) ask isregisteredby()
    for every model of the pool, which resolves every class the module
    registers through import_module(): a walk over every entry point of
    every installed distribution each time (about 4 ms here).  That walk
    was a quarter of the distributor group's seconds.  The entry points do
    not change while the tests run: the answer is the same module."""
    from functools import cache

    from trytond.tools import misc
    if not hasattr(misc.import_module, 'cache_info'):
        misc.import_module = cache(misc.import_module)


def activate_on_cached_modules():
    """Activate modules on top of the cached database of a module they
    depend on, rather than from an empty database.

    trytond's activate_module restores the database of the modules asked
    from DB_CACHE or else activates them all on a new database: each
    group's first class activated ir, res, party, company, product,
    account, sale, stock... again (CI starts with an empty cache).  When
    the cache holds a project module whose dependencies the modules asked
    include (distributor for distributor_sale, distributor_store for
    distributor_portal...), this restores the largest such database and
    activates only the modules it lacks, as an upgrade that adds modules
    does; the result goes to the cache under the usual name.  The groups
    run in the order of the modules' dependencies (groups()) so that each
    finds the one before it."""
    from trytond.modules import get_module_info
    from trytond.tests import test_tryton
    original = test_tryton.activate_module
    if getattr(original, 'on_cached_modules', False):
        return
    closures = {}

    def closure(module):
        if module not in closures:
            closures[module] = frozenset({module}).union(*(closure(m)
                    for m in get_module_info(module).get('depends', [])))
        return closures[module]

    def cache_name(modules, lang):
        return '-'.join(modules) + (f'--{lang}' if lang != 'en' else '')

    def cached(name):
        cache_file = test_tryton._db_cache_file(test_tryton.DB_CACHE, name)
        if backend.name == 'sqlite':
            return os.path.exists(cache_file)
        return test_tryton.db_exist(
            cache_file[len(test_tryton.DB_CACHE) + 1:])

    def restore(name):
        "Restore the cached database (its pool is loaded afterwards)"
        cache_file = test_tryton._db_cache_file(test_tryton.DB_CACHE, name)
        if backend.name == 'sqlite':
            return test_tryton._sqlite_copy(cache_file, restore=True)
        if not test_tryton._pg_restore(cache_file):
            return False
        # the new cluster's catalogs were never analysed (the template's
        # statistics are those of a nearly empty database): trytond's
        # TableHandler asks information_schema for each table's foreign
        # keys (_fk_deltypes), a query the planner then runs in about 7 s
        # instead of 20 ms, once per table registered; ANALYZE (about
        # 1 s) took the activation of distributor_account on the cached
        # distributor_policy from 1,026 s to 52 s
        database = backend.Database(test_tryton.DB_NAME).connect()
        connection = database.get_connection(autocommit=True)
        try:
            connection.cursor().execute('ANALYZE')
        finally:
            database.put_connection(connection)
        return True

    def update_module_list():
        """Add the modules installed since the cached database was made
        to its module list (a local cache made before a new module would
        otherwise not find it)"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        pool = Pool(test_tryton.DB_NAME)
        pool.init()
        with Transaction().start(
                test_tryton.DB_NAME, 0, close=True) as transaction:
            pool.get('ir.module').update_list()
            transaction.commit()

    def activate_module(modules, lang='en'):
        if isinstance(modules, str):
            modules = [modules]
        if (test_tryton.DB_CACHE
                and not cached(cache_name(modules, lang))
                and not test_tryton.db_exist(test_tryton.DB_NAME)):
            wanted = frozenset().union(*map(closure, modules))
            bases = [m for m in project_modules()
                if closure(m) < wanted and cached(cache_name([m], lang))]
            if bases:
                base = max(bases, key=lambda m: len(closure(m)))
                if restore(cache_name([base], lang)):
                    print(f'activating {", ".join(modules)} on the '
                        f'cached {base}', file=sys.stderr)
                    update_module_list()
        # on the restored database, trytond's create_db loads its pool
        # and activate_module activates what it lacks, then caches it
        return original(modules, lang)
    activate_module.on_cached_modules = True
    test_tryton.activate_module = activate_module


def project_modules():
    "The modules of addons/"
    return sorted(p.parent.name for p in (ROOT / 'addons').glob(
            '*/tryton.cfg'))


def run_group(start, top, patterns):
    remember_module_imports()
    if not os.environ.get('DMS_TEST_FRESH_ACTIVATION'):
        activate_on_cached_modules()
    loader = unittest.TestLoader()
    suite = loader.discover(str(start), top_level_dir=str(top))
    if patterns:
        suite = unittest.TestSuite(t for t in iter_tests(suite)
            if any(p in t.id() for p in patterns))
    # a test module may keep to some backends (BACKENDS = {'sqlite'}): the
    # others do not run it (README: "Which tests run where")
    kept = [t for t in iter_tests(suite) if backend.name in getattr(
            sys.modules.get(type(t).__module__), 'BACKENDS', {backend.name})]
    left = suite.countTestCases() - len(kept)
    if left:
        print(f'{left} tests left to the other backend')
    suite = unittest.TestSuite(ordered(kept))
    result = unittest.TextTestRunner(
        verbosity=1, resultclass=TimedResult).run(suite)
    slowest = sorted(result.durations, key=lambda d: -d[1])
    print('slowest tests:')
    for test_id, seconds in slowest[:5]:
        print(f'  {seconds:7.1f} s  {test_id}')
    if path := os.environ.get('DMS_TEST_DURATIONS'):
        with open(path, 'a') as file:
            for test_id, seconds in result.durations:
                file.write(f'{seconds:.2f} {backend.name} {test_id}\n')
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(result.testsRun - failed - skipped, 0)
    print(f'group result: {passed} passed, '
        f'{failed} failed, {skipped} skipped', flush=True)
    return 0 if not failed else 1


def read_figures(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition('=')
        if value.strip().isdigit():
            values[key] = values.get(key, 0) + int(value)
    return values


def print_report(reports):
    """Print the table of seconds per group and backend beside their
    budgets, the trust figures and the closing line; return the totals"""
    totals = [0, 0, 0]
    figures = {}
    print()
    print(f'  {"group":<20} {"backend":<11} {"passed":>6} {"failed":>6} '
        f'{"skipped":>7} {"seconds":>8} {"budget":>7}')
    for report in reports:
        budgets = BUDGETS.get(report['backend'], {})
        for group, passed, failed, skipped, elapsed in report['groups']:
            budget = budgets.get(group)
            over = ('!' if budget and elapsed > budget
                and not report['partial'] else ' ')
            print(f'  {group:<20} {report["backend"]:<11} {passed:6d} '
                f'{failed:6d} {skipped:7d} {elapsed:8.0f} '
                f'{budget or "":>7}{over}')
            totals = [a + b for a, b in zip(totals, [passed, failed, skipped])]
        print(f'  {"total":<20} {report.get("stream", report["backend"]):<11}'
            f' {"":>22}{report["seconds"]:8.0f}')
        for key, value in report['figures'].items():
            figures[key] = figures.get(key, 0) + value
    if any(r['partial'] for r in reports):
        print('  (a selection of tests: budgets not compared)')
    else:
        print("  '!': over the group's budget (a warning: a later module "
            "keeps to its own)")
    if figures:
        print('  trust figures:')
        for key, label in FIGURES:
            if key in figures:
                print(f'    {figures[key]:8d}  {label}')
    return totals


def run_backend(args, report_path=None):
    """Run every group one after the other on the backend of the
    environment; print each group's result (its whole output when it
    failed or when DMS_TEST_VERBOSE is set)"""
    env = dict(os.environ)
    env.setdefault('TRYTOND_CACHE__CLEAN_TIMEOUT', '1')
    figures = tempfile.NamedTemporaryFile(
        prefix='dms-trust-', suffix='.txt', delete=False)
    figures.close()
    env['DMS_TRUST_FIGURES'] = figures.name
    verbose = bool(os.environ.get('DMS_TEST_VERBOSE'))
    report = {'backend': backend.name, 'groups': [], 'partial': bool(args),
        'stream': os.environ.get('DMS_TEST_STREAM') or backend.name}
    # DMS_TEST_GROUPS: the groups this run takes (comma separated, a
    # leading '-' for all but these): ./dms test splits a backend's
    # groups over runs side by side
    chosen = os.environ.get('DMS_TEST_GROUPS', '')
    exclude = chosen.startswith('-')
    chosen = {g for g in chosen.lstrip('-').split(',') if g}
    begin = time.perf_counter()
    for group, start, top in groups():
        if chosen and ((group in chosen) == exclude):
            continue
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, __file__, '--group', group, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env)
        elapsed = time.perf_counter() - started
        counts = None
        for line in reversed(process.stdout.splitlines()):
            if match := SUMMARY.match(line.strip()):
                counts = list(map(int, match.groups()))
                break
        if counts is None:
            # crashed before reporting: count it as one failure
            counts = [0, 1, 0]
        elif process.returncode and not counts[1]:
            counts[1] = 1
        if counts[1] or verbose:
            sys.stdout.write(process.stdout)
        print(f'== {group} ({backend.name}): {counts[0]} passed, '
            f'{counts[1]} failed, {counts[2]} skipped in {elapsed:.0f} s',
            flush=True)
        report['groups'].append((group, *counts, elapsed))
    report['seconds'] = time.perf_counter() - begin
    report['figures'] = read_figures(figures.name)
    os.unlink(figures.name)
    if report_path:
        Path(report_path).write_text(json.dumps(report))
    return report


def closing(totals):
    passed, failed, skipped = totals
    print(f'{passed} passed, {failed} failed, {skipped} skipped')
    return 0 if (failed == 0 and passed) else 1


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ['--group']:
        name, *patterns = args[1:]
        for group, start, top in groups():
            if group == name:
                return run_group(start, top, patterns)
        raise SystemExit(f'unknown test group {name}')
    if args[:1] == ['--summary']:
        # the reports of runs made side by side (./dms test)
        reports = [json.loads(Path(p).read_text()) for p in args[1:]
            if Path(p).exists()]
        totals = print_report(reports)
        expected = len(args) - 1
        if len(reports) < expected:
            print(f'{expected - len(reports)} backend run(s) did not '
                'report: counted as failed')
            totals[1] += expected - len(reports)
        return closing(totals)
    report_path = None
    if args[:1] == ['--report']:
        report_path, args = args[1], args[2:]
    report = run_backend(args, report_path)
    return closing(print_report([report]))


if __name__ == '__main__':
    sys.exit(main())
