import datetime as dt

import pytest
import time_machine
from django.db import connection

from communitygrid.cases.errors import InvalidInput, NotAllowed
from communitygrid.cases.models import Attachment, Case, CaseEvent, Status, Tier
from communitygrid.cases.tests.conftest import POINT, png
from communitygrid.registry.models import CareTag, PersonCareTag


def notifications_for(user):
    """The outbox after the fan-out job ran: intake leaves its messages to it."""
    from communitygrid.cases.services import case_notices_send
    from communitygrid.notifications.models import Notification

    while case_notices_send():
        pass
    return Notification.objects.filter(recipient=user)


def test_a_submitted_case_is_located_classified_given_deadlines_and_dispatched(people, submit):
    with time_machine.travel(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc), tick=False):
        result = submit()
    case = result.case
    assert result.created
    assert case.grid == people.grid
    assert case.reporter == people.resident
    assert case.tier == Tier.GENERAL
    # General: respond within 24 working hours; Monday 10:00 Shanghai → Tuesday 10:00.
    assert case.respond_by == dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.timezone.utc)
    assert case.warn_at == case.created_at + (case.respond_by - case.created_at) * 0.8
    assert case.escalate_at == case.respond_by
    assert case.next_check_at == case.warn_at
    assert case.status == Status.ASSIGNED
    assert case.assignee in (people.worker, people.worker2)
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", "from_status", "to_status"))
    assert actions == [("submit", "", "submitted"), ("dispatch", "submitted", "assigned")]
    dispatch_note = CaseEvent.objects.get(case=case, action="dispatch").note
    assert "fewest open cases" in dispatch_note or "最少" in dispatch_note
    assert notifications_for(case.assignee).filter(kind="case_assigned").exists()


def test_dispatch_prefers_the_least_loaded_worker_and_respects_the_cap(people, submit, settings):
    first = submit().case
    # 1.1 km apart: no one has history near the second point.
    second = submit(description="另一件事", lon=120.005, lat=30.015).case
    assert {first.assignee, second.assignee} == {people.worker, people.worker2}
    settings.CASE_WORKLOAD_CAP = 1
    third = submit(description="第三件事").case
    assert third.status == Status.SUBMITTED and third.assignee is None
    # The community is told there is nobody to take it.
    assert notifications_for(people.community).filter(case_id=third.pk, kind="case_handed_back").exists()


def test_workload_is_counted_only_one_past_the_cap_and_the_lightest_under_it_still_wins(people, submit, settings):
    from django.utils import timezone

    from communitygrid.accounts.models import Role
    from communitygrid.cases import dispatch

    for n in range(4):  # worker holds four open cases, worker2 one, all far from the point below
        case = submit(description=f"事情 {n}", lon=120.005, lat=30.015).case
        Case.objects.filter(pk=case.pk).update(assignee=people.worker2 if n == 0 else people.worker)
    category = Case.objects.get(pk=case.pk).category
    where = dict(role=Role.GRID_WORKER, grid=people.grid, category=category, lon=None, lat=None, now=timezone.now())
    exact = {user: user.open_cases for user in dispatch.candidates(**where)}
    assert exact == {people.worker2: 1, people.worker: 3}
    bounded = {user: user.open_cases for user in dispatch.candidates(**where, count_to=2)}
    assert bounded == {people.worker2: 1, people.worker: 2}
    settings.CASE_WORKLOAD_CAP = 2
    fifth = submit(description="第五件事").case
    assert fifth.assignee == people.worker2
    note = fifth.events.get(action="dispatch").note
    assert "(1, cap 2)" in note or "（1 件，上限 2 件）" in note


def test_department_categories_go_to_the_department_covering_the_grid(people, submit):
    result = submit(category_code="assist_temporary", description="家里困难需要临时救助")
    assert result.case.department == people.department
    assert result.case.assignee == people.dept_staff
    assert result.case.status == Status.ASSIGNED


def test_department_category_without_a_department_falls_back_to_the_grid_worker(people, submit):
    case = submit(category_code="repair_leak", description="楼上漏水").case
    assert case.department is None and case.assignee in (people.worker, people.worker2)
    note = case.events.get(action="dispatch").note
    assert "No active department" in note or "没有" in note


@pytest.mark.parametrize("text", ["厨房着火了", "闻到燃气味", "楼道漏电", "老人晕倒了", "There is a FIRE", "smell of gas"])
def test_danger_words_make_a_case_urgent(submit, text):
    case = submit(description=text).case
    assert case.tier == Tier.URGENT
    assert case.respond_by - case.created_at == dt.timedelta(minutes=30)


def test_danger_words_in_english_match_whole_words_only(submit):
    assert submit(description="gastric trouble, need a doctor visit").case.tier == Tier.GENERAL


def test_a_reporter_in_a_special_care_group_raises_the_tier_one_step(people, submit):
    tag = CareTag.objects.create(code="alone_test", name="独居老人", name_en="Living alone")
    PersonCareTag.objects.create(person=people.resident.person, tag=tag)
    assert submit().case.tier == Tier.URGENT
    assert submit(category_code="dispute_neighbour", description="邻居吵架").case.tier == Tier.GENERAL


def test_one_tap_calls_are_urgent(submit):
    assert submit(channel="one_tap", category_code="elderly_help", description="求助").case.tier == Tier.URGENT


@pytest.mark.parametrize("overrides, field", [
    ({"category_code": ""}, "category"),
    ({"category_code": "no_such_thing"}, "category"),
    ({"category_code": "elderly"}, "category"),  # a group, not a leaf
    ({"description": "   "}, "description"),
    ({"lon": 121.5, "lat": 31.2}, "location"),
    ({"lon": None, "lat": None}, "location"),
    ({"lon": "east", "lat": 30.0}, "location"),
    ({"building_id": 1}, "location"),  # two locations at once
    ({"channel": "hotline"}, "channel"),  # residents do not use the hotline channel
    ({"channel": "carrier-pigeon"}, "channel"),
    ({"attachments": [png(size=11 * 1024 * 1024)]}, "attachments"),
    ({"attachments": [png(name="evil.png").__class__("evil.png", b"MZ\x90\x00binary", content_type="image/png")]},
     "attachments"),
    ({"attachments": [png() for _ in range(10)]}, "attachments"),
])
def test_bad_input_names_the_field_and_writes_nothing(submit, overrides, field):
    with pytest.raises(InvalidInput) as caught:
        submit(**overrides)
    assert caught.value.field == field
    assert caught.value.message
    assert not Case.objects.exists() and not CaseEvent.objects.exists() and not Attachment.objects.exists()


def test_attachments_are_stored_with_the_submit_event(submit):
    case = submit(attachments=[png()]).case
    attachment = Attachment.objects.get(case=case)
    assert attachment.content_type == "image/png"
    assert attachment.event.action == "submit"


def test_a_retried_submission_returns_the_same_case(submit):
    first = submit(idempotency_key="abc-1")
    again = submit(idempotency_key="abc-1", description="different text, same key")
    assert again.case.pk == first.case.pk and not again.created
    assert Case.objects.count() == 1
    assert submit(idempotency_key="abc-2").case.pk != first.case.pk


def test_staff_submit_on_behalf_of_a_resident_or_a_hotline_caller(people, submit):
    for_resident = submit(user=people.worker, channel="hotline", on_behalf_of=people.resident).case
    assert for_resident.reporter == people.resident and for_resident.submitted_by == people.worker
    caller = submit(user=people.community, channel="hotline", caller_name="王先生", caller_phone="13912345678").case
    caller.refresh_from_db()
    assert caller.reporter is None
    assert str(caller.caller_phone) == "139****5678"
    assert caller.caller_phone.reveal() == "13912345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller_phone FROM cases_case WHERE id = %s", [caller.pk])
        assert "13912345678" not in cursor.fetchone()[0]


def test_residents_cannot_submit_for_someone_else(people, submit):
    with pytest.raises(NotAllowed):
        submit(on_behalf_of=people.worker)


def test_location_from_a_building_or_the_reporters_home(people, submit):
    household = people.resident.person.household
    building = household.room.unit.building
    at_building = submit(building_id=building.pk, lon=None, lat=None).case
    assert at_building.grid == building.grid and at_building.building == building
    at_home = submit(at_home=True, lon=None, lat=None).case
    assert at_home.grid == household.grid and at_home.room == household.room


def test_likely_duplicates_are_returned_to_the_submitter(submit):
    first = submit(**POINT).case
    near = submit(lon=POINT["lon"] + 0.001, lat=POINT["lat"])  # ~96 m east
    far = submit(lon=POINT["lon"] + 0.004, lat=POINT["lat"])  # ~385 m east
    other_category = submit(category_code="env_sorting", description="垃圾分类")
    assert [d.pk for d in near.duplicates] == [first.pk]
    # 385 m from the first, 290 m from the second: neither is near enough.
    assert far.duplicates == []
    assert other_category.duplicates == []


def test_old_cases_are_not_duplicates(submit):
    with time_machine.travel(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc), tick=False):
        submit()
    with time_machine.travel(dt.datetime(2026, 3, 5, 3, 0, tzinfo=dt.timezone.utc), tick=False):
        assert submit().duplicates == []


def _history(people, worker, *, count: int, status: str = Status.CLOSED, category: str = "elderly_visit", **where):
    from communitygrid.cases.models import Category
    from communitygrid.cases.tests.test_states import make_case

    for _ in range(count):
        make_case(people, status, assignee=worker, category=Category.objects.get(code=category), **where)


def test_routing_prefers_the_worker_who_handled_nearby_cases_of_the_category(people, submit):
    # worker2 closed two caring visits 100 m away last month; worker holds no open case, worker2 one.
    _history(people, people.worker2, count=2, lon=120.006, lat=30.005)
    _history(people, people.worker2, count=1, status=Status.ACCEPTED, lon=120.009, lat=30.019)
    case = submit().case
    assert case.assignee == people.worker2
    note = CaseEvent.objects.get(case=case, action="dispatch").note
    assert "handled 2" in note or "处理过 2" in note


def test_history_of_another_category_or_far_away_does_not_count(people, submit):
    _history(people, people.worker2, count=3, category="env_sorting")
    _history(people, people.worker2, count=3, lon=120.005, lat=30.015)  # 1.1 km away
    assert submit().case.assignee == people.worker  # same load (0); the lower id


def test_knowing_the_place_does_not_outweigh_a_much_heavier_load(people, submit):
    from communitygrid.cases.dispatch import FAMILIARITY_SLACK

    _history(people, people.worker2, count=1, lon=120.006, lat=30.005)
    _history(people, people.worker2, count=FAMILIARITY_SLACK + 1, status=Status.ACCEPTED, lon=120.009, lat=30.019)
    case = submit().case
    assert case.assignee == people.worker
    note = CaseEvent.objects.get(case=case, action="dispatch").note
    assert "fewest open cases" in note or "最少" in note


@pytest.mark.django_db(transaction=True)
def test_a_case_without_files_is_written_whole_by_one_statement(catalogue, city, users):
    """Outside any transaction (as in a request), PostgreSQL takes the single-statement path."""
    from django.test.utils import CaptureQueriesContext

    from communitygrid.accounts.models import Role
    from communitygrid.cases.models import CaseNotice
    from communitygrid.cases.services import case_submit

    resident = users[Role.RESIDENT]
    with CaptureQueriesContext(connection) as captured:
        result = case_submit(submitted_by=resident, channel="web", category_code="elderly_visit",
                             description="请来看看", idempotency_key="one-statement", **POINT)
    writes = [q["sql"] for q in captured.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH")
    case = Case.objects.get(pk=result.case.pk)
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert [e.action for e in events] == ["submit", "dispatch"] and [e.pk for e in events] == [
        e.pk for e in sorted(events, key=lambda e: e.pk)]
    assert {e.pk for e in events} == {result.case.events.get(action="submit").pk,
                                     result.case.events.get(action="dispatch").pk}
    notice = CaseNotice.objects.get()
    assert notice.event_id == events[1].pk and notice.recipient_id == case.assignee_id
    assert notice.params == {"respond_by": notice.params["respond_by"]} and notice.kind == "case_assigned"
    replay = case_submit(submitted_by=resident, channel="web", category_code="elderly_visit",
                         description="请来看看", idempotency_key="one-statement", **POINT)
    assert replay.case.pk == case.pk and not replay.created and Case.objects.count() == 1
    assert notifications_for(case.assignee).filter(kind="case_assigned", case_id=case.pk).count() == 1


class _UploadThatBreaks(type(png())):
    """An upload whose reading fails, as when the client goes away in the middle of it."""

    def chunks(self, chunk_size=None):
        raise OSError("connection reset while reading the upload")


def test_a_failed_submission_leaves_no_attachment_file_behind(people, submit, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    broken = _UploadThatBreaks("second.png", png().read(), content_type="image/png")
    with pytest.raises(OSError):
        submit(attachments=[png("first.png"), broken])
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_failed_resolution_leaves_no_attachment_file_behind(people, settings, tmp_path):
    from communitygrid.cases.services import case_resolve
    from communitygrid.cases.tests.test_states import make_case

    settings.MEDIA_ROOT = tmp_path
    case = make_case(people, Status.IN_PROGRESS)
    broken = _UploadThatBreaks("second.png", png().read(), content_type="image/png")
    with pytest.raises(OSError):
        case_resolve(case=case, actor=people.worker, note="修好了", attachments=[png("first.png"), broken])
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and not Attachment.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_cleanup_orphan_files_deletes_only_old_files_no_attachment_names(people, submit, settings, tmp_path):
    import os
    import time

    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path
    kept = Attachment.objects.get(case=submit(attachments=[png()]).case).file.path
    old_orphan, young_orphan = tmp_path / "cases" / "999" / "left.png", tmp_path / "cases" / "999" / "new.png"
    old_orphan.parent.mkdir(parents=True)
    old_orphan.write_bytes(b"x")
    young_orphan.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    os.utime(kept, (two_hours_ago, two_hours_ago))
    call_command("cleanup_orphan_files", "--dry-run")
    assert old_orphan.exists()
    call_command("cleanup_orphan_files")
    assert not old_orphan.exists() and young_orphan.exists() and os.path.exists(kept)


def _map_changed_elsewhere(grid):
    """Another process retires ``grid`` and draws a new one over POINT; this process's index
    still holds the old map and was confirmed a moment ago."""
    import time

    from django.utils import timezone

    from communitygrid.geo import index as geo_index
    from communitygrid.geo.models import Level, Node
    from communitygrid.testing import make_node, square

    new = make_node(code="NEW-G", name="新网格", level=Level.GRID, parent=grid.parent,
                    geometry=square(POINT["lon"] - 0.001, POINT["lat"] - 0.001, 0.002))
    Node.objects.filter(pk=grid.pk).update(status="retired", retired_at=timezone.now())
    geo_index._checked_at = time.monotonic()  # as if confirmed just before the other process's change
    return new


def _submits_into_the_new_grid_after_a_map_change(grid, submit):
    from django.test.utils import CaptureQueriesContext

    first = submit(idempotency_key="before")
    assert first.case.grid_id == grid.pk
    with CaptureQueriesContext(connection) as captured:
        assert submit(idempotency_key="trusted").case.grid_id == grid.pk
    # Within the trust window the map version is read only to confirm it where the case is
    # written: inside the INSERT on PostgreSQL, inside the write transaction on SQLite.
    reads = [q for q in captured.captured_queries if q["sql"].startswith('SELECT "geo_mapversion"')]
    assert len(reads) == (0 if connection.vendor == "postgresql" else 1)
    new = _map_changed_elsewhere(grid)
    after = submit(idempotency_key="after")
    assert after.created and after.case.grid_id == new.pk
    assert Case.objects.get(pk=after.case.pk).grid_id == new.pk
    # The attempt on the old map wrote nothing: three cases; the first two routed (submit and
    # dispatch), the last only submitted (the new grid has no grid worker yet).
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == 5
    assert list(after.case.events.values_list("action", flat=True)) == ["submit"]


def test_a_map_changed_by_another_process_is_confirmed_by_the_insert(people, submit):
    _submits_into_the_new_grid_after_a_map_change(people.grid, submit)


@pytest.mark.django_db(transaction=True)
def test_a_map_changed_by_another_process_is_confirmed_by_the_single_statement(catalogue, city, users):
    from communitygrid.accounts.models import Role
    from communitygrid.cases.services import case_submit

    def submit(**kwargs):
        return case_submit(submitted_by=users[Role.RESIDENT], channel="web", category_code="elderly_visit",
                           description="请来看看", **POINT, **kwargs)

    _submits_into_the_new_grid_after_a_map_change(city.grids[0], submit)
