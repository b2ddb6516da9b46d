"""Writes the demo city to the database: hierarchy, buildings, households, persons, accounts.

Everything goes in one transaction (a failed build leaves nothing half-made) and rows are
written with ``bulk_create`` in batches: 120,000 persons one ``save()`` at a time would take
minutes. ``bulk_create`` still runs each field's ``pre_save``, so EncryptedField encrypts and
fills its blind index exactly as ``save()`` does.
"""
from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import random
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from communitygrid.accounts.models import Department, Role, User
from communitygrid.accounts.services import binding_errors
from communitygrid.apikeys.models import Scope
from communitygrid.core.demo import names
from communitygrid.core.demo.geography import DISTRICT, SEED, DemoGeography, plan_geography, points_inside
from communitygrid.core.demo.population import (
    ADVANCED_AGE,
    CHILD_IN_DIFFICULTY,
    DISABLED,
    ELDERLY_ALONE,
    EMPTY_NEST,
    LOW_INCOME,
    MIGRANT,
    VETERAN,
    HouseholdPlan,
    households_per_grid,
    plan_population,
)
from communitygrid.geo.models import Node
from communitygrid.geo.services import node_create
from communitygrid.privacy import crypto
from communitygrid.privacy.fields import Sensitive
from communitygrid.registry.models import Building, CareTag, Household, Person, PersonCareTag, Room, Unit

DEMO_PASSWORD = "grid-demo-2025"
# DEMO ONLY, published like DEMO_PASSWORD: an API key (scope open311) of the first street, so a
# newcomer can try the machine APIs. Only demo_city_build writes it; it has a generated key's
# shape and is verified by the same hash lookup as every other key.
DEMO_API_KEY = "cg_0311de00_DEMO_ONLY-not-a-secret-grid-2025"
DEMO_API_SCOPES = [Scope.OPEN311]
# A point (lat, long) inside the demo key's street, for the printed example request.
DEMO_API_POINT = (30.27570, 120.13316)
BATCH = 2000

# Fallback names for the care groups, should the registry's standard list not be installed.
CARE_TAGS = {
    ELDERLY_ALONE: ("独居老人", "Elderly living alone", False),
    EMPTY_NEST: ("空巢老人", "Empty-nest elderly", False),
    ADVANCED_AGE: ("高龄老人（80岁以上）", "Elderly aged 80 and over", False),
    DISABLED: ("残疾人", "Person with a disability", True),
    CHILD_IN_DIFFICULTY: ("困境儿童", "Child in difficulty", False),
    LOW_INCOME: ("低保对象", "Subsistence allowance (dibao)", False),
    MIGRANT: ("新市民（流动人口）", "Migrant / new citizen", False),
    VETERAN: ("退役军人", "Veteran", False),
}

DEPARTMENTS = [
    ("MH-MZ", "明湖区民政局", Department.Kind.CIVIL_AFFAIRS),
    ("MH-WJ", "明湖区卫生健康局", Department.Kind.HEALTH),
    ("MH-GA", "江州市公安局明湖分局", Department.Kind.POLICE),
    ("MH-CG", "明湖区城市管理局", Department.Kind.URBAN_MANAGEMENT),
    ("MH-ZJ", "明湖区住房和城乡建设局", Department.Kind.HOUSING),
    ("MH-WY", "江州安居物业服务有限公司", Department.Kind.PROPERTY),
    ("MH-SG", "明湖区阳光社会工作服务中心", Department.Kind.SOCIAL_ORG),
]

# (kind, floors, units per building (choices), rooms per floor, weight)
BUILDING_TYPES = (
    (Building.Kind.RESIDENTIAL, 6, (2, 3, 4), 2, 45),
    (Building.Kind.MIXED, 7, (2, 3), 2, 8),
    (Building.Kind.RESIDENTIAL, 11, (2,), 2, 20),
    (Building.Kind.RESIDENTIAL, 18, (2,), 4, 15),
    (Building.Kind.BUNGALOW, 2, (1,), 4, 12),
)
OCCUPANCY = 0.92  # share of flats with a registered household; the rest stand empty or are let out of record


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    sees: str


DEMO_ACCOUNTS = [
    DemoAccount(Role.RESIDENT, "demo-resident", _("their own record, household and requests")),
    DemoAccount(Role.GRID_WORKER, "demo-worker", _("one grid: workbench, patrols, people and households")),
    DemoAccount(Role.GRID_LEADER, "demo-gridleader", _("every grid of one community")),
    DemoAccount(Role.COMMUNITY_STAFF, "demo-community", _("one community")),
    DemoAccount(Role.STREET_STAFF, "demo-street", _("one street (read only)")),
    DemoAccount(Role.DISTRICT_STAFF, "demo-district", _("the whole district (read only)")),
    DemoAccount(Role.DEPARTMENT_STAFF, "demo-department", _("the cases sent to their department (civil affairs)")),
    DemoAccount(Role.LEADER, "demo-leader", _("the cockpit: district figures, no individual people")),
    DemoAccount(Role.ADMIN, "demo-admin", _("everything, and the back-office")),
]


@dataclass
class BuildReport:
    cases: int = 0
    nodes: int = 0
    buildings: int = 0
    households: int = 0
    persons: int = 0
    users: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


CASES_PER_RESIDENT_YEAR = 0.094


def demo_city_exists() -> bool:
    return Node.objects.filter(code=DISTRICT[0]).exists()


class _Stopwatch:
    def __init__(self, report: BuildReport, progress: Callable[[str], None]):
        self.report, self.progress, self.started = report, progress, time.perf_counter()

    def lap(self, stage: str, message: str) -> None:
        now = time.perf_counter()
        self.report.seconds[stage] = now - self.started
        self.started = now
        self.progress(gettext("%(message)s (%(seconds).1f s)") % {"message": message, "seconds": self.report.seconds[stage]})


@transaction.atomic
def demo_city_build(*, scale: float = 1.0, seed: int = SEED, today: dt.date | None = None,
                    progress: Callable[[str], None] = lambda message: None) -> BuildReport:
    """Create the demo district. ``scale`` shrinks the households per grid (tests use 0.05);
    the map and the accounts are the same at every scale."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], not {scale}")
    today = today or timezone.localdate()
    now = timezone.now()
    report = BuildReport()
    watch = _Stopwatch(report, progress)

    geography = plan_geography(seed)
    nodes = _write_hierarchy(geography)
    report.nodes = len(nodes)
    watch.lap("map", gettext("Map: %(areas)d areas, %(grids)d comprehensive grids")
              % {"areas": len(nodes), "grids": len(geography.grids)})

    grids = [nodes[area.code] for area in geography.grids]
    workers = _write_accounts(geography, nodes)
    _write_demo_key(nodes[geography.streets[0].code])
    report.users = User.objects.count()
    watch.lap("accounts", gettext("Accounts: %(users)d") % {"users": report.users})

    counts = households_per_grid(len(grids), seed=seed, scale=scale)
    population = plan_population(counts, seed=seed + 1, today=today)
    watch.lap("plan", gettext("Population planned: %(households)d households") % {"households": sum(counts)})

    with _PersonSecrets(population) as secrets:
        rooms = _write_buildings(geography, grids, counts, seed, report)
        watch.lap("buildings", gettext("Buildings: %(buildings)d, flats: %(flats)d")
                  % {"buildings": report.buildings, "flats": sum(len(r) for r in rooms)})
        _write_people(geography, grids, population, rooms, workers, secrets, now, report)
    watch.lap("people", gettext("Households: %(households)d, persons: %(persons)d")
              % {"households": report.households, "persons": report.persons})

    _link_resident(grids[0])

    # A year of case history at the field's rate: Shanghai's 2.36 million requests a year for
    # about 25 million people is ~0.094 per resident per year.
    from communitygrid.cases.demo import demo_history_build

    report.cases = demo_history_build(per_year=round(report.persons * CASES_PER_RESIDENT_YEAR), today=today)
    report.cases += _resident_requests()
    watch.lap("cases", gettext("Case history: %(cases)d cases over the past year") % {"cases": report.cases})

    from communitygrid.patrols.demo import demo_visits_build

    visits, issues = demo_visits_build(today=today)
    report.cases += issues
    watch.lap("visits", gettext("Patrols and home visits: %(visits)d over the past eight weeks") % {"visits": visits})

    # The cockpit reads rollups, not cases: build them once for the whole history.
    from communitygrid.insights.rollups import present_refresh, rollups_rebuild

    rollups_rebuild()
    present_refresh()
    watch.lap("rollups", gettext("Cockpit rollups built"))
    return report


def _write_hierarchy(geography: DemoGeography) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for area in geography.all_areas():
        nodes[area.code] = node_create(
            code=area.code, name=area.name, level=area.level, kind=area.kind,
            parent=nodes.get(area.parent_code), geometry=area.geojson,
        )
    return nodes


def _write_accounts(geography: DemoGeography, nodes: dict[str, Node]) -> dict[int, User]:
    """Staff for every level; the first of each role is the demo account with the known password.

    Passwords are hashed once: a million PBKDF2 rounds per account would cost a minute."""
    rng = random.Random(SEED)
    known = make_password(DEMO_PASSWORD)
    district = nodes[geography.district.code]
    departments = Department.objects.bulk_create(
        [Department(code=code, name=name, kind=kind, jurisdiction=district) for code, name, kind in DEPARTMENTS])
    demo_names = {account.role: account.username for account in DEMO_ACCOUNTS}
    users: list[User] = []
    scopes: list[tuple[int, Node]] = []

    def add(role: str, username: str, *, scope: list[Node] = (), department: Department | None = None,
            title: str = "") -> None:
        # The binding rules of accounts.services (which levels a role is bound to), checked here
        # because the demo writes its accounts in bulk rather than one user_create at a time.
        errors = binding_errors(role=role, scope_nodes=list(scope), department=department)
        if errors:
            raise ValueError(f"demo account {username}: {errors}")
        person_name = names.surname(rng) + names.given_name(rng, rng.choice("MF"), 1975 + rng.randrange(25))
        users.append(User(
            username=username, role=role, department=department,
            display_name=f"{person_name}（{title}）" if title else person_name,
            password=known if username == demo_names.get(role) else make_password(None),
            is_staff=role == Role.ADMIN,
        ))
        scopes.extend((len(users) - 1, node) for node in scope)

    def first(index: int, role: str, username: str) -> str:
        return demo_names[role] if index == 0 else username

    add(Role.RESIDENT, demo_names[Role.RESIDENT])
    for index, area in enumerate(geography.grids):
        add(Role.GRID_WORKER, first(index, Role.GRID_WORKER, f"worker-{area.code}"), scope=[nodes[area.code]])
    for index, area in enumerate(geography.communities):
        # A grid leader is bound to grids (accounts' rule): every grid of their community.
        grids = [nodes[grid.code] for grid in geography.grids if grid.parent_code == area.code]
        add(Role.GRID_LEADER, first(index, Role.GRID_LEADER, f"gridleader-{area.code}"), scope=grids)
        add(Role.COMMUNITY_STAFF, first(index, Role.COMMUNITY_STAFF, f"community-{area.code}"), scope=[nodes[area.code]])
    for index, area in enumerate(geography.streets):
        add(Role.STREET_STAFF, first(index, Role.STREET_STAFF, f"street-{area.code}"), scope=[nodes[area.code]])
    add(Role.DISTRICT_STAFF, demo_names[Role.DISTRICT_STAFF], scope=[district])
    for index, department in enumerate(departments):
        add(Role.DEPARTMENT_STAFF, first(index, Role.DEPARTMENT_STAFF, f"dept-{department.code.lower()}"),
            department=department, title=department.name)
    add(Role.LEADER, demo_names[Role.LEADER], scope=[district])
    add(Role.ADMIN, demo_names[Role.ADMIN])
    User.objects.bulk_create(users)
    User.scope_nodes.through.objects.bulk_create(
        [User.scope_nodes.through(user_id=users[i].pk, node_id=node.pk) for i, node in scopes])
    return {node.pk: users[i] for i, node in scopes if users[i].role == Role.GRID_WORKER}


def _write_demo_key(street: Node) -> None:
    from communitygrid.apikeys.models import Organisation
    from communitygrid.apikeys.services import apikey_create_published

    organisation = Organisation.objects.create(code="demo-only", name="DEMO ONLY 演示应用",
                                               contact="仅供演示，切勿用于生产环境")
    apikey_create_published(plaintext=DEMO_API_KEY, organisation=organisation, name="DEMO ONLY 公开演示密钥",
                            scopes=DEMO_API_SCOPES, nodes=[street])


def _write_buildings(geography: DemoGeography, grids: list[Node], counts: list[int], seed: int,
                     report: BuildReport) -> list[list[Room]]:
    """Buildings with units and flats inside each grid, enough flats for its households.

    Returns, per grid, the flats that households move into (shuffled, deterministic)."""
    street_of = {c.code: c.parent_code for c in geography.communities}
    roads = {s.code: names.ROADS[i * 8:(i + 1) * 8] for i, s in enumerate(geography.streets)}
    buildings: list[Building] = []
    layouts: list[tuple[int, int, int, int]] = []  # (grid index, floors, units, rooms per floor)
    for index, (area, grid, count) in enumerate(zip(geography.grids, grids, counts)):
        rng = random.Random(f"{seed}-{area.code}")
        needed = math.ceil(count / OCCUPANCY)
        plan = []
        while needed > 0:
            kind, floors, unit_choices, per_floor, _ = rng.choices(BUILDING_TYPES, weights=[t[-1] for t in BUILDING_TYPES])[0]
            units = rng.choice(unit_choices)
            plan.append((kind, floors, units, per_floor))
            needed -= floors * units * per_floor
        points = points_inside(area.polygon, len(plan), np.random.default_rng([seed, index]), margin=0.0002)
        compounds = [rng.choice(names.COMPOUND_STEMS) + rng.choice(names.COMPOUND_WORDS) for _ in range(1 + len(plan) // 8)]
        road_names = roads[street_of[area.parent_code]]
        for number, ((kind, floors, units, per_floor), (lon, lat)) in enumerate(zip(plan, points), start=1):
            compound = compounds[(number - 1) // 8]
            road = rng.choice(road_names)
            buildings.append(Building(
                code=f"{area.code}-B{number:03d}", name=f"{compound}{number}幢", kind=kind, floors=floors,
                address=f"{road}{rng.randint(1, 400)}号", lon=float(lon), lat=float(lat), grid=grid))
            layouts.append((index, floors, units, per_floor))
    Building.objects.bulk_create(buildings, batch_size=BATCH)
    report.buildings = len(buildings)

    units: list[Unit] = []
    unit_layouts: list[tuple[int, int, int]] = []
    for building, (index, floors, unit_count, per_floor) in zip(buildings, layouts):
        for u in range(1, unit_count + 1):
            units.append(Unit(building=building, number=str(u)))
            unit_layouts.append((index, floors, per_floor))
    Unit.objects.bulk_create(units, batch_size=BATCH)

    rooms: list[Room] = []
    owners: list[int] = []
    area_rng = random.Random(seed)
    for unit, (index, floors, per_floor) in zip(units, unit_layouts):
        for floor in range(1, floors + 1):
            for k in range(1, per_floor + 1):
                rooms.append(Room(unit=unit, number=f"{floor}{k:02d}", floor=floor,
                                  area_m2=Decimal(area_rng.randrange(4500, 14000)) / 100))
                owners.append(index)
    Room.objects.bulk_create(rooms, batch_size=BATCH)
    by_grid: list[list[Room]] = [[] for _ in grids]
    for room, index in zip(rooms, owners):
        by_grid[index].append(room)
    for index, grid_rooms in enumerate(by_grid):
        random.Random(f"{seed}-rooms-{index}").shuffle(grid_rooms)
    return by_grid


def _encrypt_chunk(values: list[str]) -> list[str]:
    return [crypto.encrypt(value) for value in values]


class _PersonSecrets:
    """The persons' sensitive values, encrypted by worker processes while this one writes buildings.

    Fernet encryption is most of the CPU time of making 120,000 persons; on two cores it runs
    beside the database work. The values come back as :class:`Sensitive` objects holding both
    token and plaintext, so the field stores the token and ``pre_save`` still fills the blind index.
    """

    FIELDS = ("id_number", "phone", "registered_address", "health_notes", "emergency_contact_phone")
    CHUNK = 10_000

    def __init__(self, population: list[list[HouseholdPlan]]):
        self.kinds = {name: Person._meta.get_field(name).kind for name in self.FIELDS}
        self.plain = [value for grid in population for household in grid for member in household.members
                      for value in (getattr(member, name) for name in self.FIELDS) if value]
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future] = []

    def __enter__(self) -> "_PersonSecrets":
        chunks = [self.plain[i:i + self.CHUNK] for i in range(0, len(self.plain), self.CHUNK)]
        if len(chunks) > 1 and "fork" in multiprocessing.get_all_start_methods():
            # fork: the workers inherit the loaded settings and keys and never touch the database.
            self.pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
            self.futures = [self.pool.submit(_encrypt_chunk, chunk) for chunk in chunks]
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def values(self, member) -> dict[str, Sensitive | str]:
        """The member's sensitive fields, in the order their plaintexts were queued."""
        return {name: self._next(name, value) if value else "" for name, value in
                ((name, getattr(member, name)) for name in self.FIELDS)}

    def _next(self, name: str, plain: str) -> Sensitive:
        if not hasattr(self, "_tokens"):
            self._tokens = iter([token for future in self.futures for token in future.result()]
                                if self.futures else _encrypt_chunk(self.plain))
        return Sensitive(self.kinds[name], token=next(self._tokens), plain=plain)


def _write_people(geography: DemoGeography, grids: list[Node], population: list[list[HouseholdPlan]],
                  rooms: list[list[Room]], workers: dict[int, User], secrets: _PersonSecrets, now: dt.datetime,
                  report: BuildReport) -> None:
    tags = _care_tags()
    street_name = {s.code: s.name for s in geography.streets}
    community = {c.code: c for c in geography.communities}
    prefix = f"{geography.city.name}{geography.district.name}"
    households: list[Household] = []
    for area, grid, plans, grid_rooms in zip(geography.grids, grids, population, rooms):
        parent = community[area.parent_code]
        place = f"{prefix}{street_name[parent.parent_code]}{parent.name}"
        worker_id = workers[grid.pk].pk
        for number, (plan, room) in enumerate(zip(plans, grid_rooms), start=1):
            verified_at = now - dt.timedelta(days=plan.verified_days_ago) if plan.verified_days_ago else None
            building = room.unit.building
            households.append(Household(
                code=f"H{area.code}{number:04d}", room_id=room.pk, grid_id=grid.pk, tenure=plan.tenure,
                address=f"{place}{building.address}{building.name}{room.unit.number}单元{room.number}室",
                last_verified_at=verified_at, last_verified_by_id=worker_id if verified_at else None,
            ))
    Household.objects.bulk_create(households, batch_size=BATCH)

    # Keys, not instances, for the foreign keys: 120,000 related-descriptor calls are seconds.
    persons: list[Person] = []
    links: list[tuple[int, str, str]] = []  # (person index, tag code, level)
    plans = (plan for grid_plans in population for plan in grid_plans)
    for household, plan in zip(households, plans):
        for member in plan.members:
            persons.append(Person(
                household_id=household.pk, grid_id=household.grid_id, name=member.name, gender=member.gender,
                birth_date=member.birth_date, household_role=member.household_role, residence=member.residence,
                employment=member.employment, employer=member.employer,
                emergency_contact_name=member.emergency_contact_name,
                last_verified_at=household.last_verified_at, last_verified_by_id=household.last_verified_by_id,
                **secrets.values(member),
            ))
            links.extend((len(persons) - 1, code, level) for code, level in member.tags)
    Person.objects.bulk_create(persons, batch_size=BATCH)
    PersonCareTag.objects.bulk_create(
        [PersonCareTag(person_id=persons[i].pk, tag_id=tags[code].pk, level=level) for i, code, level in links],
        batch_size=BATCH * 2)
    report.households, report.persons = len(households), len(persons)


def _care_tags() -> dict[str, CareTag]:
    tags = {}
    for code, (name, name_en, has_level) in CARE_TAGS.items():
        tags[code], _ = CareTag.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "has_level": has_level})
    return tags


# What the demo resident has asked for, each left at another step of its handling.
RESIDENT_REQUESTS = [
    ("repair_streetlight", "楼下路灯不亮好几天了，晚上出门不方便。", "closed"),
    ("elderly_meals", "老伴腿脚不便，想问问社区长者食堂能不能送餐上门。", "resolved"),
    ("env_noise", "隔壁装修每天中午也在电钻施工，影响老人午休。", "accepted"),
    ("elderly_visit", "想请网格员有空来家里坐坐，聊聊居家养老的事。", "assigned"),
]


def _resident_requests() -> int:
    """The demo resident's own requests, through the case services, so My requests has a story."""
    from communitygrid.cases import services
    from communitygrid.cases.models import Channel

    resident = User.objects.filter(username="demo-resident", person__household__isnull=False).first()
    if resident is None:
        return 0
    for code, description, state in RESIDENT_REQUESTS:
        case = services.case_submit(submitted_by=resident, channel=Channel.APP, category_code=code,
                                    description=description, at_home=True).case
        if state == "assigned" or case.assignee is None:
            continue
        services.case_accept(case=case, actor=case.assignee, note="马上过去看看。")
        if state == "accepted":
            continue
        services.case_resolve(case=case, actor=case.assignee, note="已处理好，请您确认。")
        if state == "closed":
            services.case_rate(case=case, actor=resident, solved=True, rating=5, comment="修好了，谢谢网格员！")
    # The resident can also sign in with the phone number on their record (one-time code).
    from communitygrid.accounts.models import ResidentPhone

    person = resident.person
    if person.phone and not ResidentPhone.objects.filter(phone_bidx=person.phone_bidx).exists():
        ResidentPhone.objects.create(user=resident, phone=person.phone, phone_bidx=person.phone_bidx)
    return len(RESIDENT_REQUESTS)


def _link_resident(grid: Node) -> None:
    """The demo resident heads an older couple's household (空巢) in the demo worker's grid."""
    heads = Person.objects.filter(grid=grid, household_role=Person.HouseholdRole.HEAD).order_by("id")
    head = heads.filter(tag_links__tag__code=EMPTY_NEST).first() or heads.first()
    User.objects.filter(username="demo-resident").update(person=head, display_name=head.name if head else "")
