"""Household import benchmark: N households as CSV through ``communitygrid import-households``.

For each N (default 12,500 / 25,000 / 50,000) on a FRESH PostgreSQL database (created, migrated,
dropped): a deterministic district (one grid per 400 households), its buildings loaded with
``import-buildings``, then N households (~2.4 persons each, valid GB 11643 ID numbers, phones,
addresses, special-care groups) generated as CSV and imported with the ``import-households``
command, timed end to end (reading, checking every row, encrypting, writing). A second import of
the same file (every person matched, nothing changed) is timed as well.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_reg_bench \\
        .venv/bin/python benchmarks/bench_import.py [--sizes 12500 25000 50000]

The database named in DATABASE_URL is dropped and re-created for every size.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLDS_PER_GRID = 400
UNITS, FLOORS, ROOMS_PER_FLOOR = 2, 6, 2  # 24 households per building
GRID_SIZE = 0.004  # degrees; grids tile a square district near Hangzhou
LON0, LAT0 = 120.0, 30.0

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
REGIONS = ["330102", "330105", "330106", "330108", "330110", "320102", "340102", "410105", "510104", "110105"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华玉兰淑珍志强海燕国强红梅"
TAGS = ["elderly_alone", "empty_nest", "disabled:二级", "subsistence_allowance", "veteran", "new_citizen",
        "child_in_difficulty", "advanced_age"]


def id_number(region: str, birth: dt.date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def grid_count(households: int) -> int:
    return max(1, -(-households // HOUSEHOLDS_PER_GRID))


def grid_code(index: int) -> str:
    return f"BG{index:05d}"


def building_rows(households: int) -> list[list]:
    per_building = UNITS * FLOORS * ROOMS_PER_FLOOR
    buildings = -(-households // per_building)
    grids = grid_count(households)
    rows = []
    for b in range(buildings):
        grid = b * grids // buildings
        lon, lat = grid_origin(grid, grids)
        rows.append([f"BB{b:06d}", f"{b + 1}号楼", f"测试路{b + 1}号", f"{lon + GRID_SIZE / 2:.6f}",
                     f"{lat + GRID_SIZE / 2:.6f}", FLOORS, UNITS, ROOMS_PER_FLOOR, grid_code(grid)])
    return rows


def grid_origin(index: int, grids: int) -> tuple[float, float]:
    side = int(grids ** 0.5) + 1
    return LON0 + (index % side) * GRID_SIZE, LAT0 + (index // side) * GRID_SIZE


def household_rows(households: int, seed: int = 20261129) -> list[list]:
    """One row per person, deterministic for a given N and seed."""
    rng = random.Random(seed)
    per_building = UNITS * FLOORS * ROOMS_PER_FLOOR
    seen: set[str] = set()
    today = dt.date(2026, 1, 1)
    rows = []
    for h in range(households):
        building, slot = divmod(h, per_building)
        unit, rest = divmod(slot, FLOORS * ROOMS_PER_FLOOR)
        floor, room = divmod(rest, ROOMS_PER_FLOOR)
        room_number = f"{floor + 1}{room + 1:02d}"
        address = f"测试路{building + 1}号{building + 1}号楼{unit + 1}单元{room_number}室"
        surname = rng.choice(SURNAMES)
        size = rng.choices([1, 2, 3, 4, 5], weights=[18, 40, 22, 14, 6])[0]
        head_age = rng.randint(25, 90)
        for m in range(size):
            age = head_age if m == 0 else (head_age + rng.randint(-5, 5) if m == 1 else rng.randint(0, 30))
            age = max(0, min(age, 100))
            birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
            male = rng.random() < 0.5
            while True:
                number = id_number(rng.choice(REGIONS), birth, rng.randrange(0, 500) * 2 + (1 if male else 0))
                if number not in seen:
                    seen.add(number)
                    break
            tags = []
            if age >= 60 and size == 1:
                tags.append("elderly_alone")
            if rng.random() < 0.08:
                tags.append(rng.choice(TAGS))
            rows.append([
                f"HH{h:07d}", f"BB{building:06d}", unit + 1, room_number, address,
                surname + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
                "男" if male else "女", birth.isoformat(), number,
                f"1{rng.choice('3456789')}{rng.randrange(10 ** 9):09d}" if age >= 12 else "",
                "户主" if m == 0 else ("配偶" if m == 1 else "子女"),
                "户在人在" if rng.random() < 0.8 else "人在户不在",
                "" if rng.random() < 0.7 else "浙江省杭州市某区某街道",
                "退休" if age >= 60 else ("学生" if age < 22 else "在职"),
                ";".join(dict.fromkeys(tags)), "", "", "",
            ])
    return rows


HOUSEHOLD_HEADERS = ["户编号", "楼栋编号", "单元", "房号", "详细地址", "姓名", "性别", "出生日期", "公民身份号码",
                     "联系电话", "与户主关系", "居住状态", "户籍地址", "就业状况", "特殊人群", "紧急联系人",
                     "紧急联系人电话", "健康状况"]
BUILDING_HEADERS = ["楼栋编号", "楼栋名称", "地址", "经度", "纬度", "层数", "单元", "每层户数", "网格编码"]


def write_csv(path: Path, headers: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)


# --- one size, in a child process bound to the fresh database -----------------------------------

def worker(households: int, workdir: Path) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from communitygrid.geo.models import GridKind, Level
    from communitygrid.geo.services import node_create
    from communitygrid.registry.models import Household, Person

    call_command("migrate", verbosity=0)
    grids = grid_count(households)
    side = int(grids ** 0.5) + 1
    extent = side * GRID_SIZE
    square = lambda lon, lat, size: {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat],  # noqa: E731
                                                                          [lon + size, lat + size],
                                                                          [lon, lat + size], [lon, lat]]]}
    district = node_create(code="BD", name="基准区", level=Level.DISTRICT, geometry=square(LON0, LAT0, extent))
    community = node_create(code="BC", name="基准社区", level=Level.COMMUNITY, parent=district,
                            geometry=square(LON0, LAT0, extent))
    for index in range(grids):
        lon, lat = grid_origin(index, grids)
        node_create(code=grid_code(index), name=f"网格{index}", level=Level.GRID, parent=community,
                    kind=GridKind.COMPREHENSIVE, geometry=square(lon, lat, GRID_SIZE))

    buildings_csv, households_csv = workdir / "buildings.csv", workdir / "households.csv"
    write_csv(buildings_csv, BUILDING_HEADERS, building_rows(households))
    rows = household_rows(households)
    write_csv(households_csv, HOUSEHOLD_HEADERS, rows)

    started = time.perf_counter()
    call_command("import_buildings", str(buildings_csv), "--no-progress", verbosity=0, stdout=open(os.devnull, "w"))
    buildings_seconds = time.perf_counter() - started

    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    call_command("import_households", str(households_csv), "--no-progress", stdout=open(os.devnull, "w"))
    first_seconds, first_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert Household.objects.count() == households and Person.objects.count() == len(rows)

    started = time.perf_counter()
    call_command("import_households", str(households_csv), "--no-progress", stdout=open(os.devnull, "w"))
    again_seconds = time.perf_counter() - started
    assert Household.objects.count() == households and Person.objects.count() == len(rows)
    return {"households": households, "persons": len(rows), "grids": grids, "load": load_before,
            "buildings_seconds": buildings_seconds, "first_seconds": first_seconds, "first_cpu": first_cpu,
            "again_seconds": again_seconds}


# --- orchestration -------------------------------------------------------------------------------

def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000])
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size, each on a fresh database; the fastest is reported (the machine is shared)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.workdir))))
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://…/<scratch database>: it is dropped and re-created for every size.")
    results = []
    for size in args.sizes:
        runs = []
        for _run in range(args.repeat):
            recreate_database(url)
            with tempfile.TemporaryDirectory(prefix="cg-bench-import-") as workdir:
                env = dict(os.environ, DJANGO_SETTINGS_MODULE="communitygrid.settings", CG_DEV_SECRETS="1",
                           CG_DATA_DIR=str(Path(workdir) / "data"), PYTHONPATH=str(ROOT))
                output = subprocess.run([sys.executable, __file__, "--worker", str(size), "--workdir", workdir],
                                        env=env, check=True, capture_output=True, text=True).stdout
            drop_database(url)
            runs.append(json.loads(output.strip().splitlines()[-1]))
            print(f"{size:>7,} households: {runs[-1]['first_seconds']:.1f} s", file=sys.stderr)
        results.append(min(runs, key=lambda run: run["first_seconds"]))
    print("| households | persons (rows) | import s | rows/s | s per 10,000 households | import CPU s (client) "
          "| re-import, no change, s | buildings import s | load average at start |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['households']:,} | {r['persons']:,} | {r['first_seconds']:.1f} "
              f"| {r['persons'] / r['first_seconds']:,.0f} | {r['first_seconds'] / r['households'] * 10_000:.2f} "
              f"| {r['first_cpu']:.1f} | {r['again_seconds']:.1f} | {r['buildings_seconds']:.1f} | {r['load']:.1f} |")


if __name__ == "__main__":
    main()
