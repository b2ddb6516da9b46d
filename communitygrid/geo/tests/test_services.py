import pytest
import shapely
from shapely.geometry import shape

from communitygrid.accounts.models import Role
from communitygrid.geo.geometry import wgs84_to_gcj02
from communitygrid.geo.models import GridKind, Level, Node, NodeChange, NodeStatus
from communitygrid.geo.selectors import locate
from communitygrid.geo.services import (
    GeoInputError,
    grid_merge,
    grid_redraw,
    grid_split,
    grids_import,
    next_revision_code,
    node_retire,
)
from communitygrid.registry.models import Building, Household, Person
from communitygrid.testing import make_household, make_node, make_user, square

pytestmark = pytest.mark.django_db


def rect(lon0, lat0, lon1, lat1) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


def feature(code, name, geometry, **extra) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name, **extra}, "geometry": geometry}


# --- import -------------------------------------------------------------------------------------

def test_import_with_any_bad_feature_writes_nothing_and_lists_every_problem(city):
    nodes_before, changes_before = Node.objects.count(), NodeChange.objects.count()
    features = [
        feature("M1", "好的", square(120.001, 30.001, 0.002), parent="S0C0G0"),
        feature("M1", "重复", square(120.004, 30.001, 0.002), parent="S0C0G0"),
        feature("M2", "无父", square(120.001, 30.004, 0.002), parent="NOPE"),
        {"type": "Feature", "properties": {"code": "M3", "parent": "S0C0G0"}, "geometry": square(120.0, 30.0, 0.001)},
        feature("M4", "未闭合", {"type": "Polygon", "coordinates": [[[120, 30], [120.001, 30], [120.001, 30.001], [120, 30.001]]]},
                parent="S0C0G0"),
        feature("M5", "折返", {"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30], [120.01, 30.01], [120.01, 30], [120, 30]]]},
                parent="S0C0G0"),
        feature("S0C0", "已有的社区", square(120.0, 30.0, 0.001), parent="S0C0G0"),
        "not a feature",
    ]
    with pytest.raises(GeoInputError) as caught:
        grids_import(features=features, level=Level.MICROGRID, parent_property="parent")
    found = {(p.index, p.code) for p in caught.value.problems}
    assert found == {(1, "M1"), (2, "M2"), (3, "M3"), (4, "M4"), (5, "M5"), (6, "S0C0"), (7, None)}
    text = str(caught.value)
    assert "item #1 (code M1): the code M1 is also used by item #0" in text
    assert "unknown parent code NOPE" in text
    assert "the property name is missing" in text
    assert "not closed" in text
    assert "cannot be repaired" in text
    assert "already belongs to a Community" in text
    assert Node.objects.count() == nodes_before and NodeChange.objects.count() == changes_before


def test_import_creates_nodes_under_their_parents_and_logs_one_change(city):
    actor = make_user(Role.ADMIN)
    bowtie = {"type": "Polygon", "coordinates": [[[120.021, 30.001], [120.023, 30.003], [120.023, 30.001], [120.021, 30.003],
                                                   [120.021, 30.001]]]}
    result = grids_import(features=[feature("M1", "微网格一", square(120.001, 30.001, 0.002), parent="S0C0G0"),
                                    feature(42, "微网格二", bowtie, parent="S1C0G0")],
                          level=Level.MICROGRID, parent_property="parent", actor=actor)
    m1, m2 = Node.objects.get(code="M1"), Node.objects.get(code="42")
    assert m1.kind == GridKind.MICRO and m1.parent.code == "S0C0G0"
    assert m1.path == f"{m1.parent.path}{m1.pk}/"
    assert (m1.min_lon, m1.max_lat) == pytest.approx((120.001, 30.003))
    assert shape(m2.geometry).geom_type == "MultiPolygon"
    assert [p.code for p in result.repaired] == ["42"]
    change = result.change
    assert change.kind == NodeChange.Kind.IMPORT and change.actor == actor
    assert set(change.created.values_list("code", flat=True)) == {"M1", "42"}
    assert change.reassigned["repaired"][0]["code"] == "42"
    assert locate(lon=120.002, lat=30.002) == m1


def test_reimport_updates_name_and_boundary_of_the_same_code(city):
    grids_import(features=[feature("M1", "旧名", square(120.001, 30.001, 0.002))], level=Level.MICROGRID, parent_code="S0C0G0")
    result = grids_import(features=[feature("M1", "新名", square(120.005, 30.005, 0.002))], level=Level.MICROGRID,
                          parent_code="S0C0G0")
    node = Node.objects.get(code="M1")
    assert (result.created, [n.code for n in result.updated]) == ([], ["M1"])
    assert node.name == "新名" and node.min_lon == pytest.approx(120.005)
    assert locate(lon=120.002, lat=30.002).code == "S0C0G0"
    assert locate(lon=120.006, lat=30.006).code == "M1"


def test_import_converts_gcj02_to_wgs84(city):
    wgs = [[120.001, 30.001], [120.003, 30.001], [120.003, 30.003], [120.001, 30.003], [120.001, 30.001]]
    gcj = [list(wgs84_to_gcj02(lon, lat)) for lon, lat in wgs]
    grids_import(features=[feature("M1", "火星", {"type": "Polygon", "coordinates": [gcj]})], level=Level.MICROGRID,
                 parent_code="S0C0G0", crs="gcj02")
    ring = Node.objects.get(code="M1").geometry["coordinates"][0]
    assert ring == [pytest.approx(p, abs=1e-8) for p in wgs]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"level": "village"}, "unknown level village"),
        ({"level": Level.GRID}, "needs a parent"),
        ({"level": Level.GRID, "parent_code": "NOPE"}, "unknown parent code NOPE"),
        ({"level": Level.GRID, "parent_code": "S0C0G0"}, "cannot contain a Grid"),
        ({"level": Level.GRID, "parent_code": "S0C0", "kind": GridKind.MICRO}, "cannot be of kind micro"),
        ({"level": Level.GRID, "parent_code": "S0C0", "crs": "bd09"}, "unknown coordinate system bd09"),
        ({"level": Level.GRID, "parent_code": "S0C0", "parent_property": "p"}, "not both"),
        ({"level": Level.GRID, "parent_code": "S0C0", "features": []}, "no features"),
    ],
)
def test_import_settings_are_checked_before_any_feature(city, options, fragment):
    options = {"features": [feature("X", "x", square(120.0, 30.0, 0.001))], **options}
    with pytest.raises(GeoInputError) as caught:
        grids_import(**options)
    assert fragment in str(caught.value)


def test_import_refuses_a_retired_code_and_a_retired_parent(city):
    Node.objects.filter(code="S0C0G1").update(status=NodeStatus.RETIRED)
    with pytest.raises(GeoInputError) as caught:
        grids_import(features=[feature("S0C0G1", "x", square(120.0, 30.0, 0.001)),
                               feature("M9", "y", square(120.0, 30.0, 0.001), p="S0C0G1")],
                     level=Level.GRID, parent_property="p")
    text = str(caught.value)
    assert "belongs to a retired node" in text and "the parent S0C0G1 is retired" in text


# --- split, merge, redraw -----------------------------------------------------------------------

@pytest.fixture
def populated(city):
    """Grid S0C0G0 (lon 120.00–120.01, lat 30.00–30.02) with records south and north, a micro-grid and staff."""
    grid = city.grids[0]
    south = make_household(grid, lon=120.005, lat=30.005)
    north = make_household(grid, lon=120.002, lat=30.017)  # inside the micro-grid
    roomless = Household.objects.create(code="H-NOROOM", grid=grid, address="无门牌")
    drifter = Person.objects.filter(household=north).first()
    Person.objects.filter(pk=drifter.pk).update(household=None)
    micro = make_node(code="MG", name="微网格", level=Level.MICROGRID, parent=grid, kind=GridKind.MICRO,
                      geometry=square(120.001, 30.016, 0.002))
    worker = make_user(Role.GRID_WORKER, scope=[grid])
    return {"grid": grid, "south": south, "north": north, "roomless": roomless, "drifter": drifter, "micro": micro,
            "worker": worker, "city": city}


def test_split_retires_the_grid_and_moves_records_by_location(populated):
    grid, actor = populated["grid"], make_user(Role.ADMIN)
    change = grid_split(node=grid, actor=actor, note="人口增长", parts=[
        {"code": "G-S", "name": "南片", "geometry": rect(120.0, 30.0, 120.01, 30.01)},
        {"code": "G-N", "name": "北片", "geometry": rect(120.0, 30.01, 120.01, 30.02)},
    ])
    grid.refresh_from_db()
    south_part, north_part = Node.objects.get(code="G-S"), Node.objects.get(code="G-N")
    assert grid.status == NodeStatus.RETIRED and grid.retired_at is not None
    assert south_part.parent == grid.parent and south_part.kind == grid.kind and north_part.is_active

    south, north = populated["south"], populated["north"]
    assert Building.objects.get(pk=south.room.unit.building.pk).grid == south_part
    assert Building.objects.get(pk=north.room.unit.building.pk).grid == populated["micro"]  # deepest node wins
    assert Household.objects.get(pk=south.pk).grid == south_part
    assert set(Person.objects.filter(household=south).values_list("grid__code", flat=True)) == {"G-S"}
    assert Household.objects.get(pk=populated["roomless"].pk).grid == grid  # kept, and reported
    assert Person.objects.get(pk=populated["drifter"].pk).grid == grid

    micro = Node.objects.get(code="MG")
    assert micro.parent == north_part and micro.path == f"{north_part.path}{micro.pk}/"
    assert set(populated["worker"].scope_nodes.values_list("code", flat=True)) == {"G-S", "G-N"}

    assert change.kind == NodeChange.Kind.SPLIT and change.actor == actor and change.note == "人口增长"
    assert list(change.retired.all()) == [grid]
    assert change.reassigned == {
        "children": ["MG"], "buildings": 2, "buildings_outside": [], "households": 2,
        "households_without_room": ["H-NOROOM"], "persons": 3, "persons_without_household": 1,
        "households_left": 1, "persons_left": 1, "scopes": 1,
    }
    assert locate(lon=120.005, lat=30.005) == south_part


def test_split_with_bad_parts_writes_nothing(populated):
    grid = populated["grid"]
    with pytest.raises(GeoInputError) as caught:
        grid_split(node=grid, parts=[
            {"code": "S0C0G1", "name": "撞码", "geometry": rect(120.0, 30.0, 120.01, 30.01)},
            {"code": "G-N", "name": "", "geometry": {"type": "Polygon", "coordinates": [[[120, 30]]]}},
        ])
    assert {(p.index, p.code) for p in caught.value.problems} == {(0, "S0C0G1"), (1, "G-N")}
    grid.refresh_from_db()
    assert grid.is_active and not Node.objects.filter(code="G-N").exists()
    assert Building.objects.filter(grid=grid).count() == 2


def test_split_needs_two_parts(populated):
    with pytest.raises(GeoInputError, match="at least two parts"):
        grid_split(node=populated["grid"], parts=[{"code": "A", "name": "A", "geometry": square(120, 30, 0.01)}])


def test_merge_unites_siblings_and_moves_everything(populated):
    city = populated["city"]
    left, right = city.grids[0], city.grids[1]
    make_household(right, lon=120.015, lat=30.01)
    change = grid_merge(nodes=[left, right], code="S0C0-ALL", name="合并网格", note="撤并")
    merged = Node.objects.get(code="S0C0-ALL")
    assert shape(merged.geometry).area == pytest.approx(0.02 * 0.02)
    assert shapely.equals(shape(merged.geometry), shape(city.communities[0].geometry))
    assert set(Node.objects.filter(code__in=["S0C0G0", "S0C0G1"]).values_list("status", flat=True)) == {NodeStatus.RETIRED}
    assert Building.objects.filter(grid__code__in=["S0C0G0", "S0C0G1"]).count() == 0
    assert Household.objects.filter(grid__path__startswith=merged.path).count() == 3  # one in the micro-grid
    assert Household.objects.get(code="H-NOROOM").grid == left
    assert set(change.retired.values_list("code", flat=True)) == {"S0C0G0", "S0C0G1"}
    assert Node.objects.get(code="MG").parent == merged
    assert list(populated["worker"].scope_nodes.all()) == [merged]


def test_merge_refuses_nodes_of_different_parents_and_taken_codes(city):
    with pytest.raises(GeoInputError) as caught:
        grid_merge(nodes=[city.grids[0], city.grids[2]], code="S0C0G1", name="x")
    text = str(caught.value)
    assert "same level and kind under the same parent" in text and "already in use" in text
    assert Node.objects.filter(status=NodeStatus.RETIRED).count() == 0


def test_redraw_creates_a_revision_and_places_buildings_that_left(populated):
    city, grid = populated["city"], populated["grid"]
    far = make_household(grid, lon=120.5, lat=30.5)  # outside every grid: keeps its pointer
    change = grid_redraw(node=grid, geometry=rect(120.0, 30.0, 120.01, 30.012), note="边界调整")
    successor = Node.objects.get(code="S0C0G0-r2")
    assert successor.name == grid.name and change.kind == NodeChange.Kind.REDRAW
    assert Household.objects.get(pk=populated["south"].pk).grid == successor
    # The northern building now lies outside the redrawn grid, in the micro-grid that moved with it.
    assert Household.objects.get(pk=populated["north"].pk).grid == populated["micro"]
    assert Household.objects.get(pk=far.pk).grid == grid
    assert change.reassigned["buildings_outside"] == [far.room.unit.building.code]
    assert next_revision_code("S0C0G0-r2") == "S0C0G0-r3"
    grid_redraw(node=successor, geometry=rect(120.0, 30.0, 120.01, 30.02))
    assert Node.objects.filter(code="S0C0G0-r3", status=NodeStatus.ACTIVE).exists()
    assert city.grids[1].pk == locate(lon=120.015, lat=30.01).pk


def test_redraw_moves_buildings_into_the_neighbour_that_now_holds_them(city):
    grid, neighbour = city.grids[0], city.grids[1]
    # Recorded when the grid reached further east; the redraw settles it by location.
    moved = make_household(grid, lon=120.012, lat=30.01)
    gap = make_household(grid, lon=120.008, lat=30.01)
    change = grid_redraw(node=grid, geometry=rect(120.0, 30.0, 120.005, 30.02), code="G-NARROW")
    assert Household.objects.get(pk=moved.pk).grid == neighbour
    assert Household.objects.get(pk=gap.pk).grid == grid
    assert change.reassigned["buildings_outside"] == [gap.room.unit.building.code]


def test_a_retired_node_cannot_be_changed_again(populated):
    grid = populated["grid"]
    grid_redraw(node=grid, geometry=rect(120.0, 30.0, 120.01, 30.02))
    with pytest.raises(GeoInputError, match="retired already"):
        grid_redraw(node=grid, geometry=rect(120.0, 30.0, 120.01, 30.02))


def test_retire_refuses_a_node_that_records_point_at(populated):
    with pytest.raises(GeoInputError) as caught:
        node_retire(node=populated["grid"])
    assert "active children" in str(caught.value) and "households still point at" in str(caught.value)
    change = node_retire(node=populated["micro"], note="撤销")
    assert change.kind == NodeChange.Kind.RETIRE
    assert Node.objects.get(code="MG").status == NodeStatus.RETIRED
