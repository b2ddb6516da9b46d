from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from communitygrid.privacy.forms import AccessLogFilterForm
from communitygrid.privacy.selectors import access_log_queryset, own_record_access_queryset

PAGE_SIZE = 50


@login_required
def access_log(request):
    form = AccessLogFilterForm(request.GET or None)
    entries = access_log_queryset(user=request.user)
    status = 200
    if form.is_bound:
        if form.is_valid():
            entries = entries.filter(**form.filters())
        else:
            entries, status = entries.none(), 400
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "privacy/access_log.html",
                  {"form": form, "page": page, "query": query.urlencode()}, status=status)


@login_required
def my_data_access(request):
    entries = own_record_access_queryset(user=request.user)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "privacy/my_data_access.html",
                  {"page": page, "has_record": bool(request.user.person_id)})
