"""The JSON API (Django Ninja): OpenAPI at /api/openapi.json, docs at /api/docs."""
from ninja import NinjaAPI
from ninja.security import django_auth

api = NinjaAPI(
    title="communitygrid API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
)

from communitygrid.cases.api import router as cases_router  # noqa: E402
from communitygrid.geo.api import router as geo_router  # noqa: E402
from communitygrid.registry.api import router as registry_router  # noqa: E402

api.add_router("/v1/geo", geo_router)
api.add_router("/v1/registry", registry_router)
api.add_router("/v1/cases", cases_router)
