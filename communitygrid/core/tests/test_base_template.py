"""The frame of every page: language and elder-mode switches remembered by cookie, lang, skip link, admin in zh-Hans."""
import pytest
from django.urls import reverse

from communitygrid.accounts.models import Role

LOGIN = reverse("accounts:login")


def test_pages_are_in_simplified_chinese_by_default(client, db):
    page = client.get(LOGIN).content.decode()
    assert '<html lang="zh-Hans"' in page
    assert "跳到正文" in page and 'href="#main"' in page and 'id="main"' in page
    assert '<button name="language" value="en" lang="en">English</button>' in page


def test_switching_to_english_is_remembered_and_returns_to_the_page(client, db):
    response = client.post(reverse("core:set_language"), {"language": "en", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert response.cookies["cg_language"].value == "en"
    page = client.get(LOGIN).content.decode()
    assert '<html lang="en"' in page and "Skip to content" in page
    assert '<button name="language" value="zh-hans" lang="zh-Hans">中文</button>' in page


def test_an_unknown_language_changes_nothing(client, db):
    response = client.post(reverse("core:set_language"), {"language": "xx", "next": LOGIN})
    assert "cg_language" not in response.cookies


def test_elder_mode_is_remembered_and_can_be_switched_off(client, db):
    response = client.post(reverse("core:elder_mode"), {"elder": "1", "next": LOGIN})
    assert response.cookies["cg_elder"].value == "1"
    page = client.get(LOGIN).content.decode()
    assert 'class="elder"' in page and 'aria-pressed="true"' in page
    client.post(reverse("core:elder_mode"), {"elder": "0", "next": LOGIN})
    page = client.get(LOGIN).content.decode()
    assert 'class="elder"' not in page and 'aria-pressed="false"' in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_the_switches_never_redirect_off_site(client, db, target):
    for url, data in [(reverse("core:set_language"), {"language": "en"}), (reverse("core:elder_mode"), {"elder": "1"})]:
        response = client.post(url, {**data, "next": target})
        assert response["Location"] == "/"


def test_the_switches_only_take_post(client, db):
    assert client.get(reverse("core:set_language")).status_code == 405
    assert client.get(reverse("core:elder_mode")).status_code == 405


def test_the_admin_speaks_simplified_chinese_by_default(client, users):
    login = client.get(reverse("admin:login")).content.decode()
    assert 'lang="zh-hans"' in login and "用户名" in login
    client.force_login(users[Role.ADMIN])
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "社区网格管理后台" in index.content.decode()


def test_the_stylesheet_is_served_with_elder_mode_rules(client, db):
    from django.templatetags.static import static

    response = client.get(static("core/site.css"))
    assert response.status_code == 200
    css = b"".join(response.streaming_content).decode()
    assert "html.elder" in css and "--base: 22px" in css and "48px" in css


@pytest.mark.parametrize("language, word", [("zh-hans", "消息通知"), ("en", "Notifications")])
def test_every_signed_in_page_links_to_the_notifications(client, users, language, word):
    """Found walking the demo: the notifications inbox existed, but no page linked to it."""
    inbox = reverse("notifications:inbox")
    client.cookies["cg_language"] = language
    assert f'href="{inbox}"' not in client.get(LOGIN).content.decode()
    for role in (Role.RESIDENT, Role.GRID_WORKER, Role.DEPARTMENT_STAFF, Role.LEADER):
        client.force_login(users[role])
        page = client.get(reverse("core:home")).content.decode()
        assert f'<a href="{inbox}">{word}</a>' in page, role
    page = client.get(inbox).content.decode()
    assert f'<a href="{inbox}" aria-current="page">{word}</a>' in page


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client, db):
    from django.contrib.staticfiles import finders

    page = client.get(LOGIN).content.decode()
    assert '<link rel="icon" href="/static/core/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("core/favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/core/favicon.svg"
