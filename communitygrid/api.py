"""The JSON API (Django Ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Every operation shares the machinery of ``communitygrid.restapi``: one error body, one page
envelope, ``Idempotency-Key`` on POSTs and the body guard (README, "The API").
"""
from ninja import NinjaAPI

from communitygrid.apikeys import auth as apikey_auth
from communitygrid.restapi import errors, guards, openapi


class CommunityGridAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return openapi.complete(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


# A signed-in session, or an API key (X-API-Key or Authorization: Bearer) limited to its scopes
# (see apikeys/auth.py: DEFAULT_SCOPES, or an operation's own ``auth=key_or_session(...)``).
api = CommunityGridAPI(
    title="communitygrid API",
    version="1",
    description="Cases, categories, the grid hierarchy, the registry within your scope, webhooks and your "
                "notifications. Lists take `limit`/`offset` and answer `{items, count, limit, offset}`; every error is "
                "`{detail, field, errors}`; POSTs accept an `Idempotency-Key` header.",
    urls_namespace="api",
    auth=apikey_auth.key_or_session(),
)
apikey_auth.install(api)
errors.install(api)
# Order matters: the body guard runs first (before authentication), the store step wraps it all.
api.add_decorator(guards.body_guard, mode="view")
api.add_decorator(guards.idempotency_store_step, mode="view")
api.add_decorator(guards.idempotency_claim_step, mode="operation")

from communitygrid.cases.api import router as cases_router  # noqa: E402
from communitygrid.geo.api import router as geo_router  # noqa: E402
from communitygrid.notifications.api import inbox_router  # noqa: E402
from communitygrid.notifications.api import router as webhooks_router  # noqa: E402
from communitygrid.insights.api import router as insights_router  # noqa: E402
from communitygrid.registry.api import router as registry_router  # noqa: E402

api.add_router("/v1/geo", geo_router)
api.add_router("/v1/registry", registry_router)
api.add_router("/v1/cases", cases_router)
api.add_router("/v1/webhooks", webhooks_router)
api.add_router("/v1/notifications", inbox_router)
api.add_router("/v1/insights", insights_router)
