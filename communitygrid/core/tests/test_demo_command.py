"""``communitygrid demo`` through the real console command, in a subprocess, on its default SQLite.

The builder on PostgreSQL is covered in-process by test_demo_build; here the database is what a
person running the demo gets: a SQLite file in the data directory, inspected from outside.
"""
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import shapely
from cryptography.fernet import Fernet, MultiFernet
from shapely.geometry import Point, shape

from communitygrid.registry.validators import parse_id_number

COMMAND = Path(sys.executable).with_name("communitygrid")
SCALE = 0.05


def demo_env():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CG_DATA_DIR", "CG_DEV_SECRETS"}}
    env["LANG"] = "en_US.UTF-8"  # the console speaks the shell's language
    return env


def run_demo(data_dir: Path, *extra: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run([str(COMMAND), "demo", "--no-serve", "--scale", str(SCALE), "--data-dir", str(data_dir), *extra],
                            capture_output=True, text=True, env=demo_env(), timeout=600)
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo-data")
    first, first_seconds = run_demo(data_dir)
    assert first.returncode == 0, first.stderr
    return data_dir, first, first_seconds


@pytest.fixture(scope="module")
def database(built):
    connection = sqlite3.connect(built[0] / "communitygrid.sqlite3")
    yield connection
    connection.close()


def rows(database, sql, *params):
    return database.execute(sql, params).fetchall()


def test_it_prints_every_demo_account_with_its_password(built):
    output = built[1].stdout
    for username in ["demo-resident", "demo-worker", "demo-gridleader", "demo-community", "demo-street",
                     "demo-district", "demo-department", "demo-leader", "demo-admin"]:
        line = next(line for line in output.splitlines() if f" {username} " in line)
        assert "grid-demo-2025" in line
    assert "Demo city ready" in output
    assert "cg_0311de00_DEMO_ONLY-not-a-secret-grid-2025" in output and "DEMO ONLY" in output


def test_the_grids_tile_the_district(database):
    district = shape(json.loads(rows(database, "SELECT geometry FROM geo_node WHERE level = 'district'")[0][0]))
    grids = [shape(json.loads(g)) for (g,) in rows(database, "SELECT geometry FROM geo_node WHERE kind = 'comprehensive'")]
    assert len(grids) == 120
    union = shapely.union_all(grids)
    assert abs(union.area - district.area) <= 1e-9 * district.area
    assert district.symmetric_difference(union).area <= 1e-9 * district.area
    tree = shapely.STRtree(grids)
    for i, j in zip(*tree.query(grids, predicate="intersects")):
        if i < j:
            assert grids[i].intersection(grids[j]).area <= 1e-12 * district.area


def test_households_per_grid_are_the_300_to_500_norm_at_this_scale(database):
    counts = [n for (n,) in rows(database, "SELECT COUNT(*) FROM registry_household GROUP BY grid_id")]
    assert len(counts) == 120
    assert all(300 * SCALE <= n <= 500 * SCALE for n in counts)


def test_about_21_percent_are_60_or_over(database):
    today = dt.date.today()
    births = [dt.date.fromisoformat(b) for (b,) in rows(database, "SELECT birth_date FROM registry_person")]
    aged = sum((today.year - b.year - ((today.month, today.day) < (b.month, b.day))) >= 60 for b in births)
    assert aged / len(births) == pytest.approx(0.21, abs=0.02)


def test_every_id_number_is_valid_and_matches_its_holder(built, database):
    keys = (built[0] / "secrets" / "DEV-ONLY-field-keys.txt").read_text().strip().split(",")
    fernet = MultiFernet([Fernet(key.encode()) for key in keys])
    people = rows(database, "SELECT id_number, birth_date, gender FROM registry_person")
    assert len(people) > 4000
    for token, birth, gender in people:
        parsed = parse_id_number(fernet.decrypt(token.encode()).decode())
        assert (parsed.birth_date.isoformat(), parsed.gender) == (birth, gender)


def test_every_building_lies_inside_its_grid(database):
    grids = {pk: shape(json.loads(g)) for pk, g in rows(database, "SELECT id, geometry FROM geo_node WHERE kind = 'comprehensive'")}
    buildings = rows(database, "SELECT grid_id, lon, lat FROM registry_building")
    assert len(buildings) >= 120
    assert all(grids[grid].contains(Point(lon, lat)) for grid, lon, lat in buildings)


def test_a_second_run_reuses_the_city_and_starts_quickly(built, database):
    data_dir, _, first_seconds = built
    before = rows(database, "SELECT COUNT(*), MAX(id) FROM registry_person")
    second, seconds = run_demo(data_dir)
    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout and "demo-admin" in second.stdout
    assert "cg_0311de00_DEMO_ONLY-not-a-secret-grid-2025" in second.stdout
    assert rows(database, "SELECT COUNT(*), MAX(id) FROM registry_person") == before
    assert seconds < first_seconds


def test_a_bad_scale_is_refused_with_a_message_naming_it(tmp_path):
    result, _ = run_demo(tmp_path, "--scale", "3")
    assert result.returncode != 0
    assert "--scale" in result.stderr and "between 0" in result.stderr
    assert not (tmp_path / "communitygrid.sqlite3").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_serves_pages_and_static_files_and_stops_cleanly_on_ctrl_c(built):
    port = free_port()
    server = subprocess.Popen([str(COMMAND), "demo", "--port", str(port), "--data-dir", str(built[0])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=demo_env())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the demo server did not answer in time"
                time.sleep(0.3)
        with urllib.request.urlopen(f"{base}/accounts/login/", timeout=10) as response:
            assert response.status == 200 and "/static/core/site.css" in response.read().decode()
        with urllib.request.urlopen(f"{base}/static/core/site.css", timeout=10) as response:
            assert response.status == 200 and b"html.elder" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "Serving on" in stdout and "Stopping" in stdout
