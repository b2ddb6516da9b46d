"""Test data builders shared by every app's tests (real rows in the real database)."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from communitygrid.accounts.models import Department, Role, User
from communitygrid.geo.models import GridKind, Level, Node
from communitygrid.registry.models import Building, Household, Person, Room, Unit

_seq = itertools.count(1)

# A valid GB 11643 ID number generator for tests: region + birth date + sequence + checksum.
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_number_for(birth: dt.date, seq: int, region: str = "110105") -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    total = sum(int(ch) * w for ch, w in zip(body, _WEIGHTS))
    return body + _CHECK[total % 11]


def square(lon: float, lat: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


def make_node(*, code: str, name: str, level: str, parent: Node | None = None, geometry: dict | None = None,
              kind: str = GridKind.AREA) -> Node:
    from communitygrid.geo.services import node_create

    return node_create(code=code, name=name, level=level, parent=parent, geometry=geometry, kind=kind)


@dataclass
class City:
    """A tiny but complete hierarchy: 1 district, 2 streets, 2 communities each, 2 grids each.

    Grid squares are 0.01° wide and tile each community without gaps, so point-in-polygon
    answers are known exactly: grid ``G{s}{c}{g}`` covers lon 120+x…, lat 30+y….
    """

    district: Node
    streets: list[Node] = field(default_factory=list)
    communities: list[Node] = field(default_factory=list)
    grids: list[Node] = field(default_factory=list)


def build_city() -> City:
    city_node = make_node(code="C", name="测试市", level=Level.CITY, geometry=square(120.0, 30.0, 0.04))
    district = make_node(code="D", name="测试区", level=Level.DISTRICT, parent=city_node, geometry=square(120.0, 30.0, 0.04))
    city = City(district=district)
    for s in range(2):
        street = make_node(code=f"S{s}", name=f"街道{s}", level=Level.STREET, parent=district,
                           geometry={"type": "Polygon", "coordinates": [[[120.0 + 0.02 * s, 30.0], [120.02 + 0.02 * s, 30.0],
                                                                         [120.02 + 0.02 * s, 30.04], [120.0 + 0.02 * s, 30.04],
                                                                         [120.0 + 0.02 * s, 30.0]]]})
        city.streets.append(street)
        for c in range(2):
            lon0, lat0 = 120.0 + 0.02 * s, 30.0 + 0.02 * c
            community = make_node(code=f"S{s}C{c}", name=f"社区{s}{c}", level=Level.COMMUNITY, parent=street,
                                  geometry=square(lon0, lat0, 0.02))
            city.communities.append(community)
            for g in range(2):
                grid = make_node(code=f"S{s}C{c}G{g}", name=f"网格{s}{c}{g}", level=Level.GRID, parent=community,
                                 kind=GridKind.COMPREHENSIVE,
                                 geometry={"type": "Polygon", "coordinates": [[[lon0 + 0.01 * g, lat0], [lon0 + 0.01 * (g + 1), lat0],
                                                                               [lon0 + 0.01 * (g + 1), lat0 + 0.02], [lon0 + 0.01 * g, lat0 + 0.02],
                                                                               [lon0 + 0.01 * g, lat0]]]})
                city.grids.append(grid)
    return city


def make_user(role: str, *, scope: list[Node] | None = None, username: str | None = None,
              department: Department | None = None, person: Person | None = None) -> User:
    user = User.objects.create_user(
        username=username or f"{role}-{next(_seq)}", password="pw-for-tests-only", role=role,
        department=department, person=person, display_name=f"{role}",
    )
    if scope:
        user.scope_nodes.set(scope)
    return user


def make_household(grid: Node, *, members: int = 2, name_prefix: str = "居民", lon: float | None = None,
                   lat: float | None = None) -> Household:
    n = next(_seq)
    ring = grid.geometry["coordinates"][0] if grid.geometry else [[120.0, 30.0]]
    lon = lon if lon is not None else ring[0][0] + 0.001
    lat = lat if lat is not None else ring[0][1] + 0.001
    building = Building.objects.create(code=f"B{n}", name=f"{n}号楼", lon=lon, lat=lat, grid=grid)
    unit = Unit.objects.create(building=building, number="1")
    room = Room.objects.create(unit=unit, number=f"{n:03d}")
    household = Household.objects.create(code=f"H{n}", room=room, grid=grid, address=f"测试路{n}号{n}号楼1单元{n:03d}室")
    for m in range(members):
        birth = dt.date(1940 + (n + m) % 60, 1 + m % 12, 1 + n % 28)
        Person.objects.create(
            # GB 11643: the sequence number's last digit is odd for men, even for women.
            household=household, grid=grid, name=f"{name_prefix}{n}-{m}", gender="FM"[m % 2], birth_date=birth,
            # Unique however many households a test session makes: the region's last four digits
            # carry the thousands of the sequence, the phone its full value.
            id_number=id_number_for(birth, n * 10 + m, region=f"11{(n * 10 + m) // 1000 % 10000:04d}"),
            phone=f"13{n % 10**8:08d}{m % 10}",
            household_role=Person.HouseholdRole.HEAD if m == 0 else Person.HouseholdRole.SPOUSE,
        )
    return household


def role_users(city: City) -> dict[str, User]:
    """One user per role, each scoped to the first street's first community/grid as fits."""
    grid, community, street = city.grids[0], city.communities[0], city.streets[0]
    dept = Department.objects.create(code=f"DEP{next(_seq)}", name="民政局", kind=Department.Kind.CIVIL_AFFAIRS,
                                     jurisdiction=city.district)
    resident_person = Person.objects.filter(grid=grid).first()
    return {
        Role.RESIDENT: make_user(Role.RESIDENT, person=resident_person),
        Role.GRID_WORKER: make_user(Role.GRID_WORKER, scope=[grid]),
        Role.GRID_LEADER: make_user(Role.GRID_LEADER, scope=[grid]),
        Role.COMMUNITY_STAFF: make_user(Role.COMMUNITY_STAFF, scope=[community]),
        Role.STREET_STAFF: make_user(Role.STREET_STAFF, scope=[street]),
        Role.DISTRICT_STAFF: make_user(Role.DISTRICT_STAFF, scope=[city.district]),
        Role.DEPARTMENT_STAFF: make_user(Role.DEPARTMENT_STAFF, department=dept),
        Role.LEADER: make_user(Role.LEADER, scope=[city.district]),
        Role.ADMIN: make_user(Role.ADMIN),
    }


def statements_of(action) -> list[tuple[str, tuple]]:
    """Run ``action()`` and return the statements it sent, as Django sends them: (sql, params)."""
    from django.db import connection

    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return sent


def generic_plan(sql: str, params, *, analyze: bool = False, seqscan: bool = True) -> str:
    """PostgreSQL's generic plan of one statement (what a prepared statement may run with).

    The statement is PREPAREd with ``$n`` in place of Django's ``%s`` and EXPLAINed under
    ``plan_cache_mode = force_generic_plan``, so the plan is made without the values. With
    ``seqscan=False`` a sequential scan is the last resort, so a small test table still shows
    which index the plan *could* use. ``analyze`` runs it (and takes FOR UPDATE locks).
    """
    import re

    from django.db import connection
    from psycopg import ClientCursor

    numbers = itertools.count(1)
    prepared = re.sub(r"%s|%%", lambda m: f"${next(numbers)}" if m.group() == "%s" else "%", sql)
    connection.ensure_connection()
    args = ClientCursor(connection.connection).mogrify(", ".join(["%s"] * len(params)), tuple(params))
    options = "ANALYZE, BUFFERS, " if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        if not seqscan:
            cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"PREPARE cg_generic_plan AS {prepared}")
        try:
            cursor.execute(f"EXPLAIN ({options}COSTS OFF) EXECUTE cg_generic_plan{f'({args})' if params else ''}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE cg_generic_plan")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("RESET enable_seqscan")


# The partial indexes over open cases (cases.models, open311's migration 0002): a generic plan
# that can prove the open states may read through any of them.
OPEN_CASE_INDEXES = ("case_open_by_assignee", "case_open_by_department", "open311_case_open_category_created")


def reads_open_cases_by_index(plan: str) -> bool:
    return any(name in plan for name in OPEN_CASE_INDEXES)


def insert_cases_sql(rows: str, **columns: str) -> str:
    """``INSERT INTO cases_case (…) SELECT … FROM rows``: many cases made inside PostgreSQL (the
    history that seed_history and the benchmarks build).

    ``columns`` are SQL expressions by column name (``category_id="%s"``), in the order their
    parameters come. Every other column comes from the model: NULL when nullable, the database's
    default if it has one, else the field's default (``now()`` for timezone.now, '' for a text
    field without one), so a column added to ``Case`` needs no edit here; a NOT NULL column with
    no default must be named (a ValueError says which)."""
    from django.utils import timezone

    from communitygrid.cases.models import Case

    fields = {f.column: f for f in Case._meta.concrete_fields if not f.primary_key}
    if unknown := sorted(set(columns) - set(fields)):
        raise ValueError(f"cases_case has no column {', '.join(unknown)}")
    values = dict(columns)
    for column, field in fields.items():
        if column in values or field.null or field.has_db_default():
            continue
        if field.default is timezone.now:
            values[column] = "now()"
            continue
        default = None if field.has_default() and callable(field.default) else field.get_default()
        if isinstance(default, bool):
            values[column] = "true" if default else "false"
        elif isinstance(default, int):
            values[column] = str(int(default))
        elif isinstance(default, str):
            values[column] = "'" + default.replace("'", "''").replace("%", "%%") + "'"
        else:
            raise ValueError(f"cases_case.{column} is NOT NULL without a literal default: name it")
    return (f"INSERT INTO cases_case ({', '.join(values)})\n"
            f"SELECT {', '.join(values.values())}\nFROM {rows}")


def seed_history(worker: User, *, submitter: User, department: Department, count: int = 300) -> None:
    """PostgreSQL only: ``count`` closed cases that ``submitter`` reported and ``worker`` (or
    ``department``) handled, as many e-mails sent to ``worker``, then ANALYZE, so the planner
    sees a city's history, where the partial indexes of open or pending rows are the small ones."""
    from django.db import connection

    from communitygrid.cases.models import Category

    category = Category.objects.filter(parent__isnull=False).order_by("pk").first()
    grid = worker.scope_nodes.order_by("pk").first() or Node.objects.filter(level=Level.GRID).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(insert_cases_sql(
            f"(SELECT i, now() - i * interval '1 day' AS t FROM generate_series(1, {int(count)}) AS i) AS g",
            category_id="%s", grid_id="%s", submitted_by_id="%s", assignee_id="CASE WHEN i %% 2 = 0 THEN %s END",
            department_id="%s", tier="'general'", description="'history'", status="'closed'", channel="'app'",
            lon="120.005", lat="30.005", supervised="false", created_at="t", updated_at="t", respond_by="t",
            resolve_by="t",
        ), [category.pk, grid.pk, submitter.pk, worker.pk, department.pk])
        cursor.execute(f"""
            INSERT INTO notifications_notification (
                recipient_id, kind, subject, body, payload, channel, address, status, attempts, next_attempt_at,
                last_error_code, last_error_params, last_error, sent_at, read_at, created_at)
            SELECT %s, 'history', 'history', '', '{{}}', 'email', '', 'sent', 1, t, '', '{{}}', '', t, t, t
            FROM (SELECT now() - i * interval '1 day' AS t FROM generate_series(1, {int(count)}) AS i) AS g
        """, [worker.pk])
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE notifications_notification")
