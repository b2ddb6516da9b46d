"""Export of households (one row per person) in the layout :mod:`importing` reads back.

Sensitive values are masked unless the export is *unmasked*: that needs a user whose role may
reveal, takes only the records inside that user's reveal scope, needs a purpose, and is written
to the access log (action ``export`` with the number of persons) before the file is written.
"""
from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from communitygrid.accounts.scopes import may
from communitygrid.geo.models import Node
from communitygrid.privacy.models import AccessLog
from communitygrid.privacy.services import access_log_record
from communitygrid.registry.importing import HOUSEHOLD_COLUMNS, export_label
from communitygrid.registry.models import Household, Person, PersonCareTag
from communitygrid.registry.selectors import person_queryset
from communitygrid.registry.tabular import detect_format, write_table

# Person fields whose plaintext an unmasked export contains (and the household's address).
EXPORTED_SENSITIVE_FIELDS = ["id_number", "phone", "registered_address", "health_notes", "emergency_contact_phone"]


class ExportError(ValueError):
    """The export was asked for something that does not exist (e.g. an unknown grid code)."""


def export_queryset(*, user=None, grid_code: str | None = None, action: str = "view") -> QuerySet[Person]:
    """Active persons to export: the user's scope for ``action`` (everyone when run without a user)."""
    queryset = person_queryset(user=user, action=action) if user is not None else Person.objects.all()
    if grid_code:
        path = Node.objects.filter(code=grid_code).values_list("path", flat=True).first()
        if path is None:
            raise ExportError(_("Unknown grid code “%(code)s”.") % {"code": grid_code})
        queryset = queryset.filter(grid__path__startswith=path)
    return (
        queryset.filter(is_active=True)
        .select_related("household__room__unit__building")
        .prefetch_related(Prefetch("tag_links", queryset=PersonCareTag.objects.select_related("tag")))
        .order_by("household__code", "id")
    )


def _choice(field_name: str, code: str, language: str, person: Person) -> str:
    if not code:
        return ""
    if language == "en":
        with translation.override("en"):
            return str(getattr(person, f"get_{field_name}_display")())
    return export_label(field_name, code)


def _tags(person: Person) -> str:
    links = person.tag_links.all()
    return "; ".join(f"{link.tag.code}:{link.level}" if link.level else link.tag.code for link in links)


def person_row(person: Person, *, unmasked: bool, language: str) -> list:
    """One export row in :data:`HOUSEHOLD_COLUMNS` order."""

    def sensitive(value) -> str:
        if value is None:
            return ""
        return value.reveal() if unmasked else str(value)

    household = person.household
    room = household.room if household else None
    tenure = _choice("tenure", household.tenure, language, household) if household else ""
    values = {
        "household_code": household.code if household else "",
        "building_code": room.unit.building.code if room else "",
        "unit": room.unit.number if room else "",
        "room": room.number if room else "",
        "address": sensitive(household.address) if household else "",
        "tenure": tenure,
        "name": person.name,
        "gender": _choice("gender", person.gender, language, person),
        "birth_date": person.birth_date,
        "id_number": sensitive(person.id_number),
        "phone": sensitive(person.phone),
        "household_role": _choice("household_role", person.household_role, language, person),
        "residence": _choice("residence", person.residence, language, person),
        "registered_address": sensitive(person.registered_address),
        "employment": _choice("employment", person.employment, language, person),
        "employer": person.employer,
        "care_tags": _tags(person),
        "emergency_contact_name": person.emergency_contact_name,
        "emergency_contact_phone": sensitive(person.emergency_contact_phone),
        "health_notes": sensitive(person.health_notes),
    }
    return [values[column.key] for column in HOUSEHOLD_COLUMNS]


def export_households(
    path: Path | str,
    *,
    user=None,
    grid_code: str | None = None,
    unmasked: bool = False,
    purpose: str = "",
    language: str = "zh-hans",
    ip_address: str | None = None,
) -> int:
    """Write the export file; return the number of persons written.

    Raises ``PermissionDenied`` (unmasked without a user allowed to reveal), ``ValidationError``
    (unmasked without a meaningful purpose) or :class:`ExportError`.
    """
    path = Path(path)
    detect_format(path, None)
    if unmasked:
        if user is None or not may(user, "reveal"):
            raise PermissionDenied(_("An unmasked export needs a user whose role may see unmasked personal data."))
        queryset = export_queryset(user=user, grid_code=grid_code, action="reveal")
        # Logged before a single value is written: a failed write leaves an over-cautious entry, never a gap.
        access_log_record(actor=user, action=AccessLog.Action.EXPORT, subject=Person,
                          fields=EXPORTED_SENSITIVE_FIELDS, purpose=purpose, count=queryset.count(),
                          ip_address=ip_address)
        access_log_record(actor=user, action=AccessLog.Action.EXPORT, subject=Household, fields=["address"],
                          purpose=purpose, count=queryset.exclude(household=None).values("household_id")
                          .distinct().count(), ip_address=ip_address)
    else:
        queryset = export_queryset(user=user, grid_code=grid_code, action="view")
    headers = [column.header(language) for column in HOUSEHOLD_COLUMNS]
    rows = (person_row(person, unmasked=unmasked, language=language) for person in queryset.iterator(chunk_size=2000))
    return write_table(path, headers, rows)
