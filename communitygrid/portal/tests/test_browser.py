"""The resident portal in a real headless Chromium: sign up → submit → see it in My requests, in
zh-Hans, English and elder mode; axe-core on every page; a keyboard-only walk of the submit form."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from communitygrid.testing_browser import serious_violations, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"
HOME_POINT = {"longitude": 120.005, "latitude": 30.005}  # inside grid S0C0G0


@pytest.fixture
def portal_world(catalogue, city, users):
    from communitygrid.accounts.models import Role

    return {"city": city, "worker": users[Role.GRID_WORKER]}


@pytest.fixture
def catalogue(transactional_db):
    """The standard categories again: a transactional test's flush removes what migrations wrote."""
    import importlib

    from django.apps import apps

    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(apps, None)


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized browser that may be located (for "use my location")."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                  geolocation=HOME_POINT, permissions=["geolocation"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def prefer(page, live_server, language: str, elder: bool) -> str:
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "cg_elder", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)
    return f"{language}-{'elder' if elder else 'standard'}"


def check(page, name: str, tag: str) -> None:
    """No serious accessibility violation; a screenshot to look at."""
    assert serious_violations(page) == [], f"{name} ({tag})"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-{name}-{tag}.png"), full_page=True)


def sign_up(page, phone: str, tag: str) -> None:
    page.goto("/portal/new/")
    page.wait_for_url(re.compile(r"/portal/start/\?next="))
    check(page, "1-start", tag)
    page.fill("#id_phone", "abc")
    page.click("form button[type=submit]")
    assert page.locator("#err-phone").is_visible()
    check(page, "1-start-error", tag)
    page.fill("#id_phone", phone)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/verify/"))
    check(page, "2-verify", tag)
    page.fill("#id_code", page.locator("#screen-code").inner_text())
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/new/$"))


@pytest.mark.parametrize("language, elder", [("zh-hans", False), ("en", False), ("zh-hans", True)])
def test_sign_up_submit_and_see_it_in_my_requests(portal_world, phone_page, live_server, language, elder):
    from communitygrid.cases.models import Case

    page = phone_page
    tag = prefer(page, live_server, language, elder)
    sign_up(page, "13700000001", tag)
    check(page, "3-new", tag)
    assert "leaflet" not in " ".join(page.evaluate("Array.from(document.scripts).map(s => s.src)"))

    # A refused submit keeps what was typed, and says what is missing beside the field.
    page.fill("#id_description", "三楼楼道灯坏了" if language == "zh-hans" else "The stair light on floor 3 is out")
    page.click("#send")
    page.wait_for_selector("#err-category")
    assert "三楼" in page.input_value("#id_description") or "floor 3" in page.input_value("#id_description")
    check(page, "3-new-errors", tag)

    page.click("label.tile:has(input[value=repairs])")
    page.click("fieldset.leaves.shown label.choice:has(input[value=repair_streetlight])")
    assert not page.locator("fieldset.leaves[data-group=health]").is_visible()
    if elder:
        page.click("#open-map")  # the map loads when asked for; a tap sets the point
        page.wait_for_selector("#map .leaflet-interactive")
        page.locator("#map").click()
        assert page.input_value("#id_lon")
        assert page.locator("input[name=where][value=map]").is_checked()
    else:
        page.click("#use-location")
        page.wait_for_function("document.getElementById('id_lon').value !== ''")
        assert page.locator("input[name=where][value=here]").is_checked()
    page.click("#send")
    page.wait_for_url(re.compile(r"/portal/requests/\d+/\?submitted=1"))
    case = Case.objects.get()
    assert case.category.code == "repair_streetlight" and case.grid is not None
    assert page.evaluate("localStorage.getItem('cg-portal-draft')") is None
    check(page, "4-detail", tag)

    page.goto("/portal/requests/")
    assert page.locator(f"a[href='/portal/requests/{case.pk}/']").is_visible()
    check(page, "5-requests", tag)
    page.goto("/portal/")
    check(page, "6-index", tag)


@pytest.mark.parametrize("language, elder", [("zh-hans", False), ("en", False), ("zh-hans", True)])
def test_one_tap_help_says_who_comes_and_by_when(portal_world, phone_page, live_server, language, elder):
    from communitygrid.accounts.models import User
    from communitygrid.testing import make_household

    page = phone_page
    tag = prefer(page, live_server, language, elder)
    sign_up(page, "13700000002", tag)
    household = make_household(portal_world["city"].grids[0])
    person = household.members.first()
    person.emergency_contact_name = "李明"
    person.emergency_contact_phone = "13911112222"
    person.save()
    User.objects.filter(resident_phone__isnull=False).update(person=person)
    page.goto("/portal/help/")
    check(page, "7-help", tag)
    page.click(".help-button")
    page.wait_for_url(re.compile(r"\?help=1"))
    text = page.locator(".help-sent").inner_text()
    assert "李明" in text and ("网格员" in text or "Grid worker" in text)
    check(page, "8-help-sent", tag)


def test_the_submit_form_works_by_keyboard_alone(portal_world, phone_page, live_server):
    from communitygrid.cases.models import Case

    page = phone_page
    prefer(page, live_server, "en", False)
    sign_up(page, "13700000003", "keyboard")
    page.locator("body").focus()
    # Every visible control of the form, and one stop per radio group (arrow keys move within it).
    expected = page.evaluate("""() => {
      const form = document.getElementById('request-form');
      const seen = new Set(), keys = [];
      for (const el of form.querySelectorAll('input, textarea, button, summary, select')) {
        if (el.type === 'hidden' || el.disabled || !el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) {
          if (!(el.type === 'radio' && el.closest('.tile'))) continue;
        }
        const key = el.type === 'radio' ? 'radio:' + el.name : (el.id || el.tagName);
        if (!seen.has(key)) { seen.add(key); keys.push(key); }
      }
      return keys;
    }""")
    reached = []
    for _ in range(80):
        page.keyboard.press("Tab")
        key = page.evaluate("""() => { const el = document.activeElement;
          return el.type === 'radio' ? 'radio:' + el.name : (el.id || el.tagName); }""")
        if key not in reached:
            reached.append(key)
        if key == "send":
            break
    missing = [key for key in expected if key not in reached]
    assert not missing, f"Tab never reaches {missing} (reached {reached})"
    assert reached.index("radio:group") < reached.index("id_description") < reached.index("radio:where") \
        < reached.index("id_attachments") < reached.index("send")

    # Fill it in by keyboard: a group (arrows), a leaf, words, "use my location", send with Enter.
    page.focus("input[name=group]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    group = page.evaluate("document.querySelector('input[name=group]:checked').value")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.evaluate("document.querySelector('input[name=category]:checked') !== null")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed with the keyboard only")
    page.focus("#use-location")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('id_lon').value !== ''")
    page.focus("#send")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "portal-keyboard-sent.png"), full_page=True)
    page.wait_for_url(re.compile(r"/portal/requests/\d+/"))
    case = Case.objects.get()
    assert case.category.parent.code == group and case.description == "Typed with the keyboard only"


def test_an_expired_session_keeps_the_draft(portal_world, phone_page, live_server, settings):
    settings.OTP_RESEND_SECONDS = 0  # the second code follows the first within the minute
    page = phone_page
    prefer(page, live_server, "en", False)
    sign_up(page, "13700000004", "draft")
    page.fill("#id_description", "Words I do not want to type twice")
    page.click("label.tile:has(input[value=environment])")
    page.click("fieldset.leaves.shown label.choice:has(input[value=env_noise])")
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()  # the session expires on the server while the resident types
    page.click("#send")
    page.wait_for_url(re.compile(r"/portal/start/\?next=/portal/new/"))
    page.fill("#id_phone", "13700000004")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/verify/"))
    page.fill("#id_code", page.locator("#screen-code").inner_text())
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/new/$"))
    assert page.input_value("#id_description") == "Words I do not want to type twice"
    assert page.locator("input[name=category][value=env_noise]").is_checked()
    assert page.locator("fieldset.leaves[data-group=environment]").is_visible()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_linked_resident_unlinks_by_keyboard_after_confirming(portal_world, phone_page, live_server, language):
    from communitygrid.accounts.models import ResidentPhone
    from communitygrid.registry.models import Person

    page = phone_page
    tag = prefer(page, live_server, language, False)
    sign_up(page, "13700000004", f"unlink-{tag}")
    account = ResidentPhone.objects.get(user__username__startswith="resident-").user
    account.person = Person.objects.filter(grid=portal_world["city"].grids[0], account__isnull=True).first()
    account.save(update_fields=["person"])
    page.goto("/portal/link/")
    check(page, "link-linked", tag)
    tab_to(page, "a[href='/portal/link/unlink']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portal/link/unlink$"))
    assert page.locator("h1").count() == 1
    check(page, "unlink-confirm", tag)
    account.refresh_from_db()
    assert account.person_id is not None  # the page only asks
    tab_to(page, "form[action='/portal/link/unlink'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portal/link/$"))
    assert page.locator("#id_name").is_visible()  # they may ask again
    check(page, "unlinked", tag)
    account.refresh_from_db()
    assert account.person_id is None
