"""The case list: every status, filtered and paginated; a department's staff see their department's
cases and nobody else's; bad filters are a 400 naming the field."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Department, Role
from communitygrid.cases import services as case_services
from communitygrid.cases.models import Case, CaseTask, Status
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db
LOCAL = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def office(city, users, client):
    clerk = users[Role.DEPARTMENT_STAFF]
    elsewhere = Department.objects.create(code="DEP-ELSE", name="住建局", kind=Department.Kind.HOUSING,
                                          jurisdiction=city.district)
    staff = users[Role.COMMUNITY_STAFF]

    def case(text, *, department=None, assignee=None, status=Status.ASSIGNED, category="env_sorting",
             created=None) -> Case:
        made = case_services.case_submit(submitted_by=staff, channel="hotline", category_code=category,
                                         description=text, lon=120.005, lat=30.005).case
        changes = {"department": department, "assignee": assignee, "status": status}
        if status == Status.CLOSED:
            changes["closed_at"] = timezone.now()
        if created:
            changes["created_at"] = created
        Case.objects.filter(pk=made.pk).update(**changes)
        made.refresh_from_db()
        return made

    client.force_login(clerk)
    client.cookies["cg_language"] = "en"
    return {"clerk": clerk, "department": clerk.department, "elsewhere": elsewhere, "case": case, "client": client,
            "users": users, "city": city}


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
    assert "?status=closed&amp;page=2" in first.content.decode()
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
