import datetime as dt
import random
import threading

import pytest
from django.core import mail
from django.db import connection

from communitygrid.notifications.models import Notification, retry_delay
from communitygrid.notifications.services import notification_enqueue, notification_retry, outbox_deliver_once
from communitygrid.notifications.tests.fakes import CHANNELS, FlakyChannel
from communitygrid.testing import make_user

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def flaky(settings):
    settings.NOTIFICATION_CHANNELS = CHANNELS
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    FlakyChannel.script = []
    FlakyChannel.sent = []
    return FlakyChannel


def queue_one(user=None, **kwargs) -> Notification:
    user = user or make_user("grid_worker")
    rows = notification_enqueue(recipient=user, kind="case.assigned", subject="Case 17", body="Accept it.", **kwargs)
    [pending] = [row for row in rows if row.status == Notification.Status.PENDING]
    Notification.objects.filter(pk=pending.pk).update(next_attempt_at=NOW)
    return pending


@pytest.mark.django_db
def test_due_email_is_sent_through_the_django_backend():
    user = make_user("grid_worker")
    user.email = "wang@example.org"
    user.save()
    row = queue_one(user)

    report = outbox_deliver_once(now=NOW)

    assert (report.claimed, report.sent) == (1, 1)
    [message] = mail.outbox
    assert message.to == ["wang@example.org"]
    assert message.subject == "Case 17"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at, row.lease_token) == (Notification.Status.SENT, 1, NOW, None)


@pytest.mark.django_db
def test_row_not_yet_due_is_left_alone(flaky):
    row = queue_one()
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=NOW + dt.timedelta(seconds=1))

    report = outbox_deliver_once(now=NOW)

    assert report.claimed == 0
    assert flaky.sent == []


@pytest.mark.django_db
def test_failed_send_is_retried_later_with_backoff(flaky):
    flaky.script = ["fail"]
    row = queue_one()

    report = outbox_deliver_once(now=NOW)

    assert report.retried == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING
    assert row.attempts == 1
    assert row.last_error_code == "connection_failed" and row.last_error == "ConnectionError: gateway timed out"
    assert NOW + dt.timedelta(seconds=30) <= row.next_attempt_at <= NOW + dt.timedelta(seconds=60)
    # Not before its time; then it goes through.
    assert outbox_deliver_once(now=NOW + dt.timedelta(seconds=29)).claimed == 0
    assert outbox_deliver_once(now=row.next_attempt_at).sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.last_error_code, row.last_error_params) == (
        Notification.Status.SENT, 2, "", "", {})


@pytest.mark.django_db
def test_row_is_dead_after_the_maximum_attempts(flaky):
    flaky.script = ["fail"] * 10
    row = queue_one()

    outcomes = []
    now = NOW
    for _ in range(3):
        report = outbox_deliver_once(now=now)
        outcomes.append((report.retried, report.dead))
        now += dt.timedelta(days=1)

    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.DEAD, 3)
    assert outbox_deliver_once(now=now + dt.timedelta(days=30)).claimed == 0


@pytest.mark.django_db
def test_permanent_failure_is_not_retried(flaky):
    flaky.script = ["gone"]
    row = queue_one()

    assert outbox_deliver_once(now=NOW).failed == 1

    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert (row.last_error_code, row.last_error_params, row.last_error) == (
        "channel_refused", {"channel": "flaky"}, "subscriber unknown")
    assert outbox_deliver_once(now=NOW + dt.timedelta(days=1)).claimed == 0


@pytest.mark.django_db
def test_row_of_a_channel_switched_off_fails_for_good(flaky, settings):
    row = queue_one()
    settings.NOTIFICATION_CHANNELS = {"in_app": CHANNELS["in_app"]}

    assert outbox_deliver_once(now=NOW).failed == 1
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("channel_disabled", {"channel": "flaky"})


@pytest.mark.django_db
def test_retry_action_revives_dead_and_failed_rows_only(flaky):
    dead, failed, sent = queue_one(), queue_one(), queue_one()
    Notification.objects.filter(pk=dead.pk).update(status=Notification.Status.DEAD, attempts=3)
    Notification.objects.filter(pk=failed.pk).update(status=Notification.Status.FAILED, attempts=1)
    Notification.objects.filter(pk=sent.pk).update(status=Notification.Status.SENT, attempts=1)

    assert notification_retry(notification_ids=[dead.pk, failed.pk, sent.pk], now=NOW) == 2

    assert outbox_deliver_once(now=NOW).sent == 2
    assert sorted(flaky.sent) == sorted([dead.pk, failed.pk])


@pytest.mark.django_db
def test_claimed_row_is_invisible_until_its_lease_runs_out(flaky, settings):
    settings.NOTIFICATION_LEASE_SECONDS = 300
    row = queue_one()
    # A worker claims the row and dies before sending: simulate by claiming through a send
    # that never records its outcome.
    Notification.objects.filter(pk=row.pk).update(
        lease_token="00000000-0000-0000-0000-000000000001", attempts=1, next_attempt_at=NOW + dt.timedelta(seconds=300)
    )

    assert outbox_deliver_once(now=NOW + dt.timedelta(seconds=299)).claimed == 0
    report = outbox_deliver_once(now=NOW + dt.timedelta(seconds=300))

    assert report.sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 2)


@pytest.mark.django_db
def test_batch_limits_how_many_rows_one_call_claims(flaky):
    user = make_user("grid_worker")
    for _ in range(5):
        queue_one(user)

    assert outbox_deliver_once(now=NOW, batch=2).claimed == 2
    assert outbox_deliver_once(now=NOW, batch=2).claimed == 2
    assert outbox_deliver_once(now=NOW, batch=2).claimed == 1
    assert len(flaky.sent) == 5


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_row_exactly_once(flaky):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Threads on SQLite's shared-cache in-memory test database get "table is locked"
        # instead of waiting on the busy timeout. tests/services/test_outbox_processes.py runs
        # two worker processes on a file database instead.
        pytest.skip("needs a file or server database")
    user = make_user("grid_worker")
    rows = [queue_one(user) for _ in range(40)]
    reports, errors = [], []
    start = threading.Barrier(2)

    def worker():
        try:
            start.wait()
            while (report := outbox_deliver_once(now=NOW, batch=7)).claimed:
                reports.append(report)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(flaky.sent) == sorted(row.pk for row in rows)
    assert sum(report.sent for report in reports) == 40
    assert set(Notification.objects.filter(channel="flaky").values_list("status", flat=True)) == {"sent"}


def test_backoff_doubles_per_attempt_with_jitter_and_a_cap():
    rng = random.Random(7)
    delays = [retry_delay(n, base=30, cap=3600, rng=rng).total_seconds() for n in range(1, 10)]

    for attempt, seconds in enumerate(delays, start=1):
        ceiling = min(3600, 30 * 2 ** (attempt - 1))
        assert ceiling / 2 <= seconds <= ceiling
    assert len({round(s, 3) for s in delays}) == len(delays)


def test_jitter_spreads_rows_that_failed_together():
    delays = {retry_delay(4, base=30, cap=3600).total_seconds() for _ in range(50)}

    assert len(delays) > 40
    assert min(delays) >= 120 and max(delays) <= 240
