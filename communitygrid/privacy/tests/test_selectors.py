import pytest

from communitygrid.accounts.models import Role
from communitygrid.privacy import services
from communitygrid.privacy.models import AccessLog
from communitygrid.privacy.selectors import access_log_queryset, own_record_access_queryset
from communitygrid.registry.models import Person
from communitygrid.testing import make_household, make_user

pytestmark = pytest.mark.usefixtures("scoped_registry")
PURPOSE = "入户走访核实联系方式"


@pytest.fixture
def log(users, city, people):
    """Reads: worker→resident's record, admin→outside person, street staff→a person in street 0's other grid."""
    inside, outside = people
    other_grid_person = Person.objects.filter(grid=city.grids[1]).first()
    entries = {
        "worker_inside": _reveal(users[Role.GRID_WORKER], inside),
        "admin_outside": _reveal(users[Role.ADMIN], outside),
        "street_other_grid": _reveal(users[Role.STREET_STAFF], other_grid_person),
    }
    outsider = make_user(Role.GRID_WORKER, scope=[city.grids[-1]])
    entries["outsider_outside"] = _reveal(outsider, outside)
    return entries


def _reveal(user, person):
    services.sensitive_reveal(actor=user, obj=person, fields=["phone"], purpose=PURPOSE)
    return AccessLog.objects.latest("id")


def visible(user, log):
    ids = set(access_log_queryset(user=user).values_list("id", flat=True))
    return {name for name, entry in log.items() if entry.id in ids}


def test_admin_sees_every_entry(users, log):
    assert visible(users[Role.ADMIN], log) == set(log)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # Reviewers see reads of records inside their area, whoever read them.
        (Role.COMMUNITY_STAFF, {"worker_inside", "street_other_grid"}),
        (Role.STREET_STAFF, {"worker_inside", "street_other_grid"}),
        # Grid workers and leaders see only what they did themselves.
        (Role.GRID_WORKER, {"worker_inside"}),
        (Role.GRID_LEADER, set()),
        (Role.LEADER, set()),
        (Role.DEPARTMENT_STAFF, set()),
        # The resident sees who read their own record.
        (Role.RESIDENT, {"worker_inside"}),
    ],
)
def test_each_role_sees_its_slice(users, log, role, expected):
    assert visible(users[role], log) == expected


def test_district_staff_see_reads_across_the_district(users, log):
    assert visible(users[Role.DISTRICT_STAFF], log) == set(log)


def test_resident_sees_reads_of_their_household_too(users, city):
    resident = users[Role.RESIDENT]
    services.sensitive_reveal(actor=users[Role.COMMUNITY_STAFF], obj=resident.person.household, fields=["address"],
                              purpose=PURPOSE)
    neighbour_household = make_household(city.grids[0])
    services.sensitive_reveal(actor=users[Role.COMMUNITY_STAFF], obj=neighbour_household, fields=["address"],
                              purpose=PURPOSE)
    mine = list(own_record_access_queryset(user=resident))
    assert [(e.subject_type, e.subject_id) for e in mine] == [("registry.household", resident.person.household_id)]


def test_a_user_without_a_record_has_no_reads_about_them(users, log):
    assert not own_record_access_queryset(user=users[Role.GRID_WORKER]).exists()


def test_inactive_and_anonymous_users_see_nothing(users, log):
    from django.contrib.auth.models import AnonymousUser

    admin = users[Role.ADMIN]
    admin.is_active = False
    assert not access_log_queryset(user=admin).exists()
    assert not access_log_queryset(user=AnonymousUser()).exists()
    assert not own_record_access_queryset(user=AnonymousUser()).exists()


def test_a_reviewer_keeps_seeing_reads_made_while_the_record_was_in_their_area(users, log, city):
    entry = log["worker_inside"]
    Person.objects.filter(pk=entry.subject_id).update(grid=city.grids[-1])
    assert "worker_inside" in visible(users[Role.COMMUNITY_STAFF], log)
