"""The project's URLs plus this app's API router, for tests run before the router is mounted."""
from django.urls import path
from ninja import NinjaAPI
from ninja.security import django_auth

from communitygrid.cases.api import router
from communitygrid.urls import urlpatterns as project_urls

test_api = NinjaAPI(title="cases (tests)", urls_namespace="cases-test-api", auth=django_auth)
test_api.add_router("/v1/cases", router, url_name_prefix="cases-test")
urlpatterns = [*project_urls, path("test-api/", test_api.urls)]
