import datetime as dt

import pytest
from django.urls import reverse

from communitygrid.accounts.models import Role
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Building, CareTag, Household, Person
from communitygrid.testing import id_number_for


@pytest.fixture
def staff_client(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    return client


def change_url(obj):
    return reverse(f"admin:registry_{obj._meta.model_name}_change", args=[obj.pk])


def test_community_staff_see_only_their_community(staff_client, city):
    response = staff_client.get(reverse("admin:registry_person_changelist"))
    assert response.status_code == 200
    shown = set(response.context["cl"].queryset)
    assert shown == set(Person.objects.filter(grid__in=city.grids[:2]))
    far = Person.objects.filter(grid=city.grids[7]).first()
    response = staff_client.get(change_url(far))
    assert response.status_code == 302  # Django admin's "does not exist" redirect, nothing shown
    buildings = staff_client.get(reverse("admin:registry_building_changelist")).context["cl"].queryset
    assert set(buildings) == set(Building.objects.filter(grid__in=city.grids[:2]))


def test_lists_and_forms_never_show_plaintext(staff_client, city):
    person = Person.objects.filter(grid=city.grids[0]).first()
    listing = staff_client.get(reverse("admin:registry_person_changelist")).content.decode()
    assert str(person.id_number) in listing
    form = staff_client.get(change_url(person)).content.decode()
    for value in (person.id_number.reveal(), person.phone.reveal()):
        assert value not in listing and value not in form
    assert str(person.phone) in form  # the masked value, as a hint
    household = person.household
    page = staff_client.get(change_url(household)).content.decode()
    assert household.address.reveal() not in page


def person_form_data(person, **changes):
    data = {
        "name": person.name, "household": person.household_id, "household_role": person.household_role,
        "gender": person.gender, "birth_date": person.birth_date.isoformat(), "id_number": "", "phone": "",
        "residence": person.residence, "registered_address": "", "employment": person.employment,
        "employer": person.employer, "emergency_contact_name": "", "emergency_contact_phone": "",
        "health_notes": "", "is_active": "on",
        "tag_links-TOTAL_FORMS": "0", "tag_links-INITIAL_FORMS": "0", "tag_links-MIN_NUM_FORMS": "0",
        "tag_links-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_saving_with_empty_protected_fields_keeps_them_and_a_new_value_replaces(staff_client, city):
    person = Person.objects.filter(grid=city.grids[0]).first()
    phone, number = person.phone.reveal(), person.id_number.reveal()
    response = staff_client.post(change_url(person), person_form_data(person, employer="社区医院"))
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert (person.employer, person.phone.reveal(), person.id_number.reveal()) == ("社区医院", phone, number)
    response = staff_client.post(change_url(person), person_form_data(person, phone="+86 137 0000 0000"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone.reveal() == "13700000000"


def test_bad_values_are_shown_on_the_form_not_saved(staff_client, city):
    person = Person.objects.filter(grid=city.grids[0]).first()
    response = staff_client.post(change_url(person), person_form_data(person, phone="123", id_number="110105"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "phone" in errors and "id_number" in errors


def test_a_person_can_be_added_to_a_household_in_scope(staff_client, city):
    household = Household.objects.get(grid=city.grids[1])
    number = id_number_for(dt.date(2001, 2, 3), 77)
    data = person_form_data(Person(household=household, name="新居民", household_role="child", residence="local",
                                   employment="", employer="", gender="", birth_date=dt.date(2001, 2, 3)),
                            id_number=number, gender="", birth_date="")
    response = staff_client.post(reverse("admin:registry_person_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Person.objects.get(name="新居民")
    assert (person.household, person.grid, person.birth_date) == (household, city.grids[1], dt.date(2001, 2, 3))


def test_people_are_never_deleted_in_bulk_and_staff_delete_nothing(client, users, city):
    client.force_login(users[Role.ADMIN])
    person = Person.objects.filter(grid=city.grids[0]).first()
    # Even a system administrator, who may delete a single record, gets no bulk delete.
    assert client.get(reverse("admin:registry_person_delete", args=[person.pk])).status_code == 200
    for name in ("person", "household"):
        page = client.get(reverse(f"admin:registry_{name}_changelist")).content.decode()
        assert "delete_selected" not in page
    client.force_login(users[Role.COMMUNITY_STAFF])
    assert client.get(reverse("admin:registry_person_delete", args=[person.pk])).status_code == 403


def test_search_by_a_whole_id_number_uses_the_blind_index_and_is_logged(staff_client, users, city):
    person = Person.objects.filter(grid=city.grids[1]).first()
    response = staff_client.get(reverse("admin:registry_person_changelist"), {"q": person.id_number.reveal()})
    assert list(response.context["cl"].queryset) == [person]
    assert AccessLog.objects.get(actor=users[Role.COMMUNITY_STAFF]).action == "search"


def test_street_staff_may_view_but_not_change(client, users, city):
    client.force_login(users[Role.STREET_STAFF])
    person = Person.objects.filter(grid=city.grids[2]).first()
    response = client.get(change_url(person))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert client.post(change_url(person), person_form_data(person, employer="x")).status_code == 403


def test_care_groups_are_read_by_staff_and_edited_by_administrators(client, users):
    tag = CareTag.objects.get(code="elderly_alone")
    client.force_login(users[Role.COMMUNITY_STAFF])
    assert client.get(change_url(tag)).status_code == 200
    assert client.get(reverse("admin:registry_caretag_add")).status_code == 403
    client.force_login(users[Role.ADMIN])
    response = client.post(reverse("admin:registry_caretag_add"), {
        "code": "hearing_impaired", "name": "听障人士", "name_en": "Hearing impaired", "levels": "[]", "sort": 200})
    assert response.status_code == 302
    assert CareTag.objects.filter(code="hearing_impaired").exists()
