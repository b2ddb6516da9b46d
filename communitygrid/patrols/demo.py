"""Demo history of patrols and home visits: the last eight weeks of every grid worker.

Each worker patrols their grid most working mornings and visits the special-care residents
of the grid about as often as the groups' rules ask, on working hours, 15–50 minutes a visit.
One resident in four has slipped behind (the demo worker's to-do list is not empty), and
a few visits were ended after a minute or two, flagged as the real records would be.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from communitygrid.accounts.models import Role, User
from communitygrid.patrols.models import Visit, VisitPerson
from communitygrid.registry.models import PersonCareTag

WEEKS = 8
BEHIND_EVERY = 4  # one resident in four has slipped behind
# Issues a worker finds on a visit (category, what they wrote); most are theirs to handle.
ISSUES = [
    ("safety_fire", "楼道堆放纸箱和旧家具，堵住了消防通道"),
    ("elderly_visit", "老人反映最近腿脚不便，希望每周多来看看"),
    ("env_sorting", "单元门口垃圾分类桶混投严重，需要上门宣传"),
    ("dispute_neighbour", "楼上装修噪声大，与楼下老人发生口角"),
    ("affairs_policy", "老人想了解高龄津贴怎么申请"),
    ("repair_leak", "卫生间水管渗水，楼下天花板有水渍"),
]
ISSUE_EVERY_NTH_WORKER = 3
OUTCOME_WEIGHTS = [(Visit.Outcome.ALL_WELL, 80), (Visit.Outcome.FOLLOW_UP, 12), (Visit.Outcome.NOBODY_HOME, 8)]


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))
    return local.astimezone(dt.timezone.utc)


@transaction.atomic
def demo_visits_build(*, today: dt.date | None = None, seed: int = 11) -> tuple[int, int]:
    """Write the visit history of every grid worker; returns how many visits and cases were written."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    start = today - dt.timedelta(weeks=WEEKS)
    workers = User.objects.filter(role=Role.GRID_WORKER).prefetch_related("scope_nodes").order_by("id")
    rules: dict[int, tuple[int, int | None, int]] = {}  # person → (interval, household, grid)
    for link in (PersonCareTag.objects.filter(tag__visit_every_days__isnull=False, person__is_active=True)
                 .values_list("person_id", "tag__visit_every_days", "person__household_id", "person__grid_id")):
        person, every, household, grid = link
        if person not in rules or every < rules[person][0]:
            rules[person] = (every, household, grid)
    by_grid: dict[int, list[tuple[int, int, int]]] = {}
    for person, (every, household, grid) in rules.items():
        if household is not None:
            by_grid.setdefault(grid, []).append((person, every, household))
    visits: list[Visit] = []
    seen: list[tuple[int, int]] = []  # (index in visits, person)
    for worker in workers:
        for grid in worker.scope_nodes.all():
            busy: dict[dt.date, int] = {}  # next free minute of the day (from 08:30)
            day = start
            while day < today:
                if day.weekday() < 5 and rng.random() < 0.8:
                    length = rng.randint(40, 100)
                    begin = _at(day, 8, 30)
                    visits.append(Visit(kind=Visit.Kind.PATROL, worker=worker, grid=grid, started_at=begin,
                                        ended_at=begin + dt.timedelta(minutes=length), outcome=Visit.Outcome.ALL_WELL))
                    busy[day] = 8 * 60 + 30 + length + 10
                day += dt.timedelta(days=1)
            for index, (person, every, household) in enumerate(sorted(by_grid.get(grid.pk, []))):
                behind = index % BEHIND_EVERY == 0
                last = start + dt.timedelta(days=rng.randrange(every))
                while last < today:
                    day = last
                    while day.weekday() >= 5:
                        day += dt.timedelta(days=1)
                    if day >= today or (behind and day > today - dt.timedelta(days=every * 2)):
                        break
                    minute = max(busy.get(day, 9 * 60), 9 * 60)
                    if minute > 16 * 60:  # the day is full: the next working day
                        last = day + dt.timedelta(days=1)
                        continue
                    short = rng.random() < 0.03
                    length = rng.randint(1, 3) if short else rng.randint(15, 50)
                    begin = _at(day, minute // 60, minute % 60)
                    end = begin + dt.timedelta(minutes=length)
                    outcome = rng.choices([o for o, _w in OUTCOME_WEIGHTS], [w for _o, w in OUTCOME_WEIGHTS])[0]
                    visits.append(Visit(kind=Visit.Kind.HOME, worker=worker, grid=grid, household_id=household,
                                        started_at=begin, ended_at=end, outcome=outcome,
                                        flag=Visit.flag_for(begin, end)))
                    if outcome != Visit.Outcome.NOBODY_HOME:
                        seen.append((len(visits) - 1, person))
                    busy[day] = minute + length + rng.randint(10, 25)
                    last = day + dt.timedelta(days=every + rng.randint(-1, 1))
    Visit.objects.bulk_create(visits, batch_size=2000)
    VisitPerson.objects.bulk_create([VisitPerson(visit_id=visits[i].pk, person_id=p) for i, p in seen],
                                    batch_size=5000)
    return len(visits), _recent_issues(workers, rng)


def _recent_issues(workers, rng: random.Random) -> int:
    """The latest home visits of the demo worker and of every third colleague turned up issues,
    recorded as cases the way the visit page does it (so they are open in those inboxes now); the
    demo worker has taken some of them on already. Returns how many cases were written."""
    from communitygrid.cases.services import case_accept
    from communitygrid.patrols.services import visit_report_issue

    written = 0
    for n, worker in enumerate(workers):
        if n % ISSUE_EVERY_NTH_WORKER:
            continue
        latest = list(Visit.objects.filter(worker=worker, kind=Visit.Kind.HOME, flag="").order_by("-started_at")[:4])
        latest = latest[: 4 if n == 0 else 1]
        for visit, (category, text) in zip(latest, rng.sample(ISSUES, len(latest))):
            issue = visit_report_issue(actor=worker, visit=visit, category_code=category, description=text,
                                       idempotency_key=f"demo-visit-{visit.pk}")
            if n == 0 and issue.case.assignee_id == worker.pk and issue.case.status == "assigned" and rng.random() < 0.5:
                case_accept(case=issue.case, actor=worker, note="已联系居民，明天上门")
            written += 1
    return written
