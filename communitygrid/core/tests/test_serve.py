"""``communitygrid serve``: the production server answers through the project's WSGI stack."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

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
