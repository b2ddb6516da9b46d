import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from communitygrid.cases import services
from communitygrid.cases.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from communitygrid.cases.models import Case, CaseTask, Status, Verdict
from communitygrid.cases.tests.test_states import make_case

UTC = dt.timezone.utc


def test_only_the_assignee_accepts_and_only_supervisors_in_scope_supervise(people):
    case = make_case(people, Status.ASSIGNED)
    for intruder in (people.worker2, people.outsider, people.resident, people.cockpit, people.dept_staff):
        with pytest.raises(NotAllowed):
            services.case_accept(case=case, actor=intruder)
    outside_leader = people.community.__class__.objects.create(username="other-community", role="community_staff")
    outside_leader.scope_nodes.set([people.city.communities[3]])
    with pytest.raises(NotAllowed):
        services.case_supervise(case=case, actor=outside_leader, note="hurry")
    services.case_supervise(case=case, actor=people.street, note="hurry")
    case.refresh_from_db()
    assert case.supervised and case.priority == 1


def test_pausing_stops_the_clock_and_resuming_shifts_every_deadline(people):
    start = dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        case = make_case(people, Status.IN_PROGRESS, created_at=start)
        services.case_pause(case=case, actor=people.worker, reason="resident in hospital")
    case.refresh_from_db()
    assert case.next_check_at is None  # the sweep ignores a paused case
    before = (case.respond_by, case.resolve_by, case.warn_at, case.escalate_at)
    with time_machine.travel(start + dt.timedelta(hours=30), tick=False):
        services.case_resume(case=case, actor=people.worker)
    case.refresh_from_db()
    after = (case.respond_by, case.resolve_by, case.warn_at, case.escalate_at)
    assert all(b + dt.timedelta(hours=30) == a for b, a in zip(before, after))
    assert case.paused_seconds == 30 * 3600 and case.paused_at is None


def test_pause_needs_a_reason(people):
    case = make_case(people, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput) as caught:
        services.case_pause(case=case, actor=people.worker, reason="  ")
    assert caught.value.field == "reason"


def test_accepting_switches_the_clock_to_the_resolve_deadline(people):
    case = make_case(people, Status.ASSIGNED, warn_at=None)
    services.case_accept(case=case, actor=people.worker)
    case.refresh_from_db()
    assert case.accepted_at is not None
    assert case.escalate_at == case.resolve_by
    assert case.warn_at is not None and case.warn_at < case.resolve_by


def test_a_department_queue_case_is_accepted_by_any_of_its_staff(people):
    case = make_case(people, Status.ASSIGNED, assignee=None, department=people.department)
    services.case_accept(case=case, actor=people.dept_staff)
    case.refresh_from_db()
    assert case.assignee == people.dept_staff


def test_resident_verdict_confirm_closes_with_the_rating(people):
    case = make_case(people, Status.RESOLVED)
    services.case_rate(case=case, actor=people.resident, solved=True, rating=4, comment="谢谢")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.rating == 4 and case.verdict == Verdict.CONFIRMED


@pytest.mark.parametrize("solved, rating", [(False, 5), (True, 2), (True, 1)])
def test_not_solved_or_a_low_rating_reopens_to_the_same_unit_with_higher_priority(people, solved, rating):
    case = make_case(people, Status.RESOLVED)
    services.case_rate(case=case, actor=people.resident, solved=solved, rating=rating)
    case.refresh_from_db()
    assert case.status == Status.REOPENED
    assert case.assignee == people.worker
    assert case.priority == 1 and case.reopen_count == 1
    assert case.verdict == Verdict.DISPUTED
    assert case.respond_by > timezone.now() and case.escalate_at == case.respond_by
    from communitygrid.notifications.models import Notification

    assert Notification.objects.filter(recipient=people.worker, kind="case_reopened", case_id=case.pk).exists()


@pytest.mark.parametrize("rating", [0, 6, "5", None, True])
def test_ratings_outside_one_to_five_are_refused(people, rating):
    case = make_case(people, Status.RESOLVED)
    with pytest.raises(InvalidInput) as caught:
        services.case_rate(case=case, actor=people.resident, solved=True, rating=rating)
    assert caught.value.field == "rating"


def test_only_the_reporter_rates(people):
    case = make_case(people, Status.RESOLVED)
    with pytest.raises(NotAllowed):
        services.case_rate(case=case, actor=people.worker, solved=True, rating=5)


def test_reject_needs_a_reason_and_a_redirect(people):
    case = make_case(people, Status.ASSIGNED)
    with pytest.raises(InvalidInput) as caught:
        services.case_reject(case=case, actor=people.community, reason="not ours", redirect="")
    assert caught.value.field == "redirect"
    services.case_reject(case=case, actor=people.community, reason="not ours", redirect="12345 hotline")
    case.refresh_from_db()
    assert case.status == Status.REJECTED and case.redirect_to == "12345 hotline"


def test_merge_links_the_duplicate(people):
    original, duplicate = make_case(people, Status.ACCEPTED), make_case(people, Status.ASSIGNED)
    services.case_merge(case=duplicate, actor=people.worker, into=original)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.duplicate_of == original
    with pytest.raises(InvalidInput):
        services.case_merge(case=original, actor=people.worker, into=original)


def test_hand_back_returns_the_case_to_the_dispatch_queue_and_tells_the_community(people):
    from communitygrid.notifications.models import Notification

    case = make_case(people, Status.ACCEPTED)
    services.case_hand_back(case=case, actor=people.worker, reason="this is a property matter")
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.assignee is None
    assert Notification.objects.filter(recipient=people.community, kind="case_handed_back").exists()


def test_redispatch_without_a_name_routes_to_someone_else(people):
    case = make_case(people, Status.ASSIGNED)
    services.case_redispatch(case=case, actor=people.community)
    case.refresh_from_db()
    assert case.assignee == people.worker2
    assert case.events.get(action="redispatch").note


def test_redispatch_refuses_a_worker_of_another_grid(people):
    case = make_case(people, Status.ASSIGNED)
    with pytest.raises(InvalidInput) as caught:
        services.case_redispatch(case=case, actor=people.community, assignee=people.outsider)
    assert caught.value.field == "assignee"


def test_manual_escalation_goes_one_level_up_and_notifies_that_level(people):
    from communitygrid.notifications.models import Notification

    case = make_case(people, Status.IN_PROGRESS)
    services.case_escalate(case=case, actor=people.worker, reason="needs the housing bureau")
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert Notification.objects.filter(recipient=people.community, kind="case_escalated").exists()
    services.case_escalate(case=case, actor=people.community, reason="street must decide")
    services.case_escalate(case=case, actor=people.street, reason="district must decide")
    case.refresh_from_db()
    assert case.escalation_level == 3 and case.escalate_at is None
    with pytest.raises(InvalidInput):
        services.case_escalate(case=case, actor=people.district, reason="no higher")


def test_take_over_makes_the_supervisor_the_handler(people):
    case = make_case(people, Status.ASSIGNED)
    services.case_take_over(case=case, actor=people.community, note="I'll do it")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.assignee == people.community


def test_joint_handling_the_lead_resolves_only_after_every_task_is_done(people):
    case = make_case(people, Status.IN_PROGRESS)
    task = services.case_task_add(case=case, actor=people.worker, department=people.department,
                                  description="assess the family's income")
    assert task.due_at == case.resolve_by
    with pytest.raises(TransitionNotAllowed):
        services.case_resolve(case=case, actor=people.worker, note="done")
    with pytest.raises(NotAllowed):
        services.case_task_complete(task=task, actor=people.worker2, result="x")
    services.case_task_complete(task=task, actor=people.dept_staff, result="income assessed, subsidy granted")
    with pytest.raises(TransitionNotAllowed):
        services.case_task_complete(task=task, actor=people.dept_staff, result="again")
    services.case_resolve(case=case, actor=people.worker, note="done with civil affairs")
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    assert CaseTask.objects.get(pk=task.pk).state == CaseTask.State.DONE
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["add_task", "complete_task", "resolve"]


def test_a_task_needs_a_handler_and_a_future_deadline(people):
    case = make_case(people, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        services.case_task_add(case=case, actor=people.worker, description="x")
    with pytest.raises(InvalidInput) as caught:
        services.case_task_add(case=case, actor=people.worker, department=people.department, description="x",
                               due_at=timezone.now() - dt.timedelta(hours=1))
    assert caught.value.field == "due_at"
    assert not CaseTask.objects.exists()


def test_a_task_goes_only_to_someone_who_may_handle_the_case(people):
    case = make_case(people, Status.IN_PROGRESS)
    for stranger in (people.outsider, people.cockpit, people.resident):
        with pytest.raises(InvalidInput) as caught:
            services.case_task_add(case=case, actor=people.worker, assignee=stranger, description="help")
        assert caught.value.field == "assignee"
    assert not CaseTask.objects.exists()
    task = services.case_task_add(case=case, actor=people.worker, assignee=people.dept_staff, description="help")
    assert task.assignee == people.dept_staff


def test_resolving_an_urgent_case_schedules_the_verdict_and_a_follow_up(people):
    case = make_case(people, Status.IN_PROGRESS, tier="urgent")
    services.case_resolve(case=case, actor=people.worker, note="helped him up, called his daughter")
    case.refresh_from_db()
    assert case.verdict_due_at - case.resolved_at == dt.timedelta(days=7)
    assert case.follow_up_at - case.resolved_at == dt.timedelta(hours=24)
    assert case.next_check_at == case.follow_up_at
    assert Case.objects.filter(pk=case.pk, warn_at__isnull=True, escalate_at__isnull=True).exists()


def test_a_progress_note_with_a_photo_keeps_status_and_deadlines(people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from communitygrid.cases.models import Attachment

    case = services.case_submit(submitted_by=people.community, channel="hotline", category_code="repair_streetlight",
                                description="路灯不亮", lon=120.005, lat=30.005).case
    services.case_accept(case=case, actor=case.assignee)
    before = (case.status, case.respond_by, case.resolve_by)
    photo = SimpleUploadedFile("lamp.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    event = services.case_note(case=case, actor=case.assignee, note="等备件", attachments=[photo])
    case.refresh_from_db()
    assert (case.status, case.respond_by, case.resolve_by) == before
    assert (event.action, event.note) == ("note", "等备件")
    assert Attachment.objects.filter(event=event).count() == 1
    with pytest.raises(InvalidInput) as empty:
        services.case_note(case=case, actor=case.assignee, note="  ")
    assert empty.value.field == "note"
    with pytest.raises(NotAllowed):
        services.case_note(case=case, actor=people.resident, note="not mine to write")
