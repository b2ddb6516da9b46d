"""API keys for other systems: owned by an organisation, limited by scopes, an area and a rate.

A key acts through a service-account user of its own (role and scope nodes like any staff
member), so every scoped selector limits a key exactly as it limits a person. Only a hash and
a short prefix of the key are stored; the key itself is shown once, when it is created.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CASES_READ = "cases:read", _("Read cases")
    CASES_SUBMIT = "cases:submit", _("Submit cases")
    CASES_ACT = "cases:act", _("Act on cases")
    REGISTRY_READ = "registry:read", _("Read the registry")
    INSIGHTS_READ = "insights:read", _("Read insights")
    OPEN311 = "open311", _("Open311 GeoReport v2")


class Organisation(models.Model):
    """Who holds keys: a city system, a department's own system, a 311 app's operator."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("department"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=100)
    # "cg_" + prefix: shown in lists and logs to tell keys apart; never enough to use the key.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=60)
    # The service account the key acts as: its role and scope nodes are the key's area.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key", verbose_name=_("service account"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"), editable=False,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("revoked by"), editable=False,
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ApiKeyRateWindow(models.Model):
    """Requests of one key in one clock minute: a shared counter, so the limit holds across
    every web process (each request is one conditional UPDATE, or one INSERT per minute)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()  # Unix time // 60
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "minute"], name="apikey_rate_window_unique")]


class ApiKeyUse(models.Model):
    """One request made with a key, whatever its answer (refused ones too)."""

    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="uses", verbose_name=_("API key"))
    at = models.DateTimeField(_("at"))
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key use")
        verbose_name_plural = _("API key uses")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["key", "at"], name="apikeyuse_key_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"
