"""Pure geometry helpers over GeoJSON dicts (WGS-84 lon/lat)."""
from __future__ import annotations

from shapely.geometry import shape


def bounds_of(geometry: dict) -> tuple[float, float, float, float]:
    return tuple(shape(geometry).bounds)  # (min_lon, min_lat, max_lon, max_lat)
