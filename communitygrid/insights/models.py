"""Rollup tables the cockpit reads instead of scanning cases.

- :class:`NodeLink`: the hierarchy's closure (every node with each of its ancestors and itself),
  so one GROUP BY turns cases of a grid into rows for its community, street, district and city.
- :class:`CaseRollup`: per day (and per month) × node × category × tier, the counts of
  ``definitions.COUNTS``, duration sums and duration histograms of the cases submitted then.
- :class:`OpenRollup`, :class:`WorkerLoad`, :class:`HeatCell`: the present (open, overdue,
  urgent; each worker's load; where recent cases are), recomputed whole by a periodic job.
- :class:`RollupState`: one row with the change-feed watermarks and when each part was built.

Everything here is derived: ``rebuild-rollups`` recomputes it from the case record.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communitygrid.insights.definitions import BUCKETS, COUNTS

DURATIONS = ("respond", "resolve")


class NodeLink(models.Model):
    ancestor = models.ForeignKey("geo.Node", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    descendant = models.ForeignKey(
        "geo.Node", on_delete=models.CASCADE, related_name="insights_ancestor_links", db_constraint=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["descendant", "ancestor"], name="insights_nodelink_unique")]
        indexes = [models.Index(fields=["ancestor"], name="insights_nodelink_anc")]


class Span(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class CaseRollupBase(models.Model):
    class Meta:
        abstract = True


for _name in COUNTS:
    CaseRollupBase.add_to_class(_name, models.PositiveIntegerField(default=0))
for _what in DURATIONS:
    CaseRollupBase.add_to_class(f"{_what}_seconds", models.BigIntegerField(default=0))
    for _index in range(BUCKETS):
        CaseRollupBase.add_to_class(f"{_what}_h{_index}", models.PositiveIntegerField(default=0))
CaseRollupBase.add_to_class("rating_sum", models.PositiveIntegerField(default=0))


class CaseRollup(CaseRollupBase):
    span = models.CharField(max_length=5, choices=Span.choices)
    start = models.DateField()
    node = models.ForeignKey("geo.Node", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # Empty: every category (the sum of the day's category rows), so unfiltered figures read few rows.
    category = models.ForeignKey("cases.Category", null=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)
    tier = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "span", "start", "category", "tier"], name="insights_caserollup_key")
        ]


class OpenRollup(models.Model):
    node = models.ForeignKey("geo.Node", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    tier = models.CharField(max_length=16)
    department = models.ForeignKey(
        "accounts.Department", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    urgent = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["node"], name="insights_open_node")]


class WorkerLoad(models.Model):
    """A grid worker, under every node above their grids, with the households they cover."""

    node = models.ForeignKey("geo.Node", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    households = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["node"], name="insights_worker_node")]


class HeatCell(models.Model):
    """Cases submitted in the last days, counted per cell of about 100 m."""

    node = models.ForeignKey("geo.Node", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    lon = models.FloatField()
    lat = models.FloatField()
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        # The map shows a node's busiest cells first.
        indexes = [models.Index(fields=["node", "-cases"], name="insights_heat_node")]


class RollupState(models.Model):
    ROW = 1

    last_event_id = models.BigIntegerField(default=0)
    last_case_id = models.BigIntegerField(default=0)
    map_token = models.CharField(max_length=32, blank=True)
    rollups_at = models.DateTimeField(null=True)
    present_at = models.DateTimeField(null=True)

    @classmethod
    def get(cls, *, lock: bool = False) -> "RollupState":
        query = cls.objects.select_for_update() if lock else cls.objects
        state = query.filter(pk=cls.ROW).first()
        if state is None:
            cls.objects.get_or_create(pk=cls.ROW)
            state = query.get(pk=cls.ROW)
        return state
