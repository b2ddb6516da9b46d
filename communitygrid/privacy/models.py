"""The append-only log of every read of sensitive personal data."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
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
        LINK = "link", _("Decided a request to link an account to the record")
        UNLINK = "unlink", _("Removed the link between an account and the record")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    actor_role = models.CharField(_("role"), max_length=32)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    subject_type = models.CharField(_("record type"), max_length=64)
    subject_id = models.BigIntegerField(_("record id"), null=True, blank=True, db_index=True)
    subject_label = models.CharField(_("record"), max_length=200, blank=True)
    # The grid the record lay in when it was read: area staff review reads inside their
    # scope, and the entry keeps its meaning after the person moves away.
    subject_grid = models.ForeignKey(
        "geo.Node", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
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

    def subject_model(self) -> type[models.Model] | None:
        from django.apps import apps

        try:
            return apps.get_model(self.subject_type)
        except (LookupError, ValueError):
            return None

    @property
    def subject_type_label(self) -> str:
        model = self.subject_model()
        return str(model._meta.verbose_name) if model else self.subject_type

    @property
    def field_labels(self) -> list[str]:
        """The logged field names as their (translated) labels, for display."""
        model = self.subject_model()
        labels = []
        for name in self.fields or []:
            try:
                labels.append(str(model._meta.get_field(name).verbose_name) if model else name)
            except FieldDoesNotExist:  # a field removed since the entry was written keeps its name
                labels.append(name)
        return labels

    @property
    def actor_role_label(self) -> str:
        from communitygrid.accounts.models import Role

        try:
            return str(Role(self.actor_role).label)
        except ValueError:
            return self.actor_role

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("access log entries cannot be deleted")
