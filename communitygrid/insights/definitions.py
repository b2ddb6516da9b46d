"""What each figure counts, defined once as a filter on cases.

The rollup builder sums these conditions and the case list behind a number filters by the
same one, so a figure can always be traced back to exactly the cases it counts. Figures
count the cases *submitted* in the chosen period (by local day), with their outcome as
recorded now: the on-time response rate of May is about the cases residents raised in May.
"""
from __future__ import annotations

import datetime as dt
import math

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from communitygrid.cases.models import AWAITING_RESPONSE, BEING_HANDLED, OPEN_STATES, Status, Verdict

# Upper bounds (minutes) of the duration histogram's buckets; the last bucket is open-ended.
# Medians are read from these buckets, so they are exact to the bucket and interpolated within it.
BUCKET_MINUTES = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200]
BUCKETS = len(BUCKET_MINUTES) + 1

# Cases that were never meant to be answered: they count as submitted, not in response figures.
WITHDRAWN = [Status.REJECTED, Status.CANCELLED, Status.MERGED]

# Counted per period (the rollup's columns, one condition each).
COUNTS: dict[str, Q] = {
    "submitted": Q(pk__isnull=False),
    "responded": Q(accepted_at__isnull=False),
    "responded_on_time": Q(accepted_at__isnull=False, respond_by__isnull=False, accepted_at__lte=F("respond_by")),
    "resolved": Q(resolved_at__isnull=False),
    "resolved_on_time": Q(resolved_at__isnull=False, resolve_by__isnull=False, resolved_at__lte=F("resolve_by")),
    "closed": Q(status=Status.CLOSED),
    "closed_default": Q(status=Status.CLOSED, verdict=Verdict.DEFAULT),
    "reopened": Q(reopen_count__gt=0),
    "escalated": Q(escalation_level__gte=1),
    "escalated_street": Q(escalation_level__gte=2),
    "escalated_district": Q(escalation_level__gte=3),
    "solved_grid": Q(resolved_at__isnull=False, escalation_level=0),
    "solved_community": Q(resolved_at__isnull=False, escalation_level=1),
    "solved_higher": Q(resolved_at__isnull=False, escalation_level__gte=2),
    "rated": Q(rating__isnull=False),
    "satisfied": Q(rating__gte=4),
    "withdrawn": Q(status__in=WITHDRAWN),
}

COUNT_LABELS = {
    "submitted": _("Submitted"),
    "responded": _("Responded"),
    "responded_on_time": _("Responded on time"),
    "resolved": _("Resolved"),
    "resolved_on_time": _("Resolved on time"),
    "closed": _("Closed"),
    "closed_default": _("Closed by default"),
    "reopened": _("Reopened"),
    "escalated": _("Escalated"),
    "escalated_street": _("Escalated to the street"),
    "escalated_district": _("Escalated to the district"),
    "solved_grid": _("Solved within the grid"),
    "solved_community": _("Solved within the community"),
    "solved_higher": _("Solved above the community"),
    "rated": _("Rated"),
    "satisfied": _("Satisfied (4–5 stars)"),
    "withdrawn": _("Rejected, cancelled or merged"),
    "open": _("Open"),
    "overdue": _("Overdue"),
    "urgent": _("Urgent and open"),
}


def overdue_q(now: dt.datetime) -> Q:
    """``Case.is_overdue(now)`` as a filter."""
    return Q(status__in=AWAITING_RESPONSE, respond_by__lt=now) | Q(status__in=BEING_HANDLED, resolve_by__lt=now)


def current_q(name: str, now: dt.datetime) -> Q:
    """Figures of the present (not of a period): open, overdue, urgent and open."""
    if name == "open":
        return Q(status__in=OPEN_STATES)
    if name == "overdue":
        return overdue_q(now)
    if name == "urgent":
        return Q(status__in=OPEN_STATES, tier="urgent")
    raise KeyError(name)


CURRENT = ("open", "overdue", "urgent")


def seconds_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole seconds between two moments, each truncated to its second (as the database does it)."""
    return math.floor(end.timestamp()) - math.floor(start.timestamp())


def bucket_of(seconds: int) -> int:
    minutes = seconds / 60
    for index, bound in enumerate(BUCKET_MINUTES):
        if minutes <= bound:
            return index
    return len(BUCKET_MINUTES)


def bucket_median(histogram: list[int]) -> float | None:
    """Median in seconds, linear within the bucket that holds it (the last bucket: its lower bound)."""
    total = sum(histogram)
    if not total:
        return None
    half = total / 2
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= half:
            low = BUCKET_MINUTES[index - 1] * 60 if index else 0
            if index == len(BUCKET_MINUTES):
                return float(low)
            high = BUCKET_MINUTES[index] * 60
            return low + (high - low) * (half - seen) / count
        seen += count
    return None
