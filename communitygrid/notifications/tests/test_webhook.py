"""The webhook channel against a real HTTP server on 127.0.0.1."""
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest

from communitygrid.notifications.models import Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue, outbox_deliver_once
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
SECRET = "whsec-test-only"


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver is on 127.0.0.1
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 1
    with Receiver() as receiver:
        yield receiver


def queue_webhook(url: str) -> Notification:
    user = make_user("department_staff")
    WebhookEndpoint.objects.create(user=user, name="dept system", url=url, secret=SECRET)
    rows = notification_enqueue(
        recipient=user, kind="case.assigned", subject="案件 17 已派给您", body="请及时受理。", payload={"tier": "urgent"}
    )
    [row] = [row for row in rows if row.channel == "webhook"]
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=NOW)
    return row


def deliver_until_settled(now: dt.datetime, rounds: int = 10) -> list[str]:
    outcomes = []
    for _ in range(rounds):
        report = outbox_deliver_once(now=now)
        if not report.claimed:
            break
        outcomes += [name for name in ("sent", "retried", "failed", "dead") if getattr(report, name)]
        now += dt.timedelta(days=1)
    return outcomes


def test_post_carries_json_and_a_valid_hmac_signature(receiver):
    row = queue_webhook(receiver.url)

    assert outbox_deliver_once(now=NOW).sent == 1

    [(headers, body)] = receiver.requests
    expected = hmac.new(SECRET.encode(), headers["X-CG-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-CG-Signature"] == f"t={headers['X-CG-Timestamp']},v1={expected}"
    assert abs(int(headers["X-CG-Timestamp"]) - time.time()) < 60
    assert headers["X-CG-Delivery"] == str(row.pk)
    assert headers["X-CG-Event"] == "case.assigned"
    assert headers["Content-Type"].startswith("application/json")
    document = json.loads(body)
    assert document["subject"] == "案件 17 已派给您"
    assert document["payload"] == {"tier": "urgent"}
    assert document["id"] == row.pk


def test_signature_with_another_secret_does_not_match(receiver):
    queue_webhook(receiver.url)
    outbox_deliver_once(now=NOW)

    [(headers, body)] = receiver.requests
    forged = hmac.new(b"wrong", headers["X-CG-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-CG-Signature"] != f"t={headers['X-CG-Timestamp']},v1={forged}"


def test_server_errors_are_retried_until_success(receiver):
    receiver.script = [500, 503]
    row = queue_webhook(receiver.url)

    assert deliver_until_settled(NOW) == ["retried", "retried", "sent"]

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Notification.Status.SENT, 3, "")
    assert len(receiver.requests) == 3
    # The same delivery id every time, so the receiver can drop repeats.
    assert {headers["X-CG-Delivery"] for headers, _ in receiver.requests} == {str(row.pk)}


def test_endpoint_failing_every_time_is_dead_lettered_after_max_attempts(receiver):
    receiver.script = [500] * 10
    row = queue_webhook(receiver.url)

    assert deliver_until_settled(NOW) == ["retried", "retried", "dead"]

    row.refresh_from_db()
    assert row.status == Notification.Status.DEAD
    assert row.attempts == 3
    assert (row.last_error_code, row.last_error_params) == ("http_error", {"status": 500})
    assert row.last_error == "receiver says 500"  # the receiver's answer, kept as detail
    assert len(receiver.requests) == 3


def test_redirect_counts_as_a_failure_not_followed(receiver):
    receiver.script = [302]
    row = queue_webhook(receiver.url)

    assert outbox_deliver_once(now=NOW).retried == 1
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("http_redirect", {"status": 302})
    assert len(receiver.requests) == 1


def test_slow_endpoint_times_out_and_is_retried(receiver):
    receiver.script = ["slow"]
    row = queue_webhook(receiver.url)

    assert outbox_deliver_once(now=NOW).retried == 1
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("timeout", {"seconds": 1})
    assert "timed out" in row.last_error


def test_unreachable_endpoint_is_retried(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with Receiver() as gone:
        url = gone.url
    row = queue_webhook(url)

    assert outbox_deliver_once(now=NOW).retried == 1
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("connection_failed", {})
    assert "ConnectionRefusedError" in row.last_error


def test_disabled_endpoint_fails_for_good_without_a_request(receiver):
    row = queue_webhook(receiver.url)
    WebhookEndpoint.objects.update(is_active=False)

    assert outbox_deliver_once(now=NOW).failed == 1
    assert receiver.requests == []
    row.refresh_from_db()
    assert (row.status, row.last_error_code) == (Notification.Status.FAILED, "endpoint_gone")
