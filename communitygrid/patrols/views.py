"""Visit pages: start and end buttons (the server's clock), the care to-do list, issues → cases.

Thin: parse, call one service or selector, render. A visit out of scope is 404; a role that
does not visit gets 403.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitygrid.patrols import selectors, services
from communitygrid.patrols.forms import EndForm, IssueForm
from communitygrid.patrols.models import Visit
from communitygrid.registry.selectors import household_get


def _require_visitor(user) -> None:
    if not selectors.worker_grids(user=user).exists():
        raise PermissionDenied(_("Your role does not make patrols or home visits."))


def _add_errors(form, error: ValidationError) -> None:
    for field, problems in (error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}).items():
        if field == "attachments":  # the photo input is not a form field: its errors are shown beside it
            form.attachment_errors = [m for problem in problems for m in problem.messages]
        else:
            form.add_error(field if field in form.fields else None, problems)


# Fewer items per screen in elder mode; "show all" lifts the limit.
TODO_SHOWN = {False: 10, True: 5}


def _index(request, *, start_errors: dict | None = None, status: int = 200):
    user = request.user
    todo = selectors.care_todo(user=user)
    shown = len(todo) if request.GET.get("all") == "1" else TODO_SHOWN[request.COOKIES.get("cg_elder") == "1"]
    return render(request, "patrols/index.html", {
        "open_visit": selectors.open_visit(user=user), "grids": selectors.worker_grids(user=user),
        "todo": todo[:shown], "todo_hidden": max(len(todo) - shown, 0),
        "visits": selectors.visit_list(user=user, limit=10),
        "start_errors": start_errors or {}, "today": timezone.localdate(),
    }, status=status)


@login_required
def index(request):
    _require_visitor(request.user)
    return _index(request)


@require_POST
@login_required
def start(request):
    """Start a patrol (``kind=patrol``, optional ``grid``) or a home visit (``kind=home``, ``household``)."""
    user = request.user
    _require_visitor(user)
    kind = request.POST.get("kind", "")
    household, grid_id = None, None
    try:
        if kind == Visit.Kind.HOME:
            pk = _int(request.POST.get("household"), "household", _("Household"))
            household = household_get(user=user, pk=pk, action="change")
            if household is None:
                raise ValidationError({"household": _("This household does not exist or lies outside your area.")})
        elif request.POST.get("grid"):
            grid_id = _int(request.POST.get("grid"), "grid", _("Grid"))
        visit = services.visit_start(actor=user, kind=kind, household=household, grid_id=grid_id)
    except ValidationError as error:
        errors = {field: [str(m) for m in problems] for field, problems in error.message_dict.items()}
        return _index(request, start_errors=errors, status=409 if "visit" in errors else 400)
    messages.success(request, _("Started at %(at)s.") % {"at": timezone.localtime(visit.started_at).strftime("%H:%M")})
    return redirect("patrols:visit_detail", visit_id=visit.pk)


def _int(value, field: str, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("%(field)s: “%(value)s” is not a valid choice.")
                                      % {"field": label, "value": value or ""}})


def _visit_or_404(user, visit_id: int) -> Visit:
    visit = selectors.visit_get(user=user, pk=visit_id)
    if visit is None:
        raise Http404(_("No such visit in your area."))
    return visit


def _visit_page(request, visit: Visit, *, end_form=None, issue_form=None, status: int = 200):
    user = request.user
    mine = visit.worker_id == user.pk
    context = {"visit": visit, "mine": mine, "people": selectors.visit_people(user=user, visit=visit),
               "issues": visit.issues.select_related("case__category").order_by("id"), "now": timezone.now()}
    if mine and visit.is_open:
        context["end_form"] = end_form or EndForm(candidates=selectors.visit_candidates(user=user, visit=visit))
    if mine:
        context["issue_form"] = issue_form or _issue_form(user, visit)
    return render(request, "patrols/visit_detail.html", context, status=status)


def _issue_form(user, visit: Visit, data=None) -> IssueForm:
    buildings = None if visit.household_id and visit.household.room_id else selectors.visit_buildings(user=user, visit=visit)
    return IssueForm(data, buildings=buildings)


@login_required
def visit_detail(request, visit_id: int):
    _require_visitor(request.user)
    return _visit_page(request, _visit_or_404(request.user, visit_id))


@require_POST
@login_required
def end(request, visit_id: int):
    user = request.user
    _require_visitor(user)
    visit = _visit_or_404(user, visit_id)
    form = EndForm(request.POST, candidates=selectors.visit_candidates(user=user, visit=visit))
    if form.is_valid():
        try:
            visit = services.visit_end(actor=user, visit=visit, outcome=form.cleaned_data["outcome"],
                                       notes=form.cleaned_data["notes"], people=form.cleaned_data["people"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if visit.flag:
                messages.warning(request, _("Ended at %(at)s. Flagged: %(flag)s; this visit does not count for the care rules.")
                                 % {"at": timezone.localtime(visit.ended_at).strftime("%H:%M"),
                                    "flag": visit.get_flag_display()})
            else:
                messages.success(request, _("Ended at %(at)s.") % {"at": timezone.localtime(visit.ended_at).strftime("%H:%M")})
            return redirect("patrols:visit_detail", visit_id=visit.pk)
    visit.refresh_from_db()
    return _visit_page(request, visit, end_form=form if visit.is_open else None,
                       status=409 if "visit" in form.errors or not visit.is_open else 400)


@require_POST
@login_required
def issue(request, visit_id: int):
    user = request.user
    _require_visitor(user)
    visit = _visit_or_404(user, visit_id)
    form = _issue_form(user, visit, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            found = services.visit_report_issue(
                actor=user, visit=visit, category_code=data["category"], description=data["description"],
                building_id=data.get("building"), attachments=request.FILES.getlist("attachments"),
                idempotency_key=data["token"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Case #%(id)s is recorded and sent on.") % {"id": found.case_id})
            return redirect("patrols:visit_detail", visit_id=visit.pk)
    return _visit_page(request, visit, issue_form=form, status=400)
