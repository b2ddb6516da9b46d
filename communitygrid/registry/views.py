"""Registry pages for staff within their area and for residents (their own record).

Every read goes through :mod:`selectors`; unmasking through ``privacy.services.sensitive_reveal``.
A record outside the user's scope is answered 404 (its existence is not revealed); a role that
works with no people records at all gets 403.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communitygrid.accounts.scopes import may
from communitygrid.privacy.services import sensitive_reveal
from communitygrid.registry import selectors, services
from communitygrid.registry.forms import BuildingSearchForm, PersonSearchForm, RevealForm, sensitive_field_choices
from communitygrid.registry.models import Building, Household, Person

PAGE_SIZE = 50


def _require_people_access(user) -> None:
    if not may(user, "view"):
        raise PermissionDenied(_("Your role does not work with people records."))


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _or_404(obj):
    if obj is None:
        raise Http404(_("No such record in your area."))
    return obj


def _sensitive_rows(obj, revealed: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    """(field name, label, value shown, whether it is unmasked) for every encrypted field of ``obj``."""
    rows = []
    for name, label in sensitive_field_choices(type(obj)):
        if name in revealed:
            rows.append((name, label, revealed[name], True))
        else:
            value = getattr(obj, name)
            rows.append((name, label, str(value) if value is not None else "", False))
    return rows


def _resident_view(user) -> bool:
    """Whether ``user`` gets the resident view: their own record and household, without the staff
    lists, searches and building pages (and without links to them)."""
    return selectors.sees_as_resident(user)


def _resident_home(user):
    """Where a resident is sent from a staff page: their own record, or the start page."""
    return redirect("registry:person_detail", pk=user.person_id) if user.person_id else redirect("core:home")


@login_required
def index(request):
    user = request.user
    _require_people_access(user)
    if _resident_view(user):
        return _resident_home(user)
    return redirect("registry:person_list")


@login_required
def person_list(request):
    _require_people_access(request.user)
    if _resident_view(request.user):
        return _resident_home(request.user)
    form = PersonSearchForm(request.GET or None)
    persons, status = selectors.person_queryset(user=request.user).none(), 200
    if not form.is_bound:
        persons = selectors.person_list(user=request.user)
    elif form.is_valid():
        data = form.cleaned_data
        persons = selectors.person_list(user=request.user, name=data["name"], id_number=data["id_number"],
                                        phone=data["phone"], grid_code=data["grid"], care_tag=data["care_tag"],
                                        ip_address=_client_ip(request))
    else:
        status = 400
    page = Paginator(persons.prefetch_related("tag_links__tag"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/person_list.html",
                  {"form": form, "page": page, "query": _query_without_page(request)}, status=status)


def _person_page(request, person: Person, *, form: RevealForm | None = None, revealed: dict | None = None,
                 status: int = 200):
    user = request.user
    context = {
        "person": person,
        "sensitive": _sensitive_rows(person, revealed or {}),
        "revealed": bool(revealed),
        "tag_links": person.tag_links.select_related("tag"),
        "can_change": selectors.person_queryset(user=user, action="change").filter(pk=person.pk).exists(),
        "can_reveal": may(user, "reveal"),
        "form": form or RevealForm(model=Person),
        "household_visible": person.household_id is not None
        and selectors.household_queryset(user=user).filter(pk=person.household_id).exists(),
        "resident_view": _resident_view(user),
    }
    return render(request, "registry/person_detail.html", context, status=status)


@login_required
def person_detail(request, pk: int):
    _require_people_access(request.user)
    return _person_page(request, _or_404(selectors.person_get(user=request.user, pk=pk)))


def _reveal(request, obj, model) -> tuple[RevealForm, dict | None, int]:
    """Run the reveal form against ``obj``: (form, plaintext values or None, HTTP status)."""
    if not may(request.user, "reveal"):
        raise PermissionDenied(_("Your role may not see unmasked personal data."))
    form = RevealForm(request.POST, model=model)
    if not form.is_valid():
        return form, None, 400
    try:
        revealed = sensitive_reveal(actor=request.user, obj=obj, fields=form.cleaned_data["fields"],
                                    purpose=form.cleaned_data["purpose"], ip_address=_client_ip(request))
    except ValidationError as exc:
        form.add_service_errors(exc)
        return form, None, 400
    # A fresh, empty form: the purpose is asked again for the next reveal.
    return RevealForm(model=model), revealed, 200


@never_cache
@require_POST
@login_required
def person_reveal(request, pk: int):
    """Show the chosen fields unmasked on this one response only (never stored, never cached)."""
    _require_people_access(request.user)
    person = _or_404(selectors.person_get(user=request.user, pk=pk))
    form, revealed, status = _reveal(request, person, Person)
    return _person_page(request, person, form=form, revealed=revealed, status=status)


@require_POST
@login_required
def person_verify(request, pk: int):
    _require_people_access(request.user)
    person = _or_404(selectors.person_get(user=request.user, pk=pk))
    services.person_verify(actor=request.user, person=person)
    messages.success(request, _("Recorded that you verified this record today."))
    return redirect("registry:person_detail", pk=person.pk)


def _household_page(request, household: Household, *, form=None, revealed=None, status=200):
    context = {
        "household": household,
        "sensitive": _sensitive_rows(household, revealed or {}),
        "revealed": bool(revealed),
        # A resident's own record is the only person row they may open, yet they see who is
        # registered in their household: the members' masked names and relationships.
        "members": selectors.visible_household_members(user=request.user, household=household),
        "can_reveal": may(request.user, "reveal"),
        "form": form or RevealForm(model=Household),
        "resident_view": _resident_view(request.user),
    }
    return render(request, "registry/household_detail.html", context, status=status)


@login_required
def household_detail(request, pk: int):
    _require_people_access(request.user)
    return _household_page(request, _or_404(selectors.household_get(user=request.user, pk=pk)))


@login_required
def own_household(request):
    """A resident's way to their household page; without one, a page saying so and what to do."""
    user = request.user
    _require_people_access(user)
    if not _resident_view(user):
        return redirect("registry:index")
    household = selectors.own_household_get(user=user)
    if household is not None:
        return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/own_household_none.html", {"resident_view": True})


@never_cache
@require_POST
@login_required
def household_reveal(request, pk: int):
    _require_people_access(request.user)
    household = _or_404(selectors.household_get(user=request.user, pk=pk))
    form, revealed, status = _reveal(request, household, Household)
    return _household_page(request, household, form=form, revealed=revealed, status=status)


@login_required
def building_list(request):
    _require_people_access(request.user)
    if _resident_view(request.user):
        return _resident_home(request.user)
    form = BuildingSearchForm(request.GET or None)
    buildings, status = Building.objects.none(), 200
    if not form.is_bound:
        buildings = selectors.building_list(user=request.user)
    elif form.is_valid():
        buildings = selectors.building_list(user=request.user, q=form.cleaned_data["q"],
                                            grid_code=form.cleaned_data["grid"])
    else:
        status = 400
    page = Paginator(buildings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/building_list.html",
                  {"form": form, "page": page, "query": _query_without_page(request)}, status=status)


@login_required
def building_detail(request, pk: int):
    _require_people_access(request.user)
    if _resident_view(request.user):
        return _resident_home(request.user)
    building = _or_404(selectors.building_get(user=request.user, pk=pk))
    households = selectors.building_households(user=request.user, building=building)
    return render(request, "registry/building_detail.html",
                  {"building": building, "households": households,
                   "units": building.units.prefetch_related("rooms")})
