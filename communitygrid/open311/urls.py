from django.urls import path, re_path, register_converter

from communitygrid.open311 import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")

app_name = "open311"
urlpatterns = [
    path("v2/discovery.<fmt:fmt>", views.discovery, name="discovery"),
    path("v2/services.<fmt:fmt>", views.service_list, name="services"),
    path("v2/services/<str:service_code>.<fmt:fmt>", views.service_definition, name="service"),
    path("v2/requests.<fmt:fmt>", views.service_requests, name="requests"),
    path("v2/requests/<str:service_request_id>.<fmt:fmt>", views.service_request, name="request"),
    path("v2/tokens/<str:token_id>.<fmt:fmt>", views.token, name="token"),
    re_path(r"^v2/(?P<rest>.*)$", views.not_found),
]
