"""Database triggers that make the access log append-only, whatever code runs against it."""
from django.db import migrations

SQLITE = [
    "CREATE TRIGGER privacy_accesslog_no_update BEFORE UPDATE ON privacy_accesslog "
    "BEGIN SELECT RAISE(ABORT, 'privacy_accesslog is append-only'); END;",
    "CREATE TRIGGER privacy_accesslog_no_delete BEFORE DELETE ON privacy_accesslog "
    "BEGIN SELECT RAISE(ABORT, 'privacy_accesslog is append-only'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_accesslog_no_update;",
    "DROP TRIGGER IF EXISTS privacy_accesslog_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION cg_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;""",
    "CREATE TRIGGER privacy_accesslog_append_only BEFORE UPDATE OR DELETE ON privacy_accesslog "
    "FOR EACH ROW EXECUTE FUNCTION cg_append_only();",
    # TRUNCATE is how Django's TransactionTestCase flushes; it stays allowed for tests and
    # for an operator's deliberate retention purge, but never row by row.
]
POSTGRES_REVERSE = ["DROP TRIGGER IF EXISTS privacy_accesslog_append_only ON privacy_accesslog;"]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
