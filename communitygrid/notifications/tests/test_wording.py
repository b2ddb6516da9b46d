"""The inbox words a notification in its reader's language from its kind and raw parameters, and
shows the stored text whenever it cannot: rows queued before parameters were kept, a kind no app
registers, a parameter missing or naming something gone. Never an error page."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from communitygrid.cases.models import Category
from communitygrid.notifications import kinds
from communitygrid.notifications.models import Notification, word_all
from communitygrid.notifications.services import notification_enqueue
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db


def _row(user, *, kind="case_follow_up", params=None, subject="存储的标题", body="存储的正文"):
    [row] = [r for r in notification_enqueue(recipient=user, kind=kind, subject=subject, body=body, params=params)
             if r.channel == "in_app"]
    return Notification.objects.get(pk=row.pk)


def _shown(client, user, row, language="en"):
    """(subject, body) of ``row`` on the inbox page and in the API, in ``language``."""
    client.force_login(user)
    page = client.get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE=language)
    api = client.get(f"/api/v1/notifications/{row.pk}", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200 and api.status_code == 200
    [on_page] = [n for n in page.context["page"].object_list if n.pk == row.pk]
    assert on_page.worded_subject in page.content.decode()
    return (on_page.worded_subject, on_page.worded_body), (api.json()["subject"], api.json()["body"])


@pytest.fixture
def category():
    return Category.objects.filter(parent__isnull=False).order_by("pk").first()


def test_a_row_with_parameters_reads_in_english_and_in_chinese(client, category):
    user = make_user("grid_worker")
    params = {"id": 7, "category": category.pk, "tier": "urgent"}
    subject, body = kinds.render("case_follow_up", params)
    row = _row(user, params=params, subject=subject, body=body)

    page, api = _shown(client, user, row, "en")
    assert page == api == ("Follow-up check on case #7",
                           f"Urgent case #7 ({category.name_en}) was resolved a day ago: check on the resident.")
    page, api = _shown(client, user, row, "zh-hans")
    assert page == api == (subject, body) and category.name in body


def test_an_old_row_without_parameters_shows_its_stored_text(client):
    user = make_user("grid_worker")
    row = _row(user, params=None)

    assert row.params is None
    assert _shown(client, user, row, "en") == (("存储的标题", "存储的正文"),) * 2


@pytest.mark.parametrize("kind, params", [
    ("no_such_kind", {"id": 7}),  # a kind no app registers (a plug-in removed)
    ("case_follow_up", {"id": 7}),  # a parameter missing
    ("case_follow_up", {"id": 7, "category": 10**9, "tier": "urgent"}),  # a category gone
    ("case_follow_up", {"id": 7, "category": None, "tier": "no-such-tier"}),  # values it cannot read
    ("case_assigned", {"id": 7, "tier": "general", "respond_by": "not a moment", "category": None}),
    ("case_follow_up", ["not", "a", "dict"]),
])
def test_what_cannot_be_worded_shows_the_stored_text(client, kind, params):
    user = make_user("grid_worker")
    row = _row(user, kind=kind, params=params)

    assert _shown(client, user, row, "en") == (("存储的标题", "存储的正文"),) * 2


def test_rows_worded_together_look_each_category_up_once(django_assert_num_queries, category):
    user = make_user("grid_worker")
    for number in range(5):
        _row(user, params={"id": number, "category": category.pk, "tier": "general"})
    rows = list(Notification.objects.filter(recipient=user, channel="in_app"))

    with translation.override("en"), django_assert_num_queries(1):
        worded = word_all(rows)
    assert all(category.name_en in row.worded_body for row in worded)


def test_a_page_of_several_categories_looks_them_up_in_one_query(client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user("grid_worker")
    categories = list(Category.objects.filter(parent__isnull=False).order_by("pk")[:3])
    for number, category in enumerate(categories * 2):
        _row(user, params={"id": number, "category": category.pk, "tier": "general"})
    rows = list(Notification.objects.filter(recipient=user, channel="in_app").order_by("pk"))

    with translation.override("en"):
        one_by_one = [kinds.word(row.kind, row.params) for row in rows]  # a lookup each
        with django_assert_num_queries(1):
            worded = word_all(rows)
    assert [(row.worded_subject, row.worded_body) for row in worded] == one_by_one
    assert [category.name_en in row.worded_body for row, category in zip(worded, categories * 2)] == [True] * 6

    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and all(category.name in page.content.decode() for category in categories)
    assert len([q for q in captured.captured_queries if 'FROM "cases_category"' in q["sql"]]) == 1


def test_a_moment_reads_in_the_local_time_zone_formatted_for_the_language():
    with translation.override("en"):
        english = kinds.moment("2026-03-02T02:00:00+00:00")
    with translation.override("zh-hans"):
        chinese = kinds.moment("2026-03-02T02:00:00+00:00")

    assert (english, chinese) == ("March 2, 2026 10:00", "2026年3月2日 10:00")  # Asia/Shanghai
    assert kinds.moment(None) == kinds.moment("—") == "—"


def test_the_api_inbox_is_not_open_to_anonymous_requests(client):
    assert client.get("/api/v1/notifications").status_code == 401
