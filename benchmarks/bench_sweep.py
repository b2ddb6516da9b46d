"""Deadline sweep benchmark: one ``sweep_once`` over N open cases of which D are due.

Builds (or reuses, ``--reuse``) a PostgreSQL database of its own: the test city's hierarchy
(1 district, 2 streets, 4 communities, 8 grids), two grid workers per grid and staff at every
level, then COPYs N open cases in. Of these, D are due now — half for the 80 % warning, half
for escalation after a breached respond deadline — and the rest have their next checkpoint
later. It then times one sweep (which warns or escalates the D cases, writing an event and a
pending notice for each), a second, idle sweep, and the separate job that turns the pending
notices into outbox notifications.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_sweep \\
        .venv/bin/python benchmarks/bench_sweep.py [--cases 1000000] [--due 10000] [--reuse]

The database named in DATABASE_URL is dropped and re-created unless ``--reuse`` is given.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", "/tmp/cg-bench-sweep")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_sweep")


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def year_of_cases_sql(n: int, categories: list[int], **columns: str) -> str:
    """``INSERT … SELECT`` of N hotline cases spread over the last 365 days (``i`` numbers them,
    ``t`` is when each came), over ``categories``, submitted by the account given as the one
    parameter; ``columns`` (SQL by column name) add to or replace these."""
    from communitygrid.testing import insert_cases_sql

    return insert_cases_sql(
        f"(SELECT i, now() - (i * interval '365 days' / {n}) AS t FROM generate_series(1, {n}) AS i) AS g",
        **{"category_id": f"(ARRAY{categories})[1 + i %% {len(categories)}]", "tier": "'general'",
           "description": "'benchmark case ' || i", "channel": "'hotline'", "lon": "120.005", "lat": "30.005",
           "submitted_by_id": "%s", "supervised": "false", "created_at": "t", "updated_at": "t + interval '2 days'",
           "respond_by": "t + interval '1 day'", "resolve_by": "t + interval '5 days'", **columns},
    )


def build(cases: int, due: int, now: dt.datetime) -> None:
    from django.core.management import call_command
    from django.db import connection

    from communitygrid.accounts.models import Role
    from communitygrid.cases.models import Category
    from communitygrid.testing import build_city, make_user

    call_command("migrate", verbosity=0)
    city = build_city()
    workers = []
    for grid in city.grids:
        workers += [make_user(Role.GRID_WORKER, scope=[grid]) for _ in range(2)]
        make_user(Role.GRID_LEADER, scope=[grid])
    for community in city.communities:
        make_user(Role.COMMUNITY_STAFF, scope=[community])
    for street in city.streets:
        make_user(Role.STREET_STAFF, scope=[street])
    make_user(Role.DISTRICT_STAFF, scope=[city.district])
    categories = list(Category.objects.filter(parent__isnull=False, handler="grid_worker").values_list("id", flat=True))
    grid_of_worker = {w.pk: w.scope_nodes.get().pk for w in workers}
    worker_ids = list(grid_of_worker)

    rng = random.Random(7)
    columns = [
        "category_id", "tier", "tier_reason", "priority", "description", "status", "channel", "grid_id", "lon", "lat",
        "submitted_by_id", "caller_name", "idempotency_key", "external_id", "assignee_id", "escalation_level",
        "supervised", "reopen_count", "rejection_reason", "redirect_to", "rating_comment", "verdict", "created_at",
        "updated_at", "pause_reason", "paused_seconds", "respond_by", "resolve_by", "warn_at", "escalate_at",
        "next_check_at",
    ]
    hour = dt.timedelta(hours=1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY cases_case ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(cases):
                worker = worker_ids[i % len(worker_ids)]
                if i < due // 2:  # warning due now
                    created = now - 20 * hour
                    respond, warn, escalate = now + 4 * hour, now - dt.timedelta(minutes=1), now + 4 * hour
                elif i < due:  # respond deadline breached
                    created = now - 30 * hour
                    respond, warn, escalate = now - dt.timedelta(minutes=5), None, now - dt.timedelta(minutes=5)
                else:  # open, nothing due yet
                    created = now - rng.randint(1, 18) * hour
                    respond = created + 24 * hour
                    warn, escalate = created + 0.8 * 24 * hour, respond
                next_check = min(m for m in (warn, escalate) if m is not None)
                copy.write_row((
                    rng.choice(categories), "general", "", 0, "benchmark case", "assigned", "web",
                    grid_of_worker[worker], 120.005, 30.005, worker, "", "", "", worker, 0, False, 0, "", "", "", "",
                    created, created, "", 0, respond, created + 120 * hour, warn, escalate, next_check,
                ))
        cursor.execute("ANALYZE cases_case")
    print(f"built {cases:,} open cases ({due:,} due) in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database built by an earlier run")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench_sweep needs DATABASE_URL=postgres://…")
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from communitygrid.cases.models import Case, CaseEvent
    from communitygrid.cases.sweep import sweep_once

    now = timezone.now()
    if not args.reuse:
        build(args.cases, args.due, now)
    open_count = Case.objects.count()
    due_count = Case.objects.filter(next_check_at__lte=now).count()
    print(f"open cases: {open_count:,}; due now: {due_count:,}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT id FROM cases_case WHERE next_check_at <= %s ORDER BY next_check_at, id LIMIT 500",
                       [now])
        print("plan:", " / ".join(row[0].strip() for row in cursor.fetchall()[:3]))
    events_before = CaseEvent.objects.count()
    started = time.perf_counter()
    report = sweep_once(now)
    elapsed = time.perf_counter() - started
    print(f"sweep 1: {elapsed:.2f} s  {report}  events written: {CaseEvent.objects.count() - events_before:,}  "
          f"({due_count / elapsed:,.0f} due cases/s)")
    started = time.perf_counter()
    report = sweep_once(now)
    print(f"sweep 2 (nothing left to do): {time.perf_counter() - started:.3f} s  {report}")
    from communitygrid.cases.services import case_notices_send

    started = time.perf_counter()
    sent = 0
    while batch := case_notices_send():
        sent += batch
    elapsed = time.perf_counter() - started
    print(f"fan-out of the sweep's notices to the outbox (separate job): {sent:,} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
