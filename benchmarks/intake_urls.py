"""Every URL of the project, plus the intake benchmark's bare endpoint ``POST /ping/``: the same
session authentication and CSRF check as the API, then one INSERT — the ceiling of the stack."""
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import include, path


def insert_one_row(request):
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ping (at) VALUES (now()) RETURNING id")
        return JsonResponse({"id": cursor.fetchone()[0]}, status=201)


urlpatterns = [path("ping/", insert_one_row), path("", include("communitygrid.urls"))]
