"""Subscriptions to case events, end to end: the API, the event collector, a real HTTP receiver."""
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.notifications.models import DeliveryAttempt, EventCursor, Notification
from communitygrid.notifications.services import outbox_deliver_once
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.notifications.webhooks import case_events_collect
from communitygrid.testing import make_user

API = "/api/v1/webhooks"
CASE = {"category": "elderly_visit", "description": "张大爷家楼道灯坏了", "lon": 120.005, "lat": 30.005}


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def verify(secret: str, headers, body: bytes, *, tolerance: int = 300) -> bool:
    """The receiver's check, as the README shows it."""
    fields = dict(part.split("=", 1) for part in headers["X-CG-Signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= tolerance


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 2
    settings.LANGUAGE_CODE = "en"
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def app_client(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    return client


def subscribe(client, url, events, secret="whsec-test"):
    response = post(client, f"{API}/endpoints", {"name": "城管系统", "url": url, "events": events, "secret": secret})
    assert response.status_code == 201, response.content
    return response.json()


def deliver(now=None):
    return outbox_deliver_once(now=now or timezone.now())


def test_a_subscribed_event_is_posted_signed_without_personal_data(app_client, receiver, users):
    subscribe(app_client, receiver.url, ["case.submitted"])
    case_id = post(app_client, "/api/v1/cases/", CASE).json()["case"]["id"]

    assert case_events_collect() == 1
    assert deliver().sent == 1

    [(headers, body)] = receiver.requests
    assert verify("whsec-test", headers, body)
    assert not verify("another-secret", headers, body)
    assert headers["X-CG-Event"] == "case.submitted"
    document = json.loads(body)
    assert document["kind"] == "case.submitted" and document["payload"]["case"]["id"] == case_id
    assert document["payload"]["case"]["grid"] == "S0C0G0"
    assert "张大爷" not in body.decode()
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_excerpt == "receiver says 200"


def test_a_stale_signature_fails_verification(app_client, receiver):
    subscribe(app_client, receiver.url, ["case.submitted"])
    post(app_client, "/api/v1/cases/", CASE)
    case_events_collect()
    deliver()
    [(headers, body)] = receiver.requests
    assert verify("whsec-test", headers, body)
    assert not verify("whsec-test", headers, body, tolerance=-1)


def test_unsubscribed_events_and_cases_outside_the_owners_scope_are_not_sent(client, receiver, users, city):
    outsider = make_user(Role.GRID_WORKER, scope=[city.grids[7]], username="elsewhere")
    client.force_login(outsider)
    subscribe(client, receiver.url, ["case.submitted"])
    client.force_login(users[Role.COMMUNITY_STAFF])
    subscribe(client, receiver.url, ["case.resolved"])
    post(client, "/api/v1/cases/", CASE)
    assert case_events_collect() == 0
    assert Notification.objects.filter(channel="webhook").count() == 0


def test_a_500_is_retried_with_backoff_and_every_attempt_is_logged(app_client, receiver):
    receiver.script = [500]
    subscribe(app_client, receiver.url, ["case.submitted"])
    post(app_client, "/api/v1/cases/", CASE)
    case_events_collect()

    now = timezone.now()
    assert deliver(now).retried == 1
    row = Notification.objects.get(channel="webhook")
    assert row.next_attempt_at > now  # backoff: not due again at once
    assert deliver(now).claimed == 0
    assert deliver(row.next_attempt_at).sent == 1

    first, second = DeliveryAttempt.objects.order_by("number")
    assert (first.number, first.succeeded, first.response_status) == (1, False, 500)
    assert first.response_excerpt == "receiver says 500"
    assert (first.error_code, first.error_params, first.error) == ("http_error", {"status": 500}, "receiver says 500")
    assert (second.number, second.succeeded, second.response_status) == (2, True, 200)
    assert first.duration_ms >= 0 and second.duration_ms >= 0
    page = app_client.get(f"{API}/deliveries").json()
    assert page["count"] == 1
    assert [a["response_status"] for a in page["items"][0]["attempt_log"]] == [500, 200]
    assert [a["error_code"] for a in page["items"][0]["attempt_log"]] == ["http_error", ""]
    assert len(receiver.requests) == 2 and receiver.requests[0][1] == receiver.requests[1][1]


def test_a_delivery_is_replayed_through_the_api(app_client, receiver):
    subscribe(app_client, receiver.url, ["case.submitted"])
    post(app_client, "/api/v1/cases/", CASE)
    case_events_collect()
    deliver()
    original = Notification.objects.get(channel="webhook")

    response = post(app_client, f"{API}/deliveries/{original.pk}/replay")
    assert response.status_code == 202, response.content
    assert response.json()["replay_of"] == original.pk and response.json()["status"] == "pending"
    assert deliver().sent == 1

    assert len(receiver.requests) == 2
    first, again = (json.loads(body) for _, body in receiver.requests)
    assert again["payload"] == first["payload"] and again["id"] != first["id"]
    assert verify("whsec-test", *receiver.requests[1])


def test_collecting_twice_or_late_queues_each_event_once(app_client, receiver):
    subscribe(app_client, receiver.url, ["case.submitted", "case.assigned"])
    post(app_client, "/api/v1/cases/", CASE)
    queued = case_events_collect()
    assert queued == 2  # submitted, and the dispatch that assigned it
    assert case_events_collect() == 0
    # A run that believes it is behind (the mark moved back) re-reads but queues nothing twice.
    EventCursor.objects.update(last_id=0)
    assert case_events_collect() == 0
    assert Notification.objects.filter(channel="webhook").count() == 2


def test_an_event_committed_late_below_the_mark_is_still_sent(app_client, receiver):
    subscribe(app_client, receiver.url, ["case.submitted"])
    post(app_client, "/api/v1/cases/", CASE)
    from communitygrid.cases.models import CaseEvent

    mark = CaseEvent.objects.order_by("-pk").first().pk
    Notification.objects.all().delete()
    # The mark already passed the event (as if it had committed after a later one was read):
    EventCursor.objects.update_or_create(name="case_events", defaults={"last_id": mark})
    assert case_events_collect() == 1
    # Old events below the mark are not re-read for ever.
    assert case_events_collect(now=timezone.now() + dt.timedelta(hours=1)) == 0


def test_the_api_manages_only_your_own_endpoints(client, receiver, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    created = subscribe(client, receiver.url, ["case.submitted"], secret="")
    assert created["secret"].startswith("whsec_") and created["events"] == ["case.submitted"]
    endpoint = f"{API}/endpoints/{created['id']}"
    changed = client.patch(endpoint, data=json.dumps({"events": ["case.closed", "case.rated"], "is_active": False}),
                           content_type="application/json")
    assert changed.status_code == 200 and changed.json()["events"] == ["case.closed", "case.rated"]
    assert changed.json()["is_active"] is False and "secret" not in changed.json()
    assert client.get(f"{API}/endpoints").json()["count"] == 1

    client.force_login(users[Role.STREET_STAFF])
    assert client.get(endpoint).status_code == 404
    assert client.get(f"{API}/endpoints").json()["count"] == 0
    assert client.delete(endpoint).status_code == 404

    client.force_login(users[Role.COMMUNITY_STAFF])
    assert client.delete(endpoint).status_code == 204
    assert client.get(endpoint).status_code == 404


def test_bad_subscriptions_are_refused_with_the_field(client, users, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(users[Role.COMMUNITY_STAFF])
    # A public literal address: saving it resolves nothing (no DNS beyond localhost here).
    body = {"name": "x", "url": "https://93.184.216.34/cg", "events": ["case.submitted"]}
    unknown = post(client, f"{API}/endpoints", {**body, "events": ["case.exploded"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "events"
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://10.0.0.5/x", "ftp://example.org/x"):
        refused = post(client, f"{API}/endpoints", {**body, "url": url})
        assert refused.status_code == 400 and refused.json()["field"] == "url", url
    assert post(client, f"{API}/endpoints", body).status_code == 201
    client.force_login(users[Role.RESIDENT])
    assert post(client, f"{API}/endpoints", body).status_code == 403
    assert client.get(f"{API}/endpoints").status_code == 403


def test_the_admin_replays_a_delivery(admin_client, app_client, receiver):
    subscribe(app_client, receiver.url, ["case.submitted"])
    post(app_client, "/api/v1/cases/", CASE)
    case_events_collect()
    deliver()
    original = Notification.objects.get(channel="webhook")
    response = admin_client.post("/admin/notifications/notification/",
                                 {"action": "replay", "_selected_action": [original.pk]})
    assert response.status_code == 302
    assert Notification.objects.filter(replay_of=original).count() == 1
    assert deliver().sent == 1 and len(receiver.requests) == 2


def test_an_application_subscribes_with_its_api_key_and_receives_only_its_area(client, receiver, users, city):
    from communitygrid.apikeys.models import Organisation, Scope
    from communitygrid.apikeys.services import apikey_create

    organisation = Organisation.objects.create(code="city-ops", name="城市运行中心")
    reader = apikey_create(organisation=organisation, name="events", scopes=[Scope.CASES_READ],
                           nodes=[city.communities[0]], actor=None)
    elsewhere = apikey_create(organisation=organisation, name="far", scopes=[Scope.CASES_READ],
                              nodes=[city.communities[3]], actor=None)
    no_scope = apikey_create(organisation=organisation, name="registry only", scopes=[Scope.REGISTRY_READ],
                             nodes=[city.communities[0]], actor=None)
    body = json.dumps({"name": "ops", "url": receiver.url, "events": ["case.submitted"], "secret": "whsec-key"})
    for new in (reader, elsewhere):
        created = client.post(f"{API}/endpoints", data=body, content_type="application/json",
                              headers={"X-API-Key": new.plaintext})
        assert created.status_code == 201, created.content
    refused = client.post(f"{API}/endpoints", data=body, content_type="application/json",
                          headers={"X-API-Key": no_scope.plaintext})
    assert refused.status_code == 403

    client.force_login(users[Role.COMMUNITY_STAFF])
    post(client, "/api/v1/cases/", CASE)  # in the first community
    assert case_events_collect() == 1
    assert deliver().sent == 1
    [(headers, body_sent)] = receiver.requests
    assert verify("whsec-key", headers, body_sent)
    listed = client.get(f"{API}/deliveries", headers={"X-API-Key": reader.plaintext})
    assert listed.json()["count"] == 1
    assert client.get(f"{API}/deliveries", headers={"X-API-Key": elsewhere.plaintext}).json()["count"] == 0
