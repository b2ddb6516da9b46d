"""The workbench in a real browser: a worker accepts and resolves a case from the inbox, starts and
ends a home visit and records an issue as a case, in Chinese, in English and in elder mode; axe-core
finds no serious problem on any workbench or visit page."""
from __future__ import annotations

import datetime as dt

import pytest

from communitygrid.accounts.models import Role
from communitygrid.cases import services as case_services
from communitygrid.cases.models import Case, Channel, Status
from communitygrid.patrols.models import Visit
from communitygrid.registry.models import CareTag, PersonCareTag
from communitygrid.testing import make_household, make_user
from communitygrid.testing_browser import serious_violations, sign_in, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODES = {
    "zh-hans": {"language": "zh-hans", "elder": False, "accept": "接单", "resolve": "办结", "start": "开始走访",
                "record": "登记诉求", "end": "现在结束走访", "all_well": "情况良好"},
    "en": {"language": "en", "elder": False, "accept": "Accept", "resolve": "Resolve", "start": "Start home visit",
           "record": "Record the case", "end": "End the visit now", "all_well": "All well"},
    "elder": {"language": "zh-hans", "elder": True, "accept": "接单", "resolve": "办结", "start": "开始走访",
              "record": "登记诉求", "end": "现在结束走访", "all_well": "情况良好"},
}


@pytest.fixture
def reference_data(transactional_db):
    """Categories and special-care groups again: a transactional test's flush removes what migrations wrote."""
    import importlib

    from django.apps import apps

    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(apps, None)
    importlib.import_module("communitygrid.registry.migrations.0003_standard_care_tags").create_tags(apps, None)


def _prepare(page, users, city, mode):
    worker = users[Role.GRID_WORKER]
    staff = users[Role.COMMUNITY_STAFF]
    case = case_services.case_submit(submitted_by=staff, channel="hotline", category_code="repair_streetlight",
                                     description="3号楼前路灯不亮", lon=120.005, lat=30.005, caller_name="王先生",
                                     caller_phone="13700001111").case
    if case.assignee_id != worker.pk:
        case_services.case_redispatch(case=case, actor=staff, assignee=worker)
    household = make_household(city.grids[0], members=1, name_prefix="独居")
    elder = household.members.get()
    PersonCareTag.objects.create(person=elder, tag=CareTag.objects.get(code="elderly_alone"), since=dt.date(2026, 1, 1))
    sign_in(page, worker.username)
    cookies = [{"name": "cg_language", "value": MODES[mode]["language"], "url": page.url}]
    if MODES[mode]["elder"]:
        cookies.append({"name": "cg_elder", "value": "1", "url": page.url})
    page.context.add_cookies(cookies)
    return case, household, elder


def _axe(page, what):
    assert page.locator("h1").count() == 1, what
    assert serious_violations(page) == [], what


@pytest.mark.parametrize("mode", list(MODES))
def test_worker_handles_a_case_and_a_visit_end_to_end(reference_data, page, users, city, settings, mode):
    settings.VISIT_MIN_MINUTES = 0  # the browser is quicker than any real visit
    words = MODES[mode]
    case, household, elder = _prepare(page, users, city, mode)

    page.goto("/")
    page.click("a[href='/workbench/']")
    assert page.locator(f"a[href='/workbench/cases/{case.pk}/']").count() == 1
    assert page.locator("time[data-due] .left").first.inner_text().strip()
    _axe(page, "inbox")
    page.click(f"a[href='/workbench/cases/{case.pk}/']")
    _axe(page, "case page")
    # The caller's number, to call back: by keyboard, a purpose first, then shown on this page only.
    page.locator("section[aria-labelledby=h-contact] summary").focus()
    page.keyboard.press("Enter")
    page.locator("form[action$='/call-back'] button[type=submit]").click()
    assert page.locator("form[action$='/call-back'] .field-error").count() == 1
    _axe(page, "call-back form with an error")
    page.fill("form[action$='/call-back'] textarea[name=purpose]", "回访处理结果 to report back")
    page.locator("form[action$='/call-back'] button[type=submit]").click()
    assert page.locator("a[href='tel:13700001111']").count() == 1
    _axe(page, "number shown")
    page.goto(f"/workbench/cases/{case.pk}/")
    assert page.locator("a[href='tel:13700001111']").count() == 0
    page.get_by_role("button", name=words["accept"], exact=True).click()
    page.wait_for_url(f"**/workbench/cases/{case.pk}/")
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
    page.locator("summary", has_text=words["resolve"]).click()
    # Empty note first: the error is shown beside the field, in the page's language.
    page.locator("form[action$='/act/resolve'] button[type=submit]").click()
    assert page.locator("form[action$='/act/resolve'] .field-error").count() == 1
    _axe(page, "case page with an error")
    page.fill("form[action$='/act/resolve'] textarea[name=note]", "已更换灯泡，恢复照明")
    page.locator("form[action$='/act/resolve'] button[type=submit]").click()
    page.wait_for_url(f"**/workbench/cases/{case.pk}/")
    assert Case.objects.get(pk=case.pk).status == Status.RESOLVED

    page.click("nav.worknav a[href='/patrols/']")
    _axe(page, "visits")
    page.get_by_role("button", name=words["start"]).first.click()
    page.wait_for_url("**/patrols/visits/*/")
    visit = Visit.objects.get(worker=users[Role.GRID_WORKER])
    assert visit.household == household and visit.is_open
    _axe(page, "open visit")
    page.select_option("select[name=category]", "repair_leak")
    page.fill("textarea[name=description]", "卫生间水管漏水")
    page.get_by_role("button", name=words["record"]).click()
    page.wait_for_url(f"**/patrols/visits/{visit.pk}/")
    found = Case.objects.get(channel=Channel.DISCOVERY)
    assert found.room_id == household.room_id
    assert page.locator(f"a[href='/workbench/cases/{found.pk}/']").count() == 1
    page.get_by_label(words["all_well"]).check()
    page.locator(f"input[name=people][value='{elder.pk}']").check()
    page.get_by_role("button", name=words["end"]).click()
    page.wait_for_url(f"**/patrols/visits/{visit.pk}/")
    visit.refresh_from_db()
    assert not visit.is_open and list(visit.people_seen.all()) == [elder]
    _axe(page, "ended visit")
    page.goto("/patrols/")
    assert page.locator(f"input[name=household][value='{household.pk}']").count() == 0  # visited: not due

    page.click("nav.worknav a[href='/workbench/area/']")
    _axe(page, "my grid")
    page.click(f"a[href='/workbench/persons/{elder.pk}/update']")
    _axe(page, "record update")
    page.fill("input[name=phone]", "123")
    page.locator("form.card button[type=submit]").click()
    assert page.locator(".field-error").count() == 1
    _axe(page, "record update with an error")
    if MODES[mode]["elder"]:
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 20
        heights = page.evaluate("[...document.querySelectorAll('main button, main a')].map(e => e.getBoundingClientRect().height)")
        assert min(heights) >= 48


@pytest.mark.parametrize("mode", ["zh-hans", "en"])
def test_worker_unlinks_an_account_by_keyboard_with_a_reason(reference_data, page, users, city, mode):
    from communitygrid.accounts.models import User
    from communitygrid.notifications.models import Notification

    _case, _household, elder = _prepare(page, users, city, mode)
    account = make_user(Role.RESIDENT, person=elder, username="elder-account")
    page.goto(f"/workbench/persons/{elder.pk}/update")
    _axe(page, "record update with a linked account")
    unlink = f"/workbench/persons/{elder.pk}/unlink"
    tab_to(page, f"a[href='{unlink}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{unlink}")
    _axe(page, "unlink confirmation")
    page.locator("form.card button[type=submit]").click()  # no reason
    assert page.locator("#id_reason_error").is_visible()
    _axe(page, "unlink confirmation with an error")
    assert User.objects.get(pk=account.pk).person_id == elder.pk
    page.locator("#id_reason").focus()
    page.keyboard.type("账号不是本人使用")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/workbench/persons/{elder.pk}/update")
    assert User.objects.get(pk=account.pk).person_id is None
    assert Notification.objects.filter(recipient=account, kind="binding_removed").count() == 1
