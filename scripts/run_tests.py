#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Run every test of the project: each module's tests (addons/*/tests, with
Tryton's scenario doctests) and the cross-module tests under tests/.

    .venv/bin/python scripts/run_tests.py [PATTERN ...]

Each group runs in its own process (a Tryton test database holds one set of
activated modules).  PATTERN keeps the test ids that contain it (e.g.
distributor, scenario).  Ends with a line 'N passed, N failed, N skipped';
exits 1 on any failure or when no test ran."""
import os
import re
import subprocess
import sys
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r'^group result: (\d+) passed, (\d+) failed, (\d+) skipped$')


def iter_tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from iter_tests(test)
        else:
            yield test


def groups():
    "(name, start dir, top level dir) of each test group"
    for tests in sorted((ROOT / 'addons').glob('*/tests')):
        yield tests.parent.name, tests, ROOT / 'addons'
    yield 'tests', ROOT / 'tests', ROOT


def run_group(start, top, patterns):
    loader = unittest.TestLoader()
    suite = loader.discover(str(start), top_level_dir=str(top))
    if patterns:
        suite = unittest.TestSuite(t for t in iter_tests(suite)
            if any(p in t.id() for p in patterns))
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(result.testsRun - failed - skipped, 0)
    print(f'group result: {passed} passed, '
        f'{failed} failed, {skipped} skipped', flush=True)
    return 0 if not failed else 1


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ['--group']:
        name, *patterns = args[1:]
        for group, start, top in groups():
            if group == name:
                return run_group(start, top, patterns)
        raise SystemExit(f'unknown test group {name}')

    totals = [0, 0, 0]
    report = []
    begin = time.perf_counter()
    for group, start, top in groups():
        started = time.perf_counter()
        print(f'== {group}', flush=True)
        process = subprocess.run(
            [sys.executable, __file__, '--group', group, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=os.environ)
        sys.stdout.write(process.stdout)
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
        totals = [a + b for a, b in zip(totals, counts)]
        report.append((group, counts, time.perf_counter() - started))
    print()
    for group, (passed, failed, skipped), elapsed in report:
        print(f'  {group:<24} {passed:4d} passed {failed:3d} failed '
            f'{skipped:3d} skipped  {elapsed:6.0f} s')
    print(f'  total time {time.perf_counter() - begin:.0f} s')
    passed, failed, skipped = totals
    print(f'{passed} passed, {failed} failed, {skipped} skipped')
    return 0 if (failed == 0 and passed) else 1


if __name__ == '__main__':
    sys.exit(main())
