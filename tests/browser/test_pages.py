"""Sign-in and every role's home page in a real browser: languages, elder mode, keyboard, axe-core."""
import pytest
from axe_playwright_python.sync_playwright import Axe

from communitygrid.accounts.models import Role
from communitygrid.testing_browser import serious_violations, sign_in, wait_for_home

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = list(Role.values)


def switch_language(page, to: str) -> None:
    label = {"en": "English", "zh-hans": "中文"}[to]
    page.get_by_role("button", name=label).click()
    page.wait_for_load_state()


def switch_elder_mode(page) -> None:
    page.locator("button.toggle").click()
    page.wait_for_load_state()


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def is_elder(page) -> bool:
    return "elder" in (page.locator("html").get_attribute("class") or "")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_their_home_page(page, users, city, role):
    sign_in(page, users[role].username)
    heading = page.locator("h1")
    assert heading.count() == 1 and heading.inner_text().strip()
    body = page.locator("main").inner_text()
    expected = {
        Role.RESIDENT: "我的档案",
        Role.GRID_WORKER: city.grids[0].name,
        Role.GRID_LEADER: city.grids[0].name,
        Role.COMMUNITY_STAFF: city.grids[1].name,
        Role.STREET_STAFF: city.communities[1].name,
        Role.DISTRICT_STAFF: city.streets[1].name,
        Role.DEPARTMENT_STAFF: "本部门有 0 件在办诉求",
        Role.LEADER: "仅显示统计数字",
        Role.ADMIN: "系统概况",
    }[role]
    assert expected in body


def test_language_and_elder_mode_stick_across_pages_and_sign_out(page, users):
    page.goto("/accounts/login/")
    assert html_lang(page) == "zh-Hans" and not is_elder(page)
    switch_language(page, "en")
    switch_elder_mode(page)
    assert html_lang(page) == "en" and is_elder(page)
    assert page.get_by_role("button", name="Elder mode (large type)").get_attribute("aria-pressed") == "true"
    sign_in(page, users[Role.GRID_WORKER].username)
    assert html_lang(page) == "en" and is_elder(page)
    assert page.get_by_role("heading", name="My grids").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    assert html_lang(page) == "en" and is_elder(page)
    switch_language(page, "zh-hans")
    switch_elder_mode(page)
    page.reload()
    assert html_lang(page) == "zh-Hans" and not is_elder(page)
    assert page.get_by_role("button", name="长者模式（大字）").get_attribute("aria-pressed") == "false"


def test_signing_in_with_the_keyboard_only(page, users):
    page.goto("/accounts/login/")
    # The sign-in page puts the cursor in the username field; Tab moves on; Enter submits.
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type(users[Role.GRID_WORKER].username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_password"
    page.keyboard.type("pw-for-tests-only")
    page.keyboard.press("Enter")
    wait_for_home(page)
    assert page.get_by_role("heading", level=1).is_visible()
    # On the next page the first Tab reaches the skip link, which shows itself and jumps to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0 and box["height"] >= 24
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("mode", ["standard", "elder"])
def test_focus_is_visible_on_every_control(page, users, mode):
    if mode == "elder":
        page.goto("/accounts/login/")
        switch_elder_mode(page)
    sign_in(page, users[Role.COMMUNITY_STAFF].username)
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        html, outline_style, outline_width, shadow = page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return [e.outerHTML.slice(0, 60), s.outlineStyle, s.outlineWidth, s.boxShadow]; }""")
        if html.startswith("<body"):
            break
        seen.append(html)
        assert outline_style != "none" and float(outline_width.rstrip("px")) >= 2 and shadow != "none", html
    assert len(seen) >= 5  # skip link, home, language, elder mode, sign out


MODES = ["zh-hans", "en", "elder"]


def set_mode(page, mode: str) -> None:
    page.goto("/accounts/login/")
    if mode == "en":
        switch_language(page, "en")
    if mode == "elder":
        switch_elder_mode(page)


@pytest.mark.parametrize("mode", MODES)
def test_the_sign_in_page_has_no_serious_accessibility_violation(page, db, mode):
    set_mode(page, mode)
    assert serious_violations(page) == []


@pytest.mark.parametrize("mode", MODES)
def test_every_role_s_home_page_has_no_serious_accessibility_violation(page, users, mode):
    set_mode(page, mode)
    problems = {}
    for role in ROLES:
        sign_in(page, users[role].username)
        found = serious_violations(page)
        if found:
            problems[role] = found
        page.get_by_role("button", name={"en": "Sign out"}.get(mode, "退出登录")).click()
        page.wait_for_url("**/accounts/login/")
    assert problems == {}


def assert_elder_sizes(page) -> None:
    assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20
    texts = page.evaluate("""() => [...document.querySelectorAll('main p, main td, main th, main dd, main li, label')]
        .filter(e => e.offsetParent !== null).map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert texts and min(texts) >= 20
    targets = page.evaluate("""() => [...document.querySelectorAll('button, a, input, select, textarea')]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden')
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])""")
    small = [(html, height) for html, height in targets if height < 48]
    assert targets and small == []


def test_elder_mode_has_large_type_large_targets_and_aaa_contrast(page, users):
    set_mode(page, "elder")
    assert_elder_sizes(page)
    assert serious_violations(page, runOnly={"type": "rule", "values": ["color-contrast-enhanced"]}) == []
    for role in ROLES:
        sign_in(page, users[role].username)
        assert_elder_sizes(page)
        enhanced = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]}})
        assert enhanced.response["violations"] == [], (role, enhanced.response["violations"])
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url("**/accounts/login/")


ADMIN_PAGES = ["/admin/", "/admin/cases/category/", "/admin/cases/category/add/", "/admin/cases/calendaroverride/",
               "/admin/geo/node/", "/admin/accounts/user/", "/admin/registry/person/", "/admin/apikeys/apikey/add/",
               "/admin/notifications/webhookendpoint/", "/admin/patrols/visit/"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_the_back_office_has_no_serious_accessibility_violation(page, users, catalogue_for_browser, path):
    sign_in(page, users[Role.ADMIN].username)
    response = page.goto(path)
    assert response.status == 200, path
    assert html_lang(page) == "zh-hans"
    assert serious_violations(page) == [], path


@pytest.fixture
def catalogue_for_browser(transactional_db):
    """The standard categories again: a transactional test's flush removes what migrations wrote."""
    import importlib

    from django.apps import apps

    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(apps, None)



def test_the_back_office_in_elder_mode_has_large_type_large_targets_and_aaa_contrast(page, users, catalogue_for_browser):
    set_mode(page, "elder")
    sign_in(page, users[Role.ADMIN].username)
    for path in ("/admin/cases/category/", "/admin/cases/category/add/", "/admin/accounts/user/"):
        assert page.goto(path).status == 200, path
        assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20, path
        texts = page.evaluate("""() => [...document.querySelectorAll('#content td, #content th, #content label, #content p')]
            .filter(e => e.offsetParent !== null && e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))""")
        assert texts and min(texts) >= 20, path
        targets = page.evaluate("""() => [...document.querySelectorAll('#content input:not([type=hidden]):not([type=checkbox]), #content select, #content button, #content .button, #user-tools a, .breadcrumbs a, #result_list a, #content .select2-selection')]
            .filter(e => e.offsetParent !== null).map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])""")
        assert targets and [t for t in targets if t[1] < 48] == [], path
        enhanced = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]}})
        assert enhanced.response["violations"] == [], (path, enhanced.response["violations"])
