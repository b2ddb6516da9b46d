"""Import a legacy system's case history (a 12345 hotline's, a 311 system's) from CSV or XLSX.

The operator names the file's columns (``--columns created_at=受理时间,category=类别,…``).
Each row becomes a historical case: closed if the row says so (or has a closing time),
otherwise open. Open cases start their deadlines at import, when the platform becomes
responsible for them, and wait in the submitted state for the community to dispatch them.
Grids come from the coordinates; unknown categories and departments are created (marked as
imported, for an administrator to tidy up); a row already imported (same ``external_id``) is
skipped, so running the same file twice imports it once. Bad rows are reported with their
line numbers and the reason; the good rows go in.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitygrid.accounts.models import Department
from communitygrid.cases import tiers
from communitygrid.cases.models import Case, CaseEvent, Category, Channel, Status, Tier
from communitygrid.registry.tabular import Column, read_table

FIELDS = ("created_at", "closed_at", "category", "department", "status", "channel", "lat", "lon", "external_id",
          "description")
REQUIRED = ("created_at", "category", "lat", "lon", "external_id")
IMPORTED_GROUP = "imported"
CHUNK = 1000

DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
    "%Y%m%d%H%M%S", "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日",
    # US 311 exports: month first, 12-hour clock.
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
)
CLOSED_WORDS = {"closed", "resolved", "completed", "complete", "done", "finished", "已办结", "办结", "已解决", "已完成",
                "已关闭", "结案", "已结案", "完成", "关闭"}
CANCELLED_WORDS = {"cancelled", "canceled", "withdrawn", "duplicate", "已撤销", "撤销", "已取消", "取消", "重复"}
OPEN_WORDS = {"open", "new", "pending", "in progress", "assigned", "accepted", "submitted", "待处理", "处理中", "办理中",
              "已受理", "受理", "已派单", "新建"}
CHANNEL_WORDS = {
    Channel.WEB: {"web", "website", "网站", "网页"},
    Channel.APP: {"app", "mobile", "mobile app", "手机", "小程序", "app端"},
    Channel.HOTLINE: {"phone", "hotline", "call", "12345", "电话", "热线"},
    Channel.OPEN311: {"open311", "311"},
    Channel.IOT: {"iot", "sensor", "物联网", "设备"},
    Channel.DISCOVERY: {"patrol", "discovery", "巡查", "网格员上报"},
}


class BadValue(ValueError):
    pass


def parse_datetime(text: str) -> dt.datetime:
    """The usual date formats; a time without a zone is local time (``settings.TIME_ZONE``)."""
    text = re.sub(r"\s+", " ", (text or "").strip())
    if not text:
        raise BadValue(_("no date"))
    value = None
    if re.fullmatch(r"\d{9,10}(\.\d+)?", text):
        return dt.datetime.fromtimestamp(float(text), tz=dt.timezone.utc)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                value = dt.datetime.strptime(text.upper() if "%p" in fmt else text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise BadValue(_("“%(text)s” is not a date this import understands (e.g. 2024-03-05 14:30).")
                       % {"text": text})
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.astimezone(dt.timezone.utc)


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _code_for(prefix: str, text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:24]
    return f"{prefix}_{slug or 'x'}_{hashlib.sha1(text.encode()).hexdigest()[:6]}"


@dataclass
class CaseImportResult:
    created: int = 0
    closed: int = 0
    already_imported: int = 0
    categories_created: list[str] = field(default_factory=list)
    departments_created: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


class _Lookups:
    """Categories and departments by code or name, creating the unknown ones (once each)."""

    def __init__(self, result: CaseImportResult, *, dry_run: bool):
        self.result, self.dry_run = result, dry_run
        self.categories: dict[str, Category] = {}
        for category in Category.objects.filter(parent__isnull=False):
            for name in (category.code, category.name, category.name_en):
                self.categories.setdefault(_key(name), category)
        self.departments: dict[str, Department] = {}
        for department in Department.objects.all():
            for name in (department.code, department.name):
                self.departments.setdefault(_key(name), department)
        self._group: Category | None = None

    def category(self, text: str) -> Category:
        key = _key(text)
        if key not in self.categories:
            if self._group is None and not self.dry_run:
                self._group, _created = Category.objects.get_or_create(
                    code=IMPORTED_GROUP, defaults={"name": "导入的分类", "name_en": "Imported categories", "sort": 9000})
            category = Category(code=_code_for("imp", text), name=text.strip()[:100], name_en=text.strip()[:100],
                                parent=self._group, default_tier=Tier.GENERAL, guide="", sort=9100)
            if not self.dry_run:
                category.save()
            self.categories[key] = category
            self.result.categories_created.append(text.strip())
        return self.categories[key]

    def department(self, text: str) -> Department | None:
        key = _key(text)
        if not key:
            return None
        if key not in self.departments:
            department = Department(code=_code_for("imp", text), name=text.strip()[:200], kind=Department.Kind.OTHER)
            if not self.dry_run:
                department.save()
            self.departments[key] = department
            self.result.departments_created.append(text.strip())
        return self.departments[key]


def _status(text: str, closed_at: dt.datetime | None) -> str:
    key = _key(text)
    if not key:
        return Status.CLOSED if closed_at else Status.SUBMITTED
    if key in CLOSED_WORDS:
        return Status.CLOSED
    if key in CANCELLED_WORDS:
        return Status.CANCELLED
    if key in OPEN_WORDS:
        return Status.SUBMITTED
    raise BadValue(_("status “%(text)s” is none of closed, cancelled or open (e.g. closed, 已办结, 处理中).")
                   % {"text": text})


def _channel(text: str) -> str:
    key = _key(text)
    return next((channel for channel, words in CHANNEL_WORDS.items() if key in words), Channel.IMPORT)


def _coordinate(text: str, low: float, high: float, label: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadValue(_("%(label)s “%(text)s” is not a number.") % {"label": label, "text": text}) from None
    if not low <= value <= high:
        raise BadValue(_("%(label)s %(value)s is out of range.") % {"label": label, "value": text})
    return value


def import_cases(path: Path | str, *, columns: dict[str, str], dry_run: bool = False, source: str = "",
                 now: dt.datetime | None = None) -> CaseImportResult:
    """Import every good row of ``path``; ``columns`` maps our field names to the file's headers."""
    from communitygrid.geo.selectors import locate

    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise BadValue(_("Unknown field(s) in --columns: %(fields)s. Known: %(known)s.")
                       % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)})
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise BadValue(_("--columns must name a column for: %(fields)s.") % {"fields": ", ".join(missing)})
    table = read_table(path, [Column(key=key, en=header, zh=header, required=True) for key, header in columns.items()])
    now = now or timezone.now()
    result = CaseImportResult()
    lookups = _Lookups(result, dry_run=dry_run)
    source = source or Path(path).name
    seen: set[str] = set()
    planned: list[tuple[int, Case]] = []
    for line, cells in table.rows:
        texts = table.texts(cells)
        external_id = texts["external_id"].strip()
        try:
            if not external_id:
                raise BadValue(_("no external id"))
            if len(external_id) > 100:
                raise BadValue(_("the external id is longer than 100 characters"))
            created_at = parse_datetime(texts["created_at"])
            closed_text = texts.get("closed_at", "").strip()
            closed_at = parse_datetime(closed_text) if closed_text else None
            if closed_at and closed_at < created_at:
                raise BadValue(_("closed before it was created"))
            status = _status(texts.get("status", ""), closed_at)
            lat = _coordinate(texts["lat"], -90, 90, _("Latitude"))
            lon = _coordinate(texts["lon"], -180, 180, _("Longitude"))
            grid = locate(lon=lon, lat=lat)
            if grid is None:
                raise BadValue(_("the point %(lon)s, %(lat)s lies outside every grid") % {"lon": lon, "lat": lat})
            if not texts["category"].strip():
                raise BadValue(_("no category"))
        except BadValue as problem:
            result.rejected.append((line, str(problem)))
            continue
        if external_id in seen:
            result.already_imported += 1
            continue
        seen.add(external_id)
        category = lookups.category(texts["category"])
        description = texts.get("description", "").strip() or category.name
        case = Case(
            category=category, tier=category.default_tier, tier_reason=_("imported"), description=description[:5000],
            channel=_channel(texts.get("channel", "")), grid=grid, lon=lon, lat=lat, status=status,
            department=lookups.department(texts.get("department", "")), external_id=external_id,
            created_at=created_at, updated_at=now,
        )
        if status in (Status.CLOSED, Status.CANCELLED):
            case.closed_at = closed_at or created_at
            if status == Status.CLOSED:
                case.resolved_at = case.closed_at
        else:
            deadlines = tiers.deadlines_for(tier=case.tier, category=category, start=now)
            case.respond_by, case.resolve_by = deadlines.respond_by, deadlines.resolve_by
            case.warn_at, case.escalate_at = deadlines.warn_at, deadlines.respond_by
        case.next_check_at = case.next_check()
        planned.append((line, case))
    for start in range(0, len(planned), CHUNK):
        chunk = planned[start:start + CHUNK]
        existing = set(Case.objects.filter(external_id__in=[c.external_id for _l, c in chunk])
                       .values_list("external_id", flat=True))
        fresh = [(line, case) for line, case in chunk if case.external_id not in existing]
        result.already_imported += len(chunk) - len(fresh)
        result.created += len(fresh)
        result.closed += sum(1 for _l, case in fresh if case.status == Status.CLOSED)
        if dry_run or not fresh:
            continue
        with transaction.atomic():
            Case.objects.bulk_create([case for _l, case in fresh])
            CaseEvent.objects.bulk_create([
                CaseEvent(case=case, at=now, actor=None, actor_role="system", action="import", from_status="",
                          to_status=case.status, note=_("Imported from %(source)s, line %(line)d.")
                          % {"source": source, "line": line}, data={"source": source, "line": line})
                for line, case in fresh
            ])
    return result


def parse_columns(text: str) -> dict[str, str]:
    """``created_at=受理时间,category=类别`` → ``{"created_at": "受理时间", "category": "类别"}``."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, header = part.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise BadValue(_("“%(part)s” is not FIELD=COLUMN.") % {"part": part.strip()})
        mapping[name.strip()] = header.strip()
    return mapping
