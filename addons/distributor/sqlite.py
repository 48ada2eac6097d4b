# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Real transactions on the embedded SQLite default.

trytond 8.0's SQLite backend gives a transaction and the cache one shared
connection per database object.  ``Cache.sync`` (at the start of a
transaction, once ``[cache] clean_timeout`` has passed, at every one when
it is 0) and ``Cache.commit`` ask that connection for autocommit: Python's
sqlite3 then commits what is pending and runs every later statement of the
transaction on its own, so a refused call (a ``UserError``) keeps what it
wrote before the refusal.  And a transaction only takes SQLite's write lock
at its first write, so two requests can both read a limit (credit, stock)
before either writes.

``install()`` (called when the module is imported, before any request is
served) changes two things of the SQLite backend and nothing else:

- the connection of a running trytond transaction is never switched to
  autocommit: the cache's reads and writes then belong to the transaction
  and roll back with it;
- a trytond transaction begins when it starts: ``BEGIN IMMEDIATE`` for a
  read-write one, which takes the database's write lock at once (writers
  are serialised: the second waits for the first to commit, then reads what
  it wrote), ``BEGIN`` for a read-only one (a consistent snapshot; readers
  never wait in WAL mode).  A writer waits ``[database] busy_timeout``
  seconds (default 60) for the lock.  A transaction nested in another of
  the same thread (trytond opens some to report an error) begins on its
  first write as before, so that it never waits for its own parent.

PostgreSQL is untouched."""
from trytond.backend.sqlite import database as sqlite_database
from trytond.config import config
from trytond.transaction import Transaction

_INSTALLED = '_dms_transactions'


def busy_timeout():
    "Seconds a SQLite writer waits for the write lock"
    return config.getfloat('database', 'busy_timeout', default=60)


def _running(connection):
    "Whether a trytond transaction of this thread runs on the connection"
    return connection is not None and any(
        t.connection is connection for t in Transaction._local.transactions)


def _starting(database):
    """Whether the current trytond transaction is starting on database,
    outermost on it in this thread"""
    transactions = Transaction._local.transactions
    if not transactions:
        return False
    current = transactions[-1]
    if current.database is not database or current.connection is not None:
        return False
    return not any(t.database is not None and t.database.name == database.name
        for t in transactions[:-1])


def install():
    Database = sqlite_database.Database
    if getattr(Database, _INSTALLED, False):
        return
    get_connection = Database.get_connection

    def get_connection_in_transaction(
            self, autocommit=False, readonly=False, statement_timeout=None):
        connection = self._conn
        if autocommit and _running(connection):
            # the cache borrows the connection of the running transaction
            return connection
        connection = get_connection(self, autocommit=autocommit,
            readonly=readonly, statement_timeout=statement_timeout)
        if (not autocommit and not connection.in_transaction
                and _starting(self)):
            connection.execute(
                f'PRAGMA busy_timeout = {int(busy_timeout() * 1000)}')
            connection.execute('BEGIN' if readonly else 'BEGIN IMMEDIATE')
        return connection

    get_connection_in_transaction.__doc__ = get_connection.__doc__
    Database.get_connection = get_connection_in_transaction
    setattr(Database, _INSTALLED, True)
