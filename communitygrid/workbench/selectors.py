"""The worker's inbox: their open cases in the order they must be handled.

Read through ``cases.selectors.case_list`` (scoped); this module only orders and annotates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from communitygrid.cases.models import AWAITING_RESPONSE, OPEN_STATES, Case, Status, Tier
from communitygrid.cases.selectors import case_list

INBOX_LIMIT = 200


@dataclass
class InboxRow:
    case: Case
    due: dt.datetime | None
    overdue: bool
    urgent: bool
    paused: bool


def due_of(case: Case) -> dt.datetime | None:
    """The deadline that runs now: respond-by until someone takes it, then resolve-by."""
    if case.status == Status.WAITING_RESIDENT:
        return None
    return case.respond_by if case.status in AWAITING_RESPONSE else case.resolve_by


def inbox(*, user, now: dt.datetime | None = None) -> list[InboxRow]:
    """The user's open cases: urgent first, then by the running deadline (overdue ones lead),
    cases waiting for the resident (clock stopped) last."""
    now = now or timezone.now()
    cases = case_list(user=user).filter(assignee=user, status__in=sorted(OPEN_STATES))[:INBOX_LIMIT]
    rows = []
    for case in cases:
        due = due_of(case)
        rows.append(InboxRow(case=case, due=due, overdue=case.is_overdue(now), urgent=case.tier == Tier.URGENT,
                             paused=case.status == Status.WAITING_RESIDENT))
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    rows.sort(key=lambda row: (row.paused, not row.urgent, row.due or far, row.case.pk))
    return rows
