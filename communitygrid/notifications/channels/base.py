"""What a delivery channel is: who it reaches for a recipient, and how it sends one row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from communitygrid.accounts.models import User
    from communitygrid.notifications.models import Notification, WebhookEndpoint


class DeliveryError(Exception):
    """The send failed; the outbox retries later with backoff.

    ``message`` is for the log (English). What people read is ``code`` with ``params``: a reason
    of :mod:`communitygrid.notifications.failures`, put into words in the reader's language.
    ``detail``: technical detail that code and parameters do not say (an error text, the
    receiver's answer); without a code, the message itself. ``status`` and ``excerpt``: the
    receiver's HTTP answer, when there was one (kept in the delivery's attempt log)."""

    def __init__(self, message: str, *, code: str = "", params: dict | None = None, detail: str | None = None,
                 status: int | None = None, excerpt: str = ""):
        super().__init__(message)
        self.code, self.params = code, dict(params or {})
        self.detail = detail if detail is not None else ("" if code else message)
        self.status, self.excerpt = status, excerpt


@dataclass(frozen=True)
class Sent:
    """What a channel's ``send`` may return on success: the receiver's answer, for the attempt log."""

    status: int | None = None
    excerpt: str = ""


class PermanentDeliveryError(DeliveryError):
    """The send can never succeed (target gone, channel not configured): no retry."""


@dataclass(frozen=True)
class Target:
    """One place a notification goes: an address, or a webhook endpoint."""

    address: str = ""
    endpoint: "WebhookEndpoint | None" = None

    @property
    def key(self) -> str:
        # Distinguishes two targets of one channel in the dedupe key.
        return f"endpoint:{self.endpoint.pk}" if self.endpoint is not None else self.address


class Channel:
    """A delivery plug-in. Subclasses set ``name`` and implement ``targets`` and ``send``.

    ``send`` returns normally on success and raises on failure (``PermanentDeliveryError``
    when retrying cannot help; any other exception is retried). It must be safe to call twice
    for the same row: delivery is at least once.
    """

    name: ClassVar[str]
    # Delivered by being written (the in-app inbox): enqueue marks such rows sent at once.
    immediate: ClassVar[bool] = False

    def targets(self, *, recipient: "User", kind: str) -> list[Target]:
        raise NotImplementedError

    def send(self, notification: "Notification") -> None:
        raise NotImplementedError
