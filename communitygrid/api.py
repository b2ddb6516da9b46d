"""The JSON API (Django Ninja): OpenAPI at /api/openapi.json, docs at /api/docs."""
from ninja import NinjaAPI

from communitygrid.apikeys import auth as apikey_auth

# A signed-in session, or an API key (X-API-Key or Authorization: Bearer) limited to its scopes
# (see apikeys/auth.py: DEFAULT_SCOPES, or an operation's own ``auth=key_or_session(...)``).
api = NinjaAPI(
    title="communitygrid API",
    version="1",
    urls_namespace="api",
    auth=apikey_auth.key_or_session(),
)
apikey_auth.install(api)

from communitygrid.cases.api import router as cases_router  # noqa: E402
from communitygrid.geo.api import router as geo_router  # noqa: E402
from communitygrid.registry.api import router as registry_router  # noqa: E402

api.add_router("/v1/geo", geo_router)
api.add_router("/v1/registry", registry_router)
api.add_router("/v1/cases", cases_router)
