from django.urls import path

from communitygrid.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("verify/", views.verify, name="verify"),
    path("new/", views.new_request, name="new"),
    path("help/", views.one_tap_help, name="help"),
    path("requests/", views.my_requests, name="requests"),
    path("requests/<int:case_id>/", views.request_detail, name="request"),
    path("link/", views.link_record, name="link"),
    path("link/unlink", views.unlink_record, name="unlink"),
]
