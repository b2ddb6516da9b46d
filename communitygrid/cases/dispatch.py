"""Who handles a case: routing by category, location, history and workload; who stands at each level.

Reads only; ``services.case_submit`` and the re-dispatch services record the returned reason
in the case's event log.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from communitygrid.accounts.models import Department, Role, User
from communitygrid.cases.models import OPEN_STATES, Case, Category, EscalationLevel, Handler
from communitygrid.cases.wording import Note
from communitygrid.core.sql import codes_sql
from communitygrid.geo.models import Level, Node

DEFAULT_WORKLOAD_CAP = 30
# Who knows the place: cases of the same category this close, this recent.
HISTORY_RADIUS_M = 500
HISTORY_WINDOW = dt.timedelta(days=90)
# Knowing the place is worth this many more open cases than the lightest load, no more:
# otherwise the worker who took the first cases of a street would take all of them.
FAMILIARITY_SLACK = 3

# The staff who answer for a case once it is escalated to each level.
LEVEL_ROLES = {
    EscalationLevel.GRID: (Level.GRID, Role.GRID_LEADER),
    EscalationLevel.COMMUNITY: (Level.COMMUNITY, Role.COMMUNITY_STAFF),
    EscalationLevel.STREET: (Level.STREET, Role.STREET_STAFF),
    EscalationLevel.DISTRICT: (Level.DISTRICT, Role.DISTRICT_STAFF),
}


# Fixed codes, so they can stand in the SQL text (``codes_sql`` refuses anything else, at import).
OPEN_STATES_SQL = codes_sql(OPEN_STATES)


def workload_cap() -> int:
    """Open cases one person may hold before routing passes them over (``CASE_WORKLOAD_CAP``)."""
    return int(getattr(settings, "CASE_WORKLOAD_CAP", DEFAULT_WORKLOAD_CAP))


@dataclass(frozen=True)
class Route:
    assignee: User | None
    department: Department | None
    why: Note  # the reason, worded when read (cases.wording); ``reason`` is its text now

    @property
    def reason(self) -> str:
        return self.why.text

    @property
    def found(self) -> bool:
        return self.assignee is not None or self.department is not None


def _with_load(users):
    return users.annotate(
        open_cases=Count("assigned_cases", filter=Q(assigned_cases__status__in=OPEN_STATES))
    ).order_by("open_cases", "id")


def department_for(*, kind: str, grid: Node) -> Department | None:
    """The active department of ``kind`` whose jurisdiction covers the grid most closely."""
    candidates = [
        dept for dept in Department.objects.filter(kind=kind, is_active=True).select_related("jurisdiction")
        if dept.jurisdiction is None or grid.path.startswith(dept.jurisdiction.path)
    ]
    return max(candidates, key=lambda d: len(d.jurisdiction.path) if d.jurisdiction else 0, default=None)


def least_loaded(users, *, cap: int) -> tuple[User | None, int]:
    """The least-loaded user under ``cap`` and how many candidates there were."""
    ranked = list(_with_load(users))
    for user in ranked:
        if user.open_cases < cap:
            return user, len(ranked)
    return None, len(ranked)


def _box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = radius_m / 111_320
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat


def candidates(*, role: str, grid: Node | None = None, department: Department | None = None, category: Category,
               lon: float | None, lat: float | None, now: dt.datetime, exclude: tuple[int, ...] = (),
               count_to: int | None = None) -> list[User]:
    """The active grid workers of ``grid`` (or staff of ``department``), least loaded first, in ONE query.

    Each carries ``open_cases`` (its workload) and ``nearby_cases``: cases of ``category`` it was
    given within ``HISTORY_RADIUS_M`` of the point in the last ``HISTORY_WINDOW`` (who knows the
    place and the problem).

    ``count_to``: open cases are counted up to this many and no further (routing only needs to
    know who is under the cap), so someone holding hundreds of stale cases costs no more to rank
    than someone at the cap.
    """
    table, users = Case._meta.db_table, User._meta.db_table
    params: list = []
    if lon is not None and lat is not None:
        west, east, south, north = _box(lon, lat, HISTORY_RADIUS_M)
        nearby = (f"(SELECT COUNT(*) FROM {table} h WHERE h.assignee_id = u.id AND h.category_id = %s"
                  f" AND h.created_at >= %s AND h.lon BETWEEN %s AND %s AND h.lat BETWEEN %s AND %s)")
        params += [category.pk, connection.ops.adapt_datetimefield_value(now - HISTORY_WINDOW), west, east, south, north]
    else:
        nearby = "0"
    params.append(role)
    if department is not None:
        where = "u.department_id = %s"
        params.append(department.pk)
    else:
        scope = User.scope_nodes.through._meta.db_table
        where = f"u.id IN (SELECT s.user_id FROM {scope} s WHERE s.node_id = %s)"
        params.append(grid.pk)
    if exclude:
        where += f" AND u.id NOT IN ({', '.join(['%s'] * len(exclude))})"
        params += list(exclude)
    # The open states as literals, not parameters: a prepared statement's generic plan can then
    # prove the partial index case_open_by_assignee applies (with parameters it cannot, and
    # falls back to reading the whole table).
    open_cases = f"SELECT 1 FROM {table} c WHERE c.assignee_id = u.id AND c.status IN ({OPEN_STATES_SQL})"
    if count_to is not None:
        open_cases += f" LIMIT {int(count_to)}"
    sql = (f"SELECT u.*, (SELECT COUNT(*) FROM ({open_cases}) o) AS open_cases, {nearby} AS nearby_cases "
           f"FROM {users} u WHERE u.is_active AND u.role = %s AND {where} ORDER BY open_cases, u.id")
    return list(User.objects.raw(sql, params))


def _choose(ranked: list[User], *, cap: int, category: Category) -> tuple[User | None, Note | None]:
    """The least-loaded candidate under the cap, unless one who knows the place is nearly as free
    (then also the note saying so)."""
    under = [user for user in ranked if user.open_cases < cap]
    if not under:
        return None, None
    lightest = under[0]
    familiar = max(under, key=lambda user: (user.nearby_cases, -user.open_cases, -user.pk))
    if familiar.nearby_cases and familiar.open_cases <= lightest.open_cases + FAMILIARITY_SLACK:
        return familiar, Note().add(
            "route_familiar", person=familiar, nearby=familiar.nearby_cases, category=category,
            radius=HISTORY_RADIUS_M, days=HISTORY_WINDOW.days, load=familiar.open_cases,
            lightest=lightest.open_cases, cap=cap)
    return lightest, None


def route(*, category: Category, grid: Node, exclude: tuple[int, ...] = (), lon: float | None = None,
          lat: float | None = None, now: dt.datetime | None = None) -> Route:
    """Who gets a new case: by category (grid worker or department), location and workload.

    Among those under the workload cap, the one with the fewest open cases, unless someone who
    handled cases of the same category near the point recently holds at most
    ``FAMILIARITY_SLACK`` more. The reason says which rule chose.
    """
    cap = workload_cap()
    now = now or timezone.now()
    # Counting stops one past the cap: enough to tell who is under it.
    where = {"category": category, "lon": lon, "lat": lat, "now": now, "exclude": exclude, "count_to": cap + 1}
    why = Note()
    if category.handler == Handler.DEPARTMENT:
        department = category.department or (
            department_for(kind=category.department_kind, grid=grid) if category.department_kind else None
        )
        if department is not None:
            ranked = candidates(role=Role.DEPARTMENT_STAFF, department=department, **where)
            person, familiar = _choose(ranked, cap=cap, category=category)
            if person is None:
                why.add("route_department_queue", category=category, department=department, count=len(ranked), cap=cap)
            else:
                why.add("route_department", category=category, department=department)
                why.extend(familiar or Note().add("route_department_fewest", person=person,
                                                  load=person.open_cases, cap=cap))
            return Route(person, department, why)
        why.add("route_no_department", grid=grid)
    ranked = candidates(role=Role.GRID_WORKER, grid=grid, **where)
    person, familiar = _choose(ranked, cap=cap, category=category)
    count = len(ranked)
    if person is not None:
        why.extend(familiar or Note().add("route_grid_fewest", person=person, count=count, grid=grid,
                                          load=person.open_cases, cap=cap))
        return Route(person, None, why)
    if count:
        why.add("route_grid_all_at_cap", count=count, grid=grid, cap=cap)
    else:
        why.add("route_grid_no_worker", grid=grid)
    return Route(None, None, why)


def level_node(grid: Node, level: int) -> Node | None:
    node_level = LEVEL_ROLES[level][0]
    return next((node for node in grid.ancestors() if node.level == node_level), None)


def level_staff(grid: Node, level: int) -> list[User]:
    """The staff who answer for ``grid`` at escalation ``level`` (scoped to that level's node)."""
    node = level_node(grid, level)
    if node is None:
        return []
    role = LEVEL_ROLES[level][1]
    # An API key's service account holds a staff role for its area but is nobody to notify.
    return list(User.objects.filter(role=role, is_active=True, scope_nodes=node, api_key__isnull=True)
                .order_by("id"))
