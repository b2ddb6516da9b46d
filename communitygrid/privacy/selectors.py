"""Every read of the access log, scoped to the reader."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from communitygrid.accounts import scopes
from communitygrid.accounts.models import Role
from communitygrid.privacy.models import AccessLog

# Roles that supervise others' work in an area and so review reads of records there.
REVIEWER_ROLES = {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF}


def about_own_record_q(user) -> Q:
    """Entries whose subject is the user's own registry record, their household, or the mobile
    number they signed in with (read by the handlers of a case they reported, to call back)."""
    from communitygrid.accounts.models import ResidentPhone

    q = Q(subject_type=ResidentPhone._meta.label_lower,
          subject_id__in=ResidentPhone.objects.filter(user_id=user.pk).values("pk")) if user.pk else scopes.NOTHING
    person_id = getattr(user, "person_id", None)
    if not person_id:
        return q
    person_model = get_user_model()._meta.get_field("person").related_model
    q |= Q(subject_type=person_model._meta.label_lower, subject_id=person_id)
    household_field = person_model._meta.get_field("household")
    household_id = person_model.objects.filter(pk=person_id).values_list(household_field.attname, flat=True).first()
    if household_id:
        q |= Q(subject_type=household_field.related_model._meta.label_lower, subject_id=household_id)
    return q


def access_log_queryset(*, user) -> QuerySet[AccessLog]:
    """Administrators see every entry; area reviewers the reads of records inside their
    scope; everyone their own reads and the reads of their own record."""
    entries = AccessLog.objects.select_related("actor", "subject_grid")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return entries.none()
    if user.is_system_admin:
        return entries
    visible = Q(actor=user) | about_own_record_q(user)
    if user.role in REVIEWER_ROLES:
        visible |= scopes.node_path_q(user, prefix="subject_grid__")
    return entries.filter(visible)


def own_record_access_queryset(*, user) -> QuerySet[AccessLog]:
    """"Who read my data": every entry about the user's own record and household."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AccessLog.objects.none()
    return AccessLog.objects.select_related("actor").filter(about_own_record_q(user))
