"""Every read of the grid hierarchy."""
from __future__ import annotations

from shapely.geometry import Point, shape

from communitygrid.geo.models import LEVEL_DEPTH, SPECIALISED_KINDS, Node


def locate(*, lon: float, lat: float) -> Node | None:
    """The deepest active node of the assignment tree containing the point, or None outside every grid."""
    point = Point(lon, lat)
    candidates = Node.objects.active().exclude(kind__in=SPECIALISED_KINDS).filter(
        min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
    )
    inside = [node for node in candidates if node.geometry and shape(node.geometry).covers(point)]
    return max(inside, key=lambda node: LEVEL_DEPTH[node.level], default=None)


def locate_path(*, lon: float, lat: float) -> list[Node]:
    """The located node and its ancestors, root first; empty outside every grid."""
    node = locate(lon=lon, lat=lat)
    return node.ancestors() if node else []
