import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from communitygrid.geo.geometry import wgs84_to_gcj02
from communitygrid.geo.models import Node, NodeChange
from communitygrid.testing import make_household, square

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_geojson(tmp_path, features, name="grids.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return str(path)


def micro(code, name, lon, lat, **properties):
    return {"type": "Feature", "properties": {"code": code, "name": name, **properties}, "geometry": square(lon, lat, 0.002)}


# --- import_grids -------------------------------------------------------------------------------

def test_import_grids_imports_every_feature(city, tmp_path):
    path = write_geojson(tmp_path, [micro("M1", "一", 120.001, 30.001, up="S0C0G0"), micro("M2", "二", 120.011, 30.001, up="S0C0G1")])
    out, _err = run("import_grids", path, "--level", "microgrid", "--parent-property", "up")
    assert "2 created, 0 updated" in out
    assert Node.objects.get(code="M2").parent.code == "S0C0G1"
    assert NodeChange.objects.filter(kind=NodeChange.Kind.IMPORT).count() == 1


def test_import_grids_lists_every_problem_and_writes_nothing(city, tmp_path):
    path = write_geojson(tmp_path, [micro("M1", "一", 120.001, 30.001), micro("M1", "重", 120.005, 30.001),
                                    {"type": "Feature", "properties": {"name": "无码"}, "geometry": square(120.0, 30.0, 0.001)}])
    before = Node.objects.count()
    with pytest.raises(CommandError, match="Nothing was imported: 2 problems"):
        call_command("import_grids", path, "--level", "microgrid", "--parent", "S0C0G0", stdout=StringIO(),
                     stderr=(err := StringIO()))
    lines = err.getvalue().splitlines()
    assert lines == ["feature #1 (code M1): the code M1 is also used by item #0",
                     "feature #2 (code none): the property code is missing or not text"]
    assert Node.objects.count() == before


def test_import_grids_names_the_line_and_column_of_broken_json(city, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",, }\n]}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON: Expecting property name enclosed in double quotes at line 3, column 22"):
        run("import_grids", str(path), "--level", "grid", "--parent", "S0C0")


def test_import_grids_rejects_json_that_is_not_a_feature_collection(city, tmp_path):
    path = tmp_path / "list.geojson"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CommandError, match="not a GeoJSON FeatureCollection"):
        run("import_grids", str(path), "--level", "grid", "--parent", "S0C0")


def test_import_grids_reports_a_missing_file(city, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_grids", str(tmp_path / "nope.geojson"), "--level", "grid", "--parent", "S0C0")


def test_import_grids_converts_gcj02(city, tmp_path):
    ring = [list(wgs84_to_gcj02(lon, lat)) for lon, lat in square(120.001, 30.001, 0.002)["coordinates"][0]]
    path = write_geojson(tmp_path, [{"type": "Feature", "properties": {"id": "M1", "title": "火星"},
                                     "geometry": {"type": "Polygon", "coordinates": [ring]}}])
    run("import_grids", path, "--level", "microgrid", "--parent", "S0C0G0", "--crs", "gcj02",
        "--code-property", "id", "--name-property", "title")
    assert Node.objects.get(code="M1").min_lon == pytest.approx(120.001, abs=1e-8)


# --- locate -------------------------------------------------------------------------------------

def test_locate_prints_the_path_per_level(city):
    out, _err = run("locate", "--lon", "120.015", "--lat", "30.005")
    assert out.splitlines() == ["City: C 测试市", "District: D 测试区", "Street: S0 街道0", "Community: S0C0 社区00",
                                "Grid: S0C0G1 网格001"]


def test_locate_outside_every_grid_fails_clearly(city):
    with pytest.raises(CommandError, match="lies outside every grid") as caught:
        run("locate", "--lon", "100", "--lat", "30")
    assert caught.value.returncode == 1


@pytest.mark.parametrize(("lon", "lat", "fragment"), [("abc", "30", "longitude 'abc' is not a number"),
                                                      ("120", "95", "latitude 95 is out of range"),
                                                      ("nan", "30", "longitude nan is out of range")])
def test_locate_rejects_bad_numbers(city, lon, lat, fragment):
    with pytest.raises(CommandError, match=fragment):
        run("locate", "--lon", lon, "--lat", lat)


def test_locate_accepts_gcj02(city):
    lon, lat = wgs84_to_gcj02(120.015, 30.005)
    out, _err = run("locate", "--lon", str(lon), "--lat", str(lat), "--crs", "gcj02")
    assert out.splitlines()[-1] == "Grid: S0C0G1 网格001"


def test_locate_csv_adds_a_code_column_per_level(city, tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("name,x,y\n甲,120.015,30.005\n乙,100,30\n丙,abc,30\n丁,120.035,30.035\n", encoding="utf-8")
    out, err = run("locate", "--csv", str(source), "--lon-column", "x", "--lat-column", "y", "--out", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == ["name", "x", "y", "city_code", "district_code", "street_code", "community_code",
                             "grid_code", "microgrid_code"]
    assert [(r["name"], r["grid_code"], r["community_code"]) for r in rows] == [
        ("甲", "S0C0G1", "S0C0"), ("乙", "", ""), ("丙", "", ""), ("丁", "S1C1G1", "S1C1")]
    assert "line 4: longitude 'abc' is not a number" in err
    assert "4 rows: 2 located, 1 outside every grid, 1 without a usable point" in out


def test_locate_csv_names_a_missing_column(city, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("lon,lat\n120,30\n", encoding="utf-8")
    with pytest.raises(CommandError, match="has no column x; its columns are: lon, lat"):
        run("locate", "--csv", str(source), "--lon-column", "x", "--lat-column", "lat", "--out", str(tmp_path / "o.csv"))


def test_locate_needs_a_point_or_a_file(city):
    with pytest.raises(CommandError, match="Give --lon and --lat"):
        run("locate", "--lon", "120")
    with pytest.raises(CommandError, match="--csv also needs --lon-column, --out"):
        run("locate", "--csv", "x.csv", "--lat-column", "y")


# --- coverage -----------------------------------------------------------------------------------

def test_coverage_prints_gaps_overlaps_and_workload(city):
    make_household(city.grids[0])
    out, _err = run("coverage", "S0C0")
    assert "Gaps: none" in out and "Overlaps: none" in out
    assert "S0C0G0 网格000: 1 households | below the norm | 0 grid workers | no grid worker" in out


def test_coverage_of_an_unknown_code_fails(city):
    with pytest.raises(CommandError, match="No node has the code NOPE"):
        run("coverage", "NOPE")
