"""Every action from every state: allowed ones move the case and write one event, the others
raise a clear error and write nothing."""
import datetime as dt

import pytest
from django.utils import timezone

from communitygrid.cases import services, states
from communitygrid.cases.errors import TransitionNotAllowed
from communitygrid.cases.models import Case, CaseEvent, CaseTask, Category, Status


def make_case(people, status: str, **extra) -> Case:
    """A case put straight into ``status`` (test data; production code only moves it by transitions)."""
    now = timezone.now()
    fields = dict(
        category=Category.objects.get(code="elderly_visit"), tier="general", description="test", channel="web",
        grid=people.grid, lon=120.005, lat=30.005, reporter=people.resident, submitted_by=people.resident,
        assignee=people.worker, status=status, respond_by=now + dt.timedelta(hours=4),
        resolve_by=now + dt.timedelta(days=5), warn_at=now - dt.timedelta(minutes=1),
        escalate_at=now + dt.timedelta(hours=4),
    )
    if status == Status.WAITING_RESIDENT:
        fields.update(paused_at=now - dt.timedelta(hours=1), pause_reason="away")
    if status in (Status.RESOLVED, Status.CLOSED):
        fields.update(resolved_at=now - dt.timedelta(days=1), verdict_due_at=now + dt.timedelta(days=6),
                      follow_up_at=now - dt.timedelta(minutes=1))
    fields.update(extra)
    return Case.objects.create(**fields)


def add_task(people, case):
    return CaseTask.objects.create(case=case, department=people.department, description="help",
                                   due_at=timezone.now() + dt.timedelta(days=1))


# How each action is taken, by someone allowed to take it.
CALLS = {
    "dispatch": lambda p, c: services._transition(c, action="dispatch", actor=None, changes={"assignee": p.worker}),
    "accept": lambda p, c: services.case_accept(case=c, actor=p.worker),
    "start": lambda p, c: services.case_start(case=c, actor=p.worker),
    "pause": lambda p, c: services.case_pause(case=c, actor=p.worker, reason="resident away until Friday"),
    "resume": lambda p, c: services.case_resume(case=c, actor=p.worker),
    "resolve": lambda p, c: services.case_resolve(case=c, actor=p.worker, note="fixed the tap"),
    "close": lambda p, c: services.case_close(case=c, actor=p.community, note="confirmed by phone"),
    "confirm": lambda p, c: services.case_rate(case=c, actor=p.resident, solved=True, rating=5),
    "dispute": lambda p, c: services.case_rate(case=c, actor=p.resident, solved=False, rating=2),
    "reopen": lambda p, c: services.case_reopen(case=c, actor=p.community, reason="leaking again"),
    "reject": lambda p, c: services.case_reject(case=c, actor=p.community, reason="a court matter",
                                                 redirect="the district court"),
    "cancel": lambda p, c: services.case_cancel(case=c, actor=p.resident, reason="sorted it myself"),
    "merge": lambda p, c: services.case_merge(case=c, actor=p.community, into=make_case(p, Status.ASSIGNED)),
    "redispatch": lambda p, c: services.case_redispatch(case=c, actor=p.community, assignee=p.worker2),
    "hand_back": lambda p, c: services.case_hand_back(case=c, actor=p.worker, reason="not my grid's matter"),
    "transfer_to_department": lambda p, c: services.case_transfer_to_department(
        case=c, actor=p.worker, department=p.department),
    "take_over": lambda p, c: services.case_take_over(case=c, actor=p.community),
    "request_help": lambda p, c: services.case_request_help(case=c, actor=p.worker, note="need a ladder and two people"),
    "escalate": lambda p, c: services.case_escalate(case=c, actor=p.worker, reason="beyond my powers"),
    "supervise": lambda p, c: services.case_supervise(case=c, actor=p.community, note="finish by Friday"),
    "note": lambda p, c: services.case_note(case=c, actor=p.worker, note="ordered the spare part"),
    "add_task": lambda p, c: services.case_task_add(case=c, actor=p.worker, department=p.department,
                                                    description="civil affairs to assess the subsidy"),
    "complete_task": lambda p, c: services.case_task_complete(task=add_task(p, c), actor=p.dept_staff,
                                                              result="assessed"),
    "task_overdue": lambda p, c: services.case_task_report_overdue(
        task=CaseTask.objects.create(case=c, department=p.department, description="late",
                                     due_at=timezone.now() - dt.timedelta(hours=1)), now=timezone.now()),
    "warn": lambda p, c: services.case_warn_due(case=c, now=timezone.now()),
    "follow_up": lambda p, c: services.case_follow_up(case=c, now=timezone.now()),
}

ALLOWED = [(a, s) for a, (sources, _) in states.TRANSITIONS.items() for s in Status.values if s in sources]
FORBIDDEN = [(a, s) for a, (sources, _) in states.TRANSITIONS.items() for s in Status.values if s not in sources]


def test_every_action_has_a_test_call():
    assert set(CALLS) == set(states.TRANSITIONS)


@pytest.mark.parametrize("action, status", ALLOWED)
def test_allowed_transition_moves_the_case_and_writes_one_event(people, action, status):
    case = make_case(people, status)
    before = CaseEvent.objects.filter(case=case).count()
    CALLS[action](people, case)
    case.refresh_from_db()
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    # add_task/complete_task write their own event too; every call writes exactly one.
    assert len(events) == before + 1
    event = events[-1]
    expected = states.TRANSITIONS[action][1]
    assert event.action == action
    assert event.from_status == status
    assert event.to_status == case.status == (status if expected == states.SAME else expected)


@pytest.mark.parametrize("action, status", FORBIDDEN)
def test_forbidden_transition_is_refused_and_writes_nothing(people, action, status):
    case = make_case(people, status)
    with pytest.raises(TransitionNotAllowed) as caught:
        CALLS[action](people, case)
    assert caught.value.status == 409
    assert caught.value.message
    case.refresh_from_db()
    assert case.status == status
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_stale_case_object_cannot_win_a_race(people):
    case = make_case(people, Status.ASSIGNED)
    stale = Case.objects.get(pk=case.pk)
    services.case_accept(case=case, actor=people.worker)
    with pytest.raises(TransitionNotAllowed):
        services.case_reject(case=stale, actor=people.community, reason="x", redirect="y")
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_events_cannot_be_changed_or_deleted_even_in_sql(people):
    from django.db import connection, transaction

    case = make_case(people, Status.ASSIGNED)
    event = services.case_accept(case=case, actor=people.worker)
    for sql in ("UPDATE cases_caseevent SET note = 'x' WHERE id = %s", "DELETE FROM cases_caseevent WHERE id = %s"):
        with pytest.raises(Exception), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert CaseEvent.objects.get(pk=event.pk).note == ""
