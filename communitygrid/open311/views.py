"""Open311 GeoReport v2 at /open311/v2/: every endpoint in .json and .xml, the spec's errors.

Handlers parse, call one selector or service and render. Every refusal is the spec's error
list (``[{"code": 400, "description": "…"}]`` / ``<errors><error>…``) with its HTTP status;
nothing here answers 5xx for bad input.
"""
from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from communitygrid.apikeys.auth import authenticate_request, raw_key
from communitygrid.apikeys.errors import KeyRefused, RateLimited
from communitygrid.apikeys.models import Scope
from communitygrid.open311 import selectors, services
from communitygrid.open311.errors import Open311Error
from communitygrid.open311.formats import to_json, to_xml, w3c
from communitygrid.open311.models import LIST_DATATYPES

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this server's Open311 offer last changed (the discovery document's "changeset").
CHANGESET = dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)
POST_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def render(fmt: str, root: str, body, *, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, body), status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(to_json(body), status=status, content_type="application/json; charset=utf-8")


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    response = render(fmt, "errors", [{"code": error.status, "description": error.description}], status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def _check_jurisdiction(value: str | None) -> None:
    if value and value != settings.OPEN311_JURISDICTION:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found; this server serves %(ours)s.")
                           % {"id": value[:60], "ours": settings.OPEN311_JURISDICTION})


def _key(request, params):
    """The request's key (api_key parameter, X-API-Key or Bearer), or None: reads without one
    are public. A key that is given must be good: a bad one is refused, never ignored."""
    raw = params.get("api_key") or raw_key(request)
    if not raw:
        return None
    try:
        return authenticate_request(request, raw, scopes=(Scope.OPEN311,))
    except RateLimited as refused:
        raise Open311Error(429, refused.message, retry_after=refused.retry_after)
    except KeyRefused as refused:
        raise Open311Error(403, refused.message)


def endpoint(*methods: str):
    """Methods allowed, the format suffix, jurisdiction_id and errors in the spec's format."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, fmt: str, **kwargs):
            try:
                if request.method not in methods:
                    raise Open311Error(405, _("%(method)s is not allowed here; use %(allowed)s.")
                                       % {"method": request.method, "allowed": ", ".join(methods)})
                if request.method == "POST":
                    _check_body(request)
                params = request.POST if request.method == "POST" else request.GET
                _check_jurisdiction(params.get("jurisdiction_id") or request.GET.get("jurisdiction_id"))
                response = view(request, params, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                response = error_response(fmt, error)
            response["Allow"] = ", ".join(methods)
            return response

        return wrapper

    return decorate


def _check_body(request) -> None:
    content_type = (request.content_type or "").lower()
    if content_type not in POST_TYPES:
        raise Open311Error(400, _("Send the request as application/x-www-form-urlencoded (or multipart/form-data), "
                                  "not %(type)s.") % {"type": content_type[:60] or _("no content type")})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.OPEN311_MAX_BODY
    too_big = Open311Error(413, _("The request body is larger than %(n)d bytes.") % {"n": limit})
    if length > limit:
        raise too_big
    try:
        request.POST  # parse now, so a body over Django's own limits is refused here
    except RequestDataTooBig:
        raise too_big


@endpoint("GET")
def discovery(request, params, *, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    body = {
        "changeset": w3c(CHANGESET),
        "contact": settings.OPEN311_CONTACT,
        "key_service": settings.OPEN311_KEY_SERVICE,
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": w3c(CHANGESET),
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }
    return render(fmt, "discovery", body)


@endpoint("GET")
def service_list(request, params, *, fmt):
    rows = [{
        "service_code": category.code,
        "service_name": category.label,
        "description": "%s · %s" % (category.parent.label, category.label),
        "metadata": any(a.variable for a in category.open311_attributes.all()),
        "type": "realtime",
        "keywords": category.get_default_tier_display(),
        "group": category.parent.label,
    } for category in selectors.services()]
    return render(fmt, "services", rows)


@endpoint("GET")
def service_definition(request, params, service_code: str, *, fmt):
    category = selectors.service_get(service_code)
    attributes = []
    for attribute in selectors.service_attributes(category):
        row = {
            "variable": attribute.variable, "code": attribute.code, "datatype": attribute.datatype,
            "required": attribute.required, "datatype_description": attribute.datatype_description or None,
            "order": attribute.order, "description": attribute.label,
        }
        if attribute.datatype in LIST_DATATYPES:
            row["values"] = attribute.choices()
        attributes.append(row)
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": attributes})


@endpoint("GET", "POST")
def service_requests(request, params, *, fmt):
    if request.method == "POST":
        return _post(request, params, fmt)
    key = _key(request, params)
    query = selectors.parse_request_query(params)
    page = selectors.requests_page(key=key, query=query)
    rows = selectors.request_rows(page, full=key is not None, extensions=query.extensions,
                                  build_uri=request.build_absolute_uri)
    response = render(fmt, "service_requests", rows)
    if page.more:
        following = params.copy()
        following.pop("page", None)
        following.pop("api_key", None)  # a link may be logged or shared; the client adds its key again
        following["after"] = selectors.encode_cursor(page.rows[-1])
        response["Link"] = '<%s?%s>; rel="next"' % (request.build_absolute_uri(request.path), following.urlencode())
    return response


def _post(request, params, fmt):
    key = _key(request, params)
    if key is None:
        raise Open311Error(403, _("api_key was not provided."))
    posted = services.request_post(key=key, data=params, idempotency_key=request.headers.get("Idempotency-Key", ""))
    body = [{"service_request_id": str(posted.case.pk), "token": posted.token, "service_notice": None,
             "account_id": posted.account_id or None}]
    return render(fmt, "service_requests", body, status=201 if posted.created else 200)


@endpoint("GET")
def service_request(request, params, service_request_id: str, *, fmt):
    key = _key(request, params)
    extensions = (params.get("extensions") or "").lower() in {"true", "1", "yes"}
    page = selectors.request_get(key=key, pk=service_request_id, extensions=extensions)
    return render(fmt, "service_requests", selectors.request_rows(page, full=key is not None, extensions=extensions,
                                                                  build_uri=request.build_absolute_uri))


@endpoint("GET")
def token(request, params, token_id: str, *, fmt):
    key = _key(request, params)
    found = selectors.token_get(key=key, token=token_id)
    return render(fmt, "service_requests", [{"service_request_id": str(found.case_id), "token": found.token}])


def not_found(request, rest: str = ""):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error_response(fmt, Open311Error(404, _("There is no Open311 endpoint at %(path)s; start from "
                                                   "discovery.json.") % {"path": request.path[:200]}))
