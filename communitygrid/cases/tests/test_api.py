import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communitygrid.cases import selectors
from communitygrid.cases.models import Case, CaseEvent, Status
from communitygrid.cases.tests.conftest import PNG, POINT
from communitygrid.cases.tests.test_states import make_case

BASE = "/api/v1/cases"


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def submitted(client, people):
    response = post(as_user(client, people.resident), f"{BASE}/",
                    {"category": "elderly_visit", "description": "请来看看", **POINT}, **{"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.content
    return response.json()


def test_submit_and_a_retry_with_the_same_key_return_one_case(client, people, submitted):
    again = post(client, f"{BASE}/", {"category": "elderly_visit", "description": "请来看看", **POINT},
                 **{"Idempotency-Key": "k-1"})
    # The retry is answered with the first response, as it was.
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == submitted
    assert Case.objects.count() == 1
    body = submitted["case"]
    assert body["status"] == "assigned" and body["grid"] == "S0C0G0"
    # A resident sees the handler as role and surname, and no staff action list.
    assert body["actions"] == []


@pytest.mark.parametrize("body, field", [
    ({"category": "nope", "description": "x", **POINT}, "category"),
    ({"category": "elderly_visit", "description": "x", "lon": 100.0, "lat": 10.0}, "location"),
    ({"category": "elderly_visit", "description": "", **POINT}, "description"),
    ({"category": "elderly_visit", "description": "x", "building_id": 10**30}, None),
])
def test_bad_submissions_answer_4xx_naming_the_field_and_write_nothing(client, people, body, field):
    response = post(as_user(client, people.resident), f"{BASE}/", body)
    assert 400 <= response.status_code < 500, response.content
    if field:
        assert response.json()["field"] == field and response.json()["detail"]
    assert not Case.objects.exists()


def test_malformed_json_is_a_4xx(client, people):
    response = as_user(client, people.resident).post(f"{BASE}/", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_upload_with_attachments_checks_their_type(client, people):
    client = as_user(client, people.resident)
    fields = {"category": "elderly_visit", "description": "照片", **POINT}
    ok = client.post(f"{BASE}/upload", {**fields, "attachments": [SimpleUploadedFile("a.png", PNG)]})
    assert ok.status_code == 201, ok.content
    bad = client.post(f"{BASE}/upload", {**fields, "attachments": [SimpleUploadedFile("a.png", b"MZ\x90 not an image")]})
    assert bad.status_code == 400 and bad.json()["field"] == "attachments"
    assert Case.objects.count() == 1


def test_attachments_are_served_only_within_scope(client, people):
    client = as_user(client, people.resident)
    fields = {"category": "elderly_visit", "description": "照片", **POINT}
    created = client.post(f"{BASE}/upload", {**fields, "attachments": [SimpleUploadedFile("a.png", PNG)]}).json()
    case_id = created["case"]["id"]
    attachment = client.get(f"{BASE}/{case_id}/timeline").json()["items"][0]["attachments"][0]
    url = f"{BASE}/{case_id}/attachments/{attachment['id']}"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert as_user(client, people.outsider).get(url).status_code == 404
    assert as_user(client, people.worker).get(f"{BASE}/{case_id}/attachments/999999").status_code == 404


def test_anonymous_requests_are_refused(client, db):
    assert client.get(f"{BASE}/").status_code == 401


VISIBLE = {"resident": True, "grid_worker": True, "grid_leader": True, "community_staff": True, "street_staff": True,
           "district_staff": True, "admin": True, "department_staff": False, "leader": False, "outsider": False}


@pytest.mark.parametrize("role, visible", sorted(VISIBLE.items()))
def test_who_sees_a_case_in_the_first_grid(client, people, role, visible):
    case = make_case(people, Status.ASSIGNED)
    user = {"resident": people.resident, "grid_worker": people.worker, "grid_leader": people.leader,
            "community_staff": people.community, "street_staff": people.street, "district_staff": people.district,
            "admin": people.admin, "department_staff": people.dept_staff, "leader": people.cockpit,
            "outsider": people.outsider}[role]
    client = as_user(client, user)
    detail = client.get(f"{BASE}/{case.pk}")
    assert detail.status_code == (200 if visible else 404)
    listed = [c["id"] for c in client.get(f"{BASE}/").json()["items"]]
    assert (case.pk in listed) == visible
    assert client.get(f"{BASE}/{case.pk}/timeline").status_code == (200 if visible else 404)


def test_department_staff_see_cases_of_their_department(client, people):
    case = make_case(people, Status.ASSIGNED, assignee=None, department=people.department)
    assert as_user(client, people.dept_staff).get(f"{BASE}/{case.pk}").status_code == 200


def test_acting_allowed_forbidden_and_not_yours(client, people):
    case = make_case(people, Status.ASSIGNED)
    worker = as_user(client, people.worker)
    assert post(worker, f"{BASE}/{case.pk}/actions/resolve", {"note": "x"}).status_code == 409
    assert not CaseEvent.objects.filter(case=case).exists()
    accepted = post(worker, f"{BASE}/{case.pk}/actions/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert post(worker, f"{BASE}/{case.pk}/actions/fly").status_code == 400
    assert post(worker, f"{BASE}/{case.pk}/actions/pause", {"reason": ""}).json()["field"] == "reason"
    other = as_user(client, people.worker2)
    assert post(other, f"{BASE}/{case.pk}/actions/start").status_code == 403
    outsider = as_user(client, people.outsider)
    assert post(outsider, f"{BASE}/{case.pk}/actions/start").status_code == 404
    assert post(as_user(client, people.community), f"{BASE}/{case.pk}/actions/supervise",
                {"note": "by Friday"}).json()["supervised"] is True


def test_merge_and_transfer_need_their_targets(client, people):
    case = make_case(people, Status.ASSIGNED)
    staff = as_user(client, people.community)
    assert post(staff, f"{BASE}/{case.pk}/actions/merge").json()["field"] == "into_id"
    assert post(staff, f"{BASE}/{case.pk}/actions/merge", {"into_id": 999999}).status_code == 404
    assert post(staff, f"{BASE}/{case.pk}/actions/transfer_to_department", {"department_id": 999999}).json()["field"] == "department_id"
    moved = post(staff, f"{BASE}/{case.pk}/actions/transfer_to_department", {"department_id": people.department.pk})
    assert moved.status_code == 200 and moved.json()["department"] == people.department.name


def test_resident_rates_and_sees_staff_as_role_and_surname(client, people):
    people.worker.last_name, people.worker.display_name = "张", "张伟"
    people.worker.save()
    case = make_case(people, Status.IN_PROGRESS)
    post(as_user(client, people.worker), f"{BASE}/{case.pk}/actions/resolve", {"note": "修好了"})
    resident = as_user(client, people.resident)
    assert post(resident, f"{BASE}/{case.pk}/rating", {"solved": True, "rating": 9}).status_code == 400
    rated = post(resident, f"{BASE}/{case.pk}/rating", {"solved": True, "rating": 5, "comment": "谢谢"})
    assert rated.status_code == 200 and rated.json()["status"] == "closed"
    timeline = resident.get(f"{BASE}/{case.pk}/timeline").json()["items"]
    whos = [row["who"] for row in timeline]
    assert "张伟" not in json.dumps(timeline, ensure_ascii=False)
    assert any(who.endswith(" 张") for who in whos)


def test_a_resident_never_reads_the_routing_reasons_that_name_staff_and_their_workload(client, people):
    for worker in (people.worker, people.worker2):
        worker.last_name, worker.display_name = "张", "张伟"
        worker.save()
    resident = as_user(client, people.resident)
    created = post(resident, f"{BASE}/", {"category": "elderly_visit", "description": "请来看看", **POINT})
    assert created.status_code == 201
    case = Case.objects.get(pk=created.json()["case"]["id"])
    dispatch_note = case.events.get(action="dispatch").note
    assert "张伟" in dispatch_note  # the record keeps the whole reason, for staff

    timeline = resident.get(f"{BASE}/{case.pk}/timeline").json()["items"]
    assert [row["action"] for row in timeline] == ["submit", "dispatch"]
    assert "张伟" not in json.dumps(timeline, ensure_ascii=False)
    assert [row["note"] for row in timeline] == ["", ""]
    staff = as_user(client, people.worker).get(f"{BASE}/{case.pk}/timeline").json()["items"]
    assert staff[1]["note"] == dispatch_note


def test_huge_ids_are_not_found_not_errors(client, people):
    client = as_user(client, people.admin)
    assert client.get(f"{BASE}/{2**70}").status_code in (404, 422)
    assert client.get(f"{BASE}/{2**63}").status_code in (404, 422)
    assert client.get(f"{BASE}/0").status_code == 404


def test_the_public_board_shows_cases_without_personal_data(client, people, submit):
    case = submit(user=people.community, channel="hotline", caller_name="王大明", caller_phone="13912345678",
                  description="秘密的描述").case
    response = client.get(f"/cases/board/{people.city.communities[0].code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert case.category.name in html and people.grid.name in html
    for private in ("王大明", "13912345678", "139****5678", "秘密的描述", people.community.username):
        assert private not in html
    other = client.get(f"/cases/board/{people.city.communities[1].code}/").content.decode()
    assert case.category.name not in other
    assert client.get("/cases/board/NOPE/").status_code == 404


def test_staff_act_only_for_residents_they_may_see(client, people):
    """Acting for a resident "at home" would tell where anyone lives: only within the scope."""
    from communitygrid.accounts.models import Role
    from communitygrid.testing import make_household, make_user

    elsewhere = make_user(Role.RESIDENT, person=make_household(people.city.grids[7], members=1).members.first())
    body = {"category": "elderly_visit", "description": "来电求助", "at_home": True, "channel": "hotline"}
    for user in (people.worker, people.dept_staff, people.cockpit):
        refused = post(as_user(client, user), f"{BASE}/", {**body, "on_behalf_of": elsewhere.pk})
        assert refused.status_code == 400 and refused.json()["field"] == "on_behalf_of", (user.role, refused.content)
        assert "S1C1G1" not in refused.content.decode()
    assert not Case.objects.exists()
    own = post(as_user(client, people.worker), f"{BASE}/", {**body, "on_behalf_of": people.resident.pk})
    assert own.status_code == 201 and Case.objects.get().reporter == people.resident
    # District staff see the whole district, the other street included.
    assert post(as_user(client, people.district), f"{BASE}/", {**body, "on_behalf_of": elsewhere.pk}).status_code == 201


def test_a_case_landing_outside_the_submitters_scope_is_shown_as_to_a_resident(client, people):
    people.worker.last_name, people.worker.display_name = "张", "张伟"
    people.worker.save()
    response = post(as_user(client, people.outsider), f"{BASE}/",
                    {"category": "elderly_visit", "description": "路过发现", "channel": "discovery",
                     "building_id": people.resident.person.household.room.unit.building_id})
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.grid == people.grid and case.assignee in (people.worker, people.worker2)
    shown = response.json()["case"]
    assert shown["handler"] == selectors.staff_label(case.assignee, case.assignee.role) and shown["actions"] == []
    assert "张伟" not in response.content.decode()
    assert as_user(client, people.outsider).get(f"{BASE}/{case.pk}").status_code == 404


def test_list_filters_refuse_unknown_values_and_out_of_range_paging(client, people):
    make_case(people, Status.ASSIGNED)
    client = as_user(client, people.worker)
    unknown = client.get(f"{BASE}/", {"status": "nope"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "status"
    # a NUL is refused before the view runs (core.middleware)
    assert client.get(f"{BASE}/", {"status": "nope\x00"}).status_code == 400
    assert [c["status"] for c in client.get(f"{BASE}/", {"status": "assigned"}).json()["items"]] == ["assigned"]
    for bad in ({"offset": 10**20}, {"offset": -5}, {"limit": 10**20}, {"limit": 0}):
        response = client.get(f"{BASE}/", bad)
        assert response.status_code == 422 and response.json()["field"] == next(iter(bad)), response.content


def _hotline_case(people):
    case = make_case(people, Status.ASSIGNED, department=people.department)
    case.caller_name, case.caller_phone = "王先生", "13912345678"
    case.save()
    return case


def test_a_handler_reveals_the_caller_s_phone_with_a_purpose_and_it_is_logged(client, people):
    from communitygrid.privacy.models import AccessLog

    case = _hotline_case(people)
    detail = as_user(client, people.worker).get(f"{BASE}/{case.pk}").content.decode()
    assert "13912345678" not in detail
    for user in (people.worker, people.dept_staff, people.community):
        response = post(as_user(client, user), f"{BASE}/{case.pk}/reveal", {"purpose": "回电核实漏水位置"})
        assert response.status_code == 200, response.content
        assert response.json()["values"] == {"caller_phone": "13912345678"}
        assert response["Cache-Control"] == "no-store"
    entries = AccessLog.objects.filter(subject_type="cases.case", subject_id=case.pk)
    assert entries.count() == 3 and set(entries.values_list("purpose", flat=True)) == {"回电核实漏水位置"}


def test_revealing_the_caller_needs_a_purpose_and_the_case_in_scope(client, people):
    from communitygrid.privacy.models import AccessLog

    case = _hotline_case(people)
    blank = post(as_user(client, people.worker), f"{BASE}/{case.pk}/reveal", {"purpose": "  "})
    assert blank.status_code == 400 and blank.json()["field"] == "purpose"
    wrong_field = post(as_user(client, people.worker), f"{BASE}/{case.pk}/reveal",
                       {"purpose": "回电核实", "fields": ["description"]})
    assert wrong_field.status_code == 400
    for outsider in (people.outsider, people.cockpit):
        assert post(as_user(client, outsider), f"{BASE}/{case.pk}/reveal", {"purpose": "回电核实"}).status_code == 404
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("language, expected", [("en", "Category is required."), ("zh-hans", None)])
def test_a_missing_category_is_a_translated_400_naming_the_field(client, people, language, expected):
    from django.utils import translation

    response = post(as_user(client, people.resident), f"{BASE}/", {"description": "灯坏了", **POINT},
                    **{"Accept-Language": language})
    assert response.status_code == 400 and response.json()["field"] == "category"
    with translation.override("en"):
        english = translation.gettext("Category is required.")
    with translation.override("zh-hans"):
        chinese = translation.gettext("Category is required.")
    assert response.json()["detail"] == (expected or chinese) and chinese != english
    assert not Case.objects.exists()


def test_an_oversize_attachment_over_http_is_a_400_and_leaves_nothing(client, people, settings, tmp_path):
    settings.MEDIA_ROOT, settings.CASE_ATTACHMENT_MAX_BYTES = tmp_path, 1024
    fields = {"category": "elderly_visit", "description": "照片", **POINT}
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 2048, content_type="image/png")
    response = as_user(client, people.resident).post(f"{BASE}/upload", {**fields, "attachments": [big]},
                                                     headers={"Idempotency-Key": "big-1"})
    assert response.status_code == 400 and response.json()["field"] == "attachments"
    assert "big.png" in response.json()["detail"]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_list_filters_narrow_within_scope(client, people):
    import datetime as dt

    from django.utils import timezone

    from communitygrid.cases.models import Case

    old = make_case(people, Status.ASSIGNED)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10),
                                          updated_at=timezone.now() - dt.timedelta(days=10))
    new = make_case(people, Status.IN_PROGRESS)
    client = as_user(client, people.community)

    def ids(**params):
        response = client.get(f"{BASE}/", params)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert set(ids()) == {old.pk, new.pk}
    assert ids(status=["in_progress"]) == [new.pk]
    assert set(ids(status=["in_progress", "assigned"])) == {old.pk, new.pk}
    assert set(ids(category=new.category.code)) == {old.pk, new.pk} and ids(category="nope") == []
    assert set(ids(tier=new.tier)) == {old.pk, new.pk}
    assert set(ids(grid=people.city.communities[0].code)) == {old.pk, new.pk}
    assert ids(grid=people.city.grids[1].code) == []
    week_ago = (timezone.now() - dt.timedelta(days=7)).isoformat()
    assert ids(created_after=week_ago) == [new.pk] and ids(created_before=week_ago) == [old.pk]
    assert ids(updated_after=week_ago) == [new.pk]
    unknown = client.get(f"{BASE}/", {"grid": "NOPE"})
    assert unknown.status_code == 400 and unknown.json()["field"] == "grid"
    bad_date = client.get(f"{BASE}/", {"created_after": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "created_after"
    page = client.get(f"{BASE}/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and page["limit"] == 1 and page["offset"] == 1 and len(page["items"]) == 1


def test_an_outsider_filtering_by_grid_sees_nothing_of_it(client, people):
    make_case(people, Status.ASSIGNED)
    page = as_user(client, people.outsider).get(f"{BASE}/", {"grid": people.grid.code}).json()
    assert page["count"] == 0 and page["items"] == []
