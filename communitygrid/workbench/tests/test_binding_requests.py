"""Linking a resident's account to their household record: the resident asks in the portal, a
worker of the record's grid verifies in the workbench. Real HTTP, real database."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from communitygrid.accounts.models import BindingRequest, ResidentPhone, Role, User
from communitygrid.cases.models import Case
from communitygrid.notifications.models import Notification
from communitygrid.privacy import crypto
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Person
from communitygrid.testing import id_number_for, make_user

pytestmark = pytest.mark.django_db

SENT = "sent to your grid worker for verification"
# A valid GB 11643 number with its check character changed: a checksum error.
_GOOD = id_number_for(dt.date(1949, 12, 31), 2)
BAD_CHECKSUM = _GOOD[:17] + ("0" if _GOOD[17] != "0" else "1")


@pytest.fixture
def world(city, users):
    grid, other_grid = city.grids[0], city.grids[1]
    person = Person.objects.filter(grid=grid, account__isnull=True).order_by("id").first()
    claimant = make_user(Role.RESIDENT, username="newcomer")
    ResidentPhone.objects.create(user=claimant, phone="13912340001")
    return {
        "grid": grid, "person": person, "claimant": claimant, "worker": users[Role.GRID_WORKER],
        "other_worker": make_user(Role.GRID_WORKER, scope=[other_grid], username="worker-of-the-next-grid"),
        "linked_resident": users[Role.RESIDENT], "admin": users[Role.ADMIN],
    }


def _en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _claim(client, person, *, name=None, id_number=None):
    return client.post("/portal/link/", {"name": person.name if name is None else name,
                                         "id_number": person.id_number.reveal() if id_number is None else id_number},
                       follow=True)


def test_resident_requests_worker_of_the_grid_approves_and_the_resident_then_submits_a_case_at_home(client, world):
    person, claimant, worker = world["person"], world["claimant"], world["worker"]
    _en(client).force_login(claimant)
    home = client.get("/portal/").content.decode()
    assert 'href="/portal/link/"' in home and "Link my household record" in home
    assert "One-tap help" not in home  # no home known yet

    response = _claim(client, person)
    assert response.status_code == 200 and SENT in response.content.decode()
    request = BindingRequest.objects.get()
    assert request.person == person and request.status == BindingRequest.Status.PENDING
    # The ID number is kept only as its blind index, never in clear or encrypted.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {BindingRequest._meta.db_table} WHERE id = %s", [request.pk])
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert person.name not in stored and person.id_number.reveal() not in stored
    assert request.id_number_bidx == crypto.blind_index("id_number", person.id_number.reveal())
    assert request.claimed_name.reveal() == person.name
    claimant.refresh_from_db()
    assert claimant.person_id is None  # never linked automatically

    _en(client).force_login(worker)
    listing = client.get("/workbench/links/").content.decode()
    assert f"/workbench/links/{request.pk}/" in listing
    assert person.name not in listing and person.name[0] + "*" in listing  # the claimed name, masked
    assert "139****0001" in listing and str(person.household.address) in listing  # masked phone and address
    assert person.household.address.reveal() not in listing
    response = client.post(f"/workbench/links/{request.pk}/approve")
    assert response.status_code == 302
    request.refresh_from_db()
    claimant.refresh_from_db()
    assert request.status == BindingRequest.Status.APPROVED and request.decided_by == worker
    assert claimant.person == person
    entry = AccessLog.objects.get(action=AccessLog.Action.LINK)
    assert (entry.actor, entry.subject_type, entry.subject_id) == (worker, "registry.person", person.pk)
    notice = Notification.objects.get(recipient=claimant, kind="binding_approved")
    assert f"#{request.pk}" in notice.body

    _en(client).force_login(claimant)
    page = client.get("/portal/link/").content.decode()
    assert "Approved" in page and "Your account is linked" in page and 'name="id_number"' not in page
    response = client.post("/portal/new/", {"category": "elderly_visit", "description": "楼道灯坏了", "where": "home",
                                            "lon": "", "lat": "", "idempotency_key": "link-flow-1"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter == claimant and case.grid == person.grid


def test_a_worker_of_another_grid_can_neither_see_nor_decide_the_request(client, world):
    client.force_login(world["claimant"])
    _claim(client, world["person"])
    request = BindingRequest.objects.get()
    client.force_login(world["other_worker"])
    assert f"/workbench/links/{request.pk}/" not in client.get("/workbench/links/").content.decode()
    assert client.get(f"/workbench/links/{request.pk}/").status_code == 404
    assert client.post(f"/workbench/links/{request.pk}/approve").status_code == 404
    assert client.post(f"/workbench/links/{request.pk}/refuse", {"reason": "不认识此人"}).status_code == 404
    request.refresh_from_db()
    assert request.status == BindingRequest.Status.PENDING
    assert User.objects.get(pk=world["claimant"].pk).person_id is None
    assert not AccessLog.objects.filter(action=AccessLog.Action.LINK).exists()
    # A resident and department staff get no workbench at all.
    client.force_login(world["linked_resident"])
    assert client.get(f"/workbench/links/{request.pk}/").status_code == 403


def test_refusing_needs_a_reason_and_the_resident_reads_it(client, world):
    client.force_login(world["claimant"])
    _claim(client, world["person"])
    request = BindingRequest.objects.get()
    _en(client).force_login(world["worker"])
    response = client.post(f"/workbench/links/{request.pk}/refuse", {"reason": "   "})
    assert response.status_code == 400 and "Reason is required" in response.content.decode()
    request.refresh_from_db()
    assert request.status == BindingRequest.Status.PENDING and not Notification.objects.exists()
    assert client.post(f"/workbench/links/{request.pk}/refuse", {"reason": "Please come to the office with your ID"}).status_code == 302
    request.refresh_from_db()
    assert request.status == BindingRequest.Status.REFUSED and request.reason == "Please come to the office with your ID"
    assert Notification.objects.filter(recipient=world["claimant"], kind="binding_refused").count() == 1
    assert AccessLog.objects.filter(action=AccessLog.Action.LINK, subject_id=world["person"].pk).count() == 1
    assert client.post(f"/workbench/links/{request.pk}/approve").status_code == 409  # already decided
    _en(client).force_login(world["claimant"])
    page = client.get("/portal/link/").content.decode()
    assert "Refused" in page and "Please come to the office with your ID" in page
    assert 'name="id_number"' in page  # they may ask again


@pytest.mark.parametrize(("name", "id_number", "field", "message"), [
    ("", None, "name", "Full name is required"),
    (None, BAD_CHECKSUM, "id_number", "check character"),
    (None, "", "id_number", "ID number is required"),
    (None, "1101051949", "id_number", "18 characters"),
])
def test_bad_input_is_a_400_on_its_field_and_writes_nothing(client, world, name, id_number, field, message):
    _en(client).force_login(world["claimant"])
    response = client.post("/portal/link/", {"name": world["person"].name if name is None else name,
                                             "id_number": world["person"].id_number.reveal() if id_number is None
                                             else id_number})
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body and f'id="err-{field.replace("_", "-")}"' in body and 'aria-invalid="true"' in body
    assert not BindingRequest.objects.exists()


def test_the_messages_are_in_chinese_for_a_chinese_page(client, world):
    client.force_login(world["claimant"])
    response = client.post("/portal/link/", {"name": "", "id_number": BAD_CHECKSUM},
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 400 and "绑定我的户籍信息" in body
    assert 'id="err-name"' in body and 'id="err-id-number"' in body and "校验" in body


def test_a_second_pending_request_is_refused(client, world):
    _en(client).force_login(world["claimant"])
    _claim(client, world["person"])
    response = client.post("/portal/link/", {"name": "张三", "id_number": id_number_for(dt.date(1980, 1, 2), 11)})
    assert response.status_code == 409 and "already have a request waiting" in response.content.decode()
    assert BindingRequest.objects.count() == 1
    # Withdrawn, it may be asked again.
    client.post("/portal/link/", {"action": "withdraw"})
    assert BindingRequest.objects.get().status == BindingRequest.Status.WITHDRAWN
    assert _claim(client, world["person"]).status_code == 200
    assert BindingRequest.objects.filter(status=BindingRequest.Status.PENDING).count() == 1


def _visible_part(body: str) -> str:
    # The page without the request number and time, which differ between any two requests.
    import re

    return re.sub(r"#\d+ · [\d\- :]+", "", re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body))


def test_the_page_says_the_same_whether_or_not_a_record_matched(client, world):
    person = world["person"]
    matched_user, unmatched_user, wrong_name_user = (make_user(Role.RESIDENT, username=f"claimant-{i}") for i in range(3))
    bodies = []
    for user, values in ((matched_user, {}),
                         (unmatched_user, {"name": "李四", "id_number": id_number_for(dt.date(1977, 5, 6), 123)}),
                         (wrong_name_user, {"name": "王五"})):
        _en(client).force_login(user)
        response = _claim(client, person, **values)
        assert response.status_code == 200
        bodies.append(_visible_part(response.content.decode()))
    assert bodies[0] == bodies[1] == bodies[2] and SENT in bodies[0]
    found = dict(BindingRequest.objects.values_list("user__username", "person_id"))
    assert found == {"claimant-0": person.pk, "claimant-1": None, "claimant-2": None}
    # A request that matched nothing reaches no workbench, not even the admin's; only the back-office.
    unmatched = BindingRequest.objects.get(user=unmatched_user)
    client.force_login(world["admin"])
    assert client.get(f"/workbench/links/{unmatched.pk}/").status_code == 404
    assert client.get(f"/admin/accounts/bindingrequest/{unmatched.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/bindingrequest/{unmatched.pk}/delete/", {"post": "yes"}).status_code == 403
    client.force_login(world["worker"])
    assert client.get("/admin/accounts/bindingrequest/").status_code in (302, 403)


def test_approving_a_record_already_linked_to_another_account_is_refused(client, world):
    linked = world["linked_resident"]
    client.force_login(world["claimant"])
    _claim(client, linked.person)
    request = BindingRequest.objects.get()
    assert request.person == linked.person
    _en(client).force_login(world["worker"])
    response = client.post(f"/workbench/links/{request.pk}/approve")
    assert response.status_code == 409 and "already linked to another account" in response.content.decode()
    request.refresh_from_db()
    assert request.status == BindingRequest.Status.PENDING
    assert User.objects.get(pk=world["claimant"].pk).person_id is None
    assert User.objects.get(pk=linked.pk).person_id == linked.person.pk
    assert not AccessLog.objects.filter(action=AccessLog.Action.LINK).exists() and not Notification.objects.exists()


def test_staff_and_linked_residents_get_no_claim_form(client, world):
    client.force_login(world["linked_resident"])
    assert 'href="/portal/link/"' not in client.get("/portal/").content.decode()
    page = client.get("/portal/link/").content.decode()
    assert 'name="id_number"' not in page
    assert client.post("/portal/link/", {"name": "x", "id_number": world["person"].id_number.reveal()}).status_code == 409
    client.force_login(world["worker"])
    assert client.get("/portal/link/").status_code == 403
    assert not BindingRequest.objects.exists()


def test_an_account_without_a_mobile_number_is_said_so_not_shown_as_a_masked_dash(client, world):
    world["claimant"].resident_phone.delete()
    client.force_login(world["claimant"])
    _claim(client, world["person"])

    _en(client).force_login(world["worker"])
    listing = client.get("/workbench/links/").content.decode()

    assert "No mobile number on the account." in listing and "— <span" not in listing
