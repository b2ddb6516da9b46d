"""Keys on requests: the Django Ninja auth classes, the scope check and the per-path defaults.

A request with a key acts as the key's service-account user (``request.user``), so every
scoped selector limits it to the key's area unchanged. Which scope a request needs comes from
the operation (``key_or_session("cases:read")``) or, where an operation names none, from
``DEFAULT_SCOPES`` by method and path; a path absent there is closed to keys (default deny).
"""
from __future__ import annotations

import re

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from communitygrid.accounts.services import client_ip
from communitygrid.apikeys import services
from communitygrid.apikeys.errors import BadKey, KeyRefused, MissingScope
from communitygrid.apikeys.models import ApiKey, Scope
from communitygrid.restapi.errors import CsrfFailed

ANY_VALID_KEY = ""
# (methods, path regex, scope) — the first match decides; ANY_VALID_KEY: no scope beyond a live key.
DEFAULT_SCOPES: list[tuple[set[str], re.Pattern, str]] = [
    ({"GET", "HEAD"}, re.compile(r"^/api/v1/cases/"), Scope.CASES_READ),
    ({"POST"}, re.compile(r"^/api/v1/cases/(upload)?$"), Scope.CASES_SUBMIT),
    ({"POST", "PUT", "PATCH", "DELETE"}, re.compile(r"^/api/v1/cases/\d+/"), Scope.CASES_ACT),
    ({"GET", "HEAD"}, re.compile(r"^/api/v1/registry/"), Scope.REGISTRY_READ),
    ({"GET", "HEAD"}, re.compile(r"^/api/v1/insights/"), Scope.INSIGHTS_READ),
    ({"GET", "HEAD"}, re.compile(r"^/api/v1/geo/"), ANY_VALID_KEY),
]


def default_scope(method: str, path: str) -> str | None:
    """The scope a key needs for this request when the operation names none (None: closed to keys)."""
    for methods, pattern, scope in DEFAULT_SCOPES:
        if method in methods and pattern.search(path):
            return scope
    return None


def raw_key(request: HttpRequest) -> str | None:
    """The key a request carries: ``X-API-Key: …`` or ``Authorization: Bearer …``."""
    header = request.headers.get("X-API-Key")
    if header:
        return header.strip()
    auth = request.headers.get("Authorization") or ""
    scheme, _sep, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authenticate_request(request: HttpRequest, raw: str, *, scopes: tuple[str, ...] = ()) -> ApiKey:
    """Check the key, count it against its rate limit and check ``scopes`` (all needed; none
    given: the path's default). Raises a KeyRefused; on success the request acts as the key's
    user. A key that is found is noted on the request so its use is logged, refused or not."""
    key = services.apikey_lookup(raw)
    if key is not None:
        request.cg_api_key = key
    key = services.apikey_check(key)
    services.apikey_rate_hit(key=key)
    if not scopes:
        needed = default_scope(request.method, request.path)
        if needed is None:
            raise MissingScope(_("API keys cannot be used for %(method)s %(path)s.")
                               % {"method": request.method, "path": request.path})
        scopes = (needed,) if needed else ()
    for scope in scopes:
        services.apikey_require_scope(key, scope)
    # case_submit reads this to keep a key's submissions inside the key's areas.
    key.user.cg_api_key = key
    request.user = key.user
    return key


def require_scope(request: HttpRequest, scope: str) -> None:
    """For a handler that needs one more scope than its operation's: no-op for session users."""
    key = getattr(request, "cg_api_key", None)
    if key is not None:
        services.apikey_require_scope(key, scope)


class _KeyAuth:
    def __init__(self, *scopes: str):
        self.scopes = scopes
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key:
            return None
        return authenticate_request(request, key, scopes=self.scopes).user


class ApiKeyHeaderAuth(_KeyAuth, APIKeyHeader):
    param_name = "X-API-Key"


class ApiKeyBearerAuth(_KeyAuth, HttpBearer):
    pass


class SessionCookieAuth(SessionAuth):
    """Ninja's session authentication, its CSRF failure raised as our ``CsrfFailed`` (answered by
    restapi.errors) rather than an HttpError told apart only by its English text. Only a signed-in
    session is checked: without one this authenticates nobody, and the request is answered as any
    unauthenticated one (401, sign in or send a key)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed
        return request.COOKIES.get(self.param_name)


session_auth = SessionCookieAuth()


def key_auth(*scopes: str) -> list:
    """Both ways of presenting a key, each requiring ``scopes``."""
    return [ApiKeyHeaderAuth(*scopes), ApiKeyBearerAuth(*scopes)]


def key_or_session(*scopes: str) -> list:
    """An operation's ``auth=``: a key with ``scopes``, or a signed-in session. Keys come first:
    the session check would refuse a signed-in browser's write without the CSRF token before a
    key it sends was looked at."""
    return [*key_auth(*scopes), session_auth]


def refused_response(request: HttpRequest, exc: KeyRefused) -> JsonResponse:
    response = JsonResponse({"detail": exc.message, "field": "api_key"}, status=exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, BadKey):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def install(api) -> None:
    """Answer refused keys with their status (401, 403, 429 with Retry-After) on ``api``."""
    api.add_exception_handler(KeyRefused, refused_response)


class ApiKeyUseMiddleware:
    """Logs every request made with a key after its answer is known (status included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "cg_api_key", None)
        if key is not None:
            services.apikey_use_record(key=key, method=request.method, path=request.path,
                                       status=response.status_code, ip_address=client_ip(request))
        return response
