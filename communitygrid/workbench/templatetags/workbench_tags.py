"""The countdown text a deadline shows before the page's script takes over (and without it)."""
from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def span(seconds: int) -> str:
    """A duration in the largest two units: "2 d 3 h", "1 h 5 min", "4 min"."""
    minutes = max(seconds, 0) // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


@register.simple_tag
def countdown_words() -> str:
    """The wording of the countdown script, as data attributes (the same messages as above)."""
    words = {"left": _("%(time)s left"), "over": _("overdue by %(time)s"), "days": _("%(d)d d %(h)d h"),
             "hours": _("%(h)d h %(m)d min"), "minutes": _("%(m)d min")}
    return format_html_join(" ", 'data-{}="{}"', words.items()) + mark_safe(" data-countdown-words")


@register.filter
def countdown(due: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if due is None:
        return _("clock stopped")
    seconds = int((due - (now or timezone.now())).total_seconds())
    if seconds < 0:
        return _("overdue by %(time)s") % {"time": span(-seconds)}
    return _("%(time)s left") % {"time": span(seconds)}


@register.simple_tag
def may_patrol(user) -> bool:
    """Whether the user has grids to patrol, so the navigation offers no link that would answer 403."""
    from communitygrid.patrols.selectors import worker_grids

    return user.is_authenticated and worker_grids(user=user).exists()
