#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Generate a realistic distributor network: the demo and the benchmarks.

    ./dms generate -d dms --distributors 10000 --products 500 --seed 42
    (= .venv/bin/python scripts/generate.py -c config/trytond.conf \\
        var/paths.conf -d dms ...)

The database must have the project modules activated and a company (the
brand); scripts/setup_db.py does both.  The same seed gives the same
network.

Each module owns its demo: the parts listed in the ``demo.py`` beside its
``tryton.cfg`` (addons/distributor/demo.py says how to write one).  This
runner finds the activated modules that have one, walks their parts in
Tryton's dependency order (a part may ask to run before a part of a module
it depends on), passes them one context (the pool, the company, the one
random generator of the seed, the sizes asked for, and what the parts
before have made) and times each.  A new module adds its part with its
own demo.py; nothing to change here.

distributor makes the territory tree (scripts/regions.py), the tiers 总代理
/ 区域经销商 / 县级经销商 with their defaults, tags, product categories and
products, sales reps (users rep1, rep2, ...) responsible for the regions,
the users manager, accountant and dmsadmin, and distributors at every tier
with qualifications, grades, tags and states (mostly active, some draft,
frozen and terminated, some licences expiring or expired); distributor_sale
the price lists, deposits and distributor orders in every state;
distributor_stock the warehouses, stock, transfers, a count and the alerts.

With the distributor_store module activated it also creates stores
(--stores, by default 120) in the territories of the active distributors,
terminal customers, store price bounds and prices, store promotions,
channel orders in every state, shelf checks with a diversion incident, a
coverage plan in progress, store limits and payments."""
import argparse
import importlib
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

from regions import REGIONS  # noqa: E402

# the demo's stores when distributor_store is activated
DEFAULT_STORES = 120


class Demo:
    """The context the parts of the demo share: each part reads what the
    parts before it made and adds its own (addons/*/demo.py say what)"""

    def __init__(self, pool, company, today, seed, options):
        self.pool = pool
        self.company = company
        self.today = today
        # the one source of chance: the parts draw from it in the order
        # they run, so that a seed gives the same network
        self.rng = random.Random(seed)
        # the sizes asked for: distributors, products, stores
        self.options = options
        # the regions, provinces, cities and counties the network covers
        self.region_tree = REGIONS
        # the party names given so far: no two parties share one
        self.names = set()
        # the seconds of each part that ran, in the order they ran
        self.timings = {}
        # the lines printed after the timings
        self.report = []


def demo_modules(pool):
    """The names of the activated modules, and the demo modules of those
    that have a demo.py, in Tryton's dependency order"""
    from trytond.modules import create_graph
    from trytond.tools import import_module
    Module = pool.get('ir.module')
    activated = {m.name for m in Module.search([
                ('state', '=', 'activated')])}
    demos = []
    for node in create_graph(activated):
        if Path(node.info['directory'], 'demo.py').exists():
            package = import_module(node.name)
            demos.append(importlib.import_module(f'{package.__name__}.demo'))
    return activated, demos


def walk(demos):
    """The parts of the demo modules in the order they run: module after
    module, each in the order of its PARTS, but for a part that names
    another in `before`: it runs just before that one (at its own place
    when that one is not in the walk)"""
    parts = [part for demo in demos for part in demo.PARTS]
    names = Counter(part.name for part in parts)
    twice = sorted(name for name, n in names.items() if n > 1)
    if twice:
        raise ValueError(f"demo parts named twice: {', '.join(twice)}")
    ahead = defaultdict(list)
    for part in parts:
        if part.before in names:
            ahead[part.before].append(part)
    order = []

    def place(part):
        for other in ahead[part.name]:
            place(other)
        order.append(part)
    for part in parts:
        if part.before not in names:
            place(part)
    if len(order) != len(parts):
        left = sorted(set(names) - {part.name for part in order})
        raise ValueError(
            f"demo parts before one another: {', '.join(left)}")
    return order


def in_transaction(database, func, *args, **kwargs):
    """Run func in a transaction as root and commit, restarting it as the
    server does when a table must be locked from the start.

    On SQLite the generator takes every table lock up front instead: a
    restart is not atomic there (trytond shares one connection per
    database, and a nested transaction's cache sync commits the outer
    one), while its table locks cost nothing.  Never on PostgreSQL, where
    nested transactions use their own connection and would wait forever
    on a table held here."""
    from trytond import backend
    from trytond.model import ModelSQL
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    if backend.name == 'sqlite':
        pool = Pool(database)
        extras['_lock_tables'] = sorted({
                Model._table for _, Model in pool.iterobject()
                if issubclass(Model, ModelSQL)
                and not Model._is_table_query()})
    while True:
        try:
            with Transaction().start(database, 0, **extras) as transaction:
                result = func(*args, **kwargs)
                transaction.commit()
            return result
        except TransactionError as error:
            error.fix(extras)


def generate(database, distributors=60, products=40, stores=0, seed=42,
        verbose=True):
    """Generate the network in database (trytond already configured).
    stores None: DEFAULT_STORES when distributor_store is activated.
    Returns the counts of distributors per tier and state."""
    from trytond.pool import Pool

    if database not in Pool.database_list():
        Pool(database).init()
    start = time.perf_counter()
    demo, counts = in_transaction(database, _generate,
        distributors, products, stores, seed)
    if verbose:
        print(f'generated in {time.perf_counter() - start:.1f} s: '
            + ', '.join(f'{k} {v:.1f} s' for k, v in demo.timings.items()))
        for (tier, state), n in sorted(counts.items()):
            print(f'  {tier} {state:<10} {n}')
        for line in demo.report:
            print(line)
    return counts


def _generate(distributors, products, stores, seed):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    activated, demos = demo_modules(pool)
    has_stores = 'distributor_store' in activated
    if stores is None:
        stores = DEFAULT_STORES if has_stores else 0
    if stores and not has_stores:
        raise SystemExit(
            '--stores needs the distributor_store module activated')
    Company = pool.get('company.company')
    Date = pool.get('ir.date')
    companies = Company.search([], limit=1)
    if not companies:
        raise SystemExit('no company: run scripts/setup_db.py first')
    company, = companies
    options = SimpleNamespace(
        distributors=distributors, products=products, stores=stores)
    with Transaction().set_context(
            company=company.id, companies=[company.id]):
        demo = Demo(pool, company, Date.today(), seed, options)
        for part in walk(demos):
            if part.when is not None and not part.when(demo):
                continue
            start = time.perf_counter()
            part.run(demo)
            demo.timings[part.name] = time.perf_counter() - start
        counts = Counter(
            (p.distributor_tier.code, p.distributor_state)
            for p in demo.parties)
    return demo, counts


def add_arguments(parser):
    "The options of the generator, shared with scripts/setup_db.py"
    parser.add_argument('-c', '--config', nargs='+', required=True,
        help="trytond configuration files")
    parser.add_argument('-d', '--database', default='dms')
    parser.add_argument('--distributors', type=int, default=60)
    parser.add_argument('--products', type=int, default=40)
    parser.add_argument('--stores', type=int, default=None,
        help="stores of the demo network (needs the distributor_store "
        f"module; {DEFAULT_STORES} when it is activated, 0 for none)")
    parser.add_argument('--seed', type=int, default=42)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from trytond import config
    config.update_etc(args.config)
    generate(args.database, distributors=args.distributors,
        products=args.products, stores=args.stores, seed=args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
