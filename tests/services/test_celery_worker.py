"""A real Celery worker on the real Redis delivers the outbox of the test database."""
from __future__ import annotations

import time

import pytest

from communitygrid.notifications.models import Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue
from communitygrid.notifications.tasks import deliver_outbox
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.testing import make_user

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90


def test_worker_delivers_a_queued_notification(start_worker):
    # The receiver is on 127.0.0.1, which webhooks may not reach unless the worker allows it.
    process, log = start_worker(CG_WEBHOOK_ALLOW_PRIVATE_URLS="1")
    user = make_user("department_staff")
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(user=user, name="dept system", url=receiver.url, secret="s")
        rows = notification_enqueue(recipient=user, kind="case.escalated", subject="案件 9 已升级", body="请督办。")
        [row] = [row for row in rows if row.channel == "webhook"]
        assert row.status == Notification.Status.PENDING

        result = deliver_outbox.delay()

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.status != Notification.Status.PENDING or process.poll() is not None:
                break
            time.sleep(0.5)

    output = log.read_text(errors="replace")
    assert process.poll() is None, f"the worker exited with {process.returncode}:\n{output}"
    assert row.status == Notification.Status.SENT, (
        f"not delivered within {WAIT_SECONDS} s (status {row.status}, {row.last_error!r}); worker log:\n{output}"
    )
    assert len(receiver.requests) == 1
    assert receiver.requests[0][0]["X-CG-Delivery"] == str(row.pk)
    assert f"Task notifications.deliver_outbox[{result.id}] received" in output
