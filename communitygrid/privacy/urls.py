from django.urls import path

app_name = "privacy"
urlpatterns: list = []
