"""The case list: every status, filtered and paginated; a department's staff see their department's
cases and nobody else's; bad filters are a 400 naming the field."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.cases import services as case_services
from communitygrid.cases.models import CaseTask, Status
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db
LOCAL = dt.timezone(dt.timedelta(hours=8))


def _listed(response) -> set[int]:
    assert response.status_code == 200, response.content.decode()[:500]
    return {int(n) for n in re.findall(r'href="/workbench/cases/(\d+)/"', response.content.decode())}


def test_a_department_sees_its_cases_of_every_status_and_no_other_departments(office):
    case, department, elsewhere = office["case"], office["department"], office["elsewhere"]
    colleague = make_user(Role.DEPARTMENT_STAFF, department=department, username="dept-colleague")
    queued = case("部门队列", department=department)
    colleagues = case("同事在办", department=department, assignee=colleague, status=Status.ACCEPTED)
    closed = case("已办结", department=department, assignee=colleague, status=Status.CLOSED)
    resolved = case("已解决", department=department, assignee=office["clerk"], status=Status.RESOLVED)
    other = case("别的部门", department=elsewhere, status=Status.CLOSED)
    grid_only = case("网格员在办", assignee=office["users"][Role.GRID_WORKER])
    # A joint-handling task brings a case into the department's reach, not into its list.
    helped = case("协办", assignee=office["users"][Role.GRID_WORKER])
    CaseTask.objects.create(case=helped, department=department, description="请协助",
                            due_at=timezone.now() + dt.timedelta(days=3))

    listed = _listed(office["client"].get("/workbench/cases/"))
    assert listed == {queued.pk, colleagues.pk, closed.pk, resolved.pk}
    assert not listed & {other.pk, grid_only.pk, helped.pk}
    body = office["client"].get("/workbench/cases/").content.decode()
    assert f"Cases of {department.name}" in body and "4 cases found" in body
    assert "Department queue: not taken yet" in body and 'aria-current="page">Department cases<' in body
    # Searching for another department's case by its number or words finds nothing.
    assert _listed(office["client"].get("/workbench/cases/", {"q": f"#{other.pk}"})) == set()
    assert _listed(office["client"].get("/workbench/cases/", {"q": "别的部门"})) == set()
    assert office["client"].get(f"/workbench/cases/{other.pk}/").status_code == 404
    assert office["client"].get(f"/workbench/cases/{closed.pk}/").status_code == 200


def test_filters_by_number_words_status_category_and_dates(office):
    case, department = office["case"], office["department"]
    march = dt.datetime(2026, 3, 10, 9, tzinfo=LOCAL)
    old = case("楼道灯坏了", department=department, status=Status.CLOSED, category="repair_streetlight", created=march)
    late = case("补贴咨询", department=department, created=dt.datetime(2026, 3, 31, 23, 30, tzinfo=LOCAL),
                category="elderly_subsidy")
    new = case("临时救助申请", department=department, status=Status.ACCEPTED, category="assist_temporary")
    get = lambda **query: _listed(office["client"].get("/workbench/cases/", query))  # noqa: E731
    assert get(q=str(old.pk)) == {old.pk} and get(q=f"#{late.pk}") == {late.pk}
    assert get(q=f"＃{late.pk}") == {late.pk}  # the full-width hash of a Chinese keyboard
    # Digits int() does not read ("²" passes str.isdigit) are words, not a number, and no 500.
    assert get(q="²") == set() and get(q="١٢") == set()
    assert get(q="救助") == {new.pk}
    assert get(status="closed") == {old.pk}
    assert get(status="open") == {late.pk, new.pk}
    assert get(category="elderly_subsidy") == {late.pk}
    # Whole local days, the last one included.
    assert get(date_from="2026-03-10", date_to="2026-03-31") == {old.pk, late.pk}
    assert get(date_from="2026-03-11", date_to="2026-03-30") == set()
    assert get(date_from="2026-04-01") == {new.pk}
    assert get(status="open", date_to="2026-03-31") == {late.pk}


@pytest.mark.parametrize("query,message", [
    ({"date_from": "2026-13-45"}, "Submitted from: enter a date such as 2026-03-01."),
    ({"date_to": "yesterday"}, "Submitted until: enter a date such as 2026-03-01."),
    ({"date_from": "0001-01-01"}, "Submitted from: enter a date between 1970 and 2100."),
    ({"date_to": "9999-12-31"}, "Submitted until: enter a date between 1970 and 2100."),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "Submitted until: the date is before the start date."),
    ({"status": "lost"}, "Status: choose one of the statuses in the list."),
    ({"category": "no_such_thing"}, "Category: choose one of the categories in the list."),
    ({"q": "x" * 101}, "Case number or words: at most 100 characters."),
])
def test_a_bad_filter_is_a_400_naming_the_field(office, query, message):
    office["case"]("部门的案件", department=office["department"])
    response = office["client"].get("/workbench/cases/", query)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body and 'class="field-error"' in body and 'role="alert"' in body
    assert not re.findall(r'href="/workbench/cases/\d+/"', body)  # no list under a filter that failed


def test_a_bad_filter_is_told_in_chinese_too(office):
    office["client"].cookies["cg_language"] = "zh-hans"
    body = office["client"].get("/workbench/cases/", {"date_from": "2026-13-45", "status": "lost"}).content.decode()
    assert "提交起始日期：请输入日期" in body and "状态：请从列表中选择" in body


def test_the_list_is_paginated_and_keeps_its_filters(office):
    department = office["department"]
    made = [office["case"](f"第{i}件", department=department, status=Status.CLOSED) for i in range(27)]
    client = office["client"]
    first = client.get("/workbench/cases/", {"status": "closed"})
    assert len(_listed(first)) == 25 and "27 cases found" in first.content.decode()
    assert 'href="/workbench/cases/?status=closed&amp;page=2"' in first.content.decode()
    second = _listed(client.get("/workbench/cases/", {"status": "closed", "page": "2"}))
    assert second == {made[0].pk, made[1].pk}  # newest first: the first two made are on the last page
    assert len(_listed(client.get("/workbench/cases/", {"page": "abc"}))) == 25


def test_grid_staff_list_the_cases_of_their_area_only(office):
    client, users, city = office["client"], office["users"], office["city"]
    worker = users[Role.GRID_WORKER]
    client.force_login(worker)
    mine = office["case"]("我的", assignee=worker, status=Status.CLOSED)
    far_worker = make_user(Role.GRID_WORKER, scope=[city.grids[7]], username="far-worker")
    far = case_services.case_submit(submitted_by=far_worker, channel="hotline", category_code="env_sorting",
                                    description="远处", lon=120.035, lat=30.035).case
    listed = _listed(client.get("/workbench/cases/"))
    assert mine.pk in listed and far.pk not in listed
    assert 'aria-current="page">All cases<' in client.get("/workbench/cases/").content.decode()


def test_who_may_open_the_list(office, client):
    client.force_login(make_user(Role.DEPARTMENT_STAFF, username="no-dept"))
    assert client.get("/workbench/cases/").status_code == 403
    for role in (Role.RESIDENT, Role.LEADER):
        client.force_login(office["users"][role])
        assert client.get("/workbench/cases/").status_code == 403
    client.logout()
    assert client.get("/workbench/cases/").status_code == 302


def test_the_department_s_home_page_and_inbox_lead_to_the_list(office):
    client = office["client"]
    assert 'href="/workbench/cases/"' in client.get("/").content.decode()
    assert 'href="/workbench/cases/"' in client.get("/workbench/").content.decode()


# ---------------------------------------------------------------- area and handler filters

def _options(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', body, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', select)


@pytest.fixture
def community(office):
    """Community staff of the first community (grids S0C0G0 and S0C0G1), with cases in and out of it."""
    users, city, case = office["users"], office["city"], office["case"]
    staff, worker = users[Role.COMMUNITY_STAFF], users[Role.GRID_WORKER]
    neighbour = make_user(Role.GRID_WORKER, scope=[city.grids[1]], username="neighbour-worker")
    far_worker = make_user(Role.GRID_WORKER, scope=[city.grids[2]], username="far-worker")
    office["client"].force_login(staff)
    return {**office, "staff": staff, "worker": worker, "neighbour": neighbour, "far_worker": far_worker,
            "first": case("一号网格", assignee=worker, grid=city.grids[0]),
            "second": case("二号网格", assignee=neighbour, grid=city.grids[1]),
            "nobody": case("无人接手", grid=city.grids[1]),
            "far": case("别的社区", assignee=far_worker, grid=city.grids[2])}


def test_the_area_and_handler_filters_offer_only_the_viewer_s_own(community):
    city, client = community["city"], community["client"]
    body = client.get("/workbench/cases/").content.decode()
    assert _options(body, "area") == ["", "S0C0", "S0C0G0", "S0C0G1"]  # not the rest of the district
    assert "社区00 · Community" in body and "网格001 · Grid" in body
    handlers = _options(body, "handler")
    assert handlers[:2] == ["", "none"]
    assert set(handlers[2:]) == {str(community["worker"].pk), str(community["neighbour"].pk)}
    assert str(community["far_worker"].pk) not in handlers  # holds cases, but none in this community
    assert 'for="id_area"' in body and 'for="id_handler"' in body
    assert city.grids[2].code not in _options(body, "area")


def test_filters_by_area_and_by_handler(community):
    get = lambda **query: _listed(community["client"].get("/workbench/cases/", query))  # noqa: E731
    first, second, nobody = community["first"].pk, community["second"].pk, community["nobody"].pk
    assert get() == {first, second, nobody}
    assert get(area="S0C0") == {first, second, nobody}
    assert get(area="S0C0G1") == {second, nobody}
    assert get(handler=str(community["worker"].pk)) == {first}
    assert get(handler="none") == {nobody}
    assert get(area="S0C0G0", handler="none") == set()
    assert get(area="S0C0G1", handler=str(community["neighbour"].pk), status="open") == {second}


@pytest.mark.parametrize("query,message", [
    ({"area": "S0C1G0"}, "Area: choose one of the areas in the list (only your own areas are offered)."),
    ({"area": "D"}, "Area: choose one of the areas in the list (only your own areas are offered)."),
    ({"area": "NO-SUCH-NODE"}, "Area: choose one of the areas in the list (only your own areas are offered)."),
    ({"handler": "999999"}, "Handler: choose one of the staff in the list, or “Not assigned”."),
    ({"handler": "somebody"}, "Handler: choose one of the staff in the list, or “Not assigned”."),
])
def test_an_area_or_handler_outside_the_list_is_a_400_beside_its_field(community, query, message):
    response = community["client"].get("/workbench/cases/", query)
    body = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'class="field-error" id="id_%s_error">%s' % (next(iter(query)), re.escape(message)), body)
    assert not re.findall(r'href="/workbench/cases/\d+/"', body)


def test_a_handler_of_other_areas_only_is_refused_not_shown(community):
    """Crafted: the id of staff whose cases all lie outside the viewer's areas."""
    response = community["client"].get("/workbench/cases/", {"handler": str(community["far_worker"].pk)})
    assert response.status_code == 400 and community["far"].pk not in _listed_any(response)


def test_area_and_handler_errors_in_chinese(community):
    community["client"].cookies["cg_language"] = "zh-hans"
    body = community["client"].get("/workbench/cases/", {"area": "S1C0", "handler": "0"}).content.decode()
    assert "区域：请从列表中选择一个区域（只列出您负责的区域）。" in body
    assert "办理人：请从列表中选择一位工作人员，或选择“暂无办理人”。" in body


def _listed_any(response) -> set[int]:
    return {int(n) for n in re.findall(r'href="/workbench/cases/(\d+)/"', response.content.decode())}


def test_crafted_filters_never_show_another_department_s_cases(office):
    case, department, elsewhere, city = office["case"], office["department"], office["elsewhere"], office["city"]
    other_clerk = make_user(Role.DEPARTMENT_STAFF, department=elsewhere, username="other-clerk")
    ours = case("本部门", department=department, grid=city.grids[5])
    theirs = case("别的部门", department=elsewhere, assignee=other_clerk, grid=city.grids[5])
    queue = case("别的部门待领", department=elsewhere, grid=city.grids[5])
    client = office["client"]
    body = client.get("/workbench/cases/").content.decode()
    # The department's jurisdiction (the district) is its area; its handlers are its own.
    assert _options(body, "area")[:2] == ["", "D"] and "S1C0G1" in _options(body, "area")
    assert str(other_clerk.pk) not in _options(body, "handler")
    for query in ({"area": "D"}, {"area": city.grids[5].code}, {"area": "S1", "handler": "none"},
                  {"q": f"#{theirs.pk}"}, {"q": "别的部门", "area": "D"}):
        listed = _listed(client.get("/workbench/cases/", query))
        assert theirs.pk not in listed and queue.pk not in listed, query
    assert _listed(client.get("/workbench/cases/", {"area": city.grids[5].code})) == {ours.pk}
    assert client.get("/workbench/cases/", {"handler": str(other_clerk.pk)}).status_code == 400


def test_a_grid_worker_cannot_widen_the_list_with_a_wider_area(office):
    client, users, city = office["client"], office["users"], office["city"]
    worker = users[Role.GRID_WORKER]
    client.force_login(worker)
    office["case"]("隔壁网格", grid=city.grids[1])
    body = client.get("/workbench/cases/").content.decode()
    assert _options(body, "area") == ["", "S0C0G0"]
    for area in ("S0C0", "S0", "D", "C"):
        assert client.get("/workbench/cases/", {"area": area}).status_code == 400


# ---------------------------------------------------------------- what the list says it shows

def test_a_case_transferred_to_another_department_leaves_the_list_and_the_page_says_so(office):
    case, department, elsewhere = office["case"], office["department"], office["elsewhere"]
    clerk, client = office["clerk"], office["client"]
    body = client.get("/workbench/cases/").content.decode()
    assert "No case is with your department now. Cases that went on to another department" in body
    moving = case("要转走的", department=department, assignee=clerk, status=Status.ACCEPTED)
    assert _listed(client.get("/workbench/cases/")) == {moving.pk}
    case_services.case_transfer_to_department(case=moving, actor=clerk, department=elsewhere, note="属住建局职责")
    response = client.get("/workbench/cases/")
    assert _listed(response) == set()
    body = response.content.decode()
    assert "A case that went on to another department or back to the community is no longer listed here" in body
    assert "No case is with your department now." in body
    client.cookies["cg_language"] = "zh-hans"
    body = client.get("/workbench/cases/").content.decode()
    assert "已转往其他部门或退回社区的诉求不再列在这里" in body and "本部门目前没有诉求" in body


def test_a_filter_that_finds_nothing_says_so_not_that_the_department_is_empty(office):
    office["case"]("部门的诉求", department=office["department"])
    body = office["client"].get("/workbench/cases/", {"status": "closed"}).content.decode()
    assert "No case matches these filters." in body and "No case is with your department now." not in body
