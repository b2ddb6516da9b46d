"""Every read of cases, scoped to the acting user.

Area staff see the cases of their areas, department staff the cases routed to their
department (or with a joint-handling task for it), residents their own, leaders none one
by one (the cockpit reads aggregates). Out of scope is "not found", never "forbidden".
"""
from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from communitygrid.accounts.models import Role, User
from communitygrid.accounts.scopes import NOTHING, node_path_q
from communitygrid.cases.errors import InvalidInput, NotFound
from communitygrid.cases import wording
from communitygrid.cases.models import FINAL_STATES, Attachment, Case, CaseEvent, CaseTask, Category, Status
from communitygrid.geo.models import Level, Node


def case_scope_q(user: User) -> Q:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_system_admin:
        return Q()
    if user.role == Role.RESIDENT:
        return Q(reporter=user)
    if user.role == Role.DEPARTMENT_STAFF:
        if user.department_id is None:
            return NOTHING
        tasks = CaseTask.objects.filter(Q(department_id=user.department_id) | Q(assignee=user))
        return Q(department_id=user.department_id) | Q(assignee=user) | Q(pk__in=tasks.values("case_id"))
    if user.role == Role.LEADER:
        return NOTHING
    tasks = CaseTask.objects.filter(assignee=user)
    return node_path_q(user, prefix="grid__") | Q(assignee=user) | Q(pk__in=tasks.values("case_id"))


def case_queryset(*, user: User, action: str = "view") -> QuerySet:
    """Cases ``user`` may see. The same cases may have their caller's phone revealed (to call
    back), with a purpose and logged, through ``privacy.services.sensitive_reveal``."""
    return Case.objects.filter(case_scope_q(user))


def reporter_phone_queryset(*, user: User, action: str = "view") -> QuerySet:
    """The mobile numbers (``accounts.ResidentPhone``) of residents who reported a case ``user``
    may see: its handlers call the reporter back, as they call a hotline caller back. A number
    is read in plain only through ``privacy.services.sensitive_reveal`` (purpose, access log)."""
    from communitygrid.accounts.models import ResidentPhone

    return ResidentPhone.objects.filter(
        user_id__in=case_queryset(user=user, action=action).filter(reporter__isnull=False).values("reporter_id"))


def case_visible(*, user: User, case: Case) -> bool:
    """Whether ``user`` may see ``case``; a resident's own case is decided without a query."""
    if (getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.RESIDENT
            and not user.is_system_admin):
        return case.reporter_id == user.pk
    return case_queryset(user=user).filter(pk=case.pk).exists()


def case_list(*, user: User, status: str | None = None, open_only: bool = False) -> QuerySet:
    query = case_queryset(user=user).select_related("category", "grid", "assignee", "department")
    if status:
        query = query.filter(status=status)
    if open_only:
        query = query.exclude(status__in=FINAL_STATES)
    return query.order_by("-priority", "-created_at", "-id")


def case_get(*, user: User, pk: int) -> Case:
    case = case_queryset(user=user).select_related("category", "grid", "assignee", "department", "reporter").filter(pk=pk).first()
    if case is None:
        raise NotFound(_("Case #%(id)s was not found.") % {"id": pk})
    return case


def task_get(*, user: User, pk: int) -> CaseTask:
    task = CaseTask.objects.select_related("case__grid", "case__category").filter(pk=pk).first()
    if task is None or not case_queryset(user=user).filter(pk=task.case_id).exists():
        raise NotFound(_("Task #%(id)s was not found.") % {"id": pk})
    return task


def attachment_get(*, user: User, case_id: int, pk: int) -> Attachment:
    case = case_get(user=user, pk=case_id)
    attachment = Attachment.objects.filter(case=case, pk=pk).first()
    if attachment is None:
        raise NotFound(_("Attachment #%(id)s was not found.") % {"id": pk})
    return attachment


def resident_get(*, user: User, pk: int) -> User | None:
    """A resident account ``user`` may act for: one whose registry record ``user`` may see.

    Acting for a resident tells where they live (a case "at home") and their care groups (the
    tier's reason), so it stops at the acting user's scope like any read of the registry.
    """
    from communitygrid.registry.selectors import person_queryset

    return User.objects.filter(pk=pk, role=Role.RESIDENT, person__in=person_queryset(user=user)).first()


def staff_label(user: User | None, role: str) -> str:
    """How a resident sees a staff member: role and surname only (张 → "网格员 张")."""
    if user is None:
        return _("System")
    role_label = Role(role).label if role in Role.values else role
    name = (user.last_name or user.display_name or "").strip()
    if not name or name == role:
        return str(role_label)
    surname = name[0] if not name.isascii() else name.split()[-1]
    return "%s %s" % (role_label, surname)


# Their notes are the routing's reasons, which name staff in full and give their workloads (and,
# for "submit", the tier's reasons): kept from residents, who see the step without the note.
ROUTING_ACTIONS = frozenset({"submit", "dispatch", "redispatch"})


def case_timeline(*, user: User, case: Case) -> list[dict]:
    """The case's events as the user may see them; residents see staff as role + surname, and
    no routing reasons."""
    events = CaseEvent.objects.filter(case=case).select_related("actor").prefetch_related("attachments").order_by("at", "id")
    as_resident = user.role == Role.RESIDENT and not user.is_system_admin
    rows = []
    for event in events:
        if as_resident and event.actor_id and event.actor_id == user.pk:
            who = _("You")
        elif as_resident:
            who = staff_label(event.actor, event.actor_role)
        else:
            who = str(event.actor) if event.actor else _("System")
        rows.append({
            "at": event.at, "action": event.action, "from_status": event.from_status, "to_status": event.to_status,
            "who": who, "role": event.actor_role,
            "note": "" if as_resident and event.action in ROUTING_ACTIONS else (
                wording.render(event.data, action=event.action) or event.note),
            "attachments": [{"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size}
                            for a in event.attachments.all()],
        })
    return rows


def community_board(*, community_code: str, limit: int = 200) -> tuple[Node, list[dict]]:
    """The public board: a community's cases without any personal data."""
    community = Node.objects.filter(code=community_code, level=Level.COMMUNITY).first()
    if community is None:
        raise NotFound(_("Community %(code)s was not found.") % {"code": community_code})
    cases = (
        Case.objects.filter(grid__path__startswith=community.path)
        .exclude(status__in=[Status.MERGED, Status.CANCELLED])
        .select_related("category", "grid")
        .only("id", "category__name", "category__name_en", "grid__name", "status", "created_at", "resolved_at", "tier")
        .order_by("-created_at")[:limit]
    )
    rows = []
    for case in cases:
        hours = None
        if case.resolved_at:
            hours = round((case.resolved_at - case.created_at).total_seconds() / 3600, 1)
        rows.append({"id": case.pk, "category": case.category.label, "grid": case.grid.name, "status": case.status,
                     "status_label": case.get_status_display(), "tier": case.get_tier_display(),
                     "created_at": case.created_at, "resolved_at": case.resolved_at, "hours_to_resolve": hours})
    return community, rows


def category_leaves() -> QuerySet:
    return Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent")


def case_search(*, user: User, statuses: list[str] = (), open_only: bool = False, category_code: str = "",
                tier: str | None = None, grid_code: str = "", created_after=None, created_before=None,
                updated_after=None) -> QuerySet:
    """The API's case list: ``user``'s cases narrowed by the filters. With ``updated_after`` the
    order is oldest change first, so a client polling with the last ``updated_at`` it saw
    misses nothing; otherwise most urgent first."""
    query = case_list(user=user, open_only=open_only)
    if statuses:
        query = query.filter(status__in=statuses)
    if category_code:
        query = query.filter(category__code=category_code)
    if tier:
        query = query.filter(tier=tier)
    if grid_code:
        node = Node.objects.filter(code=grid_code).only("path").first()
        if node is None:
            raise InvalidInput(_("No node has the code %(code)s.") % {"code": grid_code}, field="grid")
        query = query.filter(grid__path__startswith=node.path)
    if created_after:
        query = query.filter(created_at__gte=created_after)
    if created_before:
        query = query.filter(created_at__lt=created_before)
    if updated_after:
        query = query.filter(updated_at__gte=updated_after).order_by("updated_at", "id")
    return query
