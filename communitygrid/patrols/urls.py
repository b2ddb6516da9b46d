from django.urls import path

from communitygrid.patrols import views

app_name = "patrols"
urlpatterns = [
    path("", views.index, name="index"),
    path("start", views.start, name="start"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:visit_id>/end", views.end, name="end"),
    path("visits/<int:visit_id>/issue", views.issue, name="issue"),
]
