import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from communitygrid.accounts.models import Role
from communitygrid.privacy import services
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Household, Person

pytestmark = pytest.mark.usefixtures("scoped_registry")


@pytest.fixture(autouse=True)
def english():
    # Messages are matched in English; their zh-Hans versions are checked by the catalogue tests.
    with translation.override("en"):
        yield

PURPOSE = "入户走访核实联系方式"


def reveal(user, obj, fields=("phone", "id_number"), purpose=PURPOSE, **extra):
    return services.sensitive_reveal(actor=user, obj=obj, fields=list(fields), purpose=purpose, **extra)


def test_grid_worker_reveals_a_person_in_their_grid_and_one_log_row_is_written(users, people):
    inside, _ = people
    worker = users[Role.GRID_WORKER]
    values = reveal(worker, inside, ip_address="10.1.2.3")
    assert values == {"phone": inside.phone.reveal(), "id_number": inside.id_number.reveal()}
    entry = AccessLog.objects.get()
    assert (entry.actor, entry.actor_role, entry.action) == (worker, Role.GRID_WORKER, "reveal")
    assert (entry.subject_type, entry.subject_id, entry.subject_grid_id) == ("registry.person", inside.pk, inside.grid_id)
    assert entry.fields == ["phone", "id_number"]
    assert entry.purpose == PURPOSE
    assert entry.ip_address == "10.1.2.3"
    assert entry.subject_label == str(inside)
    assert inside.name not in entry.subject_label  # the log's label is masked too


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_STAFF, Role.STREET_STAFF])
def test_area_staff_cannot_reveal_outside_their_scope(users, people, role):
    _, outside = people
    with pytest.raises(PermissionDenied, match="outside the area"):
        reveal(users[role], outside)
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEPARTMENT_STAFF])
def test_roles_without_reveal_right_are_refused_before_anything_is_read(users, people, role):
    inside, _ = people
    with pytest.raises(PermissionDenied, match="may not see unmasked"):
        reveal(users[role], inside)
    assert AccessLog.objects.count() == 0


def test_anonymous_and_inactive_users_are_refused(users, people):
    from django.contrib.auth.models import AnonymousUser

    inside, _ = people
    with pytest.raises(PermissionDenied):
        reveal(AnonymousUser(), inside)
    worker = users[Role.GRID_WORKER]
    worker.is_active = False
    with pytest.raises(PermissionDenied):
        reveal(worker, inside)


def test_resident_reveals_only_their_own_record(users, people):
    inside, outside = people
    resident = users[Role.RESIDENT]
    assert resident.person_id == inside.pk
    assert reveal(resident, inside, fields=["phone"]) == {"phone": inside.phone.reveal()}
    neighbour = Person.objects.filter(grid=inside.grid).exclude(pk=inside.pk).first()
    for other in (neighbour, outside):
        with pytest.raises(PermissionDenied):
            reveal(resident, other)
    assert AccessLog.objects.count() == 1


def test_admin_reveals_anywhere(users, people):
    _, outside = people
    assert reveal(users[Role.ADMIN], outside, fields=["id_number"]) == {"id_number": outside.id_number.reveal()}


@pytest.mark.parametrize(
    ("purpose", "code"),
    [("", "required"), ("   ", "required"), (None, "required"), ("看看", "too_short"), ("....!!!!", "too_short"),
     ("aaaaaaa", "too_short"), ("核实信息" * 126, "too_long")],
)
def test_a_missing_or_meaningless_purpose_is_rejected_on_the_purpose_field(users, people, purpose, code):
    inside, _ = people
    with pytest.raises(ValidationError) as caught:
        reveal(users[Role.GRID_WORKER], inside, purpose=purpose)
    assert list(caught.value.error_dict) == ["purpose"]
    assert caught.value.error_dict["purpose"][0].code == code
    assert AccessLog.objects.count() == 0


def test_purpose_is_trimmed_and_whitespace_collapsed(users, people):
    inside, _ = people
    reveal(users[Role.GRID_WORKER], inside, purpose="  核实   低保\n申请材料  ")
    assert AccessLog.objects.get().purpose == "核实 低保 申请材料"


@pytest.mark.parametrize("fields", [[], ["name"], ["phone", "no_such_field"], ["phone_bidx"]])
def test_only_encrypted_fields_of_the_model_may_be_revealed(users, people, fields):
    inside, _ = people
    with pytest.raises(ValidationError) as caught:
        reveal(users[Role.GRID_WORKER], inside, fields=fields)
    assert list(caught.value.error_dict) == ["fields"]
    assert AccessLog.objects.count() == 0


def test_repeated_field_names_are_logged_once(users, people):
    inside, _ = people
    reveal(users[Role.GRID_WORKER], inside, fields=["phone", "phone"])
    assert AccessLog.objects.get().fields == ["phone"]


def test_an_empty_encrypted_value_reveals_as_empty_string(users, people):
    inside, _ = people
    assert inside.health_notes is None
    assert reveal(users[Role.GRID_WORKER], inside, fields=["health_notes"]) == {"health_notes": ""}


def test_reveal_returns_the_stored_value_not_unsaved_changes(users, people):
    inside, _ = people
    stored = inside.phone.reveal()
    inside.phone = "13000000000"  # not saved
    assert reveal(users[Role.GRID_WORKER], inside, fields=["phone"]) == {"phone": stored}


def test_household_address_reveal_is_logged_against_the_household(users, city):
    household = Household.objects.filter(grid=city.grids[0]).first()
    values = reveal(users[Role.COMMUNITY_STAFF], household, fields=["address"])
    assert values["address"].startswith("测试路")
    entry = AccessLog.objects.get()
    assert (entry.subject_type, entry.subject_id) == ("registry.household", household.pk)


def test_an_unparseable_ip_address_is_not_stored(users, people):
    inside, _ = people
    reveal(users[Role.GRID_WORKER], inside, ip_address="not-an-ip, 10.0.0.1")
    assert AccessLog.objects.get().ip_address is None


def test_when_the_log_cannot_be_written_nothing_is_revealed(users, people, monkeypatch):
    inside, _ = people

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(AccessLog.objects, "create", broken)
    with pytest.raises(RuntimeError):
        reveal(users[Role.GRID_WORKER], inside)


def test_access_log_record_for_an_export_of_many_records(users):
    worker = users[Role.GRID_WORKER]
    entry = services.access_log_record(actor=worker, action=AccessLog.Action.EXPORT, subject=Person,
                                       fields=["phone"], purpose="季度人口台账报送", count=37, ip_address="::1")
    entry.refresh_from_db()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.count) == ("export", "registry.person", None, 37)
    assert entry.ip_address == "::1"


def test_access_log_record_for_a_search_of_one_record(users, people):
    inside, _ = people
    entry = services.access_log_record(actor=users[Role.GRID_WORKER], action="search", subject=inside,
                                       fields=["id_number"], purpose="按身份证号查找居民")
    assert (entry.subject_id, entry.subject_grid_id) == (inside.pk, inside.grid_id)


def test_access_log_record_validates_its_input(users):
    worker = users[Role.GRID_WORKER]
    with pytest.raises(ValueError):
        services.access_log_record(actor=worker, action="peek", subject=Person, fields=["phone"], purpose=PURPOSE)
    with pytest.raises(ValidationError):
        services.access_log_record(actor=worker, action="export", subject=Person, fields=["phone"], purpose="")
    with pytest.raises(TypeError):
        services.access_log_record(actor=worker, action="export", subject="person", fields=["phone"], purpose=PURPOSE)
    assert AccessLog.objects.count() == 0
