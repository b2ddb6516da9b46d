import pytest
from django.core.exceptions import ValidationError

from communitygrid.accounts.models import Role
from communitygrid.privacy import scoping
from communitygrid.privacy.models import AccessLog
from communitygrid.registry import selectors
from communitygrid.registry.models import Building, Household, Person

# Which grids (by index in city.grids) each role reaches for each action; "own" = the resident's
# own record only. The users fixture scopes everyone to the first grid/community/street.
ALL = set(range(8))
EXPECTED_GRIDS = {
    Role.GRID_WORKER: {"view": {0}, "change": {0}, "reveal": {0}},
    Role.GRID_LEADER: {"view": {0}, "change": {0}, "reveal": {0}},
    Role.COMMUNITY_STAFF: {"view": {0, 1}, "change": {0, 1}, "reveal": {0, 1}},
    Role.STREET_STAFF: {"view": {0, 1, 2, 3}, "change": set(), "reveal": {0, 1, 2, 3}},
    Role.DISTRICT_STAFF: {"view": ALL, "change": set(), "reveal": ALL},
    Role.ADMIN: {"view": ALL, "change": ALL, "reveal": ALL},
    Role.LEADER: {"view": set(), "change": set(), "reveal": set()},
    Role.DEPARTMENT_STAFF: {"view": set(), "change": set(), "reveal": set()},
}
MATRIX = [(role, action) for role in EXPECTED_GRIDS for action in ("view", "change", "reveal")]


def grid_indexes(city, queryset) -> set[int]:
    by_id = {grid.pk: index for index, grid in enumerate(city.grids)}
    return {by_id[grid_id] for grid_id in queryset.values_list("grid_id", flat=True)}


@pytest.mark.parametrize(("role", "action"), MATRIX)
def test_staff_reach_exactly_the_people_households_and_buildings_of_their_area(city, users, role, action):
    user = users[role]
    expected = EXPECTED_GRIDS[role][action]
    persons = selectors.person_queryset(user=user, action=action)
    households = selectors.household_queryset(user=user, action=action)
    buildings = selectors.building_queryset(user=user, action=action)
    assert grid_indexes(city, persons) == expected
    assert grid_indexes(city, households) == expected
    assert grid_indexes(city, buildings) == expected
    assert persons.count() == Person.objects.filter(grid__in=[city.grids[i] for i in expected]).count()


@pytest.mark.parametrize("action", ["view", "reveal"])
def test_a_resident_reaches_only_their_own_person_household_and_building(users, action):
    resident = users[Role.RESIDENT]
    own = resident.person
    assert list(selectors.person_queryset(user=resident, action=action)) == [own]
    assert list(selectors.household_queryset(user=resident, action=action)) == [own.household]
    assert list(selectors.building_queryset(user=resident, action=action)) == [own.household.room.unit.building]


def test_a_resident_changes_nothing_and_a_resident_without_a_record_sees_nothing(users):
    from communitygrid.testing import make_user

    resident = users[Role.RESIDENT]
    assert not selectors.person_queryset(user=resident, action="change").exists()
    assert not selectors.household_queryset(user=resident, action="change").exists()
    stranger = make_user(Role.RESIDENT)
    for queryset in (selectors.person_queryset, selectors.household_queryset, selectors.building_queryset):
        assert not queryset(user=stranger, action="view").exists()


def test_a_resident_reads_the_members_of_their_own_household_by_name_and_relationship_only(users, city):
    from communitygrid.testing import make_household

    resident = users[Role.RESIDENT]
    own = resident.person
    lodger = Person.objects.create(household=own.household, grid=own.grid, name="王小明", gender="M",
                                   birth_date="1990-05-01", household_role=Person.HouseholdRole.TENANT)
    moved_out = Person.objects.create(household=own.household, grid=own.grid, name="李旧", gender="F",
                                      birth_date="1950-02-01", household_role=Person.HouseholdRole.PARENT,
                                      is_active=False)
    Person.objects.filter(pk=own.pk).update(household_role=Person.HouseholdRole.CHILD)
    head = Person.objects.filter(household=own.household).exclude(pk__in=[own.pk, lodger.pk, moved_out.pk]).get()
    Person.objects.filter(pk=head.pk).update(household_role=Person.HouseholdRole.HEAD)
    members = list(selectors.own_household_members(user=resident))
    assert members == [head, own, lodger]  # the head first, then by relationship; no one who moved out
    assert [str(member) for member in members] == [str(head), str(own), "王**"]  # masked, as in every list
    # Nothing but the name and relationship leaves the database.
    assert all(member.get_deferred_fields() >= {"id_number", "phone", "birth_date", "gender", "health_notes",
                                                "registered_address", "emergency_contact_phone"}
               for member in members)
    # Asking for another household, or being a resident of none, gives nobody.
    other = make_household(city.grids[0])
    assert not selectors.own_household_members(user=resident, household=other).exists()
    assert list(selectors.own_household_members(user=resident, household=own.household)) == [head, own, lodger]
    assert selectors.own_household_get(user=resident) == own.household
    homeless = make_user_for(Person.objects.create(grid=own.grid, name="赵独", gender="M", birth_date="1980-01-01"))
    assert selectors.own_household_get(user=homeless) is None
    assert not selectors.own_household_members(user=homeless).exists()
    assert not selectors.own_household_members(user=make_user_for(None)).exists()
    # The fellow members' own records stay closed: the rule for persons is unchanged.
    assert list(selectors.person_queryset(user=resident, action="view")) == [own]


def test_own_household_members_follows_the_household_scope_for_staff_too(users, city):
    from django.contrib.auth.models import AnonymousUser

    # A staff account linked to a person reaches its own household only where it may see households.
    inside = Person.objects.filter(grid=city.grids[0]).order_by("id").last()
    outside = Person.objects.filter(grid=city.grids[7]).order_by("id").first()
    for person, expected in ((inside, True), (outside, False)):
        worker = users[Role.GRID_WORKER]
        worker.person = person
        assert selectors.own_household_members(user=worker).exists() is expected
    assert not selectors.own_household_members(user=users[Role.LEADER]).exists()
    assert not selectors.own_household_members(user=AnonymousUser()).exists()


def make_user_for(person):
    from communitygrid.testing import make_user

    return make_user(Role.RESIDENT, person=person)


def test_anonymous_and_inactive_users_reach_nothing(users):
    from django.contrib.auth.models import AnonymousUser

    worker = users[Role.GRID_WORKER]
    worker.is_active = False
    assert not selectors.person_queryset(user=worker, action="view").exists()
    assert not selectors.person_queryset(user=AnonymousUser(), action="view").exists()


def test_privacy_scoping_uses_the_registered_selectors(users, city):
    worker = users[Role.GRID_WORKER]
    inside = Person.objects.filter(grid=city.grids[0]).first()
    outside = Person.objects.filter(grid=city.grids[1]).first()
    assert scoping.in_scope(inside, worker, "reveal")
    assert not scoping.in_scope(outside, worker, "reveal")
    assert scoping.in_scope(inside.household, worker, "view")
    assert not scoping.in_scope(Household.objects.get(grid=city.grids[1]), worker, "view")
    assert scoping.in_scope(Building.objects.filter(grid=city.grids[0]).first(), worker, "view")


def test_exact_search_by_id_number_finds_within_scope_and_is_logged(users, city):
    worker = users[Role.GRID_WORKER]
    inside = Person.objects.filter(grid=city.grids[0]).first()
    outside = Person.objects.filter(grid=city.grids[1]).first()
    number = inside.id_number.reveal()
    assert selectors.person_find_by_id_number(user=worker, id_number=number.lower(), ip_address="10.0.0.1") == inside
    assert selectors.person_find_by_id_number(user=worker, id_number=outside.id_number.reveal()) is None
    logs = list(AccessLog.objects.filter(actor=worker).order_by("id"))
    assert [(log.action, log.fields, log.count, log.subject_id) for log in logs] == [
        ("search", ["id_number"], 1, inside.pk),
        ("search", ["id_number"], 0, None),
    ]
    assert logs[0].ip_address == "10.0.0.1"
    assert number not in logs[0].subject_label + logs[0].purpose


def test_search_by_a_malformed_id_number_says_why_and_logs_nothing(users):
    with pytest.raises(ValidationError):
        selectors.person_find_by_id_number(user=users[Role.GRID_WORKER], id_number="12345")
    assert not AccessLog.objects.exists()


def test_exact_search_by_phone_accepts_any_format_and_is_logged(users, city):
    worker = users[Role.COMMUNITY_STAFF]
    person = Person.objects.filter(grid=city.grids[1]).first()
    phone = person.phone.reveal()
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    assert selectors.person_find_by_phone(user=worker, phone=spaced) == [person]
    assert AccessLog.objects.get(actor=worker).fields == ["phone"]


def test_person_list_filters_by_name_grid_and_care_tag(users, city):
    from communitygrid.registry.models import CareTag, PersonCareTag

    staff = users[Role.DISTRICT_STAFF]
    target = Person.objects.filter(grid=city.grids[3]).first()
    PersonCareTag.objects.create(person=target, tag=CareTag.objects.get(code="elderly_alone"))
    assert selectors.person_list(user=staff, care_tag="elderly_alone").get() == target
    assert set(selectors.person_list(user=staff, grid_code=city.grids[3].code)) == set(
        Person.objects.filter(grid=city.grids[3])
    )
    assert selectors.person_list(user=staff, grid_code=city.communities[0].code).count() == 4
    assert not selectors.person_list(user=staff, grid_code="NO-SUCH-GRID").exists()
    assert selectors.person_list(user=staff, name=target.name).get() == target
    worker = users[Role.GRID_WORKER]
    assert not selectors.person_list(user=worker, care_tag="elderly_alone").exists()


def test_person_list_searches_exactly_by_id_number_or_phone_and_logs_each_search(users, city):
    staff = users[Role.COMMUNITY_STAFF]
    target = Person.objects.filter(grid=city.grids[1]).first()
    assert list(selectors.person_list(user=staff, id_number=target.id_number.reveal())) == [target]
    assert list(selectors.person_list(user=staff, phone=target.phone.reveal(), name=target.name[:2])) == [target]
    far = Person.objects.filter(grid=city.grids[5]).first()
    assert not selectors.person_list(user=staff, id_number=far.id_number.reveal()).exists()
    logs = list(AccessLog.objects.filter(actor=staff).order_by("id").values_list("fields", "count", "subject_id"))
    assert logs == [(["id_number"], 1, target.pk), (["phone"], 1, target.pk), (["id_number"], 0, None)]
    with pytest.raises(ValidationError):
        selectors.person_list(user=staff, phone="12")


def test_a_room_is_named_with_its_unit_and_room_words_in_each_language():
    from django.utils import translation

    from communitygrid.registry.models import Room, Unit

    room = Room(unit=Unit(building=Building(name="金都嘉园4幢"), number="1"), number="1303")
    assert str(room) == "金都嘉园4幢 · unit 1, room 1303"
    with translation.override("zh-hans"):
        assert str(room) == "金都嘉园4幢 · 1 单元 1303 室" and str(room.unit) == "金都嘉园4幢 · 1 单元"
