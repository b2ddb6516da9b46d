"""Tunables of the outbox, read from Django settings with these defaults."""
from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Attempts before a row is dead-lettered (status "dead"): with the backoff below, 7 to 15
    # hours of retrying, enough to ride out an endpoint or mail server down overnight.
    "NOTIFICATION_MAX_ATTEMPTS": 12,
    # Backoff: about base × 2^(attempt-1) seconds, jittered, never more than the cap.
    "NOTIFICATION_RETRY_BASE_SECONDS": 30,
    "NOTIFICATION_RETRY_CAP_SECONDS": 6 * 3600,
    # How long a claimed row stays invisible to other workers; a crashed worker's rows come
    # back after this.
    "NOTIFICATION_LEASE_SECONDS": 300,
    "NOTIFICATION_WEBHOOK_TIMEOUT": 10,
    # How often the periodic runner (Celery beat or the in-process scheduler) delivers.
    "NOTIFICATION_DELIVER_EVERY_SECONDS": 10,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
