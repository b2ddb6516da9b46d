from django.urls import path

from communitygrid.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/rows", views.inbox_rows, name="inbox_rows"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/export.csv", views.case_list_csv, name="case_list_csv"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/act/<str:action>", views.case_act, name="case_act"),
    path("cases/<int:case_id>/call-back", views.case_call_back, name="case_call_back"),
    path("area/", views.area, name="area"),
    path("persons/<int:person_id>/update", views.person_update, name="person_update"),
    path("persons/<int:person_id>/unlink", views.person_unlink, name="person_unlink"),
    path("links/", views.binding_requests, name="binding_requests"),
    path("links/<int:bindingrequest_id>/", views.binding_request_detail, name="binding_request"),
    path("links/<int:bindingrequest_id>/approve", views.binding_request_approve, name="binding_request_approve"),
    path("links/<int:bindingrequest_id>/refuse", views.binding_request_refuse, name="binding_request_refuse"),
]
