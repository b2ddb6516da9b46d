"""The cockpit in a real headless Chromium: figures, drill-down, live refresh, languages, elder mode, axe."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from communitygrid.accounts.models import Role
from communitygrid.testing_browser import serious_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


@pytest.fixture
def world(live_server, catalogue):
    from django.utils import timezone

    from communitygrid.insights.rollups import present_refresh, rollups_rebuild
    from communitygrid.testing import build_city, make_household, role_users

    from .conftest import history_build

    city = build_city()
    for grid in city.grids:
        make_household(grid)
    users = role_users(city)
    history_build(city, count=400, now=timezone.now(), users=users)
    rollups_rebuild()
    present_refresh()
    return city, users


def _open(page, live_server, *, language="zh-hans", elder=False, size=(1440, 900)):
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if elder:
        cookies.append({"name": "cg_elder", "value": "1", "url": live_server.url})
    page.context.add_cookies(cookies)
    page.set_viewport_size({"width": size[0], "height": size[1]})


def _figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


@pytest.mark.parametrize("language, elder", [("zh-hans", False), ("en", False), ("zh-hans", True)])
def test_cockpit_renders_map_charts_and_tables_without_accessibility_violations(world, page, live_server, language,
                                                                                elder):
    city, users = world
    _open(page, live_server, language=language, elder=elder)
    sign_in(page, users[Role.LEADER].username)
    page.goto("/insights/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("领导驾驶舱" if language == "zh-hans" else "Leaders' cockpit")
    # The map draws our own polygons (on a canvas), each street of the district named with its open cases.
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tooltip').length >= 2")
    assert page.locator("#map canvas").count() >= 1
    page.wait_for_function("document.querySelectorAll('#chart-trend canvas').length === 1")
    assert int(_figure(page, "submitted")) > 0
    assert not page.locator("img[src^='http']").count()  # no external tiles
    # The zoom buttons are titled in the page's language and stacked one above the other, in elder mode too.
    zoom_in, zoom_out = page.locator(".leaflet-control-zoom-in"), page.locator(".leaflet-control-zoom-out")
    assert zoom_in.get_attribute("title") == ("放大" if language == "zh-hans" else "Zoom in")
    assert zoom_out.get_attribute("title") == ("缩小" if language == "zh-hans" else "Zoom out")
    assert zoom_in.bounding_box()["y"] + zoom_in.bounding_box()["height"] <= zoom_out.bounding_box()["y"] + 1
    assert serious_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / f"cockpit-{language}-{'elder' if elder else 'standard'}.png"), full_page=False)
    if language == "en" and not elder:
        page.screenshot(path=str(SHOTS / "cockpit-en-full.png"), full_page=True)


def test_drill_down_by_keyboard_from_district_to_grid_and_back(world, page, live_server):
    city, users = world
    _open(page, live_server)
    sign_in(page, users[Role.LEADER].username)
    page.goto("/insights/")
    for node in (city.streets[0], city.communities[0], city.grids[0]):
        link = page.locator("#areas-table a.drill", has_text=node.name)
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**node={node.code}**")
        assert node.name in page.get_by_role("heading", level=1).inner_text()
    # The trail leads back up, one level at a time.
    trail = page.get_by_role("navigation", name="区域路径")
    trail.get_by_role("link", name=city.communities[0].name).click()
    page.wait_for_url(f"**node={city.communities[0].code}**")
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "cockpit-zh-hans-community.png"))


def test_figures_change_by_themselves_after_a_case_is_resolved(world, page, live_server):
    from communitygrid.cases import services
    from communitygrid.cases.models import Case, Status
    from communitygrid.insights.rollups import refresh_all

    city, users = world
    worker = users[Role.GRID_WORKER]
    from django.utils import timezone
    import datetime as dt

    # Within the default period (the last 30 days), so the period's "resolved" counts it.
    case = (Case.objects.filter(status=Status.ACCEPTED, assignee=worker, created_at__gte=timezone.now() - dt.timedelta(days=20))
            .order_by("-created_at").first())
    with override_settings(COCKPIT_REFRESH_SECONDS=2):
        _open(page, live_server)
        sign_in(page, users[Role.LEADER].username)
        page.goto("/insights/")
        resolved, open_now = int(_figure(page, "resolved")), int(_figure(page, "open"))
        services.case_resolve(case=case, actor=worker, note="修好了")
        refresh_all()  # the periodic job
        page.wait_for_function(f"document.querySelector('[data-figure=resolved]').textContent.trim() === '{resolved + 1}'",
                               timeout=20_000)
        assert int(_figure(page, "open")) == open_now - 1
    # The number is a link to exactly the cases it counts.
    page.locator('[data-figure="resolved"]').click()
    page.wait_for_url("**/insights/cases/**measure=resolved**")
    assert page.locator("tbody tr").count() == min(resolved + 1, 100)
    assert f"#{case.pk}" in page.locator("tbody").inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "cockpit-cases-zh-hans.png"))
