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
