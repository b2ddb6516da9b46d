"""``{% load notifications %}{% unread_badge %}``: the inbox link with its unread count."""
from django import template

from communitygrid.notifications.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/unread_badge.html", takes_context=True)
def unread_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": unread_count(user=user) if user is not None else 0}
