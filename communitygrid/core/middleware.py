"""Request hygiene shared by every page and endpoint."""
from __future__ import annotations

from django.db.utils import DataError
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def _nul_message() -> str:
    return _("The request contains a NUL character (U+0000), which no field accepts. Remove it and try again.")


def _bad_request(request):
    message = _nul_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RejectNulMiddleware:
    """A NUL in the path, the query or a submitted value is a 400, on every database.

    PostgreSQL text cannot hold NUL; without this, any lookup with one became a 500 in whichever
    view reached the database first. Bodies that views parse themselves (JSON) are covered by
    ``process_exception``: the driver's refusal is turned into the same 400.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or _has_nul(request.GET) or _body_has_nul(request):
            return _bad_request(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        # The safety net: whatever slipped through, the driver's refusal is the client's error.
        if isinstance(exception, (ValueError, DataError)) and "NUL" in str(exception):
            return _bad_request(request)
        return None


def _has_nul(query_dict) -> bool:
    return any(NUL in key or any(isinstance(v, str) and NUL in v for v in values) for key, values in query_dict.lists())


def _body_has_nul(request) -> bool:
    """SQLite would store a NUL and PostgreSQL refuse it: refuse it on both, before any view runs."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return False
    if request.content_type == "application/json":
        # JSON can carry NUL only escaped; a raw NUL byte is not valid JSON text either.
        return b"\\u0000" in request.body or b"\x00" in request.body
    if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return _has_nul(request.POST)
    return False
