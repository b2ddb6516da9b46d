"""Who may do what, where: the one place that turns a user into a queryset filter.

Every selector that reads people data calls :func:`area_q`; a view or API handler never
filters by hand. Actions: ``view`` (see masked records), ``change`` (edit records),
``reveal`` (unmask sensitive fields, with a purpose, audited).
"""
from __future__ import annotations

from django.db.models import Q

from communitygrid.accounts.models import AREA_STAFF_ROLES, Role

ACTIONS = ("view", "change", "reveal")

# Which roles may take which action on people records inside their area scope.
PEOPLE_ACTIONS_BY_ROLE: dict[str, set[str]] = {
    Role.GRID_WORKER: {"view", "change", "reveal"},
    Role.GRID_LEADER: {"view", "change", "reveal"},
    Role.COMMUNITY_STAFF: {"view", "change", "reveal"},
    Role.STREET_STAFF: {"view", "reveal"},
    Role.DISTRICT_STAFF: {"view", "reveal"},
    Role.ADMIN: {"view", "change", "reveal"},
    # A resident sees (and may reveal) only their own record and household.
    Role.RESIDENT: {"view", "reveal"},
    # Leaders read the cockpit's aggregate figures, never individual people.
    Role.LEADER: set(),
    # Department staff see people only through the cases routed to them (case issue).
    Role.DEPARTMENT_STAFF: set(),
}

NOTHING = Q(pk__in=[])


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")


def may(user, action: str) -> bool:
    """Whether the user's role allows ``action`` on people records at all."""
    _check_action(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return action in PEOPLE_ACTIONS_BY_ROLE.get(user.role, set())


def scope_paths(user) -> list[str]:
    """Materialised paths of the user's scope nodes (cached on the user object)."""
    cached = getattr(user, "_cg_scope_paths", None)
    if cached is None:
        cached = list(user.scope_nodes.values_list("path", flat=True))
        user._cg_scope_paths = cached
    return cached


def covers(user, node) -> bool:
    """Whether ``node`` lies in (or is) one of the user's scope nodes."""
    return any(node.path.startswith(path) for path in scope_paths(user))


def node_path_q(user, prefix: str = "") -> Q:
    """Filter on a hierarchy node reached through ``prefix`` (e.g. ``"grid__"``) to the user's areas."""
    if user.is_superuser or user.role == Role.ADMIN:
        return Q()
    if user.role not in AREA_STAFF_ROLES:
        return NOTHING
    q = NOTHING
    for path in scope_paths(user):
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def area_q(user, action: str, *, grid_field: str = "grid", own_q: Q | None = None) -> Q:
    """The filter a people-data queryset must carry for ``user`` to take ``action``.

    ``grid_field`` names the FK to the grid node on the model; ``own_q`` is how a resident's
    own records are found on that model (their person row, their household…).
    """
    if not may(user, action):
        return NOTHING
    if user.role == Role.RESIDENT and not user.is_superuser:
        return own_q if own_q is not None else NOTHING
    return node_path_q(user, prefix=f"{grid_field}__")


def figures_node_q(user, prefix: str = "") -> Q:
    """Nodes whose *aggregate* figures (counts, coverage, KPIs — never individual people) the
    user may see: area staff their areas, leaders the areas they oversee, admins everything."""
    if user.role == Role.LEADER and not user.is_superuser:
        q = NOTHING
        for path in scope_paths(user):
            q |= Q(**{f"{prefix}path__startswith": path})
        return q
    return node_path_q(user, prefix=prefix)
