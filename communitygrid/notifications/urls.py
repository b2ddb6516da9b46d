from django.urls import path

from communitygrid.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("unread", views.unread_badge, name="unread_badge"),
    path("<int:pk>/read", views.mark_read, name="mark_read"),
    path("read-all", views.mark_all_read, name="mark_all_read"),
]
