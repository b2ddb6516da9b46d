from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST

from communitygrid.accounts.models import AREA_STAFF_ROLES, Role
from communitygrid.core import selectors
from communitygrid.workbench.selectors import inbox_count


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next") or request.META.get("HTTP_REFERER") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return fallback
    return target


@login_required
def home(request):
    """Each role's start page: what their scope holds, in figures (details come from the apps)."""
    user = request.user
    context = {"norm_min": settings.GRID_HOUSEHOLDS_MIN, "norm_max": settings.GRID_HOUSEHOLDS_MAX,
               "worker_overload": settings.WORKER_HOUSEHOLDS_OVERLOAD}
    if user.is_system_admin:
        template, context["overview"] = "core/home_admin.html", selectors.system_overview(user=user)
    elif user.role == Role.RESIDENT:
        template, context["summary"] = "core/home_resident.html", selectors.resident_summary(user=user)
    elif user.role == Role.DEPARTMENT_STAFF:
        template, context["department"] = "core/home_department.html", selectors.department_summary(user=user)
        context["open_cases"] = inbox_count(user=user)
    else:  # area staff, and leaders (who get the same figures without links to people)
        template, context["area"] = "core/home_area.html", selectors.area_overview(user=user)
        context["links_to_people"] = user.role in AREA_STAFF_ROLES
    return render(request, template, context)


def favicon(request):
    return HttpResponsePermanentRedirect(static("core/favicon.svg"))


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_POST
def toggle_elder_mode(request):
    response = HttpResponseRedirect(_safe_next(request))
    enabled = request.POST.get("elder") == "1"
    response.set_cookie("cg_elder", "1" if enabled else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_POST
def set_language(request):
    response = HttpResponseRedirect(_safe_next(request))
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response
