"""``communitygrid serve``: the production server answers through the project's WSGI stack."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_granian_workers_that_answer_through_the_project_stack(tmp_path):
    port = _free_port()
    env = {**os.environ, "CG_DATA_DIR": str(tmp_path), "CG_DEV_SECRETS": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DJANGO_SETTINGS_MODULE": "communitygrid.settings"}
    server = subprocess.Popen([sys.executable, "-m", "communitygrid.cli", "serve", "--port", str(port), "--workers", "2",
                               "--threads", "2", "--no-periodic"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, answers = time.monotonic() + 60, []
        while time.monotonic() < deadline and len(answers) < 4:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/cases/categories", timeout=5)
            except urllib.error.HTTPError as refused:  # the API's own answer: not signed in
                answers.append((refused.code, refused.headers.get("Content-Type")))
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.3)
        assert answers == [(401, "application/json; charset=utf-8")] * 4
    finally:
        os.killpg(server.pid, 15)
        output = server.communicate(timeout=30)[0].decode()
    assert "2 workers × 2 threads" in output


def _database_url(tmp_path) -> str:
    """The suite's PostgreSQL when it runs on PostgreSQL (persistent connections, CONN_MAX_AGE=60, as
    in production), else an SQLite file: ``/healthz`` and ``/slow/`` need a connection, not tables."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    # The server's own session on the same PostgreSQL, in the maintenance database every server
    # has: the suite's database named in the URL need not exist (the tests run in test_<name>).
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres"))


def _start_test_site(tmp_path, *options: str) -> tuple[subprocess.Popen, int]:
    """``serve`` on serve_site.py's settings, once it answers ``/healthz``; stdout and stderr apart."""
    port = _free_port()
    env = {**os.environ, "CG_DATA_DIR": str(tmp_path), "CG_DEV_SECRETS": "1", "DATABASE_URL": _database_url(tmp_path),
           "DJANGO_SETTINGS_MODULE": "communitygrid.core.tests.serve_site", "PYTHONPATH": str(ROOT)}
    (tmp_path / "static").mkdir()
    server = subprocess.Popen([sys.executable, "-m", "communitygrid.cli", "serve", "--port", str(port), "--no-periodic",
                               *options], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                os.killpg(server.pid, signal.SIGKILL)
                raise AssertionError(f"the server did not start: {server.communicate()[1].decode()[-3000:]}")
            time.sleep(0.2)


def _wait_for_started(tmp_path, count: int) -> None:
    deadline = time.monotonic() + 15
    while len(list(tmp_path.glob("slow-*.started"))) < count:
        assert time.monotonic() < deadline, "the slow requests never reached a worker"
        time.sleep(0.02)


def _stop(server: subprocess.Popen) -> tuple[str, str]:
    """As the benchmarks stop it: SIGTERM to the whole process group, the workers included."""
    os.killpg(server.pid, signal.SIGTERM)
    return tuple(part.decode() for part in server.communicate(timeout=60))


def _assert_no_crash(output: str, errors: str) -> None:
    for sign_of_a_crash in ("panicked", "cannot unwind", "aborting", "Fatal Python error", "Unexpected exit",
                            "Traceback"):
        assert sign_of_a_crash not in output + errors, errors[-3000:]


def _keep_alive_client(port: int, signalled: threading.Event, answers: list, failures: list) -> None:
    """One client on one persistent connection asking for ``/healthz`` (a database query) again and
    again, until the stopping server closes the connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        while True:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            answers.append(response.status)
    except (OSError, http.client.HTTPException) as exc:
        if not signalled.is_set():  # a closed connection is expected from a stopping server only
            failures.append(exc)
    finally:
        connection.close()


def _slow_request(port: int, n: int, seconds: float, results: dict) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/slow/?n={n}&seconds={seconds}")
        response = connection.getresponse()
        results[n] = (response.status, json.loads(response.read()))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        results[n] = exc
    finally:
        connection.close()


def _send_slow_request(port: int, n: int, seconds: float) -> socket.socket:
    """The request only: its client will hang up without reading the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(f"GET /slow/?n={n}&seconds={seconds} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def test_sigterm_under_load_stops_cleanly_and_lets_the_requests_at_work_finish(tmp_path):
    # Granian returned from a worker while requests whose clients had hung up were still at work in
    # it. The spawned worker then finalized its interpreter under them: CPython ended those threads
    # with pthread_exit, and unwinding that through Granian's Rust frames aborted the worker ("panic
    # in a function that cannot unwind") in the middle of those requests, every time.
    server, port = _start_test_site(tmp_path, "--workers", "2", "--threads", "4")
    signalled, answers, failures, slow_results = threading.Event(), [], [], {}
    clients = [threading.Thread(target=_keep_alive_client, args=(port, signalled, answers, failures))
               for _ in range(16)]
    # Answered while the signal comes; and, outlasting them, requests whose clients hang up while a
    # worker is at them, as wrk's do when its run ends.
    slow = [threading.Thread(target=_slow_request, args=(port, n, 1.5, slow_results)) for n in range(3)]
    abandoned = []
    try:
        for client in clients:
            client.start()
        time.sleep(1)
        for request in slow:
            request.start()
        abandoned = [_send_slow_request(port, n, seconds=3) for n in range(len(slow), 2 * len(slow))]
        _wait_for_started(tmp_path, len(slow) + len(abandoned))
        for sock in abandoned:
            sock.close()
    finally:
        signalled.set()
        try:
            output, errors = _stop(server)
        finally:
            for thread in clients + slow:
                thread.join(timeout=30)
    _assert_no_crash(output, errors)
    assert server.returncode == 0, errors[-3000:]
    assert "Granian shutdown completed" in output
    assert failures == [] and len(answers) > 20 and set(answers) == {200}
    # In a worker's hands when the signal came: answered, not cut off.
    assert slow_results == {n: (200, {"n": n}) for n in range(len(slow))}
    # Every request that had begun finished its work, those whose clients had hung up included.
    assert sorted(path.name for path in tmp_path.glob("slow-*.finished")) == [
        f"slow-{n}.finished" for n in range(len(slow) + len(abandoned))]


def test_a_worker_still_at_work_after_the_stop_timeout_is_killed(tmp_path):
    server, port = _start_test_site(tmp_path, "--workers", "1", "--threads", "2", "--stop-timeout", "2")
    try:
        _send_slow_request(port, 0, seconds=30).close()
        _wait_for_started(tmp_path, 1)
    finally:
        started = time.monotonic()
        output, errors = _stop(server)
    assert time.monotonic() - started < 15
    _assert_no_crash(output, errors)
    assert "Killing worker-1 after it refused to gracefully stop" in output
    assert server.returncode == 0, errors[-3000:]
    assert not (tmp_path / "slow-0.finished").exists()


def test_stop_timeout_out_of_range_is_refused():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for seconds in (0, 1801):
        with pytest.raises(CommandError, match="--stop-timeout must be between 1 and 1800 seconds"):
            call_command("serve", stop_timeout=seconds)


def _settings_value(tmp_path, expression: str, **env) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    full_env = {**os.environ, "CG_DATA_DIR": str(tmp_path), "CG_DEV_SECRETS": "1",
                "DJANGO_SETTINGS_MODULE": "communitygrid.settings", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_postgresql_connections_persist_between_requests_unless_configured_otherwise(tmp_path):
    # dj_database_url always returns CONN_MAX_AGE=0: a new PostgreSQL backend per request cost
    # more CPU than the whole case submission until the setting was forced.
    url = "postgres://postgres@127.0.0.1:5432/communitygrid"
    expr = "settings.DATABASES['default']['CONN_MAX_AGE'], settings.DATABASES['default']['CONN_HEALTH_CHECKS']"
    assert _settings_value(tmp_path, expr, DATABASE_URL=url) == "60 True"
    assert _settings_value(tmp_path, expr, DATABASE_URL=url, CG_DB_CONN_MAX_AGE="0") == "0 True"
