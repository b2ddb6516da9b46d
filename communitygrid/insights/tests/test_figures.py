"""Figures equal a direct computation over the cases; filters, scope, exports and bad input."""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from communitygrid.accounts.models import Role
from communitygrid.cases.models import OPEN_STATES, Case, Category, Status
from communitygrid.insights.definitions import bucket_of
from communitygrid.insights.rollups import present_refresh, rollups_rebuild

from .conftest import NOW

ZONE = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 1, 20), dt.date(2026, 3, 5)   # crosses two month ends: month rows and day rows


@pytest.fixture
def built(history):
    with time_machine.travel(NOW, tick=False):
        rollups_rebuild()
        present_refresh()
    return history


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _in(case, node, start=START, end=END, category_ids=None):
    day = case.created_at.astimezone(ZONE).date()
    return (case.grid.path.startswith(node.path) and start <= day <= end
            and (not category_ids or case.category_id in category_ids))


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else None


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _figure(client, user, name, **params):
    response = _get(client, user, f"/api/v1/insights/figures/{name}", **params)
    assert response.status_code == 200, response.content
    return response.json()


def direct_summary(node, category_ids=None):
    cases = [c for c in Case.objects.select_related("grid") if _in(c, node, category_ids=category_ids)]
    responded = [c for c in cases if c.accepted_at]
    resolved = [c for c in cases if c.resolved_at]
    rated = [c for c in cases if c.rating is not None]
    closed = [c for c in cases if c.status == Status.CLOSED]
    now_cases = [c for c in Case.objects.select_related("grid") if c.grid.path.startswith(node.path)
                 and (not category_ids or c.category_id in category_ids)]
    return {
        "submitted": len(cases), "resolved": len(resolved),
        "open": sum(c.status in OPEN_STATES for c in now_cases),
        "overdue": sum(c.is_overdue(NOW) for c in now_cases),
        "urgent": sum(c.status in OPEN_STATES and c.tier == "urgent" for c in now_cases),
        "on_time_response_rate": _pct(sum(c.accepted_at <= c.respond_by for c in responded), len(responded)),
        "on_time_resolution_rate": _pct(sum(c.resolved_at <= c.resolve_by for c in resolved), len(resolved)),
        "respond_mean_hours": round(mean(math.floor(c.accepted_at.timestamp()) - math.floor(c.created_at.timestamp())
                                         for c in responded) / 3600, 2),
        "resolve_mean_hours": round(mean(math.floor(c.resolved_at.timestamp()) - math.floor(c.created_at.timestamp())
                                         for c in resolved) / 3600, 2),
        "solved_grid_share": _pct(sum(c.escalation_level == 0 for c in resolved), len(resolved)),
        "solved_community_share": _pct(sum(c.escalation_level == 1 for c in resolved), len(resolved)),
        "solved_higher_share": _pct(sum(c.escalation_level >= 2 for c in resolved), len(resolved)),
        "mean_rating": round(mean(c.rating for c in rated), 2) if rated else None,
        "satisfaction_rate": _pct(sum(c.rating >= 4 for c in rated), len(rated)),
        "reopen_rate": _pct(sum(c.reopen_count > 0 for c in cases), len(resolved)),
        "closed_by_default_rate": _pct(sum(c.verdict == "default" for c in closed), len(closed)),
        "_respond": sorted(math.floor(c.accepted_at.timestamp()) - math.floor(c.created_at.timestamp()) for c in responded),
        "_resolve": sorted(math.floor(c.resolved_at.timestamp()) - math.floor(c.created_at.timestamp()) for c in resolved),
    }


@pytest.mark.parametrize("level", ["district", "street", "community", "grid"])
def test_summary_equals_direct_computation_at_every_level(client, built, city, users, level, at_now):
    node = {"district": city.district, "street": city.streets[1], "community": city.communities[0],
            "grid": city.grids[3]}[level]
    totals = _figure(client, users[Role.ADMIN], "summary", node=node.code, start=START.isoformat(),
                     end=END.isoformat())["totals"]
    expected = direct_summary(node)
    for key, value in expected.items():
        if not key.startswith("_"):
            assert totals[key] == value, key
    for what in ("respond", "resolve"):
        values = expected[f"_{what}"]
        lower_median = values[(len(values) - 1) // 2]
        assert bucket_of(round(totals[f"{what}_median_hours"] * 3600)) == bucket_of(lower_median)


def test_category_filter_counts_only_that_category_and_group(client, built, city, users, at_now):
    leaf = Case.objects.values_list("category", flat=True).first()
    category = Category.objects.get(pk=leaf)
    totals = _figure(client, users[Role.ADMIN], "summary", node=city.district.code, start=START.isoformat(),
                     end=END.isoformat(), category=category.code)["totals"]
    assert totals["submitted"] == direct_summary(city.district, [leaf])["submitted"] > 0
    group = _figure(client, users[Role.ADMIN], "summary", node=city.district.code, start=START.isoformat(),
                    end=END.isoformat(), category=category.parent.code)["totals"]
    siblings = list(category.parent.children.values_list("pk", flat=True))
    assert group["submitted"] == direct_summary(city.district, siblings)["submitted"] >= totals["submitted"]


def test_every_number_links_to_exactly_the_cases_it_counts(client, built, city, users, at_now):
    admin = users[Role.ADMIN]
    for name in ("summary", "tiers", "escalation", "satisfaction", "backlog", "areas", "trends-week", "trends-month"):
        figure = _figure(client, admin, name, node=city.district.code, start=START.isoformat(), end=END.isoformat())
        checked = 0
        for row in figure["rows"]:
            for key, url in row["links"].items():
                listed = _get(client, admin, url).json()["count"]
                value = row[key]
                if key in ("on_time_response_rate", "on_time_resolution_rate", "satisfaction_rate", "reopen_rate",
                           "closed_by_default_rate", "mean_rating") or key.endswith("_share"):
                    continue  # a rate links to its numerator's cases; its count is checked as a count elsewhere
                assert listed == value, (name, key, url)
                checked += 1
        assert checked, name


def test_tiers_and_trends_add_up_to_the_summary(client, built, city, users, at_now):
    admin, params = users[Role.ADMIN], {"node": city.district.code, "start": START.isoformat(), "end": END.isoformat()}
    summary = _figure(client, admin, "summary", **params)["totals"]
    assert sum(r["submitted"] for r in _figure(client, admin, "tiers", **params)["rows"]) == summary["submitted"]
    assert sum(r["submitted"] for r in _figure(client, admin, "trends-week", **params)["rows"]) == summary["submitted"]
    months = _figure(client, admin, "trends-month", **params)["rows"]
    assert [r["period"] for r in months] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert sum(r["submitted"] for r in months) == summary["submitted"]
    areas = _figure(client, admin, "areas", **params)["rows"]
    assert [r["code"] for r in areas] == ["S0", "S1"]
    assert sum(r["open"] for r in areas) == summary["open"]


def test_workload_lists_each_worker_with_open_cases_and_households(client, built, city, users, at_now):
    worker = users[Role.GRID_WORKER]
    figure = _figure(client, users[Role.ADMIN], "workload", node=city.grids[0].code)
    row = next(r for r in figure["rows"] if r["worker"] == str(worker))
    # Their open cases in this area (the test history gives them cases all over the district).
    assert row["open"] == Case.objects.filter(assignee=worker, status__in=OPEN_STATES, grid=city.grids[0]).count() > 0
    assert row["households"] == 1  # the `users` fixture gives each grid one household
    assert figure["totals"]["workers"] == 1


def test_a_community_leader_never_sees_another_communitys_figures(client, built, city, users, at_now):
    from communitygrid.testing import make_user

    leader = make_user(Role.LEADER, scope=[city.communities[0]], username="leader-c0")
    mine = _figure(client, leader, "summary", start=START.isoformat(), end=END.isoformat())["totals"]
    assert mine["submitted"] == direct_summary(city.communities[0])["submitted"]
    for other in (city.communities[1], city.grids[7], city.streets[0], city.district):
        for name in ("summary", "areas", "heat"):
            response = _get(client, leader, f"/api/v1/insights/figures/{name}", node=other.code)
            assert response.status_code == 404, (other.code, name)
        assert _get(client, leader, "/api/v1/insights/cases", measure="submitted", node=other.code).status_code == 404
        assert _get(client, leader, "/insights/", node=other.code).status_code == 404
    areas = _figure(client, leader, "areas")["rows"]
    assert {r["code"] for r in areas} == {g.code for g in city.grids if g.parent_id == city.communities[0].pk}
    listed = _get(client, leader, "/api/v1/insights/cases", measure="submitted", start=START.isoformat(),
                  end=END.isoformat(), limit=1000).json()
    assert listed["count"] == mine["submitted"]
    grids = {g.name for g in city.grids if g.path.startswith(city.communities[0].path)}
    assert {r["grid"] for r in listed["rows"]} <= grids
    # No personal data in the list behind a number.
    assert not {"description", "caller_phone", "caller_name", "reporter"} & set(listed["rows"][0])


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEPARTMENT_STAFF])
def test_roles_without_area_figures_are_refused(client, built, users, role):
    response = _get(client, users[role], "/api/v1/insights/figures/summary")
    assert response.status_code == 403
    assert response.json()["detail"]


@pytest.mark.parametrize("params,field", [
    ({"start": "2026-13-01"}, "start"), ({"end": "yesterday"}, "end"),
    ({"start": "2026-03-05", "end": "2026-03-01"}, "start"), ({"start": "2020-01-01", "end": "2026-01-01"}, "start"),
    ({"category": "no-such-thing"}, "category"), ({"node": "NOPE"}, "node"), ({"format": "pdf"}, None),
])
def test_bad_filters_are_a_translated_4xx_naming_the_field(client, built, users, params, field):
    client.force_login(users[Role.ADMIN])
    response = client.get("/api/v1/insights/figures/summary", params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 400 <= response.status_code < 500
    if field:
        body = response.json()
        assert body["field"] == field
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body["detail"]
        page = client.get("/insights/", params, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert 400 <= page.status_code < 500
        assert body["detail"] in page.content.decode()


def test_bad_case_list_filters_are_4xx(client, built, users):
    client.force_login(users[Role.ADMIN])
    for params in ({"measure": "everything"}, {"measure": "open", "tier": "hot"}, {"measure": "open", "department": "x"},
                   {"measure": "open", "assignee": "9" * 30}, {"measure": "open", "offset": -1}, {"measure": "open", "limit": 0},
                   {}):
        response = client.get("/api/v1/insights/cases", params)
        assert 400 <= response.status_code < 500, params
        if "offset" not in params and "limit" not in params:  # the page pages by `page`
            assert 400 <= client.get("/insights/cases/", params).status_code < 500, params


def test_unknown_figure_is_404_or_422(client, built, users):
    client.force_login(users[Role.ADMIN])
    assert client.get("/api/v1/insights/figures/everything").status_code in (404, 422)


@pytest.mark.parametrize("name", ["summary", "tiers", "backlog", "trends-week", "areas"])
def test_csv_and_xlsx_exports_carry_the_same_table_as_the_json(client, built, city, users, name, at_now):
    admin, params = users[Role.ADMIN], {"node": city.district.code, "start": START.isoformat(), "end": END.isoformat()}
    figure = _figure(client, admin, name, **params)
    response = _get(client, admin, f"/api/v1/insights/figures/{name}", format="csv", **params)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [c["label"] for c in figure["columns"]]
    assert len(rows) == 1 + len(figure["rows"])
    keys = [c["key"] for c in figure["columns"]]
    for line, row in zip(rows[1:], figure["rows"]):
        assert line == ["" if row[k] is None else str(row[k]) for k in keys]
    response = _get(client, admin, f"/api/v1/insights/figures/{name}", format="xlsx", **params)
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [c["label"] for c in figure["columns"]]
    for line, row in zip(values[1:], figure["rows"]):
        assert [None if v == "" else v for v in line] == [row[k] for k in keys]


def test_case_list_exports(client, built, city, users, at_now):
    response = _get(client, users[Role.ADMIN], "/api/v1/insights/cases", measure="open", format="csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) - 1 == Case.objects.filter(status__in=OPEN_STATES).count()


def test_labels_follow_the_language(client, built, users):
    client.force_login(users[Role.ADMIN])
    zh = client.get("/api/v1/insights/figures/tiers", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = client.get("/api/v1/insights/figures/tiers", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["columns"][0]["label"] != en["columns"][0]["label"]
    assert en["rows"][0]["label"] == "Urgent"


def test_cockpit_page_shows_the_figures_with_links(client, built, city, users, at_now):
    client.force_login(users[Role.LEADER])
    response = client.get("/insights/", {"start": START.isoformat(), "end": END.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    expected = direct_summary(city.district)
    assert f'data-figure="submitted">{expected["submitted"]}<' in html
    assert f'data-figure="open">{expected["open"]}<' in html
    assert "/insights/cases/?" in html and "node=S0" in html
    panel = client.get("/insights/panel", {"start": START.isoformat(), "end": END.isoformat()})
    assert panel.status_code == 200 and 'id="panel"' in panel.content.decode()
    listing = client.get("/insights/cases/", {"measure": "open"})
    assert listing.status_code == 200


def test_a_text_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    from communitygrid.insights.exports import _cell, csv_stream_response

    assert [_cell(v) for v in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "网格 -1", -3, None)] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "网格 -1", -3, ""]
    body = b"".join(csv_stream_response(name="t", header=["a"], rows=[["=1+1"]]).streaming_content).decode()
    assert body.splitlines()[1] == "'=1+1"

    # In XLSX the text is stored as text, as typed (no apostrophe, no formula).
    import io

    from openpyxl import load_workbook

    from communitygrid.insights.exports import table_response

    response = table_response(name="t", columns=[("a", "A")], rows=[{"a": "=1+1"}], fmt="xlsx")
    cell = load_workbook(io.BytesIO(response.content)).active["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
