"""The demo map (pure): exact tiling at every level, "1+6+X", deterministic."""
import itertools

import pytest
import shapely
from shapely.geometry import shape

from communitygrid.core.demo.geography import GRIDS, SPECIALISED, plan_geography
from communitygrid.geo.models import GridKind, Level


@pytest.fixture(scope="module")
def geography():
    return plan_geography()


def assert_tiles(parent, children, *, rel=1e-9):
    """Children cover the parent with no gap and no overlap (areas agree to ``rel``)."""
    union = shapely.union_all([child for child in children])
    assert abs(union.area - parent.area) <= rel * parent.area
    assert abs(sum(child.area for child in children) - parent.area) <= rel * parent.area
    assert parent.symmetric_difference(union).area <= rel * parent.area
    tree = shapely.STRtree(children)
    for i, j in zip(*tree.query(children, predicate="intersects")):
        if i < j:
            assert children[i].intersection(children[j]).area <= rel * parent.area


def test_comprehensive_grids_tile_the_district_exactly(geography):
    assert_tiles(geography.district.polygon, [grid.polygon for grid in geography.grids])


def test_every_level_tiles_its_parent(geography):
    assert_tiles(geography.district.polygon, [street.polygon for street in geography.streets])
    for street in geography.streets:
        assert_tiles(street.polygon, [c.polygon for c in geography.communities if c.parent_code == street.code])
    for community in geography.communities:
        assert_tiles(community.polygon, [g.polygon for g in geography.grids if g.parent_code == community.code])


def test_the_district_has_4_streets_16_communities_and_120_grids_of_one_piece_each(geography):
    assert len(geography.streets) == 4
    assert len(geography.communities) == 16
    assert len(geography.grids) == GRIDS == 120
    for area in geography.all_areas():
        assert area.polygon.geom_type == "Polygon" and area.polygon.is_valid, area.code
    per_community = [sum(g.parent_code == c.code for g in geography.grids) for c in geography.communities]
    assert min(per_community) >= 6 and max(per_community) <= 9


def test_codes_are_unique_and_nested_like_administrative_codes(geography):
    codes = [area.code for area in geography.all_areas()]
    assert len(codes) == len(set(codes))
    by_code = {area.code: area for area in geography.all_areas()}
    for area in geography.all_areas():
        if area.parent_code:
            assert area.code.startswith(area.parent_code)
            assert by_code[area.parent_code].level != area.level


def test_names_look_like_a_chinese_district(geography):
    assert all(street.name.endswith("街道") for street in geography.streets)
    assert all(community.name.endswith("社区") for community in geography.communities)
    assert all(grid.name.endswith("网格") for grid in geography.grids)
    assert len({c.name for c in geography.communities}) == 16


def test_the_district_lies_west_of_the_lake_at_a_real_size(geography):
    min_lon, min_lat, max_lon, max_lat = geography.district.polygon.bounds
    assert 120.1 <= min_lon < max_lon <= 120.2
    assert 30.25 <= min_lat < max_lat <= 30.33
    km2 = geography.district.polygon.area * 96.2 * 111.2  # degrees² to km² at 30.3° N
    assert 20 < km2 < 50


def test_one_specialised_grid_of_each_of_the_six_kinds_lies_inside_its_community(geography):
    assert sorted(area.kind for area in geography.specialised) == sorted(kind for kind, _ in SPECIALISED)
    communities = {c.code: c for c in geography.communities}
    for area in geography.specialised:
        assert area.level == Level.GRID
        assert communities[area.parent_code].polygon.buffer(1e-12).contains(area.polygon)


def test_micro_grids_tile_the_grids_they_split(geography):
    split = {area.parent_code for area in geography.microgrids}
    assert len(split) == 4
    grids = {g.code: g for g in geography.grids}
    for code in split:
        parts = [m.polygon for m in geography.microgrids if m.parent_code == code]
        assert len(parts) >= 4
        assert_tiles(grids[code].polygon, parts)
    assert all(m.kind == GridKind.MICRO and m.level == Level.MICROGRID for m in geography.microgrids)


def test_the_map_is_the_same_every_time(geography):
    again = plan_geography()
    for first, second in itertools.zip_longest(geography.all_areas(), again.all_areas()):
        assert (first.code, first.name, first.geojson) == (second.code, second.name, second.geojson)


def test_geojson_round_trips_to_the_same_polygon(geography):
    grid = geography.grids[0]
    assert shape(grid.geojson).equals_exact(grid.polygon, 0)
