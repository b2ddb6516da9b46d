import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communitygrid.accounts.models import Role
from communitygrid.privacy import crypto
from communitygrid.registry import services
from communitygrid.registry.models import Household, Person, Room
from communitygrid.testing import id_number_for


@pytest.fixture
def inside(city, users):
    return Person.objects.filter(grid=city.grids[0]).order_by("id").first()


@pytest.fixture
def outside(city, users):
    return Person.objects.filter(grid=city.grids[1]).order_by("id").first()


def test_a_grid_worker_updates_a_person_in_their_grid(users, inside):
    worker = users[Role.GRID_WORKER]
    services.person_update(
        actor=worker,
        person=inside,
        changes={"phone": "+86 138-0013-8000", "employment": "retired", "health_notes": "高血压",
                 "care_tags": {"disabled": "2", "elderly_alone": ""}},
    )
    inside.refresh_from_db()
    assert inside.phone.reveal() == "13800138000"
    assert inside.phone_bidx == crypto.blind_index("phone", "13800138000")
    assert inside.employment == "retired"
    assert inside.health_notes.reveal() == "高血压"
    assert {(link.tag.code, link.level) for link in inside.tag_links.all()} == {("disabled", "二级"),
                                                                              ("elderly_alone", "")}
    services.person_update(actor=worker, person=inside, changes={"care_tags": {"disabled": "三级"}})
    assert [(link.tag.code, link.level) for link in inside.tag_links.all()] == [("disabled", "三级")]


@pytest.mark.parametrize("role", [Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.RESIDENT, Role.LEADER,
                                  Role.DEPARTMENT_STAFF])
def test_roles_without_change_rights_cannot_update(users, inside, role):
    with pytest.raises(PermissionDenied):
        services.person_update(actor=users[role], person=inside, changes={"name": "改名"})
    inside.refresh_from_db()
    assert inside.name != "改名"


def test_a_person_outside_the_area_cannot_be_updated_or_verified(users, outside):
    worker = users[Role.GRID_WORKER]
    with pytest.raises(PermissionDenied):
        services.person_update(actor=worker, person=outside, changes={"name": "改名"})
    with pytest.raises(PermissionDenied):
        services.person_verify(actor=worker, person=outside)


def test_bad_values_are_reported_per_field_and_nothing_is_written(users, inside):
    before = (inside.name, inside.phone.reveal())
    with pytest.raises(ValidationError) as info:
        services.person_update(
            actor=users[Role.GRID_WORKER],
            person=inside,
            changes={"name": "新名字", "phone": "12345", "id_number": "110105194912310215", "residence": "moon",
                     "care_tags": {"no_such_group": ""}},
        )
    assert set(info.value.error_dict) == {"phone", "id_number", "residence", "care_tags"}
    inside.refresh_from_db()
    assert (inside.name, inside.phone.reveal()) == before


def test_a_new_id_number_sets_birth_date_and_gender_and_must_agree_with_them(users, inside):
    worker = users[Role.GRID_WORKER]
    number = id_number_for(dt.date(1961, 6, 1), 37)  # sequence 037: odd → male
    services.person_update(actor=worker, person=inside, changes={"id_number": number})
    inside.refresh_from_db()
    assert (inside.birth_date, inside.gender) == (dt.date(1961, 6, 1), "M")
    assert inside.id_number_bidx == crypto.blind_index("id_number", number)
    with pytest.raises(ValidationError) as info:
        services.person_update(actor=worker, person=inside, changes={"birth_date": "1962-06-01"})
    assert "birth_date" in info.value.error_dict


def test_an_id_number_already_on_file_is_refused(users, inside, city):
    other = Person.objects.filter(grid=city.grids[0]).exclude(pk=inside.pk).first()
    with pytest.raises(ValidationError) as info:
        services.person_update(actor=users[Role.ADMIN], person=inside,
                               changes={"id_number": other.id_number.reveal()})
    assert info.value.error_dict["id_number"][0].code == "duplicate"


def test_unknown_fields_are_refused(users, inside):
    with pytest.raises(ValidationError):
        services.person_update(actor=users[Role.ADMIN], person=inside, changes={"id_number_bidx": "x"})


def test_verify_records_who_and_when(users, inside):
    worker = users[Role.GRID_WORKER]
    at = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.timezone.utc)
    services.person_verify(actor=worker, person=inside, at=at)
    inside.refresh_from_db()
    assert (inside.last_verified_at, inside.last_verified_by) == (at, worker)


def test_moving_a_person_to_a_household_outside_the_area_is_refused(users, inside, city):
    foreign = Household.objects.get(grid=city.grids[1])
    with pytest.raises(ValidationError) as info:
        services.person_update(actor=users[Role.GRID_WORKER], person=inside, changes={"household": foreign})
    assert "household" in info.value.error_dict
    staff = users[Role.COMMUNITY_STAFF]
    services.person_update(actor=staff, person=inside, changes={"household": foreign})
    inside.refresh_from_db()
    assert (inside.household, inside.grid) == (foreign, city.grids[1])


def test_household_update_changes_fields_and_moving_rooms_moves_members(users, city):
    staff = users[Role.COMMUNITY_STAFF]
    household = Household.objects.get(grid=city.grids[0])
    target_room = Room.objects.filter(unit__building__grid=city.grids[1]).first()
    services.household_update(actor=staff, household=household,
                              changes={"address": "新地址1号", "tenure": "tenant", "room": target_room})
    household.refresh_from_db()
    assert household.address.reveal() == "新地址1号"
    assert (household.tenure, household.room, household.grid) == ("tenant", target_room, city.grids[1])
    assert set(household.members.values_list("grid_id", flat=True)) == {city.grids[1].pk}


def test_household_update_refuses_rooms_outside_the_area_and_bad_tenure(users, city):
    worker = users[Role.GRID_WORKER]
    household = Household.objects.get(grid=city.grids[0])
    foreign_room = Room.objects.filter(unit__building__grid=city.grids[1]).first()
    with pytest.raises(ValidationError) as info:
        services.household_update(actor=worker, household=household, changes={"room": foreign_room,
                                                                              "tenure": "castle"})
    assert set(info.value.error_dict) == {"room", "tenure"}
    with pytest.raises(PermissionDenied):
        services.household_update(actor=worker, household=Household.objects.get(grid=city.grids[1]),
                                  changes={"note": "x"})


def test_person_create_adds_a_member_with_identity_from_the_id_number(users, city):
    household = Household.objects.get(grid=city.grids[0])
    number = id_number_for(dt.date(2015, 3, 5), 42)
    person = services.person_create(actor=users[Role.GRID_WORKER], household=household,
                                    values={"name": "新成员", "id_number": number, "household_role": "child"})
    assert (person.grid, person.birth_date, person.gender) == (city.grids[0], dt.date(2015, 3, 5), "F")
    with pytest.raises(ValidationError):
        services.person_create(actor=users[Role.GRID_WORKER], household=household, values={"name": "无证"})
    with pytest.raises(PermissionDenied):
        services.person_create(actor=users[Role.GRID_WORKER], household=Household.objects.get(grid=city.grids[1]),
                               values={"name": "x", "id_number": id_number_for(dt.date(2000, 1, 1), 5)})


def test_household_create_takes_the_grid_of_its_building_within_scope(users, city):
    staff = users[Role.COMMUNITY_STAFF]
    room = Room.objects.filter(unit__building__grid=city.grids[1]).first()
    household = services.household_create(actor=staff, code="NEW-1", room=room, address="新路1号", tenure="tenant")
    assert (household.grid, household.address.reveal(), household.tenure) == (city.grids[1], "新路1号", "tenant")
    with pytest.raises(ValidationError):
        services.household_create(actor=staff, code="NEW-1", room=room)
    far_room = Room.objects.filter(unit__building__grid=city.grids[6]).first()
    with pytest.raises(PermissionDenied):
        services.household_create(actor=staff, code="NEW-2", room=far_room)
