import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

from communitygrid.geo.geometry import to_geojson
from communitygrid.geo.index import OUTSIDE, GridIndex, current_index
from communitygrid.geo.models import LEVEL_DEPTH, SPECIALISED_KINDS, GridKind, Level, MapVersion, Node, NodeStatus
from communitygrid.testing import make_node, square


def _row(rows, code, level, kind, parent, geom):
    rows.append({"id": len(rows) + 1, "code": code, "name": code, "level": level, "kind": kind,
                 "parent_id": parent, "geometry": to_geojson(geom) if geom is not None else None})
    return len(rows)


def random_map(seed: int) -> list[dict]:
    """A small but awkward map: jittered grids in communities, a community without grids,
    overlapping siblings, micro-grids, a specialised overlay, a root without a polygon."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    step = 0.01
    xs = 120 + step * (np.arange(n + 1)[None, :] + rng.uniform(-0.3, 0.3, (n + 1, n + 1)))
    ys = 30 + step * (np.arange(n + 1)[:, None] + rng.uniform(-0.3, 0.3, (n + 1, n + 1)))
    rows: list[dict] = []
    city = _row(rows, "CITY", Level.CITY, GridKind.AREA, None, None)
    quads = {(i, j): shapely.Polygon([(xs[j, i], ys[j, i]), (xs[j, i + 1], ys[j, i + 1]),
                                      (xs[j + 1, i + 1], ys[j + 1, i + 1]), (xs[j + 1, i], ys[j + 1, i])])
             for i in range(n) for j in range(n)}
    district = _row(rows, "D", Level.DISTRICT, GridKind.AREA, city, shapely.union_all(list(quads.values())))
    for (i, j), quad in sorted(quads.items()):
        community = _row(rows, f"C{i}{j}", Level.COMMUNITY, GridKind.AREA, district, quad)
        if (i + j) % 3 == 2:
            continue  # a community with no grid: its points belong to the community
        x0, y0, x1, y1 = quad.bounds
        cut = x0 + (x1 - x0) * float(rng.uniform(0.3, 0.7))
        left = quad.intersection(shapely.box(x0 - 1, y0 - 1, cut, y1 + 1))
        right = quad.intersection(shapely.box(cut, y0 - 1, x1 + 1, y1 + 1))
        grid = _row(rows, f"G{i}{j}a", Level.GRID, GridKind.COMPREHENSIVE, community, left)
        _row(rows, f"G{i}{j}b", Level.GRID, GridKind.COMPREHENSIVE, community, right)
        if rng.random() < 0.5:  # an overlapping sibling, spilling out of the community
            _row(rows, f"G{i}{j}x", Level.GRID, GridKind.COMPREHENSIVE, community,
                 shapely.Point(cut, (y0 + y1) / 2).buffer(step * 0.3, quad_segs=4))
        if rng.random() < 0.5:
            _row(rows, f"M{i}{j}", Level.MICROGRID, GridKind.MICRO, grid, left.centroid.buffer(step * 0.1, cap_style="square"))
        if rng.random() < 0.3:
            _row(rows, f"H{i}{j}", Level.GRID, GridKind.HEALTH, community, quad.buffer(step * 0.2))
    return rows


def brute_force(rows: list[dict], lon: float, lat: float) -> int:
    best = None
    for row in rows:
        if row["geometry"] and row["kind"] not in SPECIALISED_KINDS:
            if shapely.intersects_xy(shape(row["geometry"]), lon, lat):
                key = (LEVEL_DEPTH[row["level"]], -row["id"])
                if best is None or key > best[0]:
                    best = (key, row["id"])
    return best[1] if best else OUTSIDE


@st.composite
def map_and_points(draw):
    rows = random_map(draw(st.integers(0, 2**32 - 1)))
    vertices = [tuple(p) for row in rows if row["geometry"] for p in shape(row["geometry"]).exterior.coords[:-1]
                if shape(row["geometry"]).geom_type == "Polygon"]
    anywhere = st.tuples(st.floats(119.99, 120.07), st.floats(29.99, 30.07))
    on_vertex = st.sampled_from(vertices)
    between = st.tuples(on_vertex, on_vertex, st.floats(0, 1)).map(
        lambda t: (t[0][0] + (t[1][0] - t[0][0]) * t[2], t[0][1] + (t[1][1] - t[0][1]) * t[2]))
    points = draw(st.lists(st.one_of(anywhere, on_vertex, between), min_size=1, max_size=60))
    return rows, points


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(map_and_points())
def test_index_answers_like_brute_force(case):
    rows, points = case
    index = GridIndex.build(rows)
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    expected = [brute_force(rows, lon, lat) for lon, lat in points]
    assert index.locate_many(lons, lats).tolist() == expected
    assert [index.locate_id(lon, lat) for lon, lat in points] == expected


def test_coarse_raster_still_answers_exactly():
    rows = random_map(7)
    index = GridIndex.build(rows, levels=1, max_cells=64)
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(119.99, 120.07, 500), rng.uniform(29.99, 30.07, 500)
    assert index.locate_many(lons, lats).tolist() == [brute_force(rows, x, y) for x, y in zip(lons, lats)]


def test_most_points_need_no_polygon_test():
    index = GridIndex.build(random_map(3))
    assert index.stats()["boundary_share"] < 0.5


def test_nan_and_far_points_are_outside():
    index = GridIndex.build(random_map(1))
    assert index.locate_many([np.nan, 0.0, 120.01], [30.01, np.nan, 89.0]).tolist() == [OUTSIDE] * 3
    assert index.locate_id(-170.0, 10.0) == OUTSIDE


def test_empty_map_answers_outside():
    index = GridIndex.build([])
    assert index.locate_id(120.0, 30.0) == OUTSIDE
    assert index.locate_many([120.0], [30.0]).tolist() == [OUTSIDE]
    assert index.overlays(120.0, 30.0) == []


def test_overlays_report_specialised_grids_only():
    rows = []
    district = _row(rows, "D", Level.DISTRICT, GridKind.AREA, None, shapely.box(0, 0, 10, 10))
    _row(rows, "SAFE", Level.GRID, GridKind.SAFETY, district, shapely.box(0, 0, 5, 5))
    _row(rows, "ELDER", Level.GRID, GridKind.ELDERLY, district, shapely.box(2, 2, 8, 8))
    index = GridIndex.build(rows)
    assert index.locate_id(3, 3) == district
    assert [info.code for info in index.overlays(3, 3)] == ["ELDER", "SAFE"]
    assert [info.code for info in index.overlays(9, 9)] == []


def test_path_ids_walk_up_to_the_root_without_polygon():
    rows = random_map(5)
    index = GridIndex.build(rows)
    grid = next(r for r in rows if r["level"] == Level.GRID and r["kind"] == GridKind.COMPREHENSIVE)
    codes = [index.nodes[i].code for i in index.path_ids(grid["id"])]
    assert codes[:2] == ["CITY", "D"] and codes[-1] == grid["code"] and len(codes) == 4


# --- the process-wide index follows the database ------------------------------------------------

@pytest.mark.django_db
def test_current_index_is_reused_until_the_map_changes(city):
    first = current_index()
    assert current_index() is first
    make_node(code="NEW", name="新社区", level=Level.COMMUNITY, parent=city.streets[0], geometry=square(121.0, 31.0, 0.01))
    second = current_index()
    assert second is not first
    assert second.nodes[second.locate_id(121.005, 31.005)].code == "NEW"


@pytest.mark.django_db
def test_a_change_seen_only_through_the_token_rebuilds_the_index(city):
    """Another process's change reaches this one through the token alone."""
    before = current_index()
    Node.objects.filter(code="S0C0G0").update(status=NodeStatus.RETIRED)  # no signal, as from elsewhere
    assert current_index() is before
    MapVersion.bump()
    after = current_index()
    assert after is not before
    assert after.nodes[after.locate_id(120.005, 30.005)].code == "S0C0"


def test_degenerate_stored_shapes_do_not_break_the_build():
    rows = []
    _row(rows, "SPOT", Level.GRID, GridKind.COMPREHENSIVE, None, shapely.Polygon([(120, 30)] * 4))
    index = GridIndex.build(rows)
    assert index.locate_id(120.005, 30.005) == OUTSIDE
