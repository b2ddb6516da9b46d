"""Database triggers that make case events append-only, whatever code runs against them.

Reuses ``cg_append_only()`` created by privacy's 0002 migration on PostgreSQL.
"""
from django.db import migrations

SQLITE = [
    "CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent "
    "BEGIN SELECT RAISE(ABORT, 'cases_caseevent is append-only'); END;",
    "CREATE TRIGGER cases_caseevent_no_delete BEFORE DELETE ON cases_caseevent "
    "BEGIN SELECT RAISE(ABORT, 'cases_caseevent is append-only'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update;",
    "DROP TRIGGER IF EXISTS cases_caseevent_no_delete;",
]
POSTGRES = [
    "CREATE TRIGGER cases_caseevent_append_only BEFORE UPDATE OR DELETE ON cases_caseevent "
    "FOR EACH ROW EXECUTE FUNCTION cg_append_only();",
]
POSTGRES_REVERSE = ["DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent;"]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("privacy", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
