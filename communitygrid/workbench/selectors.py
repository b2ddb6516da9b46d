"""The worker's inbox: their open cases in the order they must be handled; and the list of
every case a handler may look back on, filtered.

Read through ``cases.selectors.case_list`` (scoped); this module only narrows, orders and annotates.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from communitygrid.accounts.models import Role, User
from communitygrid.accounts.scopes import NOTHING, node_path_q
from communitygrid.cases.models import AWAITING_RESPONSE, OPEN_STATES, Case, Status, Tier
from communitygrid.cases.selectors import case_list
from communitygrid.core.sql import codes
from communitygrid.geo.models import Level, Node, NodeStatus

INBOX_LIMIT = 200


@dataclass
class InboxRow:
    case: Case
    due: dt.datetime | None
    overdue: bool
    urgent: bool
    paused: bool


def due_of(case: Case) -> dt.datetime | None:
    """The deadline that runs now: respond-by until someone takes it, then resolve-by."""
    if case.status == Status.WAITING_RESIDENT:
        return None
    return case.respond_by if case.status in AWAITING_RESPONSE else case.resolve_by


def _is_department_clerk(user) -> bool:
    return user.role == Role.DEPARTMENT_STAFF and user.department_id is not None


def _inbox_cases(user):
    mine = Q(assignee=user)
    if _is_department_clerk(user):
        mine |= Q(department_id=user.department_id, assignee__isnull=True)
    # The states as literals, so a prepared statement's generic plan can use the partial indexes.
    return case_list(user=user).filter(mine, status__in=codes(OPEN_STATES))


# The value of the handler filter that asks for the cases nobody holds.
UNASSIGNED = "none"


def _cases_in_reach(user) -> QuerySet:
    """The cases of the user's list before any filter (see ``handled_cases``)."""
    query = case_list(user=user)
    if _is_department_clerk(user):
        query = query.filter(Q(department_id=user.department_id) | Q(assignee=user))
    return query


def list_areas(*, user) -> QuerySet[Node]:
    """The areas the case list may be narrowed to: the active nodes (down to grids) inside the
    user's own areas, or, for a department's staff, inside the department's jurisdiction; in
    hierarchy order. Narrowing never widens: the list stays within ``handled_cases``."""
    if _is_department_clerk(user):
        jurisdiction = user.department.jurisdiction
        where = Q(path__startswith=jurisdiction.path) if jurisdiction is not None else NOTHING
    else:
        where = node_path_q(user)
    return (Node.objects.filter(where, status=NodeStatus.ACTIVE).exclude(level=Level.MICROGRID)
            .only("code", "name", "level", "path").order_by("path"))


def list_handlers(*, user) -> QuerySet[User]:
    """The staff who hold at least one case of the user's list, by role and name."""
    holders = _cases_in_reach(user).filter(assignee__isnull=False).order_by().values("assignee_id")
    return User.objects.filter(pk__in=holders).only("username", "display_name", "role").order_by(
        "role", "display_name", "username")


def handled_cases(*, user, status: str = "", category_code: str = "", text: str = "",
                  created_from: dt.datetime | None = None, created_before: dt.datetime | None = None,
                  area: Node | None = None, handler: int | str | None = None) -> QuerySet:
    """Every case the user may look back on, in any status, newest first.

    A department's staff: the cases now with their department, and any now given to them by
    name; not those transferred on to another department or handed back (they belong to their
    new handlers' lists), nor those their department only helps with (a joint-handling task).
    Grid staff: the cases of their areas and those given to them.
    ``status`` is a status or "open" (every state still being handled); ``text`` is a case
    number ("#123" or "123") or words of the description; ``area`` a node the cases lie in;
    ``handler`` a user's id or ``UNASSIGNED``."""
    query = _cases_in_reach(user)
    if area is not None:
        query = query.filter(grid__path__startswith=area.path)
    if handler == UNASSIGNED:
        query = query.filter(assignee__isnull=True)
    elif handler is not None:
        query = query.filter(assignee_id=handler)
    if status == "open":
        query = query.filter(status__in=codes(OPEN_STATES))
    elif status:
        query = query.filter(status=status)
    if category_code:
        query = query.filter(category__code=category_code)
    text = text.strip()
    if text:
        # "#123", "＃123" (a Chinese keyboard's) or "123": also the case of that number. Only ASCII
        # digits: str.isdigit() also accepts "²", which int() refuses.
        number = text.lstrip("#＃").strip()
        words = Q(description__icontains=text)
        is_number = re.fullmatch(r"[0-9]{1,11}", number) is not None
        query = query.filter(Q(pk=int(number)) | words if is_number else words)
    if created_from:
        query = query.filter(created_at__gte=created_from)
    if created_before:
        query = query.filter(created_at__lt=created_before)
    return query.order_by("-created_at", "-id")


def inbox_count(*, user) -> int:
    """How many open cases the inbox holds for the user (all of them, not only the first page)."""
    return _inbox_cases(user).count()


def inbox(*, user, now: dt.datetime | None = None) -> list[InboxRow]:
    """The user's open cases: urgent first, then by the running deadline (overdue ones lead),
    cases waiting for the resident (clock stopped) last.

    A department's staff also see the department's queue: its open cases that nobody of the
    department holds yet (routing found everyone at the cap, or the case was transferred to the
    department), which any of them may take."""
    now = now or timezone.now()
    cases = _inbox_cases(user)[:INBOX_LIMIT]
    rows = []
    for case in cases:
        due = due_of(case)
        rows.append(InboxRow(case=case, due=due, overdue=case.is_overdue(now), urgent=case.tier == Tier.URGENT,
                             paused=case.status == Status.WAITING_RESIDENT))
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    rows.sort(key=lambda row: (row.paused, not row.urgent, row.due or far, row.case.pk))
    return rows
