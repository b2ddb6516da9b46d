"""Bulk import of buildings and households (one row per person) from CSV or XLSX.

Rules shared by both imports:

* The file as a whole must be readable (encoding, format, required headers), otherwise a
  :class:`~communitygrid.registry.tabular.TableFileError` is raised and nothing is written.
* Every row is validated on its own; a rejected row is reported with its line number and every
  reason, and the accepted rows are written together in one transaction.
* Re-importing updates instead of duplicating: persons are matched on the blind index of their
  ID number, households and buildings on their code. Only the columns present in the file are
  written, so a file with fewer columns never clears the others; a column that is present is
  authoritative, an empty cell clears that value.
* Cost grows linearly: rows are looked up and written in chunks (``CHUNK`` rows per query),
  never one query per row.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from communitygrid.geo.models import Level, Node, NodeStatus
from communitygrid.geo.index import NodeInfo
from communitygrid.geo.selectors import locate_paths_many
from communitygrid.privacy import crypto
from communitygrid.registry.bulk import insert_rows
from communitygrid.registry.models import Building, CareTag, Household, Person, PersonCareTag, Room, Unit
from communitygrid.registry.services import tag_level
from communitygrid.registry.tabular import Column, Table, cell_text, read_table
from communitygrid.registry.validators import (
    normalise_phone,
    parse_date,
    parse_id_number,
    reconcile_identity,
)

CHUNK = 1000

# --- Column layouts (documented in communitygrid/registry/README.md and the command help) ------

HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("household_code", "household code", "户编号", ("户号", "household", "household number", "户编码"), required=True),
    Column("building_code", "building code", "楼栋编号", ("楼栋编码", "楼栋代码", "building"), required=True),
    Column("unit", "unit", "单元", ("单元号",)),
    Column("room", "room", "房号", ("房间号", "室", "门牌号", "room number"), required=True),
    Column("address", "address", "详细地址", ("地址", "现住址", "居住地址")),
    Column("tenure", "tenure", "住房性质", ("房屋性质", "居住性质")),
    Column("name", "name", "姓名", ("名字",), required=True),
    Column("gender", "gender", "性别", ("sex",)),
    Column("birth_date", "birth date", "出生日期", ("生日", "date of birth")),
    Column("id_number", "ID number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "id", "id no"), required=True),
    Column("phone", "phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "mobile")),
    Column("household_role", "household role", "与户主关系", ("家庭关系", "relationship")),
    Column("residence", "residence status", "居住状态", ("人户状态", "residence")),
    Column("registered_address", "registered address", "户籍地址", ("户籍地", "户籍所在地", "hukou")),
    Column("employment", "employment", "就业状况", ("就业状态",)),
    Column("employer", "employer", "工作单位", ("工作单位或学校", "单位", "employer or school")),
    Column("care_tags", "care tags", "特殊人群", ("重点关爱人群", "特殊群体", "关爱对象", "care groups")),
    Column("emergency_contact_name", "emergency contact", "紧急联系人", ("emergency contact name",)),
    Column("emergency_contact_phone", "emergency contact phone", "紧急联系人电话", ("紧急联系电话",)),
    Column("health_notes", "health notes", "健康状况", ("健康备注", "health")),
)

BUILDING_COLUMNS: tuple[Column, ...] = (
    Column("code", "code", "楼栋编号", ("楼栋编码", "编号", "building code"), required=True),
    Column("name", "name", "楼栋名称", ("名称",), required=True),
    Column("address", "address", "地址", ("楼栋地址",)),
    Column("kind", "kind", "类型", ("建筑类型", "楼栋类型")),
    Column("lon", "lon", "经度", ("longitude", "lng"), required=True),
    Column("lat", "lat", "纬度", ("latitude",), required=True),
    Column("floors", "floors", "层数", ("楼层数", "总层数")),
    Column("units", "units", "单元", ("单元数",)),
    Column("rooms_per_floor", "rooms per floor", "每层户数", ("每层房间数",)),
    Column("grid_code", "grid code", "网格编码", ("网格", "所属网格", "grid")),
)

# Values people write for each choice, first the one an export writes. English labels and the
# stored codes are accepted too (see _choice_lookup).
CHOICE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "gender": {"M": ("男", "男性", "male", "m"), "F": ("女", "女性", "female", "f")},
    "household_role": {
        "head": ("户主", "本人"),
        "spouse": ("配偶", "妻", "夫", "妻子", "丈夫"),
        "child": ("子女", "子", "女", "儿子", "女儿"),
        "parent": ("父母", "父亲", "母亲", "父", "母"),
        "grandchild": ("孙子女", "孙子", "孙女", "外孙子", "外孙女"),
        "relative": ("其他亲属", "亲属", "兄弟姐妹"),
        "tenant": ("租户", "租客", "借住"),
        "other": ("其他",),
    },
    "residence": {
        "local": ("户在人在", "本地"),
        "away": ("户在人不在", "人户分离"),
        "migrant": ("人在户不在", "流动人口", "外来人口"),
    },
    "employment": {
        "employed": ("在职", "就业"),
        "self_employed": ("个体", "自由职业", "灵活就业"),
        "unemployed": ("失业", "无业"),
        "retired": ("退休", "离退休"),
        "student": ("学生", "在校学生"),
        "preschool": ("学龄前", "学龄前儿童"),
        "other": ("其他",),
    },
    "tenure": {
        "owner": ("自有住房", "自有", "自住"),
        "tenant": ("租住", "租赁", "出租"),
        "public": ("公房", "公租房", "廉租房"),
        "other": ("其他",),
    },
    "kind": {
        "residential": ("住宅", "居民楼"),
        "mixed": ("商住混合", "商住", "综合"),
        "bungalow": ("平房院落", "平房", "院落"),
        "public": ("公共设施", "公建"),
        "commercial": ("商业", "商铺"),
    },
}
CHOICE_CLASSES = {
    "gender": Person.Gender,
    "household_role": Person.HouseholdRole,
    "residence": Person.Residence,
    "employment": Person.Employment,
    "tenure": Household.Tenure,
    "kind": Building.Kind,
}
CHOICE_DEFAULTS = {"household_role": "other", "residence": "local", "employment": "", "tenure": "owner",
                   "kind": "residential"}

PERSON_PLAIN_FIELDS = ("name", "gender", "birth_date", "household_role", "residence", "employment", "employer",
                       "emergency_contact_name")
PERSON_SENSITIVE_FIELDS = ("phone", "registered_address", "health_notes", "emergency_contact_phone")
# bulk_update writes only the columns it is told: a new phone needs its blind index written too.
BLIND_INDEX_COMPANIONS = {
    f.name: (f.blind_index_field,) for f in Person._meta.concrete_fields if getattr(f, "blind_index_field", None)
}
MAX_LENGTHS = {"household_code": 64, "building_code": 64, "unit": 16, "room": 16, "name": 100, "employer": 200,
               "emergency_contact_name": 100, "code": 64}
TAG_SEPARATORS = re.compile(r"[;,；，、|\n]+")
TAG_LEVEL_SEPARATOR = re.compile(r"[:：]")


def export_label(field_name: str, code: str) -> str:
    """The text an export writes for a stored choice (Chinese; the import reads it back)."""
    aliases = CHOICE_ALIASES.get(field_name, {}).get(code)
    return aliases[0] if aliases else code


@lru_cache(maxsize=None)
def _choice_lookup(field_name: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    with translation.override("en"):
        for code, label in CHOICE_CLASSES[field_name].choices:
            lookup[code.lower()] = code
            lookup[str(label).lower()] = code
    for code, aliases in CHOICE_ALIASES[field_name].items():
        for alias in aliases:
            lookup[alias.lower()] = code
    return lookup


def parse_choice(field_name: str, text: str) -> str:
    if not text:
        return CHOICE_DEFAULTS.get(field_name, "")
    code = _choice_lookup(field_name).get(text.lower())
    if code is None:
        allowed = "、".join(aliases[0] for aliases in CHOICE_ALIASES[field_name].values())
        raise ValidationError(
            _("“%(value)s” is not a known value (use one of: %(allowed)s)."), params={"value": text, "allowed": allowed}
        )
    return code


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def join_problems(problems: list[str]) -> str:
    return _("; ").join(problems)


def _about(key: str, error: ValidationError) -> list[str]:
    """The error's messages, each prefixed by the column it is about."""
    return [_("%(column)s: %(problem)s") % {"column": _column_label(key), "problem": m} for m in _messages(error)]


# --- Results and reports -----------------------------------------------------------------------


@dataclass
class RejectedRow:
    line: int
    reference: str  # household or building code, to find the row by eye
    reasons: list[str]

    @property
    def reason(self) -> str:
        return join_problems(self.reasons)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    accepted: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    ignored_headers: list[str] = field(default_factory=list)
    dry_run: bool = False

    def reject(self, line: int, reference: str, reasons: list[str]) -> None:
        self.rejected.append(RejectedRow(line, reference, reasons))


def write_report(path: Path | str, result: ImportResult) -> None:
    """The rejected rows as CSV (UTF-8 with BOM for Excel): line, code, reason."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_("line"), _("code"), _("reason")])
        for row in result.rejected:
            writer.writerow([row.line, row.reference, row.reason])


def _progress(total: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit="rows", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1)


def _chunks(items: Sequence, size: int | None = None) -> Iterator[Sequence]:
    size = size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _fetch_in(queryset, field_name: str, keys: Iterable) -> list:
    """``queryset.filter(<field>__in=keys)`` in chunks (database parameter limits, linear cost)."""
    keys = list(dict.fromkeys(keys))
    found = []
    for chunk in _chunks(keys):
        found.extend(queryset.filter(**{f"{field_name}__in": chunk}))
    return found


def _too_long(values: dict[str, str]) -> list[str]:
    return [
        _("%(field)s is longer than %(max)d characters") % {"field": _column_label(name), "max": MAX_LENGTHS[name]}
        for name, value in values.items()
        if name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]
    ]


# --- Units and rooms (shared by both imports) ----------------------------------------------------


def _room_floor(number: str) -> int | None:
    # Chinese room numbers put the floor before a two-digit room: 301 → floor 3, 1502 → 15.
    return int(number[:-2]) if number.isdigit() and 3 <= len(number) <= 4 and number[:-2] != "0" else None


def ensure_rooms(wanted: set[tuple[int, str, str]]) -> tuple[dict[tuple[int, str, str], int], int]:
    """Room ids for (building id, unit number, room number), creating missing units and rooms in bulk.

    Returns the ids and how many rooms were created.
    """
    building_ids = {building_id for building_id, _unit, _room in wanted}
    units = {(u.building_id, u.number): u.pk for u in _fetch_in(Unit.objects.only("id", "building_id", "number"),
                                                                  "building_id", building_ids)}
    missing_units = sorted({(b, u) for b, u, _r in wanted} - set(units))
    for chunk in _chunks(missing_units):
        for unit in Unit.objects.bulk_create([Unit(building_id=b, number=u) for b, u in chunk]):
            units[(unit.building_id, unit.number)] = unit.pk
    unit_keys = {units[(b, u)]: (b, u) for b, u, _r in wanted}
    rooms: dict[tuple[int, str, str], int] = {}
    for room in _fetch_in(Room.objects.only("id", "unit_id", "number"), "unit_id", unit_keys):
        building_id, unit_number = unit_keys[room.unit_id]
        rooms[(building_id, unit_number, room.number)] = room.pk
    missing_rooms = sorted(wanted - set(rooms))
    for chunk in _chunks(missing_rooms):
        created = Room.objects.bulk_create(
            [Room(unit_id=units[(b, u)], number=r, floor=_room_floor(r)) for b, u, r in chunk]
        )
        for (b, u, r), room in zip(chunk, created):
            rooms[(b, u, r)] = room.pk
    return rooms, len(missing_rooms)


def _save_by_code(model, plans: Sequence, result: ImportResult, *, kind: str, new, apply, fields: list[str],
                  on_chunk=None) -> dict[str, int]:
    """Create or update ``model`` rows matched on ``code``, a chunk at a time; code → id of every row.

    ``new(plan)`` gives the values of a new row (for :func:`bulk.insert_rows`); ``apply(row, plan)``
    changes an existing one and says whether anything changed (unchanged rows are not written, so
    their ``updated_at`` stays).
    """
    ids: dict[str, int] = {}
    now = timezone.now()
    for chunk in _chunks(plans):
        existing = {obj.code: obj for obj in model.objects.filter(code__in=[plan.code for plan in chunk])}
        create, update = [], []
        for plan in chunk:
            obj = existing.get(plan.code)
            if obj is None:
                create.append(new(plan))
                continue
            ids[obj.code] = obj.pk
            if apply(obj, plan):
                obj.updated_at = now
                update.append(obj)
            else:
                result.unchanged[kind] += 1
        for values, pk in zip(create, insert_rows(model, create)):
            ids[values["code"]] = pk
        if update:
            model.objects.bulk_update(update, [*fields, "updated_at"])
        result.created[kind] += len(create)
        result.updated[kind] += len(update)
        if on_chunk:
            on_chunk(len(chunk))
    return ids


def _run(job) -> ImportResult:
    """Check every row, then write the accepted ones in one transaction (rolled back for a dry run)."""
    job.check_rows()
    result = job.result
    result.accepted = result.rows - len(result.rejected)
    with transaction.atomic():
        job.write()
        if result.dry_run:
            transaction.set_rollback(True)
    return result


def _members_follow(moved: dict[int, list[int]]) -> None:
    """Households (by id) that moved to another grid take their members with them, even those not in the file."""
    now = timezone.now()
    for grid_id, household_pks in moved.items():
        for chunk in _chunks(household_pks):
            Household.objects.filter(pk__in=chunk).exclude(grid_id=grid_id).update(grid_id=grid_id, updated_at=now)
            Person.objects.filter(household_id__in=chunk).update(grid_id=grid_id, updated_at=now)


# --- Households (one row per person) ----------------------------------------------------------


@dataclass
class _HouseholdPlan:
    code: str
    building_id: int
    grid_id: int
    unit: str
    room: str
    first_line: int
    address: str | None = None
    tenure: str | None = None


@dataclass
class _PersonRow:
    line: int
    household_code: str
    id_number: str
    bidx: str
    values: dict[str, object]
    tags: dict[int, str] | None
    person_id: int | None = None


class _TagLookup:
    def __init__(self) -> None:
        self.tags = list(CareTag.objects.all())
        self.by_name: dict[str, CareTag] = {}
        for tag in self.tags:
            short = re.sub(r"[（(].*?[)）]", "", tag.name).strip()
            for name in (tag.code, tag.name, short, tag.name_en):
                self.by_name[name.strip().lower()] = tag

    def parse(self, text: str) -> tuple[dict[int, str], list[str]]:
        """``"elderly_alone; disabled:二级"`` → {tag id: level}, problems."""
        result: dict[int, str] = {}
        problems: list[str] = []
        for item in TAG_SEPARATORS.split(text):
            item = item.strip()
            if not item:
                continue
            name, level = _split_tag(item)
            tag = self.by_name.get(name.lower())
            if tag is None:
                problems.append(_("unknown special-care group “%(name)s”") % {"name": name})
                continue
            canonical, problem = tag_level(tag, level)
            if problem:
                problems.append(problem)
            result[tag.pk] = canonical
        return result, problems


def _split_tag(item: str) -> tuple[str, str]:
    """``disabled:二级`` → (``disabled``, ``二级``); the level is optional."""
    parts = TAG_LEVEL_SEPARATOR.split(item, maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def _id_from_cell(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An 18-digit number does not fit a spreadsheet number exactly: its last digits are gone.
        raise ValidationError(
            _("ID number is stored as a number in the spreadsheet, which loses its last digits; "
              "format the column as text and enter the numbers again.")
        )
    return cell_text(value)


class _HouseholdImport:
    def __init__(self, table: Table, result: ImportResult, *, today: dt.date, progress: bool):
        self.table = table
        self.result = result
        self.today = today
        self.progress = progress
        self.present = set(table.columns)
        self.tags = _TagLookup() if "care_tags" in self.present else None
        self.plans: dict[str, _HouseholdPlan] = {}
        self.persons: list[_PersonRow] = []
        self.seen_ids: dict[str, int] = {}

    # validation ------------------------------------------------------------------------------

    def check_rows(self) -> None:
        codes = {cell_text(self.table.value(cells, "building_code")) for _line, cells in self.table.rows}
        self.buildings = {
            b.code: b for b in _fetch_in(Building.objects.only("id", "code", "grid_id"), "code", codes - {""})
        }
        with _progress(len(self.table.rows), _("Checking rows"), self.progress) as bar:
            for line, cells in self.table.rows:
                self.check_row(line, cells, self.table.texts(cells))
                bar.update(1)

    def check_row(self, line: int, cells: list, texts: dict[str, str]) -> None:
        reasons: list[str] = []
        household_code = texts.get("household_code", "")
        building_code = texts.get("building_code", "")
        unit = texts.get("unit", "") or "1"
        room = texts.get("room", "")
        name = texts.get("name", "")
        reasons += _too_long({"household_code": household_code, "building_code": building_code, "unit": unit,
                              "room": room, "name": name})
        if not household_code:
            reasons.append(_("household code is missing"))
        if not room:
            reasons.append(_("room is missing"))
        if not name:
            reasons.append(_("name is missing"))
        building = self.buildings.get(building_code)
        if not building_code:
            reasons.append(_("building code is missing"))
        elif building is None:
            reasons.append(_("unknown building code “%(code)s” (import the buildings first)") % {"code": building_code})

        values: dict[str, object] = {"name": name}
        parsed_id = None
        try:
            raw_id = _id_from_cell(self.table.value(cells, "id_number"))
            if not raw_id:
                raise ValidationError(_("ID number is missing"))
            parsed_id = parse_id_number(raw_id, today=self.today)
        except ValidationError as exc:
            reasons += _messages(exc)

        birth_date = gender = None
        if "birth_date" in self.present and texts.get("birth_date", ""):
            try:
                birth_date = parse_date(self.table.value(cells, "birth_date"), excel_epoch=self.table.excel_epoch)
            except ValidationError as exc:
                reasons += _about("birth_date", exc)
        for key in ("gender", "household_role", "residence", "employment"):
            if key in self.present:
                try:
                    values[key] = parse_choice(key, texts.get(key, ""))
                except ValidationError as exc:
                    reasons += _about(key, exc)
        gender = values.pop("gender", None) or None
        if parsed_id is not None:
            try:
                values["birth_date"], values["gender"] = reconcile_identity(parsed_id, birth_date=birth_date,
                                                                            gender=gender)
            except ValidationError as exc:
                reasons += _messages(exc)
        for key in ("employer", "emergency_contact_name"):
            if key in self.present:
                values[key] = texts.get(key, "")
        reasons += _too_long({k: v for k, v in values.items() if k in ("employer", "emergency_contact_name")})
        for key in ("phone", "emergency_contact_phone"):
            if key in self.present:
                raw = texts.get(key, "")
                try:
                    values[key] = normalise_phone(raw) if raw else None
                except ValidationError as exc:
                    reasons += _about(key, exc)
        for key in ("registered_address", "health_notes"):
            if key in self.present:
                values[key] = texts.get(key, "") or None
        tags = None
        if self.tags is not None:
            tags, problems = self.tags.parse(texts.get("care_tags", ""))
            reasons += problems

        if parsed_id is not None:
            first = self.seen_ids.get(parsed_id.number)
            if first is not None:
                reasons.append(_("duplicate ID number: the same number is on line %(line)d") % {"line": first})
        if not reasons and building is not None:
            reasons += self.plan_household(line, texts, household_code, building, unit, room)
        if reasons:
            self.result.reject(line, household_code, reasons)
            return
        self.seen_ids[parsed_id.number] = line
        self.persons.append(_PersonRow(line, household_code, parsed_id.number,
                                       crypto.blind_index("id_number", parsed_id.number), values, tags))

    def plan_household(self, line, texts, code, building, unit, room) -> list[str]:
        """The household this row belongs to; a row placing it elsewhere than its first row is rejected."""
        address = texts.get("address", "") if "address" in self.present else None
        tenure = None
        if "tenure" in self.present and texts.get("tenure", ""):
            try:
                tenure = parse_choice("tenure", texts.get("tenure", ""))
            except ValidationError as exc:
                return _about("tenure", exc)
        plan = self.plans.get(code)
        if plan is None:
            self.plans[code] = _HouseholdPlan(code, building.pk, building.grid_id, unit, room, line,
                                              address or None, tenure)
            return []
        problems = []
        if (plan.building_id, plan.unit, plan.room) != (building.pk, unit, room):
            problems.append(
                _("household %(code)s is at another building, unit or room on line %(line)d")
                % {"code": code, "line": plan.first_line}
            )
        if address and plan.address and address != plan.address:
            problems.append(_("household %(code)s has another address on line %(line)d")
                            % {"code": code, "line": plan.first_line})
        if tenure and plan.tenure and tenure != plan.tenure:
            problems.append(_("household %(code)s has another tenure on line %(line)d")
                            % {"code": code, "line": plan.first_line})
        if not problems:
            plan.address = plan.address or address or None
            plan.tenure = plan.tenure or tenure
        return problems

    # writing ---------------------------------------------------------------------------------

    def write(self) -> None:
        rooms, created = ensure_rooms({(p.building_id, p.unit, p.room) for p in self.plans.values()})
        self.result.created["rooms"] += created
        household_ids = self.write_households(rooms)
        with _progress(len(self.persons), _("Writing"), self.progress) as bar:
            for chunk in _chunks(self.persons):
                self.write_persons(chunk, household_ids)
                bar.update(len(chunk))

    def write_households(self, rooms) -> dict[str, int]:
        moved: dict[int, list[int]] = {}

        def new(plan: _HouseholdPlan) -> dict:
            return {"code": plan.code, "room_id": rooms[(plan.building_id, plan.unit, plan.room)],
                    "grid_id": plan.grid_id, "address": plan.address, "tenure": plan.tenure or "owner"}

        def apply(household: Household, plan: _HouseholdPlan) -> bool:
            room_id = rooms[(plan.building_id, plan.unit, plan.room)]
            changed = household.room_id != room_id
            if household.grid_id != plan.grid_id:
                moved.setdefault(plan.grid_id, []).append(household.pk)
                changed = True
            household.room_id, household.grid_id = room_id, plan.grid_id
            if "address" in self.present and _plain(household.address) != plan.address:
                household.address, changed = plan.address, True
            if "tenure" in self.present and household.tenure != (plan.tenure or "owner"):
                household.tenure, changed = plan.tenure or "owner", True
            if not household.is_active:
                household.is_active, changed = True, True
            return changed

        ids = _save_by_code(Household, list(self.plans.values()), self.result, kind="households", new=new,
                            apply=apply, fields=["room", "grid", "address", "tenure", "is_active"])
        _members_follow(moved)
        return ids

    def write_persons(self, chunk: Sequence[_PersonRow], household_ids: dict[str, int]) -> None:
        now = timezone.now()
        existing = {p.id_number_bidx: p for p in Person.objects.filter(id_number_bidx__in=[r.bidx for r in chunk])}
        create, update = [], []
        fields_written = {"household", "grid", "is_active", "updated_at"}
        for row in chunk:
            plan = self.plans[row.household_code]
            person = existing.get(row.bidx)
            if person is None:
                create.append(row)
                continue
            changed = person.household_id != household_ids[row.household_code] or person.grid_id != plan.grid_id
            person.household_id, person.grid_id = household_ids[row.household_code], plan.grid_id
            if not person.is_active:
                person.is_active, changed = True, True
            for key, value in row.values.items():
                current = getattr(person, key)
                if key in PERSON_SENSITIVE_FIELDS:
                    current = _plain(current)
                if current != value:
                    setattr(person, key, value)
                    fields_written.add(key)
                    fields_written.update(BLIND_INDEX_COMPANIONS.get(key, ()))
                    changed = True
            if changed:
                person.updated_at = now
                update.append(person)
            else:
                self.result.unchanged["persons"] += 1
            row.person_id = person.pk
        new_rows = [{"household_id": household_ids[row.household_code], "id_number": row.id_number,
                     "id_number_bidx": row.bidx, "grid_id": self.plans[row.household_code].grid_id, **row.values}
                    for row in create]
        for row, pk in zip(create, insert_rows(Person, new_rows)):
            row.person_id = pk
        if update:
            Person.objects.bulk_update(update, sorted(fields_written))
        self.result.created["persons"] += len(create)
        self.result.updated["persons"] += len(update)
        if self.tags is not None:
            self.write_tags(chunk, new_ids={row.person_id for row in create})

    def write_tags(self, chunk: Sequence[_PersonRow], *, new_ids: set[int]) -> None:
        old_ids = [row.person_id for row in chunk if row.person_id not in new_ids]
        existing: dict[tuple[int, int], PersonCareTag] = {
            (link.person_id, link.tag_id): link for link in PersonCareTag.objects.filter(person_id__in=old_ids)
        }
        wanted = {(row.person_id, tag_id): level for row in chunk for tag_id, level in row.tags.items()}
        stale = [link.pk for key, link in existing.items() if key not in wanted]
        create, update = [], []
        today = timezone.localdate()
        for (person_id, tag_id), level in wanted.items():
            link = existing.get((person_id, tag_id))
            if link is None:
                create.append({"person_id": person_id, "tag_id": tag_id, "level": level, "since": today})
            elif link.level != level:
                link.level = level
                update.append(link)
        if stale:
            PersonCareTag.objects.filter(pk__in=stale).delete()
        insert_rows(PersonCareTag, create)
        if update:
            PersonCareTag.objects.bulk_update(update, ["level"])
        self.result.created["care tags"] += len(create)
        self.result.updated["care tags"] += len(update) + len(stale)


def _plain(value) -> str | None:
    return (value.reveal() or None) if value is not None else None


def _column_label(key: str) -> str:
    """The header of a column in the language of the messages (reports name the column people see)."""
    for column in HOUSEHOLD_COLUMNS + BUILDING_COLUMNS:
        if column.key == key:
            return column.zh if (translation.get_language() or "").startswith("zh") else column.en
    return key


def import_households(path: Path | str, *, fmt: str | None = None, dry_run: bool = False,
                      progress: bool = False, today: dt.date | None = None) -> ImportResult:
    """Validate every row, then write the accepted ones in one transaction (rolled back if ``dry_run``)."""
    table = read_table(path, HOUSEHOLD_COLUMNS, fmt=fmt)
    result = ImportResult(kind="households", rows=len(table.rows), ignored_headers=table.ignored_headers,
                          dry_run=dry_run)
    return _run(_HouseholdImport(table, result, today=today or timezone.localdate(), progress=progress))


# --- Buildings ------------------------------------------------------------------------------------

GRID_LEVELS = {Level.GRID, Level.MICROGRID}
MAX_UNITS = 50
MAX_ROOMS_PER_FLOOR = 50
MAX_FLOORS = 200


@dataclass
class _BuildingRow:
    line: int
    code: str
    values: dict[str, object]
    grid_id: int
    units: list[str]
    rooms_per_floor: int | None


def parse_units(text: str) -> list[str]:
    """``3`` → 1,2,3; ``1-3``; ``1,2,5``; ``A、B``. Raises naming the problem."""
    text = text.strip()
    if not text:
        return []
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_UNITS:
            raise ValidationError(_("number of units must be between 1 and %(max)d") % {"max": MAX_UNITS})
        return [str(n) for n in range(1, count + 1)]
    match = re.fullmatch(r"(\d+)\s*[-~～至]\s*(\d+)", text)
    if match:
        first, last = int(match[1]), int(match[2])
        if not 1 <= first <= last or last - first >= MAX_UNITS:
            raise ValidationError(_("unit range “%(text)s” is not valid") % {"text": text})
        return [str(n) for n in range(first, last + 1)]
    units = [part.strip() for part in TAG_SEPARATORS.split(text) if part.strip()]
    if len(units) > MAX_UNITS or any(len(unit) > MAX_LENGTHS["unit"] for unit in units):
        raise ValidationError(_("unit list “%(text)s” is not valid") % {"text": text})
    return list(dict.fromkeys(units))


def _int_in(text: str, low: int, high: int, label: str) -> int | None:
    if not text:
        return None
    try:
        number = int(float(text))
    except ValueError:
        raise ValidationError(_("%(field)s “%(value)s” is not a whole number") % {"field": label, "value": text}) \
            from None
    if not low <= number <= high or number != float(text):
        raise ValidationError(_("%(field)s must be a whole number from %(low)d to %(high)d")
                              % {"field": label, "low": low, "high": high})
    return number


def _coordinate(text: str, low: float, high: float, label: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(_("%(field)s “%(value)s” is not a number") % {"field": label, "value": text}) from None
    if not low <= number <= high:
        raise ValidationError(_("%(field)s %(value)s is outside %(low)s…%(high)s")
                              % {"field": label, "value": text, "low": low, "high": high})
    return number


class _BuildingImport:
    def __init__(self, table: Table, result: ImportResult, *, progress: bool):
        self.table, self.result, self.progress = table, result, progress
        self.present = set(table.columns)
        self.rows: list[_BuildingRow] = []
        self.seen: dict[str, int] = {}
        self.located: dict[tuple[float, float], NodeInfo | None] = {}

    def text(self, cells, key: str) -> str:
        return cell_text(self.table.value(cells, key))

    def check_rows(self) -> None:
        grid_codes = {self.text(cells, "grid_code") for _line, cells in self.table.rows} - {""}
        self.grids = {n.code: n for n in _fetch_in(Node.objects.all(), "code", grid_codes)}
        self.locate_all()
        with _progress(len(self.table.rows), _("Checking rows"), self.progress) as bar:
            for line, cells in self.table.rows:
                self.check_row(line, cells)
                bar.update(1)

    def check_row(self, line: int, cells: list) -> None:
        reasons: list[str] = []
        code, name = self.text(cells, "code"), self.text(cells, "name")
        reasons += _too_long({"code": code})
        if not code:
            reasons.append(_("building code is missing"))
        if not name:
            reasons.append(_("name is missing"))
        if len(name) > 200:
            reasons.append(_("%(field)s is longer than %(max)d characters") % {"field": _column_label("name"),
                                                                               "max": 200})
        values: dict[str, object] = {"name": name}
        if "address" in self.present:
            values["address"] = self.text(cells, "address")
            if len(values["address"]) > 300:
                reasons.append(_("%(field)s is longer than %(max)d characters") % {"field": _column_label("address"),
                                                                                   "max": 300})
        if "kind" in self.present:
            try:
                values["kind"] = parse_choice("kind", self.text(cells, "kind"))
            except ValidationError as exc:
                reasons += _about("kind", exc)
        lon = lat = None
        for key, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
            raw = self.text(cells, key)
            try:
                if not raw:
                    raise ValidationError(_("%(field)s is missing") % {"field": _column_label(key)})
                number = _coordinate(raw, low, high, _column_label(key))
            except ValidationError as exc:
                reasons += _messages(exc)
                continue
            values[key] = number
            lon, lat = (number, lat) if key == "lon" else (lon, number)
        floors = rooms_per_floor = None
        units: list[str] = []
        try:
            floors = _int_in(self.text(cells, "floors"), 1, MAX_FLOORS, _column_label("floors"))
            rooms_per_floor = _int_in(self.text(cells, "rooms_per_floor"), 1, MAX_ROOMS_PER_FLOOR,
                                      _column_label("rooms_per_floor"))
            units = parse_units(self.text(cells, "units"))
        except ValidationError as exc:
            reasons += _messages(exc)
        if "floors" in self.present:
            values["floors"] = floors
        if rooms_per_floor and not floors:
            reasons.append(_("rooms per floor needs the number of floors"))
        grid = None
        grid_code = self.text(cells, "grid_code")
        if grid_code:
            grid = self.grids.get(grid_code)
            if grid is None or grid.status != NodeStatus.ACTIVE:
                reasons.append(_("unknown or retired grid code “%(code)s”") % {"code": grid_code})
                grid = None
            elif grid.level not in GRID_LEVELS:
                reasons.append(_("“%(code)s” is a %(level)s, not a grid") % {"code": grid_code,
                                                                           "level": grid.get_level_display()})
                grid = None
        elif lon is not None and lat is not None:
            grid = self.located.get((lon, lat))
            if grid is None:
                reasons.append(_("the point %(lon)s, %(lat)s lies outside every grid") % {"lon": lon, "lat": lat})
            elif grid.level not in GRID_LEVELS:
                reasons.append(_("the point %(lon)s, %(lat)s lies in %(node)s but in none of its grids")
                               % {"lon": lon, "lat": lat, "node": grid.name})
                grid = None
        first = self.seen.get(code)
        if code and first is not None:
            reasons.append(_("duplicate building code: the same code is on line %(line)d") % {"line": first})
        if reasons:
            self.result.reject(line, code, reasons)
            return
        self.seen[code] = line
        self.rows.append(_BuildingRow(line, code, values, grid.id, units, rooms_per_floor))

    def locate_all(self) -> None:
        """Every point of a row without a grid code, located in one batch through the geo index."""
        points = set()
        for _line, cells in self.table.rows:
            if not self.text(cells, "grid_code"):
                try:
                    points.add((float(self.text(cells, "lon")), float(self.text(cells, "lat"))))
                except ValueError:
                    continue  # reported by check_row
        points = sorted(points)
        paths = locate_paths_many(lons=[p[0] for p in points], lats=[p[1] for p in points]) if points else []
        self.located = {point: (path[-1] if path else None) for point, path in zip(points, paths)}

    def write(self) -> None:
        moved: dict[int, list[int]] = {}

        def new(row: _BuildingRow) -> dict:
            return {"code": row.code, "grid_id": row.grid_id, **row.values}

        def apply(building: Building, row: _BuildingRow) -> bool:
            changed = building.grid_id != row.grid_id
            if changed:
                moved.setdefault(row.grid_id, []).append(building.pk)
            building.grid_id = row.grid_id
            for key, value in row.values.items():
                if getattr(building, key) != value:
                    setattr(building, key, value)
                    changed = True
            return changed

        with _progress(len(self.rows), _("Writing"), self.progress) as bar:
            ids = _save_by_code(Building, self.rows, self.result, kind="buildings", new=new, apply=apply,
                                fields=["grid", *sorted(self.value_fields())], on_chunk=bar.update)
        wanted = set()
        for row in self.rows:
            for unit in row.units:
                if row.rooms_per_floor:
                    floors = row.values.get("floors") or 0
                    wanted |= {(ids[row.code], unit, f"{floor}{number:02d}")
                               for floor in range(1, floors + 1) for number in range(1, row.rooms_per_floor + 1)}
        unit_only = {(ids[row.code], unit) for row in self.rows for unit in row.units if not row.rooms_per_floor}
        self.result.created["rooms"] += ensure_rooms(wanted)[1]
        self._ensure_units(unit_only)
        _members_follow({
            grid_id: list(Household.objects.filter(room__unit__building_id__in=building_pks)
                          .values_list("pk", flat=True))
            for grid_id, building_pks in moved.items()
        })

    def value_fields(self) -> set[str]:
        return {key for row in self.rows for key in row.values}

    @staticmethod
    def _ensure_units(wanted: set[tuple[int, str]]) -> None:
        existing = {(u.building_id, u.number) for u in _fetch_in(Unit.objects.only("building_id", "number"),
                                                                  "building_id", {b for b, _u in wanted})}
        for chunk in _chunks(sorted(wanted - existing)):
            Unit.objects.bulk_create([Unit(building_id=b, number=u) for b, u in chunk])


def import_buildings(path: Path | str, *, fmt: str | None = None, dry_run: bool = False,
                     progress: bool = False) -> ImportResult:
    """Buildings with their grid (explicit grid code, else located from lon/lat) and units/rooms."""
    table = read_table(path, BUILDING_COLUMNS, fmt=fmt)
    result = ImportResult(kind="buildings", rows=len(table.rows), ignored_headers=table.ignored_headers,
                          dry_run=dry_run)
    return _run(_BuildingImport(table, result, progress=progress))
