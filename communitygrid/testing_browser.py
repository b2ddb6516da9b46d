"""Browser-test plumbing shared by every app: one Playwright, the system's Chromium, axe-core.

No browser is downloaded: Playwright launches /usr/bin/chromium. There is ONE Playwright per
test session (the root conftest's ``browser`` fixture): the sync API runs an event loop in the
test thread, and a second ``sync_playwright()`` while one is running fails.
"""
from __future__ import annotations

from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PASSWORD = "pw-for-tests-only"  # communitygrid.testing.make_user
SERIOUS = {"serious", "critical"}


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.card button[type=submit]")
    wait_for_home(page)


def wait_for_home(page) -> None:
    page.wait_for_url(lambda url: urlparse(url).path == "/")


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab from the top until ``selector`` has the focus (the keyboard alone reaches it), or fail."""
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"Tab never reaches {selector}")


def serious_violations(page, **options) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"], **options})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in SERIOUS]
