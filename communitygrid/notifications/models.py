"""The notification outbox: one row per (message, channel, target), delivered with retries.

The same rows with ``channel == "in_app"`` are the user's inbox. Everything a delivery worker
needs is in the row, so a lost queue message loses nothing: the next sweep finds the row.
"""
from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitygrid.privacy.fields import EncryptedField

IN_APP = "in_app"


class WebhookEndpoint(models.Model):
    """An external system that receives a user's notifications as signed HTTP POSTs.

    Bound to a user (often a department's service account) so that "who gets what" stays one
    rule: a notification for that user is also posted here, for the kinds listed (empty: all).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedField(_("signing secret"), kind="secret")
    kinds = models.JSONField(_("kinds"), default=list, blank=True, help_text=_("Empty: every kind."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.kinds or kind in self.kinds)


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        # The channel refused for good (e.g. the endpoint was deleted): retrying cannot help.
        FAILED = "failed", _("Failed")
        # Every attempt failed: kept for an operator to inspect and retry from the back-office.
        DEAD = "dead", _("Dead (gave up)")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # No foreign key: the outbox must not be coupled to (or cascade with) the cases schema.
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=32)
    # Where it goes, frozen at enqueue time: the e-mail address or the webhook URL.
    address = models.CharField(_("address"), max_length=500, blank=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("webhook endpoint"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # Set by the worker that claimed the row; its updates are conditional on it (a fencing
    # token), so a worker whose lease ran out cannot overwrite a newer attempt's result.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery sweep reads only due pending rows: its cost follows the backlog,
            # not the history.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notif_due_idx",
            ),
            models.Index(
                fields=["recipient", "read_at", "-created_at"],
                condition=Q(channel=IN_APP),
                name="notif_inbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id} ({self.channel}, {self.status})"

    @property
    def link(self) -> str:
        """``payload["url"]`` if it is a path on this site (shown as "Open" in the inbox)."""
        url = (self.payload or {}).get("url")
        if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
            return url
        return ""


def retry_delay(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> dt.timedelta:
    """Exponential backoff with jitter after ``attempts`` failures: between half and all of
    ``base × 2^(attempts-1)`` seconds, capped.

    Jitter spreads the retries of many rows that failed together (an endpoint down for an
    hour) so they do not all hit it again in the same second.
    """
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    rng = rng or random
    return dt.timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))
