"""Encrypted model fields whose Python value cannot be printed by accident.

``person.phone`` is a :class:`Sensitive`: ``str()`` and templates show the *masked* form;
only ``privacy.services`` call :meth:`Sensitive.reveal` (and write the access log). The
database column holds a Fernet token; an optional companion column holds the blind index,
kept in step whenever a plaintext is assigned.
"""
from __future__ import annotations

from django import forms
from django.db import models

from communitygrid.privacy import crypto
from communitygrid.privacy.masking import mask


class Sensitive:
    """An encrypted value. Renders masked; reveals only on explicit request."""

    __slots__ = ("kind", "_token", "_plain")

    def __init__(self, kind: str, *, token: str | None = None, plain: str | None = None):
        self.kind = kind
        self._token = token
        self._plain = plain

    @classmethod
    def from_plain(cls, kind: str, plain: str) -> "Sensitive":
        return cls(kind, token=crypto.encrypt(plain), plain=plain)

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = crypto.encrypt(self._plain or "")
        return self._token

    def reveal(self) -> str:
        """The plaintext. Call only from code that has checked scope and audits the read."""
        if self._plain is None:
            self._plain = crypto.decrypt(self._token)
        return self._plain

    @property
    def masked(self) -> str:
        return mask(self.kind, self.reveal())

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<Sensitive {self.kind}: {self.masked}>"

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __eq__(self, other) -> bool:
        if isinstance(other, Sensitive):
            return self.kind == other.kind and self.reveal() == other.reveal()
        return NotImplemented

    __hash__ = None  # mutable-ish wrapper; never a dict key


class _SensitiveDescriptor:
    def __init__(self, field: "EncryptedField"):
        self.field = field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        attname = self.field.attname
        if attname not in instance.__dict__:
            # Deferred (e.g. ``.only(...)``): load on first access, as Django's own descriptor does.
            instance.refresh_from_db(fields=[attname])
        return instance.__dict__.get(attname)

    def __set__(self, instance, value):
        field = self.field
        if value is None or value == "":
            instance.__dict__[field.attname] = None
            if field.blind_index_field:
                instance.__dict__[field.blind_index_field] = None
            return
        if isinstance(value, Sensitive):
            instance.__dict__[field.attname] = value
            return
        plain = str(value)
        instance.__dict__[field.attname] = Sensitive.from_plain(field.kind, plain)
        if field.blind_index_field:
            setattr(instance, field.blind_index_field, crypto.blind_index(field.kind, plain))


class EncryptedField(models.TextField):
    """A text column holding a Fernet token; Python value is :class:`Sensitive` or None.

    ``kind`` selects the masking rule and the blind-index domain; ``blind_index_field`` names
    a CharField on the same model that receives the keyed hash of every assigned plaintext.
    """

    def __init__(self, *args, kind: str = "text", blind_index_field: str | None = None, **kwargs):
        self.kind = kind
        self.blind_index_field = blind_index_field
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        if self.blind_index_field:
            kwargs["blind_index_field"] = self.blind_index_field
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _SensitiveDescriptor(self))

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        # Model.__init__ may have reset the companion column after our descriptor set it;
        # recompute from the plaintext whenever we hold one. Runs for save() and bulk_create().
        if self.blind_index_field:
            if value is None:
                setattr(model_instance, self.blind_index_field, None)
            elif value._plain is not None:
                setattr(model_instance, self.blind_index_field, crypto.blind_index(self.kind, value._plain))
        return value

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return Sensitive(self.kind, token=value)

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, Sensitive):
            return value or None
        return Sensitive.from_plain(self.kind, str(value))

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, Sensitive):
            return value.token
        return crypto.encrypt(str(value))

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else value.masked

    def formfield(self, **kwargs):
        # Forms never show a stored value (not even in the HTML source), and an empty input
        # keeps it: a form saved unchanged must not overwrite the value with its masked form.
        kwargs.pop("widget", None)
        kwargs["required"] = False
        return super().formfield(form_class=SensitiveFormField, widget=SensitiveInput, **kwargs)

    def save_form_data(self, instance, data):
        if data is None or data == "" or isinstance(data, Sensitive):
            return
        super().save_form_data(instance, data)


class SensitiveInput(forms.TextInput):
    """A text input that renders empty, with the masked stored value as its placeholder."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        return None if isinstance(value, Sensitive) else super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if isinstance(value, Sensitive):
            context["widget"]["attrs"].setdefault("placeholder", value.masked)
        return context


class SensitiveFormField(forms.CharField):
    def has_changed(self, initial, data):
        return bool(data)

def models_with_encrypted_fields() -> dict[type[models.Model], list[EncryptedField]]:
    """Every installed model that has an EncryptedField, with those fields (app registry order)."""
    from django.apps import apps

    found: dict[type[models.Model], list[EncryptedField]] = {}
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
        if fields:
            found[model] = fields
    return found
