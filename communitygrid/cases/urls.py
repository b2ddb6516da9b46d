from django.urls import path

from communitygrid.cases import views

app_name = "cases"
urlpatterns = [
    path("board/<str:community_code>/", views.board, name="board"),
]
