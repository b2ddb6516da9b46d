"""Why a delivery failed: recorded as a code and its parameters, put into words when shown.

The worker that records a failure has no reader; the person who later reads the outbox in the
back-office (or an application through the API) may read Chinese or English. So a failure is
stored as *what happened*, without language (``refused_private`` with ``{"host": "localhost",
"address": "127.0.0.1"}``), and :func:`describe` words it in the active language of the page
that shows it. What the code and parameters do not already say (the receiver's answer, the
operating system's error text) is kept beside it as technical detail, in the words of whoever
said it. Log lines stay in English, for operators' tools; they are not what people read here.

Rows recorded before codes existed hold only their text, shown as it was stored. A channel
plug-in may :func:`register` codes of its own, as apps register their notification kinds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REFUSED_PRIVATE = "refused_private"
REFUSED_PRIVATE_ADDRESS = "refused_private_address"
REFUSED_UNRESOLVABLE = "refused_unresolvable"
HTTP_ERROR = "http_error"
HTTP_REDIRECT = "http_redirect"
TIMEOUT = "timeout"
CONNECTION_TIMEOUT = "connection_timeout"
CONNECTION_FAILED = "connection_failed"
ENDPOINT_GONE = "endpoint_gone"
NOT_HTTP = "not_http"
NO_EMAIL_ADDRESS = "no_email_address"
MAIL_REFUSED = "mail_refused"
MAIL_LOGIN_REFUSED = "mail_login_refused"
CHANNEL_DISABLED = "channel_disabled"
CHANNEL_REFUSED = "channel_refused"
CHANNEL_FAILED = "channel_failed"

# Stored in a CharField of this length.
CODE_MAX = 40

_reasons: dict[str, object] = {}


def register(code: str, message) -> None:
    """``message``: a lazy translation, filled with the failure's parameters (``%(name)s``)."""
    if not 0 < len(code) <= CODE_MAX:
        raise ValueError(f"a failure code is 1–{CODE_MAX} characters, got {code!r}")
    _reasons[code] = message


register(REFUSED_PRIVATE, _(
    "Not sent: %(host)s resolves to %(address)s, a private, loopback or reserved address; webhooks are sent "
    "only to addresses on the public network."))
register(REFUSED_PRIVATE_ADDRESS, _(
    "Not sent: %(address)s is a private, loopback or reserved address; webhooks are sent only to addresses on "
    "the public network."))
register(REFUSED_UNRESOLVABLE, _("Not sent: the host name %(host)s does not resolve to an address."))
register(HTTP_ERROR, _("The receiving system answered with an error (HTTP status %(status)s)."))
register(HTTP_REDIRECT, _(
    "The receiving system answered with a redirect (HTTP status %(status)s); redirects are not followed, so "
    "check the endpoint's URL."))
register(TIMEOUT, _("The receiving system did not answer in time (time limit: %(seconds)s s)."))
register(CONNECTION_TIMEOUT, _("The receiving server did not answer in time."))
register(CONNECTION_FAILED, _("Could not connect to the receiving server."))
register(ENDPOINT_GONE, _("Not sent: the webhook endpoint was deleted or disabled."))
register(NOT_HTTP, _("Not sent: %(url)s is not an http:// or https:// address."))
register(NO_EMAIL_ADDRESS, _("Not sent: the recipient has no e-mail address."))
register(MAIL_REFUSED, _("The mail server refused the message."))
register(MAIL_LOGIN_REFUSED, _(
    "The mail server refused this server's sign-in; check EMAIL_HOST_USER and EMAIL_HOST_PASSWORD."))
register(CHANNEL_DISABLED, _("Not sent: the delivery channel %(channel)s is not enabled on this server."))
register(CHANNEL_REFUSED, _(
    "The delivery channel %(channel)s refused the message for good; see the technical detail."))
register(CHANNEL_FAILED, _("Sending through the delivery channel %(channel)s failed; see the technical detail."))


def codes() -> list[str]:
    return list(_reasons)


@dataclass(frozen=True)
class Failure:
    """What is recorded of one failed send."""

    code: str
    params: dict = field(default_factory=dict)
    # What code and parameters do not say; never a translation of them.
    detail: str = ""


def describe(code: str, params: dict | None, text: str = "") -> str:
    """The reason, in the active language. ``text``: what a row recorded before codes existed
    holds instead, shown as it is."""
    if not code:
        return text
    message = _reasons.get(code)
    if message is not None:
        try:
            return str(message) % (params or {})
        except (KeyError, TypeError, ValueError):
            pass  # recorded with other parameters than this wording needs
    # A code this version does not know (a plug-in removed, a newer worker): say so, in words.
    return gettext("Delivery failed (reason code %(code)s).") % {"code": code}


def technical(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def failure_of(error: Exception, *, channel: str) -> Failure:
    """What to record of the exception a channel's ``send`` raised."""
    from communitygrid.notifications.channels.base import DeliveryError, PermanentDeliveryError

    if isinstance(error, DeliveryError) and error.code:
        return Failure(error.code, dict(error.params), error.detail)
    # A channel that let an error of its transport through: named for what it means, if known.
    if isinstance(error, TimeoutError):
        return Failure(CONNECTION_TIMEOUT, {}, technical(error))
    if isinstance(error, ConnectionError):
        return Failure(CONNECTION_FAILED, {}, technical(error))
    if isinstance(error, PermanentDeliveryError):
        return Failure(CHANNEL_REFUSED, {"channel": channel}, error.detail)
    if isinstance(error, DeliveryError):
        return Failure(CHANNEL_FAILED, {"channel": channel}, error.detail)
    return Failure(CHANNEL_FAILED, {"channel": channel}, technical(error))
