"""Append-only tables: database triggers refuse UPDATE and DELETE, whatever code runs.

Used by the migrations of every table that is a record of what happened (the access log, case
events). On PostgreSQL a row trigger raises; TRUNCATE stays possible (Django's test flush, an
operator's deliberate retention purge). SQLite has no TRUNCATE — its flush deletes row by row —
so its delete trigger lets through exactly Django's flush, which ``privacy.db`` marks with the
``cg_flush_in_progress()`` function on every connection; a connection without that function
(the sqlite3 shell) cannot delete at all.
"""
from __future__ import annotations

from django.db import migrations

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION cg_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;"""


def sqlite_delete_trigger(table: str, *, flush_may_empty: bool = True) -> str:
    guard = "WHEN NOT cg_flush_in_progress() " if flush_may_empty else ""
    return (f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {guard}"
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;")


def statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    """``(forwards, backwards)`` SQL making ``table`` append-only on ``vendor``."""
    if vendor == "postgresql":
        return ([POSTGRES_FUNCTION,
                 f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                 "FOR EACH ROW EXECUTE FUNCTION cg_append_only();"],
                [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"])
    return ([f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
             f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
             sqlite_delete_trigger(table)],
            [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"])


def _run(sql_list: list[str], schema_editor) -> None:
    for sql in sql_list:
        # params=None: the PostgreSQL function body holds a literal '%'.
        schema_editor.execute(sql, params=None)


def append_only(table: str) -> migrations.RunPython:
    """The migration operation that makes ``table`` append-only (reversible)."""

    def forwards(apps, schema_editor):
        _run(statements(schema_editor.connection.vendor, table)[0], schema_editor)

    def backwards(apps, schema_editor):
        _run(statements(schema_editor.connection.vendor, table)[1], schema_editor)

    return migrations.RunPython(forwards, backwards)


def sqlite_flush_may_empty(table: str) -> migrations.RunPython:
    """For tables made append-only before the flush guard existed: put the guard on (SQLite only)."""

    def replace(flush_may_empty: bool):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor == "sqlite":
                _run([f"DROP TRIGGER IF EXISTS {table}_no_delete;",
                      sqlite_delete_trigger(table, flush_may_empty=flush_may_empty)], schema_editor)
        return run

    return migrations.RunPython(replace(True), replace(False))
