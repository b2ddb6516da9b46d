"""The web layer's floor for the intake benchmark: a raw WSGI callable, no Django, that reads the
JSON body and runs the bare endpoint's INSERT through psycopg (one connection per thread).

Run after ``bench_intake.py`` has prepared its database (the ``bench_ping`` table)::

    cd benchmarks && ../.venv/bin/granian --interface wsgi --workers 2 --blocking-threads 4 \\
        --port 8765 raw_wsgi_floor:app &
    printf 'wrk.method="POST"; wrk.body="{\\\\"a\\\\":1}"; wrk.headers["Content-Type"]="application/json"\\n' > /tmp/post.lua
    wrk -t1 -c32 -d15s -s /tmp/post.lua http://127.0.0.1:8765/

Compare its req/s with the bare endpoint's (``POST /ping/`` through Django) in ``bench_intake.py``'s
output: the difference is what Django's request handling costs per request.
"""
import json
import os
import threading

import psycopg

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_intake")
_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(DATABASE_URL, autocommit=True, prepare_threshold=1)
    return conn


def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    json.loads(body or b"{}")
    row = _connection().execute("INSERT INTO bench_ping (at) VALUES (now()) RETURNING id").fetchone()
    out = json.dumps({"id": row[0]}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
