"""The deadline sweep: one iteration, ``sweep_once(now)``, called by a Celery task or a loop.

It reads only cases whose ``next_check_at`` has come (a partial index), so its cost follows
the number of due cases, not of open ones. Each action is a conditional UPDATE guarded on the
very deadline value it acts on, so a second sweep running at the same moment (another
machine) finds nothing left to do; on PostgreSQL the rows are also claimed with
``SELECT … FOR UPDATE SKIP LOCKED`` so two sweeps share the work instead of queueing.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from communitygrid.cases import services, states
from communitygrid.cases.errors import TransitionNotAllowed
from communitygrid.cases.models import Case, Status

log = logging.getLogger(__name__)
BATCH = 500


def _due(now: dt.datetime, skip: set[int]):
    query = Case.objects.filter(next_check_at__lte=now).exclude(pk__in=skip).order_by("next_check_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, of=("self",))
    return query.select_related("category", "grid", "assignee")


def _sweep_case(case: Case, now: dt.datetime, report: Counter) -> None:
    if case.status == Status.RESOLVED and case.verdict_due_at and case.verdict_due_at <= now:
        services.case_close_by_default(case=case, now=now)
        report["closed_by_default"] += 1
    if case.status in (Status.RESOLVED, Status.CLOSED) and case.follow_up_at and case.follow_up_at <= now:
        services.case_follow_up(case=case, now=now)
        report["follow_ups"] += 1
    if case.status in states.RUNNING:
        if case.escalate_at and case.escalate_at <= now:
            services.case_escalate_overdue(case=case, now=now)
            report["escalated"] += 1
        elif case.warn_at and case.warn_at <= now:
            services.case_warn_due(case=case, now=now)
            report["warned"] += 1


def sweep_once(now: dt.datetime | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Do everything that is due at ``now``; returns counts of what was done."""
    now = now or timezone.now()
    report: Counter = Counter()
    # Cases this run could not move past ``now`` (a lost race, an inconsistent row): not retried
    # in this run, so the loop always ends; the next run looks at them again.
    stuck: set[int] = set()
    while True:
        with transaction.atomic():
            cases = list(_due(now, stuck)[:batch])
            if not cases:
                break
            for case in cases:
                try:
                    with transaction.atomic():
                        _sweep_case(case, now, report)
                except TransitionNotAllowed:
                    report["lost_races"] += 1
                    stuck.add(case.pk)
                    continue
                if case.next_check_at is not None and case.next_check_at <= now:
                    log.warning("case %s still due after the sweep (status %s)", case.pk, case.status)
                    stuck.add(case.pk)
    return dict(report)
