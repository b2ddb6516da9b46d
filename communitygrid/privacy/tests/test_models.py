"""The access log is append-only: in the ORM, and in the database whatever code runs."""
import pytest
from django.utils import translation
from django.db import DatabaseError, connection, transaction

from communitygrid.accounts.models import Role
from communitygrid.privacy.models import AccessLog, AppendOnlyError


@pytest.fixture
def entry(users):
    return AccessLog.objects.create(actor=users[Role.GRID_WORKER], actor_role=Role.GRID_WORKER, action="reveal",
                                    subject_type="registry.person", subject_id=1, fields=["phone"], purpose="核实电话号码")


def test_orm_save_of_an_existing_entry_raises(entry):
    entry.purpose = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()


def test_orm_instance_delete_raises(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_orm_queryset_update_and_delete_raise(entry):
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(purpose="changed")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().purpose == "核实电话号码"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE privacy_accesslog SET purpose = 'changed'", "DELETE FROM privacy_accesslog"],
    ids=["update", "delete"],
)
def test_raw_sql_change_is_rejected_by_the_database(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    entry = AccessLog.objects.get()
    assert entry.purpose == "核实电话号码"


def test_new_entries_can_still_be_inserted_by_raw_sql(entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_accesslog (at, actor_id, actor_role, action, subject_type, subject_label, fields, purpose, count)"
            " SELECT at, actor_id, actor_role, action, subject_type, subject_label, fields, purpose, count"
            " FROM privacy_accesslog"
        )
    assert AccessLog.objects.count() == 2


def test_display_helpers_name_fields_records_and_roles_by_their_labels(entry):
    with translation.override("en"):
        assert (entry.field_labels, entry.subject_type_label, entry.actor_role_label) == (["phone"], "person", "Grid worker")
    unknown = AccessLog(subject_type="gone.model", fields=["x"], actor_role="retired_role")
    assert (unknown.field_labels, unknown.subject_type_label, unknown.actor_role_label) == (["x"], "gone.model", "retired_role")


def test_djangos_flush_may_empty_the_log_as_a_whole(entry):
    # TRUNCATE on PostgreSQL, DELETE under the flush flag on SQLite: tests that flush the
    # database (live servers, browsers) and a deliberate wipe must still work.
    from django.core.management.color import no_style

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a real flush runs outside any transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    sql = connection.ops.sql_flush(no_style(), [AccessLog._meta.db_table])
    connection.ops.execute_sql_flush(sql)
    assert not AccessLog.objects.exists()


def test_the_flush_flag_is_off_again_after_a_flush(entry):
    from django.core.management.color import no_style

    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), ["accounts_signinevent"]))
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM privacy_accesslog")
