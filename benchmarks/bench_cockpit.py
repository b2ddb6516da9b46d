"""Cockpit benchmark: the page and every API figure over 2,000,000 historical cases on PostgreSQL.

Builds (or reuses, ``--reuse``) a PostgreSQL database of its own: a city of 6 districts,
48 streets, 480 communities and 1,920 grids (one grid worker each), then writes N cases over the
past two years with one ``INSERT … SELECT … FROM generate_series`` (no ORM, no Python per row):
most closed (rated, some by default, some reopened or escalated), the recent ones still open,
some overdue. It then builds the rollups (``rollups_rebuild`` + ``present_refresh``, timed) and
times, through Django's test client in-process (server time: middleware, views, queries,
templates; no network), the cockpit page and each figure of ``/api/v1/insights/`` for a leader
of one district and for the administrator (whole city), for the default 30 days and for a
whole year, at district, street, community and grid level. Reports p50/p95 per request kind.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_cockpit \\
        .venv/bin/python benchmarks/bench_cockpit.py [--cases 2000000] [--repeat 20] [--reuse]

The database named in DATABASE_URL is dropped and re-created unless ``--reuse`` is given.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", "/tmp/cg-bench-cockpit")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_cockpit")
os.makedirs(os.path.join(os.environ["CG_DATA_DIR"], "static"), exist_ok=True)

from bench_sweep import recreate_database  # noqa: E402  (the same throw-away database)

DISTRICTS, STREETS, COMMUNITIES, GRIDS = 6, 8, 10, 4   # per parent
CELL = 0.004  # degrees: a grid is CELL × CELL


def _square(lon: float, lat: float, width: float, height: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + width, lat], [lon + width, lat + height],
                                                [lon, lat + height], [lon, lat]]]}


def build_hierarchy():
    """Nodes level by level with bulk writes (the geo services' per-node work is not what is measured)."""
    from communitygrid.geo.models import Level, MapVersion, Node

    def level_nodes(parents, count, level, kind, size):
        nodes = []
        for parent in parents:
            for k in range(count):
                lon0, lat0 = parent["lon"], parent["lat"]
                cols = 4 if count > 4 else 2
                lon, lat = lon0 + (k % cols) * size, lat0 + (k // cols) * size
                nodes.append((parent, f"{parent['code']}-{k}", lon, lat))
        objs = Node.objects.bulk_create([
            Node(code=code, name=f"{level_names[level]}{code}", level=level, kind=kind, parent_id=parent["id"],
                 geometry=_square(lon, lat, size, size), min_lon=lon, min_lat=lat, max_lon=lon + size,
                 max_lat=lat + size)
            for parent, code, lon, lat in nodes])
        for obj, (parent, _code, _lon, _lat) in zip(objs, nodes):
            obj.path = f"{parent['path']}{obj.pk}/"
        Node.objects.bulk_update(objs, ["path"], batch_size=2000)
        return [{"id": o.pk, "code": o.code, "path": o.path, "lon": o.min_lon, "lat": o.min_lat} for o in objs]

    level_names = {Level.DISTRICT: "区", Level.STREET: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格"}
    grid_size = CELL
    community = grid_size * 2
    street = community * 4
    district = street * 4
    city = Node.objects.create(code="BC", name="基准市", level=Level.CITY, geometry=_square(120.0, 30.0, district * 4, district * 4))
    city.path = f"/{city.pk}/"
    city.save(update_fields=["path"])
    root = [{"id": city.pk, "code": "BC", "path": city.path, "lon": 120.0, "lat": 30.0}]
    districts = level_nodes(root, DISTRICTS, Level.DISTRICT, "area", district)
    streets = level_nodes(districts, STREETS, Level.STREET, "area", street)
    communities = level_nodes(streets, COMMUNITIES, Level.COMMUNITY, "area", community)
    grids = level_nodes(communities, GRIDS, Level.GRID, "comprehensive", grid_size)
    MapVersion.bump()
    return city, districts, streets, communities, grids


def build(cases: int, now: dt.datetime) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from communitygrid.accounts.models import Role, User
    from communitygrid.cases.models import Category
    from communitygrid.testing import insert_cases_sql

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    city, districts, streets, communities, grids = build_hierarchy()
    password = make_password("bench-only")
    workers = User.objects.bulk_create([User(username=f"w-{g['code']}", role=Role.GRID_WORKER, password=password,
                                             display_name=f"网格员{g['code']}") for g in grids])
    Through = User.scope_nodes.through
    Through.objects.bulk_create([Through(user_id=w.pk, node_id=g["id"]) for w, g in zip(workers, grids)])
    leader = User.objects.create(username="bench-leader", role=Role.LEADER, password=password)
    leader.scope_nodes.set([districts[0]["id"]])
    User.objects.create(username="bench-admin", role=Role.ADMIN, password=password, is_staff=True)
    print(f"hierarchy: {len(districts)} districts, {len(streets)} streets, {len(communities)} communities, "
          f"{len(grids)} grids, {len(workers)} workers in {time.perf_counter() - started:.1f} s", flush=True)

    categories = list(Category.objects.filter(parent__isnull=False).values_list("id", flat=True))
    grid_ids = ",".join(str(g["id"]) for g in grids)
    worker_ids = ",".join(str(w.pk) for w in workers)
    rows = f"""(
        SELECT *, CASE WHEN r4 < 0.02 THEN 'cancelled'
                       WHEN resolved <= %(now)s - interval '1 day' THEN 'closed'
                       WHEN resolved <= %(now)s THEN 'resolved'
                       WHEN accepted <= %(now)s THEN 'accepted' ELSE 'assigned' END AS status
        FROM (
            SELECT *, c + make_interval(secs => exp(r2 * 6.5) * 60) AS accepted,
                      c + make_interval(secs => exp(r2 * 6.5) * 60 + exp(r3 * 9.2) * 60) AS resolved,
                      CASE WHEN r1 < 0.1 THEN 'urgent' WHEN r1 < 0.85 THEN 'general' ELSE 'complex' END AS tier,
                      CASE WHEN r6 < 0.85 THEN 0 WHEN r6 < 0.95 THEN 1 WHEN r6 < 0.99 THEN 2 ELSE 3 END AS level,
                      (ARRAY[{grid_ids}])[gi] AS grid, (ARRAY[{worker_ids}])[gi] AS worker,
                      (ARRAY[{",".join(map(str, categories))}])[1 + floor(random() * {len(categories)})::int] AS cat
            FROM (
                SELECT i, %(now)s - make_interval(secs => power(random(), 1.3) * 730 * 86400) AS c,
                       random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
                       random() r8, random() r9, 1 + floor(random() * {len(grids)})::int AS gi
                FROM generate_series(1, %(cases)s) i
            ) a
        ) b
    ) s JOIN (SELECT id AS gid, min_lon AS glon, min_lat AS glat FROM geo_node) g ON g.gid = s.grid
    """
    sql = insert_cases_sql(
        rows, category_id="cat", tier="tier", tier_reason="'bench'", description="'bench'", status="status",
        channel="'app'", grid_id="grid", lon=f"g.glon + r8 * {CELL}", lat=f"g.glat + r9 * {CELL}",
        assignee_id="worker", escalation_level="level", supervised="false",
        reopen_count="CASE WHEN r7 < 0.03 THEN 1 ELSE 0 END",
        rating="CASE WHEN status = 'closed' AND r5 < 0.7 THEN 1 + floor(r5 / 0.7 * 5)::int END",
        verdict="CASE WHEN status = 'closed' THEN CASE WHEN r5 < 0.7 THEN 'confirmed' ELSE 'default' END ELSE '' END",
        created_at="c", updated_at="c", accepted_at="CASE WHEN accepted <= %(now)s THEN accepted END",
        resolved_at="CASE WHEN resolved <= %(now)s AND status IN ('closed', 'resolved') THEN resolved END",
        closed_at="CASE WHEN status = 'closed' THEN LEAST(resolved + interval '1 day', %(now)s) END",
        respond_by="c + CASE tier WHEN 'urgent' THEN interval '30 minutes' WHEN 'general' THEN interval '24 hours' "
                   "ELSE interval '72 hours' END",
        resolve_by="c + CASE tier WHEN 'urgent' THEN interval '1 day' WHEN 'general' THEN interval '3 days' "
                   "ELSE interval '7 days' END",
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(sql, {"now": now, "cases": cases})
        cursor.execute("ANALYZE cases_case")
    print(f"cases: {cases:,} written in {time.perf_counter() - started:.1f} s", flush=True)


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.1f} s {result if result else ''}", flush=True)
    return elapsed


def measure(repeat: int) -> list[tuple[str, float, float, float]]:
    from django.test import Client

    from communitygrid.accounts.models import User
    from communitygrid.geo.models import Level, Node
    from communitygrid.insights.selectors import FIGURES

    today = dt.date.today()
    year = {"start": (today - dt.timedelta(days=364)).isoformat(), "end": today.isoformat()}
    leader = User.objects.get(username="bench-leader")
    admin = User.objects.get(username="bench-admin")
    district = leader.scope_nodes.get()
    street = Node.objects.filter(parent=district).order_by("code").first()
    community = Node.objects.filter(parent=street).order_by("code").first()
    grid = Node.objects.filter(parent=community).order_by("code").first()
    plans = []
    for who, user in (("leader (1 district)", leader), ("admin (whole city)", admin)):
        for period, params in (("30 days", {}), ("1 year", year)):
            plans.append((f"cockpit page · {who} · {period}", user, "/insights/", params))
            for name in FIGURES:
                plans.append((f"figure {name} · {who} · {period}", user, f"/api/v1/insights/figures/{name}", params))
    for node in (street, community, grid):
        plans.append((f"cockpit page · leader · {node.level} · 1 year", leader, "/insights/", {**year, "node": node.code}))
        for name in FIGURES:
            plans.append((f"figure {name} · leader · {node.level} · 1 year", leader,
                          f"/api/v1/insights/figures/{name}", {**year, "node": node.code}))
    plans.append(("export summary.xlsx · leader · 1 year", leader, "/api/v1/insights/figures/summary",
                  {**year, "format": "xlsx"}))
    results = []
    clients = {}
    for label, user, url, params in plans:
        client = clients.get(user.pk)
        if client is None:
            client = clients[user.pk] = Client()
            client.force_login(user)
        client.get(url, params)  # warm (templates, translations, connection)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code, response.content[:300])
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        results.append((label, statistics.median(times), p95, times[-1]))
        print(f"{label:60s} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  max {times[-1]:7.1f} ms",
              flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--build-only", action="store_true", help="build the data and rollups, measure nothing")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the database (and its rollups) of an earlier run")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild the rollups all the same")
    args = parser.parse_args()
    if not args.reuse:
        recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.utils import timezone

    from communitygrid.cases.models import Case
    from communitygrid.insights.models import CaseRollup
    from communitygrid.insights.rollups import present_refresh, rollups_rebuild, rollups_update

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    if not args.reuse:
        build(args.cases, timezone.now())
    if not args.reuse or args.rebuild:
        timed("rollups_rebuild (all history)", rollups_rebuild)
        timed("present_refresh (open/overdue/urgent, workers, heat)", present_refresh)
    print(f"cases: {Case.objects.count():,}; rollup rows: {CaseRollup.objects.count():,}", flush=True)
    if args.build_only:
        return
    timed("rollups_update with nothing new (the periodic job's idle run)", rollups_update)
    results = measure(args.repeat)
    worst = max(results, key=lambda r: r[2])
    print(f"\nworst p95: {worst[2]:.1f} ms ({worst[0]}); target < 300 ms: {'met' if worst[2] < 300 else 'NOT met'}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
