import numpy as np
import pytest
from django.core.exceptions import PermissionDenied

from communitygrid.accounts.models import Role
from communitygrid.geo.models import GridKind, Level, Node, NodeStatus
from communitygrid.geo.selectors import (
    coverage_report,
    locate,
    locate_path,
    locate_paths_many,
    nodes_list,
    overlays,
)
from communitygrid.geo.services import grid_redraw
from communitygrid.testing import make_household, make_node, make_user, square

pytestmark = pytest.mark.django_db


def test_locate_returns_the_deepest_grid(city):
    node = locate(lon=120.015, lat=30.005)
    assert node.code == "S0C0G1"
    assert [n.code for n in locate_path(lon=120.015, lat=30.005)] == ["C", "D", "S0", "S0C0", "S0C0G1"]


def test_locate_outside_every_grid_is_none(city):
    assert locate(lon=121.0, lat=30.005) is None
    assert locate_path(lon=121.0, lat=30.005) == []


def test_a_point_in_a_community_without_grids_gets_the_community(city):
    make_node(code="S0C9", name="新社区", level=Level.COMMUNITY, parent=city.streets[0], geometry=square(120.0, 30.04, 0.01))
    assert locate(lon=120.005, lat=30.045).code == "S0C9"


def test_specialised_grids_are_overlays_not_answers(city):
    make_node(code="SAFE", name="治安网格", level=Level.GRID, parent=city.communities[0], kind=GridKind.SAFETY,
              geometry=square(120.0, 30.0, 0.02))
    assert locate(lon=120.005, lat=30.005).code == "S0C0G0"
    assert [o.code for o in overlays(lon=120.005, lat=30.005)] == ["SAFE"]


def test_retired_nodes_are_not_located(city):
    grid_redraw(node=city.grids[0], geometry=square(120.0, 30.0, 0.005))
    assert locate(lon=120.008, lat=30.015).code == "S0C0"
    assert locate(lon=120.001, lat=30.001).code == "S0C0G0-r2"


def test_batch_paths_carry_every_level(city):
    paths = locate_paths_many(lons=np.array([120.005, 125.0, 120.035]), lats=np.array([30.005, 30.0, 30.035]))
    assert [[n.code for n in p] for p in paths] == [["C", "D", "S0", "S0C0", "S0C0G0"], [],
                                                     ["C", "D", "S1", "S1C1", "S1C1G1"]]


def test_nodes_list_by_parent_level_or_roots(city):
    assert [n.code for n in nodes_list(parent=city.communities[0])] == ["S0C0G0", "S0C0G1"]
    assert len(nodes_list(level=Level.GRID)) == 8
    assert [n.code for n in nodes_list()] == ["C"]
    Node.objects.filter(code="S0C0G1").update(status=NodeStatus.RETIRED)
    assert [n.code for n in nodes_list(parent=city.communities[0])] == ["S0C0G0"]
    assert len(nodes_list(parent=city.communities[0], include_retired=True)) == 2


# --- coverage -----------------------------------------------------------------------------------

@pytest.fixture
def small_norms(settings):
    settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX = 2, 3
    settings.WORKER_HOUSEHOLDS_NORM, settings.WORKER_HOUSEHOLDS_OVERLOAD = 2, 4


def test_a_tiled_community_has_no_gap_and_no_overlap(city):
    report = coverage_report(user=make_user(Role.ADMIN), parent=city.communities[0])
    assert report.gap is None and report.gap_area_m2 == 0 and report.overlaps == []
    assert [c.code for c in report.children] == ["S0C0G0", "S0C0G1"]
    assert report.area_m2 == pytest.approx(sum(c.area_m2 for c in report.children))


def test_gaps_and_overlaps_are_measured(city):
    community = make_node(code="CX", name="缺口社区", level=Level.COMMUNITY, parent=city.streets[0],
                          geometry=square(121.0, 30.0, 0.02))
    make_node(code="GX1", name="甲", level=Level.GRID, parent=community, kind=GridKind.COMPREHENSIVE,
              geometry={"type": "Polygon", "coordinates": [[[121.0, 30.0], [121.012, 30.0], [121.012, 30.02],
                                                            [121.0, 30.02], [121.0, 30.0]]]})
    make_node(code="GX2", name="乙", level=Level.GRID, parent=community, kind=GridKind.COMPREHENSIVE,
              geometry={"type": "Polygon", "coordinates": [[[121.01, 30.0], [121.02, 30.0], [121.02, 30.01],
                                                            [121.01, 30.01], [121.01, 30.0]]]})
    report = coverage_report(user=make_user(Role.ADMIN), parent=community)
    # Gap: the north-east quarter minus the 0.002° strip GX1 reaches into it.
    whole = report.area_m2
    assert report.gap_area_m2 == pytest.approx(whole * (0.008 * 0.01) / (0.02 * 0.02), rel=1e-3)
    assert report.gap["type"] == "Polygon"
    [overlap] = report.overlaps
    assert (overlap.first, overlap.second) == ("GX1", "GX2")
    assert overlap.area_m2 == pytest.approx(whole * (0.002 * 0.01) / (0.02 * 0.02), rel=1e-3)


def test_households_and_workers_against_the_norms(city, small_norms):
    first, second = city.grids[0], city.grids[1]
    for _ in range(5):
        make_household(first)
    for _ in range(2):
        make_household(second)
    make_node(code="MG", name="微网格", level=Level.MICROGRID, parent=first, kind=GridKind.MICRO,
              geometry=square(120.0, 30.0, 0.005))
    make_household(Node.objects.get(code="MG"))  # counted for the grid above it
    make_user(Role.GRID_WORKER, scope=[first])
    make_user(Role.GRID_WORKER, scope=[second])
    make_user(Role.COMMUNITY_STAFF, scope=[second])  # not a grid worker
    report = coverage_report(user=make_user(Role.COMMUNITY_STAFF, scope=[city.communities[0]]), parent=city.communities[0])
    by_code = {c.code: c for c in report.children}
    assert (by_code["S0C0G0"].households, by_code["S0C0G0"].household_status) == (6, "above")
    assert (by_code["S0C0G0"].workers, by_code["S0C0G0"].worker_status) == (1, "overload")
    assert (by_code["S0C0G1"].households, by_code["S0C0G1"].household_status) == (2, "within")
    assert by_code["S0C0G1"].households_per_worker == 2 and by_code["S0C0G1"].worker_status == "within"
    assert report.norms["grid_households_min"] == 2


def test_grid_without_worker_is_flagged(city, small_norms):
    make_household(city.grids[2])
    report = coverage_report(user=make_user(Role.ADMIN), parent=city.communities[1])
    by_code = {c.code: c for c in report.children}
    assert (by_code["S0C1G0"].household_status, by_code["S0C1G0"].worker_status) == ("below", "no_worker")
    assert by_code["S0C1G1"].worker_status is None


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.LEADER, Role.RESIDENT, Role.DEPARTMENT_STAFF])
def test_coverage_outside_the_users_scope_is_refused(city, role):
    user = make_user(role, scope=[city.grids[0]])
    with pytest.raises(PermissionDenied):
        coverage_report(user=user, parent=city.communities[0])


def test_coverage_inside_the_users_scope_is_given(city):
    street_staff = make_user(Role.STREET_STAFF, scope=[city.streets[0]])
    assert coverage_report(user=street_staff, parent=city.communities[1]).code == "S0C1"
    with pytest.raises(PermissionDenied):
        coverage_report(user=street_staff, parent=city.communities[2])


def test_leader_sees_coverage_figures_of_the_area_they_oversee(city):
    leader = make_user(Role.LEADER, scope=[city.district])
    assert coverage_report(user=leader, parent=city.communities[3]).code == "S1C1"
    outsider = make_user(Role.LEADER, scope=[city.streets[0]])
    with pytest.raises(PermissionDenied):
        coverage_report(user=outsider, parent=city.communities[3])
