"""Grid geography over JSON: locate a point, browse the hierarchy, read a coverage report.

Boundaries, codes and names are not personal data; the coverage report carries household
and worker figures and is scoped to the user's area.
"""

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from communitygrid.geo.geometry import gcj02_to_wgs84
from communitygrid.geo.models import Level, Node
from communitygrid.geo.selectors import CoverageReport, coverage_report, locate_path, node_by_code, nodes_list, overlays
from communitygrid.restapi.errors import ErrorOut, error_body
from communitygrid.restapi.pagination import LimitOffset

router = Router(tags=["geo"])


class NodeRef(Schema):
    code: str
    name: str
    level: str
    kind: str


class LocateOut(Schema):
    lon: float  # WGS-84, after any GCJ-02 conversion
    lat: float
    path: list[NodeRef]  # root first; the last entry is the node the point belongs to
    overlays: list[NodeRef]  # specialised grids covering the point


class NodeOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    status: str
    parent: str | None
    bbox: list[float] | None  # [min_lon, min_lat, max_lon, max_lat]
    geometry: dict | None
    created_at: dt.datetime
    retired_at: dt.datetime | None

    @staticmethod
    def resolve_parent(node: Node) -> str | None:
        return node.parent.code if node.parent_id else None

    @staticmethod
    def resolve_bbox(node: Node) -> list[float] | None:
        return [node.min_lon, node.min_lat, node.max_lon, node.max_lat] if node.min_lon is not None else None


class LocateQuery(Schema):
    lon: float = Query(..., ge=-180, le=180, description="longitude")
    lat: float = Query(..., ge=-90, le=90, description="latitude")
    crs: Literal["wgs84", "gcj02"] = Query("wgs84", description="coordinate system of lon/lat")


def _node_or_404(code: str) -> Node:
    node = node_by_code(code=code)
    if node is None:
        raise HttpError(404, _("No node has the code %(code)s.") % {"code": code})
    return node


@router.get("/locate", response={200: LocateOut, 404: ErrorOut}, summary="Grid path of a point")
def locate_point(request, query: Query[LocateQuery]):
    lon, lat = query.lon, query.lat
    if query.crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    path = locate_path(lon=lon, lat=lat)
    if not path:
        return Status(404, error_body(_("The point %(lon).6f, %(lat).6f lies outside every grid.") % {"lon": lon, "lat": lat}))
    return {"lon": lon, "lat": lat, "path": path, "overlays": overlays(lon=lon, lat=lat)}


@router.get("/nodes", response={200: list[NodeOut], 404: ErrorOut}, summary="Children of a node, or nodes of a level")
@paginate(LimitOffset)
def list_nodes(request, parent: str | None = None, level: Level | None = None, include_retired: bool = False):
    parent_node = _node_or_404(parent) if parent else None
    return nodes_list(parent=parent_node, level=level, include_retired=include_retired)


@router.get("/nodes/{code}", response={200: NodeOut, 404: ErrorOut}, summary="One node, with its boundary")
def get_node(request, code: str):
    return _node_or_404(code)


@router.get("/coverage/{code}", response={200: CoverageReport, 403: ErrorOut, 404: ErrorOut},
            summary="Gaps, overlaps and workload of a node's children (within your area)")
def get_coverage(request, code: str):
    node = _node_or_404(code)
    try:
        return coverage_report(user=request.user, parent=node)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc))
