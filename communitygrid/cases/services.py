"""Every write to cases. A case's status changes here and nowhere else.

Each transition function checks who may act, asks the state machine (``states.target``)
where the action leads, changes the row with a conditional UPDATE on the old status (so two
people or two sweeps acting at once cannot both win) and writes exactly one ``CaseEvent``,
all in one transaction. Notifications are queued in the same transaction (outbox).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import functools
import math
import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Iterable

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.accounts.models import Department, Role, User
from communitygrid.accounts.scopes import covers
from communitygrid.cases import dispatch, lookups, states, tiers, wording
from communitygrid.cases.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from communitygrid.cases.models import (
    AWAITING_RESPONSE,
    FOLLOW_UP_AFTER,
    VERDICT_WINDOW,
    Attachment,
    Case,
    CaseEvent,
    CaseNotice,
    CaseTask,
    Category,
    Channel,
    EscalationLevel,
    Status,
    Tier,
    Verdict,
)
from communitygrid.cases.wording import Note
from communitygrid.core.sql import keyed

SUPERVISOR_ROLES = {Role.GRID_LEADER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF}
RESIDENT_CHANNELS = {Channel.WEB, Channel.APP, Channel.ONE_TAP}
DESCRIPTION_MAX = 5000
MAX_ATTACHMENTS = 9
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
DUPLICATE_RADIUS_M = 200
DUPLICATE_WINDOW = dt.timedelta(hours=72)
# Content is sniffed from the first bytes: a file's name and declared type are the sender's word.
SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
]


def attachment_max_bytes() -> int:
    return int(getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


# ---------------------------------------------------------------- notifications

NOTICES = {
    "case_assigned": (gettext_lazy("New case #%(id)s: %(category)s"),
                      gettext_lazy("Case #%(id)s (%(category)s, %(tier)s) is yours. Respond by %(respond_by)s.")),
    "case_warning": (gettext_lazy("Case #%(id)s is close to its deadline"),
                     gettext_lazy("Case #%(id)s (%(category)s) is due by %(due)s.")),
    "case_escalated": (gettext_lazy("Case #%(id)s escalated to you"),
                       gettext_lazy("Case #%(id)s (%(category)s, grid %(grid)s) is escalated to the %(level)s level: "
                                    "%(reason)s. Supervise, re-dispatch or take it over.")),
    "case_supervised": (gettext_lazy("Case #%(id)s is under supervision"),
                        gettext_lazy("Case #%(id)s (%(category)s) is under supervision: %(note)s")),
    "case_help": (gettext_lazy("Help asked on case #%(id)s"),
                  gettext_lazy("The handler of case #%(id)s (%(category)s) asks for help: %(note)s")),
    "case_handed_back": (gettext_lazy("Case #%(id)s needs a handler"),
                         gettext_lazy("Case #%(id)s (%(category)s, grid %(grid)s) has no handler: %(note)s")),
    "case_resolved": (gettext_lazy("Your case #%(id)s is resolved"),
                      gettext_lazy("Case #%(id)s (%(category)s) is resolved: %(note)s. Please confirm and rate it "
                                   "within 7 days.")),
    "case_reopened": (gettext_lazy("Case #%(id)s is reopened"),
                      gettext_lazy("Case #%(id)s (%(category)s) is reopened with priority %(priority)s: %(note)s")),
    "case_rejected": (gettext_lazy("Your case #%(id)s cannot be handled here"),
                      gettext_lazy("Case #%(id)s (%(category)s): %(note)s. Please turn to: %(redirect)s")),
    "case_task": (gettext_lazy("Joint-handling task on case #%(id)s"),
                  gettext_lazy("Case #%(id)s (%(category)s) needs your part by %(due)s: %(note)s")),
    "case_task_done": (gettext_lazy("A co-handler finished on case #%(id)s"),
                       gettext_lazy("A joint-handling task of case #%(id)s is done: %(note)s")),
    "case_task_overdue": (gettext_lazy("A joint-handling task of case #%(id)s is overdue"),
                          gettext_lazy("The task “%(note)s” of case #%(id)s (%(category)s) was due by %(due)s.")),
    "case_follow_up": (gettext_lazy("Follow-up check on case #%(id)s"),
                       gettext_lazy("Urgent case #%(id)s (%(category)s) was resolved a day ago: check on the resident.")),
}


# What each kind is called where people choose kinds (a webhook endpoint's, in the back-office).
NOTICE_LABELS = {
    "case_assigned": gettext_lazy("Case assigned to you"),
    "case_warning": gettext_lazy("Case close to its deadline"),
    "case_escalated": gettext_lazy("Case escalated to your level"),
    "case_supervised": gettext_lazy("Case under supervision"),
    "case_help": gettext_lazy("Help asked on a case"),
    "case_handed_back": gettext_lazy("Case without a handler"),
    "case_resolved": gettext_lazy("Your case resolved"),
    "case_reopened": gettext_lazy("Case reopened"),
    "case_rejected": gettext_lazy("Your case cannot be handled here"),
    "case_task": gettext_lazy("Joint-handling task for you"),
    "case_task_done": gettext_lazy("Joint-handling task done"),
    "case_task_overdue": gettext_lazy("Joint-handling task overdue"),
    "case_follow_up": gettext_lazy("Follow-up check on an urgent case"),
}


def _moment(moment: dt.datetime | None) -> str | None:
    """A moment as a notice stores it (ISO), worded in the reader's time zone and language."""
    return moment.isoformat() if moment else None


def notice_prefetch(params_list: list[dict], cache: dict) -> None:
    """The categories of many stored notices in one query, into the cache notice_values reads."""
    ids = {params.get("category") for params in params_list}
    ids = {pk for pk in ids if type(pk) is int and ("category", pk) not in cache}
    if ids:
        for category in Category.objects.filter(pk__in=ids):
            cache[("category", category.pk)] = category


def notice_values(params: dict, cache: dict) -> dict:
    """The words a case notice fills in, in the active language, from its stored parameters:
    ``category`` is a category's id (its name in the reader's language), ``tier`` a tier code,
    ``level`` an escalation level, ``respond_by``/``due`` ISO moments, ``why`` and ``note_why`` the
    parts of a system note (cases.wording); the rest (notes people typed, names) is shown as stored."""
    from communitygrid.notifications.kinds import moment

    values = dict(params)
    if "category" in values:
        key = ("category", values["category"])
        if key not in cache:
            cache[key] = Category.objects.get(pk=values["category"])
        values["category"] = cache[key].label
    if "tier" in values:
        values["tier"] = Tier(values["tier"]).label
    if "level" in values:
        values["level"] = EscalationLevel(values["level"]).label
    for name in ("respond_by", "due"):
        if name in values:
            values[name] = moment(values[name])
    # A system note kept as parts (cases.wording): "why" words the escalation's ``reason``,
    # "note_why" the ``note`` of a case nobody could be found for; the stored text stays if not.
    for parts, target in (("why", "reason"), ("note_why", "note")):
        if parts in values:
            worded = wording.render({"why": values.pop(parts)})
            if worded is not None:
                values[target] = worded
    return values


def _notify(recipients: Iterable[User], *, kind: str, case: Case, event: CaseEvent, **params) -> None:
    """Queue one notification per recipient in the transaction that writes ``event``.

    No dedupe key: the event is written once, in this very transaction, so its notifications
    cannot be queued twice (a key would cost three more statements per message).
    """
    from communitygrid.notifications import kinds
    from communitygrid.notifications.services import notification_enqueue

    seen: set[int] = set()
    params = {"id": case.pk, "category": case.category_id, "tier": case.tier, **params}
    # Worded in the site's language for the channels; the inbox words params in its reader's.
    subject, body = kinds.render(kind, params, cache={("category", case.category_id): case.category})
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        notification_enqueue(
            recipient=user, kind=kind, subject=subject, body=body, case=case,
            payload={"case": case.pk, "event": event.pk, "action": event.action}, params=params,
        )


def _handlers(case: Case) -> list[User]:
    """Whoever must act on the case now: its assignee, or its department's staff."""
    if case.assignee_id:
        return [case.assignee]
    if case.department_id:
        return list(User.objects.filter(role=Role.DEPARTMENT_STAFF, department_id=case.department_id, is_active=True))
    return []


# ---------------------------------------------------------------- who may act

def _is_supervisor(actor: User, case: Case) -> bool:
    if actor.is_system_admin:
        return True
    if actor.role not in SUPERVISOR_ROLES:
        return False
    return covers(actor, case.grid)


def _is_handler(actor: User, case: Case) -> bool:
    if actor.is_system_admin or case.assignee_id == actor.pk:
        return True
    return bool(case.department_id and actor.role == Role.DEPARTMENT_STAFF and actor.department_id == case.department_id)


def _require(actor: User | None, case: Case, *roles: str) -> None:
    """``roles`` among "handler", "supervisor", "reporter"; ``None`` as actor means the system."""
    if actor is None:
        raise NotAllowed(_("This action needs a signed-in user."))
    checks = {
        "handler": lambda: _is_handler(actor, case),
        "supervisor": lambda: _is_supervisor(actor, case),
        "reporter": lambda: case.reporter_id is not None and case.reporter_id == actor.pk,
    }
    if not any(checks[role]() for role in roles):
        raise NotAllowed(_("You may not do this on case #%(id)s.") % {"id": case.pk})


def _required_text(value: str, field_name: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("%(field)s is required.") % {"field": label}, field=field_name)
    return value


# ---------------------------------------------------------------- the one place status changes

def _transition(case: Case, *, action: str, actor: User | None, note: str = "", changes: dict | None = None,
                guard: dict | None = None, data: dict | None = None, attachments: list | None = None,
                now: dt.datetime | None = None) -> CaseEvent:
    now = now or timezone.now()
    from_status = case.status
    to_status = states.target(action, from_status)
    changes = {**(changes or {}), "status": to_status, "updated_at": now}
    for name, value in changes.items():
        setattr(case, name, value)
    case.next_check_at = changes["next_check_at"] = case.next_check()
    # No savepoint of its own: every caller runs inside a service's transaction, which a
    # failure here rolls back whole.
    with transaction.atomic(savepoint=False):
        updated = Case.objects.filter(pk=case.pk, status=from_status, **(guard or {})).update(**changes)
        if updated != 1:
            case.refresh_from_db()
            raise TransitionNotAllowed(
                _("Case #%(id)s changed meanwhile (it is now “%(status)s”); reload it and try again.")
                % {"id": case.pk, "status": case.get_status_display()}
            )
        event = CaseEvent.objects.create(
            case=case, at=now, actor=actor, actor_role=actor.role if actor else "system", action=action,
            from_status=from_status, to_status=to_status, note=note, data=data or {},
        )
        _save_attachments(case, event, attachments or [], actor)
    return event


# The files written by the service running now, so that a rollback can take them away again.
_written_files: contextvars.ContextVar[list | None] = contextvars.ContextVar("cases_written_files", default=None)


@contextmanager
def _files_removed_on_failure():
    """Around a service's transaction: if it fails, the attachment files it wrote are deleted.

    A file is written before the commit, so a committed attachment always has its file; if the
    transaction rolls back, the row is gone and so must the file be. (Should a caller's outer
    transaction roll back later, ``cleanup-orphan-files`` finds what is left.)
    """
    written: list = []
    token = _written_files.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)  # no error if it was never written
        raise
    finally:
        _written_files.reset(token)


def _with_files_removed_on_failure(service):
    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with _files_removed_on_failure():
            return service(*args, **kwargs)

    return wrapper


def _save_attachments(case: Case, event: CaseEvent, files: list[tuple], actor: User | None) -> None:
    written = _written_files.get()
    field = Attachment._meta.get_field("file")
    for upload, content_type in files:
        upload.seek(0)
        attachment = Attachment(case=case, event=event, name=upload.name[:200], content_type=content_type,
                                size=upload.size, uploaded_by=actor)
        # The name is claimed before writing: a write that breaks half-way leaves a file too.
        name = field.storage.get_available_name(field.generate_filename(attachment, upload.name))
        if written is not None:
            written.append((field.storage, name))
        attachment.file = field.storage.save(name, upload)
        if written is not None and attachment.file.name != name:
            written.append((field.storage, attachment.file.name))
        attachment.save(force_insert=True)


def attachment_files_orphaned(*, older_than: float) -> tuple[object, list[str]]:
    """The storage and the names of stored attachment files (under ``cases/``) that no attachment
    row names, last modified before ``older_than`` (a POSIX time)."""
    field = Attachment._meta.get_field("file")
    storage = field.storage
    stored, folders = [], ["cases"]
    while folders:
        folder = folders.pop()
        if not storage.exists(folder):
            continue
        subfolders, names = storage.listdir(folder)
        folders += [f"{folder}/{sub}" for sub in subfolders]
        stored += [f"{folder}/{name}" for name in names]
    known: set[str] = set()
    for start in range(0, len(stored), 500):
        known.update(Attachment.objects.filter(file__in=stored[start:start + 500]).values_list("file", flat=True))
    return storage, sorted(name for name in stored
                           if name not in known and storage.get_modified_time(name).timestamp() < older_than)


def check_attachments(files) -> list[tuple]:
    """Validate uploads (count, size, sniffed type: images or PDF); returns (file, type) pairs."""
    files = list(files or [])
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(_("At most %(n)d attachments are allowed.") % {"n": MAX_ATTACHMENTS}, field="attachments")
    limit = attachment_max_bytes()
    checked = []
    for upload in files:
        name = getattr(upload, "name", "") or "?"
        if upload.size > limit:
            raise InvalidInput(
                _("Attachment %(name)s is %(size)s MB; the limit is %(limit)s MB.")
                % {"name": name, "size": f"{upload.size / 1048576:.1f}", "limit": f"{limit / 1048576:.1f}"},
                field="attachments",
            )
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        content_type = next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)
        if content_type is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            content_type = "image/webp"
        if content_type is None:
            raise InvalidInput(
                _("Attachment %(name)s is not a JPEG, PNG or WebP image or a PDF.") % {"name": name},
                field="attachments",
            )
        checked.append((upload, content_type))
    return checked


# ---------------------------------------------------------------- intake

@dataclass
class SubmitResult:
    case: Case
    created: bool
    duplicates: list[Case] = field(default_factory=list)
    route_reason: str = ""


@dataclass(frozen=True)
class _Place:
    grid: object
    lon: float | None
    lat: float | None
    building: object = None
    room: object = None
    # The map version the grid was found on (a map point only): the INSERT confirms it.
    map_token: str | None = None


class _MapChanged(Exception):
    """The map changed between locating the point and writing the case: locate again."""


# A map point is located on the process's index trusted for this long without asking the
# database; the INSERT then confirms the map version, so a change is never missed.
MAP_TRUST_SECONDS = 2.0


def _grid_at(lon: float, lat: float, *, fresh: bool = False):
    """(grid, map token): the grid containing the point, from the in-process index, without a
    query while the index was confirmed within ``MAP_TRUST_SECONDS`` (``fresh``: confirm now).

    The node is rebuilt from the index's copy of its row; its path is the chain of ids up to
    the root. Should the index not reach the root (an ancestor retired), the row is read.
    """
    from communitygrid.geo.index import OUTSIDE, current_index
    from communitygrid.geo.models import Node

    index = current_index(max_age=0.0 if fresh else MAP_TRUST_SECONDS)
    node_id = index.locate_id(lon, lat)
    if node_id == OUTSIDE:
        if not fresh:  # the point may lie in a grid drawn since the index was confirmed
            return _grid_at(lon, lat, fresh=True)
        return None, index.token
    chain = index.path_ids(node_id)
    if index.nodes[chain[0]].parent_id is not None:
        return Node.objects.select_related("parent").get(pk=node_id), index.token
    info = index.nodes[node_id]
    return Node(id=info.id, code=info.code, name=info.name, level=info.level, kind=info.kind,
                parent_id=info.parent_id, path="/" + "".join(f"{i}/" for i in chain)), index.token


def _locate(*, lon, lat, building_id, room_id, at_home: bool, reporter: User | None, fresh: bool = False) -> _Place:
    from communitygrid.registry.models import Building, Room

    given = [lon is not None or lat is not None, building_id is not None or room_id is not None, at_home]
    if sum(given) != 1:
        raise InvalidInput(_("Give exactly one location: a map point, a building or room, or “at home”."),
                           field="location")
    if given[0]:
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            raise InvalidInput(_("A map point needs both longitude and latitude as numbers."), field="location")
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(_("Longitude or latitude is out of range."), field="location")
        grid, token = _grid_at(lon, lat, fresh=fresh)
        if grid is None:
            raise InvalidInput(_("The point %(lon).5f, %(lat).5f lies outside every grid.") % {"lon": lon, "lat": lat},
                               field="location")
        return _Place(grid, lon, lat, map_token=token)
    if given[1]:
        room = None
        if room_id is not None:
            room = Room.objects.select_related("unit__building__grid").filter(pk=room_id).first()
            if room is None:
                raise InvalidInput(_("Room %(id)s does not exist.") % {"id": room_id}, field="room")
            building = room.unit.building
        else:
            building = Building.objects.select_related("grid").filter(pk=building_id).first()
            if building is None:
                raise InvalidInput(_("Building %(id)s does not exist.") % {"id": building_id}, field="building")
        return _Place(building.grid, building.lon, building.lat, building, room)
    household = getattr(getattr(reporter, "person", None), "household", None) if reporter else None
    if household is None:
        raise InvalidInput(_("“At home” needs a reporter with a registered household."), field="location")
    room = household.room
    building = room.unit.building if room else None
    return _Place(household.grid, building.lon if building else None, building.lat if building else None, building, room)


def _care_groups(reporter: User | None) -> list:
    """The reporter's special-care groups (``CareTag`` rows): the tier note stores their codes and
    names them in each reader's language."""
    if reporter is None or reporter.person_id is None:
        return []
    from communitygrid.registry.models import PersonCareTag

    return [link.tag for link in PersonCareTag.objects.filter(person_id=reporter.person_id).select_related("tag")]


def likely_duplicates(case: Case, *, limit: int = 5) -> list[Case]:
    """Open or recent cases of the same category within ~200 m in the last 72 hours, latest first.

    The returned cases are loaded with ``id``, ``category``, ``status`` and ``created_at``
    (other fields load on access, as with ``only()``). One SQL statement: the
    bounding box uses the index, the circle is tested in the database on the local flat-earth
    projection (exact to centimetres at 200 m), so a hot spot with hundreds of reports sends
    back only the few rows shown.
    """
    if case.lon is None or case.lat is None:
        return []
    connection = connections[Case.objects.db]
    dlat = DUPLICATE_RADIUS_M / 111_320
    scale = max(math.cos(math.radians(case.lat)), 0.01)
    dlon = dlat / scale
    ended = (Status.CANCELLED, Status.MERGED, Status.REJECTED)
    params = [case.category_id, connection.ops.adapt_datetimefield_value(case.created_at - DUPLICATE_WINDOW),
              connection.ops.adapt_datetimefield_value(case.created_at), case.lon - dlon, case.lon + dlon,
              case.lat - dlat, case.lat + dlat, *ended, case.lon, scale, case.lon, scale, case.lat, case.lat, dlat * dlat]
    sql = (f"SELECT id, status, created_at FROM {connection.ops.quote_name(Case._meta.db_table)} "
           "WHERE category_id = %s AND created_at >= %s AND created_at <= %s AND lon BETWEEN %s AND %s "
           "AND lat BETWEEN %s AND %s AND status NOT IN (%s, %s, %s) "
           "AND ((lon - %s) * %s) * ((lon - %s) * %s) + (lat - %s) * (lat - %s) <= %s")
    if case.pk is not None:
        sql += " AND id <> %s"
        params.append(case.pk)
    sql += " ORDER BY created_at DESC, id DESC LIMIT %s"
    params.append(limit)
    converter = Case._meta.get_field("created_at")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [Case.from_db(connection.alias, ["id", "category_id", "status", "created_at"],
                         [pk, case.category_id, status, _as_datetime(created_at, converter, connection)])
            for pk, status, created_at in rows]


def _as_datetime(value, field, connection) -> dt.datetime:
    """A raw query's datetime as the ORM would give it (SQLite returns text)."""
    for convert in connection.ops.get_db_converters(field.get_col(field.model._meta.db_table)):
        value = convert(value, None, connection)
    return value


def _existing(submitted_by: User | None, channel: str, key: str) -> Case | None:
    if not key:
        return None
    return Case.objects.filter(keyed(), submitted_by=submitted_by, channel=channel, idempotency_key=key).first()


def case_submit(*, submitted_by: User, channel: str, category_code: str, description: str,
                lon: float | None = None, lat: float | None = None, building_id: int | None = None,
                room_id: int | None = None, at_home: bool = False, attachments=(), idempotency_key: str = "",
                on_behalf_of: User | None = None, caller_name: str = "", caller_phone: str = "") -> SubmitResult:
    """Take in a case from any channel: validate, locate, classify, set deadlines, dispatch.

    A repeat with the same ``idempotency_key`` (per submitter and channel) returns the first
    case, also when both arrive at once. Bad input raises :class:`InvalidInput` naming the
    field, before anything is written.
    """
    if channel not in Channel.values or channel == Channel.IMPORT:
        raise InvalidInput(_("Unknown channel “%(channel)s”.") % {"channel": channel}, field="channel")
    is_resident = submitted_by.role == Role.RESIDENT and not submitted_by.is_superuser
    if is_resident and channel not in RESIDENT_CHANNELS:
        raise InvalidInput(_("Residents submit through the web, the app or the call-for-help button."), field="channel")
    if on_behalf_of is not None and is_resident:
        raise NotAllowed(_("Only staff may submit a case on someone else's behalf."))
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > 100:
        raise InvalidInput(_("The idempotency key is longer than 100 characters."), field="idempotency_key")
    # No look-up of the key before the work: the unique constraint answers a replay (below), and
    # a first submission, by far the common one, saves a query.
    try:
        reporter, category, description, place, files = _checked(
            submitted_by=submitted_by, is_resident=is_resident, on_behalf_of=on_behalf_of, category_code=category_code,
            description=description, lon=lon, lat=lat, building_id=building_id, room_id=room_id, at_home=at_home,
            attachments=attachments)
    except InvalidInput:
        # A replay of an accepted submission gets its case even if its input no longer passes
        # (say, the category was retired in between).
        replay = _existing(submitted_by, channel, idempotency_key)
        if replay is None:
            raise
        return SubmitResult(replay, created=False)
    tier, tier_why = tiers.classify(category=category, description=description,
                                       care_groups=_care_groups(reporter), channel=channel)
    connection = connections[Case.objects.db]
    # On PostgreSQL a case without files is written by one statement, atomic by itself; inside
    # a caller's transaction a savepoint still keeps a replay's failed INSERT from spoiling it.
    one_statement = connection.vendor == "postgresql" and not files and not connection.in_atomic_block
    try:
        for _attempt in range(3):
            try:
                with _files_removed_on_failure(), (nullcontext() if one_statement else transaction.atomic()):
                    return _create(submitted_by=submitted_by, reporter=reporter, channel=channel, category=category,
                                   description=description, place=place, files=files, tier=tier,
                                   tier_why=tier_why, idempotency_key=idempotency_key,
                                   caller_name=caller_name, caller_phone=caller_phone)
            except _MapChanged:
                place = _place_checked(submitted_by, lon=lon, lat=lat, building_id=building_id, room_id=room_id,
                                       at_home=at_home, reporter=reporter or submitted_by, fresh=True)
        raise _MapChanged("the map kept changing while the case was written")
    except IntegrityError:
        replay = _existing(submitted_by, channel, idempotency_key)
        if replay is None:
            raise
        return SubmitResult(replay, created=False)


def _checked(*, submitted_by, is_resident, on_behalf_of, category_code, description, lon, lat, building_id, room_id,
             at_home, attachments):
    """Every check of a submission's input, before anything is written; raises InvalidInput."""
    if not (category_code or "").strip():
        raise InvalidInput(_("Category is required."), field="category")
    category = lookups.active_leaf_category(category_code.strip())
    if category is None:
        raise InvalidInput(_("Unknown category “%(code)s”.") % {"code": category_code}, field="category")
    description = _required_text(description, "description", _("Description"))
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(_("The description is longer than %(n)d characters.") % {"n": DESCRIPTION_MAX},
                           field="description")
    reporter = on_behalf_of or (submitted_by if is_resident else None)
    place = _place_checked(submitted_by, lon=lon, lat=lat, building_id=building_id, room_id=room_id,
                           at_home=at_home, reporter=reporter or submitted_by)
    return reporter, category, description, place, check_attachments(attachments)


def _place_checked(submitted_by, *, fresh: bool = False, **where) -> _Place:
    place = _locate(fresh=fresh, **where)
    if getattr(submitted_by, "cg_api_key", None) is not None and not covers(submitted_by, place.grid):
        raise NotAllowed(_("The location lies outside the areas this API key may submit to."))
    return place


def _create(*, submitted_by, reporter, channel, category, description, place, files, tier, tier_why,
            idempotency_key, caller_name, caller_phone) -> SubmitResult:
    """Write the case already routed: one INSERT of the case and one of its first two events.

    Routing needs only the category and the grid, so it is decided before the row exists; the
    log still shows both steps (submitted, then dispatched with the reason), as if the
    dispatch were a separate transition, at two fewer statements on the busiest write path.
    """
    now = timezone.now()
    tier_reason = tier_why.text
    deadlines = tiers.deadlines_for(tier=tier, category=category, start=now)
    case = Case(
        category=category, tier=tier, tier_reason=tier_reason[:200], description=description, channel=channel,
        grid=place.grid, lon=place.lon, lat=place.lat, building=place.building, room=place.room,
        submitted_by=submitted_by, reporter=reporter, caller_name=(caller_name or "").strip()[:100],
        caller_phone=(caller_phone or "").strip() or None, idempotency_key=idempotency_key,
        priority=1 if tier == Tier.URGENT else 0, created_at=now, updated_at=now,
        respond_by=deadlines.respond_by, resolve_by=deadlines.resolve_by, warn_at=deadlines.warn_at,
        escalate_at=deadlines.respond_by,
    )
    duplicates = likely_duplicates(case)
    route = dispatch.route(category=category, grid=place.grid, lon=place.lon, lat=place.lat, now=now)
    if route.found:
        case.status = states.target("dispatch", Status.SUBMITTED)
        case.assignee, case.department = route.assignee, route.department
    case.next_check_at = case.next_check()
    actor_role = submitted_by.role if submitted_by else "system"
    events = [CaseEvent(case=case, at=now, actor=submitted_by, actor_role=actor_role, action="submit", from_status="",
                        to_status=Status.SUBMITTED, note=tier_reason,
                        data={"tier": tier, "channel": channel, "why": tier_why.parts})]
    if route.found:
        events.append(CaseEvent(case=case, at=now, actor=None, actor_role="system", action="dispatch",
                                from_status=Status.SUBMITTED, to_status=case.status, note=route.reason,
                                data={"duplicates": [d.pk for d in duplicates], "why": route.why.parts}))
    # The messages are fanned out by ``case_notices_send`` (every few seconds, any worker): the
    # submitter's answer waits for one INSERT, not for the outbox of every recipient.
    if route.found:
        recipients = [case.assignee_id] if case.assignee_id else [user.pk for user in _handlers(case)]
        kind, params = "case_assigned", {"respond_by": _moment(case.respond_by)}
    else:
        recipients = [user.pk for user in dispatch.level_staff(case.grid, EscalationLevel.COMMUNITY)]
        kind, params = "case_handed_back", {"grid": case.grid.name, "note": route.reason, "note_why": route.why.parts}
    notices = [CaseNotice(event=events[-1], recipient_id=user_id, kind=kind, params=params, created_at=now)
               for user_id in dict.fromkeys(recipients)]
    _insert_new_case(case, events, notices, map_token=place.map_token)
    _save_attachments(case, events[0], files, submitted_by)
    return SubmitResult(case, created=True, duplicates=duplicates, route_reason=route.reason)


def _insert_new_case(case: Case, events: list[CaseEvent], notices: list[CaseNotice], *,
                     map_token: str | None = None) -> None:
    """Write a new case, its first events and its pending notices.

    ``map_token``: the map version the case's grid was found on; when the map has changed
    since, nothing is written and :class:`_MapChanged` is raised (the caller locates again).

    On PostgreSQL one statement (data-modifying CTEs) does it all: a single statement is a
    transaction of its own, so the busiest write path pays one round trip instead of five
    (BEGIN, three INSERTs, COMMIT) and none of the ORM's per-query compilation. Elsewhere
    (SQLite) the ORM writes the rows inside the caller's transaction.
    """
    from communitygrid.geo.models import MapVersion

    connection = connections[Case.objects.db]
    if connection.vendor != "postgresql":
        # Inside the caller's transaction, which on SQLite holds the write lock from BEGIN.
        if map_token is not None and MapVersion.current_token() != map_token:
            raise _MapChanged()
        case.save(force_insert=True)
        CaseEvent.objects.bulk_create(events)
        CaseNotice.objects.bulk_create(notices)
        return
    case_columns, case_values, case_types = _row(case, connection)
    params = list(case_values)
    if map_token is None:
        case_source = f"VALUES ({', '.join(['%s'] * len(case_values))})"
    else:
        # The same statement confirms the map version: a map changed by another process since
        # this one's index was confirmed writes nothing (and the case is located again).
        casts = _casts(tuple(case_types))
        case_source = (f"SELECT {', '.join(f'%s::{t}' for t in casts)} WHERE COALESCE((SELECT token FROM "
                       f"{connection.ops.quote_name(MapVersion._meta.db_table)} WHERE id = %s), '') = %s")
        params += [MapVersion.ROW, map_token]
    event_fields = _insert_fields(CaseEvent, ("case",))
    event_rows = []
    for event in events:
        columns, values, types = _row(event, connection, event_fields)
        event_rows.append("(" + ", ".join(f"%s::{t}" for t in types) + ")")
        params += values
    table, event_table = connection.ops.quote_name(Case._meta.db_table), connection.ops.quote_name(CaseEvent._meta.db_table)
    sql = (f"WITH c AS (INSERT INTO {table} ({', '.join(case_columns)}) {case_source} RETURNING id), "
           f"e AS (INSERT INTO {event_table} (case_id, {', '.join(columns)}) "
           f"SELECT c.id, v.* FROM c, (VALUES {', '.join(event_rows)}) AS v RETURNING id, action)")
    if notices:
        notice_fields = _insert_fields(CaseNotice, ("event", "recipient"))
        notice_columns, notice_values, notice_types = _row(notices[0], connection, notice_fields)
        recipients = ", ".join("(%s::bigint)" for _notice in notices)
        sql += (f", n AS (INSERT INTO {connection.ops.quote_name(CaseNotice._meta.db_table)} "
                f"(event_id, recipient_id, {', '.join(notice_columns)}) "
                f"SELECT e.id, r.column1, {', '.join(f'%s::{t}' for t in notice_types)} "
                f"FROM e, (VALUES {recipients}) AS r WHERE e.action = %s)")
        params += [*notice_values, *(notice.recipient_id for notice in notices), notices[0].event.action]
    sql += " SELECT (SELECT id FROM c), e.id, e.action FROM e"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        raise _MapChanged()
    case.pk = rows[0][0]
    event_ids = {action: pk for _case_id, pk, action in rows}
    for obj in (case, *events):
        obj._state.adding, obj._state.db = False, connection.alias
    for event in events:
        event.pk, event.case_id = event_ids[event.action], case.pk
    for notice in notices:
        notice.event_id = notice.event.pk


def _row(obj, connection, fields=None) -> tuple[list[str], list, list[str]]:
    """Quoted columns, values prepared as the ORM's INSERT prepares them, and column types."""
    fields = fields if fields is not None else _insert_fields(type(obj))
    columns, types = _columns_and_types(tuple(fields), connection.alias)
    return columns, [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields], types


@functools.cache
def _insert_fields(model, leave_out: tuple[str, ...] = ()) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in leave_out]


@functools.lru_cache(maxsize=8)
def _casts(types: tuple[str, ...]) -> list[str]:
    """Casts for values of these column types: varchar without its length, so that a value too
    long fails instead of being cut."""
    return [re.sub(r"^varchar\(\d+\)$", "varchar", t) for t in types]


@functools.lru_cache(maxsize=32)
def _columns_and_types(fields: tuple, alias: str) -> tuple[list[str], list[str]]:
    """Quoted column names and database types of ``fields`` (the same for every row)."""
    connection = connections[alias]
    return [connection.ops.quote_name(f.column) for f in fields], [f.db_type(connection) for f in fields]


# ---------------------------------------------------------------- handling

def _escalate_at(case: Case, moment: dt.datetime | None) -> dt.datetime | None:
    """Nothing is above the district: a case there is not escalated again."""
    return moment if case.escalation_level < EscalationLevel.DISTRICT else None


def _respond_clock_stops(case: Case, now: dt.datetime) -> dict:
    """Once someone has taken the case, the resolve deadline governs warnings and escalation."""
    warn_at = tiers.warn_point(case.created_at, case.resolve_by)
    return {"escalate_at": _escalate_at(case, case.resolve_by), "warn_at": warn_at if warn_at > now else None}


@transaction.atomic
def case_accept(*, case: Case, actor: User, note: str = "") -> CaseEvent:
    _require(actor, case, "handler")
    now = timezone.now()
    changes = {"assignee": case.assignee or actor, **_respond_clock_stops(case, now)}
    if case.accepted_at is None:
        changes["accepted_at"] = now
    return _transition(case, action="accept", actor=actor, note=note, changes=changes, now=now)


@transaction.atomic
def case_start(*, case: Case, actor: User, note: str = "") -> CaseEvent:
    _require(actor, case, "handler")
    return _transition(case, action="start", actor=actor, note=note)


@transaction.atomic
def case_pause(*, case: Case, actor: User, reason: str) -> CaseEvent:
    """Wait for the resident (absent, to provide something): the clock stops until resumed."""
    _require(actor, case, "handler")
    reason = _required_text(reason, "reason", _("Reason"))
    now = timezone.now()
    return _transition(case, action="pause", actor=actor, note=reason, now=now,
                       changes={"paused_at": now, "pause_reason": reason[:200]})


@transaction.atomic
def case_resume(*, case: Case, actor: User, note: str = "") -> CaseEvent:
    """Deadlines move later by exactly the time the case waited."""
    _require(actor, case, "handler", "supervisor")
    now = timezone.now()
    paused = now - (case.paused_at or now)
    changes = {"paused_at": None, "pause_reason": "", "paused_seconds": case.paused_seconds + int(paused.total_seconds())}
    for name in ("respond_by", "resolve_by", "warn_at", "escalate_at"):
        value = getattr(case, name)
        changes[name] = value + paused if value else None
    return _transition(case, action="resume", actor=actor, note=note, changes=changes, now=now,
                       data={"paused_seconds": int(paused.total_seconds())})


@_with_files_removed_on_failure
@transaction.atomic
def case_note(*, case: Case, actor: User, note: str, attachments=()) -> CaseEvent:
    """A handler's progress note, with photos if any; the status and the deadlines do not change."""
    _require(actor, case, "handler")
    files = check_attachments(attachments)
    note = (note or "").strip()
    if not note and not files:
        raise InvalidInput(_("Write a note or add a photo."), field="note")
    return _transition(case, action="note", actor=actor, note=note, attachments=files)


@_with_files_removed_on_failure
@transaction.atomic
def case_resolve(*, case: Case, actor: User, note: str, attachments=()) -> CaseEvent:
    _require(actor, case, "handler")
    note = _required_text(note, "note", _("What was done"))
    files = check_attachments(attachments)
    if case.tasks.filter(state=CaseTask.State.OPEN).exists():
        raise TransitionNotAllowed(_("Case #%(id)s still has open joint-handling tasks.") % {"id": case.pk})
    now = timezone.now()
    changes = {"resolved_at": now, "warn_at": None, "escalate_at": None, "verdict_due_at": now + VERDICT_WINDOW}
    if case.tier == Tier.URGENT:
        changes["follow_up_at"] = now + FOLLOW_UP_AFTER
    event = _transition(case, action="resolve", actor=actor, note=note, changes=changes, attachments=files, now=now)
    if case.reporter_id:
        _notify([case.reporter], kind="case_resolved", case=case, event=event, note=note)
    return event


def _reopen_changes(case: Case, now: dt.datetime) -> dict:
    deadlines = tiers.deadlines_for(tier=case.tier, category=case.category, start=now)
    return {
        "priority": case.priority + 1, "reopen_count": case.reopen_count + 1, "resolved_at": None, "closed_at": None,
        "verdict": "", "verdict_due_at": None, "respond_by": deadlines.respond_by, "resolve_by": deadlines.resolve_by,
        "warn_at": deadlines.warn_at, "escalate_at": _escalate_at(case, deadlines.respond_by), "follow_up_at": None,
    }


def _after_reopen(case: Case, event: CaseEvent, note: str) -> None:
    _notify(_handlers(case), kind="case_reopened", case=case, event=event, priority=case.priority, note=note)


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> CaseEvent:
    """Back to the same unit, one priority higher, with fresh deadlines."""
    _require(actor, case, "supervisor")
    reason = _required_text(reason, "reason", _("Reason"))
    now = timezone.now()
    event = _transition(case, action="reopen", actor=actor, note=reason, changes=_reopen_changes(case, now), now=now)
    _after_reopen(case, event, reason)
    return event


@transaction.atomic
def case_close(*, case: Case, actor: User, note: str = "") -> CaseEvent:
    """Staff close a resolved case (e.g. the resident confirmed by phone)."""
    _require(actor, case, "supervisor")
    now = timezone.now()
    return _transition(case, action="close", actor=actor, note=note, now=now,
                       changes={"closed_at": now, "verdict_due_at": None, "verdict": Verdict.CONFIRMED})


@transaction.atomic
def case_rate(*, case: Case, actor: User, solved: bool, rating: int, comment: str = "") -> CaseEvent:
    """The resident's verdict: confirmed and rated 3–5 closes; "not solved" or 1–2 reopens."""
    _require(actor, case, "reporter")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidInput(_("Rating must be a whole number from 1 to 5."), field="rating")
    comment = (comment or "").strip()[:2000]
    now = timezone.now()
    rated = {"rating": rating, "rating_comment": comment}
    if solved and rating >= 3:
        return _transition(case, action="confirm", actor=actor, note=comment, now=now, data={"rating": rating},
                           changes={**rated, "closed_at": now, "verdict_due_at": None, "verdict": Verdict.CONFIRMED})
    changes = {**_reopen_changes(case, now), **rated, "verdict": Verdict.DISPUTED}
    event = _transition(case, action="dispute", actor=actor, note=comment, changes=changes, now=now,
                        data={"rating": rating, "solved": bool(solved)})
    _after_reopen(case, event, comment)
    return event


def _cancel_open_tasks(case: Case) -> None:
    """A case that ends without being resolved takes its co-handlers' open tasks with it."""
    CaseTask.objects.filter(case=case, state=CaseTask.State.OPEN).update(state=CaseTask.State.CANCELLED)


@transaction.atomic
def case_reject(*, case: Case, actor: User, reason: str, redirect: str) -> CaseEvent:
    """Not ours to handle: say why and where to turn instead."""
    _require(actor, case, "handler", "supervisor")
    reason = _required_text(reason, "reason", _("Reason"))
    redirect = _required_text(redirect, "redirect", _("Where to turn instead"))
    now = timezone.now()
    event = _transition(case, action="reject", actor=actor, note=reason, now=now, data={"redirect": redirect},
                        changes={"rejection_reason": reason, "redirect_to": redirect[:200], "closed_at": now,
                                 "warn_at": None, "escalate_at": None})
    _cancel_open_tasks(case)
    if case.reporter_id:
        _notify([case.reporter], kind="case_rejected", case=case, event=event, note=reason, redirect=redirect)
    return event


@transaction.atomic
def case_cancel(*, case: Case, actor: User, reason: str) -> CaseEvent:
    _require(actor, case, "reporter", "supervisor")
    reason = _required_text(reason, "reason", _("Reason"))
    now = timezone.now()
    event = _transition(case, action="cancel", actor=actor, note=reason, now=now,
                        changes={"closed_at": now, "warn_at": None, "escalate_at": None, "paused_at": None})
    _cancel_open_tasks(case)
    return event


@transaction.atomic
def case_merge(*, case: Case, actor: User, into: Case, note: str = "") -> CaseEvent:
    """Link a duplicate to the case that is handled instead of it."""
    _require(actor, case, "handler", "supervisor")
    if into.pk == case.pk:
        raise InvalidInput(_("A case cannot be merged into itself."), field="into")
    if into.status in (Status.MERGED, Status.CANCELLED, Status.REJECTED):
        raise InvalidInput(_("Case #%(id)s is %(status)s and cannot take duplicates.")
                           % {"id": into.pk, "status": into.get_status_display()}, field="into")
    now = timezone.now()
    event = _transition(case, action="merge", actor=actor, note=note, now=now, data={"into": into.pk},
                        changes={"duplicate_of": into, "closed_at": now, "warn_at": None, "escalate_at": None,
                                 "paused_at": None})
    _cancel_open_tasks(case)
    return event


def _check_assignee(user: User, case: Case) -> None:
    fits = (user.is_active and (
        (user.role == Role.GRID_WORKER and covers(user, case.grid))
        or (user.role == Role.DEPARTMENT_STAFF and user.department_id is not None)))
    if not fits:
        raise InvalidInput(_("%(user)s cannot handle cases of grid %(grid)s.") % {"user": user, "grid": case.grid.name},
                           field="assignee")


@transaction.atomic
def case_redispatch(*, case: Case, actor: User, assignee: User | None = None, department: Department | None = None,
                    note: str = "") -> CaseEvent:
    """Staff above the grid give the case to someone else (named, or chosen by routing)."""
    _require(actor, case, "supervisor")
    why = Note(separator=wording.SEPARATORS["redispatch"])
    if (note or "").strip():
        why.add(wording.TEXT, text=note.strip())
    if assignee is not None:
        _check_assignee(assignee, case)
        department = assignee.department if assignee.role == Role.DEPARTMENT_STAFF else department
        why.add("redispatch_chosen", actor=actor)
    elif department is not None:
        staff = User.objects.filter(role=Role.DEPARTMENT_STAFF, department=department, is_active=True)
        assignee, _count = dispatch.least_loaded(staff, cap=dispatch.workload_cap())
        why.add("redispatch_sent", department=department, actor=actor)
    else:
        route = dispatch.route(category=case.category, grid=case.grid, lon=case.lon, lat=case.lat,
                               exclude=(case.assignee_id,) if case.assignee_id else ())
        if not route.found:
            raise InvalidInput(route.reason, field="assignee")
        assignee, department = route.assignee, route.department
        why.extend(route.why)
    event = _transition(case, action="redispatch", actor=actor, note=why.text, data={"why": why.parts},
                        changes={"assignee": assignee, "department": department})
    _notify(_handlers(case), kind="case_assigned", case=case, event=event, respond_by=_moment(case.respond_by))
    return event


@transaction.atomic
def case_hand_back(*, case: Case, actor: User, reason: str) -> CaseEvent:
    """The assignee cannot take it: back to the community's dispatch queue, with the reason."""
    _require(actor, case, "handler")
    reason = _required_text(reason, "reason", _("Reason"))
    event = _transition(case, action="hand_back", actor=actor, note=reason,
                        changes={"assignee": None, "department": None}, data={"from_assignee": case.assignee_id})
    staff = dispatch.level_staff(case.grid, EscalationLevel.GRID) + dispatch.level_staff(case.grid, EscalationLevel.COMMUNITY)
    _notify(staff, kind="case_handed_back", case=case, event=event, grid=case.grid.name, note=reason)
    return event


@transaction.atomic
def case_request_help(*, case: Case, actor: User, note: str) -> CaseEvent:
    _require(actor, case, "handler")
    note = _required_text(note, "note", _("What help is needed"))
    event = _transition(case, action="request_help", actor=actor, note=note)
    staff = dispatch.level_staff(case.grid, EscalationLevel.GRID) + dispatch.level_staff(case.grid, EscalationLevel.COMMUNITY)
    _notify(staff, kind="case_help", case=case, event=event, note=note)
    return event


@transaction.atomic
def case_transfer_to_department(*, case: Case, actor: User, department: Department, note: str = "") -> CaseEvent:
    _require(actor, case, "handler", "supervisor")
    if department is None or not department.is_active:
        raise InvalidInput(_("Choose an active department."), field="department")
    staff = User.objects.filter(role=Role.DEPARTMENT_STAFF, department=department, is_active=True)
    assignee, _count = dispatch.least_loaded(staff, cap=dispatch.workload_cap())
    event = _transition(case, action="transfer_to_department", actor=actor, note=note,
                        changes={"assignee": assignee, "department": department},
                        data={"department": department.pk})
    _notify(_handlers(case), kind="case_assigned", case=case, event=event, respond_by=_moment(case.respond_by))
    return event


@transaction.atomic
def case_escalate(*, case: Case, actor: User, reason: str) -> CaseEvent:
    """"Beyond my powers": the handler (or a supervisor) sends the case one level up."""
    _require(actor, case, "handler", "supervisor")
    reason = _required_text(reason, "reason", _("Reason"))
    if case.escalation_level >= EscalationLevel.DISTRICT:
        raise InvalidInput(_("Case #%(id)s is already at the district level.") % {"id": case.pk}, field="action")
    level = case.escalation_level + 1
    changes = {"escalation_level": level, **({"escalate_at": None} if level >= EscalationLevel.DISTRICT else {})}
    event = _transition(case, action="escalate", actor=actor, note=reason, changes=changes, data={"level": level})
    _notify(dispatch.level_staff(case.grid, level), kind="case_escalated", case=case, event=event,
            grid=case.grid.name, level=level, reason=reason)
    return event


@transaction.atomic
def case_supervise(*, case: Case, actor: User, note: str) -> CaseEvent:
    """督办: a supervisor puts the case under watch, raising its priority and telling the handler."""
    _require(actor, case, "supervisor")
    note = _required_text(note, "note", _("Instruction"))
    event = _transition(case, action="supervise", actor=actor, note=note,
                        changes={"supervised": True, "priority": case.priority + 1})
    _notify(_handlers(case), kind="case_supervised", case=case, event=event, note=note)
    return event


@transaction.atomic
def case_take_over(*, case: Case, actor: User, note: str = "") -> CaseEvent:
    _require(actor, case, "supervisor")
    now = timezone.now()
    changes = {"assignee": actor, "department": None, **_respond_clock_stops(case, now)}
    if case.accepted_at is None:
        changes["accepted_at"] = now
    return _transition(case, action="take_over", actor=actor, note=note, changes=changes, now=now)


# ---------------------------------------------------------------- joint handling (联动)

@transaction.atomic
def case_task_add(*, case: Case, actor: User, description: str, department: Department | None = None,
                  assignee: User | None = None, due_at: dt.datetime | None = None) -> CaseTask:
    """The lead unit asks a co-handler (a department or a person) for its part, with a deadline."""
    _require(actor, case, "handler", "supervisor")
    description = _required_text(description, "description", _("What to do"))
    if department is None and assignee is None:
        raise InvalidInput(_("Name a department or a person for the task."), field="department")
    if department is not None and not department.is_active:
        raise InvalidInput(_("Choose an active department."), field="department")
    if assignee is not None:
        # A co-handler sees the case and is notified: the same people redispatch may choose.
        _check_assignee(assignee, case)
    now = timezone.now()
    due_at = due_at or case.resolve_by
    if due_at is None or due_at <= now:
        raise InvalidInput(_("The task's deadline must be in the future."), field="due_at")
    task = CaseTask.objects.create(case=case, department=department, assignee=assignee, description=description,
                                   due_at=due_at, created_by=actor, created_at=now)
    event = _transition(case, action="add_task", actor=actor, note=description, now=now, data={"task": task.pk})
    recipients = [assignee] if assignee else list(
        User.objects.filter(role=Role.DEPARTMENT_STAFF, department=department, is_active=True))
    _notify(recipients, kind="case_task", case=case, event=event, due=_moment(due_at), note=description)
    return task


def _is_task_handler(actor: User, task: CaseTask) -> bool:
    return actor.is_system_admin or task.assignee_id == actor.pk or bool(
        task.department_id and actor.role == Role.DEPARTMENT_STAFF and actor.department_id == task.department_id)


@transaction.atomic
def case_task_complete(*, task: CaseTask, actor: User, result: str) -> CaseTask:
    case = task.case
    if not (_is_task_handler(actor, task) or _is_handler(actor, case)):
        raise NotAllowed(_("You may not do this on case #%(id)s.") % {"id": case.pk})
    result = _required_text(result, "result", _("Result"))
    now = timezone.now()
    if CaseTask.objects.filter(pk=task.pk, state=CaseTask.State.OPEN).update(
            state=CaseTask.State.DONE, result=result, done_at=now) != 1:
        raise TransitionNotAllowed(_("This task is no longer open."))
    task.refresh_from_db()
    event = _transition(case, action="complete_task", actor=actor, note=result, now=now, data={"task": task.pk})
    _notify(_handlers(case), kind="case_task_done", case=case, event=event, note=result)
    return task


# ---------------------------------------------------------------- the sweep's transitions (system actor)

class SweepCache:
    """What one sweep looks up once instead of once per case: grids, and staff per grid and level."""

    def __init__(self) -> None:
        self._grids: dict[int, object] = {}
        self._staff: dict[tuple[int, int], list[int]] = {}
        self._departments: dict[int, list[int]] = {}

    def grid(self, case: Case):
        if case.grid_id not in self._grids:
            self._grids[case.grid_id] = case.grid
        return self._grids[case.grid_id]

    def level_staff(self, case: Case, level: int) -> list[int]:
        key = (case.grid_id, level)
        if key not in self._staff:
            self._staff[key] = [user.pk for user in dispatch.level_staff(self.grid(case), level)]
        return self._staff[key]

    def handlers(self, case: Case) -> list[int]:
        if case.assignee_id:
            return [case.assignee_id]
        if not case.department_id:
            return []
        if case.department_id not in self._departments:
            self._departments[case.department_id] = list(User.objects.filter(
                role=Role.DEPARTMENT_STAFF, department_id=case.department_id, is_active=True).values_list("pk", flat=True))
        return self._departments[case.department_id]


def _bulk_transition(cases: list[Case], *, action: str, now: dt.datetime, guard: tuple[str, ...], compute,
                     notices, note=lambda case: "", data=lambda case: {}, locked: bool = False) -> list[CaseEvent]:
    """One action on many cases in a few statements; each case still gets its own event.

    Unless the caller already holds the rows (``locked``: read in this transaction with FOR
    UPDATE, or under SQLite's write lock), they are locked and re-read first; a case whose
    status or ``guard`` fields differ from the caller's copy was changed meanwhile (another
    sweep, a person) and is left out. ``compute(case)`` returns the field changes,
    ``notices(case)`` (kind, recipient ids, params).
    """
    if not cases:
        return []
    claimed = cases
    if not locked:
        fields = ("status", *guard)
        current = {
            row[0]: row[1:]
            for row in Case.objects.select_for_update().filter(pk__in=[c.pk for c in cases]).values_list("pk", *fields)
        }
        claimed = [case for case in cases if current.get(case.pk) == tuple(getattr(case, f) for f in fields)]
    events, changed = [], {"status", "updated_at", "next_check_at"}
    for case in claimed:
        from_status = case.status
        changes = compute(case)
        for name, value in changes.items():
            setattr(case, name, value)
        changed.update(changes)
        case.status, case.updated_at = states.target(action, from_status), now
        case.next_check_at = case.next_check()
        events.append(CaseEvent(case=case, at=now, actor=None, actor_role="system", action=action,
                                from_status=from_status, to_status=case.status, note=note(case), data=data(case)))
    _update_rows(claimed, sorted(changed))
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    pending = []
    for case, event in zip(claimed, events):
        kind, recipients, params = notices(case)
        pending += [CaseNotice(event=event, recipient_id=user_id, kind=kind, params=params, created_at=now)
                    for user_id in dict.fromkeys(recipients)]
    CaseNotice.objects.bulk_create(pending, batch_size=1000)
    return events


def _update_rows(cases: list[Case], names: list[str]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` giving each row its own values.

    Django's ``bulk_update`` builds a CASE with a branch per row for every field, which the
    database evaluates for every row: quadratic, about a second for 500 rows on PostgreSQL.
    """
    if not cases:
        return
    connection = connections[Case.objects.db]
    fields = [Case._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # The first row carries the types, or a column of NULLs would be read as text.
        first = "(%s::bigint, " + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    else:
        first = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    rest = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    table = quote(Case._meta.db_table)
    sets = ", ".join(f"{quote(f.column)} = v.column{i}" for i, f in enumerate(fields, start=2))
    sql = (f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([first] + [rest] * (len(cases) - 1))}) AS v "
           f"WHERE {table}.id = v.column1")
    params = []
    for case in cases:
        params.append(case.pk)
        params += [f.get_db_prep_save(getattr(case, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _due_of(case: Case) -> dt.datetime | None:
    return case.respond_by if case.status in AWAITING_RESPONSE else case.resolve_by


def cases_warn_due(*, cases: list[Case], now: dt.datetime, cache: SweepCache | None = None,
                   locked: bool = False) -> list[CaseEvent]:
    """80 % of the time is gone: tell whoever must act, once (``warn_at`` is cleared)."""
    cache = cache or SweepCache()

    def notices(case):
        recipients = cache.handlers(case) or cache.level_staff(case, EscalationLevel.COMMUNITY)
        return "case_warning", recipients, {"due": _moment(_due_of(case))}

    return _bulk_transition(cases, action="warn", now=now, guard=("warn_at",), compute=lambda case: {"warn_at": None},
                            notices=notices, data=lambda case: {"due": _due_of(case).isoformat() if _due_of(case) else None},
                            locked=locked)


def cases_escalate_overdue(*, cases: list[Case], now: dt.datetime, cache: SweepCache | None = None,
                           locked: bool = False) -> list[CaseEvent]:
    """A deadline passed: one level up; the next level gets one respond window of its own."""
    cache = cache or SweepCache()
    steps: dict[str, dt.datetime] = {}

    def compute(case):
        # A case already at the top (only if its row was written by hand) stays there.
        level = min(case.escalation_level + 1, EscalationLevel.DISTRICT)
        if case.tier not in steps:
            steps[case.tier] = tiers.escalation_step(case.tier, now)
        return {"escalation_level": level, "warn_at": None,
                "escalate_at": steps[case.tier] if level < EscalationLevel.DISTRICT else None}

    reasons: dict[int, Note] = {}

    def why(case) -> Note:
        # Called after compute (the status is unchanged, the deadline is the one that passed),
        # for the event's note, its data and the notice: worded once, in the site's language.
        if case.pk not in reasons:
            with translation.override(settings.LANGUAGE_CODE):
                if case.status in AWAITING_RESPONSE:
                    reasons[case.pk] = Note().add("escalate_not_responded", at=case.respond_by)
                else:
                    reasons[case.pk] = Note().add("escalate_not_resolved", at=case.resolve_by)
        return reasons[case.pk]

    def reason(case) -> str:
        return why(case).text

    def notices(case):
        return "case_escalated", cache.level_staff(case, case.escalation_level), {
            "grid": cache.grid(case).name, "level": case.escalation_level, "reason": reason(case),
            "why": why(case).parts}

    return _bulk_transition(cases, action="escalate", now=now, guard=("escalate_at", "escalation_level"),
                            compute=compute, notices=notices, note=reason,
                            data=lambda case: {"level": case.escalation_level, "why": why(case).parts}, locked=locked)


def _one(events: list[CaseEvent], case: Case) -> CaseEvent:
    if not events:
        case.refresh_from_db()
        raise TransitionNotAllowed(_("Case #%(id)s changed meanwhile; nothing was done.") % {"id": case.pk})
    return events[0]


@transaction.atomic
def case_warn_due(*, case: Case, now: dt.datetime) -> CaseEvent:
    return _one(cases_warn_due(cases=[case], now=now), case)


@transaction.atomic
def case_escalate_overdue(*, case: Case, now: dt.datetime) -> CaseEvent:
    return _one(cases_escalate_overdue(cases=[case], now=now), case)


@transaction.atomic
def case_close_by_default(*, case: Case, now: dt.datetime) -> CaseEvent:
    """No verdict within 7 days of resolution: closed as "confirmed by default"."""
    why = Note().add("close_by_default")
    return _transition(case, action="close", actor=None, now=now, guard={"verdict_due_at": case.verdict_due_at},
                       note=why.text, data={"why": why.parts},
                       changes={"closed_at": now, "verdict_due_at": None, "verdict": Verdict.DEFAULT})


@transaction.atomic
def case_follow_up(*, case: Case, now: dt.datetime) -> CaseEvent:
    """A day after an urgent case is resolved, someone checks on the resident."""
    event = _transition(case, action="follow_up", actor=None, now=now, guard={"follow_up_at": case.follow_up_at},
                        changes={"follow_up_at": None})
    recipients = _handlers(case) or dispatch.level_staff(case.grid, EscalationLevel.GRID)
    _notify(recipients, kind="case_follow_up", case=case, event=event)
    return event


@transaction.atomic
def case_task_report_overdue(*, task: CaseTask, now: dt.datetime) -> CaseEvent:
    """A co-handler missed its deadline: the lead unit and the co-handler hear of it, once."""
    case = task.case
    if CaseTask.objects.filter(pk=task.pk, state=CaseTask.State.OPEN, overdue_reported_at__isnull=True,
                               due_at__lte=now).update(overdue_reported_at=now) != 1:
        raise TransitionNotAllowed(_("This task is no longer open."))
    event = _transition(case, action="task_overdue", actor=None, note=task.description, now=now,
                        data={"task": task.pk, "due": task.due_at.isoformat()})
    co_handlers = [task.assignee] if task.assignee_id else list(
        User.objects.filter(role=Role.DEPARTMENT_STAFF, department_id=task.department_id, is_active=True))
    _notify(_handlers(case) + co_handlers, kind="case_task_overdue", case=case, event=event,
            note=task.description[:100], due=_moment(task.due_at))
    return event


def case_notices_send(*, limit: int = 500) -> int:
    """Queue the sweep's pending notices in the notification outbox; returns how many were sent.

    Each notice is deleted in the transaction that queues it, and two senders at once claim
    different rows (SKIP LOCKED on PostgreSQL; SQLite runs one writer at a time), so no notice
    is sent twice.
    """
    from django.db import connection

    with transaction.atomic():
        query = CaseNotice.objects.order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True, of=("self",))
        notices = list(query.select_related("event__case__category", "event__case__grid", "recipient")[:limit])
        for notice in notices:
            _notify([notice.recipient], kind=notice.kind, case=notice.event.case, event=notice.event,
                    **notice.params)
        CaseNotice.objects.filter(pk__in=[n.pk for n in notices]).delete()
    return len(notices)
