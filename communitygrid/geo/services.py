"""Every write to the grid hierarchy.

Map changes (import, split, merge, redraw, retire) validate everything first and raise
:class:`GeoInputError` carrying every problem, having written nothing; otherwise they run in
one transaction and leave one :class:`NodeChange`. A retired node is never deleted: records
that pointed at it are moved to its successors by location, and those that cannot be placed
keep their pointer and are listed in ``NodeChange.reassigned``.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from communitygrid.geo.geometry import bounds_of, check_geometry, to_geojson
from communitygrid.geo.index import NODE_FIELDS, OUTSIDE, GridIndex
from communitygrid.geo.models import (
    KINDS_BY_LEVEL,
    LEVEL_DEPTH,
    SPECIALISED_KINDS,
    GridKind,
    Level,
    MapVersion,
    Node,
    NodeChange,
    NodeStatus,
    default_kind,
)

CRS_CHOICES = ("wgs84", "gcj02")
CODE_MAX_LENGTH = Node._meta.get_field("code").max_length
NAME_MAX_LENGTH = Node._meta.get_field("name").max_length


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input; ``index``/``code`` name the feature or part it concerns."""

    message: str
    index: int | None = None
    code: str | None = None

    def __str__(self) -> str:
        if self.index is None:
            return self.message
        return _("item #%(index)d (code %(code)s): %(message)s") % {
            "index": self.index, "code": self.code or _("none"), "message": self.message,
        }


class GeoInputError(Exception):
    """The input cannot be applied; nothing was written. ``problems`` lists every fault found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@transaction.atomic
def node_create(*, code: str, name: str, level: str, parent: Node | None = None, geometry: dict | None = None,
                kind: str = GridKind.AREA, properties: dict | None = None) -> Node:
    node = Node(code=code, name=name, level=level, parent=parent, geometry=geometry, kind=kind,
                properties=properties or {})
    _set_bounds(node)
    node.save()
    node.path = node.compute_path()
    node.save(update_fields=["path"])
    return node


def parent_problems(*, level: str, parent: Node | None) -> list[str]:
    """Why ``parent`` cannot hold a node of ``level``."""
    if parent is None:
        return [] if level == Level.CITY else [_("a %(level)s needs a parent") % {"level": Level(level).label}]
    # A descendant is always deeper, so the depth rule also stops a node moving under its own subtree.
    problem = _parent_problem(parent, level)
    return [problem] if problem else []


@transaction.atomic
def node_update(*, node: Node, name: str, parent: Node | None, actor=None) -> Node:
    """Rename a node or move it (with its subtree) under another parent; boundaries change only by redraw."""
    problems = [Problem(m) for m in parent_problems(level=node.level, parent=parent)]
    if not name or not name.strip():
        problems.append(Problem(_("the name is missing")))
    if problems:
        raise GeoInputError(problems)
    node.name = name.strip()
    node.save(update_fields=["name"])
    if (parent.pk if parent else None) != node.parent_id:
        _move_subtree(node, parent)
        MapVersion.bump()
        node.refresh_from_db()
    return node


def _set_bounds(node: Node) -> None:
    if node.geometry:
        node.min_lon, node.min_lat, node.max_lon, node.max_lat = bounds_of(node.geometry)
    else:
        node.min_lon = node.min_lat = node.max_lon = node.max_lat = None


# --- import -------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    change: NodeChange
    created: list[Node] = field(default_factory=list)
    updated: list[Node] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)  # features whose rings were repaired, and why


@dataclass
class _Checked:
    index: int
    code: str
    name: str
    geometry: dict
    parent: Node | None
    existing: Node | None
    repaired: str


def _property_text(properties: dict, key: str, *, max_length: int) -> tuple[str, str | None]:
    """The property's value as text, or the problem with it."""
    value = properties.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return "", _("the property %(property)s is missing or not text") % {"property": key}
    text = str(value).strip()
    if not text:
        return "", _("the property %(property)s is empty") % {"property": key}
    if len(text) > max_length:
        return "", _("the property %(property)s is longer than %(max)d characters") % {"property": key, "max": max_length}
    return text, None


def _parent_problem(parent: Node, level: str) -> str | None:
    if not parent.is_active:
        return _("the parent %(code)s is retired") % {"code": parent.code}
    if LEVEL_DEPTH[parent.level] >= LEVEL_DEPTH[level]:
        return _("the parent %(code)s is a %(parent_level)s, which cannot contain a %(level)s") % {
            "code": parent.code, "parent_level": parent.get_level_display(), "level": Level(level).label}
    return None


def _import_settings_problems(level, kind, crs, parent_property, parent_code, features) -> list[Problem]:
    problems = []
    if level not in Level.values:
        return [Problem(_("unknown level %(level)s; expected one of %(choices)s")
                        % {"level": level, "choices": ", ".join(Level.values)})]
    if kind not in KINDS_BY_LEVEL[level]:
        problems.append(Problem(_("a %(level)s cannot be of kind %(kind)s; allowed: %(choices)s") % {
            "level": Level(level).label, "kind": kind, "choices": ", ".join(sorted(KINDS_BY_LEVEL[level]))}))
    if crs not in CRS_CHOICES:
        problems.append(Problem(_("unknown coordinate system %(crs)s; expected wgs84 or gcj02") % {"crs": crs}))
    if parent_property and parent_code:
        problems.append(Problem(_("give either a parent code or a parent property, not both")))
    elif not parent_property and not parent_code and level != Level.CITY:
        problems.append(Problem(_("a %(level)s needs a parent: give a parent code or a parent property")
                                % {"level": Level(level).label}))
    if not isinstance(features, list):
        problems.append(Problem(_("the features are not a list")))
    elif not features:
        problems.append(Problem(_("there are no features to import")))
    return problems


def grids_import(*, features: list, level: str, code_property: str = "code", name_property: str = "name",
                 parent_property: str | None = None, parent_code: str | None = None, kind: str | None = None,
                 crs: str = "wgs84", actor=None, note: str = "") -> ImportResult:
    """Import GeoJSON features as nodes of one level: all of them, or none.

    A code already present at the same level is updated (name and boundary); anything else
    wrong is reported with the feature's index and code.
    """
    kind = kind or default_kind(level)
    problems = _import_settings_problems(level, kind, crs, parent_property, parent_code, features)
    fixed_parent = None
    if parent_code and not problems:
        fixed_parent = Node.objects.filter(code=parent_code).first()
        if fixed_parent is None:
            problems.append(Problem(_("unknown parent code %(code)s") % {"code": parent_code}))
        elif problem := _parent_problem(fixed_parent, level):
            problems.append(Problem(problem))
    if problems:
        raise GeoInputError(problems)

    checked, problems = _check_features(features, level=level, code_property=code_property,
                                        name_property=name_property, parent_property=parent_property,
                                        fixed_parent=fixed_parent, crs=crs)
    if problems:
        raise GeoInputError(problems)
    return _write_import(checked, level=level, kind=kind, actor=actor, note=note)


def _check_features(features, *, level, code_property, name_property, parent_property, fixed_parent, crs):
    problems: list[Problem] = []
    codes = {}
    for i, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(properties, dict) and isinstance(properties.get(code_property), (str, int)):
            codes[i] = str(properties[code_property]).strip()
    parent_codes = set()
    if parent_property:
        parent_codes = {str(f["properties"][parent_property]).strip() for f in features
                        if isinstance(f, dict) and isinstance(f.get("properties"), dict)
                        and isinstance(f["properties"].get(parent_property), (str, int))}
    existing = Node.objects.in_bulk(list(set(codes.values())), field_name="code")
    parents = Node.objects.in_bulk(list(parent_codes), field_name="code")

    first_index: dict[str, int] = {}
    checked = []
    for i, feature in enumerate(features):
        found: list[str] = []
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(_("not a GeoJSON Feature"), i, codes.get(i)))
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            properties = {}
            found.append(_("the feature has no properties"))
        code, problem = _property_text(properties, code_property, max_length=CODE_MAX_LENGTH)
        if problem:
            found.append(problem)
        name, problem = _property_text(properties, name_property, max_length=NAME_MAX_LENGTH)
        if problem:
            found.append(problem)
        if code in first_index:
            found.append(_("the code %(code)s is also used by item #%(index)d") % {"code": code, "index": first_index[code]})
        elif code:
            first_index[code] = i

        parent = fixed_parent
        if parent_property:
            parent_text, problem = _property_text(properties, parent_property, max_length=CODE_MAX_LENGTH)
            parent = parents.get(parent_text)
            if problem:
                found.append(problem)
            elif parent is None:
                found.append(_("unknown parent code %(code)s") % {"code": parent_text})
            elif problem := _parent_problem(parent, level):
                found.append(problem)

        node = existing.get(code)
        if node is not None:
            if node.level != level:
                found.append(_("the code %(code)s already belongs to a %(level)s") % {"code": code, "level": node.get_level_display()})
            elif not node.is_active:
                found.append(_("the code %(code)s belongs to a retired node; choose a new code") % {"code": code})
            elif parent is not None and node.parent_id != parent.pk:
                found.append(_("%(code)s already exists under another parent; move it by splitting or merging instead")
                             % {"code": code})

        geometry = check_geometry(feature.get("geometry"), crs=crs)
        found += geometry.problems
        if found:
            problems += [Problem(message, i, code or codes.get(i)) for message in found]
            continue
        checked.append(_Checked(i, code, name, to_geojson(geometry.geometry), parent, node, geometry.repaired))
    return checked, problems


@transaction.atomic
def _write_import(checked: list[_Checked], *, level, kind, actor, note) -> ImportResult:
    created, updated = [], []
    for item in checked:
        if item.existing is None:
            created.append(node_create(code=item.code, name=item.name, level=level, parent=item.parent,
                                       geometry=item.geometry, kind=kind))
        else:
            node = item.existing
            node.name, node.geometry, node.kind = item.name, item.geometry, kind
            _set_bounds(node)
            node.save()
            updated.append(node)
    repaired = [Problem(item.repaired, item.index, item.code) for item in checked if item.repaired]
    change = NodeChange.objects.create(
        kind=NodeChange.Kind.IMPORT, actor=actor,
        note=note or _("Import of %(n)d features at level %(level)s") % {"n": len(checked), "level": Level(level).label},
        reassigned={"updated": [n.code for n in updated],
                    "repaired": [{"index": p.index, "code": p.code, "reason": p.message} for p in repaired]},
    )
    change.created.set(created)
    return ImportResult(change=change, created=created, updated=updated, repaired=repaired)


# --- split, merge, redraw, retire ---------------------------------------------------------------

def _require_active(nodes: list[Node]) -> list[Problem]:
    return [Problem(_("%(node)s is retired already") % {"node": node.code}) for node in nodes if not node.is_active]


def _check_new_node(index: int, code: Any, name: Any, geometry: Any, taken: set[str]) -> tuple[str, dict | None, list[Problem]]:
    """A new node's code and boundary, with the problems found (``taken``: codes in use or claimed)."""
    found = []
    code = str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    if not code:
        found.append(_("the code is missing"))
    elif len(code) > CODE_MAX_LENGTH:
        found.append(_("the code is longer than %(max)d characters") % {"max": CODE_MAX_LENGTH})
    elif code in taken:
        found.append(_("the code %(code)s is already in use") % {"code": code})
    if not isinstance(name, str) or not name.strip():
        found.append(_("the name is missing"))
    elif len(name) > NAME_MAX_LENGTH:
        found.append(_("the name is longer than %(max)d characters") % {"max": NAME_MAX_LENGTH})
    checked = check_geometry(geometry)
    found += checked.problems
    taken.add(code)
    return code, (to_geojson(checked.geometry) if not found else None), [Problem(m, index, code or None) for m in found]


def _codes_in_use(codes) -> set[str]:
    return set(Node.objects.filter(code__in=[c for c in codes if isinstance(c, str)]).values_list("code", flat=True))


@transaction.atomic
def grid_split(*, node: Node, parts: list[dict], actor=None, note: str = "") -> NodeChange:
    """Retire ``node`` and create one node per part (same level, kind and parent)."""
    problems = _require_active([node])
    if not isinstance(parts, list) or len(parts) < 2:
        problems.append(Problem(_("a split needs at least two parts")))
        raise GeoInputError(problems)
    taken = _codes_in_use([p.get("code") for p in parts if isinstance(p, dict)])
    new_nodes = []
    for i, part in enumerate(parts):
        part = part if isinstance(part, dict) else {}
        code, geometry, found = _check_new_node(i, part.get("code"), part.get("name"), part.get("geometry"), taken)
        new_nodes.append((code, part.get("name"), geometry))
        problems += found
    if problems:
        raise GeoInputError(problems)
    successors = [
        node_create(code=code, name=name.strip(), level=node.level, parent=node.parent, geometry=geometry, kind=node.kind)
        for code, name, geometry in new_nodes
    ]
    return _replace(kind=NodeChange.Kind.SPLIT, retired=[node], successors=successors, actor=actor, note=note)


@transaction.atomic
def grid_merge(*, nodes: list[Node], code: str, name: str, actor=None, note: str = "") -> NodeChange:
    """Retire ``nodes`` (siblings of one level and kind) and create one node covering their union."""
    problems = _require_active(nodes)
    if len({n.pk for n in nodes}) < 2:
        problems.append(Problem(_("a merge needs at least two different nodes")))
    elif len({(n.level, n.kind, n.parent_id) for n in nodes}) > 1:
        problems.append(Problem(_("only nodes of the same level and kind under the same parent can be merged")))
    missing = [n.code for n in nodes if not n.geometry]
    if missing:
        problems.append(Problem(_("these nodes have no boundary: %(codes)s") % {"codes": ", ".join(missing)}))
    union = to_geojson(shapely.union_all([shapely.geometry.shape(n.geometry) for n in nodes])) if not missing else None
    code, geometry, found = _check_new_node(0, code, name, union, _codes_in_use([code]))
    problems += found
    if problems:
        raise GeoInputError(problems)
    first = nodes[0]
    successor = node_create(code=code, name=name.strip(), level=first.level, parent=first.parent,
                            geometry=geometry, kind=first.kind)
    return _replace(kind=NodeChange.Kind.MERGE, retired=list(nodes), successors=[successor], actor=actor, note=note)


def next_revision_code(code: str) -> str:
    """``G1`` → ``G1-r2``, ``G1-r2`` → ``G1-r3``, skipping codes already taken."""
    match = re.fullmatch(r"(.*)-r(\d+)", code)
    base, number = (match.group(1), int(match.group(2)) + 1) if match else (code, 2)
    while Node.objects.filter(code=f"{base}-r{number}").exists():
        number += 1
    return f"{base}-r{number}"


@transaction.atomic
def grid_redraw(*, node: Node, geometry: dict, actor=None, note: str = "", code: str | None = None) -> NodeChange:
    """Retire ``node`` and create its successor with a new boundary (code ``<code>-rN`` unless given)."""
    problems = _require_active([node])
    code = code or next_revision_code(node.code)
    code, checked, found = _check_new_node(0, code, node.name, geometry, _codes_in_use([code]))
    problems += found
    if problems:
        raise GeoInputError(problems)
    successor = node_create(code=code, name=node.name, level=node.level, parent=node.parent, geometry=checked,
                            kind=node.kind, properties=node.properties)
    return _replace(kind=NodeChange.Kind.REDRAW, retired=[node], successors=[successor], actor=actor, note=note)


@transaction.atomic
def node_retire(*, node: Node, actor=None, note: str = "") -> NodeChange:
    """Retire a node that nothing depends on any more (no active child, no record pointing at it)."""
    from communitygrid.registry.models import Building, Household, Person

    problems = _require_active([node])
    if node.children.filter(status=NodeStatus.ACTIVE).exists():
        problems.append(Problem(_("%(node)s still has active children; retire or move them first") % {"node": node.code}))
    for model in (Building, Household, Person):
        if model.objects.filter(grid=node).exists():
            problems.append(Problem(_("%(records)s still point at %(node)s; split, merge or redraw instead")
                                    % {"records": model._meta.verbose_name_plural, "node": node.code}))
    if problems:
        raise GeoInputError(problems)
    return _replace(kind=NodeChange.Kind.RETIRE, retired=[node], successors=[], actor=actor, note=note)


def _replace(*, kind: str, retired: list[Node], successors: list[Node], actor, note: str) -> NodeChange:
    now = timezone.now()
    for node in retired:
        node.status, node.retired_at = NodeStatus.RETIRED, now
        node.save(update_fields=["status", "retired_at"])
    report = {}
    if successors:
        report["children"] = _reparent_children(retired, successors)
        report.update(_reassign_records(retired))
        report["scopes"] = _reassign_scopes(retired, successors)
    change = NodeChange.objects.create(kind=kind, actor=actor, note=note, reassigned=report)
    change.retired.set(retired)
    change.created.set(successors)
    MapVersion.bump()  # paths changed through bulk updates, which send no signal
    return change


def _reparent_children(retired: list[Node], successors: list[Node]) -> list[str]:
    """Move the retired nodes' active children under the successor sharing most of their area."""
    shapes = [shapely.geometry.shape(s.geometry) if s.geometry else None for s in successors]
    moved = []
    for child in Node.objects.filter(parent__in=retired, status=NodeStatus.ACTIVE):
        target = successors[0]
        if child.geometry and len(successors) > 1:
            area = shapely.geometry.shape(child.geometry)
            overlaps = [area.intersection(s).area if s is not None else 0.0 for s in shapes]
            target = successors[int(np.argmax(overlaps))]
        _move_subtree(child, target)
        moved.append(child.code)
    return moved


def _move_subtree(node: Node, parent: Node | None) -> None:
    old_prefix, new_prefix = node.path, f"{parent.path if parent else '/'}{node.pk}/"
    Node.objects.filter(pk=node.pk).update(parent=parent)
    subtree = list(Node.objects.filter(path__startswith=old_prefix))
    for descendant in subtree:
        descendant.path = new_prefix + descendant.path[len(old_prefix):]
    Node.objects.bulk_update(subtree, ["path"])


def _reassign_records(retired: list[Node]) -> dict:
    """Buildings by their point, then households from their room's building, persons from their household."""
    from communitygrid.registry.models import Building, Household, Person, Room

    now = timezone.now()
    buildings = list(Building.objects.filter(grid__in=retired).values_list("pk", "code", "lon", "lat"))
    targets = _locate_buildings(buildings, depth=min(LEVEL_DEPTH[n.level] for n in retired))
    by_target, outside = defaultdict(list), []
    for (pk, code, _lon, _lat), target in zip(buildings, targets):
        if target == OUTSIDE:
            outside.append(code)
        else:
            by_target[target].append(pk)
    for target, pks in by_target.items():
        Building.objects.filter(pk__in=pks).update(grid_id=target, updated_at=now)

    building_grid = Room.objects.filter(pk=OuterRef("room_id")).values("unit__building__grid_id")[:1]
    households = Household.objects.filter(grid__in=retired)
    moved_households = households.filter(room__isnull=False).exclude(room__unit__building__grid__in=retired).update(
        grid_id=Subquery(building_grid), updated_at=now)
    roomless = sorted(households.filter(room__isnull=True).values_list("code", flat=True))

    household_grid = Household.objects.filter(pk=OuterRef("household_id")).values("grid_id")[:1]
    persons = Person.objects.filter(grid__in=retired)
    moved_persons = persons.filter(household__isnull=False).exclude(household__grid__in=retired).update(
        grid_id=Subquery(household_grid), updated_at=now)
    return {
        "buildings": sum(len(pks) for pks in by_target.values()),
        "buildings_outside": sorted(outside),
        "households": moved_households,
        "households_without_room": roomless,
        "persons": moved_persons,
        "persons_without_household": persons.filter(household__isnull=True).count(),
        # Whatever still points at a retired node needs a person to look at it.
        "households_left": households.count(),
        "persons_left": persons.count(),
    }


def _locate_buildings(buildings: list[tuple], *, depth: int) -> np.ndarray:
    """The deepest active node at ``depth`` or below under each building (OUTSIDE where none)."""
    if not buildings:
        return np.empty(0, dtype=np.int64)
    lons = np.array([b[2] for b in buildings], dtype=float)
    lats = np.array([b[3] for b in buildings], dtype=float)
    deep_levels = [level for level, d in LEVEL_DEPTH.items() if d >= depth]
    candidates = Node.objects.active().filter(level__in=deep_levels).exclude(kind__in=SPECIALISED_KINDS).filter(
        min_lon__lte=np.nanmax(lons), max_lon__gte=np.nanmin(lons),
        min_lat__lte=np.nanmax(lats), max_lat__gte=np.nanmin(lats),
    )
    index = GridIndex.build(candidates.values(*NODE_FIELDS).order_by())
    return index.locate_many(lons, lats)


def _reassign_scopes(retired: list[Node], successors: list[Node]) -> int:
    """Staff bound to a retired node are bound to its successors instead."""
    from communitygrid.accounts.models import User

    through = User.scope_nodes.through
    user_ids = set(through.objects.filter(node__in=retired).values_list("user_id", flat=True))
    through.objects.filter(node__in=retired).delete()
    through.objects.bulk_create(
        [through(user_id=user_id, node_id=s.pk) for user_id in user_ids for s in successors], ignore_conflicts=True)
    return len(user_ids)
