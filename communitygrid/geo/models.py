"""The grid hierarchy: city → district → street → community → grid → micro-grid.

Nodes are never deleted. A split, merge or redraw retires the old node (``status=retired``,
``retired_at`` set) and records a :class:`NodeChange`, so history that points at the old
node keeps its meaning.
"""
from __future__ import annotations

import uuid

from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")
    MICROGRID = "microgrid", _("Micro-grid")


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICROGRID]
LEVEL_DEPTH = {level.value: depth for depth, level in enumerate(LEVEL_ORDER)}


class GridKind(models.TextChoices):
    """The "1+6+X" pattern: one comprehensive grid, specialised grids, X micro-grids."""

    AREA = "area", _("Administrative area")
    COMPREHENSIVE = "comprehensive", _("Comprehensive grid")
    SAFETY = "safety", _("Specialised grid: public safety")
    HEALTH = "health", _("Specialised grid: health")
    ELDERLY = "elderly", _("Specialised grid: elderly care")
    ENVIRONMENT = "environment", _("Specialised grid: environment")
    EMERGENCY = "emergency", _("Specialised grid: emergency")
    MARKET = "market", _("Specialised grid: market supervision")
    MICRO = "micro", _("Micro-grid")


SPECIALISED_KINDS = {
    GridKind.SAFETY,
    GridKind.HEALTH,
    GridKind.ELDERLY,
    GridKind.ENVIRONMENT,
    GridKind.EMERGENCY,
    GridKind.MARKET,
}


# Which kinds a node of each level may have (the "1+6+X" pattern sits at the grid levels).
KINDS_BY_LEVEL = {
    Level.CITY: {GridKind.AREA},
    Level.DISTRICT: {GridKind.AREA},
    Level.STREET: {GridKind.AREA},
    Level.COMMUNITY: {GridKind.AREA},
    Level.GRID: {GridKind.COMPREHENSIVE} | SPECIALISED_KINDS,
    Level.MICROGRID: {GridKind.MICRO},
}


def default_kind(level: str) -> str:
    return {Level.GRID: GridKind.COMPREHENSIVE, Level.MICROGRID: GridKind.MICRO}.get(level, GridKind.AREA)


class NodeStatus(models.TextChoices):
    # "Retired" is also an employment status in the registry; the context keeps the two apart.
    ACTIVE = "active", pgettext_lazy("grid node status", "Active")
    RETIRED = "retired", pgettext_lazy("grid node status", "Retired")


class NodeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=NodeStatus.ACTIVE)

    def within(self, node: "Node"):
        """The node and every node below it."""
        return self.filter(path__startswith=node.path)


class Node(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(pgettext_lazy("hierarchy", "level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=GridKind.choices, default=GridKind.AREA)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of ids, "/1/4/17/": scope checks are one prefix comparison.
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False, default="")
    geometry = models.JSONField(_("boundary (GeoJSON, WGS-84)"), null=True, blank=True)
    # Cached bounding box for cheap pre-filtering and map framing.
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=NodeStatus.choices, default=NodeStatus.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    properties = models.JSONField(_("other properties"), default=dict, blank=True)

    objects = NodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("hierarchy node")
        verbose_name_plural = _("hierarchy nodes")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    @property
    def is_active(self) -> bool:
        return self.status == NodeStatus.ACTIVE

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self) -> list["Node"]:
        """Root first, self last."""
        ids = self.ancestor_ids()
        by_id = {node.id: node for node in Node.objects.filter(id__in=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else "/"
        return f"{prefix}{self.id}/"


class NodeChange(models.Model):
    """An append-only record of every change to the map of grids."""

    class Kind(models.TextChoices):
        IMPORT = "import", _("Import")
        SPLIT = "split", _("Split")
        MERGE = "merge", _("Merge")
        REDRAW = "redraw", _("Redraw")
        RETIRE = "retire", _("Retire")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    retired = models.ManyToManyField(Node, related_name="retired_by_changes", blank=True, verbose_name=_("retired nodes"))
    created = models.ManyToManyField(Node, related_name="created_by_changes", blank=True, verbose_name=_("new nodes"))
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    reassigned = models.JSONField(_("records re-assigned"), default=dict, blank=True)

    class Meta:
        verbose_name = _("grid change")
        verbose_name_plural = _("grid changes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class MapVersion(models.Model):
    """One row whose token changes with every change to the map, in the same transaction.

    Spatial indexes held in memory by each process compare this token (one primary-key read)
    to know they are stale. A random token rather than a counter: a rolled-back change must
    never leave a number that a later, different change reuses.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    ROW = 1

    class Meta:
        verbose_name = _("map version")
        verbose_name_plural = _("map versions")

    @classmethod
    def current_token(cls) -> str:
        return cls.objects.filter(pk=cls.ROW).values_list("token", flat=True).first() or ""

    @classmethod
    def bump(cls) -> None:
        values = {"token": uuid.uuid4().hex, "changed_at": timezone.now()}
        if not cls.objects.filter(pk=cls.ROW).update(**values):
            cls.objects.update_or_create(pk=cls.ROW, defaults=values)
        from communitygrid.geo import index

        index.expire()


@receiver(post_save, sender=Node)
@receiver(post_delete, sender=Node)
def _node_changed(sender, **kwargs) -> None:
    MapVersion.bump()
