#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the distributor master data at scale.

Builds a network with scripts/generate.py (10,000 distributors by default)
on a throwaway database, then prints, for each operation, the time through
the models and the time of the plain SQL that gives the same answer,
measured in the same run, with their ratio:

- a sales rep's distributor count (record rules) vs one SQL count;
- the distributor counts of the whole territory tree vs one SQL aggregate;
- the daily qualification task vs one SQL UPDATE.

    .venv/bin/python tests/bench/bench_distributor.py [--distributors N]

SQLite by default (DB_NAME, a file under var/bench); PostgreSQL when
TRYTOND_DATABASE__URI is set.  Figures, not assertions."""
import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))


def timed(func, repeat=3):
    "Best wall time of repeat runs and the last result"
    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def report(name, model_time, sql_time, model_result, sql_result):
    ratio = model_time / sql_time if sql_time else float('inf')
    same = 'same answer' if model_result == sql_result else (
        f'DIFFERENT answer {model_result!r} != {sql_result!r}')
    print(f'{name:<38} models {model_time * 1000:9.1f} ms   '
        f'sql {sql_time * 1000:8.1f} ms   ratio {ratio:6.1f}x   {same}')
    return model_result == sql_result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distributors', type=int, default=10000)
    parser.add_argument('--products', type=int, default=200)
    parser.add_argument('--seed', type=int, default=42)
    args = parser.parse_args(argv)

    if not os.environ.get('TRYTOND_DATABASE__URI'):
        bench_dir = ROOT / 'var' / 'bench'
        bench_dir.mkdir(parents=True, exist_ok=True)
        os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = str(bench_dir)
        db_file = bench_dir / 'bench_distributor.sqlite'
        if db_file.exists():
            db_file.unlink()
        os.environ['DB_NAME'] = 'bench_distributor'
    else:
        os.environ.setdefault('DB_NAME', f'bench_distributor_{os.getpid()}')

    from sql import Literal, Null
    from sql.aggregate import Count
    from sql.conditionals import Case

    from trytond.modules.company.tests import create_company
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction

    import generate

    start = time.perf_counter()
    activate_module(['distributor'])
    print(f'activate modules: {time.perf_counter() - start:.1f} s')
    with Transaction().start(DB_NAME, 0) as transaction:
        create_company()
        transaction.commit()

    start = time.perf_counter()
    generate.generate(DB_NAME, distributors=args.distributors,
        products=args.products, seed=args.seed)
    print(f'generate {args.distributors} distributors: '
        f'{time.perf_counter() - start:.1f} s')

    all_same = True
    with Transaction().start(DB_NAME, 0) as transaction:
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        Territory = pool.get('distributor.territory')
        Qualification = pool.get('distributor.qualification')
        Rule = pool.get('ir.rule')
        Rule._domain_get_cache.clear()
        PartyTerritory = pool.get('party.party-distributor.territory')
        cursor = transaction.connection.cursor()
        party = Party.__table__()
        link = PartyTerritory.__table__()
        territory_table = Territory.__table__()

        rep = User.search([('login', '=', 'rep1')])[0]
        with transaction.set_user(rep.id), transaction.set_context(
                _check_access=True):
            territory_ids = list(Rule._distributor_territories())

            def rep_list():
                # what the client asks for the list's record count
                return Party.search_count([('is_distributor', '=', True)])
            model_time, model_result = timed(rep_list)

        def rep_sql():
            cursor.execute(*link.join(party,
                    condition=link.party == party.id).select(
                    Count(link.party, distinct=True),
                    where=link.territory.in_(territory_ids)
                    & (party.is_distributor == Literal(True))))
            return cursor.fetchone()[0]
        sql_time, sql_result = timed(rep_sql)
        all_same &= report(
            f"rep1's distributors ({len(territory_ids)} territories)",
            model_time, sql_time, model_result, sql_result)

        roots = Territory.search([('parent', '=', None)])

        def tree_counts():
            return sorted(
                (t.id, t.distributor_count)
                for t in Territory.browse(roots))
        model_time, model_result = timed(tree_counts)

        def tree_sql():
            # each territory's root by walking parents in SQL, one level a
            # query: the tree is shallow (region > province > city)
            cursor.execute(*territory_table.select(
                    territory_table.id, territory_table.parent))
            parent = dict(cursor)

            def root(t):
                while parent.get(t) is not None:
                    t = parent[t]
                return t
            cursor.execute(*link.join(party,
                    condition=link.party == party.id).select(
                    link.territory, link.party,
                    where=(party.is_distributor == Literal(True))
                    & (party.distributor_state != 'terminated')))
            per_root = {r.id: set() for r in roots}
            for territory_id, party_id in cursor:
                per_root[root(territory_id)].add(party_id)
            return sorted((k, len(v)) for k, v in per_root.items())
        sql_time, sql_result = timed(tree_sql)
        all_same &= report('territory tree counts (roots)',
            model_time, sql_time, model_result, sql_result)

        q = Qualification.__table__()

        def task():
            # the status is computed in SQL by its searcher
            return Qualification.search_count(
                [('status', '!=', 'valid')])
        model_time, model_result = timed(task)

        def task_sql():
            # the same rule written by hand
            today = pool.get('ir.date').today()
            limit = today + dt.timedelta(days=30)
            cursor.execute(*q.select(Count(Literal('*')),
                    where=Case(
                            ((q.valid_to != Null) & (q.valid_to < today),
                                'expired'),
                            (q.valid_from > today, 'expired'),
                            ((q.valid_to != Null) & (q.valid_to <= limit),
                                'expiring'),
                            else_='valid') != 'valid'))
            return cursor.fetchone()[0]
        sql_time, sql_result = timed(task_sql)
        all_same &= report('qualification status, whole table',
            model_time, sql_time, model_result, sql_result)
        transaction.rollback()
    return 0 if all_same else 1


if __name__ == '__main__':
    sys.exit(main())
