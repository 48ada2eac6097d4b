#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the Excel export (distributor_assessment/output.py
xlsx_export, which every analysis and assessment export goes through).

Generates N synthetic rows (100,000 by default) of the shape of a sell-in
analysis (text, integer, amount, percent and date columns) from a
generator, so that the rows themselves never sit in memory, and times
xlsx_export over them with a filter block and a chart sheet over a
column.  No database: the translated labels are the English source
texts.

It prints the seconds (best of R runs, with the median), the size of the
workbook, the peak of Python allocations during the export (tracemalloc,
measured on a run of its own: tracing slows the export down) and the
process's peak resident memory (ru_maxrss).  Figures, not assertions; the
workbook is parsed back (openpyxl, read-only) to check its row count.

    .venv/bin/python tests/bench/bench_export.py [--rows N] [--repeat R]
        [--pdf]

--pdf also times pdf_export on MAX_PDF_ROWS rows (5,000)."""
import argparse
import datetime as dt
import io
import os
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'addons'))

from distributor_assessment import output  # noqa: E402

COLUMNS = [
    output.Column('Distributor', 'text', 28),
    output.Column('Territory', 'text', 16),
    output.Column('Product', 'text', 20),
    output.Column('Date', 'date', 11),
    output.Column('Quantity', 'integer', 10),
    output.Column('Amount', 'amount', 14),
    output.Column('Attainment', 'percent', 10),
    ]
FILTERS = [
    ('From Date', dt.date(2025, 1, 1)),
    ('To Date', dt.date(2025, 12, 31)),
    ('Territory', 'East China'),
    ]
START = dt.date(2025, 1, 1)


def rows(count):
    "count synthetic rows, generated one at a time"
    for i in range(count):
        yield (
            f'Distributor {i % 10_000:05d}',
            f'Territory {i % 37:02d}',
            f'Product {i % 500:03d}',
            START + dt.timedelta(days=i % 365),
            (i * 7) % 1_000,
            Decimal((i * 7919) % 10_000_000) / 100,
            Decimal((i * 13) % 15_000) / 100,
            )


def _offline():
    """No pool: gettext answers the message's id and the labels are
    English"""
    output.gettext = lambda message_id, **variables: message_id
    output._is_english = lambda: True


def export(count):
    return output.xlsx_export('Sell-in by distributor', FILTERS, COLUMNS,
        rows(count), count=count,
        chart={'type': 'column', 'title': 'Amount', 'category': 0,
            'value': 5})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=100_000)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--pdf', action='store_true')
    args = parser.parse_args()
    _offline()

    times = []
    content = b''
    for _ in range(args.repeat):
        start = time.perf_counter()
        content = export(args.rows)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    export(args.rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == 'darwin':
        maxrss //= 1024

    import openpyxl
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    data = sum(1 for row in sheet.iter_rows(min_row=7, values_only=True)
        if row and row[0] is not None)
    workbook.close()

    print(f'xlsx_export of {args.rows:,} rows × {len(COLUMNS)} columns')
    print(f'  time: best {min(times):.2f} s, median '
        f'{statistics.median(times):.2f} s ({args.repeat} runs)')
    print(f'  rate: {args.rows / min(times):,.0f} rows/s')
    print(f'  workbook: {len(content) / 1e6:.1f} MB, {data:,} data rows '
        f'read back{"" if data == args.rows else " (MISMATCH)"}')
    print(f'  peak Python allocations (tracemalloc): {peak / 1e6:.1f} MB')
    print(f'  peak resident memory (ru_maxrss): {maxrss / 1024:.0f} MB')

    if args.pdf:
        count = output.MAX_PDF_ROWS
        start = time.perf_counter()
        pdf = output.pdf_export('Sell-in by distributor', FILTERS, COLUMNS,
            rows(count), count=count)
        elapsed = time.perf_counter() - start
        print(f'pdf_export of {count:,} rows: {elapsed:.2f} s, '
            f'{len(pdf) / 1e6:.1f} MB')


if __name__ == '__main__':
    main()
