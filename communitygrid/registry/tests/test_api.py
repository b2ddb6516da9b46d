import json

import pytest

from communitygrid.accounts.models import Role
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Building, Household, Person

BASE = "/api/v1/registry"


@pytest.fixture
def inside(city, users):
    return Person.objects.filter(grid=city.grids[0]).order_by("id").first()


@pytest.fixture
def outside(city, users):
    return Person.objects.filter(grid=city.grids[7]).order_by("id").first()


def as_user(client, user):
    client.force_login(user)
    return client


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def all_plaintexts() -> set[str]:
    values = set()
    for person in Person.objects.all():
        for field in ("id_number", "phone", "registered_address", "health_notes", "emergency_contact_phone"):
            value = getattr(person, field)
            if value is not None:
                values.add(value.reveal())
    for household in Household.objects.all():
        if household.address is not None:
            values.add(household.address.reveal())
    return values


def test_the_api_needs_a_session(client, db):
    assert client.get(f"{BASE}/persons").status_code == 401


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEPARTMENT_STAFF])
def test_roles_without_people_access_get_403(client, users, inside, role):
    as_user(client, users[role])
    for url in (f"{BASE}/persons", f"{BASE}/persons/{inside.pk}", f"{BASE}/households", f"{BASE}/buildings",
                f"{BASE}/households/{inside.household_id}"):
        assert client.get(url).status_code == 403, url
    response = post_json(client, f"{BASE}/persons/{inside.pk}/reveal", {"fields": ["phone"], "purpose": "核实身份"})
    assert response.status_code == 403


def test_persons_are_scoped_paginated_and_masked(client, users, city):
    as_user(client, users[Role.COMMUNITY_STAFF])
    response = client.get(f"{BASE}/persons")
    assert response.status_code == 200
    body = response.json()
    expected = set(Person.objects.filter(grid__in=city.grids[:2]).values_list("pk", flat=True))
    assert body["count"] == len(expected) and {item["id"] for item in body["items"]} == expected
    text = response.content.decode()
    assert not any(value in text for value in all_plaintexts())
    person = Person.objects.get(pk=body["items"][0]["id"])
    assert body["items"][0]["id_number"] == str(person.id_number)


def test_person_filters_and_exact_search(client, users, city, inside):
    staff = users[Role.DISTRICT_STAFF]
    as_user(client, staff)
    body = client.get(f"{BASE}/persons", {"grid": city.grids[3].code}).json()
    assert {item["id"] for item in body["items"]} == set(
        Person.objects.filter(grid=city.grids[3]).values_list("pk", flat=True))
    body = client.get(f"{BASE}/persons", {"id_number": inside.id_number.reveal()}).json()
    assert [item["id"] for item in body["items"]] == [inside.pk]
    assert AccessLog.objects.filter(actor=staff, action="search").count() == 1
    client.cookies["cg_language"] = "en"
    response = client.get(f"{BASE}/persons", {"phone": "12345"})
    assert response.status_code == 400 and "11 digits" in response.json()["detail"]


def test_a_person_outside_scope_is_404(client, users, inside, outside):
    as_user(client, users[Role.GRID_WORKER])
    assert client.get(f"{BASE}/persons/{inside.pk}").status_code == 200
    assert client.get(f"{BASE}/persons/{outside.pk}").status_code == 404
    assert client.get(f"{BASE}/persons/999999").status_code == 404
    response = post_json(client, f"{BASE}/persons/{outside.pk}/reveal", {"fields": ["phone"], "purpose": "核实身份"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_reveal_returns_plaintext_and_is_logged(client, users, inside):
    worker = users[Role.GRID_WORKER]
    as_user(client, worker)
    response = post_json(client, f"{BASE}/persons/{inside.pk}/reveal",
                         {"fields": ["id_number", "phone"], "purpose": "入户核实身份信息"})
    assert response.status_code == 200
    assert response.json() == {"id": inside.pk, "values": {"id_number": inside.id_number.reveal(),
                                                           "phone": inside.phone.reveal()}}
    assert response["Cache-Control"] == "no-store"
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.subject_id, log.purpose) == (worker, "reveal", inside.pk, "入户核实身份信息")


@pytest.mark.parametrize("payload", [{"fields": ["phone"], "purpose": ""}, {"fields": ["phone"], "purpose": "   "},
                                     {"fields": ["phone"]}, {"fields": [], "purpose": "入户核实身份信息"},
                                     {"fields": ["name"], "purpose": "入户核实身份信息"}])
def test_reveal_without_purpose_or_with_bad_fields_is_400(client, users, inside, payload):
    as_user(client, users[Role.GRID_WORKER])
    response = post_json(client, f"{BASE}/persons/{inside.pk}/reveal", payload)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not AccessLog.objects.exists()


def test_a_resident_reaches_only_their_own_record(client, users):
    resident = users[Role.RESIDENT]
    as_user(client, resident)
    body = client.get(f"{BASE}/persons").json()
    assert [item["id"] for item in body["items"]] == [resident.person_id]
    households = client.get(f"{BASE}/households").json()
    assert [item["id"] for item in households["items"]] == [resident.person.household_id]
    detail = client.get(f"{BASE}/households/{resident.person.household_id}")
    # Everyone registered in their own household, by masked name and relationship only.
    household = resident.person.household
    assert {member["id"] for member in detail.json()["members"]} == set(
        household.members.filter(is_active=True).values_list("pk", flat=True))
    assert set(detail.json()["members"][0]) == {"id", "name", "household_role"}
    assert not any(value in detail.content.decode() for value in all_plaintexts())
    # A fellow member's own record stays closed to the resident, and their name is masked.
    fellow = household.members.exclude(pk=resident.person_id).first()
    assert fellow.name not in detail.content.decode()
    assert {m["name"] for m in detail.json()["members"]} >= {str(fellow)}
    assert client.get(f"{BASE}/persons/{fellow.pk}").status_code == 404
    # Once the resident's own record is closed (moved out), they no longer read who lives there.
    type(fellow).objects.filter(pk=resident.person_id).update(is_active=False)
    after = client.get(f"{BASE}/households/{resident.person.household_id}")
    assert after.status_code == 404 or after.json()["members"] == []
    buildings = client.get(f"{BASE}/buildings").json()
    assert buildings["count"] == 1


def test_households_and_buildings_are_scoped_and_masked(client, users, city):
    as_user(client, users[Role.GRID_WORKER])
    households = client.get(f"{BASE}/households")
    assert {item["id"] for item in households.json()["items"]} == set(
        Household.objects.filter(grid=city.grids[0]).values_list("pk", flat=True))
    household = Household.objects.get(grid=city.grids[0])
    detail = client.get(f"{BASE}/households/{household.pk}")
    assert detail.json()["address"] == str(household.address)
    assert {m["id"] for m in detail.json()["members"]} == set(household.members.values_list("pk", flat=True))
    text = households.content.decode() + detail.content.decode()
    assert not any(value in text for value in all_plaintexts())
    other = Household.objects.get(grid=city.grids[1])
    assert client.get(f"{BASE}/households/{other.pk}").status_code == 404
    buildings = client.get(f"{BASE}/buildings").json()
    assert {item["code"] for item in buildings["items"]} == set(
        Building.objects.filter(grid=city.grids[0]).values_list("code", flat=True))
    assert buildings["items"][0]["household_count"] == 1
