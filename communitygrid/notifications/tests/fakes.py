"""A test channel whose sends fail on demand, registered through NOTIFICATION_CHANNELS."""
from communitygrid.notifications.channels.base import Channel, PermanentDeliveryError, Target

CHANNELS = {
    "in_app": "communitygrid.notifications.channels.in_app.InAppChannel",
    "flaky": "communitygrid.notifications.tests.fakes.FlakyChannel",
}


class FlakyChannel(Channel):
    name = "flaky"
    # Per test: what each send does, in order ("ok", "fail", "gone"); then "ok" forever.
    script: list[str] = []
    sent: list[int] = []

    def targets(self, *, recipient, kind):
        return [Target(address=f"flaky:{recipient.pk}")]

    def send(self, notification):
        step = self.script.pop(0) if self.script else "ok"
        if step == "fail":
            raise ConnectionError("gateway timed out")
        if step == "gone":
            raise PermanentDeliveryError("subscriber unknown")
        type(self).sent.append(notification.pk)


class RefusingMailBackend:
    """An e-mail backend whose server refuses every recipient (settings.EMAIL_BACKEND in a test)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"5.1.1 mailbox unavailable") for m in messages})
