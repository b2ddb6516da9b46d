"""Where one-time codes go: the plug-in point for a real SMS gateway.

``settings.SMS_SENDER`` is ``"screen"`` (the default: nothing is sent, the sign-up page shows the
code; for the demo and closed networks without a gateway) or the dotted path of a class like
:class:`SmsSender`. A gateway adapter is a few lines, e.g.::

    class AliyunSender(SmsSender):
        def send(self, *, phone, message):
            client.send_sms(PhoneNumbers=phone, TemplateParam=json.dumps({"code": ...}))

and ``CG_SMS_SENDER=mypackage.sms.AliyunSender``. ``send`` raises on failure; the code is then
not counted as sent (the caller's transaction rolls back).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class SmsSender:
    #: True when the code is shown on the page instead of being sent.
    shows_on_screen = False

    def send(self, *, phone: str, message: str) -> None:
        raise NotImplementedError


class ScreenSender(SmsSender):
    """Sends nothing: the page the resident is on shows the code."""

    shows_on_screen = True

    def send(self, *, phone: str, message: str) -> None:
        return None


def sms_sender() -> SmsSender:
    name = getattr(settings, "SMS_SENDER", "screen") or "screen"
    if name == "screen":
        return ScreenSender()
    try:
        sender = import_string(name)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"CG_SMS_SENDER={name!r} cannot be imported: {exc}") from exc
    if not callable(getattr(sender, "send", None)):
        raise ImproperlyConfigured(f"CG_SMS_SENDER={name!r} has no send(*, phone, message) method")
    return sender
