"""The demo district's map: one district, 4 streets, 16 communities, ~120 grids, "1+6+X".

Grids are the Voronoi cells of Lloyd-relaxed seed points, all from ONE diagram clipped by the
district outline, so neighbouring grids share their edges vertex for vertex and together tile
the district. Communities and streets are unions of grids chosen by recursive median splits
of the seeds, so every level tiles its parent exactly as well.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping

from communitygrid.geo.models import GridKind, Level

SEED = 20240611
CENTRE = (120.150, 30.290)  # west of the lake: real-looking, fictional names
HALF_WIDTH = (0.036, 0.029)  # degrees lon/lat: a district of about 34 km²
STREETS = 4
COMMUNITIES_PER_STREET = 4
GRIDS = 120
MICROGRIDS_PER_SPLIT_GRID = 5
LLOYD_ITERATIONS = 12

CITY = ("3399", "江州市")
DISTRICT = ("339901", "明湖区")
STREET_NAMES = ["东湖街道", "清波街道", "文澜街道", "望江街道"]
COMMUNITY_NAMES = [
    "幸福里社区", "春晖社区", "翠苑社区", "枫林社区",
    "和平社区", "丰乐社区", "嘉绿社区", "锦绣社区",
    "景华社区", "兰亭社区", "柳营社区", "梅花碑社区",
    "明月社区", "青荷社区", "瑞祥社区", "桃源社区",
]
CN_ORDINALS = "一二三四五六七八九十"
# The "6" of "1+6+X": one specialised grid of each kind, with the place it looks after.
SPECIALISED = [
    (GridKind.SAFETY, "实验中学校园安全专属网格"),
    (GridKind.HEALTH, "社区卫生服务中心健康专属网格"),
    (GridKind.ELDERLY, "颐养中心养老服务专属网格"),
    (GridKind.ENVIRONMENT, "沿河生态环境专属网格"),
    (GridKind.EMERGENCY, "地铁站应急专属网格"),
    (GridKind.MARKET, "农贸市场监管专属网格"),
]


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    kind: str
    polygon: Polygon
    parent_code: str | None

    @property
    def geojson(self) -> dict:
        return _as_lists(mapping(self.polygon))


@dataclass
class DemoGeography:
    city: Area
    district: Area
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)  # comprehensive grids, the tiling
    specialised: list[Area] = field(default_factory=list)
    microgrids: list[Area] = field(default_factory=list)

    def all_areas(self) -> list[Area]:
        """Parents before children, the order they must be created in."""
        return [self.city, self.district, *self.streets, *self.communities, *self.grids,
                *self.specialised, *self.microgrids]


def _as_lists(value):
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value


def district_outline(rng: np.random.Generator) -> Polygon:
    """A gently irregular, star-shaped outline: rivers and roads, not a rectangle."""
    phases = rng.uniform(0, 2 * math.pi, size=3)
    points = []
    for step in range(36):
        theta = 2 * math.pi * step / 36
        radius = (1 + 0.10 * math.sin(2 * theta + phases[0]) + 0.06 * math.sin(3 * theta + phases[1])
                  + 0.03 * math.sin(5 * theta + phases[2]) + rng.uniform(-0.015, 0.015))
        points.append((CENTRE[0] + HALF_WIDTH[0] * radius * math.cos(theta),
                       CENTRE[1] + HALF_WIDTH[1] * radius * math.sin(theta)))
    return Polygon(points)


def points_inside(polygon: Polygon, count: int, rng: np.random.Generator, *, margin: float = 0.0) -> np.ndarray:
    """``count`` uniformly random points inside ``polygon`` (at least ``margin`` from its edge if it can)."""
    target = polygon.buffer(-margin) if margin else polygon
    if target.is_empty or target.area < polygon.area * 0.05:
        target = polygon
    min_x, min_y, max_x, max_y = target.bounds
    shapely.prepare(target)
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        xs = rng.uniform(min_x, max_x, size=count * 2)
        ys = rng.uniform(min_y, max_y, size=count * 2)
        inside = shapely.contains_xy(target, xs, ys)
        batch = np.column_stack([xs[inside], ys[inside]])
        found.append(batch)
        total += len(batch)
    return np.concatenate(found)[:count]


def voronoi_cells(seeds: np.ndarray, clip: Polygon) -> list:
    """The Voronoi cell of each seed (same order), clipped to ``clip``."""
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=clip.envelope.buffer(0.1), ordered=True)
    return [cell.intersection(clip) for cell in diagram.geoms]


def lloyd_relax(seeds: np.ndarray, clip: Polygon, iterations: int) -> np.ndarray:
    """Move each seed to its cell's centroid, repeatedly: even, organic cells."""
    for _ in range(iterations):
        seeds = np.array([[cell.centroid.x, cell.centroid.y] for cell in voronoi_cells(seeds, clip)])
    return seeds


def median_split(indices: list[int], seeds: np.ndarray, angle: float) -> tuple[list[int], list[int]]:
    """Split seed indices in two equal halves along the direction ``angle`` (radians)."""
    direction = np.array([math.cos(angle), math.sin(angle)])
    ordered = sorted(indices, key=lambda i: float(seeds[i] @ direction))
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


def split_into(indices: list[int], seeds: np.ndarray, parts: int, rng: np.random.Generator,
               angle: float = 0.0) -> list[list[int]]:
    """Recursive median splits, alternating direction, into ``parts`` (a power of two) groups."""
    if parts == 1:
        return [indices]
    tilt = angle + rng.uniform(-0.35, 0.35)
    first, second = median_split(indices, seeds, tilt)
    return (split_into(first, seeds, parts // 2, rng, angle + math.pi / 2)
            + split_into(second, seeds, parts // 2, rng, angle + math.pi / 2))


def _single_polygon(geometry) -> Polygon | None:
    return geometry if isinstance(geometry, Polygon) and not geometry.is_empty else None


def plan_geography(seed: int = SEED) -> DemoGeography:
    """The demo map. Deterministic: a seed whose draw breaks a rule (a grid or community in two
    pieces) is skipped for the next one, always in the same order."""
    for attempt in range(50):
        geography = _attempt(np.random.default_rng([seed, attempt]))
        if geography is not None:
            return geography
    raise RuntimeError("no valid demo map in 50 attempts")  # pragma: no cover - would be a bug


def _attempt(rng: np.random.Generator) -> DemoGeography | None:
    outline = district_outline(rng)
    seeds = lloyd_relax(points_inside(outline, GRIDS, rng), outline, LLOYD_ITERATIONS)
    cells = [_single_polygon(cell) for cell in voronoi_cells(seeds, outline)]
    if any(cell is None for cell in cells):
        return None
    city = Area(CITY[0], CITY[1], Level.CITY, GridKind.AREA, outline, None)
    district = Area(DISTRICT[0], DISTRICT[1], Level.DISTRICT, GridKind.AREA, outline, city.code)
    geography = DemoGeography(city=city, district=district)
    street_groups = split_into(list(range(GRIDS)), seeds, STREETS, rng)
    for s, street_group in enumerate(street_groups):
        street_shape = _single_polygon(shapely.union_all([cells[i] for i in street_group]))
        if street_shape is None:
            return None
        street_code = f"{district.code}{s + 1:03d}"
        geography.streets.append(
            Area(street_code, STREET_NAMES[s], Level.STREET, GridKind.AREA, street_shape, district.code))
        for c, group in enumerate(split_into(street_group, seeds, COMMUNITIES_PER_STREET, rng, math.pi / 2)):
            shape = _single_polygon(shapely.union_all([cells[i] for i in group]))
            if shape is None:
                return None
            name = COMMUNITY_NAMES[s * COMMUNITIES_PER_STREET + c]
            community = Area(f"{street_code}{c + 1:03d}", name, Level.COMMUNITY, GridKind.AREA, shape, street_code)
            geography.communities.append(community)
            # Number grids north-west to south-east, the way a community office would.
            ordered = sorted(group, key=lambda i: (-round(seeds[i][1], 3), seeds[i][0]))
            for g, index in enumerate(ordered):
                geography.grids.append(Area(
                    f"{community.code}{g + 1:03d}", f"{name}第{CN_ORDINALS[g]}网格", Level.GRID,
                    GridKind.COMPREHENSIVE, cells[index], community.code))
    _add_specialised(geography, rng)
    return geography if _add_microgrids(geography, rng) else None


def _add_specialised(geography: DemoGeography, rng: np.random.Generator) -> None:
    """Small grids over a school, a clinic, a care home, a river bank, a metro station, a market:
    they overlap comprehensive grids by design and sit under the community they lie in."""
    communities = geography.communities
    picks = rng.choice(len(communities), size=len(SPECIALISED), replace=False)
    for number, ((kind, label), pick) in enumerate(zip(SPECIALISED, picks), start=1):
        community = communities[int(pick)]
        centre = community.polygon.representative_point()
        if kind == GridKind.ENVIRONMENT:
            # A river bank: a strip across the community.
            minx, _, maxx, _ = community.polygon.bounds
            footprint = LineString([(minx, centre.y - 0.002), (maxx, centre.y + 0.002)]).buffer(0.0012)
        else:
            footprint = Point(centre.x, centre.y).buffer(0.0025, quad_segs=6)
        shape = _single_polygon(footprint.intersection(community.polygon))
        if shape is None:  # a strip cut in two by a concave corner: keep the larger piece
            shape = max(footprint.intersection(community.polygon).geoms, key=lambda g: g.area)
        geography.specialised.append(Area(
            f"{community.code}Z{number:02d}", community.name.removesuffix("社区") + label,
            Level.GRID, kind, shape, community.code))


def _add_microgrids(geography: DemoGeography, rng: np.random.Generator) -> bool:
    """The "X": the first grid of each street's first community is split into micro-grids
    (a courtyard, a few blocks), which tile their grid."""
    first_communities = {street.code: None for street in geography.streets}
    for community in geography.communities:
        if first_communities.get(community.parent_code, "") is None:
            first_communities[community.parent_code] = community.code
    split = [next(g for g in geography.grids if g.parent_code == code) for code in first_communities.values()]
    for grid in split:
        seeds = lloyd_relax(points_inside(grid.polygon, MICROGRIDS_PER_SPLIT_GRID, rng), grid.polygon, 8)
        for m, cell in enumerate(voronoi_cells(seeds, grid.polygon), start=1):
            shape = _single_polygon(cell)
            if shape is None:
                return False
            geography.microgrids.append(Area(
                f"{grid.code}{m:02d}", f"{grid.name}{m}号微网格", Level.MICROGRID, GridKind.MICRO, shape, grid.code))
    return True
