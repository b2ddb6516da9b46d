"""Leaner case indexes: the single-column indexes of five foreign keys go, each already served
by a composite index that starts with it, and likely duplicates get an index on the place.

The foreign keys change in the migration state only; the database drops the indexes by name.
Django's AlterField would drop and re-add each foreign-key constraint, checking every row of
the table again, and on SQLite would copy the whole table (and with it lose the append-only
triggers of the event log).
"""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, index, column) of each foreign key's own index, as Django named it.
FK_INDEXES = [
    ("cases_case", "cases_case_assignee_id_28343c2e", "assignee_id"),
    ("cases_case", "cases_case_category_id_c6dc5a5a", "category_id"),
    ("cases_case", "cases_case_grid_id_af7609ce", "grid_id"),
    ("cases_case", "cases_case_reporter_id_7d7d0c2b", "reporter_id"),
    ("cases_caseevent", "cases_caseevent_case_id_6c6031ac", "case_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_binding_request"),
        ("cases", "0007_routing_history_index"),
        ("geo", "0002_map_version"),
        ("registry", "0005_person_name_label"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="assignee",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="assigned_cases", to=settings.AUTH_USER_MODEL, verbose_name="assignee"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="category",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases",
                                            to="cases.category", verbose_name="category"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="grid",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases",
                                            to="geo.node", verbose_name="grid"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="reporter",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="reported_cases", to=settings.AUTH_USER_MODEL, verbose_name="reporter"),
                ),
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="events",
                                            to="cases.case", verbose_name="case"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
                for table, index, column in FK_INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["category", "lat", "lon", "created_at"], name="case_category_place"),
        ),
    ]
