import pytest
from django.urls import reverse

from communitygrid.accounts.models import Role
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Building, Household, Person


@pytest.fixture
def inside(city, users):
    return Person.objects.filter(grid=city.grids[0]).order_by("id").first()


@pytest.fixture
def outside(city, users):
    return Person.objects.filter(grid=city.grids[7]).order_by("id").first()


def signed_in(client, user):
    client.force_login(user)
    return client


def test_pages_need_sign_in(client, inside):
    for url in (reverse("registry:person_list"), reverse("registry:person_detail", args=[inside.pk]),
                reverse("registry:building_list")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEPARTMENT_STAFF])
def test_roles_without_people_access_get_403_everywhere(client, users, inside, role):
    signed_in(client, users[role])
    household = inside.household
    building = household.room.unit.building
    for url in (reverse("registry:index"), reverse("registry:person_list"),
                reverse("registry:person_detail", args=[inside.pk]),
                reverse("registry:household_detail", args=[household.pk]),
                reverse("registry:building_list"), reverse("registry:building_detail", args=[building.pk])):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("registry:person_reveal", args=[inside.pk]),
                           {"fields": ["phone"], "purpose": "入户走访核实"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_a_grid_worker_lists_only_their_grid_with_values_masked(client, users, inside, outside, city):
    signed_in(client, users[Role.GRID_WORKER])
    response = client.get(reverse("registry:person_list"))
    assert response.status_code == 200
    content = response.content.decode()
    for person in Person.objects.filter(grid=city.grids[0]):
        assert person.name in content
        assert str(person.id_number) in content
        assert person.id_number.reveal() not in content and person.phone.reveal() not in content
    assert outside.name not in content
    assert "<caption>" in content and 'scope="col"' in content


def test_list_filters_by_name_grid_and_care_group(client, users, city):
    signed_in(client, users[Role.DISTRICT_STAFF])
    target = Person.objects.filter(grid=city.grids[5]).first()
    response = client.get(reverse("registry:person_list"), {"grid": city.grids[5].code})
    assert set(response.context["page"].object_list) == set(Person.objects.filter(grid=city.grids[5]))
    response = client.get(reverse("registry:person_list"), {"name": target.name})
    assert list(response.context["page"].object_list) == [target]


def test_exact_search_by_id_number_is_logged_and_a_malformed_one_is_a_400(client, users, inside):
    worker = users[Role.GRID_WORKER]
    signed_in(client, worker)
    response = client.get(reverse("registry:person_list"), {"id_number": inside.id_number.reveal()})
    assert list(response.context["page"].object_list) == [inside]
    assert AccessLog.objects.get(actor=worker).action == "search"
    response = client.get(reverse("registry:person_list"), {"id_number": "110105"})
    assert response.status_code == 400
    assert "18" in response.content.decode()


def test_a_record_outside_scope_is_404_not_403(client, users, outside):
    signed_in(client, users[Role.GRID_WORKER])
    assert client.get(reverse("registry:person_detail", args=[outside.pk])).status_code == 404
    assert client.get(reverse("registry:household_detail", args=[outside.household_id])).status_code == 404
    response = client.post(reverse("registry:person_reveal", args=[outside.pk]),
                           {"fields": ["phone"], "purpose": "入户走访核实"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_person_detail_shows_every_protected_value_masked(client, users, inside):
    signed_in(client, users[Role.GRID_WORKER])
    response = client.get(reverse("registry:person_detail", args=[inside.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert str(inside.id_number) in content and str(inside.phone) in content
    assert inside.id_number.reveal() not in content and inside.phone.reveal() not in content
    assert 'name="purpose"' in content and "<label" in content


def test_protected_field_names_start_with_a_capital_in_english(client, users, inside):
    """Found walking the demo: "phone", "health notes" in lower case beside "ID number"."""
    client.cookies["cg_language"] = "en"
    content = signed_in(client, users[Role.GRID_WORKER]).get(reverse("registry:person_detail", args=[inside.pk])).content.decode()
    for label in ("Phone", "Registered residence (hukou)", "Health notes", "Emergency contact phone"):
        assert f"<dt>{label}</dt>" in content
        assert f"\n {label}</label>" in content  # the check box of the reveal form
    assert "<dt>phone</dt>" not in content


def test_reveal_with_a_purpose_shows_the_values_once_and_logs_it(client, users, inside):
    worker = users[Role.GRID_WORKER]
    signed_in(client, worker)
    url = reverse("registry:person_reveal", args=[inside.pk])
    response = client.post(url, {"fields": ["id_number", "phone"], "purpose": "入户走访核实身份"})
    assert response.status_code == 200
    content = response.content.decode()
    assert inside.id_number.reveal() in content and inside.phone.reveal() in content
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get(actor=worker)
    assert (log.action, log.subject_id, log.fields, log.purpose) == ("reveal", inside.pk, ["id_number", "phone"],
                                                                     "入户走访核实身份")
    session = client.session
    assert all(inside.phone.reveal() not in str(value) for value in session.values())
    again = client.get(reverse("registry:person_detail", args=[inside.pk])).content.decode()
    assert inside.phone.reveal() not in again


@pytest.mark.parametrize("data", [{"fields": ["phone"], "purpose": ""}, {"fields": ["phone"], "purpose": "  "},
                                  {"fields": [], "purpose": "入户走访核实身份"},
                                  {"fields": ["name"], "purpose": "入户走访核实身份"}])
def test_reveal_without_a_purpose_or_fields_is_a_400_and_reveals_nothing(client, users, inside, data):
    signed_in(client, users[Role.GRID_WORKER])
    response = client.post(reverse("registry:person_reveal", args=[inside.pk]), data)
    assert response.status_code == 400
    assert inside.phone.reveal() not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_reveal_only_by_post(client, users, inside):
    signed_in(client, users[Role.GRID_WORKER])
    assert client.get(reverse("registry:person_reveal", args=[inside.pk])).status_code == 405


def test_a_resident_sees_only_their_own_record(client, users, inside, city):
    resident = users[Role.RESIDENT]
    own = resident.person
    signed_in(client, resident)
    response = client.get(reverse("registry:index"))
    assert response["Location"] == reverse("registry:person_detail", args=[own.pk])
    assert client.get(reverse("registry:person_detail", args=[own.pk])).status_code == 200
    neighbour = Person.objects.filter(household=own.household).exclude(pk=own.pk).first()
    assert client.get(reverse("registry:person_detail", args=[neighbour.pk])).status_code == 404
    assert list(client.get(reverse("registry:person_list")).context["page"].object_list) == [own]
    household_page = client.get(reverse("registry:household_detail", args=[own.household_id]))
    assert household_page.status_code == 200
    assert neighbour.name not in household_page.content.decode()
    response = client.post(reverse("registry:person_reveal", args=[own.pk]),
                           {"fields": ["id_number"], "purpose": "查看本人身份证号"})
    assert own.id_number.reveal() in response.content.decode()
    assert client.post(reverse("registry:person_verify", args=[own.pk])).status_code == 403


def test_verify_records_freshness_for_those_who_may_change(client, users, inside):
    worker = users[Role.GRID_WORKER]
    signed_in(client, worker)
    response = client.post(reverse("registry:person_verify", args=[inside.pk]))
    assert response.status_code == 302
    inside.refresh_from_db()
    assert inside.last_verified_by == worker
    signed_in(client, users[Role.STREET_STAFF])
    assert client.post(reverse("registry:person_verify", args=[inside.pk])).status_code == 403


def test_household_page_lists_members_and_reveals_the_address(client, users, inside):
    staff = users[Role.COMMUNITY_STAFF]
    signed_in(client, staff)
    household = inside.household
    url = reverse("registry:household_detail", args=[household.pk])
    content = client.get(url).content.decode()
    assert all(member.name in content for member in household.members.all())
    assert household.address.reveal() not in content and str(household.address) in content
    response = client.post(reverse("registry:household_reveal", args=[household.pk]),
                           {"fields": ["address"], "purpose": "上门送达通知"})
    assert household.address.reveal() in response.content.decode()
    assert AccessLog.objects.get(actor=staff).subject_type == "registry.household"


def test_buildings_are_listed_within_scope_with_their_households(client, users, city):
    signed_in(client, users[Role.COMMUNITY_STAFF])
    response = client.get(reverse("registry:building_list"))
    listed = set(response.context["page"].object_list)
    assert listed == set(Building.objects.filter(grid__in=city.grids[:2]))
    assert all(building.household_count == 1 for building in listed)
    building = Building.objects.filter(grid=city.grids[0]).first()
    detail = client.get(reverse("registry:building_detail", args=[building.pk]))
    assert detail.status_code == 200
    assert Household.objects.get(room__unit__building=building).code in detail.content.decode()
    far = Building.objects.filter(grid=city.grids[7]).first()
    assert client.get(reverse("registry:building_detail", args=[far.pk])).status_code == 404


def test_pages_render_in_english_too(client, users, inside):
    signed_in(client, users[Role.GRID_WORKER])
    client.cookies["cg_language"] = "en"
    content = client.get(reverse("registry:person_detail", args=[inside.pk])).content.decode()
    assert "Protected data" in content
