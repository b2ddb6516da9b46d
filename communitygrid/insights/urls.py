from django.urls import path

from communitygrid.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("panel", views.panel, name="panel"),
    path("cases/", views.cases, name="cases"),
]
