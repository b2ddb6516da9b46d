"""Fixtures shared by every app's tests (environment: communitygrid/pytest_env.py)."""
import pytest


def pytest_configure(config):
    from django.conf import settings

    # Tests create many users; the production hasher's deliberate slowness buys nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_lookup_copies():
    """Per-process copies of small tables (cases.lookups) must not outlive a test's rolled-back rows."""
    from communitygrid.cases import lookups

    lookups.clear()
    yield
    lookups.clear()


@pytest.fixture
def generic_plan_of(users):
    """``plan(action, pattern)``: PostgreSQL's generic plan of the statement ``action()`` sends
    whose SQL matches ``pattern``, with sequential scans as the last resort (small tables), over
    a little history (``testing.seed_history``) so a partial index is the smaller one."""
    import re

    from django.db import connection

    from communitygrid.accounts.models import Role
    from communitygrid.testing import generic_plan, seed_history, statements_of

    if connection.vendor != "postgresql":
        pytest.skip("generic plans are PostgreSQL's planner: tested on the suite's PostgreSQL pass")
    seed_history(users[Role.GRID_WORKER], submitter=users[Role.RESIDENT],
                 department=users[Role.DEPARTMENT_STAFF].department)

    def plan(action, pattern: str) -> str:
        sent = [(sql, params) for sql, params in statements_of(action) if re.search(pattern, sql, re.S)]
        assert sent, f"no statement matching {pattern!r} was sent"
        return generic_plan(*sent[0], seqscan=False)

    return plan


@pytest.fixture
def city(db):
    from communitygrid.testing import build_city

    return build_city()


@pytest.fixture
def users(city):
    from communitygrid.testing import make_household, role_users

    for grid in city.grids:
        make_household(grid)
    return role_users(city)


@pytest.fixture(scope="session")
def browser():
    """The one headless Chromium of the session (see communitygrid/testing_browser.py)."""
    import os

    from playwright.sync_api import sync_playwright

    from communitygrid.testing_browser import CHROMIUM, CHROMIUM_ARGS

    # Playwright's sync API keeps an event loop in the test thread; Django would otherwise
    # refuse the plain synchronous ORM set-up that browser tests do in that thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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
