"""The demo builder on the test database (SQLite and PostgreSQL): what it writes is consistent."""
import pytest
from django.contrib.auth import authenticate
from shapely.geometry import Point, shape

from communitygrid.accounts.models import Role, User
from communitygrid.accounts.services import binding_errors
from communitygrid.core.demo.build import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_city_build, demo_city_exists
from communitygrid.geo.models import GridKind, Level, Node
from communitygrid.privacy import crypto
from communitygrid.registry.models import Building, Household, Person, PersonCareTag, Room

SCALE = 0.02


@pytest.fixture
def demo(db):
    assert not demo_city_exists()
    report = demo_city_build(scale=SCALE)
    assert demo_city_exists()
    return report


def test_the_hierarchy_is_written_with_paths_and_geometry(demo):
    counts = {level: Node.objects.filter(level=level).count() for level in Level.values}
    assert counts == {"city": 1, "district": 1, "street": 4, "community": 16, "grid": 126, "microgrid": 20}
    for node in Node.objects.exclude(level=Level.CITY).select_related("parent"):
        assert node.path == f"{node.parent.path}{node.pk}/"
        assert node.geometry["type"] == "Polygon" and node.min_lon < node.max_lon


def test_every_building_lies_inside_its_grid_and_every_record_in_its_building_s_grid(demo):
    grids = {node.pk: shape(node.geometry) for node in Node.objects.filter(kind=GridKind.COMPREHENSIVE)}
    buildings = list(Building.objects.all())
    assert buildings
    for building in buildings:
        assert grids[building.grid_id].contains(Point(building.lon, building.lat)), building.code
    for household in Household.objects.select_related("room__unit__building"):
        assert household.room.unit.building.grid_id == household.grid_id
    assert not Person.objects.exclude(grid_id__in=Household.objects.values("grid_id")).exists()
    # no two households in one flat
    assert Room.objects.filter(households__isnull=False).count() == Household.objects.count() == demo.households


def test_bulk_created_persons_are_encrypted_and_searchable_by_blind_index(demo):
    person = Person.objects.exclude(phone__isnull=True).first()
    plain = person.id_number.reveal()
    assert person.id_number_bidx == crypto.blind_index("id_number", plain)
    assert person.phone_bidx == crypto.blind_index("phone", person.phone.reveal())
    assert Person.objects.get(id_number_bidx=crypto.blind_index("id_number", plain)) == person
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_person WHERE id = %s", [person.pk])
        stored = cursor.fetchone()[0]
    assert plain not in stored and crypto.decrypt(stored) == plain
    assert Person.objects.count() == demo.persons
    assert PersonCareTag.objects.filter(tag__code="new_citizen").exists()


def test_one_grid_worker_per_comprehensive_grid_and_every_account_bound_by_the_rules(demo):
    grids = Node.objects.filter(kind=GridKind.COMPREHENSIVE)
    for grid in grids:
        assert User.objects.filter(role=Role.GRID_WORKER, scope_nodes=grid).count() == 1
    assert User.objects.filter(role=Role.GRID_LEADER).count() == 16
    for user in User.objects.prefetch_related("scope_nodes").select_related("department"):
        assert binding_errors(role=user.role, scope_nodes=list(user.scope_nodes.all()),
                              department=user.department) == {}, user.username
    assert User.objects.filter(role=Role.DEPARTMENT_STAFF).values("department__kind").distinct().count() == 7


def test_each_demo_account_signs_in_with_the_printed_password(demo):
    for account in DEMO_ACCOUNTS:
        user = authenticate(username=account.username, password=DEMO_PASSWORD)
        assert user is not None and user.role == account.role
    resident = User.objects.get(username="demo-resident")
    assert resident.person is not None and resident.person.grid.code.endswith("001001001")
    assert not User.objects.get(username="worker-339901001001002").has_usable_password()


def test_a_scale_outside_0_to_1_is_refused(db):
    with pytest.raises(ValueError, match="scale"):
        demo_city_build(scale=1.5)
    assert not Node.objects.exists()


def test_the_demo_has_a_year_of_case_history_in_its_own_grids(demo):
    from django.db.models import Min
    from django.utils import timezone

    from communitygrid.cases.models import Case, CaseEvent

    cases = Case.objects.all()
    assert cases.count() == demo.cases > 0
    # ~0.094 requests per resident per year, within Poisson noise at this small scale
    assert 0.05 * demo.persons < demo.cases < 0.15 * demo.persons
    assert (timezone.now() - cases.aggregate(first=Min("created_at"))["first"]).days >= 300
    assert not cases.exclude(grid__level=Level.GRID).exists()
    # every case has its record of events, starting with its submission
    assert CaseEvent.objects.filter(action="submit").count() == demo.cases
    # the demo department's account has a history to look back on: its categories were routed to it
    clerk = User.objects.get(username="demo-department")
    assert cases.filter(department=clerk.department, assignee=clerk, status="closed").exists()
