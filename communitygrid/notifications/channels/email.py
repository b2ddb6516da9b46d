from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from communitygrid.notifications import failures
from communitygrid.notifications.channels.base import Channel, DeliveryError, PermanentDeliveryError, Target


class EmailChannel(Channel):
    """Through Django's e-mail backend (EMAIL_BACKEND and friends in settings)."""

    name = "email"

    def targets(self, *, recipient, kind):
        return [Target(address=recipient.email)] if recipient.email else []

    def send(self, notification) -> None:
        if not notification.address:
            raise PermanentDeliveryError("no e-mail address", code=failures.NO_EMAIL_ADDRESS)
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            headers={"X-CG-Notification": str(notification.pk), "X-CG-Kind": notification.kind},
        )
        try:
            message.send(fail_silently=False)
        # Retried like any failure; the code says which side to look at.
        except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as error:
            raise DeliveryError(str(error), code=failures.CONNECTION_FAILED, detail=failures.technical(error)) from error
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(str(error), code=failures.MAIL_LOGIN_REFUSED, detail=failures.technical(error)) from error
        except smtplib.SMTPException as error:
            raise DeliveryError(str(error), code=failures.MAIL_REFUSED, detail=failures.technical(error)) from error
