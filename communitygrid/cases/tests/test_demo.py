import datetime as dt
from collections import Counter

from communitygrid.cases.demo import demo_history_build, demo_trickle_once
from communitygrid.cases.models import Case, CaseEvent, Status


def test_a_year_of_history_has_the_weekly_rhythm_and_the_needs_ranking(people):
    written = demo_history_build(per_year=1500, seed=3, today=dt.date(2026, 11, 1))
    assert 1300 < written < 1700 and Case.objects.count() == written
    weekdays = Counter(case.created_at.astimezone(dt.timezone(dt.timedelta(hours=8))).weekday()
                       for case in Case.objects.only("created_at"))
    assert weekdays[0] > 1.5 * weekdays[6]
    groups = Counter(Case.objects.values_list("category__parent__code", flat=True))
    assert groups["elderly"] > groups["disputes"] > groups["assistance"]
    # Every case's log ends in its status, and closed cases carry their verdict.
    for case in Case.objects.all()[:300]:
        assert list(CaseEvent.objects.filter(case=case).order_by("at", "id"))[-1].to_status == case.status
    assert Case.objects.filter(status=Status.CLOSED, verdict="").count() == 0
    assert Case.objects.filter(verdict="default").exists()


def test_the_live_trickle_submits_through_the_normal_intake(people):
    total = sum(demo_trickle_once(seed=seed) for seed in range(6))
    assert total > 0 and Case.objects.count() == total
    assert CaseEvent.objects.filter(action="submit").count() == total


def test_the_history_sends_the_categories_a_department_handles_to_that_department(people):
    from communitygrid.accounts.models import Role
    from communitygrid.cases.models import Handler

    # Today, so that some of the history is still being handled.
    written = demo_history_build(per_year=3000, seed=5)
    assert written > 0
    civil = Case.objects.filter(category__handler=Handler.DEPARTMENT, category__department_kind="civil_affairs")
    assert civil.count() > 50
    # Routing's rule: the civil affairs department's; other kinds have no department in this city,
    # so their cases stay with the grid's workers, like every grid-handled category.
    assert not civil.exclude(department=people.department).exists()
    assert not Case.objects.exclude(pk__in=civil).exclude(department=None).exists()
    assert not Case.objects.filter(department=None).exclude(assignee__role=Role.GRID_WORKER).exists()
    handled = civil.exclude(status__in=[Status.ASSIGNED])
    assert handled.filter(status=Status.CLOSED).exists()
    assert not handled.exclude(assignee=people.dept_staff).exists()
    assert not CaseEvent.objects.filter(case__in=civil, action__in=["accept", "resolve"]).exclude(
        actor=people.dept_staff, actor_role=Role.DEPARTMENT_STAFF).exists()
    # Not yet accepted: in the department's queue, for any of its staff to take.
    assert not civil.filter(status=Status.ASSIGNED).exclude(assignee=None).exists()


def test_every_case_of_the_demo_reads_as_what_its_category_says(people):
    from communitygrid.cases.demo import LEAF_DESCRIPTIONS
    from communitygrid.cases.models import Category

    leaves = set(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    assert leaves <= set(LEAF_DESCRIPTIONS)
    demo_history_build(per_year=600, seed=7, today=dt.date(2026, 11, 1))
    demo_trickle_once(seed=1)
    for code, description in Case.objects.values_list("category__code", "description"):
        assert description in LEAF_DESCRIPTIONS[code], (code, description)
