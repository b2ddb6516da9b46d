import datetime as dt

import pytest
import time_machine

from communitygrid.cases import services
from communitygrid.cases.errors import TransitionNotAllowed
from communitygrid.cases.models import Case, CaseEvent, Status, Verdict
from communitygrid.cases.sweep import sweep_once
from communitygrid.cases.tests.test_states import make_case

UTC = dt.timezone.utc
MONDAY_10 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def notes(user, kind):
    """The notifications ``user`` got of ``kind``, once the sweep's pending notices are sent."""
    from communitygrid.notifications.models import Notification

    while services.case_notices_send():
        pass

    return Notification.objects.filter(recipient=user, kind=kind)


@pytest.fixture
def general_case(people, submit):
    with time_machine.travel(MONDAY_10, tick=False):
        return submit().case


def test_the_assignee_is_warned_once_at_eighty_percent(people, general_case):
    case = general_case
    assert sweep_once(case.warn_at - dt.timedelta(seconds=1)) == {}
    assert sweep_once(case.warn_at) == {"warned": 1}
    assert sweep_once(case.warn_at + dt.timedelta(minutes=5)) == {}
    assert notes(case.assignee, "case_warning").count() == 1
    assert CaseEvent.objects.filter(case=case, action="warn").count() == 1
    case.refresh_from_db()
    assert case.warn_at is None and case.next_check_at == case.respond_by


def test_general_case_escalates_to_the_community_after_24_working_hours(people, general_case):
    case = general_case
    breach = case.respond_by + dt.timedelta(seconds=1)
    assert sweep_once(breach) == {"escalated": 1}
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert notes(people.community, "case_escalated").filter(case_id=case.pk).count() == 1
    assert sweep_once(breach) == {}  # idempotent
    # The community gets one respond window (24 working hours) of its own: Wed 10:00.
    assert case.escalate_at == dt.datetime(2026, 3, 4, 2, 0, 1, tzinfo=UTC)
    assert sweep_once(case.escalate_at) == {"escalated": 1}
    case.refresh_from_db()
    assert case.escalation_level == 2 and notes(people.street, "case_escalated").count() == 1
    sweep_once(case.escalate_at)
    case.refresh_from_db()
    assert case.escalation_level == 3 and notes(people.district, "case_escalated").count() == 1
    assert case.escalate_at is None and case.next_check_at is None
    assert sweep_once(breach + dt.timedelta(days=30)) == {}
    assert list(case.events.filter(action="escalate").values_list("data__level", flat=True)) == [1, 2, 3]


def test_urgent_case_escalates_to_the_community_after_30_minutes(people, submit):
    with time_machine.travel(MONDAY_10, tick=False):
        case = submit(description="老人晕倒了").case
    assert sweep_once(MONDAY_10 + dt.timedelta(minutes=24)) == {"warned": 1}
    assert sweep_once(MONDAY_10 + dt.timedelta(minutes=29)) == {}
    assert sweep_once(MONDAY_10 + dt.timedelta(minutes=30, seconds=1)) == {"escalated": 1}
    case.refresh_from_db()
    assert case.escalation_level == 1


def test_an_accepted_case_escalates_on_the_resolve_deadline(people, general_case):
    case = general_case
    with time_machine.travel(MONDAY_10 + dt.timedelta(hours=1), tick=False):
        services.case_accept(case=case, actor=case.assignee)
    case.refresh_from_db()
    assert sweep_once(case.respond_by + dt.timedelta(hours=1)) == {}
    assert sweep_once(case.resolve_by + dt.timedelta(seconds=1)).get("escalated") == 1


def test_a_paused_case_is_not_escalated(people, general_case):
    case = general_case
    with time_machine.travel(MONDAY_10 + dt.timedelta(hours=1), tick=False):
        services.case_accept(case=case, actor=case.assignee)
        services.case_pause(case=case, actor=case.assignee, reason="resident abroad")
    assert sweep_once(MONDAY_10 + dt.timedelta(days=60)) == {}


def test_no_verdict_in_seven_days_closes_as_confirmed_by_default(people):
    case = make_case(people, Status.IN_PROGRESS, tier="urgent")
    services.case_resolve(case=case, actor=people.worker, note="done")
    case.refresh_from_db()
    report = sweep_once(case.resolved_at + dt.timedelta(days=1, seconds=1))
    assert report == {"follow_ups": 1}
    assert case.events.filter(action="follow_up").count() == 1
    assert notes(people.worker, "case_follow_up").count() == 1
    assert sweep_once(case.resolved_at + dt.timedelta(days=6)) == {}
    assert sweep_once(case.resolved_at + dt.timedelta(days=7, seconds=1)) == {"closed_by_default": 1}
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.verdict == Verdict.DEFAULT
    assert case.next_check_at is None


def test_a_case_due_for_two_things_gets_both_in_one_sweep(people):
    case = make_case(people, Status.IN_PROGRESS, tier="urgent")
    services.case_resolve(case=case, actor=people.worker, note="done")
    case.refresh_from_db()
    assert sweep_once(case.resolved_at + dt.timedelta(days=8)) == {"closed_by_default": 1, "follow_ups": 1}


def test_the_sweep_reads_only_due_cases(people, general_case):
    # Many open cases that are not due must not cost a query each.
    for _ in range(30):
        make_case(people, Status.ASSIGNED, warn_at=None)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert sweep_once(general_case.warn_at) == {"warned": 1}
    loads = [q["sql"] for q in captured.captured_queries if 'FROM "cases_case"' in q["sql"] and "next_check_at" in q["sql"]]
    assert loads and all("<=" in sql for sql in loads)
    assert len(captured.captured_queries) < 25


def test_two_sweeps_at_the_same_moment_warn_once(people, general_case):
    stale = Case.objects.get(pk=general_case.pk)
    assert sweep_once(general_case.warn_at) == {"warned": 1}
    # A second machine holding the row as it was before: its guarded update finds nothing to do.
    with pytest.raises(TransitionNotAllowed):
        services.case_warn_due(case=stale, now=general_case.warn_at)
    assert CaseEvent.objects.filter(case=general_case, action="warn").count() == 1


def test_an_overdue_joint_handling_task_is_reported_once_to_the_lead_and_the_co_handler(people):
    from django.utils import timezone

    case = make_case(people, Status.IN_PROGRESS, warn_at=None, escalate_at=None)
    task = services.case_task_add(case=case, actor=people.worker, department=people.department,
                                  description="assess the subsidy", due_at=timezone.now() + dt.timedelta(hours=2))
    assert sweep_once(timezone.now() + dt.timedelta(hours=1)) == {}
    later = timezone.now() + dt.timedelta(hours=3)
    assert sweep_once(later) == {"tasks_overdue": 1}
    assert sweep_once(later) == {}
    assert notes(people.worker, "case_task_overdue").count() == 1
    assert notes(people.dept_staff, "case_task_overdue").count() == 1
    assert case.events.filter(action="task_overdue", data__task=task.pk).count() == 1


def test_cancelling_a_case_cancels_its_open_tasks(people):
    from communitygrid.cases.models import CaseTask

    case = make_case(people, Status.IN_PROGRESS)
    task = services.case_task_add(case=case, actor=people.worker, department=people.department, description="x")
    services.case_cancel(case=case, actor=people.resident, reason="solved it myself")
    assert CaseTask.objects.get(pk=task.pk).state == CaseTask.State.CANCELLED
