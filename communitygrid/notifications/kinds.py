"""The kinds of notification the apps send, with a label each, so that people choose them by
name (a webhook endpoint's kinds in the back-office) instead of typing codes.

An app registers its kinds when it is ready (``cases`` does in ``CasesConfig.ready``).
"""
from __future__ import annotations

_kinds: dict[str, object] = {}


def register(kind: str, label) -> None:
    _kinds[kind] = label


def choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """(code, label) of every registered kind, plus ``extra`` codes no longer registered
    (kept, never silently dropped from a stored list)."""
    known = list(_kinds.items())
    return known + [(code, code) for code in extra if code not in _kinds]
