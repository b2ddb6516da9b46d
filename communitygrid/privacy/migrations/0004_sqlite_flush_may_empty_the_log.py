"""SQLite: the delete trigger lets Django's flush through (see communitygrid/privacy/append_only.py).

Databases made before the guard existed get it here; for newer ones 0002 already created it.
"""
from django.db import migrations

from communitygrid.privacy.append_only import sqlite_flush_may_empty


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_accesslog_subject_grid")]
    operations = [sqlite_flush_may_empty("privacy_accesslog")]
