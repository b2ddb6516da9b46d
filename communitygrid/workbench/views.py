"""The grid worker's workbench: inbox, case page with its actions, the grid's people.

Thin: each view parses, calls case or registry services and selectors, renders. Out of scope
is 404 (existence not revealed); roles that do not work a grid get 403.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from communitygrid.accounts import selectors as account_selectors
from communitygrid.accounts.models import Role
from communitygrid.accounts import services as account_services
from communitygrid.accounts.services import BindingRefused, client_ip
from communitygrid.cases import selectors as case_selectors
from communitygrid.cases.errors import CaseError, NotFound
from communitygrid.cases.models import Case
from communitygrid.cases.states import ACTION_LABELS
from communitygrid.insights.exports import csv_stream_response
from communitygrid.patrols.selectors import care_todo, worker_grids
from communitygrid.privacy.services import sensitive_reveal
from communitygrid.registry import selectors as registry_selectors
from communitygrid.registry import services as registry_services
from communitygrid.registry.models import Person
from communitygrid.workbench import actions, exporting, selectors
from communitygrid.workbench.forms import (
    ActionForm,
    CallBackForm,
    CaseFilterForm,
    RecordUpdateForm,
    RefuseLinkForm,
    UnlinkForm,
)

CASES_PAGE = 25


def _require_staff(user) -> None:
    if not (user.is_area_staff or user.is_system_admin):
        raise PermissionDenied(_("The workbench is for staff who work a grid."))


def _require_case_handler(user) -> None:
    """The case pages serve the staff of a grid and a department's staff (their department's cases)."""
    if user.role == Role.DEPARTMENT_STAFF and user.department_id is not None:
        return
    _require_staff(user)


def _case_or_404(user, case_id: int) -> Case:
    try:
        return case_selectors.case_get(user=user, pk=case_id)
    except NotFound as error:
        raise Http404(error.message)


@login_required
def inbox(request):
    _require_case_handler(request.user)
    return render(request, "workbench/inbox.html", {
        "rows": selectors.inbox(user=request.user), "now": timezone.now(),
        "todo": care_todo(user=request.user, limit=3),
    })


@login_required
def inbox_rows(request):
    """The list alone, for the page's periodic refresh (htmx)."""
    _require_case_handler(request.user)
    return render(request, "workbench/_inbox_rows.html", {"rows": selectors.inbox(user=request.user),
                                                          "now": timezone.now()})


def _filtered_cases(request) -> tuple[CaseFilterForm, QuerySet | None]:
    """The list's filter form and its cases; None when a filter is refused (the form says why)."""
    form = CaseFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, selectors.handled_cases(user=request.user, **(form.filters() if form.is_bound else {}))


def _case_list_page(request, form: CaseFilterForm, cases: QuerySet | None, *, status: int = 200, error: str = ""):
    page = Paginator(cases if cases is not None else Case.objects.none(), CASES_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "workbench/case_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "now": timezone.now(), "error": error,
        "export_limit": exporting.EXPORT_LIMIT,
        "department": request.user.department if request.user.role == Role.DEPARTMENT_STAFF else None,
    }, status=400 if cases is None else status)


@login_required
def case_list(request):
    """Every case the user handles or may look back on, in any status: filtered, newest first.

    A department's staff see only the cases now with their department (and those given to them by name)."""
    _require_case_handler(request.user)
    form, cases = _filtered_cases(request)
    return _case_list_page(request, form, cases)


@login_required
def case_list_csv(request):
    """The list under the same filters as a CSV file, streamed; no resident's personal data."""
    _require_case_handler(request.user)
    form, cases = _filtered_cases(request)
    if cases is None:
        return _case_list_page(request, form, cases)
    count = cases.count()
    if count > exporting.EXPORT_LIMIT:
        return _case_list_page(request, form, cases, status=400, error=_(
            "These filters match %(count)d cases; a download holds at most %(limit)d. Narrow the filters "
            "(for example to a month or an area) and download again.") % {"count": count,
                                                                           "limit": exporting.EXPORT_LIMIT})
    return csv_stream_response(name=f"cases-{timezone.localdate():%Y%m%d}", header=exporting.COLUMNS,
                               rows=exporting.case_rows(cases))


def _numbers(case: Case) -> dict:
    """The numbers a handler may call back on this case: the reporting resident's mobile number
    (the one they signed in with) and a hotline caller's; each read in plain only through
    ``sensitive_reveal``, with a purpose, into the access log."""
    numbers = {}
    phone = getattr(case.reporter, "resident_phone", None) if case.reporter_id else None
    if phone is not None:
        numbers["reporter"] = (phone, "phone", _("The resident who reported it"))
    if case.caller_phone:
        numbers["caller"] = (case, "caller_phone", _("The caller"))
    return numbers


def _reporter_name(case: Case, numbers: dict) -> str:
    """The reporter's name, or "" when it would only repeat their masked number (an account made
    at sign-up by mobile number is named by that number, masked)."""
    if not case.reporter_id:
        return ""
    name = str(case.reporter)
    return "" if "reporter" in numbers and name == str(numbers["reporter"][0].phone) else name


def _case_page(request, case: Case, *, failed: tuple[str, ActionForm] | None = None, status: int = 200,
               call_back: CallBackForm | None = None, revealed: dict | None = None):
    user = request.user
    numbers = _numbers(case)
    names = actions.available(user, case)
    forms = {name: ActionForm(action=actions.ACTIONS[name], auto_id=f"id_{name}_%s") for name in names}
    page_errors = []
    if failed and failed[0] in forms:
        forms[failed[0]] = failed[1]
    elif failed:  # the action is no longer offered (the case moved on): say why at the top
        page_errors = [str(e) for e in failed[1].non_field_errors()]
    timeline = case_selectors.case_timeline(user=user, case=case)
    for row in timeline:
        row["label"] = ACTION_LABELS.get(row["action"], row["action"])
    entries = [{"name": name, "action": actions.ACTIONS[name], "form": forms[name],
                "one_tap": name in actions.ONE_TAP, "failed": bool(failed and failed[0] == name)} for name in names]
    return render(request, "workbench/case_detail.html", {
        "case": case, "due": selectors.due_of(case), "overdue": case.is_overdue(timezone.now()), "now": timezone.now(),
        "timeline": timeline, "entries": entries, "page_errors": page_errors,
        "reporter_phone": numbers["reporter"][0].phone if "reporter" in numbers else None,
        "reporter_name": _reporter_name(case, numbers),
        "call_back": call_back or (CallBackForm(numbers=numbers) if numbers else None),
        "revealed": revealed or {},
    }, status=status)


@login_required
def case_detail(request, case_id: int):
    _require_case_handler(request.user)
    return _case_page(request, _case_or_404(request.user, case_id))


@never_cache
@require_POST
@login_required
def case_call_back(request, case_id: int):
    """Show one number of the case in plain, on this response only, to call back (logged)."""
    _require_case_handler(request.user)
    case = _case_or_404(request.user, case_id)
    numbers = _numbers(case)
    form = CallBackForm(request.POST, numbers=numbers)
    if not numbers:
        form.is_valid()
        form.add_error(None, _("This case has no number to call back."))
        return _case_page(request, case, call_back=form, status=400)
    if not form.is_valid():
        return _case_page(request, case, call_back=form, status=400)
    who = form.cleaned_data["who"]
    obj, field, _label = numbers[who]
    try:
        values = sensitive_reveal(actor=request.user, obj=obj, fields=[field], purpose=form.cleaned_data["purpose"],
                                  ip_address=client_ip(request), within=case if obj is not case else None)
    except ValidationError as error:
        form.add_service_errors(error)
        return _case_page(request, case, call_back=form, status=400)
    return _case_page(request, case, revealed={who: values[field]})


@require_POST
@login_required
def case_act(request, case_id: int, action: str):
    _require_case_handler(request.user)
    if action not in actions.ACTIONS:
        raise Http404(_("Unknown action."))
    case = _case_or_404(request.user, case_id)
    spec = actions.ACTIONS[action]
    form = ActionForm(request.POST, action=spec, auto_id=f"id_{action}_%s")
    if not form.is_valid():
        return _case_page(request, case, failed=(action, form), status=400)
    data = {"note": "", "reason": "", "department": None, **form.cleaned_data,
            "attachments": request.FILES.getlist("attachments") if "attachments" in spec.fields else []}
    try:
        spec.call(case, request.user, data)
    except CaseError as error:
        field = error.field if error.field in form.fields else None
        if error.field == "attachments" and "attachments" in spec.fields:
            form.attachment_error = error.message
        else:
            form.add_error(field, error.message)
        case.refresh_from_db()
        return _case_page(request, case, failed=(action, form), status=error.status)
    messages.success(request, _("Done: %(action)s on case #%(id)s.") % {"action": spec.label, "id": case.pk})
    return redirect("workbench:case_detail", case_id=case.pk)


@login_required
def area(request):
    """The grids in scope: links into the registry, and the special-care residents of each."""
    _require_staff(request.user)
    grids = list(worker_grids(user=request.user)[:50])
    people = (registry_selectors.person_queryset(user=request.user).filter(
        is_active=True, grid__in=grids, tag_links__isnull=False).distinct()
        .select_related("grid").prefetch_related("tag_links__tag").order_by("grid__code", "household_id", "id")[:200])
    return render(request, "workbench/area.html", {"grids": grids, "people": people})


def _person_or_404(user, person_id: int, action: str = "view") -> Person:
    person = registry_selectors.person_get(user=user, pk=person_id, action=action)
    if person is None:
        raise Http404(_("No such record in your area."))
    return person


@login_required
def person_update(request, person_id: int):
    """Correct a record on the spot: phones, the household's address, special-care groups, freshness."""
    _require_staff(request.user)
    person = _person_or_404(request.user, person_id)
    if not registry_selectors.person_queryset(user=request.user, action="change").filter(pk=person.pk).exists():
        raise PermissionDenied(_("You may not change this record."))
    links = {link.tag.code: link.level for link in person.tag_links.select_related("tag")}
    status = 200
    if request.method == "POST":
        form = RecordUpdateForm(request.POST)
        if form.is_valid() and _save_record(request, person, form, links):
            messages.success(request, _("The record of %(name)s is updated.") % {"name": person})
            return redirect("workbench:person_update", person_id=person.pk)
        status = 400
    else:
        form = RecordUpdateForm(initial={"care_tags": list(links)})
    linked = account_selectors.link_person_get(user=request.user, pk=person.pk)
    return render(request, "workbench/person_update.html", {
        "person": person, "form": form, "links": links,
        "linked_account": linked.linked_account if linked is not None else None,
    }, status=status)


def _save_record(request, person: Person, form: RecordUpdateForm, links: dict[str, str]) -> bool:
    """Every change or none: the errors go beside their fields."""
    data = form.cleaned_data
    changes = {"care_tags": {code: links.get(code, "") for code in data["care_tags"]}}
    for name in ("phone", "emergency_contact_phone"):
        if data[name].strip():
            changes[name] = data[name]
    address = data["address"].strip()
    if address and person.household_id is None:
        form.add_error("address", _("This person belongs to no household, so there is no address to change."))
        return False
    try:
        with transaction.atomic():
            registry_services.person_update(actor=request.user, person=person, changes=changes)
            if address:
                household = registry_selectors.household_get(user=request.user, pk=person.household_id, action="change")
                if household is None:
                    raise ValidationError({"address": _("This household lies outside your area.")})
                registry_services.household_update(actor=request.user, household=household,
                                                   changes={"address": address})
            if data["verified"]:
                registry_services.person_verify(actor=request.user, person=person)
    except ValidationError as error:
        for field, problems in (error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}).items():
            form.add_error(field if field in form.fields else None, problems)
        return False
    return True


# ---------------------------------------------------------------- household record link requests

@login_required
def binding_requests(request):
    """Residents asking to link their account to a record in the user's areas, oldest first."""
    _require_staff(request.user)
    rows = list(account_selectors.binding_request_pending(user=request.user)[:200])
    return render(request, "workbench/binding_requests.html", {"rows": rows})


def _binding_request_or_404(user, bindingrequest_id: int):
    found = account_selectors.binding_request_get(user=user, pk=bindingrequest_id)
    if found is None:
        raise Http404(_("No such request in your area."))
    return found


def _binding_page(request, binding, *, form=None, error: str = "", status: int = 200):
    return render(request, "workbench/binding_request.html", {
        "binding": binding, "form": form or RefuseLinkForm(), "error": error,
        "pending": binding.status == binding.Status.PENDING,
        # The link this request made is still in place: it can be removed from here.
        "still_linked": (binding.status == binding.Status.APPROVED and binding.person_id is not None
                         and binding.user.person_id == binding.person_id),
    }, status=status)


@login_required
def binding_request_detail(request, bindingrequest_id: int):
    _require_staff(request.user)
    return _binding_page(request, _binding_request_or_404(request.user, bindingrequest_id))


def _decide(request, binding, decide, *, form: RefuseLinkForm | None = None, done: str):
    """Run one decision; a refusal comes back on the page (beside its field when it has one)."""
    try:
        decide()
    except BindingRefused as refused:
        if refused.status == 404:
            raise Http404(refused.message)
        if form is not None and refused.field in form.fields:
            form.add_error(refused.field, refused.message)
            return _binding_page(request, binding, form=form, status=refused.status)
        return _binding_page(request, binding, form=form, error=refused.message, status=refused.status)
    messages.success(request, done)
    return redirect("workbench:binding_requests")


@require_POST
@login_required
def binding_request_approve(request, bindingrequest_id: int):
    _require_staff(request.user)
    binding = _binding_request_or_404(request.user, bindingrequest_id)
    return _decide(request, binding, lambda: account_services.binding_request_approve(
        actor=request.user, binding_request_id=binding.pk, ip_address=client_ip(request)),
        done=_("Request #%(id)s approved: the account is linked to the record.") % {"id": binding.pk})


@require_POST
@login_required
def binding_request_refuse(request, bindingrequest_id: int):
    _require_staff(request.user)
    binding = _binding_request_or_404(request.user, bindingrequest_id)
    form = RefuseLinkForm(request.POST)
    if not form.is_valid():
        return _binding_page(request, binding, form=form, status=400)
    return _decide(request, binding, lambda: account_services.binding_request_refuse(
        actor=request.user, binding_request_id=binding.pk, reason=form.cleaned_data["reason"],
        ip_address=client_ip(request)),
        form=form, done=_("Request #%(id)s refused; the resident is told why.") % {"id": binding.pk})


@require_http_methods(["GET", "POST"])
@login_required
def person_unlink(request, person_id: int):
    """Remove the link between a record and its resident account: GET asks for the reason and
    confirmation, POST does it (the staff who may approve a link, in the same areas)."""
    _require_staff(request.user)
    person = account_selectors.link_person_get(user=request.user, pk=person_id)
    if person is None:
        raise Http404(_("No such record in your area."))
    form, error, status = UnlinkForm(), "", 200
    if request.method == "POST":
        form = UnlinkForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                account_services.binding_unlink(actor=request.user, person_id=person.pk,
                                                reason=form.cleaned_data["reason"], ip_address=client_ip(request))
            except BindingRefused as refused:
                if refused.status == 404:
                    raise Http404(refused.message)
                if refused.field in form.fields:
                    form.add_error(refused.field, refused.message)
                else:
                    error = refused.message
                status = refused.status
                person = account_selectors.link_person_get(user=request.user, pk=person_id) or person
            else:
                messages.success(request, _("The account is unlinked from the record of %(name)s; the resident "
                                            "is told why.") % {"name": person})
                return redirect("workbench:person_update", person_id=person.pk)
    return render(request, "workbench/person_unlink.html", {
        "person": person, "account": person.linked_account, "form": form, "error": error,
    }, status=status)
