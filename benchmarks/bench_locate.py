"""Point → grid benchmark: the accelerated index against a plain STRtree and a naive loop.

Deterministic synthetic map: a city → district → 4 streets → 100 communities → 10,000
comprehensive grids, the grids being a 100×100 lattice of jittered quadrilaterals (they tile
the area with no gap or overlap), each community 10×10 of them. Points are uniform over the
extent plus a 5% margin, so some fall outside every grid.

The index is built by ``GridIndex.build`` from node rows shaped like the database's, the same
call the application makes (``communitygrid.geo.index.current_index``).

    .venv/bin/python benchmarks/bench_locate.py [--grids-per-side 100] [--points 1000000]
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
if "CG_DATA_DIR" not in os.environ:  # settings need a data directory; this run touches no database
    os.environ["CG_DATA_DIR"] = tempfile.mkdtemp(prefix="cg-bench-locate-")
    atexit.register(shutil.rmtree, os.environ["CG_DATA_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from communitygrid.geo.geometry import to_geojson  # noqa: E402
from communitygrid.geo.index import OUTSIDE, GridIndex  # noqa: E402
from communitygrid.geo.models import LEVEL_DEPTH  # noqa: E402

LON0, LAT0, STEP = 120.0, 30.0, 0.003  # ~300 m grids near Hangzhou


def synthetic_rows(side: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    lattice_x = LON0 + STEP * (np.arange(side + 1)[None, :] + rng.uniform(-0.3, 0.3, (side + 1, side + 1)))
    lattice_y = LAT0 + STEP * (np.arange(side + 1)[:, None] + rng.uniform(-0.3, 0.3, (side + 1, side + 1)))
    # Straight outer edges, so the district is a clean rectangle.
    lattice_x[:, 0], lattice_x[:, -1] = LON0, LON0 + STEP * side
    lattice_y[0, :], lattice_y[-1, :] = LAT0, LAT0 + STEP * side
    rows: list[dict] = []

    def add(code, level, kind, parent_id, geom):
        rows.append({"id": len(rows) + 1, "code": code, "name": code, "level": level, "kind": kind,
                     "parent_id": parent_id, "geometry": to_geojson(geom) if geom is not None else None})
        return len(rows)

    grids = {}
    for j in range(side):
        for i in range(side):
            corners = [(lattice_x[j, i], lattice_y[j, i]), (lattice_x[j, i + 1], lattice_y[j, i + 1]),
                       (lattice_x[j + 1, i + 1], lattice_y[j + 1, i + 1]), (lattice_x[j + 1, i], lattice_y[j + 1, i])]
            grids[i, j] = shapely.Polygon(corners)
    block = 10
    communities = {}
    for cj in range(0, side, block):
        for ci in range(0, side, block):
            communities[ci // block, cj // block] = shapely.union_all(
                [grids[i, j] for i in range(ci, min(ci + block, side)) for j in range(cj, min(cj + block, side))])
    csx = max(1, (side // block + 1) // 2)
    streets = {}
    for (ci, cj), geom in communities.items():
        streets.setdefault((ci // csx, cj // csx), []).append(geom)
    district = shapely.union_all(list(communities.values()))
    city = add("CITY", "city", "area", None, None)  # a city without a polygon: its district carries the shape
    district_id = add("D", "district", "area", city, district)
    street_ids = {key: add(f"S{key[0]}{key[1]}", "street", "area", district_id, shapely.union_all(parts))
                  for key, parts in streets.items()}
    community_ids = {key: add(f"C{key[0]:02d}{key[1]:02d}", "community", "area",
                              street_ids[key[0] // csx, key[1] // csx], geom)
                     for key, geom in communities.items()}
    for (i, j), geom in grids.items():
        add(f"G{i:03d}{j:03d}", "grid", "comprehensive", community_ids[i // block, j // block], geom)
    return rows


def random_points(n: int, seed: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    extent = STEP * side
    margin = 0.05 * extent
    lons = rng.uniform(LON0 - margin, LON0 + extent + margin, n)
    lats = rng.uniform(LAT0 - margin, LAT0 + extent + margin, n)
    return lons, lats


def best_of(repeats: int, fn):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def strtree_locate(rows: list[dict], lons: np.ndarray, lats: np.ndarray):
    """The plain approach: STRtree point query (points built from the arrays), then the deepest hit per point."""
    polys = [r for r in rows if r["geometry"]]
    geoms = np.array([shapely.geometry.shape(r["geometry"]) for r in polys], dtype=object)
    ids = np.array([r["id"] for r in polys])
    rank = np.array([(-LEVEL_DEPTH[r["level"]]) * 10**9 + r["id"] for r in polys])
    tree = shapely.STRtree(geoms)

    def run():
        points = shapely.points(lons, lats)
        point_idx, poly_idx = tree.query(points, predicate="intersects")
        order = np.lexsort((rank[poly_idx], point_idx))
        point_idx, poly_idx = point_idx[order], poly_idx[order]
        first = np.concatenate([[True], point_idx[1:] != point_idx[:-1]]) if len(point_idx) else np.array([], bool)
        result = np.full(len(lons), OUTSIDE, dtype=np.int64)
        result[point_idx[first]] = ids[poly_idx[first]]
        return result

    return run


def naive_locate(rows: list[dict]):
    """The naive approach: for every point, test every polygon, keep the deepest."""
    polys = [(LEVEL_DEPTH[r["level"]], -r["id"], r["id"], shapely.geometry.shape(r["geometry"]))
             for r in rows if r["geometry"]]

    def run(lon: float, lat: float) -> int:
        best = None
        for depth, neg_id, node_id, geom in polys:
            if shapely.intersects_xy(geom, lon, lat) and (best is None or (depth, neg_id) > best[:2]):
                best = (depth, neg_id, node_id)
        return best[2] if best else OUTSIDE

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids-per-side", type=int, default=100, help="grids = side² (default 100 → 10,000)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=20_000, help="single lookups timed one by one")
    parser.add_argument("--naive-sample", type=int, default=200, help="points for the naive loop (extrapolated)")
    parser.add_argument("--repeats", type=int, default=3, help="batch runs; the best is reported")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()

    rows = synthetic_rows(args.grids_per_side, args.seed)
    n_polys = sum(1 for r in rows if r["geometry"])
    lons, lats = random_points(args.points, args.seed, args.grids_per_side)
    print(f"map: {len(rows):,} nodes, {n_polys:,} polygons ({args.grids_per_side**2:,} grids); points: {args.points:,}")

    build_s, index = best_of(1, lambda: GridIndex.build(rows))
    stats = index.stats()
    print(f"index build: {build_s:.2f} s; raster {stats['columns']}×{stats['rows']} cells, "
          f"{stats['boundary_cells']:,} boundary cells ({stats['boundary_share']:.1%}), "
          f"{stats['candidates']:,} candidates")

    batch_s, answers = best_of(args.repeats, lambda: index.locate_many(lons, lats))
    strtree_s, reference = best_of(args.repeats, strtree_locate(rows, lons, lats))
    grid_rows = [r for r in rows if r["level"] == "grid"]
    grids_only_s, grids_only = best_of(args.repeats, strtree_locate(grid_rows, lons, lats))
    mismatches = int(np.count_nonzero(answers != reference))
    # The grids tile the district, so a point in no grid is outside everything here.
    grids_only_mismatches = int(np.count_nonzero(answers != grids_only))
    outside = int(np.count_nonzero(answers == OUTSIDE))

    sample = np.random.default_rng(args.seed + 2).integers(0, args.points, args.single)
    timings = []
    for k in sample.tolist():
        lon, lat = float(lons[k]), float(lats[k])
        start = time.perf_counter_ns()
        index.locate_id(lon, lat)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    median_us = statistics.median(timings) / 1000
    p99_us = timings[int(len(timings) * 0.99)] / 1000

    naive = naive_locate(rows)
    naive_points = [(float(lons[k]), float(lats[k])) for k in sample[: args.naive_sample].tolist()]
    start = time.perf_counter()
    naive_answers = [naive(lon, lat) for lon, lat in naive_points]
    naive_s = time.perf_counter() - start
    naive_mismatches = sum(a != int(answers[k]) for a, k in zip(naive_answers, sample[: args.naive_sample].tolist()))

    print(f"outside every grid: {outside:,} points; accelerated index vs STRtree mismatches: {mismatches} "
          f"(whole hierarchy), {grids_only_mismatches} (grids only); vs naive loop (sample): {naive_mismatches}")
    print()
    print("| method | points | time | points/s | single lookup |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(f"| accelerated index, batch `locate_many` | {args.points:,} | {batch_s:.3f} s | "
          f"{args.points / batch_s:,.0f} | median {median_us:.1f} µs, p99 {p99_us:.1f} µs "
          f"(`locate_id`, {args.single:,} calls) |")
    print(f"| plain STRtree over the {len(grid_rows):,} grid polygons only | {args.points:,} | {grids_only_s:.3f} s | "
          f"{args.points / grids_only_s:,.0f} | |")
    print(f"| plain STRtree over all {n_polys:,} polygons, deepest hit per point | {args.points:,} | "
          f"{strtree_s:.3f} s | {args.points / strtree_s:,.0f} | |")
    print(f"| naive loop over all {n_polys:,} polygons | {args.naive_sample:,} (sample) | {naive_s:.3f} s | "
          f"{args.naive_sample / naive_s:,.0f} (extrapolated from the sample) | "
          f"{naive_s / args.naive_sample * 1e6:,.0f} µs per point |")


if __name__ == "__main__":
    main()
