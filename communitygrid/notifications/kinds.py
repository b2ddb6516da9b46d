"""The kinds of notification the apps send: a label each, so that people choose them by name
(a webhook endpoint's kinds in the back-office), and the subject and body templates that
:func:`render` fills in, so every app words its messages the same way.

An app registers its kinds when it is ready (``cases`` in ``CasesConfig.ready``, ``accounts``
in ``AccountsConfig.ready``).
"""
from __future__ import annotations

from django.conf import settings
from django.utils import translation

_kinds: dict[str, object] = {}
_templates: dict[str, tuple[object, object]] = {}


def register(kind: str, label, *, subject=None, body=None) -> None:
    _kinds[kind] = label
    if subject is not None:
        _templates[kind] = (subject, body)


def render(kind: str, values: dict) -> tuple[str, str]:
    """(subject, body) of a registered kind, filled with ``values``, in the site's language:
    the outbox keeps one text for every channel."""
    subject, body = _templates[kind]
    with translation.override(settings.LANGUAGE_CODE):
        return str(subject) % values, str(body) % values


def label(kind: str) -> str:
    """A kind's name in the active language; its code when no app registers it."""
    return str(_kinds.get(kind, kind))


def choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """(code, label) of every registered kind, plus ``extra`` codes no longer registered
    (kept, never silently dropped from a stored list)."""
    known = list(_kinds.items())
    return known + [(code, code) for code in extra if code not in _kinds]
