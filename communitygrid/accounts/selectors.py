"""Every read of user accounts, scoped to the reader."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from communitygrid.accounts import scopes
from communitygrid.accounts.models import AREA_STAFF_ROLES, User


def user_queryset(*, user) -> QuerySet[User]:
    """Administrators see every account; area staff see themselves and the staff bound to
    nodes inside their own areas; everyone else sees only themselves."""
    users = User.objects.select_related("department").order_by("username")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return users.none()
    if user.is_system_admin:
        return users
    if user.role in AREA_STAFF_ROLES:
        inside = User.objects.filter(scopes.node_path_q(user, prefix="scope_nodes__")).values("pk")
        return users.filter(Q(pk=user.pk) | Q(pk__in=inside))
    return users.filter(pk=user.pk)


# --- Household record link requests ----------------------------------------------------------

def binding_request_queryset(*, user) -> QuerySet:
    """Link requests ``user`` may see and decide: those whose matched record lies in the areas of
    staff who may change people records there (grid workers, grid leaders, community staff; system
    administrators everywhere). Requests that matched no record reach nobody here: only system
    administrators read them, in the back-office."""
    from communitygrid.accounts.models import BindingRequest

    if not _decides_links(user):
        return BindingRequest.objects.none()
    return BindingRequest.objects.filter(person__isnull=False).filter(
        scopes.node_path_q(user, prefix="person__grid__"))


def _decides_links(user) -> bool:
    """Whether ``user``'s role links and unlinks accounts at all (the area comes on top)."""
    return scopes.may(user, "change") and (user.is_area_staff or user.is_system_admin)


def link_person_queryset(*, user) -> QuerySet:
    """Registry records whose account link ``user`` may remove: the same staff, in the same areas,
    as may approve a request to link them (:func:`binding_request_queryset`)."""
    from communitygrid.registry.models import Person

    if not _decides_links(user):
        return Person.objects.none()
    return Person.objects.filter(scopes.node_path_q(user, prefix="grid__"))


def link_person_get(*, user, pk: int):
    """One record in ``user``'s link scope with its linked account (if any) as ``linked_account``,
    or None (out of scope and missing look the same)."""
    person = link_person_queryset(user=user).select_related("grid", "household").filter(pk=pk).first()
    if person is not None:
        person.linked_account = (User.objects.select_related("resident_phone")
                                 .filter(person_id=person.pk).first())
    return person


def binding_request_pending(*, user) -> QuerySet:
    """The pending requests in ``user``'s areas, oldest first (the order they are handled in)."""
    from communitygrid.accounts.models import BindingRequest

    return (binding_request_queryset(user=user).filter(status=BindingRequest.Status.PENDING)
            .select_related("user__resident_phone", "person__household", "person__grid")
            .order_by("created_at", "id"))


def binding_request_get(*, user, pk: int):
    """One request in ``user``'s areas, or None (out of scope and missing look the same)."""
    return (binding_request_queryset(user=user)
            .select_related("user__resident_phone", "person__household", "person__grid", "decided_by")
            .filter(pk=pk).first())


def binding_request_own(*, user) -> QuerySet:
    """A resident's own requests, newest first. Says nothing about whether a record matched."""
    from communitygrid.accounts.models import BindingRequest

    if not getattr(user, "is_authenticated", False):
        return BindingRequest.objects.none()
    return BindingRequest.objects.filter(user=user).defer("person").order_by("-created_at", "-id")
