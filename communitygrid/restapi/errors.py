"""The one error body of the JSON API, and the handlers that give every failure that body.

``{"detail": "<translated message>", "field": "<first field at fault or null>",
"errors": [{"field": ..., "message": ...}]}``. ``detail`` is always one readable sentence;
``errors`` lists every field problem of a 422.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from communitygrid.cases.errors import CaseError


class FieldProblem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    field: str | None = None
    errors: list[FieldProblem] = []


# The places a value can come from; the first element of a pydantic location names it.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


def _field_name(loc) -> str:
    # List positions are dropped: "status" rather than "status.0" for a repeated parameter.
    parts = [str(part) for part in loc if not isinstance(part, int)]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    # Ninja wraps a body in the handler's argument name (payload.category): clients know only "category".
    if len(parts) > 1 and parts[0] in {"payload", "query", "filters", "filter", "data", "pagination"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _problem(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "float_parsing": _("Enter a number."),
        "float_type": _("Enter a number."),
        "finite_number": _("Enter a finite number."),
        "bool_parsing": _("Enter true or false."),
        "bool_type": _("Enter true or false."),
        "string_type": _("Enter text."),
        "list_type": _("Enter a list."),
        "dict_type": _("Enter an object."),
        "model_type": _("Enter an object."),
        "model_attributes_type": _("Enter an object."),
        "datetime_parsing": _("Enter a date and time such as 2026-03-01T08:00:00+08:00."),
        "datetime_from_date_parsing": _("Enter a date and time such as 2026-03-01T08:00:00+08:00."),
        "datetime_type": _("Enter a date and time such as 2026-03-01T08:00:00+08:00."),
        "date_parsing": _("Enter a date such as 2026-03-01."),
        "date_from_datetime_parsing": _("Enter a date such as 2026-03-01."),
        "json_invalid": _("The request body is not valid JSON."),
        "string_too_long": _("Enter at most %(n)s characters.") % {"n": ctx.get("max_length")},
        "string_too_short": _("Enter at least %(n)s characters.") % {"n": ctx.get("min_length")},
        "greater_than_equal": _("Enter a value of at least %(n)s.") % {"n": ctx.get("ge")},
        "greater_than": _("Enter a value greater than %(n)s.") % {"n": ctx.get("gt")},
        "less_than_equal": _("Enter a value of at most %(n)s.") % {"n": ctx.get("le")},
        "less_than": _("Enter a value less than %(n)s.") % {"n": ctx.get("lt")},
        "literal_error": _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected")},
        "enum": _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected")},
    }
    return str(messages.get(kind) or error.get("msg") or _("This value is not valid."))


def error_body(detail: str, field: str | None = None, errors: list[dict] | None = None) -> dict:
    return {"detail": str(detail), "field": field, "errors": errors or []}


def validation_error(request: HttpRequest, exc: ValidationError, api) -> HttpResponse:
    problems = [{"field": _field_name(error.get("loc", ())), "message": _problem(error)} for error in exc.errors]
    first = problems[0] if problems else {"field": None, "message": _("The request is not valid.")}
    detail = _("%(field)s: %(problem)s") % {"field": first["field"], "problem": first["message"]}
    return api.create_response(request, error_body(detail, first["field"], problems), status=422)


class CsrfFailed(Exception):
    """A signed-in session's write without a valid CSRF token (apikeys.auth.SessionCookieAuth)."""


def http_error(request: HttpRequest, exc: HttpError, api) -> HttpResponse:
    status = exc.status_code
    if isinstance(exc, AuthenticationError):
        detail = _("Sign in, or send a valid API key.")
    else:
        detail = str(exc.message) if hasattr(exc, "message") else str(exc)
    response = api.create_response(request, error_body(detail), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="communitygrid"'
    return response


def csrf_failed(request: HttpRequest, exc: CsrfFailed, api) -> HttpResponse:
    detail = _("The CSRF check failed: send the value of the csrftoken cookie in the X-CSRFToken header, "
               "or use an API key.")
    return api.create_response(request, error_body(detail), status=403)


def case_error(request: HttpRequest, exc: CaseError, api) -> HttpResponse:
    return api.create_response(request, error_body(exc.message, exc.field), status=exc.status)


def django_validation_error(request: HttpRequest, exc: DjangoValidationError, api) -> HttpResponse:
    """A service's ``ValidationError({"field": message})`` is a 400 naming the field."""
    if hasattr(exc, "error_dict"):
        problems = [{"field": name, "message": " ".join(messages)} for name, messages in exc.message_dict.items()]
    else:
        problems = [{"field": "body", "message": " ".join(exc.messages)}]
    first = problems[0]
    return api.create_response(request, error_body(first["message"], first["field"], problems), status=400)


def permission_denied(request: HttpRequest, exc: PermissionDenied, api) -> HttpResponse:
    return api.create_response(request, error_body(str(exc) or _("You may not do this.")), status=403)


def not_found(request: HttpRequest, exc: Exception, api) -> HttpResponse:
    return api.create_response(request, error_body(_("Not found.")), status=404)


def install(api) -> None:
    """Give ``api`` this module's handlers in place of Ninja's defaults (whose 422 body is a list)."""
    from functools import partial

    from django.http import Http404

    api.add_exception_handler(ValidationError, partial(validation_error, api=api))
    api.add_exception_handler(HttpError, partial(http_error, api=api))
    api.add_exception_handler(CsrfFailed, partial(csrf_failed, api=api))
    api.add_exception_handler(CaseError, partial(case_error, api=api))
    api.add_exception_handler(Http404, partial(not_found, api=api))
    api.add_exception_handler(DjangoValidationError, partial(django_validation_error, api=api))
    api.add_exception_handler(PermissionDenied, partial(permission_denied, api=api))
