"""The figures of the home pages: counts and shares only, always within the reader's scope.

People data is read through the registry's scoped querysets (``accounts.scopes.area_q``
inside); a leader, who may see no individual at all, gets aggregates over the areas of their
scope nodes (``accounts.scopes.scope_paths``) and never a row about a person.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from communitygrid.accounts import scopes
from communitygrid.accounts.models import Department, Role, User
from communitygrid.geo.models import SPECIALISED_KINDS, GridKind, Level, Node
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import CareTag, Household, Person, PersonCareTag
from communitygrid.registry.selectors import household_queryset, person_queryset

STALE_AFTER = dt.timedelta(days=365)


@dataclass
class AreaRow:
    """One area (a grid, community, street…) and its figures."""

    node: Node
    households: int = 0
    persons: int = 0
    workers: int = 0
    grids: int = 0
    grids_under: int = 0  # comprehensive grids below the household norm
    grids_over: int = 0

    @property
    def households_per_worker(self) -> int | None:
        return round(self.households / self.workers) if self.workers else None

    @property
    def worker_overloaded(self) -> bool:
        per_worker = self.households_per_worker
        return per_worker is not None and per_worker >= settings.WORKER_HOUSEHOLDS_OVERLOAD

    @property
    def under_norm(self) -> bool:
        return self.node.kind == GridKind.COMPREHENSIVE and self.households < settings.GRID_HOUSEHOLDS_MIN

    @property
    def over_norm(self) -> bool:
        return self.node.kind == GridKind.COMPREHENSIVE and self.households > settings.GRID_HOUSEHOLDS_MAX


@dataclass
class AreaOverview:
    scope: list[Node]
    rows: list[AreaRow]
    total: AreaRow
    aged_60: int = 0
    aged_65: int = 0
    stale_households: int = 0
    stale_persons: int = 0
    care: list[tuple[CareTag, int]] = field(default_factory=list)

    @property
    def scope_parent(self) -> Node | None:
        """The common parent of many scope nodes (a grid leader's grids), to name them in one word."""
        parents = {node.parent_id for node in self.scope}
        if len(self.scope) > 2 and len(parents) == 1:
            return self.scope[0].parent
        return None

    @property
    def percent_60(self) -> float | None:
        return 100 * self.aged_60 / self.total.persons if self.total.persons else None

    @property
    def percent_65(self) -> float | None:
        return 100 * self.aged_65 / self.total.persons if self.total.persons else None


@dataclass
class ResidentSummary:
    person: Person
    household: Household | None
    household_size: int
    grid: Node
    grid_workers: list[str]
    care: list[PersonCareTag]

    @property
    def stale(self) -> bool:
        verified = self.person.last_verified_at
        return verified is None or verified < timezone.now() - STALE_AFTER


@dataclass
class SystemOverview:
    nodes_by_level: list[tuple[str, int]]
    users_by_role: list[tuple[str, int]]
    households: int
    persons: int
    departments: int
    access_log_entries: int


def _birthday_cutoff(today: dt.date, years: int) -> dt.date:
    """Born on or before this day means aged ``years`` or more today."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _area_q(user, prefix: str = "") -> Q:
    """The nodes whose aggregate figures the user may see (a leader's too; never people)."""
    return scopes.figures_node_q(user, prefix=prefix)


def _people(user) -> tuple[QuerySet, QuerySet]:
    """Active households and persons the user's figures count."""
    if user.role == Role.LEADER and not user.is_superuser:
        households = Household.objects.filter(_area_q(user, "grid__"))
        persons = Person.objects.filter(_area_q(user, "grid__"))
    else:
        households = household_queryset(user=user, action="view")
        persons = person_queryset(user=user, action="view")
    return households.filter(is_active=True), persons.filter(is_active=True)


def _row_nodes(user, scope: list[Node]) -> list[Node]:
    """The areas a page lists: the children of each scope node, or the node itself at grid level."""
    rows: list[Node] = []
    for node in scope:
        if node.level in {Level.GRID, Level.MICROGRID}:
            rows.append(node)
            continue
        children = (Node.objects.active().filter(parent=node).exclude(kind__in=SPECIALISED_KINDS)
                    .order_by("code"))
        rows.extend(children or [node])
    return rows


def area_overview(*, user, today: dt.date | None = None) -> AreaOverview:
    """Households, persons, workers and the 300–500 norm per child area of the user's scope."""
    today = today or timezone.localdate()
    scope = list(Node.objects.filter(pk__in=user.scope_nodes.values("pk")).active().select_related("parent")
                 .order_by("code"))
    rows = [AreaRow(node=node) for node in _row_nodes(user, scope)]
    households, persons = _people(user)

    area_nodes = {node.pk: node for node in Node.objects.filter(_area_q(user)).active()}
    per_grid_households = Counter(dict(households.values_list("grid_id").annotate(n=Count("id"))))
    per_grid_persons = Counter(dict(persons.values_list("grid_id").annotate(n=Count("id"))))
    comprehensive = [node for node in area_nodes.values() if node.kind == GridKind.COMPREHENSIVE]
    workers_by_path: dict[str, set[int]] = defaultdict(set)
    worker_links = (User.objects.filter(role=Role.GRID_WORKER, is_active=True)
                    .filter(_area_q(user, "scope_nodes__")).values_list("pk", "scope_nodes__path"))
    for pk, path in worker_links:
        workers_by_path[path].add(pk)

    def inside(node: Node, path: str) -> bool:
        return path.startswith(node.path)

    for row in rows:
        row.households = sum(n for pk, n in per_grid_households.items() if pk in area_nodes and inside(row.node, area_nodes[pk].path))
        row.persons = sum(n for pk, n in per_grid_persons.items() if pk in area_nodes and inside(row.node, area_nodes[pk].path))
        row.workers = len(set().union(*[ids for path, ids in workers_by_path.items() if inside(row.node, path)]))
        grids = [grid for grid in comprehensive if inside(row.node, grid.path)]
        row.grids = len(grids)
        row.grids_under = sum(per_grid_households[g.pk] < settings.GRID_HOUSEHOLDS_MIN for g in grids)
        row.grids_over = sum(per_grid_households[g.pk] > settings.GRID_HOUSEHOLDS_MAX for g in grids)

    total = AreaRow(node=scope[0] if len(scope) == 1 else None)
    total.households = sum(per_grid_households.values())
    total.persons = sum(per_grid_persons.values())
    total.workers = len(set().union(*workers_by_path.values())) if workers_by_path else 0
    total.grids = len(comprehensive)
    total.grids_under = sum(per_grid_households[g.pk] < settings.GRID_HOUSEHOLDS_MIN for g in comprehensive)
    total.grids_over = sum(per_grid_households[g.pk] > settings.GRID_HOUSEHOLDS_MAX for g in comprehensive)

    stale_before = timezone.now() - STALE_AFTER
    stale = Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=stale_before)
    ages = persons.aggregate(
        aged_60=Count("pk", filter=Q(birth_date__lte=_birthday_cutoff(today, 60))),
        aged_65=Count("pk", filter=Q(birth_date__lte=_birthday_cutoff(today, 65))),
        stale=Count("pk", filter=stale),
    )
    care_counts = dict(PersonCareTag.objects.filter(person__in=persons.values("pk"))
                       .values_list("tag_id").annotate(n=Count("person_id", distinct=True)))
    care = [(tag, care_counts[tag.pk]) for tag in CareTag.objects.filter(pk__in=care_counts).order_by("sort", "code")]
    return AreaOverview(
        scope=scope, rows=rows, total=total, aged_60=ages["aged_60"], aged_65=ages["aged_65"],
        stale_households=households.filter(stale).count(), stale_persons=ages["stale"], care=care,
    )


def resident_summary(*, user) -> ResidentSummary | None:
    """The resident's own record and household; None until their account is matched to a record."""
    person = (person_queryset(user=user, action="view").select_related("grid", "household")
              .filter(pk=user.person_id).first()) if user.person_id else None
    if person is None:
        return None
    household = household_queryset(user=user, action="view").filter(pk=person.household_id).first()
    size = household.members.filter(is_active=True).count() if household else 0
    workers = (User.objects.filter(role=Role.GRID_WORKER, is_active=True, scope_nodes=person.grid_id)
               .order_by("pk").values_list("display_name", "username"))
    return ResidentSummary(
        person=person, household=household, household_size=size, grid=person.grid,
        grid_workers=[name or username for name, username in workers],
        care=list(person.tag_links.select_related("tag").order_by("tag__sort")),
    )


def department_summary(*, user) -> Department | None:
    if user.department_id is None:
        return None
    return Department.objects.select_related("jurisdiction").filter(pk=user.department_id).first()


def system_overview(*, user) -> SystemOverview | None:
    """Counts of everything, for the system administrator only."""
    if not user.is_system_admin:
        return None
    levels = dict(Level.choices)
    roles = dict(Role.choices)
    by_level = dict(Node.objects.active().values_list("level").annotate(n=Count("pk")))
    by_role = dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")))
    return SystemOverview(
        nodes_by_level=[(levels[level], by_level.get(level, 0)) for level in Level.values],
        users_by_role=[(roles[role], by_role.get(role, 0)) for role in Role.values],
        households=Household.objects.filter(is_active=True).count(),
        persons=Person.objects.filter(is_active=True).count(),
        departments=Department.objects.filter(is_active=True).count(),
        access_log_entries=AccessLog.objects.count(),
    )
