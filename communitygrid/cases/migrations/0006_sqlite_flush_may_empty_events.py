"""SQLite: Django's flush may empty case events, as TRUNCATE does on PostgreSQL; nothing else may.

Databases made before the guard existed get it here; for newer ones 0002 already created it.
"""
from django.db import migrations

from communitygrid.privacy.append_only import sqlite_flush_may_empty


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_task_overdue"), ("privacy", "0004_sqlite_flush_may_empty_the_log")]
    operations = [sqlite_flush_may_empty("cases_caseevent")]
