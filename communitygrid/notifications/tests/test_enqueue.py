import pytest
from django.db import transaction

from communitygrid.notifications.models import Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db


def enqueue(user, **kwargs):
    values = {"kind": "case.assigned", "subject": "Case 17 assigned to you", "body": "Please accept it."}
    values.update(kwargs)
    return notification_enqueue(recipient=user, **values)


def test_user_without_email_gets_only_the_in_app_row_already_delivered():
    user = make_user("grid_worker")
    user.email = ""
    user.save()

    [row] = enqueue(user)

    assert row.channel == "in_app"
    assert row.status == Notification.Status.SENT
    assert row.sent_at is not None
    assert row.read_at is None


def test_user_with_email_also_gets_a_pending_email_row():
    user = make_user("grid_worker")
    user.email = "wang@example.org"
    user.save()

    rows = enqueue(user)

    by_channel = {row.channel: row for row in rows}
    assert set(by_channel) == {"in_app", "email"}
    assert by_channel["email"].status == Notification.Status.PENDING
    assert by_channel["email"].address == "wang@example.org"


def test_webhook_rows_only_for_active_endpoints_subscribed_to_the_kind():
    user = make_user("department_staff")
    everything = WebhookEndpoint.objects.create(user=user, name="all", url="http://127.0.0.1:1/a", secret="s1")
    WebhookEndpoint.objects.create(user=user, name="other kind", url="http://127.0.0.1:1/b", secret="s2", kinds=["case.closed"])
    WebhookEndpoint.objects.create(user=user, name="off", url="http://127.0.0.1:1/c", secret="s3", is_active=False)

    rows = enqueue(user)

    webhooks = [row for row in rows if row.channel == "webhook"]
    assert [(row.endpoint, row.address) for row in webhooks] == [(everything, "http://127.0.0.1:1/a")]


def test_enqueue_records_case_id_and_payload():
    user = make_user("grid_worker")

    class Case:
        pk = 17

    [row] = enqueue(user, case=Case(), payload={"tier": "urgent"})
    row.refresh_from_db()

    assert row.case_id == 17
    assert row.payload == {"tier": "urgent"}


def test_rolled_back_caller_transaction_leaves_no_notification():
    user = make_user("grid_worker")
    user.email = "wang@example.org"
    user.save()

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            enqueue(user)
            raise RuntimeError("the case write failed")

    assert not Notification.objects.exists()


def test_same_dedupe_key_twice_writes_once_and_returns_the_first_rows():
    user = make_user("grid_worker")
    user.email = "wang@example.org"
    user.save()

    first = enqueue(user, dedupe_key="case:17:warn80")
    again = enqueue(user, dedupe_key="case:17:warn80", subject="changed")

    assert Notification.objects.count() == 2
    assert [row.pk for row in again] == [row.pk for row in first]
    assert {row.subject for row in again} == {"Case 17 assigned to you"}


def test_same_dedupe_key_for_two_recipients_reaches_both():
    first, second = make_user("department_staff"), make_user("department_staff")

    enqueue(first, dedupe_key="case:17:event:5")
    enqueue(second, dedupe_key="case:17:event:5")

    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted([first.pk, second.pk])


def test_different_dedupe_keys_are_separate_messages():
    user = make_user("grid_worker")

    enqueue(user, dedupe_key="case:17:warn80")
    enqueue(user, dedupe_key="case:17:breach")

    assert Notification.objects.count() == 2


def test_overlong_subject_is_shortened_not_rejected():
    user = make_user("grid_worker")

    [row] = enqueue(user, subject="长" * 500)

    assert len(row.subject) == 200
    assert row.subject.endswith("…")


def test_subject_is_kept_on_one_line():
    user = make_user("grid_worker")

    [row] = enqueue(user, subject="Case 17\r\nBcc: someone@example.org")

    assert row.subject == "Case 17 Bcc: someone@example.org"


@pytest.mark.parametrize("bad", [{"kind": ""}, {"kind": "k" * 65}, {"dedupe_key": ""}, {"dedupe_key": "d" * 121}])
def test_bad_kind_or_dedupe_key_is_refused_before_writing(bad):
    user = make_user("grid_worker")

    with pytest.raises(ValueError):
        enqueue(user, **bad)

    assert not Notification.objects.exists()
