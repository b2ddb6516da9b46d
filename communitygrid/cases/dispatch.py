"""Who handles a case: routing by category, location and workload; who stands at each level.

Reads only; ``services.case_submit`` and the re-dispatch services record the returned reason
in the case's event log.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from communitygrid.accounts.models import Department, Role, User
from communitygrid.cases.models import OPEN_STATES, Category, EscalationLevel, Handler
from communitygrid.geo.models import Level, Node

DEFAULT_WORKLOAD_CAP = 30

# The staff who answer for a case once it is escalated to each level.
LEVEL_ROLES = {
    EscalationLevel.GRID: (Level.GRID, Role.GRID_LEADER),
    EscalationLevel.COMMUNITY: (Level.COMMUNITY, Role.COMMUNITY_STAFF),
    EscalationLevel.STREET: (Level.STREET, Role.STREET_STAFF),
    EscalationLevel.DISTRICT: (Level.DISTRICT, Role.DISTRICT_STAFF),
}


def workload_cap() -> int:
    """Open cases one person may hold before routing passes them over (``CASE_WORKLOAD_CAP``)."""
    return int(getattr(settings, "CASE_WORKLOAD_CAP", DEFAULT_WORKLOAD_CAP))


@dataclass(frozen=True)
class Route:
    assignee: User | None
    department: Department | None
    reason: str

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


def route(*, category: Category, grid: Node, exclude: tuple[int, ...] = ()) -> Route:
    cap = workload_cap()
    if category.handler == Handler.DEPARTMENT:
        department = category.department or (
            department_for(kind=category.department_kind, grid=grid) if category.department_kind else None
        )
        if department is not None:
            staff = User.objects.filter(role=Role.DEPARTMENT_STAFF, department=department, is_active=True)
            person, count = least_loaded(staff.exclude(pk__in=exclude), cap=cap)
            if person is not None:
                reason = _("Category %(category)s is handled by %(department)s; %(person)s has the fewest open cases "
                           "(%(load)d, cap %(cap)d).") % {"category": category.label, "department": department.name,
                                                          "person": person, "load": person.open_cases, "cap": cap}
            else:
                reason = _("Category %(category)s is handled by %(department)s; routed to the department's queue "
                           "(%(count)d staff, none under the cap of %(cap)d).") % {
                    "category": category.label, "department": department.name, "count": count, "cap": cap}
            return Route(person, department, reason)
        fallback = _("No active department of the category's kind covers grid %(grid)s; ") % {"grid": grid.name}
    else:
        fallback = ""
    workers = User.objects.filter(role=Role.GRID_WORKER, is_active=True, scope_nodes=grid).exclude(pk__in=exclude)
    person, count = least_loaded(workers, cap=cap)
    if person is not None:
        return Route(person, None, fallback + _(
            "%(person)s has the fewest open cases among the %(count)d grid workers of grid %(grid)s "
            "(%(load)d, cap %(cap)d).") % {"person": person, "count": count, "grid": grid.name,
                                           "load": person.open_cases, "cap": cap})
    if count:
        reason = _("All %(count)d grid workers of grid %(grid)s hold %(cap)d open cases or more; "
                   "left for the community to dispatch.") % {"count": count, "grid": grid.name, "cap": cap}
    else:
        reason = _("Grid %(grid)s has no grid worker; left for the community to dispatch.") % {"grid": grid.name}
    return Route(None, None, fallback + reason)


def level_node(grid: Node, level: int) -> Node | None:
    node_level = LEVEL_ROLES[level][0]
    return next((node for node in grid.ancestors() if node.level == node_level), None)


def level_staff(grid: Node, level: int) -> list[User]:
    """The staff who answer for ``grid`` at escalation ``level`` (scoped to that level's node)."""
    node = level_node(grid, level)
    if node is None:
        return []
    role = LEVEL_ROLES[level][1]
    return list(User.objects.filter(role=role, is_active=True, scope_nodes=node).order_by("id"))
