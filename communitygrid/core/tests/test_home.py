"""Each role's home page: the right figures, inside the role's scope, nothing personal beyond it."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.core import selectors
from communitygrid.registry.models import CareTag, Household, Person, PersonCareTag
from communitygrid.testing import make_household, make_user


@pytest.fixture
def home(client):
    def get(user, language="zh-hans"):
        client.force_login(user)
        client.cookies["cg_language"] = language
        response = client.get(reverse("core:home"))
        assert response.status_code == 200
        return response.content.decode()
    return get


def tag(person, code):
    care, _ = CareTag.objects.get_or_create(code=code, defaults={"name": code, "name_en": code})
    PersonCareTag.objects.create(person=person, tag=care)
    return care


def test_a_grid_worker_sees_their_grid_and_no_other(home, city, users):
    page = home(users[Role.GRID_WORKER])
    assert city.grids[0].name in page
    assert city.grids[1].name not in page
    assert "居民" not in page  # no resident's name on a page of figures


def test_a_grid_worker_counts_care_groups_and_stale_records_of_their_grid_only(home, city, users):
    inside = Person.objects.filter(grid=city.grids[0]).first()
    outside = Person.objects.filter(grid=city.grids[1]).first()
    care = tag(inside, "elderly_alone")
    tag(outside, "elderly_alone")
    Household.objects.filter(grid=city.grids[0]).update(last_verified_at=timezone.now() - dt.timedelta(days=30))
    overview = selectors.area_overview(user=users[Role.GRID_WORKER])
    assert overview.care == [(care, 1)]
    assert overview.total.households == 1 and overview.total.persons == 2
    assert overview.stale_households == 0 and overview.stale_persons == 2
    page = home(users[Role.GRID_WORKER], "en")
    assert "2 persons have not been verified in the last 12 months." in page


def test_community_staff_see_each_grid_flagged_against_the_300_to_500_norm(home, city, users):
    for _ in range(2):
        make_household(city.grids[1])
    overview = selectors.area_overview(user=users[Role.COMMUNITY_STAFF])
    assert [row.node for row in overview.rows] == city.grids[:2]
    assert [(row.households, row.persons, row.workers) for row in overview.rows] == [(1, 2, 1), (3, 6, 0)]
    assert all(row.under_norm for row in overview.rows)
    page = home(users[Role.COMMUNITY_STAFF], "en")
    assert page.count("under 300") == 2


def test_district_staff_see_streets_with_their_grids_outside_the_norm(home, city, users):
    overview = selectors.area_overview(user=users[Role.DISTRICT_STAFF])
    assert [row.node for row in overview.rows] == city.streets
    assert [(row.grids, row.grids_under, row.grids_over) for row in overview.rows] == [(4, 4, 0), (4, 4, 0)]
    assert overview.total.households == 8 and overview.total.workers == 1
    page = home(users[Role.DISTRICT_STAFF], "en")
    assert "4 of 4 grids outside" in page


def test_a_grid_leader_s_many_grids_are_named_by_their_community(home, city, users):
    from communitygrid.testing import make_node, square

    extra = make_node(code="S0C0G9", name="网格009", level="grid", parent=city.communities[0],
                      geometry=square(120.0, 30.0, 0.001), kind="comprehensive")
    leader = make_user(Role.GRID_LEADER, scope=[*city.grids[:2], extra])
    assert selectors.area_overview(user=leader).scope_parent == city.communities[0]
    assert f"{city.communities[0].name}, 3 grids" in home(leader, "en")
    assert selectors.area_overview(user=users[Role.GRID_LEADER]).scope_parent is None


def test_ages_are_counted_on_the_day(city, users):
    person = Person.objects.filter(grid=city.grids[0]).first()
    today = dt.date(2030, 6, 1)
    Person.objects.filter(grid__path__startswith=city.district.path).update(birth_date=dt.date(1990, 1, 1))
    Person.objects.filter(pk=person.pk).update(birth_date=dt.date(1970, 6, 1))  # 60 that very day
    overview = selectors.area_overview(user=users[Role.DISTRICT_STAFF], today=today)
    assert (overview.aged_60, overview.aged_65) == (1, 0)
    assert overview.percent_60 == pytest.approx(100 / 16)


def test_a_leader_sees_district_figures_and_no_link_to_people(home, city, users):
    overview = selectors.area_overview(user=users[Role.LEADER])
    assert overview.total.households == 8 and overview.total.persons == 16
    page = home(users[Role.LEADER], "en")
    assert "Figures only" in page
    assert "居民" not in page and "/registry/" not in page


def test_the_leader_s_figures_stop_at_their_scope(city, users):
    leader = make_user(Role.LEADER, scope=[city.streets[1]])
    overview = selectors.area_overview(user=leader)
    assert overview.total.households == 4
    assert [row.node for row in overview.rows] == city.communities[2:]


def test_a_resident_sees_their_own_record_masked(home, city, users):
    resident = users[Role.RESIDENT]
    person = resident.person
    page = home(resident, "en")
    assert person.id_number.reveal() not in page
    assert str(person.id_number) in page  # the masked form
    assert person.phone.reveal() not in page
    assert person.household.code in page
    assert "2 people" in page
    others = Person.objects.exclude(pk=person.pk).values_list("name", flat=True)
    assert not any(name in page for name in others)


def test_a_resident_without_a_record_is_told_how_to_get_one(home, city):
    page = home(make_user(Role.RESIDENT), "en")
    assert "not yet matched to a record" in page


def test_department_staff_are_led_to_their_departments_cases(home, users):
    page = home(users[Role.DEPARTMENT_STAFF], "en")
    assert "民政局" in page
    assert "Your department has 0 open cases" in page and 'href="/workbench/"' in page
    assert "居民" not in page


def test_the_administrator_gets_the_system_overview_and_the_back_office_link(home, users):
    page = home(users[Role.ADMIN], "en")
    assert "System overview" in page
    assert reverse("admin:index") in page
    overview = selectors.system_overview(user=users[Role.ADMIN])
    assert (overview.households, overview.persons) == (8, 16)
    assert selectors.system_overview(user=users[Role.DISTRICT_STAFF]) is None


def test_the_district_page_takes_a_bounded_number_of_queries(client, users, django_assert_max_num_queries):
    client.force_login(users[Role.DISTRICT_STAFF])
    with django_assert_max_num_queries(20):
        assert client.get(reverse("core:home")).status_code == 200


@pytest.mark.parametrize("role", [r for r in Role.values])
def test_every_role_s_home_page_renders_in_both_languages(home, users, role):
    assert 'lang="zh-Hans"' in home(users[role], "zh-hans")
    assert 'lang="en"' in home(users[role], "en")
