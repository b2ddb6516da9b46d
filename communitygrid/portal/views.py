"""The resident portal (mobile first): sign up with a one-time code, submit a request, one-tap
help, my requests. Views parse, call one service or selector of ``accounts`` or ``cases`` and
render; bad input comes back beside its field, in the page's language, with a 4xx status.
"""
from __future__ import annotations

import datetime as dt
import uuid
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communitygrid.accounts.models import BindingRequest, Role, SignInEvent
from communitygrid.accounts.selectors import binding_request_own
from communitygrid.accounts.services import (
    BindingRefused,
    CodeRefused,
    binding_request_submit,
    binding_request_withdraw,
    binding_unlink_own,
    client_ip,
    one_time_code_check,
    one_time_code_send,
    sign_in_event_record,
)
from communitygrid.cases import selectors as case_selectors
from communitygrid.cases import services as case_services
from communitygrid.cases.errors import CaseError, NotFound
from communitygrid.cases.models import OPEN_STATES, Channel, Status
from communitygrid.cases.states import ACTION_LABELS
from communitygrid.registry.services import help_call_submit

SESSION_CHALLENGE = "portal_otp"
SESSION_PHONE = "portal_otp_phone"
SESSION_SCREEN_CODE = "portal_otp_screen"
SESSION_NEXT = "portal_next"
SESSION_DUPLICATES = "portal_duplicates"
# Set when a resident has just signed in by mobile number on the way to the request form: that
# form is then step 3 of 3. A resident who comes from the home page sees no steps.
SESSION_SIGNUP_FLOW = "portal_signup_flow"
PER_PAGE = 8
PER_PAGE_ELDER = 3
# Where a location comes from on the request form.
WHERE_CHOICES = ("home", "here", "map")

# One icon per top-level group (inline SVG symbols in portal/icons.html); unknown groups get "other".
GROUP_ICONS = {"elderly": "elderly", "health": "health", "repairs": "repairs", "property": "property",
               "environment": "environment", "safety": "safety", "disputes": "disputes", "culture": "culture",
               "assistance": "assistance", "affairs": "affairs"}


def _elder(request) -> bool:
    return request.COOKIES.get("cg_elder") == "1"


def _safe_next(request, value: str | None, fallback: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return fallback


def resident_required(view):
    """Residents only. Signed out (or the session expired): to the phone sign-in, and back here after."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal:start"))
        if request.user.role != Role.RESIDENT:
            return render(request, "portal/residents_only.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------- words for times

def when_words(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A deadline as a resident says it: "today at 14:30", "tomorrow at 09:00", "on 3 December at 09:00"."""
    if moment is None:
        return ""
    now = now or timezone.now()
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return _("today at %(time)s") % {"time": clock}
    if local.date() == today + dt.timedelta(days=1):
        return _("tomorrow at %(time)s") % {"time": clock}
    if local.date() == today - dt.timedelta(days=1):
        return _("yesterday at %(time)s") % {"time": clock}
    return _("on %(date)s at %(time)s") % {"date": formats.date_format(local, "MONTH_DAY_FORMAT"), "time": clock}


def promise(case, now: dt.datetime | None = None) -> str:
    """The one sentence that says what the resident waits for next, and until when."""
    now = now or timezone.now()
    if case.status in {Status.SUBMITTED, Status.ASSIGNED, Status.REOPENED} and case.respond_by:
        return _("We will reply %(when)s.") % {"when": when_words(case.respond_by, now)}
    if case.status in {Status.ACCEPTED, Status.IN_PROGRESS} and case.resolve_by:
        return _("We will have it solved %(when)s.") % {"when": when_words(case.resolve_by, now)}
    if case.status == Status.WAITING_RESIDENT:
        return _("We are waiting for you: see the latest note below.")
    if case.status == Status.RESOLVED:
        if case.verdict_due_at:
            return _("Done. Please tell us %(when)s whether it is solved.") % {"when": when_words(case.verdict_due_at, now)}
        return _("Done. Please tell us whether it is solved.")
    return ""


def who_comes(case) -> str:
    """Role and surname of whoever has the case, as residents see staff."""
    if case.assignee_id:
        return case_selectors.staff_label(case.assignee, case.assignee.role)
    if case.department_id:
        return case.department.name
    return _("the community office")


# ---------------------------------------------------------------- sign up / sign in

def index(request):
    if not request.user.is_authenticated:
        return render(request, "portal/welcome.html")
    if request.user.role != Role.RESIDENT:
        return render(request, "portal/residents_only.html", status=403)
    recent = list(case_selectors.case_list(user=request.user)[: 2 if _elder(request) else 3])
    return render(request, "portal/index.html", {"recent": recent, "has_home": _has_home(request.user),
                                                 "can_link": not request.user.person_id})


@require_http_methods(["GET", "POST"])
def start(request):
    """Step 1 of 3: the mobile number."""
    nxt = _safe_next(request, request.POST.get("next") or request.GET.get("next"), reverse("portal:new"))
    if request.user.is_authenticated and request.user.role == Role.RESIDENT:
        return redirect(nxt)
    context = {"next": nxt, "phone": "", "errors": {}}
    if request.method == "POST":
        context["phone"] = request.POST.get("phone", "")[:40]
        try:
            sent = one_time_code_send(phone=request.POST.get("phone"), ip_address=client_ip(request))
        except CodeRefused as refused:
            context["errors"] = {refused.field: refused.message}
            return render(request, "portal/start.html", context, status=refused.status)
        request.session[SESSION_CHALLENGE] = sent.challenge.pk
        request.session[SESSION_PHONE] = str(sent.challenge.phone)  # masked
        request.session[SESSION_SCREEN_CODE] = sent.code_on_screen
        request.session[SESSION_NEXT] = nxt
        return redirect("portal:verify")
    return render(request, "portal/start.html", context)


@require_http_methods(["GET", "POST"])
def verify(request):
    """Step 2 of 3: the code. Then straight to where the resident was going (the request form)."""
    challenge_id = request.session.get(SESSION_CHALLENGE)
    if not challenge_id:
        return redirect("portal:start")
    context = {"masked_phone": request.session.get(SESSION_PHONE, ""),
               "screen_code": request.session.get(SESSION_SCREEN_CODE), "errors": {}}
    if request.method == "POST":
        try:
            user, created = one_time_code_check(challenge_id=challenge_id, code=request.POST.get("code"))
        except CodeRefused as refused:
            context["errors"] = {refused.field: refused.message}
            return render(request, "portal/verify.html", context, status=refused.status)
        nxt = request.session.get(SESSION_NEXT) or reverse("portal:new")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        for key in (SESSION_CHALLENGE, SESSION_PHONE, SESSION_SCREEN_CODE, SESSION_NEXT):
            request.session.pop(key, None)
        if urlsplit(nxt).path == reverse("portal:new"):  # on the way to the request form
            request.session[SESSION_SIGNUP_FLOW] = True
        sign_in_event_record(outcome=SignInEvent.Outcome.SUCCESS, username=user.username, user=user, request=request)
        if created:
            messages.success(request, _("Welcome! Your account is ready."))
        return redirect(_safe_next(request, nxt, reverse("portal:new")))
    return render(request, "portal/verify.html", context)


# ---------------------------------------------------------------- submitting

def _home_grid(user):
    """The grid of the resident's registered home, or None (no record, or no household yet)."""
    from communitygrid.registry.selectors import household_queryset

    if not user.person_id:
        return None
    household = household_queryset(user=user).select_related("grid__parent").filter(members__pk=user.person_id).first()
    return household.grid if household else None


def _has_home(user) -> bool:
    return _home_grid(user) is not None


def _category_groups() -> list[dict]:
    groups: dict[int, dict] = {}
    for leaf in case_selectors.category_leaves().order_by("parent__sort", "parent__code", "sort", "code"):
        group = groups.setdefault(leaf.parent_id, {"code": leaf.parent.code, "label": leaf.parent.label,
                                                   "icon": GROUP_ICONS.get(leaf.parent.code, "affairs"), "leaves": []})
        group["leaves"].append({"code": leaf.code, "label": leaf.label})
    return list(groups.values())


def _coordinate(value: str | None):
    value = (value or "").strip()
    return value or None


@resident_required
@require_http_methods(["GET", "POST"])
def new_request(request):
    """Step 3 of 3: what, where, photos. A repeat of the same form (double tap, reload) is harmless."""
    home_grid = _home_grid(request.user)
    has_home = home_grid is not None
    data = {"category": "", "description": "", "where": "home" if has_home else "here", "lon": "", "lat": "",
            "idempotency_key": uuid.uuid4().hex}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data.update({name: request.POST.get(name, "").strip() for name in
                     ("category", "description", "where", "lon", "lat", "idempotency_key")})
        where = data["where"]
        # Checked here too so that one refusal names every empty field, not one at a time.
        if not data["category"]:
            errors["category"] = _("Category is required.")
        if not data["description"]:
            errors["description"] = _("%(field)s is required.") % {"field": _("Description")}
        if where not in WHERE_CHOICES:
            errors["location"] = _("Choose where it is: at my home, where I am now, or a point on the map.")
        else:
            lon = lat = None
            if where != "home":
                lon, lat = _coordinate(data["lon"]), _coordinate(data["lat"])
                if lon is None or lat is None:
                    errors["location"] = (_("Your location was not found: tap “Use my location” again or pick the "
                                            "place on the map.") if where == "here" else
                                          _("Pick the place on the map (or type its longitude and latitude)."))
            if not errors:
                try:
                    result = case_services.case_submit(
                        submitted_by=request.user, channel=Channel.WEB, category_code=data["category"],
                        description=data["description"], lon=lon, lat=lat, at_home=where == "home",
                        attachments=request.FILES.getlist("attachments"), idempotency_key=data["idempotency_key"])
                except CaseError as error:
                    errors[error.field if error.field in FORM_FIELDS else "form"] = error.message
                    status = error.status
                else:
                    return _submitted(request, result)
        status = status if status != 200 else 400
    groups = _category_groups()
    selected = next((g["code"] for g in groups for leaf in g["leaves"] if leaf["code"] == data["category"]), "")
    context = {"data": data, "errors": errors, "groups": groups, "selected_group": selected, "has_home": has_home,
               "map_tiles": getattr(settings, "CG_MAP_TILE_URL", ""),
               # The map outlines the grids of the resident's own community when their home is known.
               "map_area": home_grid.parent.code if home_grid is not None and home_grid.parent else "",
               "signup_step": request.session.get(SESSION_SIGNUP_FLOW, False)}
    return render(request, "portal/new.html", context, status=status)


FORM_FIELDS = {"category", "description", "location", "attachments", "idempotency_key"}


def _submitted(request, result):
    case = result.case
    request.session.pop(SESSION_SIGNUP_FLOW, None)  # the three steps are done
    if result.created:
        messages.success(request, _("Thank you. Your request #%(id)s is in.") % {"id": case.pk})
        request.session[SESSION_DUPLICATES] = {
            "case": case.pk, "rows": [{"id": d.pk, "status": d.get_status_display(), "open": d.status in OPEN_STATES,
                                       "at": formats.date_format(timezone.localtime(d.created_at), "SHORT_DATETIME_FORMAT")}
                                      for d in result.duplicates]}
    else:
        messages.info(request, _("We already have this request (#%(id)s); it was not sent twice.") % {"id": case.pk})
    return redirect(reverse("portal:request", args=[case.pk]) + "?submitted=1")


@resident_required
@require_http_methods(["GET", "POST"])
def one_tap_help(request):
    """One large button: an urgent case at home, the emergency contact attached; then who comes, by when."""
    context = {"has_home": _has_home(request.user), "idempotency_key": uuid.uuid4().hex, "errors": {}}
    if request.method == "POST":
        try:
            result = help_call_submit(user=request.user, idempotency_key=request.POST.get("idempotency_key", ""),
                                         ip_address=client_ip(request))
        except CaseError as error:
            context["errors"] = {"form": error.message}
            return render(request, "portal/help.html", context, status=error.status)
        return redirect(reverse("portal:request", args=[result.case.pk]) + "?help=1")
    return render(request, "portal/help.html", context)


# ---------------------------------------------------------------- my requests

@resident_required
def my_requests(request):
    cases = case_selectors.case_list(user=request.user)
    page = Paginator(cases, PER_PAGE_ELDER if _elder(request) else PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [{"case": case, "promise": promise(case, now), "open": case.status in OPEN_STATES} for case in page]
    return render(request, "portal/requests.html", {"page": page, "rows": rows})


RATE_FIELDS = {"rating", "solved", "comment"}
FOLLOW_UP_FIELDS = {"follow_up_note", "follow_up_when"}


@resident_required
@require_http_methods(["GET", "POST"])
def request_detail(request, case_id: int):
    """Status, timeline, the deadline in words; rate it (confirm or dispute); ask for a follow-up visit."""
    try:
        case = case_selectors.case_get(user=request.user, pk=case_id)
    except NotFound as error:
        raise Http404(error.message)
    errors: dict[str, str] = {}
    values = {"rating": "", "solved": "", "comment": "", "follow_up_note": "", "follow_up_when": "",
              "follow_up_key": uuid.uuid4().hex}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        values.update({name: request.POST.get(name, "").strip() for name in values})
        if action == "rate":
            errors, status = _rate(request, case, values)
        elif action == "follow_up":
            errors, status, follow_up = _follow_up(request, case, values)
            if follow_up is not None:
                return _submitted(request, follow_up)
        else:
            errors, status = {"form": _("Unknown action “%(action)s”.") % {"action": (action or "")[:40]}}, 400
        if not errors:
            return redirect("portal:request", case_id=case.pk)
    now = timezone.now()
    duplicates = request.session.pop(SESSION_DUPLICATES, None) if request.GET.get("submitted") else None
    if duplicates and duplicates.get("case") != case.pk:
        duplicates = None
    timeline = case_selectors.case_timeline(user=request.user, case=case)
    for row in timeline:
        row["label"] = ACTION_LABELS.get(row["action"], row["action"])
        row["when"] = when_words(row["at"], now)
    context = {
        "case": case, "promise": promise(case, now), "who": who_comes(case), "timeline": timeline,
        "can_rate": case.status == Status.RESOLVED, "can_follow_up": case.status in {Status.RESOLVED, Status.CLOSED},
        "errors": errors, "values": values, "duplicates": duplicates["rows"] if duplicates else None,
        # Those still open are handled with this one; those already resolved are shown apart.
        "duplicates_open": [d for d in duplicates["rows"] if d.get("open", True)] if duplicates else [],
        "duplicates_done": [d for d in duplicates["rows"] if not d.get("open", True)] if duplicates else [],
        "help_sent": request.GET.get("help") == "1" and case.channel == Channel.ONE_TAP,
        "respond_words": when_words(case.respond_by, now), "ratings": range(1, 6),
    }
    return render(request, "portal/request.html", context, status=status)


def _rate(request, case, values) -> tuple[dict, int]:
    errors = {}
    if values["solved"] not in {"yes", "no"}:
        errors["solved"] = _("Tell us whether the problem is solved: yes or no.")
    try:
        rating = int(values["rating"])
    except ValueError:
        rating = None
    if rating is None or not 1 <= rating <= 5:
        errors["rating"] = _("Choose a rating from 1 to 5 stars.")
    if len(values["comment"]) > 2000:
        errors["comment"] = _("The comment is longer than 2000 characters.")
    if errors:
        return errors, 400
    try:
        case_services.case_rate(case=case, actor=request.user, solved=values["solved"] == "yes", rating=rating,
                                comment=values["comment"])
    except CaseError as error:
        return {error.field if error.field in RATE_FIELDS else "rate": error.message}, error.status
    messages.success(request, _("Thank you for your rating.") if values["solved"] == "yes" and rating >= 3 else
                     _("Thank you. Your request is open again and goes back to the people handling it."))
    return {}, 200


def _follow_up(request, case, values):
    """A follow-up visit is asked for as a new request at the same place, naming the first one."""
    note, when = values["follow_up_note"], values["follow_up_when"]
    errors = {}
    if not note:
        errors["follow_up_note"] = _("Say what the follow-up visit is for.")
    elif len(note) > 1000:
        errors["follow_up_note"] = _("The note is longer than 1000 characters.")
    if len(when) > 100:
        errors["follow_up_when"] = _("The preferred time is longer than 100 characters.")
    if errors:
        return errors, 400, None
    description = _("Follow-up visit for request #%(id)s: %(note)s") % {"id": case.pk, "note": note}
    if when:
        description += " " + _("(Preferred time: %(when)s)") % {"when": when}
    where = {"lon": case.lon, "lat": case.lat} if case.lon is not None else {"at_home": True}
    try:
        result = case_services.case_submit(
            submitted_by=request.user, channel=Channel.WEB, category_code=case.category.code, description=description,
            idempotency_key=values["follow_up_key"], **where)
    except CaseError as error:
        return {"follow_up_note": error.message}, error.status, None
    return {}, 200, result


# ---------------------------------------------------------------- link my household record

LINK_FIELDS = {"name", "id_number"}


@resident_required
@require_http_methods(["GET", "POST"])
def link_record(request):
    """Ask for the account to be linked to the resident's household record; follow the request.

    Whatever was typed, a valid request gets the same answer ("sent to your grid worker"): the
    page must not tell whether a record matched, or it would show who lives where.
    """
    user = request.user
    values = {"name": "", "id_number": ""}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            pending = binding_request_own(user=user).filter(status=BindingRequest.Status.PENDING).first()
            if pending is not None and binding_request_withdraw(user=user, binding_request_id=pending.pk):
                messages.success(request, _("Your request is withdrawn."))
            return redirect("portal:link")
        values = {name: request.POST.get(name, "")[:100] for name in values}
        try:
            binding_request_submit(user=user, name=values["name"], id_number=values["id_number"])
        except BindingRefused as refused:
            errors = getattr(refused, "errors", None) or {
                refused.field if refused.field in LINK_FIELDS else "form": refused.message}
            status = refused.status
        else:
            messages.success(request, _("Your request is sent to your grid worker for verification."))
            return redirect("portal:link")
    own = list(binding_request_own(user=user)[:5])
    pending = next((r for r in own if r.status == BindingRequest.Status.PENDING), None)
    context = {"values": values, "errors": errors, "requests": own, "pending": pending,
               "linked": bool(user.person_id), "show_form": not user.person_id and pending is None}
    return render(request, "portal/link.html", context, status=status)


@resident_required
@require_http_methods(["GET", "POST"])
def unlink_record(request):
    """Remove the link between the resident's account and their household record: GET explains
    what that means and asks to confirm, POST does it. Afterwards they may ask for a link again."""
    if request.method == "POST":
        try:
            binding_unlink_own(user=request.user, ip_address=client_ip(request))
        except BindingRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Your account is no longer linked to your household record."))
        return redirect("portal:link")
    if not request.user.person_id:
        return redirect("portal:link")
    return render(request, "portal/unlink.html")
