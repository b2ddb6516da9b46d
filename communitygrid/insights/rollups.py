"""Building the rollup tables from the case record (every write of this app).

Three jobs, each idempotent and safe on two machines at once (they lock the state row first):

- :func:`rollups_rebuild` recomputes the period rollups from cases, all of them or from a day on;
- :func:`rollups_update` follows the append-only case events (and new case ids) since its
  watermark and recomputes exactly the (day, node) rows those cases fall in, then their months;
- :func:`present_refresh` recomputes the present: open/overdue/urgent, workers' load, heat cells.

The big statements are ``INSERT … SELECT`` built by the ORM, so they run inside the database on
SQLite and PostgreSQL alike and never bring a row of cases into Python.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models import Case as When_
from django.db.models import When
from django.db.models.functions import Round, TruncDate, TruncMonth, TruncWeek
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from communitygrid.accounts.models import Role, User
from communitygrid.cases.models import OPEN_STATES, Case, CaseEvent
from communitygrid.geo.models import MapVersion, Node
from communitygrid.insights.definitions import BUCKET_MINUTES, COUNTS, overdue_q
from communitygrid.insights.models import (
    DURATIONS, CaseRollup, HeatCell, NodeLink, OpenRollup, RollupState, Span, WorkerLoad,
)
from communitygrid.insights.sql import SecondsBetween

# Events committed out of id order (a long transaction) are caught by re-reading this many ids.
EVENT_OVERLAP = 1000
HEAT_DAYS = 7
HEAT_CELL_DEGREES = 0.001

DURATION_ENDS = {"respond": "accepted_at", "resolve": "resolved_at"}


def local_zone() -> ZoneInfo:
    """Days are the operator's local days (settings.TIME_ZONE, Asia/Shanghai by default)."""
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """The UTC moment a local day begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=local_zone()).astimezone(dt.timezone.utc)


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(local_zone()).date()


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# ---------------------------------------------------------------- the hierarchy's closure

def links_refresh(*, force: bool = False) -> bool:
    """Rebuild the closure when the map changed (its token moves with every node change)."""
    state = RollupState.get(lock=True)
    token = MapVersion.current_token()
    if not force and token and token == state.map_token and NodeLink.objects.exists():
        return False
    ids_by_path = dict(Node.objects.values_list("id", "path"))
    links = [
        NodeLink(descendant_id=node_id, ancestor_id=int(part))
        for node_id, path in ids_by_path.items() for part in path.strip("/").split("/") if part
    ]
    NodeLink.objects.all().delete()
    NodeLink.objects.bulk_create(links, batch_size=5000)
    RollupState.objects.filter(pk=RollupState.ROW).update(map_token=token)
    return True


# ---------------------------------------------------------------- period rollups

def _flag(q: Q) -> When_:
    return When_(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def _bucket(seconds, end: str, low: int | None, high: int | None) -> When_:
    """1 when the duration ending at ``end`` lies in (low, high] minutes."""
    whens = [When(**{f"{end}__isnull": True}, then=Value(0))]
    if low is not None:
        whens.append(When(LessThanOrEqual(seconds, low * 60), then=Value(0)))
    if high is not None:
        whens.append(When(LessThanOrEqual(seconds, high * 60), then=Value(1)))
        return When_(*whens, default=Value(0), output_field=IntegerField())
    return When_(*whens, default=Value(1), output_field=IntegerField())


def _measures() -> dict:
    measures = {name: Sum(_flag(q)) for name, q in COUNTS.items()}
    for what in DURATIONS:
        end = DURATION_ENDS[what]
        seconds = SecondsBetween(F("created_at"), F(end))
        measures[f"{what}_seconds"] = Sum(
            When_(When(**{f"{end}__isnull": False}, then=seconds), default=Value(0), output_field=BigIntegerField())
        )
        bounds = [None, *BUCKET_MINUTES, None]
        for index in range(len(bounds) - 1):
            measures[f"{what}_h{index}"] = Sum(_bucket(seconds, end, bounds[index], bounds[index + 1]))
    measures["rating_sum"] = Sum(When_(When(rating__isnull=False, then=F("rating")), default=Value(0),
                                       output_field=IntegerField()))
    return measures


MEASURES = [*COUNTS, *(f"{what}_seconds" for what in DURATIONS),
            *(f"{what}_h{i}" for what in DURATIONS for i in range(len(BUCKET_MINUTES) + 1)), "rating_sum"]


def _insert_select(model, query: QuerySet, columns: dict[str, str]) -> int:
    """``INSERT INTO model (…) SELECT …`` with the ORM's SELECT; ``columns`` maps select names to fields."""
    names = [*query.query.values_select, *query.query.annotation_select]
    fields = [model._meta.get_field(columns.get(name, name)).column for name in names]
    sql, params = query.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO %s (%s) %s" % (table, ", ".join(connection.ops.quote_name(f) for f in fields), sql),
                       params)
        return cursor.rowcount


def _day_rows_from_cases(cases: QuerySet, ancestors: list[int] | None = None) -> int:
    """Insert day rows for ``cases`` under every node above their grids (or only ``ancestors``)."""
    query = cases.order_by()
    if ancestors is not None:
        query = query.filter(grid__insights_ancestor_links__ancestor_id__in=ancestors)
    query = (
        query.annotate(span_=Value(Span.DAY), start_=TruncDate("created_at", tzinfo=local_zone()),
                       node_=F("grid__insights_ancestor_links__ancestor_id"))
        .values("category_id", "tier", "span_", "start_", "node_")
        .annotate(**_measures())
    )
    return _insert_select(CaseRollup, query, {"span_": "span", "start_": "start", "node_": "node",
                                              "category_id": "category"})


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


SPAN_START = {Span.WEEK: week_of, Span.MONTH: month_of}
SPAN_NEXT = {Span.WEEK: lambda day: day + dt.timedelta(days=7), Span.MONTH: next_month}
SPAN_TRUNC = {Span.WEEK: TruncWeek, Span.MONTH: TruncMonth}


def _sum_rows(source: QuerySet, *, span: str, start, group: list[str]) -> int:
    """Insert rows of ``span`` summing the ``source`` rows, grouped by node, tier and ``group``."""
    query = (
        source.order_by().annotate(span_=Value(span), start_=start)
        .values("node_id", "tier", *group, "span_", "start_")
        .annotate(**{f"{name}_": Sum(name) for name in MEASURES})
    )
    columns = {"span_": "span", "start_": "start", "node_id": "node", "category_id": "category",
               **{f"{name}_": name for name in MEASURES}}
    return _insert_select(CaseRollup, query, columns)


def _all_category_rows(day_rows: QuerySet) -> int:
    """Per day, node and tier, the sum over every category (category empty): the figures without a
    category filter, the cockpit's usual view, read one row per tier instead of one per category."""
    return _sum_rows(day_rows.filter(category__isnull=False), span=Span.DAY, start=F("start"), group=[])


def _span_rows_from_days(day_rows: QuerySet, span: str) -> int:
    return _sum_rows(day_rows, span=span, start=SPAN_TRUNC[span]("start"), group=["category_id"])


@transaction.atomic
def rollups_rebuild(*, since: dt.date | None = None) -> dict:
    """Recompute the period rollups from the cases submitted on or after ``since`` (all: None)."""
    links_refresh()
    state = RollupState.get(lock=True)
    last_event = CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    last_case = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cases = Case.objects.all()
    days = CaseRollup.objects.filter(span=Span.DAY)
    if since is not None:
        cases = cases.filter(created_at__gte=day_start(since))
        days = days.filter(start__gte=since)
    days.delete()
    counts = {"day_rows": _day_rows_from_cases(cases)}
    counts["day_rows"] += _all_category_rows(days)
    for span in (Span.WEEK, Span.MONTH):
        rows = CaseRollup.objects.filter(span=span)
        source = CaseRollup.objects.filter(span=Span.DAY)
        if since is not None:
            rows = rows.filter(start__gte=SPAN_START[span](since))
            source = source.filter(start__gte=SPAN_START[span](since))
        rows.delete()
        counts[f"{span}_rows"] = _span_rows_from_days(source, span)
    state.last_event_id, state.last_case_id, state.rollups_at = last_event, last_case, timezone.now()
    state.save(update_fields=["last_event_id", "last_case_id", "rollups_at"])
    return counts


@transaction.atomic
def rollups_update() -> dict:
    """Recompute the rows of the cases changed (an event) or added since the last run."""
    links_refresh()
    state = RollupState.get(lock=True)
    events = CaseEvent.objects.filter(id__gt=max(0, state.last_event_id - EVENT_OVERLAP))
    last_event = events.order_by("-id").values_list("id", flat=True).first() or state.last_event_id
    last_case = Case.objects.order_by("-id").values_list("id", flat=True).first() or state.last_case_id
    changed = Case.objects.filter(Q(id__in=events.values("case_id")) | Q(id__gt=state.last_case_id))
    grids_by_day: dict[dt.date, set[int]] = defaultdict(set)
    for created_at, grid_id in changed.values_list("created_at", "grid_id"):
        grids_by_day[local_day(created_at)].add(grid_id)
    if not grids_by_day:
        return {"days": 0}
    ancestors_of = defaultdict(set)
    all_grids = set().union(*grids_by_day.values())
    for grid_id, ancestor_id in NodeLink.objects.filter(descendant_id__in=all_grids).values_list("descendant_id", "ancestor_id"):
        ancestors_of[grid_id].add(ancestor_id)
    dirty: dict[str, dict[dt.date, set[int]]] = {Span.WEEK: defaultdict(set), Span.MONTH: defaultdict(set)}
    for day, grids in sorted(grids_by_day.items()):
        nodes = sorted(set().union(*(ancestors_of[g] for g in grids)))
        rows = CaseRollup.objects.filter(span=Span.DAY, start=day, node_id__in=nodes)
        rows.delete()
        _day_rows_from_cases(
            Case.objects.filter(created_at__gte=day_start(day), created_at__lt=day_start(day + dt.timedelta(days=1))),
            ancestors=nodes,
        )
        _all_category_rows(rows)
        for span, by_start in dirty.items():
            by_start[SPAN_START[span](day)].update(nodes)
    for span, by_start in dirty.items():
        for start, nodes in by_start.items():
            CaseRollup.objects.filter(span=span, start=start, node_id__in=nodes).delete()
            _span_rows_from_days(CaseRollup.objects.filter(span=Span.DAY, start__gte=start,
                                                           start__lt=SPAN_NEXT[span](start), node_id__in=nodes), span)
    state.last_event_id, state.last_case_id, state.rollups_at = last_event, last_case, timezone.now()
    state.save(update_fields=["last_event_id", "last_case_id", "rollups_at"])
    return {"days": len(grids_by_day)}


# ---------------------------------------------------------------- the present

@transaction.atomic
def present_refresh(*, now: dt.datetime | None = None) -> dict:
    """Recompute open/overdue/urgent per node, workers' load and the heat cells, as of ``now``."""
    now = now or timezone.now()
    links_refresh()
    state = RollupState.get(lock=True)
    OpenRollup.objects.all().delete()
    link = "grid__insights_ancestor_links__ancestor_id"
    open_rows = _insert_select(
        OpenRollup,
        Case.objects.filter(status__in=OPEN_STATES).order_by()
        .annotate(node_=F(link)).values("category_id", "tier", "department_id", "assignee_id", "node_")
        .annotate(open_=Count("id"), overdue_=Sum(_flag(overdue_q(now))), urgent_=Sum(_flag(Q(tier="urgent")))),
        {"category_id": "category", "department_id": "department", "assignee_id": "assignee", "node_": "node",
         "open_": "open", "overdue_": "overdue", "urgent_": "urgent"},
    )
    HeatCell.objects.all().delete()
    heat_rows = _insert_select(
        HeatCell,
        Case.objects.filter(created_at__gte=now - dt.timedelta(days=HEAT_DAYS), created_at__lte=now,
                            lon__isnull=False, lat__isnull=False).order_by()
        .annotate(node_=F(link), lon_=Round("lon", 3), lat_=Round("lat", 3))
        .values("node_", "lon_", "lat_").annotate(cases_=Count("id")),
        {"node_": "node", "lon_": "lon", "lat_": "lat", "cases_": "cases"},
    )
    WorkerLoad.objects.all().delete()
    WorkerLoad.objects.bulk_create(_worker_loads(), batch_size=5000)
    state.present_at = now
    state.save(update_fields=["present_at"])
    return {"open_rows": open_rows, "heat_rows": heat_rows}


def _worker_loads() -> list[WorkerLoad]:
    from communitygrid.registry.models import Household

    households = dict(Household.objects.filter(is_active=True).order_by().values_list("grid_id").annotate(n=Count("id")))
    ancestors_of = defaultdict(set)
    for descendant, ancestor in NodeLink.objects.values_list("descendant_id", "ancestor_id"):
        ancestors_of[descendant].add(ancestor)
    descendants_of = defaultdict(set)
    for descendant, ancestors in ancestors_of.items():
        for ancestor in ancestors:
            descendants_of[ancestor].add(descendant)
    grids_of_worker = defaultdict(set)
    workers = User.objects.filter(role=Role.GRID_WORKER, is_active=True, scope_nodes__isnull=False)
    for worker_id, node_id in workers.values_list("id", "scope_nodes"):
        grids_of_worker[worker_id] |= descendants_of[node_id] or {node_id}
    rows = []
    for worker_id, grids in grids_of_worker.items():
        covered = sum(households.get(grid, 0) for grid in grids)
        for node_id in set().union(*(ancestors_of[grid] for grid in grids)):
            rows.append(WorkerLoad(node_id=node_id, worker_id=worker_id, households=covered))
    return rows


def refresh_all() -> dict:
    """The periodic job: follow the case record, then recompute the present."""
    return {**rollups_update(), **present_refresh()}
