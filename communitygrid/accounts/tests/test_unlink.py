"""Removing the link between a resident account and its household record: the services."""
from __future__ import annotations

from unittest import mock

import pytest
from django.utils import translation

from communitygrid.accounts.models import BindingRequest, Role, User
from communitygrid.accounts.services import (
    BindingRefused,
    binding_request_approve,
    binding_request_submit,
    binding_unlink,
    binding_unlink_own,
)
from communitygrid.notifications.models import Notification
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Person
from communitygrid.testing import make_household, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(city, users):
    """A resident linked through an approved request, the worker of the record's grid, a worker elsewhere."""
    person = Person.objects.filter(grid=city.grids[0], account__isnull=True).order_by("id").first()
    resident = make_user(Role.RESIDENT, username="linked-by-request")
    worker = users[Role.GRID_WORKER]
    request = binding_request_submit(user=resident, name=person.name, id_number=person.id_number.reveal())
    binding_request_approve(actor=worker, binding_request_id=request.pk)
    Notification.objects.all().delete()
    resident.refresh_from_db()
    assert resident.person_id == person.pk
    return {"person": person, "resident": resident, "worker": worker, "request": request,
            "other_worker": make_user(Role.GRID_WORKER, scope=[city.grids[1]], username="next-grid-worker"),
            "users": users}


def _unlinks() -> int:
    return AccessLog.objects.filter(action=AccessLog.Action.UNLINK).count()


def test_staff_unlink_clears_the_link_logs_it_and_tells_the_resident_why(linked):
    person, resident, worker = linked["person"], linked["resident"], linked["worker"]
    account = binding_unlink(actor=worker, person_id=person.pk, reason="  账号不是本人  使用 ", ip_address="10.0.0.9")
    assert account == resident
    resident.refresh_from_db()
    assert resident.person_id is None
    request = BindingRequest.objects.get(pk=linked["request"].pk)
    assert request.status == BindingRequest.Status.UNLINKED
    assert (request.unlinked_by, request.unlink_reason) == (worker, "账号不是本人 使用")
    assert request.unlinked_at is not None
    entry = AccessLog.objects.get(action=AccessLog.Action.UNLINK)
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.subject_grid) == (
        worker, "registry.person", person.pk, person.grid)
    assert "账号不是本人 使用" in entry.purpose and f"#{resident.pk}" in entry.purpose
    assert entry.ip_address == "10.0.0.9"
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind) == (resident, "binding_removed")
    assert "账号不是本人 使用" in notice.body and notice.subject


def test_afterwards_the_resident_may_ask_for_a_link_again(linked):
    binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason="wrong person")
    resident = User.objects.get(pk=linked["resident"].pk)
    again = binding_request_submit(user=resident, name=linked["person"].name,
                                   id_number=linked["person"].id_number.reveal())
    assert again.status == BindingRequest.Status.PENDING and again.person == linked["person"]


@pytest.mark.parametrize("role", [Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.DEPARTMENT_STAFF, Role.LEADER,
                                  Role.RESIDENT])
def test_roles_that_may_not_approve_a_link_may_not_remove_one(linked, role):
    with pytest.raises(BindingRefused) as refused:
        binding_unlink(actor=linked["users"][role], person_id=linked["person"].pk, reason="越权")
    assert refused.value.status == 404
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert _unlinks() == 0 and not Notification.objects.exists()


def test_a_worker_of_another_grid_gets_not_found_and_nothing_changes(linked):
    with pytest.raises(BindingRefused) as refused:
        binding_unlink(actor=linked["other_worker"], person_id=linked["person"].pk, reason="越界")
    assert refused.value.status == 404
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert BindingRequest.objects.get(pk=linked["request"].pk).status == BindingRequest.Status.APPROVED
    assert _unlinks() == 0 and not Notification.objects.exists()


def test_community_staff_and_the_administrator_above_the_grid_may_unlink(linked):
    binding_unlink(actor=linked["users"][Role.COMMUNITY_STAFF], person_id=linked["person"].pk, reason="搬走了")
    assert User.objects.get(pk=linked["resident"].pk).person_id is None


@pytest.mark.parametrize(("reason", "message"), [(None, "Reason is required"), ("  \n ", "Reason is required"),
                                                 ("x" * 501, "longer than 500")])
def test_a_missing_or_too_long_reason_is_refused_on_its_field_and_nothing_changes(linked, reason, message):
    with translation.override("en"), pytest.raises(BindingRefused) as refused:
        binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason=reason)
    assert refused.value.field == "reason" and refused.value.status == 400 and message in refused.value.message
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert _unlinks() == 0 and not Notification.objects.exists()


def test_the_missing_reason_is_said_in_chinese_on_a_chinese_page(linked):
    with translation.override("zh-hans"), pytest.raises(BindingRefused) as refused:
        binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason="")
    assert "解绑理由为必填项" in refused.value.message


def test_a_record_without_an_account_is_a_conflict(linked, city):
    lonely = make_household(city.grids[0], members=1).members.get()
    with pytest.raises(BindingRefused) as refused:
        binding_unlink(actor=linked["worker"], person_id=lonely.pk, reason="没有账号")
    assert refused.value.status == 409 and _unlinks() == 0


def test_a_failing_notice_leaves_nothing_half_done(linked):
    with mock.patch("communitygrid.notifications.services.notification_enqueue",
                    side_effect=RuntimeError("outbox down")), pytest.raises(RuntimeError):
        binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason="账号被他人占用")
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert BindingRequest.objects.get(pk=linked["request"].pk).status == BindingRequest.Status.APPROVED
    assert _unlinks() == 0 and not Notification.objects.exists()


def test_a_failing_audit_entry_leaves_nothing_half_done(linked):
    with mock.patch("communitygrid.privacy.services.access_log_record", side_effect=RuntimeError("log down")), \
            pytest.raises(RuntimeError):
        binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason="账号被他人占用")
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert BindingRequest.objects.get(pk=linked["request"].pk).status == BindingRequest.Status.APPROVED
    assert not Notification.objects.exists()


def test_the_resident_unlinks_their_own_account_and_it_is_logged(linked):
    resident, person = linked["resident"], linked["person"]
    binding_unlink_own(user=resident, ip_address="10.0.0.7")
    assert resident.person_id is None and User.objects.get(pk=resident.pk).person_id is None
    request = BindingRequest.objects.get(pk=linked["request"].pk)
    assert (request.status, request.unlinked_by, request.unlink_reason) == (
        BindingRequest.Status.UNLINKED, resident, "")
    entry = AccessLog.objects.get(action=AccessLog.Action.UNLINK)
    assert (entry.actor, entry.subject_id, entry.ip_address) == (resident, person.pk, "10.0.0.7")
    assert "by the resident" in entry.purpose
    with pytest.raises(BindingRefused) as refused:  # nothing left to unlink
        binding_unlink_own(user=User.objects.get(pk=resident.pk))
    assert refused.value.status == 409 and _unlinks() == 1


def test_a_resident_unlink_with_a_failing_audit_entry_changes_nothing(linked):
    with mock.patch("communitygrid.privacy.services.access_log_record", side_effect=RuntimeError("log down")), \
            pytest.raises(RuntimeError):
        binding_unlink_own(user=linked["resident"])
    assert User.objects.get(pk=linked["resident"].pk).person_id == linked["person"].pk
    assert BindingRequest.objects.get(pk=linked["request"].pk).status == BindingRequest.Status.APPROVED


def test_staff_do_not_unlink_themselves_through_the_resident_service(linked):
    with pytest.raises(BindingRefused) as refused:
        binding_unlink_own(user=linked["worker"])
    assert refused.value.status == 403


def test_a_link_set_without_a_request_is_removed_too(linked, users):
    resident = users[Role.RESIDENT]  # linked by the fixtures, no request
    binding_unlink(actor=linked["worker"], person_id=resident.person_id, reason="搬离本户")
    assert User.objects.get(pk=resident.pk).person_id is None
    assert Notification.objects.get().recipient == resident


def test_the_unlink_notice_reads_in_the_residents_language(city, users, linked):
    from communitygrid.accounts.services import BINDING_NOTICES

    with translation.override("zh-hans"):
        binding_unlink(actor=linked["worker"], person_id=linked["person"].pk, reason="账号不是本人")
    notice = Notification.objects.get(kind="binding_removed")

    with translation.override("en"):
        english = (notice.worded_subject, notice.worded_body)
        expected = (str(BINDING_NOTICES["binding_removed"][0]),
                    str(BINDING_NOTICES["binding_removed"][1]) % {"reason": "账号不是本人"})
    assert english == expected
    assert notice.subject != english[0] and notice.params == {"reason": "账号不是本人"}
