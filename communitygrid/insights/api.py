"""The cockpit's figures over JSON (mounted at /api/v1/insights), each also as CSV and XLSX.

``GET /figures/{name}`` with the filters ``node`` (a hierarchy code within your areas),
``start``/``end`` (local days, YYYY-MM-DD, inclusive) and ``category`` (a category or group
code); ``format=csv|xlsx`` exports the same table. Every number carries a link to
``GET /cases`` with the filter of the cases it counts. Bad filters: 400 naming the field;
an area outside yours: 404; a role without figures: 403.
"""

import datetime as dt
from typing import Any, Literal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from communitygrid.insights import selectors
from communitygrid.insights.errors import InvalidFilter
from communitygrid.insights.exports import table_response
from communitygrid.restapi.errors import ErrorOut

router = Router(tags=["insights"])
# The selectors' errors (the cases app's kinds) become their 4xx by communitygrid.restapi's handlers.
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
MAX_OFFSET = 10**7


class FilterIn(Schema):
    node: str | None = None
    start: str | None = None
    end: str | None = None
    category: str | None = None
    format: Literal["json", "csv", "xlsx"] = "json"


class ColumnOut(Schema):
    key: str
    label: str


class FigureOut(Schema):
    figure: str
    title: str
    filters: dict[str, str]
    as_of: dt.datetime | None
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class CasesIn(FilterIn):
    measure: str
    tier: str | None = None
    department: str | None = None
    assignee: str | None = None
    offset: int = 0
    limit: int = 100


class CasesOut(Schema):
    measure: str
    filters: dict[str, str]
    count: int
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


def cases_url(filters: selectors.Filters, link: dict, *, page: bool = False) -> str:
    base = reverse("insights:cases") if page else reverse("api:insights_cases")
    return f"{base}?{urlencode({**filters.params(), **link})}"


def figure_json(figure: selectors.Figure) -> dict:
    rows = []
    for index, row in enumerate(figure.rows):
        links = figure.links[index] if index < len(figure.links) else {}
        rows.append({**row, "links": {key: cases_url(figure.filters, link) for key, link in links.items()}})
    return {"figure": figure.name, "title": str(figure.title), "filters": figure.filters.params(), "as_of": figure.as_of,
            "columns": [{"key": k, "label": str(label)} for k, label in figure.columns], "rows": rows,
            "totals": figure.totals}


def _filters(request, params: FilterIn) -> selectors.Filters:
    return selectors.filters_parse(user=request.user, node=params.node, start=params.start, end=params.end,
                                   category=params.category)


@router.get("/cases", response={200: CasesOut, **ERRORS}, url_name="insights_cases")
def cases(request, params: Query[CasesIn]):
    """The cases behind a number (no personal data): same filters, plus the number's measure."""
    filters = _filters(request, params)
    if not 0 <= params.offset <= MAX_OFFSET:
        raise InvalidFilter(_("Offset: it must be a whole number from 0 to %(max)s.") % {"max": MAX_OFFSET}, field="offset")
    if not 1 <= params.limit <= 1000:
        raise InvalidFilter(_("Limit: it must be a whole number from 1 to 1000."), field="limit")
    query = selectors.case_list(user=request.user, filters=filters, measure=params.measure, tier=params.tier,
                                department=params.department, assignee=params.assignee)
    columns = [(k, str(label)) for k, label in selectors.CASE_COLUMNS]
    if params.format != "json":
        return table_response(name=f"cases-{params.measure}", columns=columns,
                              rows=selectors.case_rows(query[:50_000]), fmt=params.format)
    return {"measure": params.measure, "filters": filters.params(), "count": query.count(),
            "columns": [{"key": k, "label": label} for k, label in columns],
            "rows": selectors.case_rows(query[params.offset:params.offset + params.limit])}


@router.get("/figures/{name}", response={200: FigureOut, **ERRORS}, url_name="insights_figure")
def figure(request, name: Literal[tuple(selectors.FIGURES)], params: Query[FilterIn]):  # type: ignore[valid-type]
    """One figure of the cockpit: summary, tiers, escalation, satisfaction, backlog, workload, areas,
    heat, trends-week, trends-month."""
    figure = selectors.FIGURES[name](_filters(request, params))
    if params.format != "json":
        return table_response(name=figure.name, columns=figure.columns, rows=figure.rows, fmt=params.format)
    return figure_json(figure)
