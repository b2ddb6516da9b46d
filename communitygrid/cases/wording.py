"""The notes the system writes into a case's record, worded when they are read, in the reader's language.

The record keeps each such note twice: as text in the site's language (``CaseEvent.note``, what
exports, the back-office and older releases read) and as parts in ``CaseEvent.data["why"]``: a
list of ``{"code": ..., "params": {...}}``. A page puts the parts into words in its own language
(:func:`render`), so a routing reason written under zh-Hans reads in English on an English page.

Parameters hold plain values and ids, never words: ``person`` (a user), ``category``,
``department`` and ``grid`` are looked up when read, ``tier`` is a tier code and ``at`` an ISO
moment shown in the site's time zone, its date in the reader's language's form. A note whose
code this release does not know, or whose ids are gone, is shown as its stored text.
"""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy, pgettext_lazy

TEXT = "text"  # words a person typed, shown as they are

MESSAGES = {
    # Tier (the "submit" step): joined by "; ".
    "tier_default": gettext_lazy("category default: %(tier)s"),
    "tier_danger_word": gettext_lazy("danger word “%(word)s”"),
    "tier_help_call": gettext_lazy("call for help or alarm"),
    "tier_care_group": gettext_lazy("reporter in a special-care group: %(groups)s"),
    # Routing (the "dispatch" and "redispatch" steps): the parts follow each other.
    "route_department_queue": gettext_lazy(
        "Category %(category)s is handled by %(department)s; routed to the department's queue "
        "(%(count)d staff, none under the cap of %(cap)d)."),
    "route_department": gettext_lazy("Category %(category)s is handled by %(department)s; "),
    "route_department_fewest": gettext_lazy("%(person)s has the fewest open cases (%(load)d, cap %(cap)d)."),
    "route_familiar": gettext_lazy(
        "%(person)s handled %(nearby)d %(category)s cases within %(radius)d m in the last %(days)d days "
        "and holds %(load)d open cases (the lightest load is %(lightest)d, cap %(cap)d)."),
    "route_no_department": gettext_lazy("No active department of the category's kind covers grid %(grid)s; "),
    "route_grid_fewest": gettext_lazy(
        "%(person)s has the fewest open cases among the %(count)d grid workers of grid %(grid)s "
        "(%(load)d, cap %(cap)d)."),
    "route_grid_all_at_cap": gettext_lazy(
        "All %(count)d grid workers of grid %(grid)s hold %(cap)d open cases or more; "
        "left for the community to dispatch."),
    "route_grid_no_worker": gettext_lazy("Grid %(grid)s has no grid worker; left for the community to dispatch."),
    "redispatch_chosen": gettext_lazy("Chosen by %(actor)s."),
    "redispatch_sent": gettext_lazy("Sent to %(department)s by %(actor)s."),
    # The sweep and the verdict.
    "escalate_not_responded": gettext_lazy("no one responded by %(at)s"),
    "escalate_not_resolved": gettext_lazy("not resolved by %(at)s"),
    "close_by_default": gettext_lazy("No answer from the resident within 7 days: confirmed by default."),
}
# How the parts of a step's note are joined, in the reader's language ("；" in zh-Hans).
# Between the items of a list in a note: "空巢老人、独居老人", "living alone, empty nest".
LIST_SEPARATOR = pgettext_lazy("between the items of a list in a note", ", ")
SEPARATORS = {"submit": pgettext_lazy("joins the reasons of a tier in a note", "; "), "redispatch": " "}


class _Gone(Exception):
    """An id of the note no longer names anything."""


class Note:
    """A system note being written: its parts (ids and plain values) and, from the objects in
    hand, its text in the active language, with no query."""

    def __init__(self, separator: str = ""):
        self.parts: list[dict] = []
        self._texts: list[str] = []
        self.separator = separator

    def add(self, code: str, **values) -> "Note":
        if code != TEXT and code not in MESSAGES:
            raise KeyError(f"no wording for {code!r}")
        self.parts.append({"code": code, "params": {name: _stored(value) for name, value in values.items()}})
        self._texts.append(str(values["text"]) if code == TEXT else
                           str(MESSAGES[code]) % {name: _word(name, value) for name, value in values.items()})
        return self

    def extend(self, other: "Note") -> "Note":
        self.parts += other.parts
        self._texts += other._texts
        return self

    @property
    def text(self) -> str:
        return self.separator.join(self._texts)

    def __bool__(self) -> bool:
        return bool(self.parts)


def _stored(value):
    if isinstance(value, list):  # the special-care groups: their codes
        return [getattr(item, "code", item) for item in value]
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _word(name: str, value) -> object:
    """A value as the note says it, from the object itself."""
    from communitygrid.cases.models import Tier

    if name == "tier":
        return Tier(value).label
    if name == "category":
        return value.label
    if name in ("department", "grid"):
        return value.name
    if name in ("person", "actor"):
        return str(value)
    if name == "at":
        from communitygrid.notifications.kinds import moment

        return moment(value)  # "March 2, 2026 10:00", "2026年3月2日 10:00", as the notices say theirs
    if name == "groups":
        return str(LIST_SEPARATOR).join(str(item) for item in value)
    return value


def render(event_data: dict | None, *, action: str = "") -> str | None:
    """The event's note in the active language, or None when the stored text must be shown."""
    parts = (event_data or {}).get("why")
    if not parts or not isinstance(parts, list):
        return None
    try:
        return SEPARATORS.get(action, "").join(_one(item) for item in parts)
    except (KeyError, TypeError, ValueError, _Gone):
        return None


def _one(item: dict) -> str:
    code, params = item["code"], dict(item.get("params") or {})
    if code == TEXT:
        return str(params["text"])
    return str(MESSAGES[code]) % {name: _word(name, _loaded(name, value)) for name, value in params.items()}


def _loaded(name: str, value):
    """The object a stored parameter names (ids looked up; a moment parsed)."""
    from communitygrid.accounts.models import Department, User
    from communitygrid.cases.models import Category
    from communitygrid.geo.models import Node

    model = {"person": User, "actor": User, "department": Department, "grid": Node, "category": Category}.get(name)
    if model is not None:
        found = model.objects.filter(pk=value).first()
        if found is None:
            raise _Gone(name)
        return found
    if name == "at":
        return dt.datetime.fromisoformat(value) if value else None
    if name == "groups":
        # Codes of special-care groups, named in the reader's language; a value that is not a
        # code (notes written before codes were stored: the names themselves) is shown as it is.
        from communitygrid.registry.models import CareTag

        tags = {tag.code: tag for tag in CareTag.objects.filter(code__in=[str(item) for item in value])}
        return [tags.get(item, item) for item in value]
    return value
