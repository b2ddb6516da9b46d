"""The public board in a real headless Chromium: accessibility in both languages and elder mode."""
import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board_url(live_server, catalogue, people, submit):
    # Made before the page opens (see communitygrid/notifications/tests/test_inbox_browser.py).
    from communitygrid.cases import services

    resolved = submit(description="楼道灯坏了").case
    services.case_accept(case=resolved, actor=resolved.assignee)
    services.case_resolve(case=resolved, actor=resolved.assignee, note="换了灯泡")
    submit(category_code="env_sorting", description="垃圾分类")
    return f"/cases/board/{people.city.communities[0].code}/"


@pytest.mark.parametrize("language, elder", [("zh-hans", False), ("en", False), ("zh-hans", True)])
def test_the_board_reads_well_and_has_no_accessibility_violations(board_url, page, live_server, language, elder,
                                                                  tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "cg_elder", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)
    page.goto(board_url)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("诉求公示栏" if language == "zh-hans" else "Case board")
    assert page.get_by_role("row").count() == 3  # header + two cases
    page.screenshot(path=str(tmp_path / f"board-{language}-{'elder' if elder else 'standard'}.png"), full_page=True)
    # On a phone the table becomes one card per case, each value labelled.
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.locator("td[data-label]").first.is_visible()
