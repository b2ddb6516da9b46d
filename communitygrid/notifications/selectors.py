"""Every read of notifications: a user sees only their own in-app rows."""
from __future__ import annotations

from django.db.models import BooleanField, Case, QuerySet, Value, When

from communitygrid.notifications.models import IN_APP, Notification


def inbox_for(*, user) -> QuerySet[Notification]:
    """The user's in-app notifications, unread first, newest first within each group."""
    return (
        Notification.objects.filter(recipient=user, channel=IN_APP)
        .annotate(unread=Case(When(read_at__isnull=True, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-id")
    )


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, channel=IN_APP, read_at__isnull=True).count()
