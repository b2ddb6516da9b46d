from django.urls import path

from communitygrid.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.index, name="index"),
    path("persons/", views.person_list, name="person_list"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/reveal", views.person_reveal, name="person_reveal"),
    path("persons/<int:pk>/verify", views.person_verify, name="person_verify"),
    path("households/mine/", views.own_household, name="own_household"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/reveal", views.household_reveal, name="household_reveal"),
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
]
