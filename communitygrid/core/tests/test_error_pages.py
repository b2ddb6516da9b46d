"""403 and 404 pages are the site's own, in the page's language, saying why (found walking the demo:
a bare English "403 Forbidden" on a Chinese site)."""
import pytest
from django.test import Client
from django.urls import reverse

from communitygrid.accounts.models import Role

pytestmark = pytest.mark.django_db


def _client(user, language):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    client.cookies["cg_language"] = language
    return client


@pytest.mark.parametrize("language, heading, reason, foreign", [
    ("zh-hans", "无权访问", "您的角色不进行巡查走访。", "Forbidden"),
    ("en", "Not allowed", "Your role does not make patrols or home visits.", "无权访问"),
])
def test_a_refused_page_says_why_in_the_page_language_inside_the_site_frame(users, language, heading, reason, foreign):
    response = _client(users[Role.DISTRICT_STAFF], language).get(reverse("patrols:index"))
    body = response.content.decode()
    assert response.status_code == 403
    assert f"<h1>{heading}</h1>" in body and reason in body and foreign not in body
    assert 'id="main"' in body and reverse("core:home") in body


@pytest.mark.parametrize("language, lead, foreign", [
    ("zh-hans", "没有这个页面，或它不在您负责的范围内。", "Not Found"),
    ("en", "There is no such page, or it is outside your area.", "页面"),
])
def test_a_missing_page_is_named_in_the_page_language(users, language, lead, foreign):
    from django.utils import translation

    response = _client(users[Role.GRID_WORKER], language).get("/no-such-page/")
    body = response.content.decode()
    with translation.override(language):
        heading = translation.gettext("Page not found")
    assert response.status_code == 404
    assert f"<h1>{heading}</h1>" in body and lead in body and foreign not in body


def test_the_server_error_page_is_translated_and_needs_no_request_context(settings):
    from django.template import loader
    from django.utils import translation

    with translation.override("zh-hans"):
        body = loader.get_template("500.html").render()
    assert "<h1>出错了</h1>" in body and 'lang="zh-Hans"' in body
