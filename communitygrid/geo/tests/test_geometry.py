import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from communitygrid.geo.geometry import (
    area_m2,
    check_geometry,
    gcj02_geometry_to_wgs84,
    gcj02_to_wgs84,
    structure_problems,
    wgs84_to_gcj02,
)
from communitygrid.testing import square

# Reference values published with two independent implementations of the transform
# (coordtransform's test app and eviltransform's test suite): (WGS lon, lat) → (GCJ lon, lat).
KNOWN = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),  # Beijing
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]


def metres_between(lon1, lat1, lon2, lat2) -> float:
    dy = (lat2 - lat1) * 111_195
    dx = (lon2 - lon1) * 111_195 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_wgs84_to_gcj02_matches_published_values(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_gcj02_to_wgs84_recovers_the_published_origin(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert metres_between(lon, lat, *wgs) < 0.01


@given(st.floats(73.0, 135.0), st.floats(18.0, 53.0))
def test_gcj02_round_trip_is_within_half_a_metre_inside_china(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres_between(*back, lon, lat) < 0.5


def test_gcj02_offset_is_hundreds_of_metres_so_conversion_matters():
    assert metres_between(116.404, 39.915, *wgs84_to_gcj02(116.404, 39.915)) > 100


def test_outside_china_coordinates_are_unchanged():
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)
    assert wgs84_to_gcj02(-74.0, 40.7) == (-74.0, 40.7)


def test_gcj02_conversion_works_on_arrays():
    lons, lats = gcj02_to_wgs84(np.array([116.41024449916938, 2.35]), np.array([39.91640428150164, 48.85]))
    assert metres_between(lons[0], lats[0], 116.404, 39.915) < 0.01
    assert (lons[1], lats[1]) == (2.35, 48.85)


def test_gcj02_geometry_is_converted_position_by_position():
    converted = gcj02_geometry_to_wgs84(square(116.41, 39.91, 0.01))
    ring = converted["coordinates"][0]
    assert ring[0] == ring[-1]
    assert metres_between(*ring[0], *gcj02_to_wgs84(116.41, 39.91)) < 1e-6


def test_valid_polygon_passes():
    checked = check_geometry(square(120.0, 30.0, 0.01))
    assert checked.ok and not checked.repaired
    assert checked.geometry.geom_type == "Polygon"


def test_bowtie_is_repaired_into_a_multipolygon():
    bowtie = {"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30.01], [120.01, 30], [120, 30.01], [120, 30]]]}
    checked = check_geometry(bowtie)
    assert checked.ok
    assert checked.geometry.geom_type == "MultiPolygon"
    assert "Self-intersection" in checked.repaired


def test_ring_that_doubles_back_on_itself_cannot_be_repaired():
    spike = {"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30], [120.01, 30.01], [120.01, 30], [120, 30]]]}
    checked = check_geometry(spike)
    assert not checked.ok
    assert "cannot be repaired" in checked.problems[0]


def test_ring_without_area_is_reported():
    flat = {"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30.01], [120.02, 30.02], [120, 30]]]}
    assert check_geometry(flat).problems == ["the polygon has no area"]


@pytest.mark.parametrize(
    ("geometry", "fragment"),
    [
        (None, "missing"),
        ({"type": "Point", "coordinates": [120, 30]}, "expected Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": []}, "has no rings"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [120, 30]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, "x"], [121, 31], [120, 30]]]}, "position 1 is not a pair"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [181, 30], [121, 31], [120, 30]]]}, "outside the range"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, True], [121, 31], [120, 30]]]}, "not a pair"),
        ({"type": "MultiPolygon", "coordinates": []}, "no polygons"),
        ({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], []]}, "polygon 2 has no rings"),
    ],
)
def test_structure_problems_name_the_place_and_the_fault(geometry, fragment):
    problems = structure_problems(geometry)
    assert any(fragment in p for p in problems), problems


def test_hole_problems_name_the_hole():
    geometry = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], [[0.2, 0.2], [0.3, 0.2], [0.2, 0.2]]]}
    assert structure_problems(geometry) == ["hole 1 has 3 positions; a ring needs at least 4"]


def test_area_of_a_hundredth_degree_square_near_hangzhou():
    # 0.01° × 0.01° at 30°N ≈ 1,112 m × 963 m.
    assert area_m2(check_geometry(square(120.0, 30.0, 0.01)).geometry) == pytest.approx(1_070_800, rel=0.005)
