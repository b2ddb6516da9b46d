from django.urls import path

from communitygrid.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("preferences/elder-mode", views.toggle_elder_mode, name="elder_mode"),
    path("preferences/language", views.set_language, name="set_language"),
]
