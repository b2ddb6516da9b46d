"""Every Open311 read: services, their definitions, requests (scoped to the key, or public).

With a key, requests are the cases its service account may see (``cases.selectors``), shown
in full. Without one, any case is shown as on the public community board: no description,
no coordinates, no people, no notes beyond the status.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from communitygrid.apikeys.models import ApiKey
from communitygrid.cases.models import OPEN_STATES, Attachment, Case, CaseEvent, Category, Status
from communitygrid.cases.selectors import case_queryset, category_leaves
from communitygrid.core.sql import codes
from communitygrid.open311.errors import Open311Error
from communitygrid.open311.formats import parse_w3c, w3c
from communitygrid.open311.models import Open311Request, ServiceAttribute

DEFAULT_WINDOW = dt.timedelta(days=90)  # the spec's default and largest date range
MAX_RESULTS = 1000  # the spec's default number of requests returned
MAX_IDS = 1000
# Resolved is "closed" to Open311: the work is done, only the resident's word is awaited.
OPEN311_OPEN = set(OPEN_STATES)
PUBLIC_HIDDEN = [Status.CANCELLED, Status.MERGED]


def open311_status(status: str) -> str:
    return "open" if status in OPEN311_OPEN else "closed"


# ---------------------------------------------------------------- services

def services() -> list[Category]:
    return list(category_leaves().prefetch_related("open311_attributes"))


def service_get(code: str) -> Category:
    category = category_leaves().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code})
    return category


def service_attributes(category: Category) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category).order_by("order", "code"))


# ---------------------------------------------------------------- requests

@dataclass
class RequestQuery:
    ids: list[int] | None = None
    service_codes: list[str] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: set[str] = field(default_factory=set)
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    page: int = 1
    page_size: int = MAX_RESULTS
    after: tuple[dt.datetime, int] | None = None  # keyset cursor: (requested_datetime, id)
    extensions: bool = False


def _date(params, name: str) -> dt.datetime | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    moment = parse_w3c(value)
    if moment is None:
        raise Open311Error(400, _("%(name)s “%(value)s” is not a W3C date-time such as 2026-01-31T09:00:00+08:00.")
                           % {"name": name, "value": value[:40]})
    return moment


def _positive(params, name: str, default: int, maximum: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise Open311Error(400, _("%(name)s must be a whole number from 1 to %(max)d.") % {"name": name, "max": maximum})
    return int(value)


def encode_cursor(row: dict) -> str:
    raw = f"{int(row['created_at'].timestamp() * 1_000_000)}:{row['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor(value: str) -> tuple[dt.datetime, int]:
    try:
        micros, pk = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split(":")
        return dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.timezone.utc), int(pk)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        raise Open311Error(400, _("after is not a cursor this server gave out (take it from the Link header)."))


def parse_request_query(params, *, now: dt.datetime | None = None) -> RequestQuery:
    """The spec's filters and the common extensions, checked; Open311Error(400) names what is wrong."""
    now = now or timezone.now()
    query = RequestQuery()
    ids = (params.get("service_request_id") or "").strip()
    if ids:
        parts = [p.strip() for p in ids.split(",") if p.strip()]
        if len(parts) > MAX_IDS or not all(p.isdigit() and len(p) < 19 for p in parts):
            raise Open311Error(400, _("service_request_id must be up to %(n)d request ids separated by commas.")
                               % {"n": MAX_IDS})
        query.ids = [int(p) for p in parts]
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    known = set(category_leaves().filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Open311Error(400, _("service_code %(code)s was not found.") % {"code": ", ".join(unknown)[:200]})
    query.service_codes = codes
    statuses = {s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open, closed or both separated by a comma."))
    query.statuses = statuses
    query.start, query.end = _date(params, "start_date"), _date(params, "end_date")
    query.updated_after, query.updated_before = _date(params, "updated_after"), _date(params, "updated_before")
    if query.start and query.end and query.start > query.end:
        raise Open311Error(400, _("start_date is after end_date."))
    if query.start and query.end and query.end - query.start > DEFAULT_WINDOW:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    if not any([query.start, query.end, query.updated_after, query.updated_before]):
        query.start, query.end = now - DEFAULT_WINDOW, None  # the most recent 90 days
    elif query.start and not query.end and query.start < now - DEFAULT_WINDOW:
        query.end = query.start + DEFAULT_WINDOW
    elif query.end and not query.start:
        query.start = query.end - DEFAULT_WINDOW
    query.page = _positive(params, "page", 1, 1_000_000)
    query.page_size = _positive(params, "page_size", MAX_RESULTS, MAX_RESULTS)
    if params.get("after"):
        query.after = _cursor(params["after"])
    query.extensions = (params.get("extensions") or "").strip().lower() in {"true", "1", "yes"}
    return query


def request_queryset(*, key: ApiKey | None) -> QuerySet:
    if key is None:
        return Case.objects.exclude(status__in=PUBLIC_HIDDEN)
    return case_queryset(user=key.user)


# Only what a request shows, read as plain rows: model instances (and a grid's polygon) would
# cost more than the query itself on a page of 1,000.
ROW_FIELDS = ["id", "status", "description", "channel", "tier", "created_at", "updated_at", "resolve_by", "lat", "lon",
              "rejection_reason", "redirect_to", "pause_reason", "duplicate_of_id", "category__code",
              "category__name", "category__name_en", "grid__name", "department__name"]
FULL_ROW_FIELDS = ["building__code", "building__name", "building__address", "open311__address_string",
                   "open311__media_url", "open311__attributes"]


@dataclass
class Page:
    rows: list[dict]
    more: bool
    media: dict[int, int] = field(default_factory=dict)  # case id → its first image attachment
    notes: dict[int, list[tuple]] = field(default_factory=dict)  # case id → its events


def _page(cases: QuerySet, *, key: ApiKey | None, extensions: bool, limit: int, offset: int = 0) -> Page:
    fields = ROW_FIELDS + (FULL_ROW_FIELDS if key is not None else [])
    rows = list(cases.values(*fields)[offset:offset + limit + 1])
    page = Page(rows[:limit], len(rows) > limit)
    ids = [row["id"] for row in page.rows]
    if key is not None and ids:
        images = (Attachment.objects.filter(case_id__in=ids, content_type__startswith="image/")
                  .order_by("-id").values_list("case_id", "id"))
        page.media = dict(images)  # the lowest id wins: the first image
    if extensions and ids:
        for case_id, *event in (CaseEvent.objects.filter(case_id__in=ids).order_by("at", "id")
                                .values_list("case_id", "at", "action", "to_status", "note")):
            page.notes.setdefault(case_id, []).append(tuple(event))
    return page


def requests_page(*, key: ApiKey | None, query: RequestQuery) -> Page:
    """One page of requests, newest first, and whether there is another after it.

    Ordered on (created_at, id) with an index on both (see the migration), so each page is an
    index range scan; ``after`` continues from a cursor without counting skipped rows.
    """
    cases = request_queryset(key=key)
    if query.ids is not None:
        cases = cases.filter(pk__in=query.ids)
    else:
        if query.service_codes:
            cases = cases.filter(category__code__in=query.service_codes)
        if query.start:
            cases = cases.filter(created_at__gte=query.start)
        if query.end:
            cases = cases.filter(created_at__lte=query.end)
        if query.updated_after:
            cases = cases.filter(updated_at__gte=query.updated_after)
        if query.updated_before:
            cases = cases.filter(updated_at__lte=query.updated_before)
        if query.statuses == {"open"}:
            cases = cases.filter(status__in=codes(OPEN311_OPEN))  # literals: the partial index (core.sql)
        elif query.statuses == {"closed"}:
            cases = cases.exclude(status__in=OPEN311_OPEN)
    if query.after:
        at, pk = query.after
        cases = cases.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    offset = 0 if query.after else (query.page - 1) * query.page_size
    return _page(cases.order_by("-created_at", "-id"), key=key, extensions=query.extensions,
                 limit=query.page_size, offset=offset)


def request_get(*, key: ApiKey | None, pk: str, extensions: bool = False) -> Page:
    page = None
    if pk.isdigit() and len(pk) < 19:
        page = _page(request_queryset(key=key).filter(pk=int(pk)), key=key, extensions=extensions, limit=1)
    if page is None or not page.rows:
        raise Open311Error(404, _("Service request %(id)s was not found.") % {"id": pk[:40]})
    return page


def token_get(*, key: ApiKey | None, token: str) -> Open311Request:
    found = Open311Request.objects.filter(token=token[:32], case__in=request_queryset(key=key)).first()
    if found is None:
        raise Open311Error(404, _("Token %(token)s was not found.") % {"token": token[:40]})
    return found


# ---------------------------------------------------------------- what a request looks like

def _status_label(status: str) -> str:
    # get_FOO_display() re-hashes the choices on every call: too slow for a page of 1,000.
    language = translation.get_language()
    labels = _STATUS_LABELS.get(language)
    if labels is None:
        labels = _STATUS_LABELS[language] = {value: str(label) for value, label in Status.choices}
    return labels.get(status, status)


_STATUS_LABELS: dict[str | None, dict[str, str]] = {}


def _status_notes(row: dict, *, full: bool) -> str:
    label = _status_label(row["status"])
    if not full:
        return label
    if row["status"] == Status.REJECTED and row["rejection_reason"]:
        text = "%s: %s" % (label, row["rejection_reason"])
        return "%s (%s)" % (text, row["redirect_to"]) if row["redirect_to"] else text
    if row["status"] == Status.MERGED and row["duplicate_of_id"]:
        return _("Merged as a duplicate of request %(id)s.") % {"id": row["duplicate_of_id"]}
    if row["status"] == Status.WAITING_RESIDENT and row["pause_reason"]:
        return "%s: %s" % (label, row["pause_reason"])
    return label


def request_rows(page: Page, *, full: bool, extensions: bool, build_uri) -> list[dict]:
    """The page's cases as the spec's service requests (its field names, in its order)."""
    english = (translation.get_language() or "").startswith("en")
    out = []
    for row in page.rows:
        if full:
            address = (row["open311__address_string"] or row["building__address"] or row["building__name"]
                       or row["grid__name"])
            address_id = row["building__code"]
            image = page.media.get(row["id"])
            media_url = row["open311__media_url"] or (
                build_uri(f"/api/v1/cases/{row['id']}/attachments/{image}") if image else None)
        else:
            address, address_id, media_url = row["grid__name"], None, None
        request = {
            "service_request_id": str(row["id"]),
            "status": open311_status(row["status"]),
            "status_notes": _status_notes(row, full=full),
            "service_name": row["category__name_en"] if english else row["category__name"],
            "service_code": row["category__code"],
            "description": row["description"] if full else None,
            "agency_responsible": row["department__name"] or row["grid__name"],
            "service_notice": None,
            "requested_datetime": w3c(row["created_at"]),
            "updated_datetime": w3c(row["updated_at"]),
            "expected_datetime": w3c(row["resolve_by"]),
            "address": address,
            "address_id": address_id,
            "zipcode": None,
            "lat": row["lat"] if full else None,
            "long": row["lon"] if full else None,
            "media_url": media_url,
        }
        if extensions:
            attributes = (row["open311__attributes"] or {}) if full else {}
            request["extended_attributes"] = {
                "channel": row["channel"], "tier": row["tier"],
                "attributes": [{"code": code, "value": value} for code, value in attributes.items()],
            } if full else {}
            request["notes"] = [
                {"datetime": w3c(at), "type": action, "summary": _status_label(to_status),
                 "description": note if full else None}
                for at, action, to_status, note in page.notes.get(row["id"], [])
            ]
        out.append(request)
    return out
