"""SQLite: Django's flush may empty the append-only tables, and nothing else may delete from them.

On PostgreSQL the row triggers forbid UPDATE and DELETE while TRUNCATE (what Django's flush
issues: the whole database at once, in tests or a deliberate wipe) stays possible. SQLite has
no TRUNCATE: its flush is ``DELETE FROM`` each table, which the row trigger would refuse, so
TransactionTestCase-style tests (live servers, browsers) could never clean up. The SQLite
delete trigger therefore asks ``cg_flush_in_progress()``, a function this module registers on
every connection, true only while that connection runs Django's flush. A connection without
the function (the sqlite3 shell) cannot delete at all: the trigger fails closed.
"""
from __future__ import annotations

from django.db import connections
from django.db.backends.signals import connection_created

FLUSH_FUNCTION = "cg_flush_in_progress"


def install(connection) -> None:
    if connection.vendor != "sqlite" or connection.connection is None:
        return
    connection.connection.create_function(
        FLUSH_FUNCTION, 0, lambda: 1 if getattr(connection, "_cg_flushing", False) else 0
    )
    ops = connection.ops
    if getattr(ops, "_cg_flush_marked", False):
        return
    plain_flush = ops.execute_sql_flush

    def execute_sql_flush(sql_list):
        connection._cg_flushing = True
        try:
            plain_flush(sql_list)
        finally:
            connection._cg_flushing = False

    ops.execute_sql_flush = execute_sql_flush
    ops._cg_flush_marked = True


def _on_connection_created(sender, connection, **kwargs):
    install(connection)


def connect() -> None:
    connection_created.connect(_on_connection_created, dispatch_uid="privacy.sqlite_flush_function")
    for connection in connections.all(initialized_only=True):
        install(connection)
