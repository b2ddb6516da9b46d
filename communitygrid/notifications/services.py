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

from communitygrid.notifications import conf
from communitygrid.notifications.channels import get_channel, registry
from communitygrid.notifications.channels.base import PermanentDeliveryError
from communitygrid.notifications.models import IN_APP, Notification, retry_delay

log = logging.getLogger(__name__)

SUBJECT_MAX = Notification._meta.get_field("subject").max_length
KIND_MAX = Notification._meta.get_field("kind").max_length
# Room left in the unique column for "|<channel>|<target>".
DEDUPE_KEY_MAX = 120
# Kept of an exception's text in last_error.
ERROR_MAX = 2000


def notification_enqueue(
    *,
    recipient,
    kind: str,
    subject: str,
    body: str,
    case=None,
    payload: dict | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Queue one message to ``recipient`` on every channel they get; returns the rows.

    Written in the caller's transaction: if the caller rolls back (the case write failed),
    no notification exists. In-app rows are delivered by being written. With ``dedupe_key``,
    a repeat returns the rows already queued under that key and writes nothing new for them
    (e.g. "case:17:warn80" so a sweep that runs twice warns once).
    """
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"kind must be 1–{KIND_MAX} characters, got {kind!r}")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key must be 1–{DEDUPE_KEY_MAX} characters, got {dedupe_key!r}")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
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
                    case_id=case.pk if case is not None else None,
                    channel=channel.name,
                    address=target.address,
                    endpoint=target.endpoint,
                    status=Notification.Status.SENT if channel.immediate else Notification.Status.PENDING,
                    sent_at=now if channel.immediate else None,
                    next_attempt_at=now,
                    created_at=now,
                    dedupe_key=f"{dedupe_key}|{channel.name}|{target.key}"[:200] if dedupe_key else None,
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
