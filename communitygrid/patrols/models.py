"""Patrols (巡查) and home visits (走访) of grid workers.

A visit's start and end are the server's clock at the moment the worker pressed the button:
nothing here takes a time from the client, so a record cannot be backdated or stretched.
What is still implausible (too short to be a visit, left open for hours) is recorded and
flagged, and a flagged visit does not count for the care rules.

The care rules themselves are the registry's: each special-care group (``CareTag``) says how
often its members are visited (``visit_every_days``, edited in the admin), so a visit rule is
keyed on the group's code and lives in one place.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def min_visit() -> dt.timedelta:
    return dt.timedelta(minutes=settings.VISIT_MIN_MINUTES)


def max_visit() -> dt.timedelta:
    return dt.timedelta(hours=settings.VISIT_MAX_HOURS)


class Visit(models.Model):
    class Kind(models.TextChoices):
        PATROL = "patrol", _("Patrol")
        HOME = "home", _("Home visit")

    class Outcome(models.TextChoices):
        ALL_WELL = "all_well", _("All well")
        FOLLOW_UP = "follow_up", _("Needs follow-up")
        NOBODY_HOME = "nobody_home", _("Nobody at home")

    class Flag(models.TextChoices):
        TOO_SHORT = "too_short", _("Shorter than the minimum visit")
        TOO_LONG = "too_long", _("Left open longer than a visit can last")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits",
                               verbose_name=_("grid worker"))
    grid = models.ForeignKey("geo.Node", on_delete=models.PROTECT, related_name="visits", verbose_name=_("grid"))
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="visits", verbose_name=_("household"))
    started_at = models.DateTimeField(_("visit started at"), editable=False)
    ended_at = models.DateTimeField(_("visit ended at"), null=True, blank=True, editable=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    flag = models.CharField(_("flag"), max_length=16, choices=Flag.choices, blank=True)
    people_seen = models.ManyToManyField("registry.Person", through="VisitPerson", related_name="visits",
                                         blank=True, verbose_name=_("people seen"))

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-started_at", "-id"]
        constraints = [
            # Two visits of one worker never overlap: at most one is open at a time.
            models.UniqueConstraint(fields=["worker"], condition=Q(ended_at__isnull=True), name="visit_one_open_per_worker"),
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                                   name="visit_ends_after_start"),
            models.CheckConstraint(condition=Q(kind="patrol") | Q(household__isnull=False),
                                   name="visit_home_has_household"),
        ]
        indexes = [models.Index(fields=["worker", "started_at"], name="visit_worker_started")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def duration(self) -> dt.timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None

    @property
    def minutes(self) -> int | None:
        return int(self.duration.total_seconds() // 60) if self.ended_at else None

    @staticmethod
    def flag_for(started_at: dt.datetime, ended_at: dt.datetime) -> str:
        """The implausibility of a visit of this length, or "" (pure rule)."""
        length = ended_at - started_at
        if length < min_visit():
            return Visit.Flag.TOO_SHORT
        if length > max_visit():
            return Visit.Flag.TOO_LONG
        return ""


class VisitPerson(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="seen", verbose_name=_("visit"))
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))

    class Meta:
        verbose_name = _("person seen")
        verbose_name_plural = _("people seen")
        constraints = [models.UniqueConstraint(fields=["visit", "person"], name="visitperson_once")]


class VisitIssue(models.Model):
    """A case a worker reported from a visit (channel: the worker's discovery)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="issues", verbose_name=_("visit"))
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("issue found on a visit")
        verbose_name_plural = _("issues found on visits")
        ordering = ["id"]
