"""Workbench pages through real HTTP: the inbox's order, each action, every bad input, the scope."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from communitygrid.accounts.models import Department, Role
from communitygrid.cases import services as case_services
from communitygrid.cases.models import Case, CaseEvent, Status, Tier
from communitygrid.registry.models import CareTag, Person, PersonCareTag
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _case(staff, worker, *, category="repair_streetlight", lon=120.005, lat=30.005, text="路灯不亮") -> Case:
    case = case_services.case_submit(submitted_by=staff, channel="hotline", category_code=category, description=text,
                                     lon=lon, lat=lat).case
    if case.assignee_id != worker.pk:
        case_services.case_redispatch(case=case, actor=staff, assignee=worker)
    case.refresh_from_db()
    return case


@pytest.fixture
def desk(city, users, client):
    worker = users[Role.GRID_WORKER]
    client.force_login(worker)
    return {"worker": worker, "staff": users[Role.COMMUNITY_STAFF], "client": client, "users": users, "city": city}


def test_inbox_puts_urgent_first_then_by_deadline_and_marks_overdue(desk):
    worker, staff = desk["worker"], desk["staff"]
    general = _case(staff, worker, text="一般问题")
    urgent = _case(staff, worker, category="safety_gas", text="燃气味道")
    assert urgent.tier == Tier.URGENT and general.tier != Tier.URGENT
    page = desk["client"].get("/workbench/")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.index(f"#{urgent.pk} ") < body.index(f"#{general.pk} ")
    assert "data-due=" in body and "hx-get=\"/workbench/inbox/rows\"" in body
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        rows = desk["client"].get("/workbench/inbox/rows").content.decode()
    assert "overdue" in rows and "<html" not in rows


def test_the_inbox_holds_only_my_open_cases(desk):
    worker, staff = desk["worker"], desk["staff"]
    other = make_user(Role.GRID_WORKER, scope=[desk["city"].grids[0]], username="colleague")
    mine, theirs = _case(staff, worker, text="我的"), _case(staff, other, text="同事的")
    body = desk["client"].get("/workbench/").content.decode()
    assert f"#{mine.pk} " in body and f"#{theirs.pk} " not in body


def test_accept_then_resolve_with_a_photo(desk):
    worker, client = desk["worker"], desk["client"]
    case = _case(desk["staff"], worker)
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert f"/workbench/cases/{case.pk}/act/accept" in page
    assert f"/act/resolve" not in page  # not allowed from "assigned"
    response = client.post(f"/workbench/cases/{case.pk}/act/accept")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "/act/resolve" in page and "/act/accept" not in page
    photo = SimpleUploadedFile("fixed.png", PNG, content_type="image/png")
    response = client.post(f"/workbench/cases/{case.pk}/act/resolve", {"note": "已更换灯泡", "attachments": [photo]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.attachments.count() == 1


@pytest.mark.parametrize("action,data,field_text", [
    ("resolve", {"note": "  "}, "What was done"),
    ("hand_back", {"reason": ""}, "Reason"),
    ("escalate", {"reason": ""}, "Reason"),
    ("request_help", {"note": ""}, "What help is needed"),
    ("pause", {"reason": ""}, "Reason"),
    ("transfer_to_department", {"department": ""}, "Department"),
    ("transfer_to_department", {"department": "999999"}, "active departments"),
    ("transfer_to_department", {"department": "abc"}, "active departments"),
    ("resolve", {"note": "x" * 2001}, "2000"),
])
def test_bad_action_input_is_a_400_beside_the_field_and_writes_nothing(desk, action, data, field_text):
    case = _case(desk["staff"], desk["worker"])
    case_services.case_accept(case=case, actor=desk["worker"])
    events = CaseEvent.objects.filter(case=case).count()
    response = desk["client"].post(f"/workbench/cases/{case.pk}/act/{action}", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.content.decode()
    assert field_text in body and 'class="field-error"' in body and "<details open>" in body
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED


def test_a_bad_photo_is_refused_beside_the_photo_input(desk):
    case = _case(desk["staff"], desk["worker"])
    case_services.case_accept(case=case, actor=desk["worker"])
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = desk["client"].post(f"/workbench/cases/{case.pk}/act/resolve", {"note": "好了", "attachments": [fake]},
                                   HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "is not a JPEG" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED


def test_errors_are_in_the_pages_language(desk):
    case = _case(desk["staff"], desk["worker"])
    case_services.case_accept(case=case, actor=desk["worker"])
    desk["client"].cookies["cg_language"] = "zh-hans"
    body = desk["client"].post(f"/workbench/cases/{case.pk}/act/hand_back", {"reason": ""}).content.decode()
    assert "请填写理由" in body and "Reason is required" not in body


def test_a_double_accept_is_harmless(desk):
    case = _case(desk["staff"], desk["worker"])
    assert desk["client"].post(f"/workbench/cases/{case.pk}/act/accept").status_code == 302
    response = desk["client"].post(f"/workbench/cases/{case.pk}/act/accept", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "cannot be" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


def test_hand_back_transfer_escalate_and_help(desk):
    worker, client, staff = desk["worker"], desk["client"], desk["staff"]
    case = _case(staff, worker)
    case_services.case_accept(case=case, actor=worker)
    assert client.post(f"/workbench/cases/{case.pk}/act/request_help", {"note": "需要物业配合"}).status_code == 302
    assert client.post(f"/workbench/cases/{case.pk}/act/escalate", {"reason": "超出权限"}).status_code == 302
    department = Department.objects.filter(is_active=True).first()
    assert client.post(f"/workbench/cases/{case.pk}/act/transfer_to_department",
                       {"department": department.pk, "note": "转民政"}).status_code == 302
    case.refresh_from_db()
    assert case.department == department and case.escalation_level == 1
    second = _case(staff, worker)
    assert client.post(f"/workbench/cases/{second.pk}/act/hand_back", {"reason": "不在我片区"}).status_code == 302
    second.refresh_from_db()
    assert second.assignee is None and second.status == Status.SUBMITTED


def test_unknown_action_and_get_on_an_action(desk):
    case = _case(desk["staff"], desk["worker"])
    assert desk["client"].post(f"/workbench/cases/{case.pk}/act/delete").status_code == 404
    assert desk["client"].post(f"/workbench/cases/{case.pk}/act/close").status_code == 404
    assert desk["client"].get(f"/workbench/cases/{case.pk}/act/accept").status_code == 405


def test_a_case_out_of_scope_is_not_found_and_unchanged(desk):
    far = make_user(Role.GRID_WORKER, scope=[desk["city"].grids[7]], username="far-worker")
    staff_far = make_user(Role.COMMUNITY_STAFF, scope=[desk["city"].communities[3]], username="far-staff")
    case = _case(staff_far, far, lon=120.035, lat=30.035)
    client = desk["client"]
    assert client.get(f"/workbench/cases/{case.pk}/").status_code == 404
    assert client.post(f"/workbench/cases/{case.pk}/act/accept").status_code == 404
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED


def test_a_case_i_see_but_do_not_handle_offers_no_actions(desk):
    other = make_user(Role.GRID_WORKER, scope=[desk["city"].grids[0]], username="colleague2")
    case = _case(desk["staff"], other)
    body = desk["client"].get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "/act/" not in body
    assert desk["client"].post(f"/workbench/cases/{case.pk}/act/accept").status_code == 403


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.LEADER, Role.DEPARTMENT_STAFF])
def test_roles_without_a_grid_get_403(desk, role):
    client = desk["client"]
    client.force_login(desk["users"][role])
    # A department's staff handle their department's cases here, but have no grid.
    urls = ("/workbench/area/", "/workbench/links/", "/patrols/") if role == Role.DEPARTMENT_STAFF else (
        "/workbench/", "/workbench/inbox/rows", "/workbench/area/", "/patrols/")
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_a_department_handles_its_cases_from_the_workbench_and_takes_from_its_queue(desk):
    staff, client = desk["staff"], desk["client"]
    clerk = desk["users"][Role.DEPARTMENT_STAFF]
    colleague = make_user(Role.DEPARTMENT_STAFF, department=clerk.department, username="dept-colleague")
    elsewhere = Department.objects.create(code="DEP-OTHER", name="住建局", kind=Department.Kind.HOUSING,
                                          jurisdiction=desk["city"].district)
    outsider = make_user(Role.DEPARTMENT_STAFF, department=elsewhere, username="other-dept")
    worker = desk["worker"]
    given, queued, colleagues, other = (_case(staff, worker, text=text) for text in ("交给我", "部门队列", "同事的", "别的部门"))
    case_services.case_transfer_to_department(case=given, actor=staff, department=clerk.department)
    case_services.case_transfer_to_department(case=queued, actor=staff, department=clerk.department)
    case_services.case_transfer_to_department(case=colleagues, actor=staff, department=clerk.department)
    case_services.case_transfer_to_department(case=other, actor=staff, department=elsewhere)
    Case.objects.filter(pk=given.pk).update(assignee=clerk)
    Case.objects.filter(pk=colleagues.pk).update(assignee=colleague)
    Case.objects.filter(pk=other.pk).update(assignee=outsider)
    # Routing gives a transferred case to the department's least-loaded clerk; with all of them
    # at the cap it stays in the department's queue, as this one.
    Case.objects.filter(pk=queued.pk).update(assignee=None)

    client.force_login(clerk)
    client.cookies["cg_language"] = "en"
    body = client.get("/workbench/").content.decode()
    assert f"#{given.pk} " in body and f"#{queued.pk} " in body
    assert f"#{colleagues.pk} " not in body and f"#{other.pk} " not in body
    assert body.count("Department queue: not taken yet") == 1
    assert "/workbench/area/" not in body and "/workbench/links/" not in body  # no grid: no grid tabs
    home = client.get("/").content.decode()
    assert "Your department has 2 open cases" in home and 'href="/workbench/"' in home

    page = client.get(f"/workbench/cases/{queued.pk}/").content.decode()
    assert f"/workbench/cases/{queued.pk}/act/accept" in page
    assert client.post(f"/workbench/cases/{queued.pk}/act/accept", {"note": ""}).status_code == 302
    queued.refresh_from_db()
    assert queued.assignee == clerk and queued.status == Status.ACCEPTED
    # Another department's case stays out of reach.
    assert client.get(f"/workbench/cases/{other.pk}/").status_code == 404
    assert client.post(f"/workbench/cases/{other.pk}/act/accept").status_code == 404
    # A department account without a department has nothing to handle.
    loose = make_user(Role.DEPARTMENT_STAFF, username="no-dept")
    client.force_login(loose)
    assert client.get("/workbench/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, city):
    response = client.get("/workbench/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_home_page_leads_to_the_workbench(desk):
    body = desk["client"].get("/").content.decode()
    assert 'href="/workbench/"' in body and 'href="/patrols/"' in body


# ---- the grid's people, updated on the spot

@pytest.fixture
def person(desk):
    person = Person.objects.filter(grid=desk["city"].grids[0]).order_by("id").first()
    PersonCareTag.objects.create(person=person, tag=CareTag.objects.get(code="disabled"), level="二级")
    return person


def test_area_lists_special_care_residents_masked(desk, person):
    body = desk["client"].get("/workbench/area/").content.decode()
    assert str(person) in body and person.name not in body
    assert f"/workbench/persons/{person.pk}/update" in body


def test_update_phone_address_tags_and_freshness_at_once(desk, person):
    response = desk["client"].post(f"/workbench/persons/{person.pk}/update", {
        "phone": "139 1234 5678", "address": "新地址路8号", "care_tags": ["disabled", "elderly_alone"], "verified": "on"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone.reveal() == "13912345678"
    assert person.household.address.reveal() == "新地址路8号"
    assert dict(person.tag_links.values_list("tag__code", "level")) == {"disabled": "二级", "elderly_alone": ""}
    assert person.last_verified_by == desk["worker"] and person.last_verified_at.date() == timezone.now().date()
    page = desk["client"].get(f"/workbench/persons/{person.pk}/update").content.decode()
    assert "13912345678" not in page


def test_a_bad_phone_changes_nothing_at_all(desk, person):
    old_phone = person.phone.reveal()
    response = desk["client"].post(f"/workbench/persons/{person.pk}/update", {
        "phone": "12345", "address": "不应保存", "care_tags": [], "verified": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    person.refresh_from_db()
    assert person.phone.reveal() == old_phone and person.last_verified_at is None
    assert person.tag_links.count() == 1 and person.household.address.reveal() != "不应保存"


def test_an_unknown_care_tag_is_a_400(desk, person):
    response = desk["client"].post(f"/workbench/persons/{person.pk}/update", {"care_tags": ["nonsense"]})
    assert response.status_code == 400
    assert person.tag_links.count() == 1


def test_a_person_out_of_scope_is_not_found(desk):
    far = Person.objects.filter(grid=desk["city"].grids[7]).first()
    client = desk["client"]
    assert client.get(f"/workbench/persons/{far.pk}/update").status_code == 404
    assert client.post(f"/workbench/persons/{far.pk}/update", {"phone": "13900000000"}).status_code == 404
    far.refresh_from_db()
    assert far.phone.reveal() != "13900000000"


def test_street_staff_may_look_but_not_change(desk, person):
    client = desk["client"]
    client.force_login(desk["users"][Role.STREET_STAFF])
    assert client.post(f"/workbench/persons/{person.pk}/update", {"phone": "13900000000"}).status_code == 403


def test_a_progress_note_with_a_photo_leaves_the_status(desk):
    worker, client = desk["worker"], desk["client"]
    case = _case(desk["staff"], worker)
    client.post(f"/workbench/cases/{case.pk}/act/accept")
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert f"/workbench/cases/{case.pk}/act/note" in page
    empty = client.post(f"/workbench/cases/{case.pk}/act/note", {"note": " "})
    assert empty.status_code == 400 and "请填写备注或添加照片" in empty.content.decode()
    photo = SimpleUploadedFile("parts.png", PNG, content_type="image/png")
    response = client.post(f"/workbench/cases/{case.pk}/act/note", {"note": "等备件，明天更换", "attachments": [photo]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.attachments.count() == 1
    assert case.events.filter(action="note", note="等备件，明天更换").exists()


def test_the_timeline_puts_the_full_width_colon_between_a_step_and_its_note_in_chinese(desk):
    worker, client = desk["worker"], desk["client"]
    case = _case(desk["staff"], worker)
    client.post(f"/workbench/cases/{case.pk}/act/accept")
    client.post(f"/workbench/cases/{case.pk}/act/note", {"note": "等备件"})
    chinese = client.get(f"/workbench/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.search(r"[\u4e00-\u9fff]：等备件", chinese) and ": 等备件" not in chinese
    english = client.get(f"/workbench/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r"[a-z]: 等备件", english)
