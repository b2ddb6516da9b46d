"""Database triggers that make the access log append-only, whatever code runs against it."""
from django.db import migrations

from communitygrid.privacy.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [append_only("privacy_accesslog")]
