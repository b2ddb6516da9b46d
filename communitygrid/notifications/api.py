"""Webhook subscriptions and the inbox over JSON (mounted at /api/v1/webhooks and /api/v1/notifications).

An application (an API key's owner, or a signed-in staff member) registers endpoints, picks
the case events each receives, reads the delivery log with every attempt's answer, and replays
a delivery. Deliveries carry only the cases the endpoint's owner may see.
"""
import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from communitygrid.accounts.models import Role
from communitygrid.apikeys import auth as apikey_auth
from communitygrid.apikeys.models import Scope
from communitygrid.notifications import kinds, selectors, webhooks
from communitygrid.notifications.models import Notification, WebhookEndpoint, WebhookEvent, word_all
from communitygrid.restapi.errors import ErrorOut
from communitygrid.restapi.pagination import LimitOffset

# With a key: subscribing to case events is reading cases (as they happen), so ``cases:read``.
router = Router(tags=["webhooks"], auth=apikey_auth.key_or_session(Scope.CASES_READ))
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
MAX_ID = 2**63 - 1


def _user(request):
    user = request.auth if hasattr(request.auth, "role") else request.user
    if user.role == Role.RESIDENT and not user.is_system_admin:
        raise HttpError(403, _("Webhooks are for applications and staff, not resident accounts."))
    return user


class EndpointIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    url: str = Field(..., min_length=1, max_length=500, description="http(s) address that receives the POSTs.")
    events: list[WebhookEvent] = Field(..., min_length=1)
    secret: str = Field("", max_length=200, description="Signing secret; leave empty to have one generated.")


class EndpointPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[WebhookEvent] | None = None
    is_active: bool | None = None


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_events(endpoint: WebhookEndpoint) -> list[str]:
        return sorted(s.event for s in endpoint.subscriptions.all())


class EndpointCreated(EndpointOut):
    secret: str = Field(description="Shown once: keep it to verify the X-CG-Signature header.")

    @staticmethod
    def resolve_secret(endpoint: WebhookEndpoint) -> str:
        return endpoint.new_secret  # set by the create handler; never read back from storage


class AttemptOut(Schema):
    number: int
    started_at: dt.datetime
    duration_ms: int
    succeeded: bool
    response_status: int | None
    response_excerpt: str
    error: str = Field(description="Why the attempt failed, in the request's language (empty if it succeeded).")
    error_code: str = Field(description="The same reason as a stable code (e.g. http_error, timeout, "
                                        "refused_private); empty if the attempt succeeded.")
    error_detail: str = Field(description="Technical detail the code does not say (an error text, the receiver's "
                                          "answer), as it was reported, untranslated.")

    @staticmethod
    def resolve_error(attempt) -> str:
        return attempt.error_reason()

    @staticmethod
    def resolve_error_detail(attempt) -> str:
        return attempt.error_detail


class DeliveryOut(Schema):
    id: int
    endpoint_id: int | None
    event: str = Field(alias="kind")
    case_id: int | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    created_at: dt.datetime
    replay_of: int | None = Field(alias="replay_of_id")
    payload: dict
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(delivery: Notification) -> list:
        return list(delivery.delivery_attempts.all())


class DeliveryFilters(Schema):
    status: Notification.Status | None = None


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(selectors.webhook_endpoints_of(user=_user(request)), pk=endpoint_id)


@router.get("/events", response=list[str], summary="The events an endpoint can subscribe to")
@paginate(LimitOffset)
def event_list(request):
    return list(WebhookEvent.values)


@router.get("/endpoints", response={200: list[EndpointOut], **ERRORS})
@paginate(LimitOffset)
def endpoint_list(request):
    return selectors.webhook_endpoints_of(user=_user(request))


@router.post("/endpoints", response={201: EndpointCreated, **ERRORS})
def endpoint_create(request, payload: EndpointIn):
    """Register an endpoint; the answer shows its signing secret, once."""
    endpoint, secret = webhooks.webhook_endpoint_create(
        owner=_user(request), name=payload.name, url=payload.url, events=[str(e) for e in payload.events],
        secret=payload.secret)
    endpoint.new_secret = secret
    return Status(201, endpoint)


@router.get("/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def endpoint_detail(request, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    return _endpoint(request, endpoint_id)


@router.patch("/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def endpoint_update(request, payload: EndpointPatch, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    endpoint = _endpoint(request, endpoint_id)
    events = None if payload.events is None else [str(e) for e in payload.events]
    webhooks.webhook_endpoint_update(endpoint=endpoint, name=payload.name, url=payload.url, events=events,
                                     is_active=payload.is_active)
    return _endpoint(request, endpoint_id)


@router.delete("/endpoints/{endpoint_id}", response={204: None, **ERRORS})
def endpoint_delete(request, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    webhooks.webhook_endpoint_delete(endpoint=_endpoint(request, endpoint_id))
    return Status(204, None)


@router.get("/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(LimitOffset)
def delivery_list(request, filters: Query[DeliveryFilters], endpoint: int | None = Query(None, ge=1, le=MAX_ID)):
    """Deliveries to your endpoints, newest first, each with its attempts (status, excerpt, duration)."""
    return selectors.webhook_deliveries_of(user=_user(request), endpoint_id=endpoint,
                                           status=filters.status and str(filters.status))


@router.get("/deliveries/{delivery_id}", response={200: DeliveryOut, **ERRORS})
def delivery_detail(request, delivery_id: int = Path(..., ge=1, le=MAX_ID)):
    return get_object_or_404(selectors.webhook_deliveries_of(user=_user(request)), pk=delivery_id)


@router.post("/deliveries/{delivery_id}/replay", response={202: DeliveryOut, **ERRORS})
def delivery_replay(request, delivery_id: int = Path(..., ge=1, le=MAX_ID)):
    """Send a delivery again (a new delivery, with ``replay_of`` pointing at this one)."""
    delivery = get_object_or_404(selectors.webhook_deliveries_of(user=_user(request)), pk=delivery_id)
    return Status(202, webhooks.webhook_delivery_replay(delivery=delivery))


# ---------------------------------------------------------------- the inbox (mounted at /api/v1/notifications)

# A signed-in person's own in-app notifications. Not open to API keys (no scope grants them:
# apikeys.auth's default deny): an inbox is a person's, not an application's.
inbox_router = Router(tags=["notifications"])


class WordedPage(LimitOffset):
    """The page envelope, its rows worded together in the request's language."""

    def paginate_queryset(self, queryset, pagination, request=None, **params):
        page = super().paginate_queryset(queryset, pagination, request=request, **params)
        page["items"] = word_all(page["items"])
        return page


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(description="The kind's name, in the request's language.")
    subject: str = Field(description="In the request's language (as it was stored, for notifications that "
                                     "cannot be worded again).")
    body: str = Field(description="In the request's language, as the subject.")
    case_id: int | None
    link: str = Field(description="A path on this site to open, or empty.")
    unread: bool
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_kind_label(notification: Notification) -> str:
        return kinds.label(notification.kind)

    @staticmethod
    def resolve_subject(notification: Notification) -> str:
        return notification.worded_subject

    @staticmethod
    def resolve_body(notification: Notification) -> str:
        return notification.worded_body

    @staticmethod
    def resolve_unread(notification: Notification) -> bool:
        return notification.read_at is None


@inbox_router.get("", response={200: list[NotificationOut], **ERRORS}, summary="My notifications")
@paginate(WordedPage)
def notification_list(request):
    """Your in-app notifications, unread first, newest first within each group."""
    return selectors.inbox_for(user=request.user)


@inbox_router.get("/{notification_id}", response={200: NotificationOut, **ERRORS}, summary="One of my notifications")
def notification_detail(request, notification_id: int = Path(..., ge=1, le=MAX_ID)):
    return get_object_or_404(selectors.inbox_for(user=request.user), pk=notification_id)
