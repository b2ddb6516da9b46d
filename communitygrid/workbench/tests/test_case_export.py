"""The case list as CSV: the list's cases under the same filters and scope, streamed, in the reader's
language and local time, with no resident's personal data; a list too long to download is refused."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from communitygrid.accounts.models import Role, User
from communitygrid.cases.models import Status
from communitygrid.privacy.models import AccessLog
from communitygrid.testing import make_user
from communitygrid.workbench import exporting

pytestmark = pytest.mark.django_db
URL = "/workbench/cases/export.csv"
UTC = dt.timezone.utc


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture
def handled(office):
    department, clerk = office["department"], office["clerk"]
    User.objects.filter(pk=clerk.pk).update(display_name="王小明", last_name="")
    clerk.refresh_from_db()
    office["client"].force_login(clerk)
    taken = office["case"]("楼道灯坏了，邻居李四电话13800001111", department=department, assignee=clerk,
                           status=Status.CLOSED, category="repair_streetlight", caller_name="赵六",
                           caller_phone="13912345678", created=dt.datetime(2026, 3, 10, 1, 30, tzinfo=UTC))
    queued = office["case"]("补贴咨询", department=department, category="elderly_subsidy",
                            created=dt.datetime(2026, 3, 11, 17, 5, tzinfo=UTC))
    other = office["case"]("别的部门的", department=office["elsewhere"])
    return {**office, "taken": taken, "queued": queued, "other": other}


def test_the_export_in_english_holds_the_list_s_columns_in_local_time(handled):
    taken = handled["taken"]
    rows = _csv(handled["client"].get(URL))
    assert rows[0] == ["Case number", "Category", "Tier", "Status", "Grid", "Submitted at", "Respond by",
                       "Resolve by", "Closed at", "Handler"]
    assert [row[0] for row in rows[1:]] == [str(handled["queued"].pk), str(taken.pk)]  # newest first, as listed
    row = rows[2]
    assert row[1] == "Repairs and convenience services · Street light out" and row[2] == "General"
    assert row[3] == "Closed" and row[4] == taken.grid.name
    assert row[5] == "2026-03-10 09:30"  # 01:30 UTC is 09:30 in the platform's time zone
    assert row[8] and row[9] == "Department staff 王"  # role and surname, as residents see staff
    assert rows[1][5] == "2026-03-12 01:05" and rows[1][9] == ""  # the department queue: nobody holds it


def test_the_export_in_chinese_has_chinese_headers_and_labels(handled):
    handled["client"].cookies["cg_language"] = "zh-hans"
    response = handled["client"].get(URL)
    # The file is written after the view returned, maybe while the thread serves someone else:
    # it keeps the request's language and time zone.
    with translation.override("en"), timezone.override(UTC):
        rows = _csv(response)
    assert rows[0] == ["诉求编号", "类别", "等级", "状态", "网格", "提交时间", "响应时限", "办结时限", "关闭时间",
                       "办理人"]
    assert rows[2][1:5] == ["维修便民 · 路灯不亮", "一般", "已关闭", handled["taken"].grid.name]
    assert rows[2][5] == "2026-03-10 09:30" and rows[2][9] == "职能部门工作人员 王"


def test_the_export_carries_no_personal_data_of_residents(handled):
    text = "\n".join(",".join(row) for row in _csv(handled["client"].get(URL)))
    for secret in ("赵六", "13912345678", "李四", "13800001111", "楼道灯坏了", "补贴咨询", "王小明"):
        assert secret not in text
    # No protected field is read, so the sensitive-data access log has nothing to record.
    assert not AccessLog.objects.exists()


def test_the_export_follows_the_filters_and_never_leaves_the_scope(handled):
    client, taken, queued, other = handled["client"], handled["taken"], handled["queued"], handled["other"]
    numbers = lambda **query: {row[0] for row in _csv(client.get(URL, query))[1:]}  # noqa: E731
    assert numbers() == {str(taken.pk), str(queued.pk)}
    assert numbers(status="closed") == {str(taken.pk)}
    assert numbers(handler="none") == {str(queued.pk)}
    assert numbers(date_from="2026-03-11") == {str(queued.pk)}
    assert numbers(area="D", q=f"#{other.pk}") == set()
    assert numbers(q="别的部门") == set()


def test_a_bad_filter_is_a_400_page_not_a_file(handled):
    response = handled["client"].get(URL, {"area": "NO-SUCH", "handler": str(handled["users"][Role.ADMIN].pk)})
    body = response.content.decode()
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "Area: choose one of the areas in the list" in body and "Handler: choose one of the staff" in body


def test_a_list_too_long_to_download_is_refused_with_a_way_out(handled, monkeypatch):
    monkeypatch.setattr(exporting, "EXPORT_LIMIT", 1)
    client = handled["client"]
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 400
    assert "These filters match 2 cases; a download holds at most 1. Narrow the filters" in body
    assert "Too many to download at once (at most 1)" in body and "Download CSV" not in body
    # Searching again or paging from here goes to the list, not to another download.
    assert 'action="/workbench/cases/"' in body
    assert len(_csv(client.get(URL, {"status": "closed"}))) == 2  # narrowed: the header and one case
    client.cookies["cg_language"] = "zh-hans"
    assert "请缩小筛选范围" in client.get(URL).content.decode()


def test_the_list_page_links_to_the_export_of_what_it_shows(handled):
    client = handled["client"]
    body = client.get("/workbench/cases/", {"status": "closed", "page": "1"}).content.decode()
    assert f'href="{URL}?status=closed"' in body and ">Download CSV<" in body
    assert 'href="/workbench/cases/?status=closed' not in body  # one page only: no page links
    assert "Download CSV" not in client.get("/workbench/cases/", {"q": "nothing-like-this"}).content.decode()
    client.cookies["cg_language"] = "zh-hans"
    assert ">下载 CSV<" in client.get("/workbench/cases/").content.decode()


def test_who_may_download(handled, client):
    client.force_login(make_user(Role.DEPARTMENT_STAFF, username="no-dept"))
    assert client.get(URL).status_code == 403
    for role in (Role.RESIDENT, Role.LEADER):
        client.force_login(handled["users"][role])
        assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_the_export_is_read_in_chunks_not_all_at_once(handled, django_assert_max_num_queries):
    """Streamed: the view returns before reading the cases; reading them is one query a chunk."""
    for n in range(5):
        handled["case"](f"第{n}件", department=handled["department"])
    with django_assert_max_num_queries(40):
        response = handled["client"].get(URL)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as reading:
        rows = _csv(response)
    assert len(rows) == 8
    assert sum('FROM "cases_case"' in q["sql"] for q in reading.captured_queries) == 1
