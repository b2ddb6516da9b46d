from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from communitygrid.api import api
from communitygrid.core.admin_site import admin_site

urlpatterns = [
    path("", include("communitygrid.core.urls")),
    path("accounts/", include("communitygrid.accounts.urls")),
    path("geo/", include("communitygrid.geo.urls")),
    path("registry/", include("communitygrid.registry.urls")),
    path("privacy/", include("communitygrid.privacy.urls")),
    path("cases/", include("communitygrid.cases.urls")),
    path("insights/", include("communitygrid.insights.urls")),
    path("notifications/", include("communitygrid.notifications.urls")),
    path("open311/", include("communitygrid.open311.urls")),
    path("workbench/", include("communitygrid.workbench.urls")),
    path("patrols/", include("communitygrid.patrols.urls")),
    path("portal/", include("communitygrid.portal.urls")),
    path("admin/", admin_site.urls),
    path("api/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
