from django.urls import path

from communitygrid.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/rows", views.inbox_rows, name="inbox_rows"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/act/<str:action>", views.case_act, name="case_act"),
    path("area/", views.area, name="area"),
    path("persons/<int:person_id>/update", views.person_update, name="person_update"),
]
