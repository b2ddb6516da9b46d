"""People, households, buildings (人地事物; 一人一档, 一户一档).

Every record carries the grid it lies in (``grid``), denormalised from the building so a
scope check is one indexed comparison, and freshness (``last_verified_at``/``_by``).
Sensitive values (ID number, phone, detailed address, health notes) are
:class:`~communitygrid.privacy.fields.EncryptedField` with blind indexes for exact search.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communitygrid.privacy.fields import EncryptedField


class Verified(models.Model):
    last_verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    last_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last verified by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Building(Verified):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        MIXED = "mixed", _("Mixed use")
        BUNGALOW = "bungalow", _("Bungalow / courtyard")
        PUBLIC = "public", _("Public facility")
        COMMERCIAL = "commercial", _("Commercial")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("street address"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RESIDENTIAL)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey("geo.Node", on_delete=models.PROTECT, related_name="buildings", verbose_name=_("grid"))

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units", verbose_name=_("building"))
    number = models.CharField(_("unit"), max_length=16)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="unit_unique_in_building")]
        ordering = ["building_id", "number"]

    def __str__(self) -> str:
        # "金都嘉园4幢 · 1 单元", not "金都嘉园4幢 1": a bare number reads as part of the name.
        return f"{self.building.name} · " + gettext("unit %(unit)s") % {"unit": self.number}


class Room(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="rooms", verbose_name=_("unit"))
    number = models.CharField(_("room"), max_length=16)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    area_m2 = models.DecimalField(_("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [models.UniqueConstraint(fields=["unit", "number"], name="room_unique_in_unit")]
        ordering = ["unit_id", "number"]

    def __str__(self) -> str:
        # As the household page writes it: "金都嘉园4幢 · 1 单元 1303 室".
        return f"{self.unit.building.name} · " + gettext("unit %(unit)s, room %(room)s") % {
            "unit": self.unit.number, "room": self.number}


class Household(Verified):
    class Tenure(models.TextChoices):
        OWNER = "owner", _("Owner-occupied")
        TENANT = "tenant", _("Rented")
        PUBLIC = "public", _("Public housing")
        OTHER = "other", _("Other")

    code = models.CharField(_("household number"), max_length=64, unique=True)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="households", verbose_name=_("room")
    )
    # Indexed through (grid, is_active) below.
    grid = models.ForeignKey(
        "geo.Node", on_delete=models.PROTECT, related_name="households", verbose_name=_("grid"), db_index=False
    )
    address = EncryptedField(_("detailed address"), kind="address")
    tenure = models.CharField(_("tenure"), max_length=16, choices=Tenure.choices, default=Tenure.OWNER)
    is_active = models.BooleanField(pgettext_lazy("on the register", "active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["code"]
        indexes = [models.Index(fields=["grid", "is_active"])]

    def __str__(self) -> str:
        return self.code


class CareTag(models.Model):
    """A special-care group (elderly living alone, disabled, …); administrators add more."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    has_level = models.BooleanField(_("records a level"), default=False)
    levels = models.JSONField(
        _("allowed levels"),
        default=list,
        blank=True,
        help_text=_("The level labels this group uses, lowest number first (e.g. 一级, 二级); empty allows any text."),
    )
    visit_every_days = models.PositiveSmallIntegerField(_("home visit every (days)"), null=True, blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("special-care group")
        verbose_name_plural = _("special-care groups")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def label(self) -> str:
        return str(self)

    def canonical_level(self, raw: str) -> str | None:
        """The stored label for a level written as the label itself or its number (2, 二, 2级 → 二级).

        None when this group takes no level or the text names none of its levels.
        """
        text = "".join(str(raw).split())
        if not self.has_level:
            return None
        if not self.levels:
            return text[:16] or None
        wanted = _level_number(text)
        for label in self.levels:
            if text == label or (wanted is not None and _level_number(label) == wanted):
                return label
        return None


_CHINESE_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _level_number(text: str) -> int | None:
    """2, "2", "二", "2级", "二级", "级别2" → 2; None when no single number is named."""
    core = text.replace("级别", "").replace("级", "").replace("level", "").replace("Level", "").strip()
    if core.isdigit():
        return int(core)
    if len(core) == 1 and core in _CHINESE_NUMERALS:
        return _CHINESE_NUMERALS[core]
    return None


class Person(Verified):
    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class HouseholdRole(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        OTHER_RELATIVE = "relative", _("Other relative")
        TENANT = "tenant", _("Tenant / lodger")
        OTHER = "other", _("Other")

    class Residence(models.TextChoices):
        LOCAL = "local", _("Registered and living here")
        REGISTERED_AWAY = "away", _("Registered here, living elsewhere")
        MIGRANT = "migrant", _("Living here, registered elsewhere")

    class Employment(models.TextChoices):
        EMPLOYED = "employed", _("Employed")
        SELF_EMPLOYED = "self_employed", _("Self-employed")
        UNEMPLOYED = "unemployed", _("Unemployed")
        RETIRED = "retired", pgettext_lazy("employment status", "Retired")
        STUDENT = "student", _("Student")
        PRESCHOOL = "preschool", _("Pre-school child")
        OTHER = "other", _("Other")

    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("household")
    )
    # Indexed through (grid, is_active) below; a separate index on grid alone would only slow inserts.
    grid = models.ForeignKey(
        "geo.Node", on_delete=models.PROTECT, related_name="persons", verbose_name=_("grid"), db_index=False
    )
    name = models.CharField(_("full name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = EncryptedField(_("ID number"), kind="id_number", blind_index_field="id_number_bidx")
    # Blind-index columns are indexed in Meta, not with unique=/db_index=: on PostgreSQL those would
    # add a second, LIKE-pattern index that a keyed hash never uses and every insert pays for.
    id_number_bidx = models.CharField(max_length=32, null=True, blank=True, editable=False)
    phone = EncryptedField(_("phone"), kind="phone", blind_index_field="phone_bidx")
    phone_bidx = models.CharField(max_length=32, null=True, blank=True, editable=False)
    household_role = models.CharField(
        _("role in household"), max_length=16, choices=HouseholdRole.choices, default=HouseholdRole.OTHER
    )
    residence = models.CharField(_("residence status"), max_length=16, choices=Residence.choices, default=Residence.LOCAL)
    registered_address = EncryptedField(_("registered residence (hukou)"), kind="address")
    employment = models.CharField(_("employment"), max_length=16, choices=Employment.choices, blank=True)
    employer = models.CharField(_("employer / school"), max_length=200, blank=True)
    health_notes = EncryptedField(_("health notes"), kind="health")
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=100, blank=True)
    emergency_contact_phone = EncryptedField(_("emergency contact phone"), kind="phone")
    care_tags = models.ManyToManyField(
        CareTag, through="PersonCareTag", blank=True, related_name="persons", verbose_name=_("special-care groups")
    )
    is_active = models.BooleanField(pgettext_lazy("on the register", "active"), default=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["grid", "is_active"]),
            models.Index(fields=["birth_date"]),
            models.Index(fields=["phone_bidx"], name="person_phone_bidx"),
        ]
        constraints = [models.UniqueConstraint(fields=["id_number_bidx"], name="person_id_number_bidx_unique")]

    def __str__(self) -> str:
        from communitygrid.privacy.masking import mask_name

        # Names in lists are masked too; full names show on the record page within scope.
        return mask_name(self.name)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class PersonCareTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(
        CareTag, on_delete=models.PROTECT, related_name="person_links", verbose_name=pgettext_lazy("special-care", "group")
    )
    level = models.CharField(pgettext_lazy("care level", "level"), max_length=16, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        verbose_name = _("special-care membership")
        verbose_name_plural = _("special-care memberships")
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="person_tag_unique")]
