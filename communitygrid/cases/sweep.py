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
from communitygrid.cases.models import Case, CaseTask, Status
from communitygrid.core.sql import Code

log = logging.getLogger(__name__)
BATCH = 500
SWEEP_FIELDS = (
    "id", "status", "tier", "grid_id", "category_id", "assignee_id", "department_id", "escalation_level", "created_at",
    "respond_by", "resolve_by", "warn_at", "escalate_at", "verdict_due_at", "follow_up_at", "next_check_at",
)


def _due(now: dt.datetime, skip: set[int]):
    query = Case.objects.filter(next_check_at__lte=now).exclude(pk__in=skip).order_by("next_check_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, of=("self",))
    # Only what the decisions need: loading related rows for every due case would cost more
    # than the decisions (grids and staff are looked up once per sweep in ``SweepCache``).
    return query.only(*SWEEP_FIELDS)


def _sweep_batch(cases: list[Case], now: dt.datetime, cache: services.SweepCache, report: Counter) -> set[int]:
    """Act on one locked batch; returns the ids that are still due afterwards (left for the next run)."""
    escalate = [c for c in cases if c.status in states.RUNNING and c.escalate_at and c.escalate_at <= now]
    escalating = {c.pk for c in escalate}
    warn = [c for c in cases if c.status in states.RUNNING and c.warn_at and c.warn_at <= now and c.pk not in escalating]
    # The batch was read FOR UPDATE (PostgreSQL) or under SQLite's write lock: the rows are ours.
    report["escalated"] += len(services.cases_escalate_overdue(cases=escalate, now=now, cache=cache, locked=True))
    report["warned"] += len(services.cases_warn_due(cases=warn, now=now, cache=cache, locked=True))
    # Closing by default and follow-ups come one by one, as cases get resolved: no batching needed.
    later = [c for c in cases if c.status in (Status.RESOLVED, Status.CLOSED)]
    for case in later:
        try:
            with transaction.atomic():
                if case.status == Status.RESOLVED and case.verdict_due_at and case.verdict_due_at <= now:
                    services.case_close_by_default(case=case, now=now)
                    report["closed_by_default"] += 1
                if case.status in (Status.RESOLVED, Status.CLOSED) and case.follow_up_at and case.follow_up_at <= now:
                    services.case_follow_up(case=case, now=now)
                    report["follow_ups"] += 1
        except TransitionNotAllowed:
            report["lost_races"] += 1
    stuck = {case.pk for case in cases if case.next_check_at is not None and case.next_check_at <= now}
    for pk in stuck:
        log.warning("case %s still due after the sweep", pk)
    return stuck


def sweep_once(now: dt.datetime | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Do everything that is due at ``now``; returns counts of what was done.

    Notifications the sweep owes are written as ``CaseNotice`` rows with the events and sent
    by :func:`communitygrid.cases.services.case_notices_send` (its own periodic job).
    """
    now = now or timezone.now()
    report: Counter = Counter()
    cache = services.SweepCache()
    # Cases this run could not move past ``now`` (a lost race, an inconsistent row) are not
    # retried in this run, so the loop always ends; the next run looks at them again.
    stuck: set[int] = set()
    while True:
        with transaction.atomic():
            cases = list(_due(now, stuck)[:batch])
            if not cases:
                break
            stuck |= _sweep_batch(cases, now, cache, report)
    _report_overdue_tasks(now, report)
    return {key: value for key, value in report.items() if value}


def _report_overdue_tasks(now: dt.datetime, report: Counter) -> None:
    """Joint-handling tasks past their deadline (few at a time: one by one)."""
    # The state as a literal, so a prepared statement's generic plan can use the partial index.
    due = CaseTask.objects.filter(state=Code(CaseTask.State.OPEN), overdue_reported_at__isnull=True, due_at__lte=now)
    for task in due.select_related("case__category", "case__grid", "case__assignee").order_by("due_at", "id"):
        try:
            services.case_task_report_overdue(task=task, now=now)
            report["tasks_overdue"] += 1
        except TransitionNotAllowed:
            report["lost_races"] += 1
