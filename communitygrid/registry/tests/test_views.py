from html.parser import HTMLParser

import pytest
from django.urls import resolve, reverse

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
    assert client.get(reverse("registry:person_list"))["Location"] == reverse("registry:person_detail", args=[own.pk])
    household_page = client.get(reverse("registry:household_detail", args=[own.household_id]))
    assert household_page.status_code == 200
    # A fellow member is listed by masked name only.
    assert neighbour.name not in household_page.content.decode() and str(neighbour) in household_page.content.decode()
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


# ---------------------------------------------------------------- the resident view

STAFF_PAGES = {"registry:person_list", "registry:building_list", "registry:building_detail"}


def _links(response) -> list[str]:
    """Every local link (``href`` of an ``a``) on a page, in order."""
    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href and href.startswith("/"):
                found.append(href)

    Links().feed(response.content.decode())
    return found


def _walk(client, start: str, *, depth: int = 2) -> dict[str, tuple[str, int]]:
    """Follow every local link from ``start`` (and from the registry pages it reaches, ``depth``
    levels deep): {href: (the page it was found on, the status it answers)}."""
    seen, frontier = {}, [start]
    for _level in range(depth):
        following = []
        for page in frontier:
            response = client.get(page)
            assert response.status_code == 200, page
            for href in _links(response):
                if href in seen:
                    continue
                answer = client.get(href)
                seen[href] = (page, answer.status_code)
                if answer.status_code == 200 and resolve(href.split("?")[0]).namespace == "registry":
                    following.append(href)
        frontier = following
    return seen


def test_every_link_a_resident_sees_on_their_record_answers_and_none_leads_to_staff_pages(client, users):
    resident = users[Role.RESIDENT]
    signed_in(client, resident)
    walked = _walk(client, reverse("registry:person_detail", args=[resident.person_id]))
    household = reverse("registry:household_detail", args=[resident.person.household_id])
    assert household in walked  # the resident reaches their own household from their record
    for href, (page, status) in walked.items():
        assert status not in (403, 404), f"{href} (on {page}) answers {status}"
        assert resolve(href.split("?")[0]).view_name not in STAFF_PAGES, f"{page} links to the staff page {href}"
    # Nor can the staff pages be reached by typing their address: the resident is sent to their record.
    building = resident.person.household.room.unit.building
    for url in (reverse("registry:person_list"), reverse("registry:building_list"),
                reverse("registry:building_detail", args=[building.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse(
            "registry:person_detail", args=[resident.person_id]), url


def test_the_resident_view_keeps_values_masked_and_hides_who_verified(client, users):
    resident = users[Role.RESIDENT]
    own = resident.person
    worker = users[Role.GRID_WORKER]
    Person.objects.filter(pk=own.pk).update(last_verified_by=worker, last_verified_at="2026-01-05T09:00:00+08:00")
    signed_in(client, resident)
    content = client.get(reverse("registry:person_detail", args=[own.pk])).content.decode()
    assert own.id_number.reveal() not in content and own.phone.reveal() not in content
    assert str(own.id_number) in content
    assert "2026-01-05" in content and str(worker) not in content
    household = client.get(reverse("registry:household_detail", args=[own.household_id])).content.decode()
    assert own.household.address.reveal() not in household


def _member_rows(response) -> list[list[str]]:
    """The text of each cell of each body row of the page's members table."""
    rows, state = [], {"in_body": False, "cell": None}

    class Rows(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "tbody":
                state["in_body"] = True
            elif tag == "tr" and state["in_body"]:
                rows.append([])
            elif tag in ("th", "td") and state["in_body"]:
                state["cell"] = []

        def handle_endtag(self, tag):
            if tag == "tbody":
                state["in_body"] = False
            elif tag in ("th", "td") and state["cell"] is not None:
                rows[-1].append(" ".join("".join(state["cell"]).split()))
                state["cell"] = None

        def handle_data(self, data):
            if state["cell"] is not None:
                state["cell"].append(data)

    Rows().feed(response.content.decode())
    return rows


def test_a_resident_sees_who_is_registered_in_their_household_masked_and_nothing_more(client, users):
    client.cookies["cg_language"] = "en"  # the assertions read the English page
    resident = users[Role.RESIDENT]
    own = resident.person
    lodger = Person.objects.create(household=own.household, grid=own.grid, name="王小明", gender="M",
                                   birth_date="1990-05-01", id_number="110101199005010011", phone="13912345678",
                                   household_role=Person.HouseholdRole.TENANT)
    others = list(Person.objects.filter(household=own.household).exclude(pk=own.pk))
    signed_in(client, resident)
    response = client.get(reverse("registry:own_household"), follow=True)
    assert response.redirect_chain == [(reverse("registry:household_detail", args=[own.household_id]), 302)]
    content = response.content.decode()
    assert "Relationship to the head of household" in content
    rows = _member_rows(response)
    assert len(rows) == 3 and rows[0] == [str(own) + " (you)", "Head of household"]
    assert ["王**", "Tenant / lodger"] in rows
    for other in others:
        assert [str(other), other.get_household_role_display()] in rows
        for private in (other.name, other.id_number.reveal(), str(other.id_number), other.phone.reveal(),
                        str(other.phone), other.birth_date.isoformat()):
            assert private not in content, private
        # Their record stays theirs: no link to it, and typing its address answers 404.
        assert reverse("registry:person_detail", args=[other.pk]) not in content
        assert client.get(reverse("registry:person_detail", args=[other.pk])).status_code == 404
    assert reverse("registry:person_detail", args=[own.pk]) in content
    # No protected field was read, so nothing is written to the access log (as on the masked staff pages).
    assert not AccessLog.objects.exists()
    assert lodger.pk  # (created above, listed masked)


def test_a_resident_never_sees_the_members_of_another_household(client, users, city):
    client.cookies["cg_language"] = "en"  # the assertions read the English page
    from communitygrid.testing import make_household

    resident = users[Role.RESIDENT]
    own = resident.person
    signed_in(client, resident)
    # A neighbouring household in the same grid and one in a grid far away, their names told apart
    # from the resident's household (居民…) even when masked (邻*…, 远*…).
    neighbours = make_household(city.grids[0], name_prefix="邻居")
    far = make_household(city.grids[7], name_prefix="远方")
    for other in (neighbours, far):
        for url in (reverse("registry:household_detail", args=[other.pk]),
                    reverse("registry:household_detail", args=[other.pk]) + f"?household={other.pk}"):
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("registry:household_reveal", args=[other.pk]),
                           {"fields": ["address"], "purpose": "查看邻居地址"}).status_code == 404
        for member in other.members.all():
            assert client.get(reverse("registry:person_detail", args=[member.pk])).status_code == 404
        own_page = client.get(reverse("registry:household_detail", args=[own.household_id])
                              + f"?household={other.pk}&pk={other.pk}").content.decode()
        assert not any(str(member) in own_page or member.name in own_page for member in other.members.all())
    # The household follows the resident's own row: moved next door, they see the new household
    # and no longer the old one.
    old_household = own.household
    Person.objects.filter(pk=own.pk).update(household=neighbours)
    rows = _member_rows(client.get(reverse("registry:own_household"), follow=True))
    expected = [str(member) for member in neighbours.members.exclude(pk=own.pk)] + [str(own) + " (you)"]
    assert sorted(cells[0] for cells in rows) == sorted(expected) and all(name.startswith("邻") for name in expected[:2])
    assert client.get(reverse("registry:household_detail", args=[old_household.pk])).status_code == 404


def test_a_resident_in_no_household_or_without_a_record_is_told_so(client, users, inside):
    client.cookies["cg_language"] = "en"  # the assertions read the English page
    from communitygrid.testing import make_user

    alone = Person.objects.create(grid=inside.grid, name="赵独", gender="M", birth_date="1980-01-01")
    resident = make_user(Role.RESIDENT, person=alone)
    signed_in(client, resident)
    record = client.get(reverse("registry:person_detail", args=[alone.pk])).content.decode()
    assert reverse("registry:own_household") in record  # the way to "My household" is there
    response = client.get(reverse("registry:own_household"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Your record is not linked to a household yet" in content and "grid worker" in content
    assert inside.household.code not in content and str(inside) not in content
    signed_in(client, make_user(Role.RESIDENT))
    response = client.get(reverse("registry:own_household"))
    assert response.status_code == 200
    assert "not yet matched to a record" in response.content.decode()


def test_a_resident_whose_record_was_closed_no_longer_reads_their_former_household(client, users):
    client.cookies["cg_language"] = "en"
    resident = users[Role.RESIDENT]
    fellow = Person.objects.filter(household=resident.person.household).exclude(pk=resident.person_id).first()
    signed_in(client, resident)
    assert str(fellow) in client.get(reverse("registry:own_household"), follow=True).content.decode()
    Person.objects.filter(pk=resident.person_id).update(is_active=False)  # moved out
    content = client.get(reverse("registry:own_household"), follow=True).content.decode()
    assert "Your record is not linked to a household yet" in content and str(fellow) not in content


def test_staff_keep_the_full_members_table_and_no_my_household_page(client, users, inside):
    client.cookies["cg_language"] = "en"  # the assertions read the English page
    staff = users[Role.COMMUNITY_STAFF]
    # Staff linked to a record of their own (the resident's fellow member) keep the staff view.
    staff.person = inside.household.members.exclude(pk=users[Role.RESIDENT].person_id).first()
    staff.save(update_fields=["person"])
    signed_in(client, staff)
    assert client.get(reverse("registry:own_household"))["Location"] == reverse("registry:index")
    response = client.get(reverse("registry:household_detail", args=[inside.household_id]))
    content = response.content.decode()
    assert "Relationship to the head of household" not in content and "(you)" not in content
    rows = _member_rows(response)
    members = list(inside.household.members.order_by("id"))
    assert rows == [[m.name, m.get_household_role_display(), m.birth_date.isoformat(), str(m.id_number)]
                    for m in members]
    assert all(reverse("registry:person_detail", args=[m.pk]) in content for m in members)


def test_staff_still_see_their_registry_links(client, users, inside):
    signed_in(client, users[Role.GRID_WORKER])
    walked = _walk(client, reverse("registry:person_detail", args=[inside.pk]))
    names = {resolve(href.split("?")[0]).view_name for href in walked}
    assert {"registry:person_list", "registry:building_list", "registry:household_detail",
            "registry:building_detail"} <= names
    assert all(status == 200 for _page, status in walked.values()), walked


def test_the_resident_household_page_reads_in_chinese(client, users):
    resident = users[Role.RESIDENT]
    signed_in(client, resident)
    client.cookies["cg_language"] = "zh-hans"
    content = client.get(reverse("registry:own_household"), follow=True).content.decode()
    for text in ("本户登记的成员", "与户主关系", "（本人）", "户主", "配偶", "姓名"):
        assert text in content, text
