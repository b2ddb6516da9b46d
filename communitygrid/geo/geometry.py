"""Pure geometry helpers over GeoJSON (WGS-84 lon/lat): validation, repair, GCJ-02, areas.

Nothing here touches the database, so every rule is testable with plain values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from django.utils.translation import gettext as _

POLYGONAL_TYPES = ("Polygon", "MultiPolygon")
# Less than about a square metre is digitising noise, not an area: a repair that leaves less has
# destroyed the shape, and a gap or overlap that small is not worth reporting.
MIN_AREA_M2 = 1.0


def bounds_of(geometry: dict) -> tuple[float, float, float, float]:
    return tuple(shape(geometry).bounds)  # (min_lon, min_lat, max_lon, max_lat)


def to_geojson(geom: BaseGeometry) -> dict:
    """A GeoJSON dict with plain lists (JSON-storable, comparable), full float precision."""

    def listify(value):
        if isinstance(value, (list, tuple)):
            return [listify(v) for v in value]
        return value

    data = mapping(geom)
    return {"type": data["type"], "coordinates": listify(data["coordinates"])}


# --- validation -------------------------------------------------------------------------------

@dataclass
class CheckedGeometry:
    """The outcome of :func:`check_geometry`: a usable shape, or the problems that prevent one."""

    geometry: BaseGeometry | None = None
    problems: list[str] = field(default_factory=list)
    repaired: str = ""  # why the original was invalid, when a repair was applied

    @property
    def ok(self) -> bool:
        return self.geometry is not None and not self.problems


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ring_problems(ring: Any, where: str) -> list[str]:
    if not isinstance(ring, list):
        return [_("%(where)s is not a list of positions") % {"where": where}]
    problems = []
    for i, position in enumerate(ring):
        if not (isinstance(position, list) and len(position) >= 2 and all(_is_number(v) for v in position[:2])):
            problems.append(_("%(where)s, position %(i)d is not a pair of numbers [lon, lat]") % {"where": where, "i": i})
            continue
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(
                _("%(where)s, position %(i)d (%(lon)s, %(lat)s) is outside the range of longitude/latitude")
                % {"where": where, "i": i, "lon": lon, "lat": lat}
            )
    if problems:
        return problems
    if len(ring) < 4:
        problems.append(_("%(where)s has %(n)d positions; a ring needs at least 4") % {"where": where, "n": len(ring)})
    elif ring[0][:2] != ring[-1][:2]:
        problems.append(_("%(where)s is not closed (its first and last positions differ)") % {"where": where})
    return problems


def _polygon_problems(rings: Any, polygon: str) -> list[str]:
    """``polygon`` names the polygon inside a MultiPolygon ("polygon 2"), or is empty."""
    if not isinstance(rings, list) or not rings:
        return [_("%(polygon)s has no rings") % {"polygon": polygon or _("the polygon")}]
    problems = []
    for r, ring in enumerate(rings):
        where = _("outer ring") if r == 0 else _("hole %(n)d") % {"n": r}
        if polygon:
            where = _("%(polygon)s, %(ring)s") % {"polygon": polygon, "ring": where}
        problems += _ring_problems(ring, where)
    return problems


def structure_problems(geometry: Any) -> list[str]:
    """Problems with the GeoJSON structure of a Polygon/MultiPolygon, before any geometry is built."""
    if not isinstance(geometry, dict):
        return [_("the geometry is missing or not an object")]
    kind = geometry.get("type")
    if kind not in POLYGONAL_TYPES:
        return [_("the geometry type is %(type)s; expected Polygon or MultiPolygon") % {"type": kind}]
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        return _polygon_problems(coordinates, "")
    if not isinstance(coordinates, list) or not coordinates:
        return [_("the MultiPolygon has no polygons")]
    problems = []
    for p, rings in enumerate(coordinates):
        problems += _polygon_problems(rings, _("polygon %(n)d") % {"n": p + 1})
    return problems


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    if geom.geom_type in POLYGONAL_TYPES:
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL_TYPES]
        return shapely.union_all(parts) if parts else None
    return None


def check_geometry(geometry: Any, *, crs: str = "wgs84") -> CheckedGeometry:
    """Validate a GeoJSON Polygon/MultiPolygon; convert GCJ-02 to WGS-84; repair invalid rings.

    A self-intersecting shape is repaired with ``shapely.make_valid`` when what remains is still
    polygonal with a meaningful area; otherwise it is reported as a problem.
    """
    problems = structure_problems(geometry)
    if problems:
        return CheckedGeometry(problems=problems)
    if crs == "gcj02":
        geometry = gcj02_geometry_to_wgs84(geometry)
    geom = shape(geometry)
    if geom.is_valid:
        if area_m2(geom) < MIN_AREA_M2:
            return CheckedGeometry(problems=[_("the polygon has no area")])
        return CheckedGeometry(geometry=geom)
    reason = shapely.is_valid_reason(geom)
    repaired = _polygonal_part(shapely.make_valid(geom))
    if repaired is None or repaired.is_empty or area_m2(repaired) < MIN_AREA_M2:
        return CheckedGeometry(
            problems=[_("the polygon is invalid (%(reason)s) and cannot be repaired into an area") % {"reason": reason}]
        )
    return CheckedGeometry(geometry=repaired, repaired=reason)


# --- areas ------------------------------------------------------------------------------------

_EARTH_RADIUS_M = 6371008.8


def area_m2(geom: BaseGeometry) -> float:
    """Approximate area in square metres: a local equirectangular projection at the shape's latitude.

    Good to well under 1% for city-sized shapes, which is all a coverage report needs.
    """
    if geom.is_empty:
        return 0.0
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    lat0 = math.radians((min_lat + max_lat) / 2)
    scale = (math.pi / 180) * _EARTH_RADIUS_M
    sx, sy = scale * math.cos(lat0), scale
    return geom.area * sx * sy


# --- GCJ-02 ("Mars coordinates", emitted by Chinese map apps) ---------------------------------

_GCJ_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses it
_GCJ_EE = 0.00669342162296594323


def in_china(lon, lat):
    """Where GCJ-02 applies (the customary rectangle); outside it GCJ-02 equals WGS-84."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offsets(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """The forward GCJ-02 transform (scalars or numpy arrays)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offsets(lon, lat)
    inside = in_china(lon, lat)
    return _scalar_or_array(np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat))


def _scalar_or_array(lon: np.ndarray, lat: np.ndarray):
    if lon.ndim == 0:
        return float(lon), float(lat)
    return lon, lat


def gcj02_to_wgs84(lon, lat):
    """The inverse of :func:`wgs84_to_gcj02` by fixed-point iteration (scalars or numpy arrays).

    Each step moves the estimate by the forward transform's error; the offset field is smooth,
    so a handful of steps reach 1e-9° (~0.1 mm), far inside the 0.5 m asked for.
    """
    gcj_lon, gcj_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = gcj_lon.copy(), gcj_lat.copy()
    for _step in range(30):
        dlon, dlat = _offsets(wlon, wlat)
        flon, flat = wlon + dlon, wlat + dlat
        elon, elat = flon - gcj_lon, flat - gcj_lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < 1e-10) and np.all(np.abs(elat) < 1e-10):
            break
    inside = in_china(gcj_lon, gcj_lat)
    return _scalar_or_array(np.where(inside, wlon, gcj_lon), np.where(inside, wlat, gcj_lat))


def gcj02_geometry_to_wgs84(geometry: dict) -> dict:
    """A GeoJSON Polygon/MultiPolygon with every position converted from GCJ-02 to WGS-84."""
    converted = shapely.transform(shape(geometry), lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    return to_geojson(converted)
