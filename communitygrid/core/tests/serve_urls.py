"""Every URL of the project, plus ``GET /slow/?n=N&seconds=S`` for test_serve.py: a request still at
work when the server is told to stop, a series of short queries for S seconds. It leaves a file in
the data directory when it starts (the test signals the server only once every such request is
in a worker's hands) and another when it has finished its work."""
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path


def slow(request):
    n = int(request.GET["n"])
    (settings.DATA_DIR / f"slow-{n}.started").touch()
    end = time.monotonic() + float(request.GET["seconds"])
    with connection.cursor() as cursor:
        while time.monotonic() < end:
            cursor.execute("SELECT 1")
            time.sleep(0.01)
    (settings.DATA_DIR / f"slow-{n}.finished").touch()
    return JsonResponse({"n": n})


urlpatterns = [path("slow/", slow), path("", include("communitygrid.urls"))]
