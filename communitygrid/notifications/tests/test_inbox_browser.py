"""The inbox in a real headless Chromium: keyboard use and automated accessibility checks."""
import pytest
from django.conf import settings
from django.test import Client

from communitygrid.notifications.services import notification_enqueue
from communitygrid.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session_cookie(live_server):
    # Made before the browser starts: Playwright's sync API runs an event loop in this
    # thread, and Django refuses database calls from a thread with a running loop.
    user = make_user("grid_worker")
    for n in range(3):
        notification_enqueue(recipient=user, kind="case.assigned", subject=f"案件 {n} 已派给您", body="请及时受理。",
                             payload={"url": f"/cases/{n}/"})
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url}


@pytest.mark.parametrize("elder", [False, True])
def test_inbox_has_no_accessibility_violations_and_works_by_keyboard(session_cookie, page, live_server, elder):
    from axe_playwright_python.sync_playwright import Axe

    cookies = [session_cookie, {"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}]
    if elder:
        cookies.append({"name": "cg_elder", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)

    page.goto("/notifications/")

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page.locator("#unread-count").inner_text() == "您有 3 条未读通知。"
    # Each button names its notification, so a screen-reader user knows which one it marks.
    button = page.get_by_role("button", name="标记为已读：案件 1 已派给您", exact=True)
    assert button.inner_text() == "标记为已读"
    # Keyboard only.
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/notifications/?page=1")
    assert page.locator("#unread-count").inner_text() == "您有 2 条未读通知。"
    assert page.get_by_role("button", name="标记为已读：案件 1 已派给您").count() == 0
    assert page.get_by_role("link", name="查看：案件 0 已派给您").get_attribute("href") == "/cases/0/"


@pytest.fixture
def case_notice_cookie(live_server):
    """A "case assigned" notice queued in the site's language (zh-Hans), with its raw parameters."""
    from communitygrid.cases.models import Category
    from communitygrid.notifications import kinds

    user = make_user("grid_worker")
    category = Category.objects.create(code="h1-street-light", name="路灯损坏", name_en="Broken street light")
    params = {"id": 41, "category": category.pk, "tier": "urgent", "respond_by": "2026-03-02T02:30:00+00:00"}
    subject, body = kinds.render("case_assigned", params)
    notification_enqueue(recipient=user, kind="case_assigned", subject=subject, body=body, params=params,
                         payload={"url": "/cases/41/"})
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url}


@pytest.mark.parametrize("language, subject, respond_by", [
    ("en", "New case #41: Broken street light", "Respond by March 2, 2026 10:30."),
    ("zh-hans", "新诉求 #41：路灯损坏", "请在 2026年3月2日 10:30 前响应"),
])
def test_a_case_notice_reads_in_the_pages_language(case_notice_cookie, page, live_server, language, subject,
                                                   respond_by):
    from axe_playwright_python.sync_playwright import Axe

    page.context.add_cookies([case_notice_cookie, {"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                                                   "url": live_server.url},
                              {"name": "cg_elder", "value": "1", "url": live_server.url}])

    page.goto("/notifications/")

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page.get_by_role("heading", level=2).inner_text().endswith(subject)
    assert respond_by in page.locator(".inbox article").inner_text()
