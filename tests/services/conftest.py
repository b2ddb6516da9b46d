"""Tests that run real external processes (a Celery worker, Redis, several delivery workers).

Those processes open the test database themselves, so it must be one they can reach: the
PostgreSQL test database as it is, or, on SQLite, a file instead of the default in-memory
database. The switch is made here, when the tests are collected, before any test database
exists; the whole run then uses the file (the same schema, only on disk).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from communitygrid.celery import app

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CG_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")

_database = settings.DATABASES["default"]
if _database["ENGINE"] == "django.db.backends.sqlite3" and not _database["TEST"].get("NAME"):
    _database["TEST"]["NAME"] = str(Path(settings.DATA_DIR) / "test-services.sqlite3")


def database_url() -> str:
    """DATABASE_URL of the test database this test process uses, for a child process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@" if credentials else ""
    return f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """Environment of a child process on the same test database and the same dev secrets."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="communitygrid.settings",
        CG_DEV_SECRETS="1",
        CG_DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL=database_url(),
        PYTHONPATH=str(REPO),
        **extra,
    )
    env.pop("CG_TEST_SQLITE", None)
    return env


@pytest.fixture
def spawn(tmp_path):
    """``spawn(name, args, **env)`` starts ``python args…`` on the test database, its output in
    ``tmp_path/<name>.log``; every process it started is stopped when the test ends."""
    started: list[subprocess.Popen] = []

    def start(name: str, args: list[str], **extra_env: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args], cwd=REPO, env=child_env(**extra_env), stdout=out, stderr=subprocess.STDOUT
            )
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def redis_url() -> str:
    """The dedicated Redis database of these tests, emptied; the test fails if Redis is down."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). The services tests need a real Redis: "
            "start redis-server on 127.0.0.1:6379, or point CG_TEST_REDIS_URL at one.",
            pytrace=False,
        )
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def celery_client(redis_url):
    """This process sends tasks to Redis instead of running them eagerly (the demo default)."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    _forget_broker_connections()
    yield app
    app.conf.update(saved)
    _forget_broker_connections()


def _forget_broker_connections():
    # Celery keeps the connections it made to the previous broker_url, and kombu keeps its pools
    # in process-wide registries keyed by URL (a closed pool would be handed out again): reset
    # both so the next send connects anew. Celery has no public call for this short of app.close().
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def start_worker(celery_client, redis_url, spawn):
    """``start_worker(**env)`` starts a Celery worker on the test database and Redis."""

    def start(**extra_env: str):
        return spawn(
            "worker",
            [
                "-m", "celery", "-A", "communitygrid", "worker",
                "--pool=solo", "--loglevel=INFO", "--hostname=notif-test@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            CG_TASKS="celery",
            CELERY_BROKER_URL=redis_url,
            **extra_env,
        )

    return start


@pytest.fixture
def worker(start_worker):
    return start_worker()
