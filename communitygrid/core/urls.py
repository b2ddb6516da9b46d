from django.urls import path

from communitygrid.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (JSON, the API docs).
    path("favicon.ico", views.favicon, name="favicon"),
    path("preferences/elder-mode", views.toggle_elder_mode, name="elder_mode"),
    path("preferences/language", views.set_language, name="set_language"),
]
