"""The registry JSON API (mounted at /api/v1/registry, session auth).

Every value of an encrypted field is masked in every response; ``POST /persons/{id}/reveal``
is the one way to plaintext, through ``privacy.services.sensitive_reveal`` (purpose required,
logged). Records outside the caller's scope answer 404, so their existence is not revealed;
roles that work with no people records answer 403.
"""

import datetime as dt
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import BeforeValidator

from communitygrid.accounts.scopes import may
from communitygrid.privacy.services import sensitive_reveal
from communitygrid.registry import selectors
from communitygrid.registry.models import Household, Person
from communitygrid.restapi.errors import ErrorOut
from communitygrid.restapi.pagination import LimitOffset

router = Router(tags=["registry"])


def _masked(value) -> str:
    return "" if value is None else str(value)


# An encrypted field's value as its masked text ("" when empty): no response can carry plaintext.
Masked = Annotated[str, BeforeValidator(_masked)]


def _require_people_access(request: HttpRequest) -> None:
    if not may(request.auth, "view"):
        raise HttpError(403, _("Your role does not work with people records."))


def _bad_input(error: ValidationError) -> HttpError:
    return HttpError(400, " ".join(error.messages))


class CareTagOut(Schema):
    code: str
    name: str
    level: str


class PersonOut(Schema):
    """A person; every protected value masked (e.g. ``110***********0214``)."""

    id: int
    name: str
    gender: str
    birth_date: dt.date
    id_number: Masked
    phone: Masked
    household_id: int | None
    household_code: str | None = None
    household_role: str
    grid_code: str
    residence: str
    registered_address: Masked
    employment: str
    employer: str
    health_notes: Masked
    emergency_contact_name: str
    emergency_contact_phone: Masked
    care_tags: list[CareTagOut]
    is_active: bool
    last_verified_at: dt.datetime | None

    @staticmethod
    def resolve_household_code(obj: Person) -> str | None:
        return obj.household.code if obj.household_id else None

    @staticmethod
    def resolve_grid_code(obj: Person) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_care_tags(obj: Person) -> list[dict]:
        return [{"code": link.tag.code, "name": link.tag.label, "level": link.level} for link in obj.tag_links.all()]


class PersonFilters(Schema):
    name: str = Field("", description="Part of the name.")
    id_number: str = Field("", description="Exact ID number (blind index; the search is logged).")
    phone: str = Field("", description="Exact phone number in any usual format (blind index; logged).")
    grid: str = Field("", description="Code of a grid or area: everything below it.")
    care_tag: str = Field("", description="Code of a special-care group.")


class MemberOut(Schema):
    id: int
    name: str
    household_role: str


class HouseholdOut(Schema):
    id: int
    code: str
    grid_code: str
    building_code: str | None
    unit: str | None
    room: str | None
    address: Masked
    tenure: str
    is_active: bool
    last_verified_at: dt.datetime | None

    @staticmethod
    def resolve_grid_code(obj: Household) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_building_code(obj: Household) -> str | None:
        return obj.room.unit.building.code if obj.room_id else None

    @staticmethod
    def resolve_unit(obj: Household) -> str | None:
        return obj.room.unit.number if obj.room_id else None

    @staticmethod
    def resolve_room(obj: Household) -> str | None:
        return obj.room.number if obj.room_id else None



class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj: Household) -> list[Person]:
        return obj.visible_members  # set by the handler: only the members the caller may see


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    address: str
    kind: str
    floors: int | None
    lon: float
    lat: float
    grid_code: str
    household_count: int

    @staticmethod
    def resolve_grid_code(obj) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_household_count(obj) -> int:
        return obj.household_count or 0


class RevealIn(Schema):
    fields: list[str] = Field(default_factory=list, description="Names of protected fields, e.g. id_number, phone.")
    purpose: str = Field("", description="Why the values are needed; required and logged.")


class RevealOut(Schema):
    id: int
    values: dict[str, str]


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.get("/persons", response={200: list[PersonOut], 400: ErrorOut, 403: ErrorOut})
@paginate(LimitOffset)
def list_persons(request, filters: Query[PersonFilters]):
    """Persons in the caller's scope (a resident: their own record), protected values masked."""
    _require_people_access(request)
    try:
        persons = selectors.person_list(user=request.auth, name=filters.name, id_number=filters.id_number,
                                        phone=filters.phone, grid_code=filters.grid, care_tag=filters.care_tag,
                                        ip_address=request.META.get("REMOTE_ADDR"))
    except ValidationError as exc:
        raise _bad_input(exc) from None
    return persons.prefetch_related("tag_links__tag")


def _person_or_404(request, person_id: int) -> Person:
    _require_people_access(request)
    person = selectors.person_get(user=request.auth, pk=person_id)
    if person is None:
        raise HttpError(404, _("No such record in your area."))
    return person


@router.get("/persons/{person_id}", response={200: PersonOut, **ERRORS})
def get_person(request, person_id: int):
    """One person in the caller's scope; 404 outside it."""
    return _person_or_404(request, person_id)


@router.post("/persons/{person_id}/reveal", response={200: RevealOut, **ERRORS})
def reveal_person(request, person_id: int, payload: RevealIn, response: HttpResponse):
    """Plaintext of the chosen protected fields, for a stated purpose; written to the access log."""
    person = _person_or_404(request, person_id)
    if not may(request.auth, "reveal"):
        raise HttpError(403, _("Your role may not see unmasked personal data."))
    try:
        values = sensitive_reveal(actor=request.auth, obj=person, fields=payload.fields, purpose=payload.purpose,
                                  ip_address=request.META.get("REMOTE_ADDR"))
    except ValidationError as exc:
        raise _bad_input(exc) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    response["Cache-Control"] = "no-store"
    return {"id": person.pk, "values": values}


@router.get("/households", response={200: list[HouseholdOut], 403: ErrorOut})
@paginate(LimitOffset)
def list_households(request, grid: str = ""):
    """Households in the caller's scope, address masked."""
    _require_people_access(request)
    return selectors.household_list(user=request.auth, grid_code=grid)


@router.get("/households/{household_id}", response={200: HouseholdDetailOut, **ERRORS})
def get_household(request, household_id: int):
    """One household and the members the caller may see; 404 outside scope. A resident reading
    their own household gets everyone registered in it (masked name and relationship), as the
    resident's household page shows them."""
    _require_people_access(request)
    user = request.auth
    household = selectors.household_get(user=user, pk=household_id)
    if household is None:
        raise HttpError(404, _("No such record in your area."))
    members = selectors.visible_household_members(user=user, household=household)
    # A resident is given names masked, as on their household page (str() of a person masks it).
    household.visible_members = ([{"id": m.pk, "name": str(m), "household_role": m.household_role} for m in members]
                                 if selectors.sees_as_resident(user) else list(members))
    return household


@router.get("/buildings", response={200: list[BuildingOut], 403: ErrorOut})
@paginate(LimitOffset)
def list_buildings(request, grid: str = "", q: str = ""):
    """Buildings in the caller's scope with their number of active households."""
    _require_people_access(request)
    return selectors.building_list(user=request.auth, q=q, grid_code=grid)
