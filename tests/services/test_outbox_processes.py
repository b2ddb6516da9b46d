"""Two delivery processes on one database (two machines, in production) share the outbox
without sending anything twice."""
from __future__ import annotations

import time

import pytest

from communitygrid.notifications.models import Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.testing import make_user

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROWS = 60
DELIVER_UNTIL_EMPTY = """
import pathlib, sys, time
import django
django.setup()
from django.utils import timezone
from communitygrid.notifications.services import outbox_deliver_once
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.01)
sent = 0
while (report := outbox_deliver_once(now=timezone.now(), batch=5)).claimed:
    sent += report.sent
print("SENT", sent)
"""


def test_two_processes_deliver_every_row_exactly_once(spawn, tmp_path):
    user = make_user("department_staff")
    go = tmp_path / "go"
    with Receiver(delay=0.02) as receiver:
        WebhookEndpoint.objects.create(user=user, name="dept system", url=receiver.url, secret="s")
        rows = [
            row
            for n in range(ROWS)
            for row in notification_enqueue(recipient=user, kind="case.assigned", subject=f"案件 {n}", body="")
            if row.channel == "webhook"
        ]
        # The receiver is on 127.0.0.1, which webhooks may not reach unless the process allows it.
        workers = [spawn(f"deliver{n}", ["-c", DELIVER_UNTIL_EMPTY, str(tmp_path / f"ready{n}"), str(go)],
                         CG_WEBHOOK_ALLOW_PRIVATE_URLS="1") for n in (1, 2)]
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready{n}").exists() for n in (1, 2)):
            assert time.monotonic() < deadline, "delivery processes did not start"
            assert all(p.poll() is None for p, _ in workers), [log.read_text() for _, log in workers]
            time.sleep(0.1)
        go.touch()
        for process, log in workers:
            process.wait(timeout=120)
            assert process.returncode == 0, log.read_text()

    sent_by = [int(log.read_text().split("SENT")[-1]) for _, log in workers]
    delivered = [headers["X-CG-Delivery"] for headers, _ in receiver.requests]
    assert sorted(delivered) == sorted(str(row.pk) for row in rows)
    assert sum(sent_by) == ROWS
    assert all(sent_by), f"one process did all the work {sent_by}: the test did not exercise concurrency"
    assert Notification.objects.filter(channel="webhook", status=Notification.Status.SENT).count() == ROWS
