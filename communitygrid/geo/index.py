"""The in-memory point → node index over the active map of grids.

Answer rule: among the active nodes of the assignment tree (administrative areas,
comprehensive grids, micro-grids) whose polygon covers the point, the deepest wins; between
equally deep nodes (overlapping siblings, which the coverage report flags) the older node
(lower id) wins. Specialised grids overlap the tree on purpose and are answered separately
by :meth:`GridIndex.overlays`.

Speed comes from a raster over the map's extent, built as a quadtree: a cell that the
winning polygon covers entirely stores that polygon, so most points are answered by one
array lookup without any polygon test. Only cells crossed by a boundary keep a short list of
candidate polygons (in rank order) plus the polygon that covers the whole cell, if any, as
the fallback; points there are tested with ``shapely.intersects_xy`` on those few
candidates. Cell boxes are enlarged by a hair when classified, so a point that rounding puts
in the neighbouring cell still gets a correct answer.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, shape

from communitygrid.geo.models import LEVEL_DEPTH, SPECIALISED_KINDS

OUTSIDE = -1
_UNRESOLVED = -3
# Each quadtree level halves the cell; four levels give 16×16 fine cells across a typical
# leaf polygon, leaving roughly a quarter of the cells on a boundary.
QUADTREE_LEVELS = 4
MAX_CELLS = 1 << 22  # 16 MiB of int32 at most, whatever the map

NODE_FIELDS = ("id", "code", "name", "level", "kind", "parent_id", "geometry")


@dataclass(frozen=True)
class NodeInfo:
    id: int
    code: str
    name: str
    level: str
    kind: str
    parent_id: int | None


class GridIndex:
    """Build with :meth:`build`; query with :meth:`locate_id`, :meth:`locate_many`, :meth:`overlays`."""

    def __init__(self) -> None:
        self.token = ""
        self.nodes: dict[int, NodeInfo] = {}
        self._ids = np.empty(0, dtype=np.int64)  # node id by rank
        self._polys = np.empty(0, dtype=object)  # polygon by rank
        self._x0 = self._y0 = 0.0
        self._inv_cell = 1.0
        self._nx = self._ny = 0
        self._raster = np.full(0, OUTSIDE, dtype=np.int32)  # rank, OUTSIDE, or -2-b for boundary cell b
        self._b_offsets = np.zeros(1, dtype=np.int64)
        self._b_candidates = np.empty(0, dtype=np.int64)
        self._b_default = np.empty(0, dtype=np.int64)
        self._overlay_infos: list[NodeInfo] = []
        self._overlay_tree: shapely.STRtree | None = None

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, rows: Iterable[Mapping], *, levels: int = QUADTREE_LEVELS, max_cells: int = MAX_CELLS) -> "GridIndex":
        """An index over ``rows``: mappings with :data:`NODE_FIELDS` (GeoJSON geometry or None), all active."""
        index = cls()
        tree_rows, overlay_rows = [], []
        for row in rows:
            info = NodeInfo(row["id"], row["code"], row["name"], row["level"], row["kind"], row["parent_id"])
            if row["kind"] in SPECIALISED_KINDS:
                if row["geometry"]:
                    overlay_rows.append((info, row["geometry"]))
            else:
                index.nodes[info.id] = info
                if row["geometry"]:
                    tree_rows.append((info, row["geometry"]))
        index._build_overlays(overlay_rows)
        if tree_rows:
            index._build_raster(tree_rows, levels=levels, max_cells=max_cells)
        return index

    def _build_overlays(self, rows: list) -> None:
        if rows:
            self._overlay_infos = [info for info, _geometry in rows]
            self._overlay_tree = shapely.STRtree(_shapes([geometry for _info, geometry in rows]))

    def _build_raster(self, rows: list, *, levels: int, max_cells: int) -> None:
        rows.sort(key=lambda item: (-LEVEL_DEPTH[item[0].level], item[0].id))
        self._ids = np.array([info.id for info, _geometry in rows], dtype=np.int64)
        self._polys = _shapes([geometry for _info, geometry in rows])
        shapely.prepare(self._polys)

        x0, y0, x1, y1 = shapely.total_bounds(self._polys)
        parents = {info.parent_id for info, _geometry in rows}
        leaves = np.array([info.id not in parents for info, _geometry in rows])
        bounds = shapely.bounds(self._polys[leaves])
        leaf_size = float(np.median(np.sqrt((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]))))
        # Shapes stored without going through validation may be degenerate (no width).
        base = leaf_size if leaf_size > 0 else max(x1 - x0, y1 - y0, 1e-6)
        # Whole base cells past the extent, so the far edge lands inside the raster.
        while True:
            nx0, ny0 = int((x1 - x0) // base) + 1, int((y1 - y0) // base) + 1
            if nx0 * ny0 * 4**levels <= max_cells:
                break
            base *= 1.25
        cell = base / 2**levels
        self._x0, self._y0, self._inv_cell = float(x0), float(y0), 1.0 / cell
        self._nx, self._ny = nx0 * 2**levels, ny0 * 2**levels
        eps = cell * 1e-5

        # Level 0: every base cell, with the polygons that touch it (in rank order).
        reg_x, reg_y = np.meshgrid(np.arange(nx0), np.arange(ny0))
        reg_x, reg_y = reg_x.ravel(), reg_y.ravel()
        tree = shapely.STRtree(self._polys)
        pair_reg, pair_poly = tree.query(self._boxes(reg_x, reg_y, base, eps), predicate="intersects")
        order = np.lexsort((pair_poly, pair_reg))
        pair_reg, pair_poly = pair_reg[order], pair_poly[order]
        known_cover = np.zeros(len(pair_reg), dtype=bool)
        poly_bounds = shapely.bounds(self._polys)
        raster = np.full((ny0, nx0), OUTSIDE, dtype=np.int32)

        for level in range(levels + 1):
            size = base / 2**level
            touching, covers = self._classify(reg_x, reg_y, pair_reg, pair_poly, known_cover,
                                              poly_bounds, size, eps, tested_touch=level == 0)
            pair_reg, pair_poly, covers = pair_reg[touching], pair_poly[touching], covers[touching]
            # Below the first polygon covering the region nothing can win: drop the rest.
            starts = _group_starts(pair_reg)
            covers_before = np.cumsum(covers) - covers
            keep = covers_before == covers_before[starts][_group_index(pair_reg, starts)]
            pair_reg, pair_poly, covers = pair_reg[keep], pair_poly[keep], covers[keep]
            starts = _group_starts(pair_reg)

            top_reg, top_poly, top_covers = pair_reg[starts], pair_poly[starts], covers[starts]
            if level:
                raster[reg_y, reg_x] = OUTSIDE  # regions with no pair left stay outside
            raster[reg_y[top_reg[top_covers]], reg_x[top_reg[top_covers]]] = top_poly[top_covers]
            open_regions = top_reg[~top_covers]
            if level == levels:
                self._store_boundary_cells(raster, reg_x, reg_y, open_regions, pair_reg, pair_poly, covers)
                break
            raster[reg_y[open_regions], reg_x[open_regions]] = _UNRESOLVED
            raster = np.repeat(np.repeat(raster, 2, axis=0), 2, axis=1)
            reg_x, reg_y, pair_reg, pair_poly, known_cover = _children(
                reg_x, reg_y, open_regions, pair_reg, pair_poly, covers)

        self._raster = raster.ravel()

    def _classify(self, reg_x, reg_y, pair_reg, pair_poly, known_cover, poly_bounds, size, eps, *, tested_touch):
        """Whether each (region, polygon) pair touches and whether the polygon covers the region.

        A polygon that covered the parent region covers this one too; a polygon whose bounding
        box misses the region cannot touch it. Only the rest reach GEOS.
        """
        bx0 = self._x0 + reg_x[pair_reg] * size - eps
        by0 = self._y0 + reg_y[pair_reg] * size - eps
        bx1, by1 = bx0 + size + 2 * eps, by0 + size + 2 * eps
        pb = poly_bounds[pair_poly]
        maybe = ~known_cover & (pb[:, 0] <= bx1) & (pb[:, 2] >= bx0) & (pb[:, 1] <= by1) & (pb[:, 3] >= by0)
        tested = np.nonzero(maybe)[0]
        regions, box_of_pair = np.unique(pair_reg[tested], return_inverse=True)
        rx0, ry0 = self._x0 + reg_x[regions] * size - eps, self._y0 + reg_y[regions] * size - eps
        boxes = shapely.box(rx0, ry0, rx0 + size + 2 * eps, ry0 + size + 2 * eps)[box_of_pair]
        polys = self._polys[pair_poly[tested]]
        touch = np.ones(len(tested), dtype=bool) if tested_touch else shapely.intersects(polys, boxes)
        cover = np.zeros(len(tested), dtype=bool)
        cover[touch] = shapely.covers(polys[touch], boxes[touch])
        touching, covers = known_cover.copy(), known_cover.copy()
        touching[tested], covers[tested] = touch, cover
        return touching, covers

    def _boxes(self, reg_x: np.ndarray, reg_y: np.ndarray, size: float, eps: float) -> np.ndarray:
        bx, by = self._x0 + reg_x * size, self._y0 + reg_y * size
        return shapely.box(bx - eps, by - eps, bx + size + eps, by + size + eps)

    def _store_boundary_cells(self, raster, reg_x, reg_y, open_regions, pair_reg, pair_poly, covers) -> None:
        """Candidate lists (CSR) for cells no single polygon answers; the covering polygon, if any, is the fallback."""
        in_open = np.isin(pair_reg, open_regions)
        pair_reg, pair_poly, covers = pair_reg[in_open], pair_poly[in_open], covers[in_open]
        starts = _group_starts(pair_reg)
        regions = pair_reg[starts]
        ends = np.append(starts[1:], len(pair_reg))
        has_default = covers[ends - 1]
        self._b_default = np.where(has_default, pair_poly[ends - 1], OUTSIDE).astype(np.int64)
        candidate = ~covers
        self._b_candidates = pair_poly[candidate].astype(np.int64)
        counts = (ends - starts) - has_default
        self._b_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        raster[reg_y[regions], reg_x[regions]] = -2 - np.arange(len(regions), dtype=np.int32)

    def stats(self) -> dict:
        boundary = len(self._b_default)
        return {
            "columns": self._nx,
            "rows": self._ny,
            "boundary_cells": boundary,
            "boundary_share": boundary / max(1, self._nx * self._ny),
            "candidates": len(self._b_candidates),
        }

    # --- queries -------------------------------------------------------------------------------

    def locate_id(self, lon: float, lat: float) -> int:
        """The id of the deepest node covering the point, or :data:`OUTSIDE` (-1)."""
        fx = (lon - self._x0) * self._inv_cell
        fy = (lat - self._y0) * self._inv_cell
        if not (0.0 <= fx < self._nx and 0.0 <= fy < self._ny):
            return OUTSIDE
        value = self._raster.item(int(fy) * self._nx + int(fx))
        if value >= 0:
            return self._ids.item(value)
        if value == OUTSIDE:
            return OUTSIDE
        b = -2 - value
        for rank in self._b_candidates[self._b_offsets.item(b):self._b_offsets.item(b + 1)].tolist():
            if shapely.intersects_xy(self._polys[rank], lon, lat):
                return self._ids.item(rank)
        fallback = self._b_default.item(b)
        return self._ids.item(fallback) if fallback >= 0 else OUTSIDE

    def locate_many(self, lons, lats) -> np.ndarray:
        """Node ids (int64) for arrays of points; :data:`OUTSIDE` where no node covers the point (or NaN)."""
        lons = np.asarray(lons, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        result = np.full(lons.shape, OUTSIDE, dtype=np.int64)
        if not self._nx:
            return result
        fx = (lons - self._x0) * self._inv_cell
        fy = (lats - self._y0) * self._inv_cell
        inside = (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)  # False for NaN too
        points = np.nonzero(inside)[0]
        values = self._raster[fy[points].astype(np.int64) * self._nx + fx[points].astype(np.int64)]
        answered = values >= 0
        result[points[answered]] = self._ids[values[answered]]
        on_boundary = values <= -2
        bpoints = points[on_boundary]
        if len(bpoints):
            ranks = self._resolve_boundary(-2 - values[on_boundary].astype(np.int64), lons[bpoints], lats[bpoints])
            result[bpoints] = np.where(ranks >= 0, self._ids[np.maximum(ranks, 0)], OUTSIDE)
        return result

    def _resolve_boundary(self, cells: np.ndarray, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        starts = self._b_offsets[cells]
        counts = self._b_offsets[cells + 1] - starts
        first_pair = np.cumsum(counts) - counts
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(cells)), counts)
        candidates = self._b_candidates[np.repeat(starts - first_pair, counts) + np.arange(total)]
        hit = shapely.intersects_xy(self._polys[candidates], lons[owner], lats[owner])
        # Candidates are in rank order: the first hit of each point wins.
        first_hit = np.minimum.reduceat(np.where(hit, np.arange(total), total), first_pair)
        return np.where(first_hit < total, candidates[np.minimum(first_hit, total - 1)], self._b_default[cells])

    def overlays(self, lon: float, lat: float) -> list[NodeInfo]:
        """The specialised grids (safety, health, …) covering the point, by kind then code."""
        if self._overlay_tree is None:
            return []
        hits = self._overlay_tree.query(Point(lon, lat), predicate="intersects")
        return sorted((self._overlay_infos[i] for i in hits), key=lambda info: (info.kind, info.code))

    def path_ids(self, node_id: int) -> list[int]:
        """The node and its active ancestors in the tree, root first."""
        path = []
        while node_id in self.nodes and node_id not in path:
            path.append(node_id)
            node_id = self.nodes[node_id].parent_id
        return path[::-1]


def _shapes(geometries: list[dict]) -> np.ndarray:
    """Shapely geometries for stored GeoJSON; a stored shape that is invalid is made valid, not trusted."""
    geoms = np.array([shape(geometry) for geometry in geometries], dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts in a sorted array."""
    if not len(sorted_keys):
        return np.empty(0, dtype=np.int64)
    return np.concatenate([[0], np.nonzero(sorted_keys[1:] != sorted_keys[:-1])[0] + 1])


def _group_index(sorted_keys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each element, the number of its run (an index into ``starts``)."""
    marks = np.zeros(len(sorted_keys), dtype=np.int64)
    marks[starts[1:]] = 1
    return np.cumsum(marks)


def _children(reg_x, reg_y, open_regions, pair_reg, pair_poly, covers):
    """The four quadrants of each open region, each inheriting its parent's candidates in rank order."""
    quadrant_dx = np.array([0, 1, 0, 1])
    quadrant_dy = np.array([0, 0, 1, 1])
    child_x = (2 * reg_x[open_regions][:, None] + quadrant_dx).ravel()
    child_y = (2 * reg_y[open_regions][:, None] + quadrant_dy).ravel()
    new_number = np.full(len(reg_x), -1, dtype=np.int64)
    new_number[open_regions] = np.arange(len(open_regions))
    parent = new_number[pair_reg]
    inherited = parent >= 0
    parent, poly, cover = parent[inherited], pair_poly[inherited], covers[inherited]
    child_reg = (4 * parent[:, None] + np.arange(4)).ravel()
    child_poly, child_cover = np.repeat(poly, 4), np.repeat(cover, 4)
    order = np.argsort(child_reg, kind="stable")  # stable: keeps rank order within a region
    return child_x, child_y, child_reg[order], child_poly[order], child_cover[order]


# --- the process-wide index for the current map ------------------------------------------------

_lock = threading.Lock()
_current: GridIndex | None = None
_checked_at = 0.0  # time.monotonic() when _current's token was last compared with the database's


def current_index(max_age: float = 0.0) -> GridIndex:
    """The index of the active map, rebuilt when the map's version token has changed.

    One small query per call, unless ``max_age`` > 0: then a token compared less than
    ``max_age`` seconds ago is trusted without a query. A caller that trusts it must confirm
    the token where it writes (the intake does, inside its INSERT: ``index.token``), since
    another process may have changed the map in between. The token is read *before* the
    nodes, so an index is never labelled newer than the data it was built from; every process
    compares the token, so a change made by one process reaches all of them.
    """
    global _current, _checked_at
    from communitygrid.geo.models import MapVersion, Node

    index, now = _current, time.monotonic()
    if max_age > 0 and index is not None and now - _checked_at < max_age:
        return index
    token = MapVersion.current_token()
    if index is not None and index.token == token:
        _checked_at = now
        return index
    with _lock:
        if _current is not None and _current.token == token:
            _checked_at = now
            return _current
        index = GridIndex.build(Node.objects.active().values(*NODE_FIELDS).order_by())
        index.token = token
        _current, _checked_at = index, now
    return index


def expire() -> None:
    """Compare the token on the next call whatever its ``max_age`` (this process changed the map)."""
    global _checked_at
    _checked_at = 0.0
