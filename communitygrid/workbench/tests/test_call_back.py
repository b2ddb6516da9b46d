"""Calling back from the case page: who reported the case, their number masked, and one number
shown in plain on purpose — logged, for this response only, never outside the case's handlers."""
from __future__ import annotations

import pytest

from communitygrid.accounts.models import ResidentPhone, Role
from communitygrid.cases import services as case_services
from communitygrid.privacy.models import AccessLog
from communitygrid.privacy.selectors import access_log_queryset, own_record_access_queryset
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def reported(city, users, client):
    resident = users[Role.RESIDENT]
    ResidentPhone.objects.create(user=resident, phone=PHONE)
    case = case_services.case_submit(submitted_by=resident, channel="web", category_code="elderly_visit",
                                     description="我母亲独居，希望有人上门看看。", lon=120.005, lat=30.005).case
    worker = users[Role.GRID_WORKER]
    if case.assignee_id != worker.pk:
        case_services.case_redispatch(case=case, actor=users[Role.COMMUNITY_STAFF], assignee=worker)
    client.force_login(worker)
    return {"case": case, "resident": resident, "worker": worker, "client": client, "users": users}


def test_the_case_page_names_the_reporter_with_the_number_masked(reported):
    body = reported["client"].get(f"/workbench/cases/{reported['case'].pk}/").content.decode()
    assert str(reported["resident"]) in body and "139****5678" in body and PHONE not in body
    assert 'action="/workbench/cases/%d/call-back"' % reported["case"].pk in body
    assert not AccessLog.objects.exists()


def test_showing_the_number_needs_a_purpose_and_is_logged(reported):
    case, client = reported["case"], reported["client"]
    response = client.post(f"/workbench/cases/{case.pk}/call-back",
                           {"who": "reporter", "purpose": "约上门探访的时间"})
    body = response.content.decode()
    assert response.status_code == 200 and f'href="tel:{PHONE}"' in body
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.fields, log.purpose) == (reported["worker"], "reveal", ["phone"], "约上门探访的时间")
    assert PHONE not in log.subject_label and f"#{case.pk}" in log.subject_label
    # The entry lies in the case's grid, so the area's reviewers see it, and the resident sees
    # who read their number on their "who read my data" page.
    assert log.subject_grid_id == case.grid_id
    assert access_log_queryset(user=reported["users"][Role.COMMUNITY_STAFF]).filter(pk=log.pk).exists()
    assert own_record_access_queryset(user=reported["resident"]).filter(pk=log.pk).exists()
    # Shown on that response only: the next visit is masked again.
    assert PHONE not in client.get(f"/workbench/cases/{case.pk}/").content.decode()


@pytest.mark.parametrize("data, field, message", [
    ({"who": "reporter", "purpose": ""}, "purpose", "请说明查看这些数据的用途。"),
    ({"who": "reporter", "purpose": "。。"}, "purpose", "用途说明过短"),
    ({"who": "", "purpose": "约上门探访的时间"}, "who", "请选择要显示谁的号码。"),
    ({"who": "caller", "purpose": "约上门探访的时间"}, "who", "请选择要显示谁的号码。"),  # this case has no caller
])
def test_bad_input_is_refused_beside_the_field_and_nothing_is_shown_or_logged(reported, data, field, message):
    response = reported["client"].post(f"/workbench/cases/{reported['case'].pk}/call-back", data)
    body = response.content.decode()
    assert response.status_code == 400 and PHONE not in body
    assert f'id="id_call_{field}_error"' in body and message in body
    assert not AccessLog.objects.exists()


def test_no_one_outside_the_case_sees_or_shows_the_number(reported, city, client):
    case = reported["case"]
    stranger = make_user(Role.GRID_WORKER, scope=[city.grids[1]], username="next-grid")
    client.force_login(stranger)
    assert client.get(f"/workbench/cases/{case.pk}/").status_code == 404
    assert client.post(f"/workbench/cases/{case.pk}/call-back",
                       {"who": "reporter", "purpose": "约上门探访的时间"}).status_code == 404
    client.force_login(reported["resident"])
    assert client.post(f"/workbench/cases/{case.pk}/call-back",
                       {"who": "reporter", "purpose": "约上门探访的时间"}).status_code == 403
    assert not AccessLog.objects.exists()


def test_a_hotline_callers_number_is_shown_the_same_way(city, users, client):
    staff = users[Role.COMMUNITY_STAFF]
    case = case_services.case_submit(submitted_by=staff, channel="hotline", category_code="elderly_visit",
                                     description="来电反映", lon=120.005, lat=30.005, caller_name="王先生",
                                     caller_phone="13700001111").case
    client.force_login(staff)
    body = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "王先生" in body and "137****1111" in body and "13700001111" not in body
    assert "工作人员登记（热线来电或巡查发现）" in body  # no resident reported it
    response = client.post(f"/workbench/cases/{case.pk}/call-back", {"who": "caller", "purpose": "回访处理结果"})
    assert response.status_code == 200 and 'href="tel:13700001111"' in response.content.decode()
    assert AccessLog.objects.get().fields == ["caller_phone"]


def test_an_account_named_by_its_masked_number_is_not_named_twice(reported):
    resident = reported["resident"]
    resident.display_name = "139****5678"  # as sign-up by mobile number names an account
    resident.save(update_fields=["display_name"])
    body = reported["client"].get(f"/workbench/cases/{reported['case'].pk}/").content.decode()
    contact = body.split('id="h-contact"')[1].split("</dl>")[0]
    assert contact.count("139****5678") == 1
