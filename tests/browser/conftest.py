"""Pages in a real browser: the system's headless Chromium driven by Playwright's sync API.

No browser is downloaded: Playwright launches /usr/bin/chromium. The pages are served by
pytest-django's ``live_server`` from the test database.
"""
import os
from urllib.parse import urlparse

import pytest

# Playwright's sync API keeps an event loop in the test thread; Django would otherwise refuse
# database access from that thread (the ORM calls here are plain synchronous test set-up).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PASSWORD = "pw-for-tests-only"  # communitygrid.testing.make_user


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (no cookies) whose browser asks for Chinese, as most users' do."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.card button[type=submit]")
    wait_for_home(page)


def wait_for_home(page) -> None:
    page.wait_for_url(lambda url: urlparse(url).path == "/")
