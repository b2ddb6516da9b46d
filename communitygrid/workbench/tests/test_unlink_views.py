"""Unlinking a resident account from its household record, through the pages: staff of the
record's grid in the workbench, the resident in the portal. Real HTTP, real database."""
from __future__ import annotations

import re

import pytest

from communitygrid.accounts.models import BindingRequest, ResidentPhone, Role, User
from communitygrid.accounts.services import binding_request_approve, binding_request_submit
from communitygrid.notifications.models import Notification
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Person
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(city, users):
    person = Person.objects.filter(grid=city.grids[0], account__isnull=True).order_by("id").first()
    resident = make_user(Role.RESIDENT, username="linked-by-request")
    ResidentPhone.objects.create(user=resident, phone="13912340002")
    request = binding_request_submit(user=resident, name=person.name, id_number=person.id_number.reveal())
    binding_request_approve(actor=users[Role.GRID_WORKER], binding_request_id=request.pk)
    Notification.objects.all().delete()
    return {"person": person, "resident": resident, "request": request, "worker": users[Role.GRID_WORKER],
            "other_worker": make_user(Role.GRID_WORKER, scope=[city.grids[1]], username="next-grid-worker"),
            "users": users}


def _en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _still_linked(world) -> bool:
    return User.objects.get(pk=world["resident"].pk).person_id == world["person"].pk


def _nothing_written(world) -> bool:
    return (_still_linked(world) and not AccessLog.objects.filter(action=AccessLog.Action.UNLINK).exists()
            and not Notification.objects.exists()
            and BindingRequest.objects.get(pk=world["request"].pk).status == BindingRequest.Status.APPROVED)


def test_the_worker_unlinks_from_the_record_page_after_a_confirmation_step(client, world):
    person, url = world["person"], f"/workbench/persons/{world['person'].pk}/unlink"
    _en(client).force_login(world["worker"])
    record_page = client.get(f"/workbench/persons/{person.pk}/update").content.decode()
    assert f'href="{url}"' in record_page and "Unlink the account…" in record_page
    assert "139****0002" in record_page and "13912340002" not in record_page
    request_page = client.get(f"/workbench/links/{world['request'].pk}/").content.decode()
    assert f'href="{url}"' in request_page

    confirm = client.get(url)  # the confirmation step: a GET changes nothing
    body = confirm.content.decode()
    assert confirm.status_code == 200 and _nothing_written(world)
    assert re.search(r'<form method="post" action="%s"' % re.escape(url), body)
    assert '<label for="id_reason">Reason for unlinking' in body and '<textarea name="reason"' in body
    assert "Unlink the account</button>" in body and person.name not in body

    response = client.post(url, {"reason": "The account belongs to a neighbour"}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302 and response["Location"] == f"/workbench/persons/{person.pk}/update"
    assert not _still_linked(world)
    entry = AccessLog.objects.get(action=AccessLog.Action.UNLINK)
    assert (entry.actor, entry.subject_id) == (world["worker"], person.pk)
    notice = Notification.objects.get(kind="binding_removed")
    assert notice.recipient == world["resident"] and "The account belongs to a neighbour" in notice.body
    after = client.get(f"/workbench/persons/{person.pk}/update").content.decode()
    assert "is unlinked from the record" in after and f'href="{url}"' not in after
    request_page = client.get(f"/workbench/links/{world['request'].pk}/").content.decode()
    assert "Unlinked" in request_page and "The account belongs to a neighbour" in request_page
    assert f'href="{url}"' not in request_page
    assert "No account is linked to this record." in client.get(url).content.decode()
    # A second POST (a double click) is a conflict, not a second entry.
    again = client.post(url, {"reason": "again"})
    assert again.status_code == 409 and AccessLog.objects.filter(action=AccessLog.Action.UNLINK).count() == 1

    # The resident reads why, and may ask again.
    _en(client).force_login(world["resident"])
    page = client.get("/portal/link/").content.decode()
    assert "Unlinked" in page and "The account belongs to a neighbour" in page and 'name="id_number"' in page
    response = client.post("/portal/link/", {"name": person.name, "id_number": person.id_number.reveal()})
    assert response.status_code == 302
    assert BindingRequest.objects.filter(user=world["resident"], status=BindingRequest.Status.PENDING).count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_missing_reason_is_a_400_on_the_field_in_the_users_language_and_nothing_changes(client, world, reason):
    url = f"/workbench/persons/{world['person'].pk}/unlink"
    _en(client).force_login(world["worker"])
    response = client.post(url, {"reason": reason})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_reason_error"' in body and "Reason is required: tell the resident why" in body
    assert _nothing_written(world)
    response = client.post(url, {"reason": reason}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 400 and "解绑理由为必填项" in body and "Reason is required" not in body
    assert _nothing_written(world)


def test_a_too_long_reason_is_refused_on_its_field(client, world):
    _en(client).force_login(world["worker"])
    response = client.post(f"/workbench/persons/{world['person'].pk}/unlink", {"reason": "x" * 501})
    assert response.status_code == 400 and "longer than 500 characters" in response.content.decode()
    assert _nothing_written(world)


def test_out_of_scope_staff_get_404_and_other_roles_403(client, world):
    url = f"/workbench/persons/{world['person'].pk}/unlink"
    for role_user in (world["other_worker"], world["users"][Role.STREET_STAFF], world["users"][Role.DISTRICT_STAFF]):
        client.force_login(role_user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "越界解绑"}).status_code == 404
    for role in (Role.RESIDENT, Role.DEPARTMENT_STAFF, Role.LEADER):
        client.force_login(world["users"][role])
        assert client.post(url, {"reason": "越界解绑"}).status_code == 403
    client.force_login(world["other_worker"])
    assert client.get("/workbench/persons/999999/unlink").status_code == 404
    assert _nothing_written(world)
    client.logout()
    assert client.post(url, {"reason": "匿名"}).status_code == 302  # to the sign-in page
    assert _nothing_written(world)


def test_unlinking_is_not_offered_to_staff_who_may_not_do_it(client, world):
    client.force_login(world["users"][Role.STREET_STAFF])
    response = client.get(f"/workbench/persons/{world['person'].pk}/update")
    assert f"/workbench/persons/{world['person'].pk}/unlink" not in response.content.decode()


def test_the_resident_unlinks_themselves_after_a_confirmation_step_and_may_ask_again(client, world):
    person = world["person"]
    _en(client).force_login(world["resident"])
    page = client.get("/portal/link/").content.decode()
    assert 'href="/portal/link/unlink"' in page and "Unlink my account…" in page
    confirm = client.get("/portal/link/unlink")
    body = confirm.content.decode()
    assert confirm.status_code == 200 and _nothing_written(world)
    assert '<form method="post" action="/portal/link/unlink"' in body and "Yes, unlink my account" in body
    assert 'href="/portal/link/"' in body  # the way back, keeping the link

    response = client.post("/portal/link/unlink", follow=True)
    assert response.status_code == 200 and "no longer linked to your household record" in response.content.decode()
    assert not _still_linked(world)
    entry = AccessLog.objects.get(action=AccessLog.Action.UNLINK)
    assert (entry.actor, entry.subject_id) == (world["resident"], person.pk)
    assert BindingRequest.objects.get(pk=world["request"].pk).status == BindingRequest.Status.UNLINKED
    assert 'name="id_number"' in response.content.decode()  # the claim form is back
    # Nothing left to unlink: the confirmation page sends them back; a POST says so.
    assert client.get("/portal/link/unlink").status_code == 302
    again = client.post("/portal/link/unlink", follow=True)
    assert "not linked to a household record" in again.content.decode()
    assert AccessLog.objects.filter(action=AccessLog.Action.UNLINK).count() == 1
    assert client.post("/portal/link/", {"name": person.name, "id_number": person.id_number.reveal()}).status_code == 302


def test_the_resident_pages_are_in_chinese_for_a_chinese_reader(client, world):
    client.force_login(world["resident"])
    body = client.get("/portal/link/unlink", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "解除绑定" in body and "Unlink" not in body


def test_staff_do_not_use_the_residents_unlink_page(client, world):
    client.force_login(world["worker"])
    assert client.post("/portal/link/unlink").status_code == 403
    assert _nothing_written(world)
