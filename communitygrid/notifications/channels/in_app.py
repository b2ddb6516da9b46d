from __future__ import annotations

from communitygrid.notifications.channels.base import Channel, Target
from communitygrid.notifications.models import IN_APP


class InAppChannel(Channel):
    """The inbox at /notifications/: the outbox row itself is the message."""

    name = IN_APP
    immediate = True

    def targets(self, *, recipient, kind):
        return [Target()]

    def send(self, notification) -> None:
        # Nothing leaves the database; an operator's "retry" simply marks the row sent.
        return None
