"""Every write to the outbox: enqueue (in the caller's transaction), deliver, read, retry."""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from communitygrid.core.sql import Code
from communitygrid.notifications import conf, failures, kinds
from communitygrid.notifications.channels import get_channel, registry
from communitygrid.notifications.channels.base import PermanentDeliveryError
from communitygrid.notifications.models import IN_APP, DeliveryAttempt, Notification, retry_delay

log = logging.getLogger(__name__)

KIND_MAX = Notification._meta.get_field("kind").max_length
# Room left in the unique column for "|<recipient>|<channel>|<target>".
DEDUPE_KEY_MAX = 120
# Kept of a failure's technical detail (last_error, an attempt's error) and of a receiver's answer.
ERROR_MAX = 2000


def notification_enqueue(
    *,
    recipient,
    kind: str,
    subject: str,
    body: str,
    case=None,
    payload: dict | None = None,
    params: dict | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Queue one message to ``recipient`` on every channel they get; returns the rows.

    Written in the caller's transaction: if the caller rolls back (the case write failed),
    no notification exists. In-app rows are delivered by being written. With ``dedupe_key``,
    a repeat for the same recipient returns the rows already queued under that key and writes
    nothing new for them (e.g. "case:17:warn80" so a sweep that runs twice warns once); the
    same key for another recipient is another message.

    ``subject`` and ``body``: the text in the site's language (``kinds.render``), what the
    channels send; ``params``: the kind's raw parameters (JSON: ids, codes, ISO moments), from
    which the inbox words the message in its reader's language. Without them the inbox shows
    the stored text.
    """
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"kind must be 1–{KIND_MAX} characters, got {kind!r}")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key must be 1–{DEDUPE_KEY_MAX} characters, got {dedupe_key!r}")
    # One line: a subject with a line break is an invalid e-mail header, and would fail forever.
    subject = kinds.subject_line(subject)
    now = timezone.now()
    rows = []
    with transaction.atomic():
        for channel in registry().values():
            for target in channel.targets(recipient=recipient, kind=kind):
                row = Notification(
                    recipient=recipient,
                    kind=kind,
                    subject=subject,
                    body=body,
                    payload=payload or {},
                    params=params,
                    case_id=case.pk if case is not None else None,
                    channel=channel.name,
                    address=target.address,
                    endpoint=target.endpoint,
                    status=Notification.Status.SENT if channel.immediate else Notification.Status.PENDING,
                    sent_at=now if channel.immediate else None,
                    next_attempt_at=now,
                    created_at=now,
                    dedupe_key=f"{dedupe_key}|{recipient.pk}|{channel.name}|{target.key}"[:200] if dedupe_key else None,
                )
                rows.append(_insert_once(row))
    return rows


def _insert_once(row: Notification) -> Notification:
    if row.dedupe_key is None:
        row.save(force_insert=True)
        return row
    existing = Notification.objects.filter(dedupe_key=row.dedupe_key).first()
    if existing is not None:
        return existing
    try:
        # A savepoint, so that losing a race to a concurrent enqueue of the same key does
        # not poison the caller's transaction.
        with transaction.atomic():
            row.save(force_insert=True)
        return row
    except IntegrityError:
        return Notification.objects.get(dedupe_key=row.dedupe_key)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0


def outbox_deliver_once(*, now: dt.datetime, batch: int = 100) -> DeliveryReport:
    """Claim up to ``batch`` due rows, send each through its channel, record the outcome.

    Safe on several machines at once: a row is claimed by one worker (row locks skipped by
    the others on PostgreSQL, a conditional UPDATE on SQLite) and leased, so a worker that dies
    mid-send only delays its rows by the lease. Outcomes are written only if the lease is still
    ours (``lease_token``). One iteration of the periodic delivery job; a test can call it.
    """
    report = DeliveryReport()
    lease = conf.get("NOTIFICATION_LEASE_SECONDS")
    rows = _claim(now=now, batch=batch, lease_seconds=lease)
    report.claimed = len(rows)
    # Stop early rather than send on a lease that may already be someone else's: leave room
    # for one more slow send before the lease runs out.
    deadline = time.monotonic() + lease - 2 * conf.get("NOTIFICATION_WEBHOOK_TIMEOUT")
    for index, row in enumerate(rows):
        if time.monotonic() > deadline:
            report.released = _release(rows[index:], now=now)
            break
        outcome = _deliver(row, now=now)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _claim(*, now: dt.datetime, batch: int, lease_seconds: int) -> list[Notification]:
    token = uuid.uuid4()
    # The status as a literal, so a prepared statement's generic plan can use notif_due_idx.
    due = Notification.objects.filter(status=Code(Notification.Status.PENDING), next_attempt_at__lte=now)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(
                due.order_by("next_attempt_at").select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch]
            )
        else:
            ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:batch])
        # Re-checking "still pending and due" in the UPDATE itself is the claim where there
        # are no row locks (SQLite): a row another worker took meanwhile no longer matches.
        due.filter(pk__in=ids).update(
            lease_token=token,
            next_attempt_at=now + dt.timedelta(seconds=lease_seconds),
            attempts=F("attempts") + 1,
        )
    return list(
        Notification.objects.filter(pk__in=ids, lease_token=token)
        .select_related("recipient", "endpoint")
        .order_by("next_attempt_at", "pk")
    )


def _deliver(row: Notification, *, now: dt.datetime) -> str:
    ours = Notification.objects.filter(pk=row.pk, lease_token=row.lease_token)
    started, clock = timezone.now(), time.monotonic()
    try:
        sent = get_channel(row.channel).send(row)
    except Exception as error:  # noqa: BLE001 - every failure is logged and decided on by _failed
        failure = failures.failure_of(error, channel=row.channel)
        _log_attempt(row, started, clock, ok=False, status=getattr(error, "status", None),
                     excerpt=getattr(error, "excerpt", ""), failure=failure)
        return _failed(row, ours, error, failure, now=now)
    _log_attempt(row, started, clock, ok=True, status=getattr(sent, "status", None), excerpt=getattr(sent, "excerpt", ""))
    ours.update(status=Notification.Status.SENT, sent_at=now, lease_token=None, last_error="", last_error_code="",
                last_error_params={})
    return "sent"


def _log_attempt(row: Notification, started: dt.datetime, clock: float, *, ok: bool, status: int | None,
                 excerpt: str, failure: failures.Failure | None = None) -> None:
    DeliveryAttempt.objects.create(
        notification_id=row.pk, number=row.attempts, started_at=started,
        duration_ms=int((time.monotonic() - clock) * 1000), succeeded=ok, response_status=status,
        response_excerpt=(excerpt or "")[:ERROR_MAX],
        error_code=failure.code if failure else "", error_params=failure.params if failure else {},
        error=failure.detail[:ERROR_MAX] if failure else "")


def _failed(row: Notification, ours, error: Exception, failure: failures.Failure, *, now: dt.datetime) -> str:
    """Any channel failure is retried (never fatal to the batch) unless it is permanent.

    The row keeps the failure as a code (worded when shown, in the reader's language) and its
    technical detail; the log lines are English, for operators' tools."""
    recorded = {"lease_token": None, "last_error_code": failure.code, "last_error_params": failure.params,
                "last_error": failure.detail[:ERROR_MAX]}
    if isinstance(error, PermanentDeliveryError):
        log.warning("notification %s via %s failed for good [%s]: %s", row.pk, row.channel, failure.code, error)
        ours.update(status=Notification.Status.FAILED, **recorded)
        return "failed"
    if row.attempts >= conf.get("NOTIFICATION_MAX_ATTEMPTS"):
        log.error("notification %s via %s dead after %s attempts [%s]: %s", row.pk, row.channel, row.attempts,
                  failure.code, error)
        ours.update(status=Notification.Status.DEAD, **recorded)
        return "dead"
    delay = retry_delay(
        row.attempts,
        base=conf.get("NOTIFICATION_RETRY_BASE_SECONDS"),
        cap=conf.get("NOTIFICATION_RETRY_CAP_SECONDS"),
    )
    log.info("notification %s via %s failed (attempt %s) [%s], retry in %s: %s", row.pk, row.channel, row.attempts,
             failure.code, delay, error)
    ours.update(next_attempt_at=now + delay, **recorded)
    return "retried"


def _release(rows: list[Notification], *, now: dt.datetime) -> int:
    """Hand unsent claimed rows back at once, without charging them an attempt."""
    released = 0
    for row in rows:
        released += Notification.objects.filter(pk=row.pk, lease_token=row.lease_token).update(
            lease_token=None, next_attempt_at=now, attempts=F("attempts") - 1
        )
    return released


def notification_retry(*, notification_ids: list[int], now: dt.datetime) -> int:
    """Give failed or dead rows a fresh set of attempts (the back-office "retry" action)."""
    return Notification.objects.filter(
        pk__in=notification_ids,
        status__in=[Notification.Status.FAILED, Notification.Status.DEAD],
    ).update(status=Notification.Status.PENDING, attempts=0, next_attempt_at=now, lease_token=None)


def notification_mark_read(*, user, notification_id: int, now: dt.datetime) -> bool:
    """Mark one of ``user``'s own inbox rows read; False if it is not theirs (or not in-app)."""
    return bool(
        Notification.objects.filter(pk=notification_id, recipient=user, channel=IN_APP, read_at__isnull=True).update(
            read_at=now
        )
        or Notification.objects.filter(pk=notification_id, recipient=user, channel=IN_APP).exists()
    )


def notification_mark_all_read(*, user, now: dt.datetime) -> int:
    return Notification.objects.filter(recipient=user, channel=Code(IN_APP), read_at__isnull=True).update(read_at=now)
