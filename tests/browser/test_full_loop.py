"""The whole loop in one real headless Chromium, as three people meet it: a resident signs up with a
one-time code and submits a request, the grid worker accepts and resolves it on the workbench, the
resident rates it, and the leaders' cockpit figures move — in zh-Hans, in English and in elder mode."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from communitygrid.accounts.models import Role
from communitygrid.testing_browser import serious_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
HOME_POINT = {"longitude": 120.005, "latitude": 30.005}  # inside grid S0C0G0, the worker's grid

MODES = {
    "zh-hans": {"language": "zh-hans", "elder": False, "accept": "接单", "resolve": "办结", "note": "已更换灯泡"},
    "en": {"language": "en", "elder": False, "accept": "Accept", "resolve": "Resolve", "note": "Bulb replaced"},
    "elder": {"language": "zh-hans", "elder": True, "accept": "接单", "resolve": "办结", "note": "已更换灯泡"},
}


@pytest.fixture
def catalogue(transactional_db):
    """The standard categories again: a transactional test's flush removes what migrations wrote."""
    import importlib

    from django.apps import apps

    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(apps, None)


def _context(browser, live_server, mode: dict, **options):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": mode["language"], "url": live_server.url}]
    if mode["elder"]:
        cookies.append({"name": "cg_elder", "value": "1", "url": live_server.url})
    context.add_cookies(cookies)
    return context


def _figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


def _look(page, name: str, tag: str) -> None:
    assert serious_violations(page) == [], f"{name} ({tag})"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"loop-{name}-{tag}.png"), full_page=True)


@pytest.mark.parametrize("tag", list(MODES))
def test_resident_to_worker_to_rating_to_cockpit(catalogue, city, users, browser, live_server, tag):
    from communitygrid.cases.models import Case, Status
    from communitygrid.insights.rollups import refresh_all

    mode = MODES[tag]
    worker, leader = users[Role.GRID_WORKER], users[Role.LEADER]
    resident_ctx = _context(browser, live_server, mode, viewport={"width": 390, "height": 844},
                            geolocation=HOME_POINT, permissions=["geolocation"])
    worker_ctx = _context(browser, live_server, mode, viewport={"width": 390, "height": 844})
    leader_ctx = _context(browser, live_server, mode, viewport={"width": 1440, "height": 900})
    try:
        # The cockpit before anything happens.
        refresh_all()
        cockpit = leader_ctx.new_page()
        sign_in(cockpit, leader.username)
        cockpit.goto("/insights/")
        submitted_before, resolved_before = int(_figure(cockpit, "submitted")), int(_figure(cockpit, "resolved"))

        # 1. A new resident: phone number, one-time code, straight to the form (three steps).
        resident = resident_ctx.new_page()
        resident.goto("/portal/new/")
        resident.wait_for_url(re.compile(r"/portal/start/"))
        resident.fill("#id_phone", "13700000077")
        resident.click("form button[type=submit]")
        resident.wait_for_url(re.compile(r"/portal/verify/"))
        resident.fill("#id_code", resident.locator("#screen-code").inner_text())
        resident.click("form button[type=submit]")
        resident.wait_for_url(re.compile(r"/portal/new/$"))
        resident.click("label.tile:has(input[value=repairs])")
        resident.click("fieldset.leaves.shown label.choice:has(input[value=repair_streetlight])")
        resident.fill("#id_description", "小区门口路灯不亮" if mode["language"] == "zh-hans" else "The gate light is out")
        resident.click("#use-location")
        resident.wait_for_function("document.getElementById('id_lon').value !== ''")
        _look(resident, "1-submit", tag)
        resident.click("#send")
        resident.wait_for_url(re.compile(r"/portal/requests/\d+/\?submitted=1"))
        case = Case.objects.get()
        assert case.assignee == worker, "routed to the grid's worker"
        _look(resident, "2-submitted", tag)

        # 2. The grid worker finds it in the inbox, accepts and resolves it.
        work = worker_ctx.new_page()
        sign_in(work, worker.username)
        work.goto("/workbench/")
        work.click(f"a[href='/workbench/cases/{case.pk}/']")
        work.get_by_role("button", name=mode["accept"], exact=True).click()
        work.wait_for_url(f"**/workbench/cases/{case.pk}/")
        work.locator("summary", has_text=mode["resolve"]).click()
        work.fill("form[action$='/act/resolve'] textarea[name=note]", mode["note"])
        work.locator("form[action$='/act/resolve'] button[type=submit]").click()
        work.wait_for_url(f"**/workbench/cases/{case.pk}/")
        case.refresh_from_db()
        assert case.status == Status.RESOLVED
        _look(work, "3-resolved", tag)

        # 3. The resident sees the step in the timeline and rates it.
        resident.goto(f"/portal/requests/{case.pk}/")
        assert mode["note"] in resident.locator("main").inner_text()
        resident.click("#f-solved label.choice:has(input[value=yes])")
        resident.click("#f-rating label.choice:has(input[value='5'])")
        resident.locator("form:has(input[name=action][value=rate]) button[type=submit]").click()
        resident.wait_for_load_state()
        case.refresh_from_db()
        assert (case.rating, case.status) == (5, Status.CLOSED)
        _look(resident, "4-rated", tag)

        # 4. The cockpit's figures move by themselves once the periodic job has run.
        refresh_all()
        with override_settings(COCKPIT_REFRESH_SECONDS=2):
            cockpit.goto("/insights/")
            cockpit.wait_for_function(
                f"document.querySelector('[data-figure=resolved]').textContent.trim() === '{resolved_before + 1}'")
        assert int(_figure(cockpit, "submitted")) == submitted_before + 1
        assert _figure(cockpit, "satisfaction_rate").startswith("100")
        _look(cockpit, "5-cockpit", tag)
    finally:
        for context in (resident_ctx, worker_ctx, leader_ctx):
            context.close()
