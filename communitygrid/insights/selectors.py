"""Every read of the cockpit's figures, scoped to the acting user through ``figures_node_q``.

Figures are sums of rollup rows (``models.py``), never scans of cases; only the case list
behind a number reads cases, filtered by the very condition the number counts
(``definitions.py``), so the list's length is the number. The list carries no personal data.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.accounts.models import Department, Role, User
from communitygrid.accounts.scopes import figures_node_q
from communitygrid.cases.models import Case, Category, EscalationLevel, Tier
from communitygrid.geo.models import LEVEL_DEPTH, Node, NodeStatus
from communitygrid.insights.definitions import (
    BUCKETS, COUNT_LABELS, COUNTS, CURRENT, bucket_median, current_q,
)
from communitygrid.insights.errors import InvalidFilter, NoFigures, NotFound
from communitygrid.insights.models import CaseRollup, HeatCell, OpenRollup, RollupState, Span, WorkerLoad
from communitygrid.insights.rollups import (
    HEAT_DAYS, MEASURES, SPAN_NEXT, SPAN_START, day_start, local_day, month_of, next_month,
)

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
CASE_PAGE = 100


# ---------------------------------------------------------------- filters

@dataclass
class Filters:
    nodes: list[Node]            # disjoint: the chosen node, or the user's top scope nodes
    start: dt.date               # local days, both inclusive
    end: dt.date
    category: Category | None = None
    node: Node | None = None     # the node asked for (None: the whole scope)
    category_ids: list[int] = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def params(self) -> dict:
        values = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.node:
            values["node"] = self.node.code
        if self.category:
            values["category"] = self.category.code
        return values

    @property
    def title(self) -> str:
        return self.node.name if self.node else _("All my areas")


def figure_nodes(user: User) -> QuerySet:
    """Hierarchy nodes whose figures ``user`` may read."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NoFigures(_("Sign in to see figures."))
    if user.role not in {Role.LEADER, Role.ADMIN} and not user.is_area_staff and not user.is_superuser:
        raise NoFigures(_("Your role has no area figures."))
    return Node.objects.filter(figures_node_q(user))


def top_nodes(user: User) -> list[Node]:
    """The user's scope as disjoint nodes (a node inside another scope node is dropped)."""
    if user.is_system_admin:
        nodes = list(Node.objects.filter(parent__isnull=True, status=NodeStatus.ACTIVE))
    else:
        figure_nodes(user)
        nodes = list(user.scope_nodes.all())
    nodes.sort(key=lambda n: len(n.path))
    kept: list[Node] = []
    for node in nodes:
        if not any(node.path.startswith(k.path) for k in kept):
            kept.append(node)
    return kept


def _date(value: str | None, name: str, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidFilter(_("%(field)s: “%(value)s” is not a date (YYYY-MM-DD).") % {"field": label, "value": str(value)[:40]},
                            field=name)


def filters_parse(*, user: User, node: str | None = None, start: str | None = None, end: str | None = None,
                  category: str | None = None, today: dt.date | None = None) -> Filters:
    """Check every filter against the user's scope; a bad one is a translated 400/404 naming it."""
    allowed = figure_nodes(user)
    today = today or local_day(timezone.now())
    end_day = _date(end, "end", _("End date")) or today
    start_day = _date(start, "start", _("Start date")) or end_day - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise InvalidFilter(_("Start date: it must not be after the end date."), field="start")
    if (end_day - start_day).days >= MAX_DAYS:
        raise InvalidFilter(_("Start date: a period may span at most %(days)s days.") % {"days": MAX_DAYS}, field="start")
    chosen = None
    if node:
        chosen = allowed.filter(code=str(node)[:64]).first()
        if chosen is None:
            raise NotFound(_("Area “%(code)s” was not found among your areas.") % {"code": str(node)[:64]}, field="node")
    nodes = [chosen] if chosen else top_nodes(user)
    cat, cat_ids = None, []
    if category:
        cat = Category.objects.filter(code=str(category)[:48]).first()
        if cat is None:
            raise NotFound(_("Category “%(code)s” was not found.") % {"code": str(category)[:48]}, field="category")
        cat_ids = [cat.pk, *cat.children.values_list("pk", flat=True)]
    return Filters(nodes=nodes, start=start_day, end=end_day, category=cat, node=chosen, category_ids=cat_ids)


# ---------------------------------------------------------------- reading rollups

def _full_spans(start: dt.date, end: dt.date, span: str) -> list[dt.date]:
    """The weeks or months lying wholly inside [start, end]."""
    first, following = SPAN_START[span], SPAN_NEXT[span]
    spans, begin = [], start if first(start) == start else following(first(start))
    while following(begin) - dt.timedelta(days=1) <= end:
        spans.append(begin)
        begin = following(begin)
    return spans


def _period_sql(start: dt.date, end: dt.date, *, span: str | None = Span.MONTH) -> tuple[str, list]:
    """Rows covering [start, end]: whole weeks or months from their rows, the edges from day rows."""
    day = connection.ops.adapt_datefield_value
    spans = _full_spans(start, end, span) if span else []
    if not spans:
        return "(span = %s AND start >= %s AND start <= %s)", [Span.DAY, day(start), day(end)]
    parts = ["(span = %%s AND start IN (%s))" % ", ".join(["%s"] * len(spans))]
    params: list = [span, *(day(m) for m in spans)]
    if start < spans[0]:
        parts.append("(span = %s AND start >= %s AND start < %s)")
        params += [Span.DAY, day(start), day(spans[0])]
    after = SPAN_NEXT[span](spans[-1])
    if after <= end:
        parts.append("(span = %s AND start >= %s AND start <= %s)")
        params += [Span.DAY, day(after), day(end)]
    return "(%s)" % " OR ".join(parts), params


_SUMS_SQL = ", ".join('SUM("%s")' % name for name in MEASURES)
_GROUPS = {"tier": '"tier"', "node_id": '"node_id"', "start": '"start"'}


def _sums(filters: Filters, *group: str, start: dt.date | None = None, end: dt.date | None = None,
          span: str | None = Span.MONTH) -> list[dict]:
    """Sums of every measure over the filters' rows, optionally grouped.

    Written as one plain statement: the ORM spends longer compiling fifty ``Sum()`` expressions
    than the database spends adding up a district's rows.
    """
    node_ids = [n.pk for n in filters.nodes]
    if not node_ids:
        return [] if group else [dict.fromkeys(MEASURES, 0)]
    period, params = _period_sql(start or filters.start, end or filters.end, span=span)
    where = ["node_id IN (%s)" % ", ".join(["%s"] * len(node_ids)), period]
    params = [*node_ids, *params]
    if filters.category_ids:
        where.append("category_id IN (%s)" % ", ".join(["%s"] * len(filters.category_ids)))
        params += filters.category_ids
    else:
        where.append("category_id IS NULL")  # the all-category rows
    columns = [_GROUPS[g] for g in group]
    sql = "SELECT %s FROM %s WHERE %s" % (", ".join([*columns, _SUMS_SQL]), CaseRollup._meta.db_table,
                                         " AND ".join(where))
    if group:
        sql += " GROUP BY " + ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for line in fetched:
        row = dict(zip(group, line[:len(group)]))
        if "start" in row and isinstance(row["start"], str):
            row["start"] = dt.date.fromisoformat(row["start"])
        row.update({m: int(v or 0) for m, v in zip(MEASURES, line[len(group):])})
        rows.append(row)
    return rows


def _by_tier(filters: Filters) -> dict[str, dict]:
    """The period's sums per tier, read once per request for every figure that needs them."""
    if filters.cache.get("by_tier") is None:
        filters.cache["by_tier"] = {row["tier"]: row for row in _sums(filters, "tier")}
    return filters.cache["by_tier"]


def _total(filters: Filters) -> dict:
    total = dict.fromkeys(MEASURES, 0)
    for row in _by_tier(filters).values():
        for m in MEASURES:
            total[m] += row[m]
    return total


def _present(filters: Filters) -> QuerySet:
    rows = OpenRollup.objects.filter(node__in=[n.pk for n in filters.nodes])
    if filters.category_ids:
        rows = rows.filter(category_id__in=filters.category_ids)
    return rows


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


def _durations(row: dict) -> dict:
    out = {}
    for what, count in (("respond", row["responded"]), ("resolve", row["resolved"])):
        histogram = [row[f"{what}_h{i}"] for i in range(BUCKETS)]
        out[f"{what}_mean_hours"] = _hours(row[f"{what}_seconds"] / count) if count else None
        out[f"{what}_median_hours"] = _hours(bucket_median(histogram))
    return out


def _rates(row: dict) -> dict:
    return {
        "on_time_response_rate": _share(row["responded_on_time"], row["responded"]),
        "on_time_resolution_rate": _share(row["resolved_on_time"], row["resolved"]),
        **_durations(row),
        "solved_grid_share": _share(row["solved_grid"], row["resolved"]),
        "solved_community_share": _share(row["solved_community"], row["resolved"]),
        "solved_higher_share": _share(row["solved_higher"], row["resolved"]),
        "mean_rating": round(row["rating_sum"] / row["rated"], 2) if row["rated"] else None,
        "satisfaction_rate": _share(row["satisfied"], row["rated"]),
        "reopen_rate": _share(row["reopened"], row["resolved"]),
        "closed_by_default_rate": _share(row["closed_default"], row["closed"]),
    }


# ---------------------------------------------------------------- figures

@dataclass
class Figure:
    """One figure as a table: ``columns`` (key, label), ``rows`` of plain values, ``links`` per row
    from a column to the filter of the cases it counts, and ``totals`` for the headline."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict]
    filters: Filters
    as_of: dt.datetime | None
    totals: dict = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)


def _as_of(filters: Filters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When the period rollups and the present were last computed."""
    if "as_of" not in filters.cache:
        state = RollupState.objects.filter(pk=RollupState.ROW).values_list("rollups_at", "present_at").first()
        filters.cache["as_of"] = state or (None, None)
    return filters.cache["as_of"]


TIER_LABELS = dict(Tier.choices)

RATE_COLUMNS = [
    ("on_time_response_rate", gettext_lazy("On-time response (%)")),
    ("respond_mean_hours", gettext_lazy("Mean time to respond (h)")),
    ("respond_median_hours", gettext_lazy("Median time to respond (h)")),
    ("on_time_resolution_rate", gettext_lazy("Resolved on time (%)")),
    ("resolve_mean_hours", gettext_lazy("Mean time to resolve (h)")),
    ("resolve_median_hours", gettext_lazy("Median time to resolve (h)")),
]


def summary(filters: Filters) -> Figure:
    today = local_day(timezone.now())
    period = _total(filters)
    today_row = _sums(filters, start=today, end=today, span=None)[0]
    present = _present(filters).aggregate(open=Sum("open"), overdue=Sum("overdue"), urgent=Sum("urgent"))
    totals = {
        "today": today_row["submitted"], **{k: present[k] or 0 for k in CURRENT},
        **{k: period[k] for k in COUNTS}, **_rates(period),
    }
    columns = [("today", _("Cases today")), ("open", COUNT_LABELS["open"]), ("overdue", COUNT_LABELS["overdue"]),
               ("urgent", COUNT_LABELS["urgent"]), ("submitted", _("Submitted in the period")),
               ("resolved", COUNT_LABELS["resolved"]), *RATE_COLUMNS,
               ("solved_grid_share", _("Solved within the grid (%)")),
               ("solved_community_share", _("Solved within the community (%)")),
               ("solved_higher_share", _("Escalated further (%)")),
               ("mean_rating", _("Mean rating (1–5)")), ("satisfaction_rate", _("Satisfied (%)")),
               ("reopen_rate", _("Reopen rate (%)")), ("closed_by_default_rate", _("Closed by default (%)"))]
    links = {"today": {"measure": "submitted", "start": today.isoformat(), "end": today.isoformat()},
             **{k: {"measure": k} for k in (*CURRENT, "submitted", "resolved")},
             "on_time_response_rate": {"measure": "responded_on_time"},
             "on_time_resolution_rate": {"measure": "resolved_on_time"},
             "solved_grid_share": {"measure": "solved_grid"}, "solved_community_share": {"measure": "solved_community"},
             "solved_higher_share": {"measure": "solved_higher"}, "satisfaction_rate": {"measure": "satisfied"},
             "reopen_rate": {"measure": "reopened"}, "closed_by_default_rate": {"measure": "closed_default"},
             "mean_rating": {"measure": "rated"}}
    rollups_at, present_at = _as_of(filters)
    return Figure("summary", _("Summary"), columns, [{k: totals[k] for k, _label in columns}], filters,
                  present_at or rollups_at, totals=totals, links=[links])


def tiers(filters: Filters) -> Figure:
    by_tier = _by_tier(filters)
    present = {row["tier"]: row for row in _present(filters).order_by().values("tier")
               .annotate(open=Sum("open"), overdue=Sum("overdue"))}
    rows, links = [], []
    empty = dict.fromkeys(MEASURES, 0)
    for tier, label in Tier.choices:
        row = by_tier.get(tier, empty)
        rows.append({"tier": tier, "label": str(label), "submitted": row["submitted"],
                     "open": (present.get(tier) or {}).get("open") or 0,
                     "overdue": (present.get(tier) or {}).get("overdue") or 0,
                     **{k: v for k, v in _rates(row).items() if k in dict(RATE_COLUMNS)}})
        links.append({"submitted": {"measure": "submitted", "tier": tier}, "open": {"measure": "open", "tier": tier},
                      "overdue": {"measure": "overdue", "tier": tier},
                      "on_time_response_rate": {"measure": "responded_on_time", "tier": tier},
                      "on_time_resolution_rate": {"measure": "resolved_on_time", "tier": tier}})
    columns = [("label", _("Tier")), ("submitted", COUNT_LABELS["submitted"]), ("open", COUNT_LABELS["open"]),
               ("overdue", COUNT_LABELS["overdue"]), *RATE_COLUMNS]
    return Figure("tiers", _("By tier"), columns, rows, filters, _as_of(filters)[0], links=links)


def escalation(filters: Filters) -> Figure:
    row = _total(filters)
    keys = [("solved_grid", _("Solved within the grid")), ("solved_community", _("Solved within the community")),
            ("solved_higher", _("Escalated further and solved there")),
            ("escalated", _("Escalated to the community or above")),
            ("escalated_street", _("Escalated to the street or above")),
            ("escalated_district", _("Escalated to the district"))]
    rows = [{"key": key, "label": str(label), "cases": row[key],
             "share": _share(row[key], row["resolved"] if key.startswith("solved") else row["submitted"])}
            for key, label in keys]
    columns = [("label", _("Where it was solved")), ("cases", _("Cases")), ("share", _("Share (%)"))]
    return Figure("escalation", _("Solved where"), columns, rows, filters, _as_of(filters)[0],
                  links=[{"cases": {"measure": r["key"]}} for r in rows])


def satisfaction(filters: Filters) -> Figure:
    row = _total(filters)
    rates = _rates(row)
    rows = [
        {"key": "rated", "label": str(COUNT_LABELS["rated"]), "cases": row["rated"], "value": rates["mean_rating"]},
        {"key": "satisfied", "label": str(COUNT_LABELS["satisfied"]), "cases": row["satisfied"], "value": rates["satisfaction_rate"]},
        {"key": "reopened", "label": str(COUNT_LABELS["reopened"]), "cases": row["reopened"], "value": rates["reopen_rate"]},
        {"key": "closed_default", "label": str(COUNT_LABELS["closed_default"]), "cases": row["closed_default"],
         "value": rates["closed_by_default_rate"]},
    ]
    columns = [("label", _("Measure")), ("cases", _("Cases")), ("value", _("Mean rating or share (%)"))]
    return Figure("satisfaction", _("Satisfaction and reopening"), columns, rows, filters, _as_of(filters)[0],
                  links=[{"cases": {"measure": r["key"]}} for r in rows])


def backlog(filters: Filters) -> Figure:
    """Open cases by category and by department (no department: the grid workers)."""
    present = _present(filters).order_by()
    categories = {c.pk: c for c in Category.objects.all()}
    departments = dict(Department.objects.values_list("pk", "name"))
    rows, links = [], []
    for row in present.values("category_id").annotate(open=Sum("open"), overdue=Sum("overdue"), urgent=Sum("urgent")).order_by("-open"):
        cat = categories.get(row["category_id"])
        rows.append({"by": "category", "by_label": _("Category"), "key": cat.code if cat else "", "label": cat.label if cat else "—",
                     "open": row["open"], "overdue": row["overdue"], "urgent": row["urgent"]})
        links.append({k: {"measure": k, "category": rows[-1]["key"]} for k in CURRENT})
    for row in present.values("department_id").annotate(open=Sum("open"), overdue=Sum("overdue"), urgent=Sum("urgent")).order_by("-open"):
        dep = row["department_id"]
        rows.append({"by": "department", "by_label": _("Department"), "key": str(dep or ""), "label": departments.get(dep, _("Grid workers")),
                     "open": row["open"], "overdue": row["overdue"], "urgent": row["urgent"]})
        links.append({k: {"measure": k, "department": str(dep or "none")} for k in CURRENT})
    columns = [("by_label", _("By")), ("label", _("Category or department")), ("open", COUNT_LABELS["open"]),
               ("overdue", COUNT_LABELS["overdue"]), ("urgent", COUNT_LABELS["urgent"])]
    return Figure("backlog", _("Backlog"), columns, rows, filters, _as_of(filters)[1], links=links)


WORKER_ROWS = 50


def workload(filters: Filters) -> Figure:
    """Open cases and households per grid worker of the area (the busiest first)."""
    node_ids = [n.pk for n in filters.nodes]
    open_by = {row["assignee_id"]: row for row in _present(filters).filter(assignee__isnull=False).order_by()
               .values("assignee_id").annotate(open=Sum("open"), overdue=Sum("overdue"))}
    loads = dict(WorkerLoad.objects.filter(node_id__in=node_ids).values_list("worker_id", "households"))
    ranked = sorted(set(loads) | set(open_by), key=lambda w: (-(open_by.get(w) or {}).get("open", 0), w))
    shown = ranked[:WORKER_ROWS]
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=shown).only("username", "display_name")}
    rows, links = [], []
    for worker_id in shown:
        load = open_by.get(worker_id) or {}
        rows.append({"worker": names.get(worker_id, ""), "open": load.get("open", 0), "overdue": load.get("overdue", 0),
                     "households": loads.get(worker_id)})
        links.append({"open": {"measure": "open", "assignee": str(worker_id)},
                      "overdue": {"measure": "overdue", "assignee": str(worker_id)}})
    workers = len(loads)
    households = sum(loads.values())
    totals = {"workers": workers, "open": sum((row.get("open") or 0) for row in open_by.values()),
              "households_per_worker": round(households / workers) if workers else None}
    columns = [("worker", _("Grid worker")), ("open", COUNT_LABELS["open"]), ("overdue", COUNT_LABELS["overdue"]),
               ("households", _("Households covered"))]
    return Figure("workload", _("Workload per worker"), columns, rows[:WORKER_ROWS], filters, _as_of(filters)[1],
                  totals=totals, links=links[:WORKER_ROWS])


def trends(filters: Filters, *, by: str = "week") -> Figure:
    if by not in ("week", "month"):
        raise InvalidFilter(_("Group by: “%(value)s” is not one of week, month.") % {"value": str(by)[:20]}, field="by")
    rows_by: dict[dt.date, dict] = {}
    # By month: whole months from month rows, the period's edges from day rows.
    for row in _sums(filters, "start", span=Span.WEEK if by == "week" else Span.MONTH):
        key = month_of(row["start"]) if by == "month" else row["start"] - dt.timedelta(days=row["start"].weekday())
        into = rows_by.setdefault(key, dict.fromkeys(MEASURES, 0))
        for m in MEASURES:
            into[m] += row[m]
    rows, links = [], []
    for period in sorted(rows_by):
        row = rows_by[period]
        last = (next_month(period) if by == "month" else period + dt.timedelta(days=7)) - dt.timedelta(days=1)
        rates = _rates(row)
        rows.append({"period": period.isoformat(), "submitted": row["submitted"], "resolved": row["resolved"],
                     "on_time_response_rate": rates["on_time_response_rate"],
                     "resolve_mean_hours": rates["resolve_mean_hours"], "satisfaction_rate": rates["satisfaction_rate"]})
        span = {"start": max(period, filters.start).isoformat(), "end": min(last, filters.end).isoformat()}
        links.append({"submitted": {"measure": "submitted", **span}, "resolved": {"measure": "resolved", **span}})
    columns = [("period", _("Week from") if by == "week" else _("Month")), ("submitted", COUNT_LABELS["submitted"]),
               ("resolved", COUNT_LABELS["resolved"]), ("on_time_response_rate", _("On-time response (%)")),
               ("resolve_mean_hours", _("Mean time to resolve (h)")), ("satisfaction_rate", _("Satisfied (%)"))]
    title = _("Trend by week") if by == "week" else _("Trend by month")
    return Figure(f"trends-{by}", title, columns, rows, filters, _as_of(filters)[0], links=links)


def areas(filters: Filters) -> Figure:
    """The areas one level down (the map and the drill-down): present load and period figures."""
    parent = filters.node or (filters.nodes[0] if len(filters.nodes) == 1 else None)
    children = list(filters.nodes)
    if parent is not None:
        children = list(Node.objects.filter(parent=parent, status=NodeStatus.ACTIVE).order_by("code")) or [parent]
    ids = [n.pk for n in children]
    sub = Filters(nodes=children, start=filters.start, end=filters.end, category=filters.category,
                  category_ids=filters.category_ids)
    present = {row["node_id"]: row for row in _present(sub).filter(node_id__in=ids).order_by().values("node_id")
               .annotate(open=Sum("open"), overdue=Sum("overdue"), urgent=Sum("urgent"))}
    period = {row["node_id"]: row for row in _sums(sub, "node_id")}
    empty = dict.fromkeys(MEASURES, 0)
    rows, links = [], []
    for node in children:
        p, row = present.get(node.pk) or {}, period.get(node.pk, empty)
        rows.append({"code": node.code, "name": node.name, "level": node.level,
                     "open": p.get("open") or 0, "overdue": p.get("overdue") or 0, "urgent": p.get("urgent") or 0,
                     "submitted": row["submitted"], "on_time_response_rate": _rates(row)["on_time_response_rate"],
                     "drill": node != parent and LEVEL_DEPTH.get(node.level, 9) <= LEVEL_DEPTH["grid"]})
        links.append({k: {"measure": k, "node": node.code} for k in (*CURRENT, "submitted")})
    columns = [("name", _("Area")), ("open", COUNT_LABELS["open"]), ("overdue", COUNT_LABELS["overdue"]),
               ("urgent", COUNT_LABELS["urgent"]), ("submitted", COUNT_LABELS["submitted"]),
               ("on_time_response_rate", _("On-time response (%)"))]
    figure = Figure("areas", _("Areas"), columns, rows, filters, _as_of(filters)[1], links=links)
    figure.totals = {"geometry": {n.code: n.geometry for n in children}}
    return figure


# A map stays legible (and light) with this many circles; the busiest cells are kept.
HEAT_CELLS = 1500


def heat(filters: Filters) -> Figure:
    cells = (HeatCell.objects.filter(node__in=[n.pk for n in filters.nodes]).order_by("-cases")
             .values_list("lon", "lat", "cases")[:HEAT_CELLS])
    rows = [{"lon": lon, "lat": lat, "cases": n} for lon, lat, n in cells]
    columns = [("lon", _("Longitude")), ("lat", _("Latitude")), ("cases", _("Cases"))]
    return Figure("heat", _("Cases of the last %(days)s days") % {"days": HEAT_DAYS}, columns, rows, filters,
                  _as_of(filters)[1])


FIGURES = {"summary": summary, "tiers": tiers, "escalation": escalation, "satisfaction": satisfaction,
           "backlog": backlog, "workload": workload, "areas": areas, "heat": heat,
           "trends-week": lambda f: trends(f, by="week"), "trends-month": lambda f: trends(f, by="month")}


# ---------------------------------------------------------------- the cases behind a number

MEASURE_NAMES = [*COUNTS, *CURRENT]


def case_list(*, user: User, filters: Filters, measure: str, tier: str | None = None, department: str | None = None,
              assignee: str | None = None) -> QuerySet:
    """The cases a number counts: the same filters, the measure's own condition; no personal data."""
    if measure not in MEASURE_NAMES:
        raise InvalidFilter(_("Measure: “%(value)s” is not a figure's measure.") % {"value": str(measure)[:40]},
                            field="measure")
    scope = Q()
    for node in filters.nodes:
        scope |= Q(grid__path__startswith=node.path)
    cases = Case.objects.filter(scope)
    if measure in CURRENT:
        cases = cases.filter(current_q(measure, timezone.now()))
    else:
        cases = cases.filter(COUNTS[measure], created_at__gte=day_start(filters.start),
                             created_at__lt=day_start(filters.end + dt.timedelta(days=1)))
    if filters.category_ids:
        cases = cases.filter(category_id__in=filters.category_ids)
    if tier:
        if tier not in Tier.values:
            raise InvalidFilter(_("Tier: “%(value)s” is not one of urgent, general, complex.") % {"value": str(tier)[:20]},
                                field="tier")
        cases = cases.filter(tier=tier)
    if department:
        if department == "none":
            cases = cases.filter(department__isnull=True)
        elif department.isdigit() and len(department) < 19:
            cases = cases.filter(department_id=int(department))
        else:
            raise InvalidFilter(_("Department: “%(value)s” is not a department number.") % {"value": department[:20]},
                                field="department")
    if assignee:
        if not (assignee.isdigit() and len(assignee) < 19):
            raise InvalidFilter(_("Worker: “%(value)s” is not a user number.") % {"value": assignee[:20]}, field="assignee")
        cases = cases.filter(assignee_id=int(assignee))
    return (cases.select_related("category", "grid")
            .only("id", "created_at", "accepted_at", "resolved_at", "status", "tier", "escalation_level", "rating",
                  "reopen_count", "category__name", "category__name_en", "grid__name", "grid__code")
            .order_by("-created_at", "-id"))


def case_rows(cases) -> list[dict]:
    rows = []
    for case in cases:
        rows.append({
            "id": case.pk, "created_at": case.created_at, "category": case.category.label, "grid": case.grid.name,
            "tier": case.get_tier_display(), "status": case.get_status_display(),
            "escalation": EscalationLevel(case.escalation_level).label,
            "respond_hours": _hours((case.accepted_at - case.created_at).total_seconds()) if case.accepted_at else None,
            "resolve_hours": _hours((case.resolved_at - case.created_at).total_seconds()) if case.resolved_at else None,
            "rating": case.rating, "reopened": case.reopen_count,
        })
    return rows


CASE_COLUMNS = [("id", gettext_lazy("Case")), ("created_at", gettext_lazy("Submitted at")),
                ("category", gettext_lazy("Category")), ("grid", gettext_lazy("Grid")), ("tier", gettext_lazy("Tier")),
                ("status", gettext_lazy("Status")), ("escalation", gettext_lazy("Escalation level")),
                ("respond_hours", gettext_lazy("Time to respond (h)")),
                ("resolve_hours", gettext_lazy("Time to resolve (h)")),
                ("rating", gettext_lazy("Rating")), ("reopened", gettext_lazy("Times reopened"))]
