from django.urls import path

from communitygrid.privacy import views

app_name = "privacy"
urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("my-data/", views.my_data_access, name="my_data_access"),
]
