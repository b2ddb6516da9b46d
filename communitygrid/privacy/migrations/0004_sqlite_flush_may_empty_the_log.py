"""SQLite: the delete trigger lets Django's flush through (see communitygrid/privacy/db.py)."""
from django.db import migrations

SQLITE = [
    "DROP TRIGGER IF EXISTS privacy_accesslog_no_delete;",
    "CREATE TRIGGER privacy_accesslog_no_delete BEFORE DELETE ON privacy_accesslog "
    "WHEN NOT cg_flush_in_progress() "
    "BEGIN SELECT RAISE(ABORT, 'privacy_accesslog is append-only'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_accesslog_no_delete;",
    "CREATE TRIGGER privacy_accesslog_no_delete BEFORE DELETE ON privacy_accesslog "
    "BEGIN SELECT RAISE(ABORT, 'privacy_accesslog is append-only'); END;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_REVERSE:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_accesslog_subject_grid")]
    operations = [migrations.RunPython(forwards, backwards)]
