from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from communitygrid.notifications.channels.base import Channel, PermanentDeliveryError, Target


class EmailChannel(Channel):
    """Through Django's e-mail backend (EMAIL_BACKEND and friends in settings)."""

    name = "email"

    def targets(self, *, recipient, kind):
        return [Target(address=recipient.email)] if recipient.email else []

    def send(self, notification) -> None:
        if not notification.address:
            raise PermanentDeliveryError("no e-mail address")
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            headers={"X-CG-Notification": str(notification.pk), "X-CG-Kind": notification.kind},
        )
        message.send(fail_silently=False)
