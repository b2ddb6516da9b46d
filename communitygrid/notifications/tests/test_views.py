import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from communitygrid.notifications.models import Notification
from communitygrid.notifications.selectors import inbox_for, unread_count
from communitygrid.notifications.services import notification_enqueue
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db


def tell(user, subject, *, read=False, **kwargs) -> Notification:
    [row] = notification_enqueue(recipient=user, kind="case.assigned", subject=subject, body="正文", **kwargs)
    if read:
        Notification.objects.filter(pk=row.pk).update(read_at=row.created_at)
    return row


@pytest.fixture
def worker(client):
    user = make_user("grid_worker")
    client.force_login(user)
    return user


def test_inbox_requires_sign_in(client):
    response = client.get(reverse("notifications:inbox"))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_inbox_lists_unread_first_then_newest_and_only_my_own(client, worker):
    old_unread = tell(worker, "old unread")
    read = tell(worker, "newest but read", read=True)
    Notification.objects.filter(pk=old_unread.pk).update(created_at=read.created_at - dt.timedelta(hours=1))
    new_unread = tell(worker, "new unread")
    tell(make_user("grid_worker"), "someone else's")

    response = client.get(reverse("notifications:inbox"))

    assert response.status_code == 200
    assert [n.subject for n in response.context["page"].object_list] == ["new unread", "old unread", "newest but read"]
    assert response.context["unread"] == 2
    assert "someone else&#x27;s" not in response.content.decode()
    assert [n.pk for n in inbox_for(user=worker)][:2] == [new_unread.pk, old_unread.pk]


def test_mark_read_marks_only_that_row(client, worker):
    first, second = tell(worker, "one"), tell(worker, "two")

    response = client.post(reverse("notifications:mark_read", args=[first.pk]), {"page": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:inbox") + "?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert unread_count(user=worker) == 1


def test_marking_read_twice_keeps_the_first_time(client, worker):
    row = tell(worker, "one")
    client.post(reverse("notifications:mark_read", args=[row.pk]))
    row.refresh_from_db()
    first_read = row.read_at

    response = client.post(reverse("notifications:mark_read", args=[row.pk]))

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.read_at == first_read


def test_cannot_mark_another_users_notification(client, worker):
    theirs = tell(make_user("grid_worker"), "theirs")

    response = client.post(reverse("notifications:mark_read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post(client, worker):
    row = tell(worker, "one")

    assert client.get(reverse("notifications:mark_read", args=[row.pk])).status_code == 405


def test_mark_all_read(client, worker):
    tell(worker, "one")
    tell(worker, "two")
    theirs = tell(make_user("grid_worker"), "theirs")

    client.post(reverse("notifications:mark_all_read"))

    assert unread_count(user=worker) == 0
    assert unread_count(user=theirs.recipient) == 1


def test_email_rows_do_not_show_in_the_inbox(client, worker):
    worker.email = "w@example.org"
    worker.save()
    tell_rows = notification_enqueue(recipient=worker, kind="k", subject="s", body="b")

    assert len(tell_rows) == 2
    assert unread_count(user=worker) == 1
    assert [n.channel for n in inbox_for(user=worker)] == ["in_app"]


def test_only_on_site_links_are_offered(client, worker):
    tell(worker, "on site", payload={"url": "/cases/17/"})
    tell(worker, "script", payload={"url": "javascript:alert(1)"})
    tell(worker, "off site", payload={"url": "//evil.example/"})

    html = client.get(reverse("notifications:inbox")).content.decode()

    assert 'href="/cases/17/"' in html
    assert "javascript:" not in html
    assert "evil.example" not in html


def test_inbox_is_in_chinese_by_default_and_english_on_request(client, worker):
    tell(worker, "one")

    assert "标记为已读" in client.get(reverse("notifications:inbox")).content.decode()
    client.cookies["cg_language"] = "en"
    assert "Mark as read" in client.get(reverse("notifications:inbox")).content.decode()


def test_unread_badge_fragment_and_template_tag_show_the_count(client, worker):
    tell(worker, "one")
    tell(worker, "two")
    client.cookies["cg_language"] = "en"

    fragment = client.get(reverse("notifications:unread_badge")).content.decode()

    assert "Notifications (2 unread)" in fragment
    request = RequestFactory().get("/")
    request.user = worker
    rendered = Template("{% load notifications %}{% unread_badge %}").render(Context({"request": request}))
    assert reverse("notifications:inbox") in rendered
    assert "2" in rendered


def test_inbox_pages_hold_thirty(client, worker):
    for n in range(31):
        tell(worker, f"n{n}")

    first = client.get(reverse("notifications:inbox"))
    second = client.get(reverse("notifications:inbox") + "?page=2")

    assert len(first.context["page"].object_list) == 30
    assert len(second.context["page"].object_list) == 1
