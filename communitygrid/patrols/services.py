"""Every write to visits: start, end, and an issue found on the way becoming a case.

Times are taken from the server's clock here and nowhere else. Errors: ``ValidationError``
keyed by field (nothing written), ``PermissionDenied`` for a record the actor may not act on.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitygrid.cases.errors import CaseError
from communitygrid.cases.models import Channel
from communitygrid.cases.services import case_submit
from communitygrid.patrols import selectors
from communitygrid.patrols.models import Visit, VisitIssue, VisitPerson
from communitygrid.registry.models import Household
from communitygrid.registry.selectors import household_queryset, person_queryset

NOTES_MAX = 2000


def _already_open(visit: Visit) -> ValidationError:
    return ValidationError({"visit": ValidationError(
        _("You already have a visit under way (started at %(at)s); end it before starting another.")
        % {"at": timezone.localtime(visit.started_at).strftime("%H:%M")}, code="overlap")})


@transaction.atomic
def visit_start(*, actor, kind: str, household: Household | None = None, grid_id: int | None = None) -> Visit:
    """Start a patrol of a grid or a home visit to a household, now.

    A worker has at most one visit open at a time, so no two of their visits overlap.
    """
    if kind not in Visit.Kind.values:
        raise ValidationError({"kind": ValidationError(_("Choose a patrol or a home visit."), code="invalid")})
    grids = selectors.worker_grids(user=actor)
    if not grids.exists():
        raise PermissionDenied(_("Your role does not make patrols or home visits."))
    if kind == Visit.Kind.HOME:
        if household is None:
            raise ValidationError({"household": ValidationError(_("Choose the household you visit."), code="required")})
        household = household_queryset(user=actor, action="change").filter(pk=household.pk, is_active=True).first()
        if household is None:
            raise ValidationError({"household": ValidationError(
                _("This household does not exist or lies outside your area."), code="scope")})
        grid_id = household.grid_id
    else:
        household = None
        if grid_id is None and grids.count() == 1:
            grid_id = grids.get().pk
        if grid_id is None or not grids.filter(pk=grid_id).exists():
            raise ValidationError({"grid": ValidationError(_("Choose one of your grids to patrol."), code="scope")})
    current = selectors.open_visit(user=actor)
    if current is not None:
        raise _already_open(current)
    try:
        with transaction.atomic():
            return Visit.objects.create(kind=kind, worker=actor, grid_id=grid_id, household=household,
                                        started_at=timezone.now())
    except IntegrityError:
        # Two starts at once (a double tap): the other one won.
        current = selectors.open_visit(user=actor)
        if current is None:
            raise
        raise _already_open(current)


def _own_visit(actor, visit: Visit) -> Visit:
    if visit.worker_id != actor.pk:
        raise PermissionDenied(_("Only the worker who made a visit may record it."))
    return visit


def _person_ids(values: Iterable) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"people": ValidationError(
                _("“%(value)s” is not a person's number.") % {"value": value}, code="invalid")})
    return sorted(set(ids))


@transaction.atomic
def visit_end(*, actor, visit: Visit, outcome: str, notes: str = "", people: Iterable = ()) -> Visit:
    """End a visit now, with its outcome and the people seen (registry persons in scope).

    A visit shorter than the minimum or left open for hours is recorded with a flag and does
    not count for the care rules.
    """
    _own_visit(actor, visit)
    errors = {}
    if outcome not in Visit.Outcome.values:
        errors["outcome"] = ValidationError(_("Choose the outcome of the visit."), code="required")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = ValidationError(_("Notes are longer than %(n)d characters.") % {"n": NOTES_MAX}, code="max_length")
    try:
        ids = _person_ids(people)
    except ValidationError as exc:
        errors.update(exc.error_dict)
        ids = []
    found = set(person_queryset(user=actor).filter(pk__in=ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in ids if pk not in found]
    if missing and "people" not in errors:
        errors["people"] = ValidationError(_("Not found in your area: person %(ids)s.") % {"ids": ", ".join(missing)},
                                           code="scope")
    if outcome == Visit.Outcome.NOBODY_HOME and ids and "outcome" not in errors:
        errors["people"] = ValidationError(_("Nobody was at home, so nobody can be ticked as seen."), code="invalid")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    flag = Visit.flag_for(visit.started_at, now)
    if Visit.objects.filter(pk=visit.pk, ended_at__isnull=True).update(ended_at=now, outcome=outcome, notes=notes,
                                                                       flag=flag) != 1:
        raise ValidationError({"visit": ValidationError(_("This visit has already ended."), code="ended")})
    VisitPerson.objects.bulk_create([VisitPerson(visit=visit, person_id=pk) for pk in ids])
    visit.refresh_from_db()
    return visit


def visit_report_issue(*, actor, visit: Visit, category_code: str, description: str, building_id: int | None = None,
                       attachments=(), idempotency_key: str = "") -> VisitIssue:
    """An issue found on the visit becomes a case (the worker's discovery), linked to the visit.

    A home visit's issue lies at the household's flat; a patrol's at a building of the grid. A
    repeat with the same ``idempotency_key`` (a double tap) returns the first link.
    """
    _own_visit(actor, visit)
    place: dict = {}
    if visit.household_id and visit.household.room_id:
        place["room_id"] = visit.household.room_id
    else:
        if building_id is None:
            raise ValidationError({"building": ValidationError(_("Choose the building where the issue is."),
                                                               code="required")})
        if not selectors.visit_buildings(user=actor, visit=visit).filter(pk=building_id).exists():
            raise ValidationError({"building": ValidationError(
                _("This building does not exist or lies outside the patrolled grid."), code="scope")})
        place["building_id"] = building_id
    with transaction.atomic():
        try:
            result = case_submit(submitted_by=actor, channel=Channel.DISCOVERY, category_code=category_code,
                                 description=description, attachments=attachments,
                                 idempotency_key=(idempotency_key or "")[:100], **place)
        except CaseError as exc:
            raise ValidationError({_FIELDS.get(exc.field, exc.field or "description"): ValidationError(exc.message)})
        issue, _created = VisitIssue.objects.get_or_create(case=result.case, defaults={"visit": visit})
    return issue


# The case service's field names, as the issue form names them.
_FIELDS = {"category": "category", "description": "description", "attachments": "attachments",
           "location": "building", "room": "building", "building": "building", "idempotency_key": "description"}
