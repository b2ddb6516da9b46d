"""Every read of the grid hierarchy.

Geography itself (codes, names, boundaries) is not personal data: any signed-in user may
read it. Figures about people (households per grid, workers) go through the user's scope.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import shapely
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext as _
from shapely.geometry import shape

from communitygrid.accounts.scopes import figures_node_q
from communitygrid.geo.geometry import MIN_AREA_M2, area_m2, to_geojson
from communitygrid.geo.index import OUTSIDE, NodeInfo, current_index
from communitygrid.geo.models import SPECIALISED_KINDS, GridKind, Node, NodeStatus


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


def locate_paths_many(*, lons, lats) -> list[list[NodeInfo]]:
    """For arrays of points, each point's path (root first) through the batch index; [] outside every grid."""
    index = current_index()
    paths: dict[int, list[NodeInfo]] = {OUTSIDE: []}
    result = []
    for node_id in index.locate_many(lons, lats).tolist():
        if node_id not in paths:
            paths[node_id] = [index.nodes[i] for i in index.path_ids(node_id)]
        result.append(paths[node_id])
    return result


def overlays(*, lon: float, lat: float) -> list[NodeInfo]:
    """The specialised grids (safety, health, …) covering the point."""
    return current_index().overlays(lon, lat)


# --- browsing the hierarchy ---------------------------------------------------------------------

def node_by_code(*, code: str) -> Node | None:
    return Node.objects.select_related("parent").filter(code=code).first()


def nodes_list(*, parent: Node | None = None, level: str | None = None, include_retired: bool = False):
    """Children of ``parent``; without a parent, every node of ``level``, or the roots."""
    nodes = Node.objects.select_related("parent")
    if not include_retired:
        nodes = nodes.filter(status=NodeStatus.ACTIVE)
    if parent is not None:
        nodes = nodes.filter(parent=parent)
    elif not level:
        nodes = nodes.filter(parent__isnull=True)
    if level:
        nodes = nodes.filter(level=level)
    return nodes.order_by("code")


# --- coverage -----------------------------------------------------------------------------------

@dataclass
class ChildCoverage:
    code: str
    name: str
    level: str
    kind: str
    area_m2: float
    households: int
    # Only comprehensive grids carry the 300–500 household norm.
    household_status: Literal["below", "within", "above"] | None
    workers: int
    households_per_worker: float | None
    # "within" is at most the norm, "overload" from the overload ratio on; None without households.
    worker_status: Literal["no_worker", "within", "above_norm", "overload"] | None


@dataclass
class Overlap:
    first: str
    second: str
    area_m2: float
    geometry: dict


@dataclass
class CoverageReport:
    code: str
    name: str
    level: str
    area_m2: float
    gap_area_m2: float
    gap: dict | None  # GeoJSON of the parent's area no active child covers
    overlaps: list[Overlap]
    children: list[ChildCoverage]
    norms: dict[str, int] = field(default_factory=dict)


def in_scope(*, user, node: Node) -> bool:
    """Whether ``node``'s aggregate figures (coverage, counts) are inside the user's scope."""
    return Node.objects.filter(figures_node_q(user)).filter(pk=node.pk).exists()


def coverage_report(*, user, parent: Node) -> CoverageReport:
    """Gaps, overlaps and workload of ``parent``'s children, for a user whose scope holds ``parent``."""
    if not in_scope(user=user, node=parent):
        raise PermissionDenied(_("%(node)s is outside your area") % {"node": parent.code})
    return parent_coverage(parent=parent)


def parent_coverage(*, parent: Node) -> CoverageReport:
    """The report without a scope check: for operators at the console (management commands)."""
    from communitygrid.accounts.models import Role, User
    from communitygrid.registry.models import Household

    children = list(Node.objects.active().filter(parent=parent).exclude(kind__in=SPECIALISED_KINDS).order_by("code"))
    shapes = {c.pk: shape(c.geometry) for c in children if c.geometry}

    households = Counter()
    prefix = len(parent.path)
    for path, count in (Household.objects.filter(is_active=True, grid__path__startswith=parent.path)
                        .exclude(grid=parent).values_list("grid__path").annotate(n=Count("id"))):
        households[int(path[prefix:].split("/", 1)[0])] += count
    workers = dict(User.objects.filter(role=Role.GRID_WORKER, is_active=True, scope_nodes__in=children)
                   .values_list("scope_nodes").annotate(n=Count("id", distinct=True)))

    gap, gap_area, parent_area = None, 0.0, 0.0
    if parent.geometry:
        parent_shape = shape(parent.geometry)
        parent_area = area_m2(parent_shape)
        uncovered = parent_shape.difference(shapely.union_all(list(shapes.values()))) if shapes else parent_shape
        parts = [p for p in shapely.get_parts(uncovered) if p.geom_type == "Polygon" and area_m2(p) >= MIN_AREA_M2]
        if parts:
            merged = shapely.union_all(parts)
            gap, gap_area = to_geojson(merged), area_m2(merged)

    return CoverageReport(
        code=parent.code, name=parent.name, level=parent.level, area_m2=parent_area,
        gap_area_m2=gap_area, gap=gap, overlaps=_overlaps(children, shapes),
        children=[_child_coverage(c, shapes.get(c.pk), households[c.pk], workers.get(c.pk, 0)) for c in children],
        norms={"grid_households_min": settings.GRID_HOUSEHOLDS_MIN, "grid_households_max": settings.GRID_HOUSEHOLDS_MAX,
               "worker_households_norm": settings.WORKER_HOUSEHOLDS_NORM,
               "worker_households_overload": settings.WORKER_HOUSEHOLDS_OVERLOAD},
    )


def _overlaps(children: list[Node], shapes: dict) -> list[Overlap]:
    placed = [c for c in children if c.pk in shapes]
    if len(placed) < 2:
        return []
    tree = shapely.STRtree([shapes[c.pk] for c in placed])
    found = []
    first_idx, second_idx = tree.query([shapes[c.pk] for c in placed], predicate="intersects")
    for i, j in zip(first_idx.tolist(), second_idx.tolist()):
        if i < j:
            common = shapes[placed[i].pk].intersection(shapes[placed[j].pk])
            if area_m2(common) >= MIN_AREA_M2:
                found.append(Overlap(placed[i].code, placed[j].code, area_m2(common), to_geojson(common)))
    return found


def _child_coverage(child: Node, geom, households: int, workers: int) -> ChildCoverage:
    household_status = None
    if child.kind == GridKind.COMPREHENSIVE:
        if households < settings.GRID_HOUSEHOLDS_MIN:
            household_status = "below"
        elif households > settings.GRID_HOUSEHOLDS_MAX:
            household_status = "above"
        else:
            household_status = "within"
    per_worker = households / workers if workers else None
    worker_status = None
    if households:
        if per_worker is None:
            worker_status = "no_worker"
        elif per_worker >= settings.WORKER_HOUSEHOLDS_OVERLOAD:
            worker_status = "overload"
        elif per_worker > settings.WORKER_HOUSEHOLDS_NORM:
            worker_status = "above_norm"
        else:
            worker_status = "within"
    return ChildCoverage(code=child.code, name=child.name, level=child.level, kind=child.kind,
                         area_m2=area_m2(geom) if geom is not None else 0.0, households=households,
                         household_status=household_status, workers=workers, households_per_worker=per_worker,
                         worker_status=worker_status)
