"""The back-office is themed and speaks zh-Hans for catalogues, hierarchy, users and the calendar."""
import re

import pytest


PAGES = {
    "/admin/": "社区网格",
    "/admin/cases/category/": "诉求类别",
    "/admin/geo/node/": "层级节点",
    "/admin/accounts/user/": "用户",
    "/admin/cases/calendaroverride/": "工作日调整",
}


@pytest.fixture
def root(db, django_user_model):
    # The catalogue and the calendar are the superuser's (cases/admin.py); users and hierarchy the admin role's too.
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-only")


@pytest.mark.parametrize("url, words", PAGES.items())
def test_back_office_pages_are_themed_and_in_chinese(client, users, root, url, words):
    client.force_login(root)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html
    assert 'lang="zh-hans"' in html or 'lang="zh-Hans"' in html
    assert "core/admin.css" in html  # the platform's colours
    assert 'value="en"' in html  # the language switch


def test_back_office_switches_to_english(client, root):
    client.force_login(root)
    html = client.get("/admin/cases/category/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "case categories" in html.lower()
    assert 'value="zh-hans"' in html


CHINESE_LABEL_ASCII_COLON = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]:</label>")
FORMS = ["/admin/accounts/user/add/", "/admin/cases/category/add/", "/admin/geo/node/add/",
         "/admin/cases/calendaroverride/add/"]


@pytest.mark.parametrize("url", FORMS)
def test_back_office_forms_label_fields_with_the_full_width_colon_in_chinese(client, users, root, url):
    client.force_login(root)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "：</label>" in html
    assert CHINESE_LABEL_ASCII_COLON.findall(html) == []
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ":</label>" in english and "：" not in english


def test_the_add_user_page_explains_the_next_step_in_chinese(client, root):
    """A line of Django's own template its zh-Hans catalogue leaves in English; ours translates it."""
    client.force_login(root)
    hint = "After you’ve created a user, you’ll be able to edit more user options."
    assert hint in client.get("/admin/accounts/user/add/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/admin/accounts/user/add/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert hint not in chinese and "创建用户后" in chinese


def test_the_back_office_has_the_elder_mode_switch_and_its_large_type(client, root):
    client.force_login(root)
    html = client.get("/admin/cases/category/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'name="elder" value="1" aria-pressed="false">长者模式（大字）</button>' in html
    assert "core/admin-elder.css" not in html
    switched = client.post("/preferences/elder-mode", {"elder": "1", "next": "/admin/cases/category/"})
    assert switched.status_code == 302 and switched["Location"] == "/admin/cases/category/"
    html = client.get("/admin/cases/category/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "core/admin-elder.css" in html
    assert 'name="elder" value="0" aria-pressed="true">Elder mode (large type)</button>' in html
