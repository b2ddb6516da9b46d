"""Webhooks reach only the public network: on saving an endpoint (the API) and on delivering
(a real receiver on 127.0.0.1 that the rule must keep the server away from).

No test here needs public DNS: names are ``localhost`` (the hosts file) or under ``.invalid``
(RFC 2606: never resolves), public addresses are literal.
"""
import datetime as dt
import ipaddress
import json

import pytest

from communitygrid.accounts.models import Role
from communitygrid.notifications.models import DeliveryAttempt, Notification, WebhookEndpoint
from communitygrid.notifications.outbound import is_public
from communitygrid.notifications.services import notification_enqueue, outbox_deliver_once
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db

API = "/api/v1/webhooks/endpoints"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
PUBLIC_URL = "https://93.184.216.34/hook"
NOT_PUBLIC = "must be reachable on the public network"


def create(client, url):
    body = {"name": "城管系统", "url": url, "events": ["case.submitted"], "secret": "whsec-test"}
    return client.post(API, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def staff(client, users, settings):
    settings.LANGUAGE_CODE = "en"
    assert settings.WEBHOOK_ALLOW_PRIVATE_URLS is False  # the default, from settings.py
    client.force_login(users[Role.COMMUNITY_STAFF])
    return client


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast: is_global alone would let it through
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.5", False),
        ("::7f00:1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 to 127.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ],
)
def test_only_globally_routable_unicast_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://localhost:8000/hook", "localhost resolves to "),
        ("http://10.0.0.5/hook", "10.0.0.5 is a private, loopback or reserved address"),
        ("http://[::1]:8000/hook", "::1 is a private"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is a private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private"),
        ("http://2130706433/hook", "2130706433 resolves to 127.0.0.1"),  # 127.0.0.1 as one number
    ],
)
def test_an_endpoint_on_a_non_public_address_is_refused_naming_the_url(staff, url, shown):
    response = create(staff, url)

    assert response.status_code == 400, response.content
    error = response.json()
    assert error["field"] == "url"
    assert NOT_PUBLIC in error["detail"] and shown in error["detail"], error["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_a_name_resolving_to_loopback_names_the_address_it_resolved_to(staff):
    detail = create(staff, "http://localhost/hook").json()["detail"]
    assert "localhost resolves to 127.0.0.1" in detail or "localhost resolves to ::1" in detail


def test_a_name_that_does_not_resolve_is_refused_with_its_own_message(staff):
    response = create(staff, "https://hooks.example.invalid/cg")

    assert response.status_code == 400
    assert response.json()["field"] == "url"
    assert response.json()["detail"] == (
        "The host name hooks.example.invalid does not resolve to an address; check the spelling.")
    assert not WebhookEndpoint.objects.exists()


def test_the_refusal_is_translated(staff, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    private = create(staff, "http://192.168.1.10/hook").json()
    unresolvable = create(staff, "https://hooks.example.invalid/cg").json()

    assert private["field"] == "url" and "公网" in private["detail"] and "192.168.1.10" in private["detail"]
    assert unresolvable["field"] == "url" and "hooks.example.invalid" in unresolvable["detail"]
    assert "resolve" not in unresolvable["detail"]


def test_a_public_literal_address_is_accepted_without_connecting(staff):
    response = create(staff, PUBLIC_URL)

    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.get().url == PUBLIC_URL


def test_moving_an_endpoint_onto_a_private_address_is_refused_and_changes_nothing(staff):
    endpoint = create(staff, PUBLIC_URL).json()

    response = staff.patch(f"{API}/{endpoint['id']}", data=json.dumps({"name": "新名称", "url": "http://localhost/x"}),
                           content_type="application/json")

    assert response.status_code == 400 and response.json()["field"] == "url"
    saved = WebhookEndpoint.objects.get()
    assert (saved.name, saved.url) == ("城管系统", PUBLIC_URL)


@pytest.mark.parametrize("url", ["https://93.184.216.34:99999/hook", "https://93.184.216.34:http/hook", "ftp://93.184.216.34/"])
def test_a_bad_port_or_scheme_is_refused_naming_the_url(staff, url):
    response = create(staff, url)

    assert response.status_code == 400
    assert response.json() == {"detail": "Enter an http:// or https:// address.", "field": "url",
                               "errors": [{"field": "url", "message": "Enter an http:// or https:// address."}]}


def test_private_addresses_are_accepted_when_the_setting_allows_them(staff, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert create(staff, "http://127.0.0.1:9/hook").status_code == 201
    # Still only http(s).
    assert create(staff, "file:///etc/passwd").json()["field"] == "url"


# Delivery: the address is checked again when connecting.


@pytest.fixture
def receiver(settings):
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 2
    with Receiver() as receiver:
        yield receiver


def queue_webhook(url: str) -> Notification:
    """An endpoint written straight to the table, as if its name had resolved to a public address
    when it was saved and resolves to this one now (DNS rebinding)."""
    user = make_user("department_staff")
    WebhookEndpoint.objects.create(user=user, name="dept system", url=url, secret="whsec-test")
    [row] = [row for row in notification_enqueue(recipient=user, kind="case.assigned", subject="案件 17", body="")
             if row.channel == "webhook"]
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=NOW)
    return row


def test_delivery_to_a_name_that_now_resolves_to_loopback_is_refused_and_retried(receiver, settings):
    row = queue_webhook(receiver.url.replace("127.0.0.1", "localhost"))

    assert outbox_deliver_once(now=NOW).retried == 1

    assert receiver.requests == []
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING and row.next_attempt_at > NOW
    assert row.last_error_code == "refused_private"
    assert row.last_error_params["host"] == "localhost" and row.last_error_params["address"] in ("127.0.0.1", "::1")
    [attempt] = DeliveryAttempt.objects.all()
    assert not attempt.succeeded and attempt.response_status is None
    assert (attempt.error_code, attempt.error_params) == (row.last_error_code, row.last_error_params)

    # The same row, once private addresses are allowed, reaches the receiver: what stopped it was the rule.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert outbox_deliver_once(now=row.next_attempt_at).sent == 1
    assert [headers["X-CG-Delivery"] for headers, _ in receiver.requests] == [str(row.pk)]


def test_delivery_to_a_literal_loopback_address_is_refused(receiver):
    row = queue_webhook(receiver.url)

    assert outbox_deliver_once(now=NOW).retried == 1
    assert receiver.requests == []
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("refused_private_address", {"address": "127.0.0.1"})


def test_delivery_to_a_name_that_no_longer_resolves_is_refused():
    row = queue_webhook("https://gone.example.invalid/hook")

    assert outbox_deliver_once(now=NOW).retried == 1
    row.refresh_from_db()
    assert (row.last_error_code, row.last_error_params) == ("refused_unresolvable", {"host": "gone.example.invalid"})
    assert row.last_error.startswith("gaierror: ")  # the resolver's own words, as detail


def test_a_stored_file_address_is_never_opened():
    row = queue_webhook("file:///etc/passwd")

    assert outbox_deliver_once(now=NOW).failed == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert (row.last_error_code, row.last_error_params) == ("not_http", {"url": "file:///etc/passwd"})


@pytest.fixture
def proxy(receiver, monkeypatch):
    """The receiver as the HTTP proxy of the environment (urllib reads ``http_proxy``): the proxy
    itself may be private, the destination it is asked for may not."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", receiver.url.removesuffix("/hooks/grid"))
    return receiver


def test_through_a_private_proxy_a_public_destination_is_sent(proxy):
    queue_webhook("http://93.184.216.34/hook")

    assert outbox_deliver_once(now=NOW).sent == 1
    [(headers, _)] = proxy.requests
    assert headers["Host"] == "93.184.216.34"


def test_through_a_proxy_a_private_destination_is_refused_before_asking_the_proxy(proxy):
    row = queue_webhook("http://localhost:9/hook")

    assert outbox_deliver_once(now=NOW).retried == 1
    assert proxy.requests == []
    row.refresh_from_db()
    assert row.last_error_code == "refused_private" and row.last_error_params["host"] == "localhost"
