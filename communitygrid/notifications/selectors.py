"""Every read of notifications: a user sees only their own in-app rows.

``Code(IN_APP)``: the channel as a literal in the SQL, so a prepared statement's generic plan
can use the partial index ``notif_inbox_idx`` (communitygrid.core.sql).
"""
from __future__ import annotations

from django.db.models import BooleanField, Case, QuerySet, Value, When

from communitygrid.core.sql import Code
from communitygrid.notifications.models import IN_APP, Notification


def inbox_for(*, user) -> QuerySet[Notification]:
    """The user's in-app notifications, unread first, newest first within each group."""
    return (
        Notification.objects.filter(recipient=user, channel=Code(IN_APP)).select_related("recipient")
        .annotate(unread=Case(When(read_at__isnull=True, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-id")
    )


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, channel=Code(IN_APP), read_at__isnull=True).count()


def webhook_endpoints_of(*, user) -> QuerySet:
    """The endpoints ``user`` manages: their own (a system administrator: all)."""
    from communitygrid.notifications.models import WebhookEndpoint

    endpoints = WebhookEndpoint.objects.prefetch_related("subscriptions").order_by("pk")
    return endpoints if user.is_system_admin else endpoints.filter(user=user)


def webhook_deliveries_of(*, user, endpoint_id: int | None = None, status: str | None = None) -> QuerySet:
    deliveries = Notification.objects.filter(channel="webhook", endpoint__in=webhook_endpoints_of(user=user))
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.prefetch_related("delivery_attempts").order_by("-created_at", "-pk")
