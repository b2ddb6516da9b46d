"""Every read of plaintext sensitive data, and every write to the access log.

A masked value becomes plaintext only through :func:`sensitive_reveal`, which checks the
actor's role and scope, demands a purpose and writes one append-only :class:`AccessLog`
row in the same transaction as the read. Exports and searches that touch sensitive
fields record themselves with :func:`access_log_record`.
"""
from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import models, transaction
from django.utils.translation import gettext as _

from communitygrid.accounts import scopes
from communitygrid.privacy import scoping
from communitygrid.privacy.fields import EncryptedField
from communitygrid.privacy.models import AccessLog

PURPOSE_MIN_CHARS = 4
PURPOSE_MAX_CHARS = 500


def _invalid(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def clean_purpose(purpose: str | None) -> str:
    """The trimmed purpose, or a ValidationError on ``purpose`` saying what is wrong.

    "Meaningful" counts letters and digits (a Chinese character is a letter), and at
    least two different ones, so "...." or "aaaa" is not a purpose.
    """
    text = " ".join((purpose or "").split())
    if not text:
        raise _invalid("purpose", _("Say why you need to see this data."), "required")
    meaningful = [ch for ch in text if ch.isalnum()]
    if len(meaningful) < PURPOSE_MIN_CHARS or len(set(meaningful)) < 2:
        raise _invalid("purpose", _("The purpose is too short: describe it in at least %(count)d letters or characters.")
                       % {"count": PURPOSE_MIN_CHARS}, "too_short")
    if len(text) > PURPOSE_MAX_CHARS:
        raise _invalid("purpose", _("The purpose is too long (at most %(count)d characters).")
                       % {"count": PURPOSE_MAX_CHARS}, "too_long")
    return text


def encrypted_field_names(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def _clean_fields(model: type[models.Model], fields: list[str]) -> list[str]:
    names = list(dict.fromkeys(fields or []))
    if not names:
        raise _invalid("fields", _("Choose at least one field to show."), "required")
    for name in names:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if not isinstance(field, EncryptedField):
            raise _invalid("fields", _("%(field)s is not a protected field of %(model)s.")
                           % {"field": name, "model": model._meta.verbose_name}, "invalid")
    return names


def _clean_ip(ip_address: str | None) -> str | None:
    # The log must be written even if a proxy sends garbage: keep what is an address.
    if not ip_address:
        return None
    try:
        validate_ipv46_address(ip_address)
    except ValidationError:
        return None
    return ip_address


def _subject_grid_id(obj: models.Model) -> int | None:
    try:
        field = obj._meta.get_field("grid")
    except FieldDoesNotExist:
        return None
    return getattr(obj, field.attname, None) if field.is_relation else None


def _label(obj: models.Model) -> str:
    # str() of a person is already masked; a record's label never carries plaintext.
    return str(obj)[:200]


def sensitive_reveal(*, actor, obj: models.Model, fields: list[str], purpose: str,
                     ip_address: str | None = None, within: models.Model | None = None) -> dict[str, str]:
    """The plaintext of ``fields`` of ``obj``, after the role, scope and purpose checks.

    ``within``: the record that is the reason to read ``obj`` when ``obj`` has no area of its
    own (a case, for its reporter's mobile number): the entry takes its grid, so the area's
    reviewers see it, and names it in its label.

    Raises PermissionDenied when the actor may not reveal this record, ValidationError
    (on ``fields`` or ``purpose``) on bad input. Writes exactly one AccessLog row.
    """
    model = type(obj)
    with transaction.atomic():
        # Read the row through the actor's scoped selector for "reveal" (what
        # ``scoping.in_scope`` asks), so the values returned are the stored ones and the check
        # and the read cannot disagree. The selector owns the whole rule, role included: people
        # records follow ``scopes.may`` by role and area, a case's caller follows who handles
        # the case (a department's staff included).
        current = scoping.scoped_queryset(model, actor, "reveal").filter(pk=obj.pk).first()
        if current is None:
            if not scopes.may(actor, "reveal"):
                raise PermissionDenied(_("Your role may not see unmasked personal data."))
            raise PermissionDenied(_("This record is outside the area you are responsible for."))
        names = _clean_fields(model, fields)
        text = clean_purpose(purpose)
        revealed = {name: (value.reveal() if (value := getattr(current, name)) is not None else "")
                    for name in names}
        AccessLog.objects.create(
            actor=actor,
            actor_role=actor.role,
            action=AccessLog.Action.REVEAL,
            subject_type=model._meta.label_lower,
            subject_id=current.pk,
            subject_label=_label(current) if within is None else
            f"{_label(current)} · {within._meta.verbose_name} #{within.pk}"[:200],
            subject_grid_id=_subject_grid_id(current if within is None else within),
            fields=names,
            purpose=text,
            count=1,
            ip_address=_clean_ip(ip_address),
        )
    return revealed


def access_log_record(*, actor, action: str, subject, fields: list[str], purpose: str, count: int = 1,
                      ip_address: str | None = None) -> AccessLog:
    """Log an export or search that touched sensitive fields.

    ``subject`` is one record, or the model class when many records were touched
    (``count`` says how many). The caller has already checked scope; this only records.
    """
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access-log action {action!r}")
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Sign in first."))
    if count < 0:
        raise ValueError("count must not be negative")
    if isinstance(subject, models.Model):
        model, record = type(subject), subject
    elif isinstance(subject, type) and issubclass(subject, models.Model):
        model, record = subject, None
    else:
        raise TypeError("subject must be a model instance or a model class")
    names = _clean_fields(model, fields)
    return AccessLog.objects.create(
        actor=actor,
        actor_role=actor.role,
        action=action,
        subject_type=model._meta.label_lower,
        subject_id=record.pk if record is not None else None,
        subject_label=_label(record) if record is not None else str(model._meta.verbose_name_plural)[:200],
        subject_grid_id=_subject_grid_id(record) if record is not None else None,
        fields=names,
        purpose=clean_purpose(purpose),
        count=count,
        ip_address=_clean_ip(ip_address),
    )
