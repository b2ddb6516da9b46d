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
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from communitygrid.notifications import failures, kinds
from communitygrid.privacy.fields import EncryptedField

IN_APP = "in_app"
# The channels this release delivers through, by name; a plug-in channel (SMS, WeChat) not
# listed here still works and shows its code.
CHANNEL_CHOICES = [(IN_APP, _("In-app")), ("email", _("E-mail")), ("webhook", _("Webhook"))]


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


class WebhookEvent(models.TextChoices):
    """What an application can subscribe to: steps of a case, read from its event log."""

    CASE_SUBMITTED = "case.submitted", _("Case submitted")
    CASE_ASSIGNED = "case.assigned", _("Case assigned")
    CASE_ESCALATED = "case.escalated", _("Case escalated")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    CASE_CLOSED = "case.closed", _("Case closed")
    CASE_RATED = "case.rated", _("Case rated")


class WebhookSubscription(models.Model):
    """An endpoint wants one kind of case event, for the cases its owner may see."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="subscriptions",
                                 verbose_name=_("webhook endpoint"))
    event = models.CharField(_("event type"), max_length=32, choices=WebhookEvent.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["event"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_subscription_unique")]

    def __str__(self) -> str:
        return f"{self.endpoint} ← {self.event}"


class EventCursor(models.Model):
    """How far a job has read an append-only log (the high-water mark of its ids)."""

    name = models.CharField(_("name"), max_length=50, primary_key=True)
    last_id = models.BigIntegerField(_("last id read"), default=0)

    class Meta:
        verbose_name = _("event cursor")
        verbose_name_plural = _("event cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_id}"


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
    # The kind's raw parameters (ids, codes, ISO moments, words a person typed), so the inbox
    # words the message again in its reader's language (kinds.word); subject and body are the
    # text in the site's language that the channels send. Null on rows queued before
    # parameters were kept: those show their stored text.
    params = models.JSONField(_("parameters"), null=True, blank=True)
    # No foreign key: the outbox must not be coupled to (or cascade with) the cases schema.
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=32, choices=CHANNEL_CHOICES)
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
    lease_token = models.UUIDField(_("lease token"), null=True, blank=True, editable=False)
    # Why the last attempt failed: a code of notifications.failures and its parameters, put
    # into words in the reader's language (last_error_reason); last_error is technical detail,
    # or, on rows recorded before codes existed, the whole English text.
    last_error_code = models.CharField(_("last error code"), max_length=failures.CODE_MAX, blank=True)
    last_error_params = models.JSONField(_("last error parameters"), default=dict, blank=True)
    last_error = models.TextField(_("last error (technical detail)"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True, null=True, blank=True)
    # A replay is a new row (its own attempts and outcome) pointing at the delivery it repeats.
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays",
                                  verbose_name=_("replay of"))
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
        return f"{kinds.label(self.kind)} → {self.recipient_id} ({self.get_channel_display()}, {self.get_status_display()})"

    def last_error_reason(self) -> str:
        """Why the last attempt failed, in the active language ("" if it did not)."""
        return failures.describe(self.last_error_code, self.last_error_params, self.last_error)

    @property
    def last_error_detail(self) -> str:
        # A row without a code shows its whole text as the reason: nothing is left for detail.
        return self.last_error if self.last_error_code else ""

    def _worded(self) -> tuple[str, str]:
        language = translation.get_language()
        worded = self.__dict__.setdefault("_worded_in", {})
        if language not in worded:
            worded[language] = kinds.word(self.kind, self.params) or (self.subject, self.body)
        return worded[language]

    @property
    def worded_subject(self) -> str:
        """The subject in the active language (the stored one if it cannot be worded)."""
        return self._worded()[0]

    @property
    def worded_body(self) -> str:
        return self._worded()[1]

    @property
    def link(self) -> str:
        """Where "Open" in the inbox leads: ``payload["url"]`` if it is a path on this site, else the
        case's page as its recipient sees it (a resident's request in the portal, a handler's case
        in the workbench); "" when there is none."""
        url = (self.payload or {}).get("url")
        if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
            return url
        if self.case_id is not None:
            return case_page(self.recipient, self.case_id)
        return ""


def case_page(user, case_id: int) -> str:
    """The page of a case for ``user``'s role, or "" if their role has no case page (a leader's
    cockpit shows figures, not cases). Whether this one case is theirs the page itself decides."""
    from django.urls import reverse

    from communitygrid.accounts.models import Role

    if user.role == Role.RESIDENT and not user.is_system_admin:
        return reverse("portal:request", args=[case_id])
    if user.is_area_staff or user.is_system_admin or (user.role == Role.DEPARTMENT_STAFF and user.department_id):
        return reverse("workbench:case_detail", args=[case_id])
    return ""


class DeliveryAttempt(models.Model):
    """One try at sending an outbox row: what the receiver answered and how long it took."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts",
                                     verbose_name=_("notification"))
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    succeeded = models.BooleanField(_("succeeded"))
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_excerpt = models.TextField(_("response (excerpt)"), blank=True)
    # As Notification.last_error_*: the reason as code and parameters, error the technical detail.
    error_code = models.CharField(_("error code"), max_length=failures.CODE_MAX, blank=True)
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    error = models.TextField(_("error (technical detail)"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["notification", "number", "id"]

    def __str__(self) -> str:
        return f"{self.notification_id} #{self.number} {self.response_status or self.error_reason()[:40]}"

    def error_reason(self) -> str:
        """Why this attempt failed, in the active language ("" if it succeeded)."""
        return failures.describe(self.error_code, self.error_params, self.error)

    @property
    def error_detail(self) -> str:
        return self.error if self.error_code else ""


def word_all(rows):
    """Word ``rows`` in the active language together (what they look up loaded at once: one query
    for the categories of a page); returns them, for a template or an API answer to read
    ``worded_subject``/``worded_body``."""
    rows = list(rows)
    language, cache = translation.get_language(), {}
    kinds.prefetch([(row.kind, row.params) for row in rows], cache)
    for row in rows:
        row.__dict__.setdefault("_worded_in", {})[language] = (
            kinds.word(row.kind, row.params, cache=cache) or (row.subject, row.body))
    return rows


def retry_delay(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> dt.timedelta:
    """Exponential backoff with jitter after ``attempts`` failures: between half and all of
    ``base × 2^(attempts-1)`` seconds, capped.

    Jitter spreads the retries of many rows that failed together (an endpoint down for an
    hour) so they do not all hit it again in the same second.
    """
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    rng = rng or random
    return dt.timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))
