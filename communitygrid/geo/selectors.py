"""Every read of the grid hierarchy.

Geography itself (codes, names, boundaries) is not personal data: any signed-in user may
read it. Figures about people (households per grid, workers) go through the user's scope.
"""
from __future__ import annotations

from communitygrid.geo.index import OUTSIDE, NodeInfo, current_index
from communitygrid.geo.models import Node


def locate(*, lon: float, lat: float) -> Node | None:
    """The deepest active node of the assignment tree containing the point, or None outside every grid.

    Micro-grids and comprehensive grids come first; a point inside a community but in no grid
    gets the community, and so on up. Specialised grids are not part of the answer (see
    :func:`overlays`).
    """
    node_id = current_index().locate_id(lon, lat)
    if node_id == OUTSIDE:
        return None
    return Node.objects.select_related("parent").get(pk=node_id)


def locate_path(*, lon: float, lat: float) -> list[Node]:
    """The located node and its ancestors, root first; empty outside every grid."""
    node = locate(lon=lon, lat=lat)
    return node.ancestors() if node else []


def overlays(*, lon: float, lat: float) -> list[NodeInfo]:
    """The specialised grids (safety, health, …) covering the point."""
    return current_index().overlays(lon, lat)
