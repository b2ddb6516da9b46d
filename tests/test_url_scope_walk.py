"""Every URL the project routes, for every role: nothing outside the role's scope is shown or changed.

The URLs are discovered by walking the URLconf (Django admin's and the Ninja API's patterns
included), so a new endpoint is covered the day it is added. Each path parameter is filled
twice, with a record inside every role's scope and with a "canary" record in a grid outside
the first street; a parameter this file cannot fill fails the test, naming the pattern, so
whoever adds an endpoint extends the fillers below (``MODEL_PARAMS``, ``WORD_PARAMS``,
``CANARIES``) instead of being skipped silently. A parameter that is a word, not a record (a
case action), is filled with every value the endpoint accepts, each aimed at the canary.

Every role user is scoped inside the first street (district staff and the leader are re-bound
to it here, since ``role_users`` gives them the whole district); the administrator sees
everything and is exempt from the canary checks; the resident must see only their own record,
so a neighbour in their own grid is a second canary for them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import io
import itertools
import json
import re
import struct
import urllib.parse
import zipfile
import zlib
from typing import Any, Callable

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Q
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from communitygrid.accounts.models import Role, SignInEvent, User
from communitygrid.geo.models import Level, Node
from communitygrid.privacy.fields import EncryptedField, Sensitive, models_with_encrypted_fields
from communitygrid.privacy.masking import mask
from communitygrid.privacy.models import AccessLog
from communitygrid.registry.models import Building, Household, Person, Room, Unit
from communitygrid.testing import build_city, id_number_for, make_household, make_user, role_users

MARKER = "金丝雀越界"
NEIGHBOUR = "邻居越界"
ANONYMOUS = "anonymous"
# Not a role of a person: a request made with an API key bound to the first street, holding every scope.
API_KEY = "api_key"
ROLES = [*Role.values, ANONYMOUS, API_KEY]
WRITE_METHODS_OF_DJANGO_VIEWS = ("POST",)


# --- Discovery -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Route:
    """One URL pattern, with the chain of patterns that leads to it from the root URLconf."""

    chain: tuple  # pattern objects (RoutePattern / RegexPattern), root first
    callback: Callable
    admin_model: type[models.Model] | None  # the model of the ModelAdmin include it lies in

    @property
    def text(self) -> str:
        return "".join(str(p) for p in self.chain)

    @property
    def ninja_methods(self) -> set[str] | None:
        view = inspect.getclosurevars(self.callback).nonlocals.get("self") if getattr(self.callback, "__closure__", None) else None
        operations = getattr(view, "operations", None)
        if operations is None or type(view).__module__.split(".")[0] != "ninja":
            return None
        return {method for op in operations for method in op.methods}


def _admin_model_of(pattern) -> type[models.Model] | None:
    # The admin includes each ModelAdmin's URLs at "<app_label>/<model_name>/".
    match = re.fullmatch(r"([a-z_0-9]+)/([a-z_0-9]+)/", str(pattern))
    if not match:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def discover_routes() -> list[Route]:
    routes: list[Route] = []
    seen: set[str] = set()

    def walk(patterns, chain, admin_model):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                model = admin_model
                if chain and str(chain[-1]) == "admin/":
                    model = _admin_model_of(entry.pattern) or admin_model
                walk(entry.url_patterns, (*chain, entry.pattern), model)
            elif isinstance(entry, URLPattern):
                text = "".join(str(p) for p in (*chain, entry.pattern))
                # A later pattern with the same route is unreachable (Django resolves to the
                # first; Ninja registers one per operation on a shared path): walk it once.
                if text not in seen:
                    seen.add(text)
                    routes.append(Route((*chain, entry.pattern), entry.callback, admin_model))
            else:  # pragma: no cover - Django has only these two
                raise TypeError(f"unknown URLconf entry {entry!r}")

    walk(get_resolver().url_patterns, (), None)
    return routes


ROUTES = discover_routes()


# --- The world: a city with people everywhere and canaries out of scope ----------------

@dataclasses.dataclass
class World:
    city: Any
    users: dict[str, User]
    canary: dict[type[models.Model], models.Model]  # one record per model, outside every role's scope
    inside: dict[type[models.Model], models.Model]  # one record per model, inside every role's scope
    canary_grid: Node
    needles: list[str]  # strings that must never reach a non-admin
    neighbour_needles: list[str]  # strings that must never reach the resident
    plaintexts: list[str]  # every unmasked sensitive value in the database
    baseline: dict = dataclasses.field(default_factory=dict)  # snapshot() of the canary records as built
    api_key: str = ""  # the plaintext of the API_KEY "role"'s key

    def record(self, model: type[models.Model], *, canary: bool) -> models.Model | None:
        table = self.canary if canary else self.inside
        if model in table:
            return table[model]
        if model._meta.label_lower in GLOBAL_MODELS:
            # Configuration tables (no area): any row, or an id that matches none.
            return model._base_manager.order_by("pk").first()
        raise Unfillable(
            f"no canary record for {model._meta.label}: add one to CANARIES in tests/test_url_scope_walk.py "
            f"(or list it in GLOBAL_MODELS if it holds no data about people or places)"
        )


class Unfillable(Exception):
    pass


# Models that hold configuration, not data about people, places or users' own things.
GLOBAL_MODELS = {
    "accounts.department",
    "registry.caretag",
    "cases.category",
    "cases.calendaroverride",
    "auth.group",
    "auth.permission",
    "contenttypes.contenttype",
    "sessions.session",
    "admin.logentry",
    "apikeys.organisation",
    "open311.serviceattribute",
}


def _person(grid: Node, household: Household, name: str, *, seq: int, region: str, phone: str, **extra) -> Person:
    birth = dt.date(1961, 7, 9)
    return Person.objects.create(household=household, grid=grid, name=name, gender="F", birth_date=birth,
                                 id_number=id_number_for(birth, seq, region=region), phone=phone,
                                 household_role=Person.HouseholdRole.HEAD, **extra)


def _canary_records(city, users) -> tuple[dict, Node]:
    grid = city.grids[-1]  # second street: outside every role's scope
    building = Building.objects.create(code="B-CANARY", name=f"{MARKER}楼", address=f"{MARKER}大道1号", lon=120.035,
                                       lat=30.035, grid=grid)
    unit = Unit.objects.create(building=building, number="9")
    room = Room.objects.create(unit=unit, number="909")
    household = Household.objects.create(code=f"H-{MARKER}", room=room, grid=grid, note=f"{MARKER}户备注",
                                         address=f"{MARKER}大道1号金丝雀小区9幢9单元909室")
    person = _person(grid, household, MARKER, seq=777, region="650102", phone="17799995432",
                     registered_address=f"{MARKER}户籍所在地新疆乌鲁木齐市天山区", health_notes=f"{MARKER}病史",
                     emergency_contact_name=f"{MARKER}联系人", emergency_contact_phone="17788886543",
                     employer=f"{MARKER}单位")
    worker = make_user(Role.GRID_WORKER, scope=[grid], username="canary-worker")
    worker.display_name = f"{MARKER}网格员"
    worker.save(update_fields=["display_name"])
    # The canary's own account: staff must not act for a resident outside their scope (e.g. submit a
    # case "at home" for them, which would tell where they live). Reached as ``person.account``.
    resident = make_user(Role.RESIDENT, person=person, username="canary-resident")
    resident.display_name = f"{MARKER}居民"
    resident.save(update_fields=["display_name"])
    entry = AccessLog.objects.create(actor=worker, actor_role=worker.role, action=AccessLog.Action.REVEAL,
                                     subject_type="registry.person", subject_id=person.pk, subject_label=MARKER,
                                     subject_grid=grid, fields=["phone"], purpose=f"{MARKER}核查")
    event = SignInEvent.objects.create(username="canary-worker", user=worker, outcome=SignInEvent.Outcome.FAILURE,
                                       user_agent=MARKER)
    records = {Node: grid, Building: building, Unit: unit, Room: room, Household: household, Person: person,
               User: worker, AccessLog: entry, SignInEvent: event}
    for label, build in CANARIES.items():
        model = apps.get_model(label)
        records[model] = build(grid=grid, person=person, household=household, building=building, user=worker,
                               records=records, users=users)
    return records, grid


def _inside_records(city, users) -> dict:
    resident = users[Role.RESIDENT]
    person = resident.person
    household = person.household
    room = household.room
    entry = AccessLog.objects.create(actor=users[Role.GRID_WORKER], actor_role=Role.GRID_WORKER,
                                     action=AccessLog.Action.REVEAL, subject_type="registry.person",
                                     subject_id=person.pk, subject_label=str(person), subject_grid=person.grid,
                                     fields=["phone"], purpose="入户核实联系方式")
    records = {Node: city.grids[0], Building: room.unit.building, Unit: room.unit, Room: room, Household: household,
               Person: person, User: users[Role.GRID_WORKER], AccessLog: entry,
               SignInEvent: SignInEvent.objects.create(username=resident.username, user=resident,
                                                       outcome=SignInEvent.Outcome.SUCCESS)}
    for label, build in CANARIES.items():
        records[apps.get_model(label)] = build(grid=city.grids[0], person=person, household=household,
                                               building=room.unit.building, user=resident, records=records,
                                               users=users)
    return records


def _is_canary(user: User) -> bool:
    return user.username == "canary-worker"


def _marked(user: User, text: str) -> str:
    """``text`` with the marker for the canary's records, plain for the in-scope ones."""
    return f"{MARKER}{text}" if _is_canary(user) else text


def _notification(*, user, **_):
    from communitygrid.notifications.models import Notification

    return Notification.objects.create(recipient=user, kind="test", subject=_marked(user, "通知"), body="",
                                       channel="in_app")


def _webhook(*, user, **_):
    from communitygrid.notifications.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(user=user, name=_marked(user, "接口"), url="http://127.0.0.1:9/hook",
                                          secret="canary-secret-value")


def _node_change(*, grid, **_):
    from communitygrid.geo.models import NodeChange

    # The grid map is not personal data: no marker, but a change out of scope must stay unchanged.
    change = NodeChange.objects.create(kind=NodeChange.Kind.REDRAW, note=f"redraw of {grid.code}")
    change.created.add(grid)
    return change


def _case(*, grid, building, user, users, **_):
    from django.utils import timezone

    from communitygrid.accounts.models import Department
    from communitygrid.cases.models import Case, Category, Status

    now = timezone.now()
    # The canary case is being handled, so that most actions are allowed from its state and
    # only the scope can refuse them. It is another department's case: a department's staff
    # must not reach it (their lists and searches included); the case in scope is their own
    # department's.
    canary = _is_canary(user)
    department = users[Role.DEPARTMENT_STAFF].department
    if canary:
        department = Department.objects.create(code="WALK-OTHER", name="另一部门", kind=department.kind,
                                               jurisdiction=department.jurisdiction)
    return Case.objects.create(department=department,
        category=Category.objects.filter(parent__isnull=False).order_by("pk").first(), tier="general", channel="web",
        grid=grid, building=building, lon=building.lon, lat=building.lat, submitted_by=user,
        assignee=user if canary else None, reporter=None if canary else user,
        status=Status.IN_PROGRESS if canary else Status.SUBMITTED, accepted_at=now if canary else None,
        description=_marked(user, "楼道堆物"), caller_name=MARKER if canary else "",
        caller_phone="17755554321" if canary else "17744443210", resolve_by=now + dt.timedelta(days=5),
    )


def _case_event(*, user, records, **_):
    from communitygrid.cases.models import CaseEvent

    case = records[apps.get_model("cases.case")]
    return CaseEvent.objects.create(case=case, actor=user, actor_role=user.role, action="submit", from_status="",
                                    to_status=case.status, note=_marked(user, "现场情况说明"))


def png_with_text(text: str) -> bytes:
    """A 1×1 grey PNG carrying ``text`` in an iTXt chunk: a download of it shows the marker."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00" + text.encode()) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + chunk(b"IEND", b""))


def _attachment(*, user, records, **_):
    from django.core.files.base import ContentFile

    from communitygrid.cases.models import Attachment

    content = png_with_text(_marked(user, "现场照片"))
    event = records[apps.get_model("cases.caseevent")]
    return Attachment.objects.create(
        case=event.case, event=event, file=ContentFile(content, name=f"{user.username}.png"),
        name=_marked(user, "现场照片.png"), content_type="image/png", size=len(content), uploaded_by=user,
    )


def _case_task(*, user, users, records, **_):
    from django.utils import timezone

    from communitygrid.cases.models import CaseTask

    # In scope, the department's joint task puts the case in the department staff's scope too.
    department = None if _is_canary(user) else users[Role.DEPARTMENT_STAFF].department
    return CaseTask.objects.create(
        case=records[apps.get_model("cases.case")], assignee=user if _is_canary(user) else None, department=department,
        description=_marked(user, "联动清理"), due_at=timezone.now() + dt.timedelta(days=3), created_by=user,
    )


def _case_notice(*, user, records, **_):
    from communitygrid.cases.models import CaseNotice

    return CaseNotice.objects.create(event=records[apps.get_model("cases.caseevent")], recipient=user,
                                     kind="case_assigned", params={"note": _marked(user, "待发通知")})


def _api_key(*, grid, user, **_):
    from communitygrid.apikeys.models import Organisation, Scope
    from communitygrid.apikeys.services import apikey_create

    organisation, _created = Organisation.objects.get_or_create(code="walk-org", defaults={"name": "接入单位"})
    return apikey_create(organisation=organisation, name=_marked(user, "对接密钥"), scopes=list(Scope.values),
                         nodes=[grid], actor=None).key


def _api_key_use(*, user, records, **_):
    from django.utils import timezone

    from communitygrid.apikeys.models import ApiKeyUse

    return ApiKeyUse.objects.create(key=records[apps.get_model("apikeys.apikey")], at=timezone.now(), method="GET",
                                    path="/" + _marked(user, "请求路径"), status=200)


def _open311_request(*, user, records, **_):
    from communitygrid.open311.models import Open311Request

    key = records[apps.get_model("apikeys.apikey")]
    return Open311Request.objects.create(case=records[apps.get_model("cases.case")], key=key,
                                         token=("c" if _is_canary(user) else "i") * 32,
                                         address_string=_marked(user, "幸福路 8 号"), account_id="acc")


def _visit(*, grid, person, household, user, users, **_):
    from django.utils import timezone

    from communitygrid.patrols.models import Visit, VisitPerson

    # Ended, with notes and a person seen, so that its page has something to leak; in scope it
    # is the grid worker's (the resident's account makes no visits).
    worker = user if _is_canary(user) else users[Role.GRID_WORKER]
    start = timezone.now() - dt.timedelta(hours=2)
    visit = Visit.objects.create(kind=Visit.Kind.HOME, worker=worker, grid=grid, household=household, started_at=start,
                                 ended_at=start + dt.timedelta(minutes=30), outcome=Visit.Outcome.FOLLOW_UP,
                                 notes=_marked(user, "走访记录"))
    VisitPerson.objects.create(visit=visit, person=person)
    return visit


def _binding_request(*, person, user, **_):
    from communitygrid.accounts.models import BindingRequest, ResidentPhone
    from communitygrid.privacy import crypto

    # A pending claim on the record, by an account of its own (no record yet), so that an approval
    # would link it. The claimed name differs from the record's: the walk's plaintext check must not
    # take the record's plain name for a leaked claimed name.
    canary = _is_canary(user)
    claimant = make_user(Role.RESIDENT, username="canary-claimant" if canary else "walk-claimant")
    ResidentPhone.objects.create(user=claimant, phone="17733337654" if canary else "17722220101")
    return BindingRequest.objects.create(user=claimant, claimed_name=_marked(user, "认领人"), person=person,
                                         id_number_bidx=crypto.blind_index("id_number", person.id_number.reveal()))


# Records of further models, built for the canary grid and for the in-scope world alike, in this
# order: label → builder(grid=, person=, household=, building=, user=, records=, users=) → instance,
# where ``records`` holds what was built before (a case's events need the case).
CANARIES: dict[str, Callable[..., models.Model]] = {
    "notifications.notification": _notification,
    "notifications.webhookendpoint": _webhook,
    "geo.nodechange": _node_change,
    "cases.case": _case,
    "cases.caseevent": _case_event,
    "cases.attachment": _attachment,
    "cases.casetask": _case_task,
    "cases.casenotice": _case_notice,
    "apikeys.apikey": _api_key,
    "apikeys.apikeyuse": _api_key_use,
    "open311.open311request": _open311_request,
    "patrols.visit": _visit,
    "accounts.bindingrequest": _binding_request,
}


def _sensitive_strings(instance: models.Model) -> tuple[list[str], list[str]]:
    plain, masked = [], []
    for f in instance._meta.concrete_fields:
        if isinstance(f, EncryptedField):
            value = f.value_from_object(instance)
            if value is not None and value.reveal():
                plain.append(value.reveal())
                shown = mask(f.kind, value.reveal())
                if shown.strip("*"):  # an all-stars mask says nothing about whose it is
                    masked.append(shown)
    return plain, masked


def _all_plaintexts() -> list[str]:
    values = []
    for model in models_with_encrypted_fields():
        for instance in model._base_manager.all():
            values += _sensitive_strings(instance)[0]
    return sorted(set(values))


def build_world() -> World:
    city = build_city()
    for grid in city.grids:
        make_household(grid)
    users = role_users(city)
    for role in (Role.DISTRICT_STAFF, Role.LEADER):
        users[role].scope_nodes.set([city.streets[0]])
    canary, canary_grid = _canary_records(city, users)
    inside = _inside_records(city, users)
    person = canary[Person]
    needles = [MARKER, str(person)]
    for instance in canary.values():  # every sensitive value of every canary record, plain and masked
        plain, masked = _sensitive_strings(instance)
        needles += plain + masked
    neighbour_household = make_household(city.grids[0], members=0)
    neighbour = _person(city.grids[0], neighbour_household, f"{NEIGHBOUR}者", seq=555, region="330106",
                        phone="18611112222")
    n_plain, n_masked = _sensitive_strings(neighbour)
    world = World(city=city, users=users, canary=canary, inside=inside, canary_grid=canary_grid,
                  needles=sorted(set(needles)), neighbour_needles=[NEIGHBOUR, *n_plain, *n_masked],
                  plaintexts=_all_plaintexts())
    world.api_key = _walk_api_key(city)
    world.baseline = snapshot(world)
    return world


def _walk_api_key(city) -> str:
    from communitygrid.apikeys.models import Organisation, Scope
    from communitygrid.apikeys.services import apikey_create

    organisation = Organisation.objects.create(code="walk-key-holder", name="对接系统")
    return apikey_create(organisation=organisation, name="walk", scopes=list(Scope.values), nodes=[city.streets[0]],
                         rate_limit=100_000, actor=None).plaintext


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each
    test runs in a savepoint inside it (pytest-django's ``db``), so tests stay independent."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            world = build_world()
            try:
                yield world
            finally:
                _delete_stored_files(world)
                transaction.set_rollback(True)


def _delete_stored_files(world: World) -> None:
    """The rollback forgets the records; the files they stored in the test data dir go with them."""
    for instance in [*world.canary.values(), *world.inside.values()]:
        for f in instance._meta.concrete_fields:
            if isinstance(f, models.FileField) and getattr(instance, f.name):
                getattr(instance, f.name).delete(save=False)


# --- Filling path parameters ------------------------------------------------------------

MODEL_PARAMS = {
    # parameter name → model label, for names that do not say the model themselves.
    "grid_id": "geo.node",
    "node_id": "geo.node",
    "parent_id": "geo.node",
    "recipient_id": "accounts.user",
    "endpoint_id": "notifications.webhookendpoint",
    "delivery_id": "notifications.notification",
    "service_request_id": "cases.case",
}
# Parameters that name a record by another field than its id: parameter → (model label, field).
FIELD_PARAMS = {"token_id": ("open311.open311request", "token")}
CODE_PARAMS = {"code", "node_code", "parent_code"}


def _case_actions() -> list[str]:
    from communitygrid.cases import api, states

    # Every action the endpoint takes, and those of the state machine it must refuse (the sweep's).
    return sorted(set(api.ACTIONS) | set(states.TRANSITIONS))


def _insight_figures() -> list[str]:
    from communitygrid.insights.selectors import FIGURES

    return sorted(FIGURES)


# Parameters that name no record but one of a set of words: (route, parameter) → every value the
# endpoint accepts, read from the app's own code, so each is tried (and a new one the day it is added).
def _workbench_actions() -> list[str]:
    from communitygrid.cases import states
    from communitygrid.workbench import actions

    return sorted(set(actions.ACTIONS) | set(states.TRANSITIONS))


WORD_PARAMS: dict[tuple[str, str], Callable[[], list[str]]] = {
    ("api/v1/cases/<case_id>/actions/<action>", "action"): _case_actions,
    ("workbench/cases/<int:case_id>/act/<str:action>", "action"): _workbench_actions,
    ("api/v1/insights/figures/<name>", "name"): _insight_figures,
}
# Open311's format suffix: every route under open311/ is walked in both formats.
OPEN311_FORMATS = ("json", "xml")


def _model_named(name: str) -> type[models.Model] | None:
    if name in MODEL_PARAMS:
        return apps.get_model(MODEL_PARAMS[name])
    candidates = [m for m in apps.get_models() if m._meta.model_name == name.replace("_", "")]
    return candidates[0] if len(candidates) == 1 else None


def _model_from_segment(route: Route, param: str) -> type[models.Model] | None:
    """``persons/<int:pk>`` → Person: the literal segment before the parameter, singular."""
    text = route.text
    match = re.search(rf"<(?:[^>:]+:)?{re.escape(param)}>", text)
    before = text[: match.start()] if match else text
    segments = [s for s in re.split(r"<[^>]*>|/", before) if s]
    if not segments:
        return None
    word = segments[-1].replace("-", "").replace("_", "")
    for candidate in (word, word[:-1], word[:-2]):
        model = _model_named(candidate)
        if model is not None:
            return model
    return None


def _param_model(route: Route, param: str) -> type[models.Model] | None:
    if route.admin_model is not None and param in {"object_id", "id"}:
        return route.admin_model
    if param in MODEL_PARAMS:
        return apps.get_model(MODEL_PARAMS[param])
    for suffix in ("_id", "_pk"):
        if param.endswith(suffix):
            model = _model_named(param[: -len(suffix)])
            if model is not None:
                return model
    view_class = getattr(route.callback, "view_class", None)
    if param in {"pk", "id", "object_id"} and getattr(view_class, "model", None) is not None:
        return view_class.model
    return _model_from_segment(route, param)


def _fill_value(route: Route, param: str, world: World, *, canary: bool, params: dict) -> str:
    if param in FIELD_PARAMS:
        label, field_name = FIELD_PARAMS[param]
        return str(getattr(world.record(apps.get_model(label), canary=canary), field_name))
    if param == "content_type_id":
        return str(ContentType.objects.get_for_model(Person).pk)
    if route.callback.__name__ == "view_on_site" or (param == "object_id" and "content_type_id" in params):
        return str(world.record(Person, canary=canary).pk)
    level = param[: -len("_code")] if param.endswith("_code") else None
    if level in Level.values:
        # <community_code> → the community above the canary (or in-scope) grid, and so on.
        grid = world.record(Node, canary=canary)
        return next(node.code for node in grid.ancestors() if node.level == level)
    if param in CODE_PARAMS or param.endswith("_code"):
        model = _model_from_segment(route, param)
        if model is None or not any(f.name == "code" for f in model._meta.fields):
            model = Node
        record = world.record(model, canary=canary)
        return record.code if record is not None else "NO-SUCH-CODE"
    model = _param_model(route, param)
    if model is None:
        raise Unfillable(
            f"cannot tell which record the parameter <{param}> of {route.text!r} refers to: name it after the model "
            f"(<person_id>, <household_id>…) or add it to MODEL_PARAMS in tests/test_url_scope_walk.py "
            f"(to WORD_PARAMS, with every value the endpoint accepts, if it names no record)"
        )
    record = world.record(model, canary=canary)
    return str(record.pk) if record is not None else "2147483646"


def _fill_values(route: Route, param: str, world: World, *, canary: bool, params: dict) -> list[str]:
    if param == "fmt" and route.text.startswith("open311/"):
        return list(OPEN311_FORMATS)
    words = WORD_PARAMS.get((route.text, param))
    if words is not None:
        return words()
    return [_fill_value(route, param, world, canary=canary, params=params)]


def _regex_choices(pattern: RegexPattern) -> list[str]:
    """Concrete texts for a regex pattern: alternations of literals, or a catch-all."""
    regex = pattern.regex.pattern.lstrip("^").rstrip("$")
    groups = list(re.finditer(r"\(\?P<(\w+)>([^()]*)\)", regex))
    if not groups:
        literal = re.sub(r"\\(.)", r"\1", regex)
        if re.escape(literal) == regex or not set(regex) & set("[]()*+?|{}\\."):
            return [literal]
        raise Unfillable(f"cannot fill the regex pattern {pattern.regex.pattern!r}")
    (group,) = groups  # the admin's two regexes have one group each
    body = group[2]
    if body in {".*", ".+"}:
        values = ["no-such-page/"]
    elif re.fullmatch(r"[\w|]+", body):
        values = body.split("|")
    else:
        raise Unfillable(f"cannot fill the group {group[1]!r} of the regex pattern {pattern.regex.pattern!r}")
    return [regex[: group.start()] + value + regex[group.end():] for value in values]


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def concrete_urls(route: Route, world: World) -> list[tuple[str, bool]]:
    """(url, is_canary_variant) pairs: one per variant of parameters (none: one, not canary)."""
    has_params = any(ROUTE_PARAM.search(str(p)) for p in route.chain if isinstance(p, RoutePattern))
    variants = [True, False] if has_params else [False]
    urls = []
    for canary in variants:
        prefixes = ["/"]
        for pattern in route.chain:
            if isinstance(pattern, RegexPattern):
                texts = _regex_choices(pattern)
            elif isinstance(pattern, RoutePattern):
                params: dict[str, list[str]] = {}
                for match in ROUTE_PARAM.finditer(str(pattern)):
                    params[match["name"]] = []
                for name in params:
                    params[name] = _fill_values(route, name, world, canary=canary, params=params)
                texts = [ROUTE_PARAM.sub(lambda m: dict(zip(params, values))[m["name"]], str(pattern))
                         for values in itertools.product(*params.values())]
            else:
                raise Unfillable(f"unknown pattern type {type(pattern).__name__} in {route.text!r}")
            prefixes = [prefix + text for prefix in prefixes for text in texts]
        for url in prefixes:
            match = resolve(urllib.parse.urlsplit(url).path)
            if match.func is not route.callback:
                raise Unfillable(f"the filled URL {url} of {route.text!r} resolves to another view ({match.route!r})")
            urls.append((url, canary and has_params))
    return urls


# --- Requests and checks ----------------------------------------------------------------

def body_text(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    texts = [raw.decode("utf-8", "replace")]
    if raw[:2] == b"PK":  # XLSX / ZIP export: look inside every member
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        try:
            texts.append(json.dumps(json.loads(raw), ensure_ascii=False))
        except ValueError:
            pass
    joined = "\n".join(texts)
    return joined + "\n" + urllib.parse.unquote(joined)


def leaked(text: str, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle and needle in text]


def search_query(world: World) -> dict:
    """Search terms that find the canary (exact blind-index matches in other spellings, a
    name prefix) without being needles themselves, so a page that echoes them is no leak."""
    person = world.canary[Person]
    phone = person.phone.reveal()
    id_number = person.id_number.reveal()
    spaced_id = f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
    prefix = MARKER[:-1]
    return {"q": prefix, "search": prefix, "name": prefix, "phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}",
            "id_number": spaced_id, "grid": world.canary_grid.code, "code": world.canary_grid.code,
            # The cockpit's area filter, and the figure whose cases a list shows.
            "node": world.canary_grid.code, "measure": "submitted"}


def write_payload(route: Route, world: World) -> dict:
    """An obvious edit aimed at the canary, in every field name an endpoint is likely to take."""
    canary = world.canary
    target_model = route.admin_model or Person
    target = canary.get(target_model) or canary[Person]
    return {
        "name": "篡改", "display_name": "篡改", "note": "篡改", "subject": "篡改", "title": "篡改", "description": "篡改",
        "phone": "13000000000", "id_number": id_number_for(dt.date(1990, 1, 1), 1), "address": "篡改路1号",
        "grid": canary[Node].pk, "grid_id": canary[Node].pk, "grid_code": canary[Node].code, "code": canary[Node].code,
        "person": canary[Person].pk, "person_id": canary[Person].pk, "household": canary[Household].pk,
        "household_id": canary[Household].pk, "building": canary[Building].pk, "building_id": canary[Building].pk,
        "ids": [canary[Person].pk], "_selected_action": [target.pk], "action": "delete_selected", "post": "yes",
        "purpose": "越界读取测试目的说明", "fields": ["phone", "id_number"], "is_active": "", "role": Role.ADMIN,
        "scope_nodes": [canary[Node].pk], "username": "canary-worker", "password": "wrong-password",
        "password1": "Changed-pass-12345", "password2": "Changed-pass-12345", "usable_password": "true",
        "new_password1": "Changed-pass-12345", "new_password2": "Changed-pass-12345", "old_password": "wrong",
        **_case_payload(world),
    }


def _case_payload(world: World) -> dict:
    """What the cases API takes: a submission for the canary resident, every action's and the rating's fields."""
    Case, CaseTask = apps.get_model("cases.case"), apps.get_model("cases.casetask")
    canary = world.canary
    return {
        "category": canary[Case].category.code, "on_behalf_of": canary[Person].account.pk, "reason": "篡改",
        "redirect": "篡改", "result": "篡改", "comment": "篡改", "assignee_id": canary[User].pk,
        "department_id": world.users[Role.DEPARTMENT_STAFF].department_id, "into_id": world.inside[Case].pk,
        "task_id": canary[CaseTask].pk, "due_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat(),
        "solved": False, "rating": 1,
    }


def _row_state(instance: models.Model) -> dict | None:
    fresh = type(instance)._base_manager.filter(pk=instance.pk).first()
    if fresh is None:
        return None
    state = {}
    for f in fresh._meta.concrete_fields:
        value = f.value_from_object(fresh)
        # Compare ciphertexts: any rewrite of a sensitive value is a change, no decryption needed.
        state[f.name] = value.token if isinstance(value, Sensitive) else value
    for f in fresh._meta.many_to_many:
        state[f.name] = sorted(getattr(fresh, f.name).values_list("pk", flat=True))
    return state


def snapshot(world: World) -> dict:
    grid = world.canary_grid
    state = {model._meta.label: _row_state(instance) for model, instance in world.canary.items()}
    for model in apps.get_models():
        grid_field = next((f for f in model._meta.fields if f.name == "grid" and f.is_relation), None)
        if grid_field is not None:
            state[f"{model._meta.label} rows in the canary grid"] = model._base_manager.filter(grid=grid).count()
    about_canary = Q(subject_grid=grid)
    for model, instance in world.canary.items():
        about_canary |= Q(subject_type=model._meta.label_lower, subject_id=instance.pk)
    state["access log entries about canary records"] = AccessLog.objects.filter(about_canary).count()
    for model, instance in world.canary.items():
        # A user's rows include the sign-in log any attempt on their name writes; a node's are counted above.
        if model in (User, Node):
            continue
        for relation in model._meta.related_objects:
            if relation.one_to_many or relation.one_to_one:
                rows = relation.related_model._base_manager.filter(**{relation.field.name: instance.pk}).count()
                state[f"{relation.related_model._meta.label} rows of the canary {model._meta.label}"] = rows
    from communitygrid.notifications.models import Notification

    # The outbox keeps its case as a plain id, no foreign key.
    state["notifications about the canary case"] = Notification.objects.filter(
        case_id=world.canary[apps.get_model("cases.case")].pk).count()
    state["users bound to the canary grid"] = User.objects.filter(scope_nodes=grid).count()
    return state


def sign_in(client, world: World, role: str) -> None:
    client.logout()
    client.defaults.pop("HTTP_X_API_KEY", None)
    if role == API_KEY:
        client.defaults["HTTP_X_API_KEY"] = world.api_key
    elif role != ANONYMOUS:
        client.force_login(world.users[role])


def _cases(role_filter: Callable[[str], bool] = lambda role: True):
    return [pytest.param(role, route, id=f"{role}-{route.text}") for role in ROLES if role_filter(role)
            for route in ROUTES]


def _fill_or_fail(route: Route, world: World) -> list[tuple[str, bool]]:
    try:
        return concrete_urls(route, world)
    except Unfillable as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


class WriteWatch:
    """Notes the tables a request wrote to, so the canary snapshot is compared only when
    something was written (each test starts from the same rolled-back world)."""

    WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
    UNRELATED = {"django_session"}

    def __init__(self):
        self.tables: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        match = self.WRITE.match(sql)
        if match:
            self.tables.add(match[1])
        return execute(sql, params, many, context)

    def request(self, send: Callable[[], Any]):
        self.tables.clear()
        with connection.execute_wrapper(self):
            return send()

    @property
    def wrote(self) -> bool:
        return bool(self.tables - self.UNRELATED)


def assert_canary_unchanged(world: World, what: str) -> None:
    after = snapshot(world)
    changed = {k: (world.baseline[k], after.get(k)) for k in world.baseline if world.baseline[k] != after.get(k)}
    assert not changed, f"{what} changed records outside the scope: {changed}"


@pytest.mark.parametrize(("role", "route"), _cases())
def test_url_shows_and_changes_nothing_outside_the_scope(world, db, client, role, route):
    urls = _fill_or_fail(route, world)
    exempt = role == Role.ADMIN
    needles = [] if exempt else world.needles + (world.neighbour_needles if role == Role.RESIDENT else [])
    ninja = route.ninja_methods
    watch = WriteWatch()
    sign_in(client, world, role)
    for url, _canary in urls:
        for query in ({}, search_query(world)):
            response = watch.request(lambda: client.get(url, query))
            shown = f"GET {url}{'?' + urllib.parse.urlencode(query) if query else ''} as {role}"
            assert response.status_code < 500, f"{shown}: {response.status_code}"
            found = leaked(body_text(response), needles)
            assert not found, f"{shown} shows records outside the scope: {found}"
            if watch.wrote and not exempt:
                assert_canary_unchanged(world, shown)

    write_methods = sorted((ninja or set()) - {"GET"}) if ninja is not None else WRITE_METHODS_OF_DJANGO_VIEWS
    payload = write_payload(route, world)
    for url, canary in urls:
        if not canary and len(urls) > 1:
            continue  # writes are aimed at the canary; the in-scope variant was only read
        for method in write_methods:
            if ninja is not None:
                body = json.dumps(payload)
                response = watch.request(lambda: client.generic(method, url, body, content_type="application/json"))
            else:
                response = watch.request(lambda: client.post(url, payload))
            assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"
            if not exempt:
                found = leaked(body_text(response), needles)
                assert not found, f"{method} {url} as {role} shows records outside the scope: {found}"
                if watch.wrote:
                    assert_canary_unchanged(world, f"{method} {url} as {role}")
            sign_in(client, world, role)  # a write may have signed the client out


# The administrator sees every record, a grid worker the records of a grid, the resident their own.
MASKING_ROLES = {Role.ADMIN, Role.GRID_WORKER, Role.RESIDENT, API_KEY}


@pytest.mark.parametrize(("role", "route"), _cases(lambda role: role in MASKING_ROLES))
def test_pages_show_sensitive_values_only_masked(world, db, client, role, route):
    """No GET shows a plaintext ID number, phone, address or health note of anyone: even
    inside the scope, even to the administrator, unmasking is a POST with a purpose."""
    urls = _fill_or_fail(route, world)
    sign_in(client, world, role)
    for url, _canary in urls:
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} as {role}: {response.status_code}"
        found = leaked(body_text(response), world.plaintexts)
        assert not found, f"GET {url} as {role} shows unmasked sensitive values: {found}"


def test_the_walk_covers_the_routes_everyone_depends_on():
    texts = {route.text for route in ROUTES}
    assert "admin/" in texts and "accounts/login/" in texts and "privacy/access-log/" in texts
    assert any(text.startswith("api/") for text in texts)
    assert any(route.admin_model is AccessLog for route in ROUTES)


def test_an_unknown_parameter_fails_naming_the_pattern(world, db):
    fake = Route((RoutePattern("things/<int:gizmo>/"),), lambda request, gizmo: None, None)
    with pytest.raises(Unfillable, match="things/<int:gizmo>/"):
        _fill_value(fake, "gizmo", world, canary=True, params={})


def test_a_department_lists_its_own_case_and_never_the_other_department_s(world, db, client):
    """The canary case is another department's: the walk's department staff list and search
    their department's case (so the walk reads a list with rows) and never the canary."""
    Case = apps.get_model("cases.case")
    inside, canary = world.inside[Case], world.canary[Case]
    clerk = world.users[Role.DEPARTMENT_STAFF]
    assert inside.department_id == clerk.department_id and canary.department_id not in (None, clerk.department_id)
    sign_in(client, world, Role.DEPARTMENT_STAFF)
    for query in ({}, {"q": f"#{canary.pk}"}, {"q": MARKER[:-1]}, {"status": canary.status}):
        body = client.get("/workbench/cases/", query).content.decode()
        assert f'href="/workbench/cases/{canary.pk}/"' not in body, query
    assert f'href="/workbench/cases/{inside.pk}/"' in client.get("/workbench/cases/").content.decode()
    assert client.get(f"/workbench/cases/{canary.pk}/").status_code == 404


def test_the_canary_is_really_outside_every_scope_but_the_admins(world, db):
    from communitygrid.privacy import scoping

    person = world.canary[Person]
    for role, user in world.users.items():
        visible = scoping.in_scope(person, user, "view")
        assert visible == (role == Role.ADMIN), role
    assert scoping.in_scope(world.inside[Person], world.users[Role.GRID_WORKER], "view")


def test_the_leak_detector_sees_through_json_escapes_zip_files_and_url_encoding(world, db):
    from django.http import HttpResponse, JsonResponse

    person = world.canary[Person]
    assert leaked(body_text(HttpResponse(f"<td>{person.phone}</td>")), world.needles) == [str(person.phone)]
    assert MARKER in leaked(body_text(JsonResponse({"name": person.name})), world.needles)  # "\\u91d1…"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<t>{person.id_number.reveal()}</t>")
    assert leaked(body_text(HttpResponse(buffer.getvalue())), world.needles) == [person.id_number.reveal()]
    link = "/search?q=" + urllib.parse.quote(MARKER)
    assert leaked(body_text(HttpResponse(f'<a href="{link}">')), world.needles) == [MARKER]
    assert not leaked(body_text(HttpResponse("<td>139****0000</td>")), world.needles)
    echoed = " ".join(search_query(world).values()) + urllib.parse.urlencode(search_query(world))
    assert not leaked(body_text(HttpResponse(echoed)), world.needles)  # a page may repeat the search


def test_the_snapshot_notices_a_change_to_a_canary_record(world, db):
    assert snapshot(world) == world.baseline
    watch = WriteWatch()
    watch.request(lambda: Person.objects.filter(pk=world.canary[Person].pk).update(phone_bidx="x" * 32))
    assert watch.wrote and watch.tables == {"registry_person"}
    with pytest.raises(AssertionError, match="phone_bidx"):
        assert_canary_unchanged(world, "test")


def test_the_canary_account_link_is_watched_and_the_unlink_is_aimed_at_it(world, db):
    """The unlink endpoints are walked with a reason (a 400 for a missing one would prove nothing),
    at the canary record, which has an account linked; removing that link shows in the snapshot."""
    person = world.canary[Person]
    assert User.objects.filter(person=person).exists()
    route = next(r for r in ROUTES if r.text == "workbench/persons/<int:person_id>/unlink")
    assert write_payload(route, world)["reason"]
    assert f"/workbench/persons/{person.pk}/unlink" in {url for url, canary in concrete_urls(route, world) if canary}
    assert any(r.text == "portal/link/unlink" for r in ROUTES)
    User.objects.filter(person=person).update(person=None)
    with pytest.raises(AssertionError, match="rows of the canary registry.Person"):
        assert_canary_unchanged(world, "test")


def test_the_canary_case_is_watched_for_every_action(world, db):
    Case = apps.get_model("cases.case")
    case = world.canary[Case]
    for needle in (case.description, case.caller_phone.reveal(), str(case.caller_phone)):
        assert leaked(needle, world.needles), needle
    assert "cases.CaseEvent rows of the canary cases.Case" in world.baseline
    route = next(r for r in ROUTES if r.text == "api/v1/cases/<case_id>/actions/<action>")
    posted = {url.rsplit("/", 1)[1] for url, canary in concrete_urls(route, world) if canary}
    from communitygrid.cases import api

    assert set(api.ACTIONS) <= posted
    assert all(f"/{case.pk}/actions/" in url for url, canary in concrete_urls(route, world) if canary)


def test_the_walk_key_sees_inside_its_street_and_not_the_canary(world, db, client):
    case = apps.get_model("cases.case")
    inside, canary = world.record(case, canary=False), world.record(case, canary=True)
    sign_in(client, world, API_KEY)
    assert client.get(f"/api/v1/cases/{inside.pk}").status_code == 200
    assert client.get(f"/api/v1/cases/{canary.pk}").status_code == 404
    shown = client.get(f"/open311/v2/requests/{inside.pk}.json").json()
    assert shown[0]["description"] == inside.description  # the full view: the key really was used
    assert client.get(f"/open311/v2/requests/{canary.pk}.json").status_code == 404
