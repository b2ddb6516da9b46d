import json

import pytest

from communitygrid.accounts.models import Role
from communitygrid.geo.models import Node, NodeChange, NodeStatus
from communitygrid.geo.services import grid_redraw
from communitygrid.testing import make_household, make_node, make_user, square

pytestmark = pytest.mark.django_db

NODES = "/admin/geo/node/"


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(Role.ADMIN))
    return client


def test_staff_browse_only_their_area_and_cannot_change(client, city):
    client.force_login(make_user(Role.COMMUNITY_STAFF, scope=[city.communities[0]]))
    response = client.get(NODES)
    assert response.status_code == 200
    codes = {node.code for node in response.context["cl"].result_list}
    assert codes == {"S0C0", "S0C0G0", "S0C0G1"}
    assert client.get(f"{NODES}add/").status_code == 403
    assert client.post(f"{NODES}{city.grids[0].pk}/change/", {"name": "改名", "parent": city.communities[0].pk}).status_code == 403
    assert Node.objects.get(code="S0C0G0").name == "网格000"


def test_nodes_cannot_be_deleted_even_by_administrators(admin_client, city):
    assert admin_client.get(f"{NODES}{city.grids[0].pk}/delete/").status_code == 403
    assert Node.objects.filter(code="S0C0G0").exists()


def test_add_validates_level_kind_parent_and_boundary(admin_client, city):
    response = admin_client.post(f"{NODES}add/", {
        "code": "NEW", "name": "新网格", "level": "grid", "kind": "area", "parent": city.grids[0].pk,
        "geometry": json.dumps({"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30], [120, 30]]]}),
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "cannot be of this kind" in str(errors["kind"])
    assert "cannot contain a Grid" in str(errors["parent"])
    assert "at least 4" in str(errors["geometry"])
    assert not Node.objects.filter(code="NEW").exists()


def test_add_creates_a_node_with_path_and_bounds(admin_client, city):
    response = admin_client.post(f"{NODES}add/", {
        "code": "NEW", "name": "新网格", "level": "grid", "kind": "comprehensive", "parent": city.communities[0].pk,
        "geometry": json.dumps(square(120.0, 30.0, 0.005)),
    })
    assert response.status_code == 302
    node = Node.objects.get(code="NEW")
    assert node.path == f"{city.communities[0].path}{node.pk}/" and node.max_lon == pytest.approx(120.005)


def test_change_moves_the_subtree_under_a_new_parent(admin_client, city):
    micro = make_node(code="MG", name="微", level="microgrid", parent=city.grids[0], kind="micro",
                      geometry=square(120.001, 30.001, 0.001))
    target = city.communities[1]
    response = admin_client.post(f"{NODES}{city.grids[0].pk}/change/", {"name": "搬家网格", "parent": target.pk})
    assert response.status_code == 302
    grid, micro = Node.objects.get(code="S0C0G0"), Node.objects.get(pk=micro.pk)
    assert grid.name == "搬家网格" and grid.path == f"{target.path}{grid.pk}/"
    assert micro.path == f"{grid.path}{micro.pk}/"


def test_change_refuses_moving_a_node_under_its_descendant(admin_client, city):
    response = admin_client.post(f"{NODES}{city.communities[0].pk}/change/",
                                 {"name": "社区00", "parent": city.grids[0].pk})
    assert response.status_code == 200
    assert "cannot contain" in str(response.context["adminform"].form.errors["parent"])


def test_retire_action_retires_what_nothing_depends_on(admin_client, city):
    make_household(city.grids[0])
    response = admin_client.post(NODES, {"action": "retire_selected",
                                         "_selected_action": [city.grids[0].pk, city.grids[1].pk]}, follow=True)
    assert response.status_code == 200
    assert Node.objects.get(code="S0C0G0").status == NodeStatus.ACTIVE
    assert Node.objects.get(code="S0C0G1").status == NodeStatus.RETIRED
    text = [str(m) for m in response.context["messages"]]
    assert any("households still point at S0C0G0" in m for m in text) and any("1 node retired" in m for m in text)


def test_change_log_is_read_only(admin_client, city):
    grid_redraw(node=city.grids[0], geometry=square(120.0, 30.0, 0.005))
    change = NodeChange.objects.get()
    response = admin_client.get(f"/admin/geo/nodechange/{change.pk}/change/")
    assert response.status_code == 200 and b"S0C0G0-r2" in response.content
    assert admin_client.get("/admin/geo/nodechange/add/").status_code == 403
    assert admin_client.post(f"/admin/geo/nodechange/{change.pk}/delete/", {"post": "yes"}).status_code == 403
