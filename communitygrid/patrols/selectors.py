"""Every read of visits and of the care to-do list, scoped to the acting user.

A worker sees the visits in their grids (their own and their colleagues'), staff above the grid
those of their areas; residents, leaders and department staff none. Out of scope reads as "not
found". The to-do list reads people only through the registry's scoped selector.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.accounts.scopes import NOTHING, may, node_path_q
from communitygrid.geo.models import Level, Node
from communitygrid.patrols.models import Visit, VisitPerson
from communitygrid.registry.models import Person, PersonCareTag
from communitygrid.registry.selectors import building_queryset, person_queryset


def visit_scope_q(user) -> Q:
    if not may(user, "view") or (user.role == Role.RESIDENT and not user.is_superuser):
        return NOTHING
    return node_path_q(user, prefix="grid__")


def visit_queryset(*, user) -> QuerySet[Visit]:
    return Visit.objects.filter(visit_scope_q(user))


def visit_get(*, user, pk: int) -> Visit | None:
    return (visit_queryset(user=user).select_related("worker", "grid", "household__room__unit__building")
            .filter(pk=pk).first())


def visit_list(*, user, limit: int = 30) -> list[Visit]:
    return list(visit_queryset(user=user).select_related("worker", "grid", "household")
                .prefetch_related("issues").order_by("-started_at", "-id")[:limit])


def open_visit(*, user) -> Visit | None:
    """The acting worker's visit under way, if any (there is at most one)."""
    return visit_queryset(user=user).filter(worker=user, ended_at__isnull=True).select_related("household", "grid").first()


def visit_people(*, user, visit: Visit) -> QuerySet[Person]:
    """The people recorded as seen, as far as ``user`` may see them."""
    return person_queryset(user=user).filter(pk__in=visit.seen.values("person_id")).order_by("id")


def visit_candidates(*, user, visit: Visit) -> QuerySet[Person]:
    """Whom the worker may tick as seen: the household's members, or on a patrol the grid's people
    in a special-care group (the ones a patrol looks in on)."""
    people = person_queryset(user=user).filter(is_active=True)
    if visit.household_id:
        return people.filter(household_id=visit.household_id).order_by("id")
    return (people.filter(grid=visit.grid, tag_links__tag__visit_every_days__isnull=False)
            .distinct().order_by("household_id", "id"))


def visit_buildings(*, user, visit: Visit):
    """Buildings an issue found on a patrol may be placed at: those of the visit's grid in scope."""
    return building_queryset(user=user).filter(grid=visit.grid).order_by("code")


def worker_grids(*, user) -> QuerySet[Node]:
    """Grids the user may patrol: the grid-level nodes in their scope."""
    if not may(user, "change") or (user.role == Role.RESIDENT and not user.is_superuser):
        return Node.objects.none()
    return Node.objects.filter(node_path_q(user), level=Level.GRID).order_by("code")


@dataclass
class Due:
    person: Person
    groups: list[str]
    every_days: int
    last_visit: dt.datetime | None
    due: dt.date
    days_overdue: int
    household_id: int | None = None

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def care_todo(*, user, today: dt.date | None = None, limit: int | None = None) -> list[Due]:
    """Special-care residents in scope whose next home visit is due, overdue ones first.

    A resident's interval is the shortest among their groups' rules; the clock starts at the
    last counting visit (a home visit, ended, not flagged, the person ticked as seen) or, for
    someone never visited, on the day they joined the group (today if unknown).
    """
    today = today or timezone.localdate()
    counting = VisitPerson.objects.filter(person=OuterRef("pk"), visit__kind=Visit.Kind.HOME,
                                          visit__ended_at__isnull=False, visit__flag="")
    people = (person_queryset(user=user).filter(is_active=True, tag_links__tag__visit_every_days__isnull=False)
              .distinct()
              .annotate(last_visit=Subquery(counting.values("person").annotate(m=Max("visit__started_at")).values("m")))
              .only("id", "name", "household_id", "grid_id"))
    people = {p.pk: p for p in people}
    links = (PersonCareTag.objects.filter(person_id__in=list(people), tag__visit_every_days__isnull=False)
             .select_related("tag"))
    rules: dict[int, list[PersonCareTag]] = {}
    for link in links:
        rules.setdefault(link.person_id, []).append(link)
    rows = []
    for pk, person in people.items():
        own = rules.get(pk)
        if not own:
            continue
        every = min(link.tag.visit_every_days for link in own)
        if person.last_visit is not None:
            due = timezone.localtime(person.last_visit).date() + dt.timedelta(days=every)
        else:
            joined = [link.since for link in own if link.since]
            due = min(joined) + dt.timedelta(days=every) if joined else today
            due = min(due, today)
        if due > today + dt.timedelta(days=2):
            continue  # not due yet, and not within the coming two days
        rows.append(Due(person=person, groups=sorted(str(link.tag) for link in own), every_days=every,
                        last_visit=person.last_visit, due=due, days_overdue=(today - due).days,
                        household_id=person.household_id))
    rows.sort(key=lambda row: (row.due, row.person.pk))
    return rows[:limit] if limit else rows
