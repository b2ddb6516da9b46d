"""The append-only log of every read of sensitive personal data."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("access log entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("access log entries cannot be deleted")


class AccessLog(models.Model):
    """Who read whose sensitive fields, when, and why. Database triggers forbid UPDATE/DELETE."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Revealed masked fields")
        EXPORT = "export", _("Exported records")
        SEARCH = "search", _("Searched by a sensitive field")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    actor_role = models.CharField(_("role"), max_length=32)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    subject_type = models.CharField(_("record type"), max_length=64)
    subject_id = models.BigIntegerField(_("record id"), null=True, blank=True, db_index=True)
    subject_label = models.CharField(_("record"), max_length=200, blank=True)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.TextField(_("purpose"))
    count = models.PositiveIntegerField(_("records"), default=1)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("sensitive data access")
        verbose_name_plural = _("sensitive data access log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("access log entries cannot be deleted")
