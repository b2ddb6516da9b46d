"""Intake benchmark: case submissions through real HTTP on PostgreSQL, with concurrent clients.

Re-creates the database named in DATABASE_URL, builds the test city (8 grids, 2 grid workers
each, staff at every level), a year of history (``--history`` cases, a dozen open per worker,
statistics taken) and signed-in residents, starts the server (``--server``, by
default the one ``communitygrid serve`` runs) on the project's settings, middleware and URLs
(``intake_site.py`` adds the bare endpoint), and drives it with ``wrk`` (HTTP/1.1 keep-alive,
``--connections`` concurrent clients) for ``--seconds``:

1. ``POST /ping/``: session authentication, CSRF check, one INSERT — the ceiling of the stack;
2. ``POST /api/v1/cases/`` with an ``Idempotency-Key``: the real intake (validation, grid
   lookup, tier, deadlines on the calendar, routing by category, location and workload, the
   event log, the assignment notice).

wrk runs on the same 2 cores as the server and PostgreSQL; its own CPU time, the server's,
PostgreSQL's (the backends serving the run) and the machine's CPU use during each run are printed,
so the reader sees where the two cores went. After
the run the database is checked: exactly one case per 201 answer, each with its events.

    apt-get install wrk      # Debian's package; the script refuses to run without it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_intake \\
        .venv/bin/python benchmarks/bench_intake.py [--server granian] [--compare]

``--compare`` runs the bare endpoint on every server (waitress, gunicorn sync and gthread,
granian) before the intake on ``--server``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", "/tmp/cg-bench-intake")
os.environ.setdefault("CG_LOG_LEVEL", "ERROR")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_intake")
CSRF = "benchmarkcsrfbenchmarkcsrfbenchm"  # 32 letters, as Django expects: the cookie and the header agree
CATEGORIES = ["elderly_visit", "env_sorting", "convenience", "affairs_policy"]


def server_command(name: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line of each server under test, serving ``communitygrid.wsgi:application``."""
    bind = f"127.0.0.1:{port}"
    if name == "waitress":  # one process by design: threads only
        return [sys.executable, "-m", "waitress", f"--listen={bind}", f"--threads={threads}",
                "--backlog=2048", "--connection-limit=1000", "communitygrid.wsgi:application"]
    if name == "gunicorn-sync":  # one request per process at a time; no keep-alive
        return [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", str(workers), "-b", bind,
                "--backlog", "2048", "communitygrid.wsgi:application"]
    if name == "gunicorn-gthread":
        return [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
                "-b", bind, "--backlog", "2048", "communitygrid.wsgi:application"]
    if name == "granian":
        return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
                "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
                "--no-ws", "--log-level", "warning", "communitygrid.wsgi:application"]
    if name == "serve":  # the production command itself
        return [sys.executable, "-m", "communitygrid.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--threads", str(threads), "--no-periodic"]
    raise SystemExit(f"unknown server {name!r}")


SERVERS = ["waitress", "gunicorn-sync", "gunicorn-gthread", "granian"]


def prepare(residents: int, history: int = 0) -> list[str]:
    """Fresh database with the test city, ``history`` closed cases of the past year in it (its
    statistics taken, as a city in service has them); returns one session cookie per signed-in
    resident."""
    from bench_sweep import recreate_database  # this script's folder is on sys.path

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection

    from communitygrid.accounts.models import Role, User
    from communitygrid.testing import build_city, make_user

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
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
    if history:
        _seed_history(city, history)
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


def _seed_history(city, count: int) -> None:
    """``count`` cases of the past year, spread over the grids, the categories and the workers,
    closed but for a dozen per worker still in hand, then ANALYZE: the planner sees a table in
    service, not a new one."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from communitygrid.accounts.models import Role, User
    from communitygrid.cases.models import Case, Category, Status

    rng = random.Random(2025)
    categories = list(Category.objects.filter(code__in=CATEGORIES))
    workers = {grid.pk: list(User.objects.filter(role=Role.GRID_WORKER, scope_nodes=grid)) for grid in city.grids}
    now = timezone.now()
    # A worker in service holds some cases still open (about 12 each here), the rest are closed.
    still_open = min(count, 12 * sum(len(people) for people in workers.values()))
    rows = []
    for n in range(count):
        grid = rng.choice(city.grids)
        is_open = n < still_open
        created = now - (dt.timedelta(days=20 * rng.random()) if is_open else dt.timedelta(days=4 + 361 * rng.random()))
        category = rng.choice(categories)
        closed = None if is_open else created + dt.timedelta(days=rng.uniform(0.2, 6))
        rows.append(Case(category=category, tier=category.default_tier, tier_reason="history", description="历史诉求",
                         status=Status.IN_PROGRESS if is_open else Status.CLOSED, channel="web", grid=grid,
                         assignee=rng.choice(workers[grid.pk]),
                         lon=round(120.0 + 0.04 * rng.random(), 6), lat=round(30.0 + 0.04 * rng.random(), 6),
                         created_at=created, updated_at=closed or created, accepted_at=created + dt.timedelta(hours=2),
                         resolved_at=closed, closed_at=closed))
    Case.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def lua_script(cookies: list[str], *, path: str, bodies: list[str]) -> str:
    """wrk's request generator: rotating sessions, a unique Idempotency-Key per request, and a
    ``done`` hook printing the figures as one JSON line."""
    lua_list = lambda items: "{" + ",".join(json.dumps(item, ensure_ascii=False) for item in items) + "}"  # noqa: E731
    return f"""
local cookies = {lua_list(cookies)}
local bodies = {lua_list(bodies)}
local counter, tid = 0, 0
local threads = {{}}
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local n = counter + tid * 7919
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Cookie"] = cookies[(n % #cookies) + 1]
  headers["X-CSRFToken"] = "{CSRF}"
  headers["Idempotency-Key"] = "RUN-" .. tid .. "-" .. counter
  return wrk.format("POST", "{path}", headers, bodies[(n % #bodies) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "timeouts": %d, "non_2xx": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, '
    .. '"max_ms": %.2f}}\\n', summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def case_bodies(count: int = 2000) -> list[str]:
    rng = random.Random(20261129)
    return [json.dumps({"category": rng.choice(CATEGORIES), "description": "楼道灯坏了，请尽快维修",
                        "lon": round(120.0 + 0.04 * rng.random(), 6), "lat": round(30.0 + 0.04 * rng.random(), 6)},
                       ensure_ascii=False) for _ in range(count)]


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants that are alive now."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(rest[1]), []).append(int(entry.name))
        stats[int(entry.name)] = (int(rest[11]) + int(rest[12])) / ticks
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, 0.0)
        todo += children.get(current, [])
    return total


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
            except OSError:
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def renice(niceness: int, server_pid: int) -> None:
    """Give the server, its PostgreSQL backends and wrk priority over other jobs on a shared machine."""
    import psycopg

    pids = _descendants(server_pid)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        pids += [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    for pid in pids:
        # Linux keeps a nice value per thread: every thread of the process (Granian's and
        # waitress's request threads) must be changed.
        try:
            threads = [int(task) for task in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        for tid in threads:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except OSError:
                pass


def _backend_pids() -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the server's persistent connections)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def _cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of these processes (0 for one that is gone or not visible from here)."""
    total = 0.0
    for pid in pids:
        try:
            rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    return total


def drive(port: int, script: str, *, connections: int, threads: int, seconds: float, server_pid: int,
          niceness: int | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        # Keys unique per run: the warm-up's must not come back as replays.
        handle.write(script.replace('"RUN-"', f'"{uuid.uuid4().hex[:12]}-"'))
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if niceness is not None:
        renice(niceness, server_pid)
    # Backends opened during the run (a thread's first request) are counted from 0; a backend that
    # closes during the run is lost (persistent connections: none does).
    backends0 = {pid: _cpu_seconds([pid]) for pid in _backend_pids()}
    busy0, total0 = _cpu_jiffies()
    server0 = _tree_cpu_seconds(server_pid)
    try:
        out = subprocess.run(
            ([] if niceness is None else ["nice", "-n", str(niceness)]) + ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", handle.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    busy1, total1 = _cpu_jiffies()
    database_cpu = sum(_cpu_seconds([pid]) - backends0.get(pid, 0.0) for pid in _backend_pids())
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    duration = result["duration_us"] / 1e6
    wrk_cpu = (after_children.ru_utime + after_children.ru_stime) - (before_children.ru_utime + before_children.ru_stime)
    result.update(
        per_second=result["requests"] / duration,
        machine_busy=(busy1 - busy0) / max(total1 - total0, 1) * os.cpu_count(),
        wrk_cores=wrk_cpu / duration,
        server_cores=(_tree_cpu_seconds(server_pid) - server0) / duration,
        database_cores=database_cpu / duration,
    )
    # The server's CPU per request (PostgreSQL's backends are not visible from here when the
    # database runs in another container): with every core to itself the server alone could
    # not go beyond cores / this.
    per_request = result["server_cores"] / result["per_second"]
    result.update(cpu_ms_per_request=1000 * per_request, cpu_bound_per_second=os.cpu_count() / per_request,
                  database_ms_per_request=1000 * result["database_cores"] / result["per_second"])
    return result


def start_server(command: list[str], port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "intake_site", "PYTHONPATH": f"{HERE}:{ROOT}"}
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/cases/categories", timeout=2)
        except urllib.error.HTTPError:
            return server  # answering (401: not signed in)
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"server exited: {' '.join(command)}")
            time.sleep(0.2)
        else:
            return server
    stop_server(server)
    raise SystemExit(f"server did not answer: {' '.join(command)}")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, 15)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, 9)
        server.wait()


def report(label: str, result: dict) -> None:
    errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
    print(f"{label:44s} {result['per_second']:7.0f} req/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms"
          f"  ({result['requests']:,} requests, {errors} errors)  CPU: machine {result['machine_busy']:.2f} cores,"
          f" server {result['server_cores']:.2f}, PostgreSQL {result['database_cores']:.2f}, wrk {result['wrk_cores']:.2f};"
          f" per request: server {result['cpu_ms_per_request']:.2f} ms CPU, PostgreSQL {result['database_ms_per_request']:.2f} ms"
          f" (≤ {result['cpu_bound_per_second']:.0f}/s on {os.cpu_count()} free cores for the server alone,"
          f" ≤ {1000 * os.cpu_count() / (result['cpu_ms_per_request'] + result['database_ms_per_request']):.0f}/s"
          f" with PostgreSQL beside it)", flush=True)


def check_cases(created: int) -> str:
    """Every answered submission is one whole case in the database: the case and its events."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        # The seeded history (tier_reason "history") is left out of every count.
        cases, = conn.execute("SELECT count(*) FROM cases_case WHERE tier_reason <> 'history'").fetchone()
        without_events, = conn.execute(
            "SELECT count(*) FROM cases_case c WHERE tier_reason <> 'history' "
            "AND NOT EXISTS (SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id)").fetchone()
        unassigned, = conn.execute("SELECT count(*) FROM cases_case WHERE tier_reason <> 'history' "
                                   "AND assignee_id IS NULL AND department_id IS NULL").fetchone()
    # Requests still in flight when wrk stops are answered and written, but not counted by wrk.
    return (f"database: {cases:,} cases for {created:,} submissions answered 2xx within the runs (incl. warm-up; "
            f"the difference is requests in flight when wrk stopped), {without_events} without events, "
            f"{unassigned} not routed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="serve", choices=[*SERVERS, "serve"])
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: 2×cores, waitress 1)")
    parser.add_argument("--threads", type=int, default=None, help="threads per process")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive clients (wrk -c)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--history", type=int, default=20000,
                        help="closed cases of the past year in the database before the runs (0: an empty table)")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--compare", action="store_true", help="bare endpoint on every server first")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--nice", type=int, default=None,
                        help="run the server, its PostgreSQL backends and wrk at this niceness (e.g. -10, as root) "
                             "when other jobs share the machine; the report says so")
    args = parser.parse_args()
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("bench_intake needs DATABASE_URL=postgres://…")
    if shutil.which("wrk") is None:
        sys.exit("bench_intake needs wrk: apt-get install wrk")
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{os.cpu_count()} cores; wrk -t {args.wrk_threads} -c {args.connections}, {args.seconds:g} s per run"
          + (f"; server, its PostgreSQL backends and wrk at nice {args.nice}" if args.nice is not None else ""),
          flush=True)
    cookies = prepare(residents=max(args.connections, 50), history=args.history)
    ping = lua_script(cookies, path="/ping/", bodies=["{}"])
    intake = lua_script(cookies, path="/api/v1/cases/", bodies=case_bodies())

    def run(server_name: str, scripts: list[tuple[str, str]]) -> int:
        workers = args.workers or (1 if server_name == "waitress" else 2 * os.cpu_count())
        threads = args.threads or {"waitress": 16, "gunicorn-sync": 1}.get(server_name, 4)
        server = start_server(server_command(server_name, args.port, workers, threads), args.port)
        shape = f"{server_name} {workers}×{threads}" if server_name != "gunicorn-sync" else f"{server_name} {workers}"
        answered = 0
        try:
            for label, script in scripts:
                kwargs = dict(connections=args.connections, threads=args.wrk_threads, server_pid=server.pid,
                              niceness=args.nice)
                warm = drive(args.port, script, seconds=args.warmup, **kwargs)
                result = drive(args.port, script, seconds=args.seconds, **kwargs)
                if label == "intake":
                    answered += warm["requests"] - warm["non_2xx"] + result["requests"] - result["non_2xx"]
                report(f"{shape}: {'insert one row' if label == 'ceiling' else 'POST /api/v1/cases/'}", result)
        finally:
            stop_server(server)
        return answered

    if args.compare:
        for name in SERVERS:
            run(name, [("ceiling", ping)])
    scripts = ([] if args.skip_ceiling or args.compare else [("ceiling", ping)]) + [("intake", intake)]
    answered = run(args.server, scripts)
    print(check_cases(answered))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
