"""Webhook subscriptions to case events: manage them, turn case events into deliveries, replay.

Case services write an append-only event row for every step of a case; ``case_events_collect``
reads those rows past a high-water mark and queues one outbox row per (event, subscribed
endpoint whose owner may see the case). It re-reads the last few minutes as well, because on
PostgreSQL a transaction that took a lower id may commit after a higher one was read; the
deduplication key makes that re-read free of repeats. Safe on two machines at once.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets as secrets_module
import urllib.parse

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitygrid.notifications import outbound
from communitygrid.notifications.models import (
    EventCursor,
    Notification,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from communitygrid.notifications.services import _insert_once

CURSOR = "case_events"
# Events that may have committed after the mark passed them: recent, and just below the mark.
LATE_COMMIT_WINDOW = dt.timedelta(minutes=5)
LATE_COMMIT_IDS = 1000
EVENTS_OF_ACTION = {
    "submit": [WebhookEvent.CASE_SUBMITTED],
    "dispatch": [WebhookEvent.CASE_ASSIGNED],
    "redispatch": [WebhookEvent.CASE_ASSIGNED],
    "transfer_to_department": [WebhookEvent.CASE_ASSIGNED],
    "take_over": [WebhookEvent.CASE_ASSIGNED],
    "escalate": [WebhookEvent.CASE_ESCALATED],
    "resolve": [WebhookEvent.CASE_RESOLVED],
    "confirm": [WebhookEvent.CASE_RATED],
    "dispute": [WebhookEvent.CASE_RATED],
}


def webhook_events_of(action: str, to_status: str) -> list[str]:
    events = list(EVENTS_OF_ACTION.get(action, []))
    if to_status == "closed":
        events.append(WebhookEvent.CASE_CLOSED)
    return [str(event) for event in events]


def webhook_url_check(url: str) -> str:
    """``url`` if the server may post to it: http(s), and (unless ``WEBHOOK_ALLOW_PRIVATE_URLS``)
    a host whose every address is on the public network (``outbound``: the same rule is applied
    again when delivering). Raises ``ValidationError({"url": …})``."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a port that is not a number, or out of range
        valid = False
    if not valid:
        raise ValidationError({"url": _("Enter an http:// or https:// address.")})
    if outbound.private_allowed():
        return url
    try:
        outbound.public_addresses(parts.hostname, port)
    except outbound.Unresolvable:
        raise ValidationError({"url": _("The host name %(host)s does not resolve to an address; check the spelling.")
                               % {"host": parts.hostname}}) from None
    except outbound.NotPublic as refused:
        # Otherwise a subscriber could make the server post to services on its own network.
        if refused.literal:
            message = _("%(address)s is a private, loopback or reserved address; the address must be reachable "
                        "on the public network.") % {"address": parts.hostname}
        else:
            message = _("%(host)s resolves to %(address)s, a private, loopback or reserved address; the address "
                        "must be reachable on the public network.") % {"host": parts.hostname,
                                                                       "address": refused.address}
        raise ValidationError({"url": message}) from None
    return url


def webhook_endpoint_create(*, owner, name: str, url: str, events: list[str], secret: str = "") -> tuple[WebhookEndpoint, str]:
    """A new endpoint subscribed to ``events``; returns it and its signing secret (generated if not given)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    secret = secret or "whsec_" + secrets_module.token_urlsafe(32)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(user=owner, name=name[:100], url=webhook_url_check(url), secret=secret)
        _subscribe(endpoint, events)
    return endpoint, secret


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, name: str | None = None, url: str | None = None,
                            events: list[str] | None = None, is_active: bool | None = None) -> WebhookEndpoint:
    with transaction.atomic():
        if name is not None:
            if not name.strip():
                raise ValidationError({"name": _("Enter a name.")})
            endpoint.name = name.strip()[:100]
        if url is not None:
            endpoint.url = webhook_url_check(url)
        if is_active is not None:
            endpoint.is_active = is_active
        endpoint.save(update_fields=["name", "url", "is_active"])
        if events is not None:
            endpoint.subscriptions.exclude(event__in=events).delete()
            _subscribe(endpoint, events)
    return endpoint


def _subscribe(endpoint: WebhookEndpoint, events: list[str]) -> None:
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        raise ValidationError({"events": _("Unknown event: %(event)s.") % {"event": ", ".join(unknown)}})
    for event in sorted(set(events)):
        WebhookSubscription.objects.get_or_create(endpoint=endpoint, event=event)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def _case_document(event) -> dict:
    case = event.case
    document = {
        "event_id": event.pk,
        "occurred_at": event.at,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        # No personal data (no description, caller or names): the subscriber reads the case
        # through the API, within its owner's scope, if it needs more.
        "case": {
            "id": case.pk, "status": case.status, "category": case.category.code, "tier": case.tier,
            "grid": case.grid.code, "created_at": case.created_at, "updated_at": case.updated_at,
            "resolve_by": case.resolve_by, "escalation_level": case.escalation_level,
            "url": f"/api/v1/cases/{case.pk}",
        },
    }
    # Stored as JSON: datetimes as ISO 8601 strings, as the receiver will read them.
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def case_events_collect(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Queue webhook deliveries for case events not yet read; returns how many rows were queued."""
    from communitygrid.cases.models import Case, CaseEvent
    from communitygrid.cases.selectors import case_scope_q

    now = now or timezone.now()
    cursor = EventCursor.objects.get_or_create(name=CURSOR)[0]
    subscriptions = list(WebhookSubscription.objects.filter(endpoint__is_active=True).select_related("endpoint__user"))
    by_event: dict[str, list[WebhookSubscription]] = {}
    for subscription in subscriptions:
        by_event.setdefault(subscription.event, []).append(subscription)
    fresh = list(CaseEvent.objects.filter(pk__gt=cursor.last_id).select_related("case__category", "case__grid")
                 .order_by("pk")[:batch])
    late = list(CaseEvent.objects.filter(pk__lte=cursor.last_id, pk__gt=cursor.last_id - LATE_COMMIT_IDS,
                                         at__gte=now - LATE_COMMIT_WINDOW)
                .select_related("case__category", "case__grid").order_by("pk"))
    events = late + fresh
    queued, visible = 0, {}
    for event in events:
        for name in webhook_events_of(event.action, event.to_status):
            for subscription in by_event.get(name, []):
                endpoint = subscription.endpoint
                key = (endpoint.user_id, event.case_id)
                if key not in visible:
                    visible[key] = Case.objects.filter(case_scope_q(endpoint.user), pk=event.case_id).exists()
                if not visible[key]:
                    continue
                row = Notification(
                    recipient=endpoint.user, kind=name, channel="webhook", endpoint=endpoint, address=endpoint.url,
                    subject=_("Case #%(id)s: %(event)s") % {"id": event.case_id, "event": WebhookEvent(name).label},
                    payload=_case_document(event), case_id=event.case_id, next_attempt_at=now, created_at=now,
                    dedupe_key=f"webhook:{event.pk}:{name}:{endpoint.pk}",
                )
                if _insert_once(row) is row:
                    queued += 1
    if fresh:
        # Monotonic: a slower run that read less never moves the mark back.
        EventCursor.objects.filter(name=CURSOR, last_id__lt=fresh[-1].pk).update(last_id=fresh[-1].pk)
    return queued


def webhook_delivery_replay(*, delivery: Notification, now: dt.datetime | None = None) -> Notification:
    """Send a webhook delivery again, as a new outbox row with its own attempts."""
    endpoint = delivery.endpoint
    if delivery.channel != "webhook" or endpoint is None:
        raise ValidationError({"delivery": _("Only deliveries to an existing webhook endpoint can be replayed.")})
    if not endpoint.is_active:
        raise ValidationError({"delivery": _("The endpoint is disabled; enable it before replaying.")})
    now = now or timezone.now()
    return Notification.objects.create(
        recipient_id=delivery.recipient_id, kind=delivery.kind, subject=delivery.subject, body=delivery.body,
        params=delivery.params, payload=delivery.payload, case_id=delivery.case_id, channel="webhook", endpoint=endpoint,
        address=endpoint.url, replay_of=delivery, next_attempt_at=now, created_at=now,
    )
