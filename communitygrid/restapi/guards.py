"""Decorators the API applies to every operation (``communitygrid/api.py`` installs them).

- ``body_guard``: a body larger than the limit is 413, a body of a type the operation does not
  read is 415 — checked before authentication, parsing or any database work.
- ``idempotency_claim_step`` + ``idempotency_store_step``: a POST with an ``Idempotency-Key``
  header is answered once; a retry with the same key and the same request gets the first answer
  again (with ``Idempotent-Replayed: true``), the same key with another request 422, the same
  key while the first request is still running 409.
"""
from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _

from communitygrid.restapi import services
from communitygrid.restapi.errors import error_body

KEY_MAX = 255
JSON_TYPES = {"application/json"}
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def max_json_bytes() -> int:
    return int(getattr(settings, "API_MAX_JSON_BYTES", 1024 * 1024))


def max_upload_bytes() -> int:
    return int(getattr(settings, "API_MAX_UPLOAD_BYTES", 100 * 1024 * 1024))


def _sources(operation) -> set[str]:
    return {getattr(model, "__ninja_param_source__", "") for model in operation.models}


def body_kind(operation) -> str | None:
    """"json", "form" or None (the operation reads no body)."""
    sources = _sources(operation)
    if sources & {"form", "file"}:
        return "form"
    if "body" in sources:
        return "json"
    return None


def _json_error(api, request, status: int, detail: str, field: str | None = None) -> HttpResponse:
    return api.create_response(request, error_body(detail, field), status=status)


def body_guard(run):
    operation = run.__self__
    kind = body_kind(operation)

    @functools.wraps(run)
    def guarded(request, *args, **kwargs):
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = max_upload_bytes() if kind == "form" else max_json_bytes()
            if length > limit:
                return _json_error(operation.api, request, 413,
                                   _("The request body is %(size)s bytes; the limit is %(limit)s bytes.")
                                   % {"size": length, "limit": limit})
            content_type = (request.content_type or "").lower()
            allowed = JSON_TYPES if kind == "json" else FORM_TYPES if kind == "form" else None
            if allowed is not None and length and content_type not in allowed:
                return _json_error(operation.api, request, 415,
                                   _("Send the body as %(types)s, not “%(type)s”.")
                                   % {"types": " or ".join(sorted(allowed)), "type": content_type or "-"})
        return run(request, *args, **kwargs)

    return guarded


def principal_of(request) -> str:
    """Who is asking, as a short stable string: the API key if one was used, else the user."""
    key = getattr(request, "cg_api_key", None)
    if key is not None:
        return f"apikey:{key.pk}"
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "_meta") and getattr(auth, "pk", None) is not None:
        return f"{auth._meta.label_lower}:{auth.pk}"
    user = getattr(request, "user", None)
    return f"user:{getattr(user, 'pk', None)}"


def fingerprint_of(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.content_type or ""):
        digest.update(part.encode() + b"\0")
    try:
        digest.update(request.body)
    except RawPostDataException:
        # A multipart body was already parsed into fields and files (its stream is consumed).
        for name, values in sorted(request.POST.lists()):
            digest.update(repr((name, values)).encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(repr((name, upload.name, upload.size)).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    return digest.hexdigest()


def idempotency_claim_step(view_func):
    """Runs after authentication and validation, so the key is bound to a known client."""

    @functools.wraps(view_func)
    def claimed(request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return view_func(request, *args, **kwargs)
        from communitygrid.api import api

        key = key.strip()
        if not 0 < len(key) <= KEY_MAX or not key.isprintable():
            return _json_error(api, request, 400,
                               _("Idempotency-Key: use 1 to %(n)s printable characters.") % {"n": KEY_MAX},
                               "Idempotency-Key")
        claim = services.idempotency_claim(principal=principal_of(request), key=key,
                                           fingerprint=fingerprint_of(request), method=request.method,
                                           path=request.path[:500])
        if claim.outcome == "mismatch":
            return _json_error(api, request, 422,
                               _("Idempotency-Key: this key was already used for a different request."),
                               "Idempotency-Key")
        if claim.outcome == "busy":
            return _json_error(api, request, 409,
                               _("Idempotency-Key: the first request with this key is still being processed; retry later."),
                               "Idempotency-Key")
        if claim.outcome == "replay":
            record = claim.record
            response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
            response["Idempotent-Replayed"] = "true"
            return response
        request._idempotency_record = claim.record
        return view_func(request, *args, **kwargs)

    return claimed


def idempotency_store_step(run):
    """Wraps the whole operation, so it stores the response exactly as the client received it."""

    @functools.wraps(run)
    def stored(request, *args, **kwargs):
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            record = getattr(request, "_idempotency_record", None)
            if record is not None:
                services.idempotency_release(record=record)
            raise
        record = getattr(request, "_idempotency_record", None)
        if record is not None:
            body = b"" if getattr(response, "streaming", False) else response.content
            services.idempotency_complete(record=record, status_code=response.status_code,
                                          content_type=response.get("Content-Type", ""), body=body)
        return response

    return stored
