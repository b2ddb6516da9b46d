"""The rollups are exactly what a direct computation over the cases gives, at every level."""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.core.management import call_command

from communitygrid.cases.models import OPEN_STATES, Case, Status, Verdict
from communitygrid.geo.models import Node
from communitygrid.insights.definitions import BUCKET_MINUTES
from communitygrid.insights.models import CaseRollup, OpenRollup, Span
from communitygrid.insights.rollups import MEASURES, present_refresh, rollups_rebuild, rollups_update

ZONE = ZoneInfo("Asia/Shanghai")


def _seconds(start, end):
    return math.floor(end.timestamp()) - math.floor(start.timestamp())


def _bucket(seconds):
    return next((i for i, bound in enumerate(BUCKET_MINUTES) if seconds <= bound * 60), len(BUCKET_MINUTES))


def expected_measures(case: Case) -> dict:
    """Each measure of one case, written out by hand (not from the definitions module)."""
    m = dict.fromkeys(MEASURES, 0)
    m["submitted"] = 1
    if case.accepted_at:
        m["responded"] = 1
        m["responded_on_time"] = int(case.accepted_at <= case.respond_by)
        s = _seconds(case.created_at, case.accepted_at)
        m["respond_seconds"] = s
        m[f"respond_h{_bucket(s)}"] = 1
    if case.resolved_at:
        m["resolved"] = 1
        m["resolved_on_time"] = int(case.resolved_at <= case.resolve_by)
        s = _seconds(case.created_at, case.resolved_at)
        m["resolve_seconds"] = s
        m[f"resolve_h{_bucket(s)}"] = 1
        level = case.escalation_level
        m["solved_grid" if level == 0 else "solved_community" if level == 1 else "solved_higher"] = 1
    m["closed"] = int(case.status == Status.CLOSED)
    m["closed_default"] = int(case.status == Status.CLOSED and case.verdict == Verdict.DEFAULT)
    m["reopened"] = int(case.reopen_count > 0)
    m["escalated"] = int(case.escalation_level >= 1)
    m["escalated_street"] = int(case.escalation_level >= 2)
    m["escalated_district"] = int(case.escalation_level >= 3)
    if case.rating is not None:
        m["rated"], m["rating_sum"], m["satisfied"] = 1, case.rating, int(case.rating >= 4)
    m["withdrawn"] = int(case.status in (Status.REJECTED, Status.CANCELLED, Status.MERGED))
    return m


def expected_rollups() -> dict:
    paths = dict(Node.objects.values_list("id", "path"))
    expected = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for case in Case.objects.all():
        day = case.created_at.astimezone(ZONE).date()
        week = day - dt.timedelta(days=day.weekday())
        for part in paths[case.grid_id].strip("/").split("/"):
            for span, start in ((Span.DAY, day), (Span.WEEK, week), (Span.MONTH, day.replace(day=1))):
                # Each category's row, and the row of every category together (category empty).
                for category in (case.category_id, None):
                    row = expected[(span, start, int(part), category, case.tier)]
                    for name, value in expected_measures(case).items():
                        row[name] += value
    return {key: dict(value) for key, value in expected.items()}


def stored_rollups() -> dict:
    return {(r["span"], r["start"], r["node_id"], r["category_id"], r["tier"]): {m: r[m] for m in MEASURES}
            for r in CaseRollup.objects.values("span", "start", "node_id", "category_id", "tier", *MEASURES)}


def test_rebuild_gives_exactly_the_direct_computation_at_every_level(history):
    rollups_rebuild()
    stored, expected = stored_rollups(), expected_rollups()
    assert set(stored) == set(expected)
    for key in expected:
        assert stored[key] == expected[key], key
    # The history reaches every level, every tier and a month end.
    assert {key[0] for key in stored} == {Span.DAY, Span.WEEK, Span.MONTH}
    assert len({key[1] for key in stored if key[0] == Span.MONTH}) >= 2


def test_rebuild_is_idempotent_and_since_recomputes_only_later_days(history, city):
    rollups_rebuild()
    first = stored_rollups()
    rollups_rebuild()
    assert stored_rollups() == first
    since = dt.date(2026, 2, 14)
    before = {k: v for k, v in first.items() if k[0] == Span.DAY and k[1] < since}
    # A case changed behind the rollups' back before `since` stays as built; one after is picked up.
    old = Case.objects.filter(created_at__lt=dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)).first()
    Case.objects.filter(pk=old.pk).update(escalation_level=3)
    call_command("rebuild_rollups", "--since", since.isoformat())
    after = stored_rollups()
    assert {k: v for k, v in after.items() if k[0] == Span.DAY and k[1] < since} == before
    expected = expected_rollups()
    later = {k: v for k, v in after.items() if k[0] == Span.DAY and k[1] >= since}
    assert later == {k: v for k, v in expected.items() if k[0] == Span.DAY and k[1] >= since}
    assert after != expected  # the old case's day was left as it was…
    rollups_rebuild()
    assert stored_rollups() == expected  # …until a full rebuild


def test_update_follows_new_cases_and_events(history, users, city, now):
    from communitygrid.cases.models import CaseEvent

    rollups_rebuild()
    case = Case.objects.filter(status=Status.ACCEPTED).first()
    # What the state machine does on resolving: the row changes and an event is appended.
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED, resolved_at=now)
    CaseEvent.objects.create(case=case, at=now, action="resolve", from_status=Status.ACCEPTED, to_status=Status.RESOLVED)
    from .conftest import history_build

    history_build(city, count=20, seed=99, users=users)
    assert stored_rollups() != expected_rollups()
    rollups_update()
    assert stored_rollups() == expected_rollups()
    assert rollups_update()["days"] >= 1  # the overlap re-reads recent events: harmless, same result
    assert stored_rollups() == expected_rollups()


def test_present_counts_open_overdue_and_urgent_per_node(history, now):
    present_refresh(now=now)
    paths = dict(Node.objects.values_list("id", "path"))
    expected = defaultdict(lambda: [0, 0, 0])
    for case in Case.objects.filter(status__in=OPEN_STATES):
        for part in paths[case.grid_id].strip("/").split("/"):
            row = expected[int(part)]
            row[0] += 1
            row[1] += int(case.is_overdue(now))
            row[2] += int(case.tier == "urgent")
    stored = defaultdict(lambda: [0, 0, 0])
    for node_id, o, d, u in OpenRollup.objects.values_list("node_id", "open", "overdue", "urgent"):
        row = stored[node_id]
        row[0] += o
        row[1] += d
        row[2] += u
    assert dict(stored) == dict(expected)
    assert any(v[1] for v in expected.values())


def test_the_periodic_job_is_declared_once_for_both_runners_and_keeps_rollups_exact(history, city, users):
    from communitygrid.celery import beat_entries
    from communitygrid.core.scheduler import periodic_jobs
    from communitygrid.insights.tasks import refresh

    assert (refresh, 60) in periodic_jobs()
    assert "insights.refresh" in [name for name, _seconds, _signature in beat_entries()]
    refresh()  # first run: no watermark yet, every case is new
    assert stored_rollups() == expected_rollups()
    from .conftest import history_build

    history_build(city, count=15, seed=5, users=users)
    refresh()
    assert stored_rollups() == expected_rollups()
