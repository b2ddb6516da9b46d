"""Database triggers that make case events append-only, whatever code runs against them."""
from django.db import migrations

from communitygrid.privacy.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("privacy", "0002_append_only_triggers")]
    operations = [append_only("cases_caseevent")]
