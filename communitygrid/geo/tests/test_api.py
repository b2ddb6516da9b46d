import pytest

from communitygrid.accounts.models import Role
from communitygrid.geo.geometry import wgs84_to_gcj02
from communitygrid.geo.models import GridKind, Level
from communitygrid.geo.services import grid_redraw
from communitygrid.testing import make_household, make_node, make_user, square

pytestmark = pytest.mark.django_db

API = "/api/v1/geo"


@pytest.fixture
def signed_in(client):
    def sign_in(role=Role.GRID_WORKER, scope=None):
        client.force_login(make_user(role, scope=scope))
        return client
    return sign_in


def test_anonymous_requests_are_refused(client, city):
    assert client.get(f"{API}/locate", {"lon": 120.005, "lat": 30.005}).status_code == 401
    assert client.get(f"{API}/nodes/S0C0").status_code == 401


def test_locate_returns_path_and_overlays(signed_in, city):
    make_node(code="SAFE", name="治安网格", level=Level.GRID, parent=city.communities[0], kind=GridKind.SAFETY,
              geometry=square(120.0, 30.0, 0.02))
    response = signed_in().get(f"{API}/locate", {"lon": 120.015, "lat": 30.005})
    assert response.status_code == 200
    body = response.json()
    assert [n["code"] for n in body["path"]] == ["C", "D", "S0", "S0C0", "S0C0G1"]
    assert body["path"][-1] == {"code": "S0C0G1", "name": "网格001", "level": "grid", "kind": "comprehensive"}
    assert [o["code"] for o in body["overlays"]] == ["SAFE"]


def test_locate_converts_gcj02(signed_in, city):
    lon, lat = wgs84_to_gcj02(120.015, 30.005)
    body = signed_in().get(f"{API}/locate", {"lon": lon, "lat": lat, "crs": "gcj02"}).json()
    assert body["path"][-1]["code"] == "S0C0G1"
    assert body["lon"] == pytest.approx(120.015, abs=1e-8)


def test_locate_outside_every_grid_is_a_clear_404(signed_in, city):
    response = signed_in().get(f"{API}/locate", {"lon": 100, "lat": 30})
    assert response.status_code == 404
    assert response.json() == {"detail": "The point 100.000000, 30.000000 lies outside every grid.", "field": None,
                               "errors": []}


@pytest.mark.parametrize("params", [{"lon": "abc", "lat": 30}, {"lon": 120, "lat": 91}, {"lon": "nan", "lat": 30},
                                    {"lon": "inf", "lat": 30}, {"lat": 30}, {"lon": 120, "lat": 30, "crs": "bd09"}])
def test_locate_rejects_bad_numbers_with_422(signed_in, city, params):
    response = signed_in().get(f"{API}/locate", params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_nodes_lists_children_with_geometry_and_no_people(signed_in, city):
    make_household(city.grids[0])
    response = signed_in().get(f"{API}/nodes", {"parent": "S0C0"})
    assert response.status_code == 200
    body = response.json()["items"]
    assert [n["code"] for n in body] == ["S0C0G0", "S0C0G1"]
    assert body[0]["geometry"]["type"] == "Polygon"
    assert body[0]["bbox"] == pytest.approx([120.0, 30.0, 120.01, 30.02])
    assert set(body[0]) == {"code", "name", "level", "kind", "status", "parent", "bbox", "geometry", "created_at",
                            "retired_at"}


def test_nodes_by_level_and_unknown_parent(signed_in, city):
    client = signed_in()
    page = client.get(f"{API}/nodes", {"level": "grid"}).json()
    assert page["count"] == 8 and len(page["items"]) == 8
    assert client.get(f"{API}/nodes", {"level": "village"}).status_code == 422
    response = client.get(f"{API}/nodes", {"parent": "NOPE"})
    assert response.status_code == 404 and "NOPE" in response.json()["detail"]


def test_node_detail_includes_retired_history(signed_in, city):
    grid_redraw(node=city.grids[0], geometry=square(120.0, 30.0, 0.005))
    body = signed_in().get(f"{API}/nodes/S0C0G0").json()
    assert body["status"] == "retired" and body["retired_at"] and body["parent"] == "S0C0"
    assert signed_in().get(f"{API}/nodes/NOPE").status_code == 404


def test_coverage_within_scope(signed_in, city):
    make_household(city.grids[0])
    response = signed_in(Role.COMMUNITY_STAFF, scope=[city.communities[0]]).get(f"{API}/coverage/S0C0")
    assert response.status_code == 200
    body = response.json()
    assert body["gap"] is None and body["overlaps"] == []
    assert [(c["code"], c["households"], c["household_status"]) for c in body["children"]] == [
        ("S0C0G0", 1, "below"), ("S0C0G1", 0, "below")]
    assert body["norms"]["worker_households_overload"] == 800


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.LEADER, Role.RESIDENT])
def test_coverage_outside_scope_is_403(signed_in, city, role):
    response = signed_in(role, scope=[city.grids[0]]).get(f"{API}/coverage/S0C0")
    assert response.status_code == 403
    assert "outside your area" in response.json()["detail"]


def test_coverage_of_unknown_code_is_404(signed_in, city):
    assert signed_in(Role.ADMIN).get(f"{API}/coverage/NOPE").status_code == 404
