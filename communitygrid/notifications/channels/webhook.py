"""Signed JSON POSTs to a user's webhook endpoints.

Receivers verify ``X-CG-Signature: t=<unix seconds>,v1=<hex>`` where hex =
HMAC-SHA256(secret, "<t>.<raw body>"), and reject a ``t`` more than five minutes away from their
clock (README, "Webhooks"). ``X-CG-Delivery`` (the row id) lets them drop repeats, since
delivery is at least once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.core.serializers.json import DjangoJSONEncoder

from communitygrid.notifications import conf, outbound
from communitygrid.notifications.channels.base import Channel, DeliveryError, PermanentDeliveryError, Sent, Target

USER_AGENT = "communitygrid-webhook/1"
# Bodies of error answers are kept in last_error for the operator, trimmed to this size.
ERROR_BODY_CHARS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would lose its body or change method; count it as a failure instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    # Built per send: cheap, and it reads the proxy settings of the environment as they are now.
    return urllib.request.build_opener(_NoRedirect, outbound.PublicHTTPHandler, outbound.PublicHTTPSHandler)


def webhook_body(notification) -> bytes:
    document = {
        "id": notification.pk,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body,
        "payload": notification.payload,
        "case_id": notification.case_id,
        "recipient": notification.recipient.get_username(),
        "created_at": notification.created_at,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True).encode()


class WebhookChannel(Channel):
    name = "webhook"

    def targets(self, *, recipient, kind):
        return [
            Target(address=endpoint.url, endpoint=endpoint)
            for endpoint in recipient.webhook_endpoints.filter(is_active=True)
            if endpoint.wants(kind)
        ]

    def send(self, notification) -> Sent:
        endpoint = notification.endpoint
        if endpoint is None or not endpoint.is_active:
            raise PermanentDeliveryError("webhook endpoint removed or disabled")
        url = notification.address or endpoint.url
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// addresses.
            raise PermanentDeliveryError(f"not an http(s) address: {url}")
        body = webhook_body(notification)
        timestamp = str(int(time.time()))
        secret = endpoint.secret.reveal() if endpoint.secret else ""
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-CG-Event": notification.kind,
                "X-CG-Delivery": str(notification.pk),
                "X-CG-Timestamp": timestamp,
                "X-CG-Signature": sign(secret, timestamp, body),
            },
        )
        timeout = conf.get("NOTIFICATION_WEBHOOK_TIMEOUT")
        try:
            with _opener().open(request, timeout=timeout) as response:
                status = response.status
                excerpt = response.read(ERROR_BODY_CHARS).decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            detail = error.read(ERROR_BODY_CHARS).decode("utf-8", "replace")
            raise DeliveryError(f"HTTP {error.code}: {detail}", status=error.code, excerpt=detail) from error
        except outbound.Refused as error:
            # Checked when the endpoint was saved, but its name may resolve elsewhere now (DNS
            # rebinding): a failed attempt, retried like any other, and nothing is sent.
            raise DeliveryError(f"refused: {error}") from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"connection failed: {error}") from error
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}", status=status, excerpt=excerpt)
        return Sent(status=status, excerpt=excerpt)
