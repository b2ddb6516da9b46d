"""Visit services and the care to-do list: the server's clock, plausibility, scope, rules."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from communitygrid.cases.models import Case, CaseEvent, Channel
from communitygrid.patrols import selectors, services
from communitygrid.patrols.models import Visit, VisitIssue, VisitPerson
from communitygrid.patrols.tests.conftest import PNG
from communitygrid.registry.models import CareTag, PersonCareTag

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 in Shanghai


def _home_visit(p, *, minutes: int = 20, at=T0, people=None, outcome=Visit.Outcome.ALL_WELL) -> Visit:
    with time_machine.travel(at, tick=False):
        visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    with time_machine.travel(at + dt.timedelta(minutes=minutes), tick=False):
        return services.visit_end(actor=p.worker, visit=visit, outcome=outcome,
                                  people=[p.elder.pk] if people is None else people)


def test_start_and_end_times_are_the_servers_clock(grid_people):
    p = grid_people
    visit = _home_visit(p, minutes=25)
    assert visit.started_at == T0 and visit.ended_at == T0 + dt.timedelta(minutes=25)
    assert visit.grid == p.grid and visit.flag == "" and visit.minutes == 25
    assert list(visit.people_seen.all()) == [p.elder]


def test_a_patrol_of_the_workers_only_grid_needs_no_grid_named(grid_people):
    visit = services.visit_start(actor=grid_people.worker, kind=Visit.Kind.PATROL)
    assert visit.grid == grid_people.grid and visit.household is None and visit.is_open


def test_a_second_visit_cannot_start_while_one_is_open(grid_people):
    p = grid_people
    services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    with pytest.raises(ValidationError) as error:
        services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    assert "visit" in error.value.message_dict
    assert Visit.objects.filter(worker=p.worker).count() == 1
    # Another worker is not held up by it.
    services.visit_start(actor=p.worker2, kind=Visit.Kind.PATROL)


def test_the_database_refuses_two_open_visits_of_one_worker(grid_people):
    from django.db import IntegrityError, transaction

    p = grid_people
    Visit.objects.create(kind=Visit.Kind.PATROL, worker=p.worker, grid=p.grid, started_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(kind=Visit.Kind.PATROL, worker=p.worker, grid=p.grid, started_at=timezone.now())


def test_a_visit_shorter_than_the_minimum_is_flagged_and_does_not_count(grid_people):
    p = grid_people
    visit = _home_visit(p, minutes=3)
    assert visit.flag == Visit.Flag.TOO_SHORT
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        due = selectors.care_todo(user=p.worker)
    assert [row.person for row in due] == [p.elder]
    assert due[0].last_visit is None


def test_a_visit_left_open_for_hours_is_flagged(grid_people):
    visit = _home_visit(grid_people, minutes=5 * 60)
    assert visit.flag == Visit.Flag.TOO_LONG


@pytest.mark.parametrize("minutes,flag", [(4, "too_short"), (5, ""), (240, ""), (241, "too_long")])
def test_plausibility_limits(minutes, flag):
    assert Visit.flag_for(T0, T0 + dt.timedelta(minutes=minutes)) == flag


def test_only_the_worker_who_made_the_visit_ends_it(grid_people):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    with pytest.raises(PermissionDenied):
        services.visit_end(actor=p.worker2, visit=visit, outcome=Visit.Outcome.ALL_WELL)
    visit.refresh_from_db()
    assert visit.is_open


def test_ending_twice_is_refused_and_changes_nothing(grid_people):
    p = grid_people
    visit = _home_visit(p)
    with pytest.raises(ValidationError) as error:
        services.visit_end(actor=p.worker, visit=Visit.objects.get(pk=visit.pk), outcome=Visit.Outcome.FOLLOW_UP,
                           notes="again")
    assert "visit" in error.value.message_dict
    visit.refresh_from_db()
    assert visit.outcome == Visit.Outcome.ALL_WELL and visit.notes == ""
    assert VisitPerson.objects.filter(visit=visit).count() == 1


def test_bad_end_input_names_every_field_and_writes_nothing(grid_people):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    with pytest.raises(ValidationError) as error:
        services.visit_end(actor=p.worker, visit=visit, outcome="great", notes="x" * 2001, people=[p.far.pk])
    assert set(error.value.message_dict) == {"outcome", "notes", "people"}
    assert str(p.far.pk) in error.value.message_dict["people"][0]
    with pytest.raises(ValidationError) as error:
        services.visit_end(actor=p.worker, visit=visit, outcome=Visit.Outcome.ALL_WELL, people=["abc"])
    assert "abc" in error.value.message_dict["people"][0]
    with pytest.raises(ValidationError) as error:
        services.visit_end(actor=p.worker, visit=visit, outcome=Visit.Outcome.NOBODY_HOME, people=[p.elder.pk])
    assert "people" in error.value.message_dict
    visit.refresh_from_db()
    assert visit.is_open and not VisitPerson.objects.filter(visit=visit).exists()


def test_a_home_visit_outside_the_scope_is_refused(grid_people):
    p = grid_people
    with pytest.raises(ValidationError) as error:
        services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.far_household)
    assert "household" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL, grid_id=p.city.grids[7].pk)
    with pytest.raises(ValidationError):
        services.visit_start(actor=p.worker, kind="stroll")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("role", ["resident", "cockpit", "dept"])
def test_roles_that_do_not_work_a_grid_cannot_visit(grid_people, role):
    with pytest.raises(PermissionDenied):
        services.visit_start(actor=getattr(grid_people, role), kind=Visit.Kind.PATROL)


def test_an_issue_found_on_a_home_visit_becomes_a_discovery_case_linked_to_the_visit(grid_people):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    issue = services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight",
                                        description="楼道灯坏了", attachments=[photo], idempotency_key="k1")
    case = issue.case
    assert case.channel == Channel.DISCOVERY and case.submitted_by == p.worker
    assert case.room_id == p.household.room_id and case.grid == p.grid
    assert case.attachments.count() == 1
    again = services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight",
                                        description="楼道灯坏了", idempotency_key="k1")
    assert again.pk == issue.pk and Case.objects.count() == 1 and VisitIssue.objects.count() == 1


def test_a_patrol_issue_needs_a_building_of_the_patrolled_grid(grid_people):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    with pytest.raises(ValidationError) as error:
        services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight", description="x")
    assert "building" in error.value.message_dict
    far_building = p.far_household.room.unit.building_id
    with pytest.raises(ValidationError) as error:
        services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight", description="x",
                                    building_id=far_building)
    assert "building" in error.value.message_dict
    building = p.household.room.unit.building_id
    with pytest.raises(ValidationError) as error:
        services.visit_report_issue(actor=p.worker, visit=visit, category_code="no-such", description="x",
                                    building_id=building)
    assert "category" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight", description=" ",
                                    building_id=building)
    assert "description" in error.value.message_dict
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    issue = services.visit_report_issue(actor=p.worker, visit=visit, category_code="repair_streetlight",
                                        description="井盖缺失", building_id=building)
    assert issue.case.building_id == building and issue.visit == visit


def test_another_worker_cannot_record_an_issue_on_my_visit(grid_people):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    with pytest.raises(PermissionDenied):
        services.visit_report_issue(actor=p.worker2, visit=visit, category_code="repair_streetlight", description="x")
    assert not Case.objects.exists()


def test_care_todo_follows_the_group_rule_and_the_last_counting_visit(grid_people):
    p = grid_people
    with time_machine.travel(T0, tick=False):
        due = selectors.care_todo(user=p.worker)
    # Never visited, in the group since 5 January: weekly, so overdue since 12 January.
    assert [row.person for row in due] == [p.elder]
    assert due[0].every_days == 7 and due[0].due == dt.date(2026, 1, 12) and due[0].overdue
    _home_visit(p)
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        assert selectors.care_todo(user=p.worker) == []
    with time_machine.travel(T0 + dt.timedelta(days=5), tick=False):
        soon = selectors.care_todo(user=p.worker)
    assert soon[0].due == dt.date(2026, 3, 9) and not soon[0].overdue
    with time_machine.travel(T0 + dt.timedelta(days=9), tick=False):
        assert selectors.care_todo(user=p.worker)[0].days_overdue == 2


def test_a_visit_where_the_person_was_not_seen_does_not_count(grid_people):
    p = grid_people
    _home_visit(p, people=[], outcome=Visit.Outcome.NOBODY_HOME)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        assert [row.person for row in selectors.care_todo(user=p.worker)] == [p.elder]


def test_the_rule_is_the_groups_and_the_shortest_interval_wins(grid_people):
    p = grid_people
    _home_visit(p)
    PersonCareTag.objects.create(person=p.elder, tag=CareTag.objects.get(code="advanced_age"))
    CareTag.objects.filter(code="elderly_alone").update(visit_every_days=None)
    with time_machine.travel(T0 + dt.timedelta(days=20), tick=False):
        assert selectors.care_todo(user=p.worker) == []  # monthly now
    CareTag.objects.filter(code="advanced_age").update(visit_every_days=3)
    with time_machine.travel(T0 + dt.timedelta(days=4), tick=False):
        assert selectors.care_todo(user=p.worker)[0].days_overdue == 1


def test_overdue_residents_come_first(grid_people):
    p = grid_people
    other = p.neighbour
    PersonCareTag.objects.create(person=other, tag=CareTag.objects.get(code="elderly_alone"),
                                 since=dt.date(2026, 2, 1))
    with time_machine.travel(T0, tick=False):
        due = selectors.care_todo(user=p.worker)
    assert [row.person for row in due] == [p.elder, other]


def test_the_todo_and_visits_stay_inside_the_scope(grid_people):
    p = grid_people
    _home_visit(p)
    assert p.far not in [row.person for row in selectors.care_todo(user=p.worker)]
    assert [row.person for row in selectors.care_todo(user=p.outsider, today=dt.date(2026, 3, 2))] == [p.far]
    visit = Visit.objects.get()
    assert selectors.visit_get(user=p.outsider, pk=visit.pk) is None
    assert selectors.visit_get(user=p.worker2, pk=visit.pk) == visit  # a colleague of the same grid
    assert selectors.visit_get(user=p.community, pk=visit.pk) == visit
    for user in (p.resident, p.cockpit, p.dept):
        assert selectors.visit_get(user=user, pk=visit.pk) is None
        assert selectors.care_todo(user=user) == []
