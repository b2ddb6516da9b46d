"""Every write to the grid hierarchy."""
from __future__ import annotations

from django.db import transaction

from communitygrid.geo.geometry import bounds_of
from communitygrid.geo.models import GridKind, Node


@transaction.atomic
def node_create(*, code: str, name: str, level: str, parent: Node | None = None, geometry: dict | None = None,
                kind: str = GridKind.AREA, properties: dict | None = None) -> Node:
    node = Node(code=code, name=name, level=level, parent=parent, geometry=geometry, kind=kind,
                properties=properties or {})
    if geometry:
        node.min_lon, node.min_lat, node.max_lon, node.max_lat = bounds_of(geometry)
    node.save()
    node.path = node.compute_path()
    node.save(update_fields=["path"])
    return node
