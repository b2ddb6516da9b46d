"""Open311 GeoReport v2 over cases: attribute definitions of services (categories) and what a
request posted through Open311 carried beyond a normal case (token, address, attributes)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Datatype(models.TextChoices):
    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLEVALUELIST = "singlevaluelist", _("One choice from a list")
    MULTIVALUELIST = "multivaluelist", _("Several choices from a list")


LIST_DATATYPES = {Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST}


class ServiceAttribute(models.Model):
    """One question a service (a case category) asks when a request is posted.

    ``values`` holds the choices of a list attribute: ``[{"key": "...", "name": "...",
    "name_en": "..."}]``.
    """

    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="open311_attributes",
                                 verbose_name=_("category"))
    code = models.SlugField(_("code"), max_length=48)
    datatype = models.CharField(_("data type"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    # False: not a question, only information shown with the service (the spec's "variable").
    variable = models.BooleanField(_("needs an answer"), default=True)
    description = models.CharField(_("question (Chinese)"), max_length=300)
    description_en = models.CharField(_("question (English)"), max_length=300)
    datatype_description = models.CharField(_("hint on the answer"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code_unique")]

    def __str__(self) -> str:
        return f"{self.category.code}/{self.code}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        values = self.values or []
        if self.datatype in LIST_DATATYPES:
            if not isinstance(values, list) or not values or not all(
                    isinstance(v, dict) and str(v.get("key", "")).strip() and v.get("name") for v in values):
                raise ValidationError({"values": _("A list attribute needs choices, each with a key and a name: "
                                                   '[{"key": "yes", "name": "是", "name_en": "Yes"}].')})
            keys = [str(v["key"]) for v in values]
            if len(set(keys)) != len(keys):
                raise ValidationError({"values": _("Two choices have the same key.")})
        elif values:
            raise ValidationError({"values": _("Only list attributes have choices; leave them empty.")})

    @property
    def label(self) -> str:
        return self.description_en if (get_language() or "").startswith("en") else self.description

    def choices(self) -> list[dict]:
        english = (get_language() or "").startswith("en")
        return [{"key": str(v["key"]), "name": (v.get("name_en") if english else None) or v.get("name") or str(v["key"])}
                for v in self.values or []]


class Open311Request(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="open311",
                                verbose_name=_("case"))
    key = models.ForeignKey("apikeys.ApiKey", on_delete=models.PROTECT, related_name="+", verbose_name=_("API key"))
    token = models.CharField(_("token"), max_length=32, unique=True)
    address_string = models.CharField(_("address given"), max_length=300, blank=True)
    address_id = models.CharField(_("address id given"), max_length=64, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.case_id} ({self.token})"
