"""The hot queries that have a partial index, run with PostgreSQL's generic plan.

The servers prepare a statement on its 5th use in a connection, and PostgreSQL may then run it
with a generic plan, made without the parameters' values; a partial index whose predicate names
a value the query passes as a parameter is then out of reach (``communitygrid.core.sql``).
This builds (or reuses, ``--reuse``) a database of N cases (95 % closed: a city's history), all
submitted by one account (as an Open311 client's), N notifications (1 % pending, half in-app)
and joint-handling tasks (one in about 175 open); takes the statement each hot query sends (as Django
sends it) and prints the generic plan's scans and its run time (EXPLAIN ANALYZE EXECUTE under
``plan_cache_mode = force_generic_plan``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_plans \\
        .venv/bin/python benchmarks/bench_generic_plans.py [--cases 200000] [--reuse]

The database named in DATABASE_URL is dropped and re-created unless ``--reuse`` is given.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", "/tmp/cg-bench-plans")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_plans")

from bench_sweep import recreate_database, year_of_cases_sql  # noqa: E402  (this script's folder is on sys.path)


def build(n: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from communitygrid.accounts.models import Department, Role
    from communitygrid.cases.models import Category
    from communitygrid.testing import build_city, make_user

    call_command("migrate", verbosity=0)
    city = build_city()
    workers = [make_user(Role.GRID_WORKER, scope=[grid], username=f"worker{i}") for i, grid in enumerate(city.grids)]
    department = Department.objects.create(code="bench", name="bench")
    make_user(Role.DEPARTMENT_STAFF, department=department, username="dept")
    people = [w.pk for w in workers]
    grids = [g.pk for g in city.grids]
    categories = list(Category.objects.filter(parent__isnull=False).values_list("id", flat=True))
    with connection.cursor() as cursor:
        # i drives everything: one case in 20 open (a third of these with the department), the rest closed.
        cursor.execute(year_of_cases_sql(
            n, categories,
            status="CASE WHEN i %% 20 <> 0 THEN 'closed' WHEN i %% 3 = 0 THEN 'assigned' ELSE 'in_progress' END",
            grid_id=f"(ARRAY{grids})[1 + i %% {len(grids)}]",
            assignee_id=f"CASE WHEN i %% 60 = 20 THEN NULL ELSE (ARRAY{people})[1 + i %% {len(people)}] END",
            department_id=f"CASE WHEN i %% 60 = 20 THEN {department.pk} END",
            next_check_at="CASE WHEN i %% 20 = 0 THEN now() + (i %% 97) * interval '1 hour' END",
        ), [people[0]])
        cursor.execute(f"""
            INSERT INTO notifications_notification (
                recipient_id, kind, subject, body, payload, channel, address, status, attempts, next_attempt_at,
                last_error_code, last_error_params, last_error, sent_at, read_at, created_at)
            SELECT (ARRAY{people})[1 + i %% {len(people)}], 'case_assigned', 'subject', '', '{{}}',
                   CASE WHEN i %% 2 = 0 THEN 'in_app' WHEN i %% 10 < 9 THEN 'email' ELSE 'webhook' END, '',
                   CASE WHEN i %% 100 = 1 THEN 'pending' ELSE 'sent' END, 1, t, '', '{{}}', '',
                   t, CASE WHEN i %% 50 <> 0 THEN t END, t
            FROM (SELECT i, now() - (i * interval '365 days' / {n}) AS t FROM generate_series(1, {n}) AS i) AS g
        """, [])
        cursor.execute(f"""
            INSERT INTO cases_casetask (case_id, assignee_id, description, due_at, state, result, created_at)
            SELECT c.id, c.assignee_id, 'task', c.created_at + interval '1 day',
                   CASE WHEN c.id %% 500 = 0 THEN 'open' ELSE 'done' END, '', c.created_at
            FROM cases_case c WHERE c.assignee_id IS NOT NULL AND c.id %% 4 = 0
        """, [])
        cursor.execute("ANALYZE")
    print(f"built {n:,} cases, {n:,} notifications", flush=True)


SCAN = r"(Seq Scan on|Index Scan(?: Backward)? using|Index Only Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)"


def hot_queries():
    """name → (action, pattern picking the statement of interest among those it sends)."""
    from django.utils import timezone

    from communitygrid.accounts.models import User
    from communitygrid.cases import services, sweep
    from communitygrid.cases.models import Category
    from communitygrid.notifications import selectors as notes
    from communitygrid.notifications import services as outbox
    from communitygrid.open311.selectors import RequestQuery, requests_page
    from communitygrid.workbench import selectors as workbench

    now = timezone.now()
    worker, dept = User.objects.get(username="worker0"), User.objects.get(username="dept")
    code = Category.objects.filter(parent__isnull=False).order_by("id").values_list("code", flat=True).first()
    return {
        "sweep: due cases": (lambda: list(sweep._due(now, set())[:500]), r"FROM \"cases_case\""),
        "sweep: overdue tasks": (lambda: sweep._report_overdue_tasks(now, __import__("collections").Counter()),
                                 r"FROM \"cases_casetask\""),
        "cases: a replay's earlier case by key": (lambda: services._existing(worker, "hotline", "key-1"),
                                                  r"idempotency_key"),
        "open311: open requests of a service": (
            lambda: requests_page(key=None, query=RequestQuery(service_codes=[code], statuses={"open"})),
            r"FROM \"cases_case\""),
        "workbench: worker's inbox": (lambda: workbench.inbox(user=worker), r"FROM \"cases_case\""),
        "workbench: worker's inbox count": (lambda: workbench.inbox_count(user=worker), r"COUNT"),
        "workbench: department queue": (lambda: workbench.inbox(user=dept), r"FROM \"cases_case\""),
        "notifications: claim due deliveries": (lambda: outbox._claim(now=now, batch=100, lease_seconds=60),
                                                r"^SELECT .*FOR UPDATE"),
        "notifications: unread count": (lambda: notes.unread_count(user=worker), r"COUNT"),
        "notifications: inbox page": (lambda: list(notes.inbox_for(user=worker)[:20]), r"notifications_notification"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database built by an earlier run")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench_generic_plans needs DATABASE_URL=postgres://…")
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.db import transaction

    from communitygrid.testing import generic_plan, statements_of

    if not args.reuse:
        build(args.cases)
    for name, (action, pattern) in hot_queries().items():
        with transaction.atomic():
            sent = [s for s in statements_of(action) if re.search(pattern, s[0], re.S)]
            sql, params = sent[0]
            plan = generic_plan(sql, params, analyze=True)
            transaction.set_rollback(True)
        scans = sorted(set(re.findall(SCAN, plan)))
        time_ms = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
        used = ", ".join(f"{kind} {index}".strip() for kind, index in scans)
        print(f"{name:40s} {float(time_ms):9.2f} ms  {used}")
        if os.environ.get("SHOW_PLANS"):
            print(plan)


if __name__ == "__main__":
    main()
