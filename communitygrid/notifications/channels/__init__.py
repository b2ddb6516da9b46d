"""Delivery channels, a registry by name.

The enabled channels and their classes come from ``settings.NOTIFICATION_CHANNELS``
(name → dotted path); unset, the built-in in-app, e-mail and webhook channels. To add SMS or
WeChat, write a :class:`~communitygrid.notifications.channels.base.Channel` subclass and add it
to that setting (docs/operations/background-work.md, "Adding a channel").
"""
from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from communitygrid.notifications import failures
from communitygrid.notifications.channels.base import Channel, PermanentDeliveryError

DEFAULT_CHANNELS = {
    "in_app": "communitygrid.notifications.channels.in_app.InAppChannel",
    "email": "communitygrid.notifications.channels.email.EmailChannel",
    "webhook": "communitygrid.notifications.channels.webhook.WebhookChannel",
}


@cache
def registry() -> dict[str, Channel]:
    configured = getattr(settings, "NOTIFICATION_CHANNELS", None) or DEFAULT_CHANNELS
    channels = {}
    for name, path in configured.items():
        channel = import_string(path)()
        if channel.name != name:
            raise ValueError(f"NOTIFICATION_CHANNELS[{name!r}] is {path}, whose name is {channel.name!r}")
        channels[name] = channel
    return channels


def get_channel(name: str) -> Channel:
    try:
        return registry()[name]
    except KeyError:
        # A row queued for a channel that has since been switched off: nothing will ever send it.
        raise PermanentDeliveryError(f"channel {name!r} is not enabled", code=failures.CHANNEL_DISABLED,
                                     params={"channel": name}) from None


@receiver(setting_changed)
def _reset(*, setting, **kwargs):
    if setting == "NOTIFICATION_CHANNELS":
        registry.cache_clear()
