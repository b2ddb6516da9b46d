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

from communitygrid.notifications import conf, failures, outbound
from communitygrid.notifications.channels.base import Channel, DeliveryError, PermanentDeliveryError, Sent, Target

USER_AGENT = "communitygrid-webhook/1"
# Bodies of error answers are kept as the failure's detail for the operator, trimmed to this size.
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
            raise PermanentDeliveryError("webhook endpoint removed or disabled", code=failures.ENDPOINT_GONE)
        url = notification.address or endpoint.url
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// addresses.
            raise PermanentDeliveryError(f"not an http(s) address: {url}", code=failures.NOT_HTTP, params={"url": url})
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
            raise _http_failure(error.code, detail) from error
        except outbound.Refused as error:
            # Checked when the endpoint was saved, but its name may resolve elsewhere now (DNS
            # rebinding): a failed attempt, retried like any other, and nothing is sent.
            raise _refusal(error) from error
        except (urllib.error.URLError, OSError) as error:
            cause = error.reason if isinstance(error, urllib.error.URLError) else error
            if isinstance(cause, TimeoutError):
                raise DeliveryError(f"timed out after {timeout} s: {cause}", code=failures.TIMEOUT,
                                    params={"seconds": timeout}, detail=failures.technical(cause)) from error
            detail = failures.technical(cause) if isinstance(cause, BaseException) else str(cause)
            raise DeliveryError(f"connection failed: {error}", code=failures.CONNECTION_FAILED, detail=detail) from error
        if not 200 <= status < 300:
            raise _http_failure(status, excerpt)
        return Sent(status=status, excerpt=excerpt)


def _http_failure(status: int, body: str) -> DeliveryError:
    # Redirects are not followed (_NoRedirect), so a 3xx answer ends here as well.
    code = failures.HTTP_REDIRECT if 300 <= status < 400 else failures.HTTP_ERROR
    return DeliveryError(f"HTTP {status}: {body}", code=code, params={"status": status}, detail=body,
                         status=status, excerpt=body)


def _refusal(error: outbound.Refused) -> DeliveryError:
    if isinstance(error, outbound.NotPublic):
        if error.literal:
            code, params = failures.REFUSED_PRIVATE_ADDRESS, {"address": str(error.address)}
        else:
            code, params = failures.REFUSED_PRIVATE, {"host": error.host, "address": str(error.address)}
        return DeliveryError(f"refused: {error}", code=code, params=params)
    # Unresolvable: the resolver's own words, if it gave any, are the detail.
    cause = error.__cause__
    return DeliveryError(f"refused: {error}", code=failures.REFUSED_UNRESOLVABLE, params={"host": error.host},
                         detail=failures.technical(cause) if cause is not None else "")
