import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from communitygrid.accounts.models import Department
from communitygrid.cases.importing import BadValue, parse_datetime
from communitygrid.cases.models import Case, CaseEvent, Category, Channel, Status

UTC = dt.timezone.utc
COLUMNS = ("created_at=受理时间,closed_at=办结时间,category=诉求类别,department=承办单位,status=状态,channel=来源,"
           "lat=纬度,lon=经度,external_id=工单号,description=诉求内容")
HEADER = "工单号,受理时间,办结时间,诉求类别,承办单位,状态,来源,纬度,经度,诉求内容\n"
ROWS = [
    "A-1,2025-03-05 14:30,2025-03-06 09:00,漏水渗水,住建局,已办结,12345,30.005,120.005,楼上漏水",
    "A-2,2025/3/7 8:00,,噪音扰民夜市,城管执法局,处理中,网站,30.025,120.035,夜市太吵",
    "A-3,03/08/2025 02:15 PM,03/09/2025 10:00 AM,Pothole,Roads Dept,closed,311,30.006,120.006,",
    "A-4,2025年3月9日 10:00,,漏水渗水,,,,30.005,120.005,又漏水了",
    "A-5,not a date,,漏水渗水,,closed,,30.005,120.005,x",
    "A-6,2025-03-05,,漏水渗水,,closed,,31.5,121.5,outside",
    "A-7,2025-03-05,,漏水渗水,,sort of,,30.005,120.005,x",
    ",2025-03-05,,漏水渗水,,closed,,30.005,120.005,no id",
    "A-1,2025-03-05 14:30,2025-03-06 09:00,漏水渗水,住建局,已办结,12345,30.005,120.005,repeated in the file",
]


@pytest.fixture
def csv_file(tmp_path, city):
    path = tmp_path / "hotline.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def run(path, capsys, *extra):
    with pytest.raises(SystemExit) as exit_info, translation.override("en"):
        call_command("import_cases", str(path), "--columns", COLUMNS, *extra)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_history_is_imported_and_bad_rows_are_reported_with_line_numbers(csv_file, capsys):
    code, out, err = run(csv_file, capsys)
    assert code == 2
    assert "Line 6:" in err and "not a date" in err
    assert "Line 7:" in err and "outside every grid" in err
    assert "Line 8:" in err and "sort of" in err
    assert "Line 9:" in err
    assert Case.objects.count() == 4
    closed = Case.objects.get(external_id="A-1")
    assert closed.status == Status.CLOSED and closed.channel == Channel.HOTLINE
    assert closed.created_at == dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
    assert closed.closed_at == dt.datetime(2025, 3, 6, 1, 0, tzinfo=UTC)
    assert closed.grid.code == "S0C0G0" and closed.category.code == "repair_leak"
    assert closed.next_check_at is None
    us = Case.objects.get(external_id="A-3")
    assert us.created_at == dt.datetime(2025, 3, 8, 6, 15, tzinfo=UTC)
    assert us.status == Status.CLOSED and us.description == "Pothole"
    open_case = Case.objects.get(external_id="A-2")
    assert open_case.status == Status.SUBMITTED and open_case.grid.code == "S1C1G1"
    assert open_case.respond_by > open_case.created_at and open_case.next_check_at is not None
    assert Case.objects.get(external_id="A-4").status == Status.SUBMITTED
    # Unknown categories and departments were created, known ones reused.
    assert Category.objects.filter(name="噪音扰民夜市", parent__code="imported").exists()
    assert Department.objects.filter(name="Roads Dept").exists()
    assert "噪音扰民夜市" in out
    assert CaseEvent.objects.filter(action="import").count() == 4
    assert "line 2" in CaseEvent.objects.get(case=closed).note


def test_importing_the_same_file_twice_imports_it_once(csv_file, capsys):
    run(csv_file, capsys)
    code, out, err = run(csv_file, capsys)
    assert Case.objects.count() == 4
    assert Category.objects.filter(parent__code="imported").count() == 2
    # Four rows from the first run, and the row repeated within the file.
    assert "Imported 0 cases (0 closed); 5 already imported; 4 rows rejected." in out


def test_dry_run_writes_nothing(csv_file, capsys):
    run(csv_file, capsys, "--dry-run")
    assert not Case.objects.exists() and not Category.objects.filter(code="imported").exists()


def test_a_columns_mapping_without_required_fields_imports_nothing(csv_file):
    with pytest.raises(CommandError):
        call_command("import_cases", str(csv_file), "--columns", "created_at=受理时间")
    with pytest.raises(CommandError):
        call_command("import_cases", str(csv_file), "--columns", COLUMNS + ",colour=颜色")
    with pytest.raises(CommandError):
        call_command("import_cases", str(csv_file), "--columns", COLUMNS.replace("诉求内容", "不存在的列"))
    assert not Case.objects.exists()


@pytest.mark.parametrize("text, expected", [
    ("2025-03-05T14:30:00+08:00", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("2025-03-05T06:30:00Z", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("2025-03-05 14:30:00", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("2025.03.05", dt.datetime(2025, 3, 4, 16, 0, tzinfo=UTC)),
    ("20250305143000", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("2025年3月5日14时30分", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("3/5/2025 2:30 pm", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
    ("1741156200", dt.datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
])
def test_the_usual_date_formats_are_read(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01", "32/01/2025"])
def test_dates_that_do_not_parse_are_refused(text):
    with pytest.raises(BadValue):
        parse_datetime(text)
