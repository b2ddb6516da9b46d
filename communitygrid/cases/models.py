"""Cases (诉求): categories, tiers and their deadlines, the case record, its events and sub-tasks.

Deadlines are stored columns computed once on the working-day calendar (``deadlines.py``);
``Case.next_check()`` is the pure rule that says when the sweep must next look at a case,
stored in the indexed ``next_check_at`` column so the sweep reads only what is due.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.models import Department
from communitygrid.privacy.fields import EncryptedField
from communitygrid.privacy.models import AppendOnlyError


class CalendarOverride(models.Model):
    """An administrator's word on one day, above the statutory calendar (e.g. for 2027+)."""

    day = models.DateField(_("day"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {_('working day') if self.is_workday else _('rest day')}"


class Tier(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    GENERAL = "general", _("General")
    COMPLEX = "complex", _("Complex")


# Raising a tier moves it one step towards URGENT.
TIER_ORDER = [Tier.COMPLEX, Tier.GENERAL, Tier.URGENT]


class Handler(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker of the grid")
    DEPARTMENT = "department", _("Department")


class Category(models.Model):
    """Two levels: a group (no parent) and its leaf categories; cases use leaves."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("group")
    )
    default_tier = models.CharField(_("default tier"), max_length=16, choices=Tier.choices, default=Tier.GENERAL)
    handler = models.CharField(
        _("default handling unit"), max_length=16, choices=Handler.choices, default=Handler.GRID_WORKER
    )
    # A department is found by kind within the case's area unless one is named explicitly.
    department_kind = models.CharField(
        _("department kind"), max_length=32, blank=True,
        choices=Department.Kind.choices,
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("department"),
    )
    guide = models.TextField(_("handling guide"), blank=True)
    resolve_days = models.PositiveSmallIntegerField(
        _("resolution time (working days)"), null=True, blank=True,
        help_text=_("Empty: the tier's default resolution time."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def full_label(self) -> str:
        """"维修便民 · 路灯不亮": a leaf with its group, as lists and exports name it."""
        return f"{self.parent.label} · {self.label}" if self.parent_id else self.label


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_RESIDENT = "waiting_resident", _("Waiting for the resident")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged as duplicate")


# Waiting for someone to take it (the respond clock runs).
AWAITING_RESPONSE = {Status.SUBMITTED, Status.ASSIGNED, Status.REOPENED}
# Taken, being handled (the resolve clock runs).
BEING_HANDLED = {Status.ACCEPTED, Status.IN_PROGRESS}
OPEN_STATES = AWAITING_RESPONSE | BEING_HANDLED | {Status.WAITING_RESIDENT}
FINAL_STATES = {Status.CLOSED, Status.REJECTED, Status.CANCELLED, Status.MERGED}


class Channel(models.TextChoices):
    WEB = "web", _("Resident web")
    APP = "app", _("Resident app")
    ONE_TAP = "one_tap", _("One-tap call for help")
    DISCOVERY = "discovery", _("Grid worker's discovery")
    HOTLINE = "hotline", _("Hotline (entered by staff)")
    IOT = "iot", _("IoT alarm")
    OPEN311 = "open311", _("Open311")
    IMPORT = "import", _("Imported history")


class EscalationLevel(models.IntegerChoices):
    GRID = 0, _("Grid")
    COMMUNITY = 1, _("Community")
    STREET = 2, _("Street")
    DISTRICT = 3, _("District")


class Verdict(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed by the resident")
    DISPUTED = "disputed", _("Disputed by the resident")
    DEFAULT = "default", _("Confirmed by default (no answer in 7 days)")


VERDICT_WINDOW = dt.timedelta(days=7)
FOLLOW_UP_AFTER = dt.timedelta(hours=24)


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATES)


class Case(models.Model):
    # Four foreign keys carry no index of their own: a composite index of Meta.indexes starts
    # with each (category, grid, reporter, assignee), and every index is one more write on the
    # busiest INSERT.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category"),
                                 db_index=False)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    tier_reason = models.CharField(_("why this tier"), max_length=200, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    grid = models.ForeignKey("geo.Node", on_delete=models.PROTECT, related_name="cases", verbose_name=_("grid"),
                             db_index=False)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    building = models.ForeignKey(
        "registry.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    room = models.ForeignKey(
        "registry.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("room")
    )

    # Who pressed "submit" (a resident, a worker, hotline staff, a device account).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("submitted by"),
    )
    # The resident the case is for (sees it, rates it); none for an anonymous caller or a device.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reported_cases",
        verbose_name=_("reporter"), db_index=False,
    )
    caller_name = models.CharField(_("caller's name"), max_length=100, blank=True)
    caller_phone = EncryptedField(_("caller's phone"), kind="phone")
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_cases",
        verbose_name=_("assignee"), db_index=False,
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="cases",
        verbose_name=_("assigned department"),
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, default=EscalationLevel.GRID
    )
    supervised = models.BooleanField(_("under supervision (督办)"), default=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates", verbose_name=_("duplicate of")
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    redirect_to = models.CharField(_("redirected to"), max_length=200, blank=True)

    rating = models.PositiveSmallIntegerField(_("rating (1–5)"), null=True, blank=True)
    rating_comment = models.TextField(_("resident's comment"), blank=True)
    verdict = models.CharField(_("resident's verdict"), max_length=16, choices=Verdict.choices, blank=True)

    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("reason for pause"), max_length=200, blank=True)
    paused_seconds = models.PositiveIntegerField(_("time paused (seconds)"), default=0)

    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True)
    verdict_due_at = models.DateTimeField(_("verdict due"), null=True, blank=True)
    follow_up_at = models.DateTimeField(_("follow-up check at"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True, editable=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "channel", "idempotency_key"], condition=~Q(idempotency_key=""),
                name="case_idempotency_key_unique",
            ),
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""), name="case_external_id_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="case_rating_1_to_5"
            ),
        ]
        indexes = [
            # The sweep's only read: rows whose next checkpoint has come.
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="case_next_check_due"),
            models.Index(fields=["assignee", "status"], condition=Q(status__in=sorted(OPEN_STATES)), name="case_open_by_assignee"),
            models.Index(fields=["department", "status"], condition=Q(status__in=sorted(OPEN_STATES)), name="case_open_by_department"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            # Likely duplicates: same category, a band of latitude, then longitude and time tested
            # in the index, so a busy category costs the few rows near the point, not its 72 hours.
            models.Index(fields=["category", "lat", "lon", "created_at"], name="case_category_place"),
            # Routing's history signal: a candidate's recent cases of one category.
            models.Index(fields=["assignee", "category", "created_at"], name="case_assignee_category_created"),
            models.Index(fields=["grid", "status"], name="case_grid_status"),
            models.Index(fields=["reporter", "created_at"], name="case_reporter_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def next_check(self) -> dt.datetime | None:
        """The earliest moment the sweep has something to do for this case (pure rule)."""
        moments = [self.verdict_due_at, self.follow_up_at]
        if self.status in OPEN_STATES and self.status != Status.WAITING_RESIDENT:
            moments += [self.warn_at, self.escalate_at]
        present = [m for m in moments if m is not None]
        return min(present) if present else None

    def is_overdue(self, now: dt.datetime) -> bool:
        if self.status in AWAITING_RESPONSE:
            return bool(self.respond_by and now > self.respond_by)
        if self.status in BEING_HANDLED:
            return bool(self.resolve_by and now > self.resolve_by)
        return False


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("case events cannot be changed")

    def delete(self):
        raise AppendOnlyError("case events cannot be deleted")


class CaseEvent(models.Model):
    """One step of a case's record. Append-only: database triggers forbid UPDATE and DELETE."""

    # Indexed by caseevent_case_at (case, at), which serves look-ups by case alone as well.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"),
                             db_index=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    actor_role = models.CharField(_("role"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.action} {self.from_status}→{self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("case events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("case events cannot be deleted")


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("case"))
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("event")
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CaseTask(models.Model):
    """A co-handler's part of a joint case (联动): its own unit, deadline and result."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("case"))
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="case_tasks",
        verbose_name=_("department"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="case_tasks",
        verbose_name=_("assignee"),
    )
    description = models.TextField(_("what to do"))
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    result = models.TextField(_("result"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    overdue_reported_at = models.DateTimeField(_("overdue reported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("joint-handling task")
        verbose_name_plural = _("joint-handling tasks")
        ordering = ["id"]
        indexes = [
            # The sweep's read: open tasks past their deadline not yet reported.
            models.Index(fields=["due_at"], condition=Q(state="open", overdue_reported_at__isnull=True),
                         name="casetask_overdue_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(assignee__isnull=False), name="casetask_has_a_handler"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.case_id}/{self.pk}"


class CaseNotice(models.Model):
    """A notification the sweep owes, written in bulk with its events and sent by a fan-out job.

    The sweep must stay a few statements per batch of due cases; queueing each message through
    the notification outbox costs several statements, so that happens after, in
    ``services.case_notices_send``, which deletes each row in the transaction that queues it.
    """

    event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="+", verbose_name=_("event"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=32)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("pending case notice")
        verbose_name_plural = _("pending case notices")
        ordering = ["id"]
