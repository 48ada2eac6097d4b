#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Create or upgrade the DMS database and load the demo network.

    .venv/bin/python scripts/setup_db.py -c CONFIG [CONFIG ...] [-d dms]

First run: creates the database with every project module (and what they
depend on), the brand as company (CNY, Asia/Shanghai), its chart of
accounts, this year's fiscal year with invoice sequences, the admin
password, and the demo network from scripts/generate.py.  Later runs
upgrade the modules and leave the data alone."""
import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

from generate import add_arguments, generate, in_transaction  # noqa: E402
ADMIN_PASSWORD = 'dms-admin'
DEMO_PASSWORD = 'dms-demo'
BRAND = "示范品牌 Demo Brand"


def project_modules():
    "The Tryton modules that live under addons/"
    addons = ROOT / 'addons'
    return sorted(ep.name for ep in entry_points(group='trytond.modules')
        if (addons / ep.name / 'tryton.cfg').exists())


def database_exists(database):
    "Whether the database exists, and its file for SQLite"
    from trytond import backend
    from trytond import config as tconfig
    from trytond.transaction import Transaction
    if backend.name == 'sqlite':
        path = Path(tconfig.get('database', 'path')) / f'{database}.sqlite'
        return path.exists(), path
    with Transaction().start(None, 0, close=True) as transaction:
        return database in transaction.database.list(), None


def create_database(database, path):
    "An empty database for trytond-admin to initialise"
    from trytond.transaction import Transaction
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return
    with Transaction().start(
            None, 0, close=True, autocommit=True) as transaction:
        transaction.database.create(transaction.connection, database)


def trytond_admin(configs, database, *args):
    command = [str(Path(sys.executable).parent / 'trytond-admin'),
        '-c', *configs, '-d', database, *args]
    subprocess.run(command, check=True, cwd=ROOT)


def setup_company(database):
    "Company, chart, fiscal year; idempotent"
    from trytond.pool import Pool
    Pool(database).init()
    # a restarted transaction starts over: report only what was committed
    for line in in_transaction(database, _setup_company):
        print(line)


def _setup_company():
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from trytond.modules.account.tests import create_chart, get_fiscalyear
    from trytond.modules.account_invoice.tests import set_invoice_sequences

    transaction = Transaction()
    done = []
    pool = Pool()
    Company = pool.get('company.company')
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    User = pool.get('res.user')
    FiscalYear = pool.get('account.fiscalyear')
    Account = pool.get('account.account')

    company = Company.search([], limit=1)
    if company:
        company, = company
    else:
        currency = Currency.search([('code', '=', 'CNY')], limit=1)
        if currency:
            currency, = currency
        else:
            currency, = Currency.create([{
                        'name': "Chinese Yuan Renminbi",
                        'code': 'CNY', 'numeric_code': '156',
                        'symbol': '¥', 'rounding': '0.01',
                        'digits': 2,
                        }])
        party, = Party.create([{
                    'name': BRAND,
                    'addresses': [('create', [{
                                    'street': "人民大道 200 号",
                                    'city': "上海",
                                    'postal_code': "200003",
                                    }])],
                    }])
        company, = Company.create([{
                    'party': party.id,
                    'currency': currency.id,
                    'timezone': 'Asia/Shanghai',
                    }])
        done.append(f'company: {BRAND}')
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    with transaction.set_context(company=company.id,
            companies=[company.id]):
        if not Account.search([('company', '=', company.id)], limit=1):
            if _activated('distributor_account'):
                # 小企业会计准则 in Chinese (distributor_account/chart.py)
                from distributor_account.chart import (
                    create_chart as create_cn_chart)
                root = create_cn_chart(company, 'small', 'zh')
                done.append(f'chart of accounts: {root.name}')
            else:
                create_chart(company)
                done.append('chart of accounts: created')
        today = dt.date.today()
        if not FiscalYear.search([
                    ('company', '=', company.id),
                    ('start_date', '<=', today),
                    ('end_date', '>=', today),
                    ]):
            fiscalyear = set_invoice_sequences(
                get_fiscalyear(company, today=today))
            fiscalyear.save()
            FiscalYear.create_period([fiscalyear])
            done.append(f'fiscal year: {fiscalyear.name}')
    return done


def _activated(module):
    "Whether the module is activated in the database of the transaction"
    from trytond.pool import Pool
    Module = Pool().get('ir.module')
    return bool(Module.search([
                ('name', '=', module), ('state', '=', 'activated'),
                ], limit=1))


def has_distributors(database):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, readonly=True):
        Party = Pool().get('party.party')
        return bool(Party.search([('is_distributor', '=', True)], limit=1))


def logins(database):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        groups = {}
        for xml_id in ['group_dms_admin', 'group_channel_manager',
                'group_sales_rep', 'group_dms_accountant']:
            groups[ModelData.get_id('distributor', xml_id)] = xml_id
        rows = []
        for user in User.search([('login', '!=', 'admin')],
                order=[('login', 'ASC')]):
            names = [g.name for g in user.groups if g.id in groups]
            if names:
                rows.append((user.login, DEMO_PASSWORD, ', '.join(names)))
        return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument('--no-demo', action='store_true')
    args = parser.parse_args(argv)

    from trytond import config as tconfig
    tconfig.update_etc(args.config)
    exists, path = database_exists(args.database)
    modules = project_modules()
    # The admin password: TRYTONPASSFILE when given (production), else the
    # demo one
    passfile = None
    if not os.environ.get('TRYTONPASSFILE'):
        with tempfile.NamedTemporaryFile('w', delete=False) as passfile:
            passfile.write(ADMIN_PASSWORD)
        os.environ['TRYTONPASSFILE'] = passfile.name
    try:
        if not exists:
            create_database(args.database, path)
            print(f'database {args.database}: creating with '
                f'{", ".join(modules)}')
            trytond_admin(args.config, args.database,
                '--email', 'admin@example.com', '-l', 'zh_CN',
                '-u', *modules, '--activate-dependencies')
        else:
            print(f'database {args.database}: upgrading')
            trytond_admin(args.config, args.database,
                '-u', *modules, '--activate-dependencies', '--all')
    finally:
        if passfile:
            os.unlink(passfile.name)
            del os.environ['TRYTONPASSFILE']

    setup_company(args.database)
    if not args.no_demo:
        # idempotent: completes what an older demo database lacks
        generate(args.database, distributors=args.distributors,
            products=args.products, stores=args.stores, seed=args.seed)
    print()
    print('Logins (web client at the server URL):')
    admin_password = ADMIN_PASSWORD if passfile else '(TRYTONPASSFILE)'
    print(f'  {"admin":<12} {admin_password:<10} administrator')
    for login, password, groups in logins(args.database):
        print(f'  {login:<12} {password:<10} {groups}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
