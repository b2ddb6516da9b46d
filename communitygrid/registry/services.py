"""Every write to people, households and buildings records made by a person (pages, API, admin).

Each service checks that the actor may ``change`` the record (through the selectors), validates
every field it is given, and writes in one transaction. Errors: ``PermissionDenied`` when the
record lies outside the actor's change scope, ``ValidationError`` (keyed by field) for bad values.
Bulk loads from files go through :mod:`communitygrid.registry.importing` instead.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitygrid.privacy import crypto
from communitygrid.registry import selectors
from communitygrid.registry.models import CareTag, Household, Person, PersonCareTag, Room
from communitygrid.registry.validators import (
    normalise_phone,
    parse_date,
    parse_id_number,
    reconcile_identity,
    validate_birth_date,
)

PERSON_TEXT_FIELDS = {"name", "employer", "emergency_contact_name"}
PERSON_CHOICE_FIELDS = {
    "gender": Person.Gender,
    "household_role": Person.HouseholdRole,
    "residence": Person.Residence,
    "employment": Person.Employment,
}
PERSON_SENSITIVE_TEXT_FIELDS = {"registered_address", "health_notes"}
PERSON_PHONE_FIELDS = {"phone", "emergency_contact_phone"}
PERSON_FIELDS = (
    PERSON_TEXT_FIELDS
    | set(PERSON_CHOICE_FIELDS)
    | PERSON_SENSITIVE_TEXT_FIELDS
    | PERSON_PHONE_FIELDS
    | {"id_number", "birth_date", "household", "care_tags", "is_active"}
)
HOUSEHOLD_FIELDS = {"address", "tenure", "note", "is_active", "room"}


def _locked(queryset, pk: int):
    """The row inside the actor's change scope, locked for this transaction, or PermissionDenied."""
    obj = queryset.select_for_update().filter(pk=pk).first()
    if obj is None:
        raise PermissionDenied(_("You may not change this record."))
    return obj


def _unknown_fields(given: Mapping, allowed: set[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(unknown)}, code="unknown_field"
        )


def _clean_person_changes(person: Person, changes: Mapping[str, object], *, actor) -> dict[str, object]:
    """Validated values for ``person``, every problem collected under its field name."""
    cleaned: dict[str, object] = {}
    errors: dict[str, ValidationError] = {}

    def attempt(field: str, clean) -> None:
        try:
            cleaned[field] = clean(changes[field])
        except ValidationError as exc:
            errors[field] = exc

    for field in PERSON_TEXT_FIELDS & set(changes):
        attempt(field, lambda value: str(value or "").strip())
    if "name" in cleaned and not cleaned["name"]:
        errors["name"] = ValidationError(_("Name must not be empty."), code="required")
    for field, choices in PERSON_CHOICE_FIELDS.items():
        if field in changes:
            attempt(field, lambda value, choices=choices, field=field: _choice(value, choices, field))
    for field in PERSON_SENSITIVE_TEXT_FIELDS & set(changes):
        attempt(field, lambda value: str(value or "").strip() or None)
    for field in PERSON_PHONE_FIELDS & set(changes):
        attempt(field, lambda value: normalise_phone(value) if str(value or "").strip() else None)
    if "is_active" in changes:
        cleaned["is_active"] = bool(changes["is_active"])
    if "birth_date" in changes:
        attempt("birth_date", lambda value: validate_birth_date(parse_date(value)))
    if "id_number" in changes:
        attempt("id_number", lambda value: parse_id_number(value))
    if "household" in changes:
        attempt("household", lambda value: _household_in_scope(value, actor=actor))
    if "care_tags" in changes:
        attempt("care_tags", lambda value: care_tag_levels(value))
    if errors:
        raise ValidationError(errors)

    parsed_id = cleaned.get("id_number")
    if parsed_id is None and person.id_number is not None and {"birth_date", "gender"} & set(cleaned):
        # Read only to check agreement with the stored number; nothing is shown or returned.
        parsed_id = parse_id_number(person.id_number.reveal())
    if parsed_id is not None:
        cleaned["birth_date"], cleaned["gender"] = reconcile_identity(
            parsed_id, birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
        )
    if "id_number" in cleaned:
        cleaned["id_number"] = parsed_id.number
        holder = (
            Person.objects.filter(id_number_bidx=crypto.blind_index("id_number", parsed_id.number))
            .exclude(pk=person.pk)
            .exists()
        )
        if holder:
            raise ValidationError(
                {"id_number": ValidationError(_("Another person in the registry already has this ID number."),
                                              code="duplicate")}
            )
    return cleaned


def _choice(value, choices, field: str) -> str:
    text = str(value or "").strip()
    if field == "employment" and not text:
        return ""
    if text not in choices.values:
        raise ValidationError(
            _("“%(value)s” is not one of the allowed values: %(allowed)s."),
            code="invalid_choice",
            params={"value": text, "allowed": ", ".join(choices.values)},
        )
    return text


def _household_in_scope(value, *, actor) -> Household | None:
    if value is None:
        return None
    pk = value.pk if isinstance(value, Household) else value
    household = selectors.household_queryset(user=actor, action="change").filter(pk=pk).first()
    if household is None:
        raise ValidationError(_("This household does not exist or lies outside your area."), code="scope")
    return household


def care_tag_levels(value: Mapping[str, str] | list) -> dict[CareTag, str]:
    """``{"elderly_alone": "", "disabled": "二级"}`` (or a list of codes) → tags with canonical levels."""
    wanted = dict(value) if isinstance(value, Mapping) else {code: "" for code in value}
    tags = {tag.code: tag for tag in CareTag.objects.filter(code__in=list(wanted))}
    result: dict[CareTag, str] = {}
    problems = []
    for code, raw_level in wanted.items():
        tag = tags.get(code)
        if tag is None:
            problems.append(_("unknown special-care group “%(code)s”") % {"code": code})
            continue
        result[tag], problem = tag_level(tag, raw_level)
        if problem:
            problems.append(problem)
    if problems:
        raise ValidationError(_("; ").join(problems), code="care_tag")
    return result


def tag_level(tag: CareTag, raw_level: str) -> tuple[str, str | None]:
    """(canonical level, problem or None) for a level written against ``tag``."""
    raw_level = (raw_level or "").strip()
    if not raw_level:
        return "", None
    level = tag.canonical_level(raw_level)
    if level is None:
        if not tag.has_level:
            return "", _("special-care group “%(code)s” takes no level") % {"code": tag.code}
        return "", _("“%(level)s” is not a level of “%(code)s” (allowed: %(allowed)s)") % {
            "level": raw_level,
            "code": tag.code,
            "allowed": ", ".join(tag.levels),
        }
    return level, None


def _set_care_tags(person: Person, tags: dict[CareTag, str]) -> None:
    existing = {link.tag_id: link for link in person.tag_links.all()}
    PersonCareTag.objects.filter(person=person).exclude(tag_id__in=[tag.pk for tag in tags]).delete()
    for tag, level in tags.items():
        link = existing.get(tag.pk)
        if link is None:
            PersonCareTag.objects.create(person=person, tag=tag, level=level, since=timezone.localdate())
        elif link.level != level:
            link.level = level
            link.save(update_fields=["level"])


def person_validate(*, actor, person: Person, changes: Mapping[str, object]) -> dict[str, object]:
    """The cleaned values ``person_update`` would write, or ``ValidationError`` keyed by field; writes nothing.

    Lets a form show every problem next to its field before anything is saved.
    """
    _unknown_fields(changes, PERSON_FIELDS)
    return _clean_person_changes(person, changes, actor=actor)


@transaction.atomic
def person_update(*, actor, person: Person, changes: Mapping[str, object]) -> Person:
    """Change the given fields of a person within the actor's change scope.

    ``changes`` maps field names to new values (``care_tags``: ``{code: level}``; ``household``:
    a Household in scope, which also moves the person to its grid). A new ID number must pass
    GB 11643 and agree with the birth date and gender (taken from it when not given).
    """
    _unknown_fields(changes, PERSON_FIELDS)
    person = _locked(selectors.person_queryset(user=actor, action="change"), person.pk)
    cleaned = _clean_person_changes(person, changes, actor=actor)
    tags = cleaned.pop("care_tags", None)
    if "household" in cleaned:
        person.household = cleaned.pop("household")
        if person.household is not None:
            person.grid_id = person.household.grid_id
    for field, value in cleaned.items():
        setattr(person, field, value)
    person.save()
    if tags is not None:
        _set_care_tags(person, tags)
    return person


@transaction.atomic
def person_create(*, actor, household: Household, values: Mapping[str, object]) -> Person:
    """Add a person to a household within the actor's change scope (ID number required)."""
    _unknown_fields(values, PERSON_FIELDS - {"household"})
    household = _locked(selectors.household_queryset(user=actor, action="change"), household.pk)
    if not str(values.get("id_number") or "").strip():
        raise ValidationError({"id_number": ValidationError(_("ID number is required."), code="required")})
    if not str(values.get("name") or "").strip():
        raise ValidationError({"name": ValidationError(_("Name must not be empty."), code="required")})
    person = Person(household=household, grid_id=household.grid_id)
    cleaned = _clean_person_changes(person, values, actor=actor)
    tags = cleaned.pop("care_tags", None)
    for field, value in cleaned.items():
        setattr(person, field, value)
    person.save()
    if tags:
        _set_care_tags(person, tags)
    return person


@transaction.atomic
def person_verify(*, actor, person: Person, at: dt.datetime | None = None) -> Person:
    """Record that the actor checked this person's record against reality (freshness)."""
    person = _locked(selectors.person_queryset(user=actor, action="change"), person.pk)
    person.last_verified_at = at or timezone.now()
    person.last_verified_by = actor
    person.save(update_fields=["last_verified_at", "last_verified_by", "updated_at"])
    return person


@transaction.atomic
def household_create(*, actor, code: str, room: Room, address: str = "", tenure: str = Household.Tenure.OWNER,
                     note: str = "") -> Household:
    """A new household in a room of a building within the actor's change scope."""
    building = selectors.building_queryset(user=actor, action="change").filter(pk=room.unit.building_id).first()
    if building is None:
        raise PermissionDenied(_("You may not change this record."))
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": ValidationError(_("Household number must not be empty."), code="required")})
    if Household.objects.filter(code=code).exists():
        raise ValidationError({"code": ValidationError(_("This household number is already on file."),
                                                       code="duplicate")})
    return Household.objects.create(code=code, room=room, grid_id=building.grid_id, address=address.strip() or None,
                                    tenure=_choice(tenure, Household.Tenure, "tenure"), note=note.strip())


@transaction.atomic
def household_update(*, actor, household: Household, changes: Mapping[str, object]) -> Household:
    """Change a household's address, tenure, note, activity or room (moving its members' grid too)."""
    _unknown_fields(changes, HOUSEHOLD_FIELDS)
    household = _locked(selectors.household_queryset(user=actor, action="change"), household.pk)
    errors: dict[str, ValidationError] = {}
    if "tenure" in changes:
        try:
            household.tenure = _choice(changes["tenure"], Household.Tenure, "tenure")
        except ValidationError as exc:
            errors["tenure"] = exc
    if "address" in changes:
        household.address = str(changes["address"] or "").strip() or None
    if "note" in changes:
        household.note = str(changes["note"] or "").strip()
    if "is_active" in changes:
        household.is_active = bool(changes["is_active"])
    moved = False
    if "room" in changes:
        room = changes["room"]
        room = room if isinstance(room, Room) or room is None else Room.objects.filter(pk=room).first()
        building = room.unit.building if room is not None else None
        if room is None or not selectors.building_queryset(user=actor, action="change").filter(pk=building.pk).exists():
            errors["room"] = ValidationError(_("This room does not exist or lies outside your area."), code="scope")
        else:
            moved = household.grid_id != building.grid_id
            household.room, household.grid_id = room, building.grid_id
    if errors:
        raise ValidationError(errors)
    household.save()
    if moved:
        Person.objects.filter(household=household).update(grid_id=household.grid_id, updated_at=timezone.now())
    return household


# --- One-tap help (一键呼叫): a resident's home and emergency contact, joined to a case ----------

# Written to the access log in English, as the other purposes are.
EMERGENCY_CONTACT_PURPOSE = "one-tap help: the resident's emergency contact goes to the people who come"
ONE_TAP_CATEGORY = "elderly_help"


@transaction.atomic
def help_call_submit(*, user, idempotency_key: str, ip_address: str | None = None):
    """An urgent case at ``user``'s registered home, their emergency contact attached as the case's caller.

    The contact's number is read through the resident's own reveal (purpose logged) and stored
    encrypted on the case, where the handler reveals it (logged again) to call. One transaction:
    a refused submission (no registered home) leaves no reveal in the log. Returns the
    ``cases.services.SubmitResult``; bad input raises ``cases.errors.InvalidInput``.
    """
    from communitygrid.cases.models import Channel
    from communitygrid.cases.services import case_submit
    from communitygrid.privacy.services import sensitive_reveal

    person = selectors.person_queryset(user=user).filter(pk=user.person_id).first() if user.person_id else None
    contact_name, contact_phone = "", ""
    if person is not None and person.emergency_contact_name:
        contact_name = person.emergency_contact_name
        if person.emergency_contact_phone:
            contact_phone = sensitive_reveal(actor=user, obj=person, fields=["emergency_contact_phone"],
                                             purpose=EMERGENCY_CONTACT_PURPOSE, ip_address=ip_address
                                             )["emergency_contact_phone"]
    if contact_name:
        description = _("One-tap call for help from home. Emergency contact: %(name)s (number in the caller's "
                        "phone).") % {"name": contact_name}
    else:
        description = _("One-tap call for help from home.")
    return case_submit(submitted_by=user, channel=Channel.ONE_TAP, category_code=ONE_TAP_CATEGORY,
                       description=description, at_home=True, idempotency_key=idempotency_key,
                       caller_name=contact_name, caller_phone=contact_phone)
