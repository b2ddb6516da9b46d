"""The cockpit pages: thin — parse the filters, call the selectors, render (errors: translated 4xx)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from communitygrid.cases.models import Category
from communitygrid.insights import selectors
from communitygrid.insights.api import cases_url
from communitygrid.insights.definitions import COUNT_LABELS
from communitygrid.insights.errors import InsightsError

PANEL_FIGURES = ("summary", "tiers", "escalation", "satisfaction", "backlog", "workload", "areas", "trends-week",
                 "trends-month")


def _filters(request) -> selectors.Filters:
    get = request.GET
    return selectors.filters_parse(user=request.user, node=get.get("node"), start=get.get("start"),
                                   end=get.get("end"), category=get.get("category"))


def _error(request, error: InsightsError):
    return render(request, "insights/error.html", {"error": error}, status=error.status)


def _table(figure: selectors.Figure) -> dict:
    """A figure ready for the template: cells with their case-list links."""
    rows = []
    for index, row in enumerate(figure.rows):
        links = figure.links[index] if index < len(figure.links) else {}
        rows.append({"raw": row, "cells": [
            {"key": key, "value": row.get(key),
             "url": cases_url(figure.filters, links[key], page=True) if key in links else None}
            for key, _label in figure.columns]})
    return {"name": figure.name, "title": figure.title, "columns": figure.columns, "rows": rows,
            "totals": figure.totals, "as_of": figure.as_of,
            "export": {fmt: f"{reverse('api:insights_figure', args=[figure.name])}?"
                            f"{urlencode({**figure.filters.params(), 'format': fmt})}" for fmt in ("csv", "xlsx")}}


def _panel_context(request) -> dict:
    filters = _filters(request)
    figures = {name.replace("-", "_"): _table(selectors.FIGURES[name](filters)) for name in PANEL_FIGURES}
    summary = figures["summary"]
    headline = {cell["key"]: cell for cell in summary["rows"][0]["cells"]}
    base = {k: v for k, v in filters.params().items() if k != "node"}
    for row in figures["areas"]["rows"]:
        if row["raw"]["drill"]:
            row["drill_url"] = f"{reverse('insights:cockpit')}?{urlencode({**base, 'node': row['raw']['code']})}"
    trail = filters.node.ancestors() if filters.node else []
    allowed = set(selectors.figure_nodes(request.user).filter(pk__in=[n.pk for n in trail]).values_list("pk", flat=True))
    return {"filters": filters, "figures": figures, "headline": headline,
            "refresh_seconds": getattr(settings, "COCKPIT_REFRESH_SECONDS", 60),
            "trail": [{"node": n, "url": f"{reverse('insights:cockpit')}?{urlencode({**base, 'node': n.code})}"}
                      for n in trail if n.pk in allowed and n != filters.node],
            "top_url": f"{reverse('insights:cockpit')}?{urlencode(base)}", "query": urlencode(filters.params())}


@login_required
def cockpit(request):
    try:
        context = _panel_context(request)
    except InsightsError as error:
        return _error(request, error)
    context["categories"] = Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "code")
    context["api"] = {name.replace("-", "_"): reverse("api:insights_figure", args=[name])
                      for name in ("areas", "heat", "trends-week", "tiers", "backlog")}
    context["labels"] = {"submitted": str(COUNT_LABELS["submitted"]), "resolved": str(COUNT_LABELS["resolved"]),
                         "on_time": str(_("On-time response (%)")), "open": str(COUNT_LABELS["open"]),
                         "overdue": str(COUNT_LABELS["overdue"]), "urgent": str(COUNT_LABELS["urgent"])}
    return render(request, "insights/cockpit.html", context)


@login_required
def panel(request):
    """The figures alone, for the page's periodic refresh (htmx)."""
    try:
        context = _panel_context(request)
    except InsightsError as error:
        return _error(request, error)
    return render(request, "insights/_panel.html", context)


@login_required
def cases(request):
    """The cases behind a number, without personal data."""
    get = request.GET
    try:
        filters = _filters(request)
        query = selectors.case_list(user=request.user, filters=filters, measure=get.get("measure", ""),
                                    tier=get.get("tier") or None, department=get.get("department") or None,
                                    assignee=get.get("assignee") or None)
    except InsightsError as error:
        return _error(request, error)
    page = Paginator(query, selectors.CASE_PAGE).get_page(get.get("page"))
    keep = {k: v for k, v in get.items() if k != "page"}
    label = selectors.COUNT_LABELS.get(get.get("measure"), "")
    return render(request, "insights/cases.html", {
        "filters": filters, "page": page, "rows": selectors.case_rows(page.object_list), "columns": selectors.CASE_COLUMNS,
        "measure_label": label, "keep": urlencode(keep), "back": f"{reverse('insights:cockpit')}?{urlencode(filters.params())}",
        "export": {fmt: f"{reverse('api:insights_cases')}?{urlencode({**keep, 'format': fmt})}" for fmt in ("csv", "xlsx")},
    })
