"""The kinds of notification the apps send: a label each, so that people choose them by name
(a webhook endpoint's kinds in the back-office), and the subject and body templates that
:func:`word` fills in, so every app words its messages the same way.

A notification is worded twice. When it is queued, :func:`render` words it in the site's
language: the ``subject`` and ``body`` every channel sends (an e-mail, a webhook) and every
reader falls back on. Its kind and raw parameters (ids, codes, ISO moments, words a person
typed) are kept beside it, so the inbox words it again in its reader's language
(:func:`word`). An app whose parameters need looking up (a category's name in the reader's
language, a tier's label, a moment in the local time zone) registers ``values``: it turns the
stored parameters into the words to fill in, in the active language.

An app registers its kinds when it is ready (``cases`` in ``CasesConfig.ready``, ``accounts``
in ``AccountsConfig.ready``).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import formats, timezone, translation

log = logging.getLogger(__name__)

# The subject column's length (Notification.subject).
SUBJECT_MAX = 200

_kinds: dict[str, object] = {}
_templates: dict[str, tuple[object, object]] = {}
# kind -> values(params, cache): the words to fill in, in the active language. ``cache`` is
# shared by the rows worded together (one lookup per category on an inbox page).
_values: dict[str, Callable[[dict, dict], dict]] = {}
# kind -> prefetch(params_list, cache): loads into ``cache`` at once what ``values`` would look
# up row by row (the categories of an inbox page in one query).
_prefetch: dict[str, Callable[[list[dict], dict], None]] = {}

# What a wording that cannot be done raises: an unknown code, a missing parameter, an id gone.
CANNOT_WORD = (LookupError, TypeError, ValueError, AttributeError, ObjectDoesNotExist)


def register(kind: str, label, *, subject=None, body=None, values: Callable[[dict, dict], dict] | None = None,
             prefetch: Callable[[list[dict], dict], None] | None = None) -> None:
    _kinds[kind] = label
    if subject is not None:
        _templates[kind] = (subject, body)
    if values is not None:
        _values[kind] = values
    if prefetch is not None:
        _prefetch[kind] = prefetch


def prefetch(rows: list[tuple[str, object]], cache: dict) -> None:
    """Before wording many (kind, params) together: each registered ``prefetch`` is called once
    with the parameters of all the rows of its kinds. Best effort: what it cannot load is looked
    up (or not worded) row by row."""
    wanted: dict[Callable, list[dict]] = {}
    for kind, params in rows:
        if kind in _prefetch and kind in _templates and isinstance(params, dict):
            wanted.setdefault(_prefetch[kind], []).append(params)
    for load, params_list in wanted.items():
        try:
            load(params_list, cache)
        except CANNOT_WORD as error:
            log.info("notification parameters not prefetched (%r): looked up row by row", error)


def subject_line(text: str) -> str:
    """One line (a subject with a line break is an invalid e-mail header), cut to the column."""
    text = " ".join(text.split())
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1] + "…"


def _fill(kind: str, params: dict, cache: dict) -> tuple[str, str]:
    subject, body = _templates[kind]
    values = _values[kind](dict(params), cache) if kind in _values else dict(params)
    return subject_line(str(subject) % values), str(body) % values


def render(kind: str, params: dict, *, cache: dict | None = None) -> tuple[str, str]:
    """(subject, body) of a registered kind, filled with ``params``, in the site's language:
    the outbox keeps one text for every channel. Raises if the kind or a parameter is unknown."""
    with translation.override(settings.LANGUAGE_CODE):
        return _fill(kind, params, {} if cache is None else cache)


def word(kind: str, params: dict | None, *, cache: dict | None = None) -> tuple[str, str] | None:
    """(subject, body) in the active language from the stored parameters; None when they cannot
    be worded (a row stored before parameters were kept, a kind no app registers, a parameter
    missing or naming something gone): the reader then sees the stored text."""
    if not isinstance(params, dict) or kind not in _templates:
        return None
    try:
        return _fill(kind, params, {} if cache is None else cache)
    except CANNOT_WORD as error:
        log.info("notification kind %s not worded from its parameters (%r): stored text shown", kind, error)
        return None


def moment(value: str | dt.datetime | None) -> str:
    """A moment (stored as ISO, or in hand) in the local time zone, formatted for the active
    language ("—" for none); the case record's notes say theirs the same way (cases.wording).

    A moment without an offset is taken as local time."""
    if not value or value == "—":  # "—": no moment, as notices queued by an older release say it
        return "—"
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    local = timezone.localtime(parsed)
    # The language's date ("March 2, 2026", "2026年3月2日") and a 24-hour clock: a sentence that
    # ends on the moment does not end on "a.m.." in English.
    return f"{formats.date_format(local, 'DATE_FORMAT')} {local:%H:%M}"


def label(kind: str) -> str:
    """A kind's name in the active language; its code when no app registers it."""
    return str(_kinds.get(kind, kind))


def choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """(code, label) of every registered kind, plus ``extra`` codes no longer registered
    (kept, never silently dropped from a stored list)."""
    known = list(_kinds.items())
    return known + [(code, code) for code in extra if code not in _kinds]
