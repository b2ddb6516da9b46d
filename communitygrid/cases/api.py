"""Cases over JSON (mounted at /api/v1/cases): submit, list, detail, timeline, act, rate.

Handlers parse, call one selector or service and render. Every service error becomes a 4xx
with the API's error body (``communitygrid.restapi.errors``): 400 bad input, 403 not yours to
do, 404 not in your scope, 409 not allowed from the case's current state. Lists are pages
(``communitygrid.restapi.pagination``).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja import Status as Answer  # an HTTP status with its body (cases.models.Status is the case's)
from ninja.files import UploadedFile
from ninja.pagination import paginate

from communitygrid.accounts.models import Department, Role, User
from communitygrid.cases import selectors, services, states
from communitygrid.cases.errors import InvalidInput, NotFound
from communitygrid.cases.models import Case, Channel, Status, Tier
from communitygrid.privacy.services import sensitive_reveal
from communitygrid.restapi.errors import ErrorOut, error_body
from communitygrid.restapi.pagination import LimitOffset

router = Router(tags=["cases"])
MAX_ID = 2**63 - 1


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _id(value: int | None, what: str) -> int | None:
    if value is not None and not 0 < value <= MAX_ID:
        raise NotFound(_("%(what)s %(id)s was not found.") % {"what": what, "id": value})
    return value


class CategoryOut(Schema):
    code: str
    name: str
    group: str
    tier: str


class SubmitIn(Schema):
    channel: str = Channel.WEB
    # Empty by default: a missing category or description gets the service's translated 400
    # naming the field, like an empty one.
    category: str = ""
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    building_id: int | None = None
    room_id: int | None = None
    at_home: bool = False
    on_behalf_of: int | None = None
    caller_name: str = ""
    caller_phone: str = ""


class CaseBrief(Schema):
    id: int
    category: str
    status: str
    created_at: dt.datetime


class CaseOut(Schema):
    id: int
    category: str
    category_name: str
    tier: str
    tier_reason: str
    priority: int
    status: str
    status_label: str
    channel: str
    description: str
    grid: str
    grid_name: str
    lon: float | None
    lat: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    respond_by: dt.datetime | None
    resolve_by: dt.datetime | None
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool
    escalation_level: int
    supervised: bool
    handler: str
    department: str | None
    caller: str
    duplicate_of: int | None
    reopen_count: int
    rating: int | None
    verdict: str
    actions: list[str]


class SubmitOut(Schema):
    case: CaseOut
    created: bool
    duplicates: list[CaseBrief]


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    who: str
    role: str
    note: str
    attachments: list[dict]


class ActionIn(Schema):
    note: str = ""
    reason: str = ""
    redirect: str = ""
    assignee_id: int | None = None
    department_id: int | None = None
    into_id: int | None = None
    task_id: int | None = None
    description: str = ""
    due_at: dt.datetime | None = None
    result: str = ""


class RatingIn(Schema):
    solved: bool
    rating: int
    comment: str = ""


def case_out(case: Case, user: User, *, limited: bool = False) -> dict:
    """``limited``: shown as to a resident (staff as role and surname, no caller, no actions)."""
    from django.utils import timezone

    as_resident = limited or (user.role == Role.RESIDENT and not user.is_system_admin)
    if case.assignee_id:
        handler = selectors.staff_label(case.assignee, case.assignee.role) if as_resident else str(case.assignee)
    else:
        handler = case.department.name if case.department_id else ""
    caller = ""
    if not as_resident and (case.caller_name or case.caller_phone):
        from communitygrid.privacy.masking import mask_name

        caller = " ".join(filter(None, [mask_name(case.caller_name), str(case.caller_phone or "")]))
    return {
        "id": case.pk, "category": case.category.code, "category_name": case.category.label, "tier": case.tier,
        "tier_reason": case.tier_reason, "priority": case.priority, "status": case.status,
        "status_label": case.get_status_display(), "channel": case.channel, "description": case.description,
        "grid": case.grid.code, "grid_name": case.grid.name, "lon": case.lon, "lat": case.lat,
        "created_at": case.created_at, "updated_at": case.updated_at, "respond_by": case.respond_by, "resolve_by": case.resolve_by,
        "accepted_at": case.accepted_at, "resolved_at": case.resolved_at, "closed_at": case.closed_at,
        "overdue": case.is_overdue(timezone.now()), "escalation_level": case.escalation_level,
        "supervised": case.supervised, "handler": handler,
        "department": case.department.name if case.department_id else None, "caller": caller,
        "duplicate_of": case.duplicate_of_id, "reopen_count": case.reopen_count, "rating": case.rating,
        "verdict": case.verdict, "actions": [] if as_resident else states.allowed_actions(case.status),
    }


@router.get("/categories", response=list[CategoryOut])
@paginate(LimitOffset)
def categories(request):
    return [{"code": c.code, "name": c.label, "group": c.parent.label, "tier": c.default_tier}
            for c in selectors.category_leaves()]


def _submit(request, payload: SubmitIn, files) -> Answer:
    on_behalf_of = None
    if payload.on_behalf_of is not None:
        on_behalf_of = selectors.resident_get(user=request.user, pk=_id(payload.on_behalf_of, _("User")))
        if on_behalf_of is None:
            raise InvalidInput(_("Resident %(id)s does not exist.") % {"id": payload.on_behalf_of}, field="on_behalf_of")
    result = services.case_submit(
        submitted_by=request.user, channel=payload.channel, category_code=payload.category,
        description=payload.description, lon=payload.lon, lat=payload.lat,
        building_id=_id(payload.building_id, _("Building")), room_id=_id(payload.room_id, _("Room")),
        at_home=payload.at_home, attachments=files or [], idempotency_key=request.headers.get("Idempotency-Key", ""),
        on_behalf_of=on_behalf_of, caller_name=payload.caller_name, caller_phone=payload.caller_phone,
    )
    # A case may land outside the submitter's scope (a point in another grid): they see it as a
    # resident would, and never again after this answer.
    visible = selectors.case_visible(user=request.user, case=result.case)
    body = {
        "case": case_out(result.case, request.user, limited=not visible), "created": result.created,
        # Duplicates share the case's category by definition.
        "duplicates": [{"id": d.pk, "category": result.case.category.code, "status": d.status,
                        "created_at": d.created_at} for d in result.duplicates],
    }
    return Answer(201 if result.created else 200, body)


@router.post("/", response={200: SubmitOut, 201: SubmitOut, **ERRORS})
def submit(request, payload: SubmitIn):
    """Submit a case (JSON). Send an ``Idempotency-Key`` header: a retry returns the same case (200)."""
    return _submit(request, payload, [])


@router.post("/upload", response={200: SubmitOut, 201: SubmitOut, **ERRORS})
def submit_with_attachments(request, payload: Form[SubmitIn], attachments: File[list[UploadedFile]] = None):
    """Submit a case with photos or PDFs (multipart form: the same fields plus ``attachments``)."""
    return _submit(request, payload, attachments)


class CaseFilters(Schema):
    status: list[Status] = Field(default_factory=list, description="Any of these statuses (repeat the parameter).")
    open: bool = Field(False, description="Only cases not yet closed, rejected, cancelled or merged.")
    category: str = Field("", max_length=64, description="Category code.")
    tier: Tier | None = Field(None, description="Urgent, general or complex.")
    grid: str = Field("", max_length=64, description="Code of a grid or any node above it: every case below it.")
    created_after: dt.datetime | None = Field(None, description="Submitted at or after (ISO 8601 with offset).")
    created_before: dt.datetime | None = Field(None, description="Submitted before.")
    updated_after: dt.datetime | None = Field(None, description="Changed at or after: poll with the last `updated_at` seen.")


@router.get("/", response={200: list[CaseOut], **ERRORS})
@paginate(LimitOffset)
def case_list(request, filters: Query[CaseFilters]):
    """Cases in your scope, most urgent first (``updated_after`` lists them oldest change first, for polling)."""
    cases = selectors.case_search(
        user=request.user, statuses=[str(s) for s in filters.status], open_only=filters.open,
        category_code=filters.category, tier=filters.tier, grid_code=filters.grid,
        created_after=filters.created_after, created_before=filters.created_before,
        updated_after=filters.updated_after)
    return _CaseRows(cases, request.user)


class _CaseRows:
    """A queryset rendered row by row only for the page that is cut from it."""

    def __init__(self, queryset, user):
        self.queryset, self.user = queryset, user

    def all(self):
        return self.queryset

    def __getitem__(self, window: slice):
        return [case_out(case, self.user) for case in self.queryset[window]]


@router.get("/{case_id}", response={200: CaseOut, **ERRORS})
def case_detail(request, case_id: int):
    return Answer(200, case_out(selectors.case_get(user=request.user, pk=_id(case_id, _("Case"))), request.user))


class RevealIn(Schema):
    purpose: str
    fields: list[str] = ["caller_phone"]


class RevealOut(Schema):
    id: int
    values: dict[str, str]


@router.post("/{case_id}/reveal", response={200: RevealOut, **ERRORS})
def case_reveal(request, case_id: int, payload: RevealIn, response: HttpResponse):
    """The caller's phone in plain, for a stated purpose (e.g. calling back); written to the access log."""
    case = selectors.case_get(user=request.user, pk=_id(case_id, _("Case")))
    try:
        values = sensitive_reveal(actor=request.user, obj=case, fields=payload.fields, purpose=payload.purpose,
                                  ip_address=request.META.get("REMOTE_ADDR"))
    except ValidationError as exc:
        field = next(iter(exc.error_dict), None) if hasattr(exc, "error_dict") else None
        return Answer(400, error_body(" ".join(exc.messages), field))
    except PermissionDenied as exc:
        return Answer(403, error_body(str(exc)))
    response["Cache-Control"] = "no-store"
    return Answer(200, {"id": case.pk, "values": values})


@router.get("/{case_id}/timeline", response={200: list[EventOut], **ERRORS})
@paginate(LimitOffset)
def case_timeline(request, case_id: int):
    case = selectors.case_get(user=request.user, pk=_id(case_id, _("Case")))
    return selectors.case_timeline(user=request.user, case=case)


@router.get("/{case_id}/attachments/{attachment_id}", response={**ERRORS}, openapi_extra={"responses": {200: {
    "description": "The file, with the type sniffed at upload.",
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}})
def case_attachment(request, case_id: int, attachment_id: int):
    """An attachment of a case the user may see, served with the type sniffed at upload."""
    from django.http import FileResponse

    attachment = selectors.attachment_get(user=request.user, case_id=_id(case_id, _("Case")),
                                          pk=_id(attachment_id, _("Attachment")))
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="attachment-{attachment.pk}"'
    return response


def _department(pk: int | None) -> Department | None:
    if pk is None:
        return None
    department = Department.objects.filter(pk=_id(pk, _("Department")), is_active=True).first()
    if department is None:
        raise InvalidInput(_("Department %(id)s does not exist.") % {"id": pk}, field="department_id")
    return department


def _user(pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=_id(pk, _("User")), is_active=True).first()
    if user is None:
        raise InvalidInput(_("User %(id)s does not exist.") % {"id": pk}, field="assignee_id")
    return user


# action → how the request body maps onto the service call.
ACTIONS = {
    "accept": lambda r, c, p: services.case_accept(case=c, actor=r.user, note=p.note),
    "start": lambda r, c, p: services.case_start(case=c, actor=r.user, note=p.note),
    "pause": lambda r, c, p: services.case_pause(case=c, actor=r.user, reason=p.reason),
    "resume": lambda r, c, p: services.case_resume(case=c, actor=r.user, note=p.note),
    "resolve": lambda r, c, p: services.case_resolve(case=c, actor=r.user, note=p.note),
    "close": lambda r, c, p: services.case_close(case=c, actor=r.user, note=p.note),
    "reopen": lambda r, c, p: services.case_reopen(case=c, actor=r.user, reason=p.reason),
    "reject": lambda r, c, p: services.case_reject(case=c, actor=r.user, reason=p.reason, redirect=p.redirect),
    "cancel": lambda r, c, p: services.case_cancel(case=c, actor=r.user, reason=p.reason),
    "merge": lambda r, c, p: services.case_merge(
        case=c, actor=r.user, note=p.note,
        into=selectors.case_get(user=r.user, pk=_id(p.into_id, _("Case"))) if p.into_id else _missing("into_id")),
    "redispatch": lambda r, c, p: services.case_redispatch(
        case=c, actor=r.user, assignee=_user(p.assignee_id), department=_department(p.department_id), note=p.note),
    "hand_back": lambda r, c, p: services.case_hand_back(case=c, actor=r.user, reason=p.reason),
    "request_help": lambda r, c, p: services.case_request_help(case=c, actor=r.user, note=p.note),
    "transfer_to_department": lambda r, c, p: services.case_transfer_to_department(
        case=c, actor=r.user, department=_department(p.department_id) or _missing("department_id"), note=p.note),
    "escalate": lambda r, c, p: services.case_escalate(case=c, actor=r.user, reason=p.reason),
    "supervise": lambda r, c, p: services.case_supervise(case=c, actor=r.user, note=p.note),
    "note": lambda r, c, p: services.case_note(case=c, actor=r.user, note=p.note),
    "take_over": lambda r, c, p: services.case_take_over(case=c, actor=r.user, note=p.note),
    "add_task": lambda r, c, p: services.case_task_add(
        case=c, actor=r.user, description=p.description, department=_department(p.department_id),
        assignee=_user(p.assignee_id), due_at=p.due_at),
    "complete_task": lambda r, c, p: services.case_task_complete(
        task=_task(r.user, c, p.task_id), actor=r.user, result=p.result),
}


def _missing(field: str):
    raise InvalidInput(_("%(field)s is required.") % {"field": field}, field=field)


def _task(user: User, case: Case, pk: int | None):
    if pk is None:
        _missing("task_id")
    task = selectors.task_get(user=user, pk=_id(pk, _("Task")))
    if task.case_id != case.pk:
        raise NotFound(_("Task #%(id)s was not found.") % {"id": pk})
    return task


@router.post("/{case_id}/actions/{action}", response={200: CaseOut, **ERRORS})
def case_act(request, case_id: int, action: str, payload: ActionIn):
    """Take one action on a case (accept, start, pause, resolve, escalate, supervise, …)."""
    case = selectors.case_get(user=request.user, pk=_id(case_id, _("Case")))
    if action not in ACTIONS:
        raise InvalidInput(_("Unknown action “%(action)s”.") % {"action": action}, field="action")
    ACTIONS[action](request, case, payload)
    return Answer(200, case_out(selectors.case_get(user=request.user, pk=case.pk), request.user))


@router.post("/{case_id}/rating", response={200: CaseOut, **ERRORS})
def case_rate(request, case_id: int, payload: RatingIn):
    """The resident's verdict: solved or not, and a rating from 1 to 5."""
    case = selectors.case_get(user=request.user, pk=_id(case_id, _("Case")))
    services.case_rate(case=case, actor=request.user, solved=payload.solved, rating=payload.rating,
                       comment=payload.comment)
    return Answer(200, case_out(selectors.case_get(user=request.user, pk=case.pk), request.user))
