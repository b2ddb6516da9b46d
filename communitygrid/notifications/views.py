from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from communitygrid.notifications import selectors, services
from communitygrid.notifications.models import word_all

PAGE_SIZE = 30


@login_required
def inbox(request):
    page = Paginator(selectors.inbox_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    # In the reader's language (stored rows are worded in the site's).
    page.object_list = word_all(page.object_list)
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": selectors.unread_count(user=request.user)},
    )


@login_required
def unread_badge(request):
    # A fragment for htmx polling (hx-get every minute) from the page header.
    return render(request, "notifications/unread_badge.html", {"unread": selectors.unread_count(user=request.user)})


@login_required
@require_POST
def mark_read(request, pk: int):
    if not services.notification_mark_read(user=request.user, notification_id=pk, now=timezone.now()):
        raise Http404(_("No such notification."))
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request):
    count = services.notification_mark_all_read(user=request.user, now=timezone.now())
    messages.success(
        request,
        ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
        % {"count": count},
    )
    return redirect(_back(request))


def _back(request) -> str:
    # Stay on the page the button was on; only a page number is taken from the form.
    page = request.POST.get("page", "")
    inbox_url = reverse("notifications:inbox")
    return f"{inbox_url}?page={page}" if page.isdigit() else inbox_url
