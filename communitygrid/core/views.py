from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST

from django.conf import settings


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next") or request.META.get("HTTP_REFERER") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return fallback
    return target


@login_required
def home(request):
    return render(request, "core/home.html", {})


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
