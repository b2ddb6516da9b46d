import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from communitygrid.privacy import crypto
from communitygrid.registry import importing
from communitygrid.registry.importing import import_buildings, import_households
from communitygrid.registry.models import Building, Household, Person, PersonCareTag, Room, Unit
from communitygrid.registry.tabular import TableFileError
from communitygrid.testing import id_number_for

ZH_HEADERS = ["户编号", "楼栋编号", "单元", "房号", "详细地址", "姓名", "性别", "出生日期", "公民身份号码", "联系电话",
              "与户主关系", "居住状态", "特殊人群", "紧急联系人", "紧急联系人电话", "健康状况"]
EN_HEADERS = ["household code", "building code", "unit", "room", "address", "name", "gender", "birth date",
              "ID number", "phone", "household role", "residence status", "care tags", "emergency contact",
              "emergency contact phone", "health notes"]


def write_csv(path: Path, headers, rows, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, headers, rows) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def person_row(household: str, n: int, *, building="B1", room="101", birth=dt.date(1950, 1, 1), phone=None,
               role="户主", tags="", name=None, id_number=None, gender="", birth_text=""):
    return [household, building, "1", room, f"幸福路{household[1:]}号", name or f"居民{n}", gender, birth_text,
            id_number or id_number_for(birth, n), phone or f"139{n:08d}", role, "户在人在", tags, "紧急联系人",
            "13800138000", ""]


@pytest.fixture
def buildings(city, tmp_path):
    """B1 in the first grid by explicit code, B2 in the second grid located from its point."""
    path = write_csv(tmp_path / "buildings.csv",
                     ["楼栋编号", "楼栋名称", "地址", "经度", "纬度", "层数", "单元", "每层户数", "网格编码"],
                     [["B1", "1号楼", "幸福路1号", "120.002", "30.002", "3", "2", "2", city.grids[0].code],
                      ["B2", "2号楼", "幸福路2号", "120.015", "30.005", "6", "1", "", ""]])
    result = import_buildings(path)
    assert result.rejected == []
    return {b.code: b for b in Building.objects.all()}


def test_buildings_get_their_grid_by_code_or_by_location_and_their_units_and_rooms(buildings, city):
    assert buildings["B1"].grid == city.grids[0]
    assert buildings["B2"].grid == city.grids[1]
    assert Unit.objects.filter(building=buildings["B1"]).count() == 2
    rooms = Room.objects.filter(unit__building=buildings["B1"])
    assert rooms.count() == 2 * 3 * 2
    assert set(rooms.filter(unit__number="1").values_list("number", "floor")) == {
        ("101", 1), ("102", 1), ("201", 2), ("202", 2), ("301", 3), ("302", 3)}
    assert list(Unit.objects.filter(building=buildings["B2"]).values_list("number", flat=True)) == ["1"]


def test_building_rows_are_rejected_with_their_line_and_reason(city, tmp_path):
    path = write_csv(tmp_path / "b.csv", ["code", "name", "lon", "lat", "grid code", "floors", "rooms per floor"], [
        ["B1", "ok", "120.002", "30.002", "", "", ""],
        ["B2", "unknown grid", "120.002", "30.002", "NOPE", "", ""],
        ["B3", "outside", "121.5", "31.5", "", "", ""],
        ["B4", "bad lon", "east", "30.0", "", "", ""],
        ["B1", "duplicate", "120.002", "30.002", "", "", ""],
        ["B5", "community, not grid", "120.002", "30.002", city.communities[0].code, "", ""],
        ["B6", "rooms without floors", "120.002", "30.002", "", "", "2"],
    ])
    result = import_buildings(path)
    assert [(row.line, row.reference) for row in result.rejected] == [
        (3, "B2"), (4, "B3"), (5, "B4"), (6, "B1"), (7, "B5"), (8, "B6")]
    reasons = {row.reference + str(row.line): row.reason for row in result.rejected}
    assert "NOPE" in reasons["B23"]
    assert "outside every grid" in reasons["B34"]
    assert "line 2" in reasons["B16"]
    assert list(Building.objects.values_list("code", flat=True)) == ["B1"]


def test_reimporting_a_building_updates_it_and_moves_its_households(buildings, city, tmp_path):
    write_csv(tmp_path / "h.csv", ZH_HEADERS, [person_row("H1", 1)])
    import_households(tmp_path / "h.csv")
    path = write_csv(tmp_path / "b.csv", ["楼栋编号", "楼栋名称", "经度", "纬度", "网格编码"],
                     [["B1", "一号楼", "120.002", "30.002", city.grids[2].code]])
    result = import_buildings(path)
    assert (result.created["buildings"], result.updated["buildings"]) == (0, 1)
    building = Building.objects.get(code="B1")
    assert (building.name, building.grid) == ("一号楼", city.grids[2])
    assert Household.objects.get(code="H1").grid == city.grids[2]
    assert Person.objects.get().grid == city.grids[2]


def test_households_import_with_chinese_headers(buildings, city, tmp_path):
    rows = [
        person_row("H1", 1, tags="elderly_alone; 残疾人:2", phone="+86 139-0000-0001"),
        person_row("H1", 2, role="配偶", birth=dt.date(1952, 5, 6), tags="empty_nest"),
        person_row("H2", 3, building="B2", room="502", birth=dt.date(1990, 7, 8)),
    ]
    path = write_csv(tmp_path / "h.csv", ZH_HEADERS, rows)
    result = import_households(path)
    assert (result.rows, result.accepted, result.rejected) == (3, 3, [])
    assert (result.created["households"], result.created["persons"]) == (2, 3)
    first = Person.objects.get(name="居民1")
    assert first.id_number.reveal() == id_number_for(dt.date(1950, 1, 1), 1)
    assert first.id_number_bidx == crypto.blind_index("id_number", first.id_number.reveal())
    assert first.phone.reveal() == "13900000001"
    assert (first.birth_date, first.household_role, first.residence) == (dt.date(1950, 1, 1), "head", "local")
    assert first.gender == ("M" if 1 % 2 else "F")
    assert sorted((link.tag.code, link.level) for link in first.tag_links.all()) == [
        ("disabled", "二级"), ("elderly_alone", "")]
    h1 = Household.objects.get(code="H1")
    assert (h1.grid, h1.room.number, h1.room.unit.number, h1.address.reveal()) == (city.grids[0], "101", "1",
                                                                                  "幸福路1号")
    assert h1.members.count() == 2
    h2 = Household.objects.get(code="H2")
    assert (h2.grid, h2.room.number, h2.room.floor) == (city.grids[1], "502", 5)
    assert Person.objects.get(name="居民3").grid == city.grids[1]


def test_households_import_from_xlsx_with_english_headers_and_spreadsheet_cells(buildings, tmp_path):
    birth = dt.date(1985, 3, 5)
    number = id_number_for(birth, 11)
    rows = [["H9", "B1", 1, 201, "addr", "Li Lei", "male", dt.datetime(1985, 3, 5), number, 13912345678, "head",
             "migrant", "veteran", "", "", "diabetes"],
            ["H9", "B1", 1, 201, "", "Han Meimei", "", 32999, id_number_for(dt.date(1990, 5, 6), 12), "", "spouse",
             "local", "", "", "", ""]]
    result = import_households(write_xlsx(tmp_path / "h.xlsx", EN_HEADERS, rows))
    assert result.rejected == []
    li = Person.objects.get(name="Li Lei")
    assert (li.birth_date, li.gender, li.residence, li.phone.reveal()) == (birth, "M", "migrant", "13912345678")
    assert li.health_notes.reveal() == "diabetes"
    assert li.household.room.number == "201"
    han = Person.objects.get(name="Han Meimei")
    assert han.birth_date == dt.date(1990, 5, 6) and han.phone is None


def test_rejected_rows_are_reported_with_line_numbers_and_the_rest_is_written(buildings, tmp_path):
    good = person_row("H1", 1)
    rows = [
        good,
        person_row("H1", 2, id_number="110105195001010025"),  # line 3: wrong check character
        person_row("H2", 3, phone="12345"),  # line 4
        person_row("H3", 4, building="B404"),  # line 5
        person_row("H4", 5, tags="martian"),  # line 6
        person_row("H5", 6, id_number=good[8]),  # line 7: same ID as line 2
        person_row("H6", 7, id_number="110105209901010011"),  # line 8: born in the future
        person_row("H1", 8, room="102"),  # line 9: H1 is in room 101 on line 2
        person_row("H7", 9, gender="女", birth=dt.date(1960, 1, 1)),  # line 10: sequence 009 is male
        person_row("H8", 10, birth_text="1970-01-01"),  # line 11: the ID says 1950-01-01
        person_row("", 11, name=" "),  # line 12
        person_row("H9", 12, tags="disabled:九级"),  # line 13
    ]
    result = import_households(write_csv(tmp_path / "h.csv", ZH_HEADERS, rows))
    by_line = {row.line: row.reason for row in result.rejected}
    assert sorted(by_line) == list(range(3, 14))
    assert "check character" in by_line[3]
    assert "11 digits" in by_line[4]
    assert "B404" in by_line[5]
    assert "martian" in by_line[6]
    assert "duplicate ID number" in by_line[7] and "line 2" in by_line[7]
    assert "future" in by_line[8]
    assert "line 2" in by_line[9]
    assert "Gender" in by_line[10]
    assert "1950-01-01" in by_line[11]
    assert "household code is missing" in by_line[12] and "name is missing" in by_line[12]
    assert "九级" in by_line[13]
    assert result.accepted == 1
    assert list(Person.objects.values_list("name", flat=True)) == ["居民1"]


def test_accepted_rows_are_written_all_or_nothing(buildings, tmp_path, monkeypatch):
    rows = [person_row(f"H{n}", n) for n in range(1, 8)]
    path = write_csv(tmp_path / "h.csv", ZH_HEADERS, rows)
    monkeypatch.setattr(importing, "CHUNK", 2)
    calls = []

    def fail_on_third_chunk(self, chunk, **kwargs):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(importing._HouseholdImport, "write_tags", fail_on_third_chunk)
    with pytest.raises(RuntimeError):
        import_households(path)
    assert len(calls) == 3
    assert not Person.objects.exists() and not Household.objects.exists()


def test_reimport_updates_instead_of_duplicating(buildings, tmp_path):
    rows = [person_row("H1", 1, tags="elderly_alone"), person_row("H1", 2, role="配偶")]
    path = write_csv(tmp_path / "h.csv", ZH_HEADERS, rows)
    import_households(path)
    again = import_households(path)
    assert (again.created["persons"], again.updated["persons"], again.unchanged["persons"]) == (0, 0, 2)
    assert (again.created["households"], again.updated["households"], again.unchanged["households"]) == (0, 0, 1)
    assert again.created["care tags"] == again.updated["care tags"] == 0
    changed = [person_row("H1", 1, phone="13700000000", tags="disabled:一级"), person_row("H2", 2, room="202")]
    result = import_households(write_csv(tmp_path / "h2.csv", ZH_HEADERS, changed))
    assert (result.created["persons"], result.updated["persons"]) == (0, 2)
    assert Person.objects.count() == 2 and Household.objects.count() == 2
    first = Person.objects.get(name="居民1")
    assert first.phone.reveal() == "13700000000"
    assert first.phone_bidx == crypto.blind_index("phone", "13700000000")
    assert [(link.tag.code, link.level) for link in PersonCareTag.objects.filter(person=first)] == [("disabled", "一级")]
    assert Person.objects.get(name="居民2").household.code == "H2"


def test_a_file_without_optional_columns_leaves_those_values_alone(buildings, tmp_path):
    import_households(write_csv(tmp_path / "h.csv", ZH_HEADERS, [person_row("H1", 1, tags="veteran")]))
    number = id_number_for(dt.date(1950, 1, 1), 1)
    result = import_households(write_csv(tmp_path / "names.csv", ["户编号", "楼栋编号", "房号", "姓名", "身份证号"],
                                         [["H1", "B1", "101", "新名字", number]]))
    assert result.updated["persons"] == 1
    person = Person.objects.get()
    assert (person.name, person.phone.reveal()) == ("新名字", "13900000001")
    assert person.tag_links.get().tag.code == "veteran"
    assert person.household.address.reveal() == "幸福路1号"


def test_headers_named_as_the_pages_name_them_are_understood(buildings, tmp_path):
    """A file whose headers use the on-screen terms (docs/glossary.md) imports like the export's own headers."""
    screen_terms = {"楼栋编号": "楼栋编码", "公民身份号码": "身份证号码", "特殊人群": "重点关爱人群"}
    headers = [screen_terms.get(header, header) for header in ZH_HEADERS]
    result = import_households(write_csv(tmp_path / "h.csv", headers, [person_row("H1", 1, tags="veteran")]))
    assert result.rejected == []
    assert Person.objects.get().tag_links.get().tag.code == "veteran"


def test_dry_run_reports_but_writes_nothing(buildings, tmp_path):
    rooms = Room.objects.count()
    row = person_row("H1", 1, room="9901")
    result = import_households(write_csv(tmp_path / "h.csv", ZH_HEADERS, [row]), dry_run=True)
    assert (result.created["persons"], result.created["households"], result.created["rooms"]) == (1, 1, 1)
    assert not Person.objects.exists() and not Household.objects.exists()
    assert Room.objects.count() == rooms


def test_utf8_with_bom_and_gbk_files_are_read(buildings, tmp_path):
    for index, encoding in enumerate(["utf-8-sig", "gbk", "gb18030"]):
        path = write_csv(tmp_path / f"h-{encoding}.csv", ZH_HEADERS, [person_row(f"H{index}", index)],
                         encoding=encoding)
        assert import_households(path).rejected == []
    assert set(Person.objects.values_list("name", flat=True)) == {"居民0", "居民1", "居民2"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", b"\xff\xfe\xff\x00garbage\xff", "neither UTF-8 nor GBK"),
        ("headers.csv", "户编号,姓名\nH1,张三\n".encode(), "lacks required column"),
        ("empty.csv", b"", "contains no rows"),
        ("fake.xlsx", "户编号,姓名\n".encode(), "not an XLSX workbook"),
        ("twice.csv", "户编号,户号,楼栋编号,房号,姓名,身份证号\n".encode(), "appears twice"),
        ("data.txt", b"a,b\n", "suffix"),
        ("nul.csv", b"a,b\x00\n", "NUL"),
    ],
)
def test_malformed_files_get_one_clear_message_and_nothing_is_written(buildings, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableFileError) as info:
        import_households(path)
    assert message in str(info.value)
    assert not Household.objects.exists()


def test_a_workbook_saved_as_csv_is_recognised(buildings, tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", ZH_HEADERS, [person_row("H1", 1)])
    renamed = path.rename(tmp_path / "book.csv")
    with pytest.raises(TableFileError, match="workbook"):
        import_households(renamed)
    assert import_households(renamed, fmt="xlsx").accepted == 1


def test_an_id_number_stored_as_a_spreadsheet_number_is_rejected_with_advice(buildings, tmp_path):
    row = person_row("H1", 1)
    row[8] = int(row[8][:15])
    result = import_households(write_xlsx(tmp_path / "h.xlsx", ZH_HEADERS, [row]))
    assert "format the column as text" in result.rejected[0].reason


def test_query_count_grows_by_far_less_than_one_query_per_row(buildings, tmp_path):
    def queries_for(count: int, offset: int) -> int:
        # Each import creates a few rooms, updates nothing: the same kinds of statements for both sizes.
        rows = [person_row(f"H{offset + n}", offset + n, room=f"{offset // 100 + 7}0{n % 3 + 1}", tags="veteran")
                for n in range(count)]
        path = write_csv(tmp_path / f"h{count}.csv", ZH_HEADERS, rows)
        with CaptureQueriesContext(connection) as context:
            assert import_households(path).accepted == count
        return len(context.captured_queries)

    small, large = queries_for(5, 0), queries_for(125, 1000)
    # Only the database's limit on parameters per statement (SQLite: 999, ~40 persons per INSERT) adds any.
    assert large - small <= (125 - 5) // 20


def test_command_prints_and_writes_the_report_and_exits_non_zero_on_rejects(buildings, tmp_path, capsys):
    path = write_csv(tmp_path / "h.csv", ZH_HEADERS, [person_row("H1", 1), person_row("H2", 2, phone="123")])
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError) as info:
        call_command("import_households", str(path), "--report", str(report), "--no-progress")
    assert info.value.returncode == 2
    out = capsys.readouterr().out
    assert "line 3 (H2)" in out and "1 accepted" in out
    with report.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[1][:2] == ["3", "H2"] and "11 digits" in lines[1][2]
    assert Person.objects.count() == 1


def test_command_refuses_a_malformed_file_with_exit_status_1(tmp_path, db):
    path = tmp_path / "h.csv"
    path.write_bytes(b"\xff\xff\xff")
    with pytest.raises(CommandError) as info:
        call_command("import_households", str(path), "--no-progress")
    assert info.value.returncode == 1
    assert "Nothing was imported" in str(info.value)


def test_command_shows_a_progress_bar_with_rate_and_time_left(buildings, tmp_path, capsys):
    path = write_csv(tmp_path / "h.csv", ZH_HEADERS, [person_row("H1", 1)])
    call_command("import_households", str(path), "--dry-run")
    err = capsys.readouterr().err
    assert "rows/s" in err and "<" in err
    assert not Person.objects.exists()


@pytest.mark.parametrize(("text", "units"), [
    ("3", ["1", "2", "3"]), ("2-4", ["2", "3", "4"]), ("1,2,5", ["1", "2", "5"]), ("A、B", ["A", "B"]), ("", []),
])
def test_unit_specifications(text, units):
    assert importing.parse_units(text) == units


@pytest.mark.parametrize("text", ["0", "51", "5-2", "1-99"])
def test_bad_unit_specifications_are_refused(text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        importing.parse_units(text)


def test_bulk_insert_stores_tokens_and_blind_indexes_like_the_orm(buildings, city):
    from communitygrid.registry.bulk import insert_rows

    household = Household.objects.create(code="HB", grid=city.grids[0], address="地址")
    number = id_number_for(dt.date(1970, 1, 2), 3)
    [pk] = insert_rows(Person, [{"household_id": household.pk, "grid_id": city.grids[0].pk, "name": "甲",
                                 "gender": "M", "birth_date": dt.date(1970, 1, 2), "id_number": number,
                                 "phone": "13900000009", "health_notes": None}])
    person = Person.objects.get(pk=pk)
    assert (person.id_number.reveal(), person.phone.reveal(), person.health_notes) == (number, "13900000009", None)
    assert person.id_number_bidx == crypto.blind_index("id_number", number)
    assert person.phone_bidx == crypto.blind_index("phone", "13900000009")
    assert (person.household_role, person.is_active, person.created_at is not None) == ("other", True, True)


def test_import_buildings_command_reports_and_exits_with_status_2(city, tmp_path, capsys):
    path = write_csv(tmp_path / "b.csv", ["code", "name", "lon", "lat"],
                     [["B1", "ok", "120.002", "30.002"], ["B2", "far", "100", "10"]])
    with pytest.raises(CommandError) as info:
        call_command("import_buildings", str(path), "--no-progress")
    assert info.value.returncode == 2
    assert "line 3 (B2)" in capsys.readouterr().out
    assert list(Building.objects.values_list("code", flat=True)) == ["B1"]
