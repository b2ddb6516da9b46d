"""Intake benchmark: case submissions through real HTTP on PostgreSQL, with concurrent clients.

Re-creates the database named in DATABASE_URL, builds the test city (8 grids, 2 grid workers
each, staff at every level) and signed-in residents, starts ``--servers`` waitress processes
(``--threads`` each) serving the project's middleware stack with the cases API, then drives
them from ``--clients`` keep-alive client threads for ``--seconds``: first a bare endpoint that
inserts one row (the ceiling of this server stack), then ``POST /api/v1/cases/`` (validation,
grid lookup, tier, deadlines on the calendar, duplicate check, dispatch by workload, event
log, assignment notification in the outbox), each with an ``Idempotency-Key``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_intake \\
        .venv/bin/python benchmarks/bench_intake.py [--clients 16] [--seconds 20] [--servers 2] [--threads 8]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", "/tmp/cg-bench-intake")
os.environ.setdefault("CG_LOG_LEVEL", "ERROR")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_intake")
CSRF = "benchmarkcsrfbenchmarkcsrfbenchm"  # 32 letters, as Django expects: the cookie and the header agree


def serve(port: int, threads: int) -> None:
    """One server process: the project's settings and middleware, the cases API and a bare insert."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.http import HttpResponse, JsonResponse
    from django.urls import path
    from ninja import NinjaAPI
    from ninja.security import django_auth
    from waitress import serve as waitress_serve

    from communitygrid.cases.api import router

    api = NinjaAPI(title="bench", urls_namespace="bench-api", auth=django_auth)
    api.add_router("/v1/cases", router)

    def insert_one_row(request):
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_ping (at) VALUES (now()) RETURNING id")
            return JsonResponse({"id": cursor.fetchone()[0]}, status=201)

    globals()["urlpatterns"] = [path("api/", api.urls), path("ping/", insert_one_row)]
    settings.ROOT_URLCONF = "__main__"
    settings.DEBUG = False
    # Thousands of cases go to 16 grid workers here: without this every case after the first
    # few hundred would find every worker at the cap and take the "left for the community" path.
    settings.CASE_WORKLOAD_CAP = 10**9
    waitress_serve(_wsgi(), host="127.0.0.1", port=port, threads=threads,
                   backlog=2048, connection_limit=1000, channel_timeout=30, _quiet=True)


def _wsgi():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def prepare(residents: int) -> list[str]:
    """Fresh database with the test city; returns one session cookie per signed-in resident."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection

    from communitygrid.accounts.models import Role, User
    from communitygrid.testing import build_city, make_user

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_ping (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
    city = build_city()
    for grid in city.grids:
        for _ in range(2):
            make_user(Role.GRID_WORKER, scope=[grid])
        make_user(Role.GRID_LEADER, scope=[grid])
    for community in city.communities:
        make_user(Role.COMMUNITY_STAFF, scope=[community])
    cookies = []
    for i in range(residents):
        user = User.objects.create(username=f"bench-resident-{i}", role=Role.RESIDENT)
        session = SessionStore()
        session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"sessionid={session.session_key}; csrftoken={CSRF}")
    connection.close()
    return cookies


def drive(ports: list[int], cookies: list[str], *, clients: int, seconds: float, path: str, body) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        port = ports[index % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookie = cookies[index % len(cookies)]
        mine, codes = [], {}
        while time.perf_counter() < stop_at:
            payload = json.dumps(body(rng)).encode()
            headers = {"Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": CSRF,
                       "Idempotency-Key": uuid.uuid4().hex, "Host": "127.0.0.1"}
            started = time.perf_counter()
            try:
                conn.request("POST", path, payload, headers)
                response = conn.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = 0
            mine.append(time.perf_counter() - started)
            codes[code] = codes.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies), "per_second": len(latencies) / elapsed, "statuses": statuses,
        "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def case_body(rng: random.Random) -> dict:
    return {"category": rng.choice(["elderly_visit", "env_sorting", "convenience", "affairs_policy"]),
            "description": "楼道灯坏了，请尽快维修", "lon": 120.0 + 0.04 * rng.random(), "lat": 30.0 + 0.04 * rng.random()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threads)
        return
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("bench_intake needs DATABASE_URL=postgres://…")
    cookies = prepare(residents=max(args.clients, 50))
    ports = [args.port + i for i in range(args.servers)]
    servers = [subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads)])
               for port in ports]
    try:
        for port in ports:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                    break
                except OSError:
                    time.sleep(0.2)
        drive(ports, cookies, clients=args.clients, seconds=2, path="/api/v1/cases/", body=case_body)  # warm-up
        for label, path, body in (("insert one row (ceiling)", "/ping/", lambda rng: {}),
                                  ("POST /api/v1/cases/", "/api/v1/cases/", case_body)):
            result = drive(ports, cookies, clients=args.clients, seconds=args.seconds, path=path, body=body)
            print(f"{label:28s} {result['per_second']:7.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                  f"p99 {result['p99_ms']:6.1f} ms  ({result['requests']:,} requests, status {result['statuses']})",
                  flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
