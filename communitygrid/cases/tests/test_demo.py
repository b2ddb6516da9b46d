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
