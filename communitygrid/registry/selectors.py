"""Every read of people, households and buildings, scoped to the acting user.

Nothing else in the project filters these tables for a user: pages, API, admin, exports and
``privacy.scoping`` all start from these querysets. Actions are those of
:mod:`communitygrid.accounts.scopes` (``view``, ``change``, ``reveal``).
"""
from __future__ import annotations

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from communitygrid.accounts.models import Role
from communitygrid.accounts.scopes import NOTHING, area_q
from communitygrid.privacy import crypto
from communitygrid.privacy.models import AccessLog
from communitygrid.privacy.services import access_log_record
from communitygrid.registry.models import Building, CareTag, Household, Person
from communitygrid.registry.validators import normalise_phone, parse_id_number

# Written to the access log in English; the log page translates by action, not by this text.
SEARCH_PURPOSE_ID = "exact search by ID number"
SEARCH_PURPOSE_PHONE = "exact search by phone number"


def _own_person_rows(user) -> QuerySet:
    person_id = getattr(user, "person_id", None)
    return Person.objects.filter(pk=person_id) if person_id else Person.objects.none()


def person_queryset(*, user, action: str = "view") -> QuerySet[Person]:
    """Persons ``user`` may take ``action`` on: staff by area, a resident their own row."""
    own = Q(pk=user.person_id) if getattr(user, "person_id", None) else NOTHING
    return Person.objects.filter(area_q(user, action, own_q=own))


def household_queryset(*, user, action: str = "view") -> QuerySet[Household]:
    """Households in scope; a resident reaches the household their own person row belongs to."""
    own = Q(pk__in=_own_person_rows(user).values("household_id")) if getattr(user, "person_id", None) else NOTHING
    return Household.objects.filter(area_q(user, action, own_q=own))


def building_queryset(*, user, action: str = "view") -> QuerySet[Building]:
    """Buildings in scope; a resident reaches the building of their own household."""
    own = (
        Q(pk__in=_own_person_rows(user).values("household__room__unit__building_id"))
        if getattr(user, "person_id", None)
        else NOTHING
    )
    return Building.objects.filter(area_q(user, action, own_q=own))


def person_list(
    *,
    user,
    name: str = "",
    id_number: str = "",
    phone: str = "",
    grid_code: str = "",
    care_tag: str = "",
    active_only: bool = True,
    ip_address: str | None = None,
) -> QuerySet[Person]:
    """The staff list of persons: by name fragment, exact ID number or phone (blind index, logged),
    grid (and everything below it) and special-care group.

    Raises ``ValidationError`` for a malformed ID number or phone number.
    """
    qs = person_queryset(user=user, action="view").select_related("grid", "household")
    if active_only:
        qs = qs.filter(is_active=True)
    if name.strip():
        qs = qs.filter(name__icontains=name.strip())
    if grid_code.strip():
        qs = qs.filter(grid__path__startswith=_node_path(grid_code.strip()))
    if care_tag.strip():
        # One membership per person and group (unique constraint): the join cannot repeat a person.
        qs = qs.filter(tag_links__tag__code=care_tag.strip())
    qs = qs.order_by("grid__path", "household__code", "id")
    searched = []
    if id_number.strip():
        qs = qs.filter(id_number_bidx=crypto.blind_index("id_number", parse_id_number(id_number).number))
        searched.append(("id_number", SEARCH_PURPOSE_ID))
    if phone.strip():
        qs = qs.filter(phone_bidx=crypto.blind_index("phone", normalise_phone(phone)))
        searched.append(("phone", SEARCH_PURPOSE_PHONE))
    if searched:
        found = list(qs[:2])
        count = len(found) if len(found) < 2 else qs.count()
        # One entry per search field, whatever page is shown: the count is of every match in scope.
        for field, purpose in searched:
            _log_search(user=user, field=field, purpose=purpose, found=found, count=count, ip_address=ip_address)
    return qs


def _node_path(code: str) -> str:
    from communitygrid.geo.models import Node

    path = Node.objects.filter(code=code).values_list("path", flat=True).first()
    # An unknown code matches nothing rather than everything.
    return path or "/nonexistent/"


def _log_search(*, user, field: str, purpose: str, found: list[Person], ip_address: str | None,
                count: int | None = None) -> None:
    """An exact search on an encrypted field is a read of it: logged even when nothing matched."""
    access_log_record(
        actor=user,
        action=AccessLog.Action.SEARCH,
        subject=found[0] if len(found) == 1 else Person,
        fields=[field],
        purpose=purpose,
        count=len(found) if count is None else count,
        ip_address=ip_address,
    )


def person_find_by_id_number(*, user, id_number: str, ip_address: str | None = None) -> Person | None:
    """The person in scope holding this ID number, found through the blind index.

    The search itself is logged (even when nothing is found): probing whether a number is on
    file is a read of sensitive data. Raises ``ValidationError`` for a malformed number.
    """
    number = parse_id_number(id_number).number
    found = list(
        person_queryset(user=user, action="view").filter(id_number_bidx=crypto.blind_index("id_number", number))[:1]
    )
    _log_search(user=user, field="id_number", purpose=SEARCH_PURPOSE_ID, found=found, ip_address=ip_address)
    return found[0] if found else None


def person_find_by_phone(*, user, phone: str, ip_address: str | None = None) -> list[Person]:
    """Persons in scope with this phone number (family members may share one), logged like the ID search."""
    normalised = normalise_phone(phone)
    found = list(
        person_queryset(user=user, action="view")
        .filter(phone_bidx=crypto.blind_index("phone", normalised))
        .select_related("grid", "household")
        .order_by("id")
    )
    _log_search(user=user, field="phone", purpose=SEARCH_PURPOSE_PHONE, found=found, ip_address=ip_address)
    return found


def person_get(*, user, pk: int, action: str = "view") -> Person | None:
    return (
        person_queryset(user=user, action=action)
        .select_related("grid", "household", "household__room__unit__building", "last_verified_by")
        .filter(pk=pk)
        .first()
    )


def household_get(*, user, pk: int, action: str = "view") -> Household | None:
    return (
        household_queryset(user=user, action=action)
        .select_related("grid", "room__unit__building", "last_verified_by")
        .filter(pk=pk)
        .first()
    )


def building_get(*, user, pk: int, action: str = "view") -> Building | None:
    return building_queryset(user=user, action=action).select_related("grid").filter(pk=pk).first()


def household_members(*, user, household: Household) -> QuerySet[Person]:
    return person_queryset(user=user, action="view").filter(household=household, is_active=True).order_by("id")


# What a member of a household is shown about the others: who they are and how they are related
# to the head, as a household register (户口簿) lists them, and nothing else. Conservative on
# purpose: a household here may hold lodgers (租户) and other non-relatives, who are strangers to
# one another, so the ID number, phone, birth date (a paper register shows it, but with a masked
# name it is what singles a person out), gender, health, employment and care groups stay with the
# member's own record. The name leaves masked (``str(person)``), as everywhere people are listed.
OWN_HOUSEHOLD_MEMBER_FIELDS = ("id", "name", "household_role", "household_id")

_ROLE_ORDER = Case(*(When(household_role=role, then=Value(n)) for n, role in enumerate(Person.HouseholdRole.values)),
                   default=Value(len(Person.HouseholdRole.values)), output_field=IntegerField())


def _own_households(user) -> QuerySet[Household]:
    """The household of the user's own record while both are active: a resident whose record was
    closed (moved out, deceased) no longer reads who lives in their former household."""
    rows = _own_person_rows(user).filter(is_active=True)
    return household_queryset(user=user, action="view").filter(pk__in=rows.values("household_id"), is_active=True)


def own_household_get(*, user) -> Household | None:
    """The household ``user``'s own person row belongs to, if they may see it; None otherwise."""
    return _own_households(user).first()


def own_household_members(*, user, household: Household | None = None) -> QuerySet[Person]:
    """The active members of the household ``user``'s own person row belongs to, head first, with
    only :data:`OWN_HOUSEHOLD_MEMBER_FIELDS` loaded: "who is registered in my household".

    The household is the one :func:`household_queryset` lets the user reach as their own, so a
    resident reads their own household and no other (``household`` narrows it further: another
    household gives nothing). ``person_queryset`` is left as it is: a fellow member's record page,
    reveal and export stay closed to the resident.

    Not written to the access log: names (masked) and relationships are not protected fields, and
    the log records reads of those (reveals, exports, searches), as on the masked staff pages.
    """
    own = _own_households(user)
    if household is not None:
        own = own.filter(pk=household.pk)
    return (Person.objects.filter(household__in=own, is_active=True)
            .only(*OWN_HOUSEHOLD_MEMBER_FIELDS).order_by(_ROLE_ORDER, "id"))


def sees_as_resident(user) -> bool:
    """Whether ``user`` reads the registry as a resident: their own record and household only,
    the household's members by masked name and relationship."""
    return user.role == Role.RESIDENT and not user.is_superuser


def visible_household_members(*, user, household: Household) -> QuerySet[Person]:
    """The members of ``household`` that ``user`` is shown: everyone registered there for a
    resident in their own household (:func:`own_household_members`), the members in scope for staff."""
    if sees_as_resident(user):
        return own_household_members(user=user, household=household)
    return household_members(user=user, household=household)


def household_list(*, user, grid_code: str = "") -> QuerySet[Household]:
    qs = household_queryset(user=user, action="view").select_related("grid", "room__unit__building")
    if grid_code.strip():
        qs = qs.filter(grid__path__startswith=_node_path(grid_code.strip()))
    return qs.order_by("code")


def building_list(*, user, q: str = "", grid_code: str = "") -> QuerySet[Building]:
    """Buildings in scope with their number of active households, by name/code/address and area."""
    qs = building_queryset(user=user, action="view").select_related("grid")
    if q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(code__icontains=text) | Q(address__icontains=text))
    if grid_code.strip():
        qs = qs.filter(grid__path__startswith=_node_path(grid_code.strip()))
    households = Household.objects.filter(room__unit__building=OuterRef("pk"), is_active=True)
    return qs.annotate(
        household_count=Subquery(households.values("room__unit__building").annotate(n=Count("pk")).values("n"))
    ).order_by("code")


def building_households(*, user, building: Building) -> QuerySet[Household]:
    return (
        household_queryset(user=user, action="view")
        .filter(room__unit__building=building)
        .select_related("room__unit")
        .order_by("room__unit__number", "room__number", "code")
    )


def care_tags() -> QuerySet[CareTag]:
    """The special-care groups (reference data, not personal data)."""
    return CareTag.objects.all()


def _comparable_name(name: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


def person_match_claim(*, id_number_bidx: str, name: str) -> Person | None:
    """The active person holding the ID number of this blind index *and* bearing this name.

    Unscoped on purpose: a resident's request to link their account is matched here, and the
    result is never shown to whoever typed the values; it only decides which area's staff
    verify the request (``accounts.selectors.binding_request_queryset``).
    """
    wanted = _comparable_name(name)
    for person in Person.objects.filter(id_number_bidx=id_number_bidx, is_active=True).order_by("id")[:5]:
        if _comparable_name(person.name) == wanted:
            return person
    return None
