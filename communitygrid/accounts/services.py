"""Every write to accounts: users bound to their scope, and the sign-in audit and throttle."""
from __future__ import annotations

import datetime as dt
import math
import secrets
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from communitygrid.accounts.models import BindingRequest, Department, OneTimeCode, ResidentPhone, Role, SignInEvent, User
from communitygrid.geo.models import Level, Node
from communitygrid.privacy import crypto

# Which hierarchy levels a role's scope nodes may be at; a role absent here takes no scope.
SCOPE_LEVELS: dict[str, set[str]] = {
    Role.GRID_WORKER: {Level.GRID, Level.MICROGRID},
    Role.GRID_LEADER: {Level.GRID, Level.MICROGRID},
    Role.COMMUNITY_STAFF: {Level.COMMUNITY},
    Role.STREET_STAFF: {Level.STREET},
    Role.DISTRICT_STAFF: {Level.DISTRICT},
    # The cockpit shows the figures of an area at any level above the grid.
    Role.LEADER: {Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY},
}
DEPARTMENT_ROLES = {Role.DEPARTMENT_STAFF}


def binding_errors(*, role: str, scope_nodes: list[Node], department: Department | None) -> dict[str, list[str]]:
    """What is wrong with binding ``role`` to these nodes and this department (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        return {"role": [_("%(role)s is not a role. Choose one of: %(roles)s.")
                         % {"role": role, "roles": ", ".join(Role.values)}]}
    label = Role(role).label
    allowed = SCOPE_LEVELS.get(role)
    if allowed:
        if not scope_nodes:
            errors["scope_codes"] = [_("A %(role)s must be given at least one area (a hierarchy node code).")
                                     % {"role": label}]
        wrong = [n for n in scope_nodes if n.level not in allowed]
        if wrong:
            errors["scope_codes"] = [
                _("%(node)s is a %(level)s; a %(role)s is bound to: %(allowed)s.")
                % {"node": node.code, "level": node.get_level_display(), "role": label,
                   "allowed": ", ".join(str(Level(level).label) for level in sorted(allowed))}
                for node in wrong
            ]
        retired = [n for n in scope_nodes if not n.is_active]
        if retired:
            errors.setdefault("scope_codes", []).extend(
                _("%(node)s is retired; bind the user to the node that replaced it.") % {"node": node.code}
                for node in retired
            )
    elif scope_nodes:
        errors["scope_codes"] = [_("A %(role)s has no area scope; leave the areas empty.") % {"role": label}]
    if role in DEPARTMENT_ROLES:
        if department is None:
            errors["department_code"] = [_("A %(role)s must belong to a department.") % {"role": label}]
        elif not department.is_active:
            errors["department_code"] = [_("Department %(code)s is no longer active.") % {"code": department.code}]
    elif department is not None:
        errors["department_code"] = [_("Only department staff belong to a department.")]
    return errors


def _require_admin(actor) -> None:
    # ``actor=None`` is the operator at the command line (``communitygrid create-user``).
    if actor is not None and not (actor.is_active and actor.is_system_admin):
        raise PermissionDenied(_("Only a system administrator may manage user accounts."))


def _nodes_for(codes: list[str]) -> tuple[list[Node], list[str]]:
    codes = list(dict.fromkeys(code.strip() for code in codes or [] if code and code.strip()))
    found = {node.code: node for node in Node.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    errors = [_("No hierarchy node has the code %(code)s.") % {"code": code} for code in missing]
    return [found[code] for code in codes if code in found], errors


def _department_for(code: str | None) -> tuple[Department | None, list[str]]:
    if not code:
        return None, []
    department = Department.objects.filter(code=code.strip()).first()
    if department is None:
        return None, [_("No department has the code %(code)s.") % {"code": code}]
    return department, []


def _resolve(role: str, scope_codes: list[str], department_code: str | None) -> tuple[list[Node], Department | None]:
    nodes, node_errors = _nodes_for(scope_codes)
    department, department_errors = _department_for(department_code)
    errors: dict[str, list[str]] = {}
    if node_errors:
        errors["scope_codes"] = node_errors
    if department_errors:
        errors["department_code"] = department_errors
    for name, messages in binding_errors(role=role, scope_nodes=nodes, department=department).items():
        if name not in errors:
            errors[name] = messages
    if errors:
        raise ValidationError(errors)
    return nodes, department


@transaction.atomic
def user_create(*, username: str, password: str, role: str, scope_codes: list[str],
                department_code: str | None = None, display_name: str = "", actor: User | None) -> User:
    """Create a user bound to the scope their role needs. ValidationError names each bad field."""
    _require_admin(actor)
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    user = User(username=username, role=role, display_name=(display_name or "").strip())
    try:
        user.clean_fields(exclude=[f.name for f in User._meta.fields if f.name not in {"username", "display_name"}])
    except ValidationError as exc:
        errors.update({name: [str(m) for m in messages] for name, messages in exc.message_dict.items()})
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("The username %(username)s is already taken.") % {"username": username}]
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        errors["password"] = [str(m) for m in exc.messages]
    try:
        nodes, department = _resolve(role, scope_codes, department_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    user.department = department
    user.is_staff = role == Role.ADMIN
    user.set_password(password)
    user.save()
    user.scope_nodes.set(nodes)
    return user


@transaction.atomic
def user_set_scope(*, user: User, scope_codes: list[str], department_code: str | None = None,
                   actor: User | None) -> User:
    """Re-bind a user to other areas (and department), checked against their role."""
    _require_admin(actor)
    nodes, department = _resolve(user.role, scope_codes, department_code)
    user.department = department
    user.save(update_fields=["department"])
    user.scope_nodes.set(nodes)
    user.__dict__.pop("_cg_scope_paths", None)
    return user


# --- Sign-in audit and throttle -------------------------------------------------------

def throttle_limits() -> tuple[int, dt.timedelta]:
    return (getattr(settings, "CG_SIGN_IN_MAX_FAILURES", 10),
            dt.timedelta(minutes=getattr(settings, "CG_SIGN_IN_WINDOW_MINUTES", 15)))


def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()[:150]


def client_ip(request) -> str | None:
    """The peer address. Behind a reverse proxy, the proxy must set REMOTE_ADDR (e.g. a
    trusted-proxy middleware); a client-supplied X-Forwarded-For is never trusted here."""
    ip = (request.META.get("REMOTE_ADDR") or "").strip() if request is not None else ""
    try:
        validate_ipv46_address(ip)
    except ValidationError:
        return None
    return ip


def sign_in_retry_after(*, username: str, ip_address: str | None) -> dt.timedelta | None:
    """How long this username must wait at this address, or None if it may try now.

    Counts the failed attempts inside the window since the last success from there.
    """
    limit, window = throttle_limits()
    now = timezone.now()
    events = SignInEvent.objects.filter(username=normalise_username(username), ip_address=ip_address,
                                        at__gte=now - window)
    last_success = events.filter(outcome=SignInEvent.Outcome.SUCCESS).order_by("-at").values_list("at", flat=True).first()
    failures = events.filter(outcome=SignInEvent.Outcome.FAILURE)
    if last_success:
        failures = failures.filter(at__gt=last_success)
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) < limit:
        return None
    # Free again once the oldest of the last ``limit`` failures leaves the window.
    return max(times[-1] + window - now, dt.timedelta(seconds=1))


def sign_in_event_record(*, outcome: str, username: str | None, user: User | None = None, request=None) -> SignInEvent:
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    return SignInEvent.objects.create(
        outcome=outcome,
        username=normalise_username(username if username is not None else getattr(user, "username", "")),
        user=user if user is not None and user.pk else None,
        ip_address=client_ip(request),
        user_agent=agent,
    )



# --- Residents: sign up and sign in with a one-time code -------------------------------

class CodeRefused(Exception):
    """A one-time code request or check refused: the message names the field and the problem.

    ``status`` is the HTTP answer: 400 for bad input, 429 when a limit is reached, 403 for a
    disabled account. Nothing but the wrong-attempt counter is written when this is raised.
    """

    def __init__(self, message: str, *, field: str, status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


@dataclass
class CodeSent:
    challenge: OneTimeCode
    # The code itself, only when the configured sender shows it on the page (demo).
    code_on_screen: str | None


def _code_hash(phone_bidx: str, code: str) -> str:
    return salted_hmac("communitygrid.accounts.otp", f"{phone_bidx}:{code}", algorithm="sha256").hexdigest()


def mobile_number(value: str | None) -> str:
    """The 11-digit mobile number in ``value``; CodeRefused (field "phone") naming what is wrong."""
    from communitygrid.registry.validators import normalise_phone

    if not (value or "").strip():
        raise CodeRefused(_("Enter your mobile number."), field="phone")
    try:
        phone = normalise_phone(value)
    except ValidationError as exc:
        raise CodeRefused(" ".join(exc.messages), field="phone")
    if not phone.startswith("1"):
        raise CodeRefused(_("Codes are sent by text message: enter a mobile number (11 digits starting with 13–19), "
                            "not a landline."), field="phone")
    return phone


@transaction.atomic
def one_time_code_send(*, phone: str, ip_address: str | None, now: dt.datetime | None = None) -> CodeSent:
    """Send a sign-in code to ``phone``, within the per-number and per-address limits."""
    from communitygrid.accounts.sms import sms_sender

    phone = mobile_number(phone)
    now = now or timezone.now()
    bidx = crypto.blind_index("phone", phone)
    hour_ago = now - dt.timedelta(hours=1)
    recent = OneTimeCode.objects.filter(phone_bidx=bidx, created_at__gt=hour_ago)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    wait = settings.OTP_RESEND_SECONDS - (now - last).total_seconds() if last else 0
    if wait > 0:
        raise CodeRefused(_("A code was sent to this number a moment ago. Wait %(seconds)d seconds before asking "
                            "for another one.") % {"seconds": math.ceil(wait)}, field="phone", status=429)
    if recent.count() >= settings.OTP_PER_PHONE_PER_HOUR:
        raise CodeRefused(_("Too many codes were sent to this number in the last hour. Try again later."),
                          field="phone", status=429)
    if ip_address and OneTimeCode.objects.filter(ip_address=ip_address, created_at__gt=hour_ago).count() \
            >= settings.OTP_PER_IP_PER_HOUR:
        raise CodeRefused(_("Too many codes were asked for from this network in the last hour. Try again later."),
                          field="phone", status=429)
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = OneTimeCode.objects.create(
        phone=phone, code_hash=_code_hash(bidx, code), ip_address=ip_address, created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    sender = sms_sender()
    with translation.override(settings.LANGUAGE_CODE):
        message = _("Your community grid sign-in code is %(code)s. It expires in %(minutes)d minutes.") % {
            "code": code, "minutes": max(1, settings.OTP_TTL_SECONDS // 60)}
    sender.send(phone=phone, message=message)
    return CodeSent(challenge=challenge, code_on_screen=code if sender.shows_on_screen else None)


def one_time_code_check(*, challenge_id: int | None, code: str | None, now: dt.datetime | None = None) -> tuple[User, bool]:
    """The resident whose number received ``code`` (created on first sign-in); returns (user, created).

    A wrong code counts against the code's attempts (kept even though the check fails); the code
    dies after ``OTP_MAX_ATTEMPTS`` wrong tries, when it expires, and once used.
    """
    now = now or timezone.now()
    challenge = OneTimeCode.objects.filter(pk=challenge_id).first() if challenge_id else None
    if challenge is None:
        raise CodeRefused(_("No code was sent to you yet, or it was too long ago. Ask for a new code."), field="code")
    code = "".join((code or "").split())
    if not code:
        raise CodeRefused(_("Enter the 6-digit code from the message."), field="code")
    if challenge.used_at is not None:
        raise CodeRefused(_("This code was already used. Ask for a new code."), field="code")
    if challenge.expires_at <= now:
        raise CodeRefused(_("The code has expired. Ask for a new code."), field="code")
    limit = settings.OTP_MAX_ATTEMPTS
    if challenge.attempts >= limit:
        raise CodeRefused(_("Too many wrong codes. Ask for a new code."), field="code", status=429)
    if not (code.isdigit() and len(code) == 6) or not constant_time_compare(
            _code_hash(challenge.phone_bidx, code), challenge.code_hash):
        OneTimeCode.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
        left = limit - challenge.attempts - 1
        if left <= 0:
            raise CodeRefused(_("Too many wrong codes. Ask for a new code."), field="code", status=429)
        raise CodeRefused(ngettext("The code is wrong. %(left)d try left.", "The code is wrong. %(left)d tries left.",
                                   left) % {"left": left}, field="code")
    with transaction.atomic():
        if OneTimeCode.objects.filter(pk=challenge.pk, used_at__isnull=True, attempts__lt=limit).update(used_at=now) != 1:
            raise CodeRefused(_("This code was already used. Ask for a new code."), field="code")
        return _resident_for(challenge)


def _resident_for(challenge: OneTimeCode) -> tuple[User, bool]:
    known = ResidentPhone.objects.select_related("user").filter(phone_bidx=challenge.phone_bidx).first()
    if known is not None:
        if not known.user.is_active:
            raise CodeRefused(_("This account is switched off. Please contact your community office."),
                              field="code", status=403)
        return known.user, False
    user = User(username=f"resident-{secrets.token_hex(5)}", role=Role.RESIDENT,
                display_name=str(challenge.phone))  # the masked number until a registry record is matched
    user.set_unusable_password()
    user.save()
    # The ciphertext moves as it is: the plaintext is never needed here.
    ResidentPhone.objects.create(user=user, phone=challenge.phone, phone_bidx=challenge.phone_bidx)
    return user, True


# --- Residents: link the account to their household record ---------------------------------

# Access-log purposes are stored in English, like the registry's searches.
LINK_PURPOSE_APPROVED = "account link request #%(id)s approved"
LINK_PURPOSE_REFUSED = "account link request #%(id)s refused"
LINK_PURPOSE_UNLINKED = "account #%(account)s unlinked from the record by staff: %(reason)s"
LINK_PURPOSE_UNLINKED_OWN = "account #%(account)s unlinked from the record by the resident"
REASON_MAX_CHARS = 500
CLAIMED_NAME_MAX_CHARS = 100

BINDING_NOTICES = {
    "binding_approved": (gettext_lazy("Your account is linked to your household record"),
                         gettext_lazy("Your grid worker verified your request #%(id)s. Your household record is now "
                                      "linked to your account.")),
    "binding_refused": (gettext_lazy("Your request to link your household record was refused"),
                        gettext_lazy("Your grid worker could not verify your request #%(id)s: %(reason)s")),
    "binding_removed": (gettext_lazy("Your household record is no longer linked to your account"),
                        gettext_lazy("Your grid worker removed the link between your account and your household "
                                     "record (reason: %(reason)s). If this is a mistake, ask for the link again on "
                                     "the page “Link my household record”.")),
}
BINDING_NOTICE_LABELS = {
    "binding_approved": gettext_lazy("Household record linked"),
    "binding_refused": gettext_lazy("Household record link refused"),
    "binding_removed": gettext_lazy("Household record unlinked"),
}


class BindingRefused(Exception):
    """A link request (or a decision on one) refused: the message names the field and the problem.

    ``field`` is a form field or ``"form"``; ``status`` the HTTP answer (400 bad input, 409 the
    state does not allow it, 403 the role may not). Nothing is written when this is raised.
    """

    def __init__(self, message: str, *, field: str = "form", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _clean_claim(name: str | None, id_number: str | None) -> tuple[str, str]:
    """The trimmed name and the canonical ID number, or BindingRefused naming every bad field."""
    from communitygrid.registry.validators import parse_id_number

    errors: dict[str, str] = {}
    clean_name = " ".join(unicodedata.normalize("NFKC", name or "").split())
    if not clean_name:
        errors["name"] = _("Full name is required: write it as on your ID card.")
    elif len(clean_name) > CLAIMED_NAME_MAX_CHARS:
        errors["name"] = _("Full name is longer than %(count)d characters.") % {"count": CLAIMED_NAME_MAX_CHARS}
    number = ""
    if not (id_number or "").strip():
        errors["id_number"] = _("ID number is required: the 18 characters on your ID card.")
    else:
        try:
            number = parse_id_number(id_number).number
        except ValidationError as error:
            errors["id_number"] = error.messages[0]
    if errors:
        refused = BindingRefused(next(iter(errors.values())), field=next(iter(errors)))
        refused.errors = errors
        raise refused
    return clean_name, number


def binding_request_submit(*, user: User, name: str | None, id_number: str | None) -> BindingRequest:
    """A resident asks for their account to be linked to their registry record.

    The record is looked up by the ID number's blind index and must bear the same name; the
    request is stored whether or not one matched, and the resident is told the same either way.
    One pending request per account (also a database constraint).
    """
    from communitygrid.registry.selectors import person_match_claim

    if user.role != Role.RESIDENT:
        raise BindingRefused(_("Only residents link their account to a household record."), status=403)
    clean_name, number = _clean_claim(name, id_number)
    if user.person_id:
        raise BindingRefused(_("Your account is already linked to your household record."), status=409)
    pending = _("You already have a request waiting for verification: wait for it, or withdraw it first.")
    if BindingRequest.objects.filter(user=user, status=BindingRequest.Status.PENDING).exists():
        raise BindingRefused(pending, status=409)
    bidx = crypto.blind_index("id_number", number)
    person = person_match_claim(id_number_bidx=bidx, name=clean_name)
    try:
        with transaction.atomic():
            return BindingRequest.objects.create(user=user, claimed_name=clean_name, id_number_bidx=bidx,
                                                 person=person)
    except IntegrityError:  # a second request sent at the same moment
        raise BindingRefused(pending, status=409) from None


def binding_request_withdraw(*, user: User, binding_request_id: int) -> bool:
    """The resident takes back their own pending request; False when there was none to take back."""
    return BindingRequest.objects.filter(pk=binding_request_id, user=user, status=BindingRequest.Status.PENDING).update(
        status=BindingRequest.Status.WITHDRAWN, decided_at=timezone.now(), decided_by=user) == 1


def _binding_notify(request: BindingRequest, kind: str, **params) -> None:
    from communitygrid.notifications import kinds
    from communitygrid.notifications.services import notification_enqueue

    params = {"id": request.pk, **params}
    subject, body = kinds.render(kind, params)
    notification_enqueue(recipient=request.user, kind=kind, subject=subject, body=body, params=params,
                         payload={"binding_request": request.pk, "status": request.status})


def _decidable(*, actor: User, binding_request_id: int) -> BindingRequest:
    """The pending request, locked, if it lies in the actor's areas; BindingRefused otherwise."""
    from communitygrid.accounts.selectors import binding_request_queryset

    request = (binding_request_queryset(user=actor).select_for_update(of=("self",))
               .filter(pk=binding_request_id).first())
    if request is None:
        raise BindingRefused(_("No such request in your area."), status=404)
    if request.status != BindingRequest.Status.PENDING:
        raise BindingRefused(_("This request is already decided (%(status)s).")
                             % {"status": request.get_status_display()}, status=409)
    return request


def _clean_reason(reason: str | None, required: str) -> str:
    """The reason on one line, or BindingRefused on ``reason`` (``required`` says why it is needed)."""
    text = " ".join((reason or "").split())
    if not text:
        raise BindingRefused(required, field="reason")
    if len(text) > REASON_MAX_CHARS:
        raise BindingRefused(_("Reason is longer than %(count)d characters.") % {"count": REASON_MAX_CHARS},
                             field="reason")
    return text


def binding_request_approve(*, actor: User, binding_request_id: int, ip_address: str | None = None) -> BindingRequest:
    """Link the requesting account to the matched record, in one transaction with the access-log
    entry and the resident's notice. Refused if the record is already linked to another account."""
    from communitygrid.privacy.models import AccessLog
    from communitygrid.privacy.services import access_log_record

    with transaction.atomic():
        request = _decidable(actor=actor, binding_request_id=binding_request_id)
        account = User.objects.select_for_update().get(pk=request.user_id)
        if User.objects.filter(person_id=request.person_id).exclude(pk=account.pk).exists():
            raise BindingRefused(_("This record is already linked to another account: refuse this request, or "
                                   "have the other account unlinked first."), status=409)
        if account.person_id and account.person_id != request.person_id:
            raise BindingRefused(_("This account is already linked to another record."), status=409)
        now = timezone.now()
        request.status, request.decided_at, request.decided_by = BindingRequest.Status.APPROVED, now, actor
        request.save(update_fields=["status", "decided_at", "decided_by"])
        account.person_id = request.person_id
        account.save(update_fields=["person"])
        access_log_record(actor=actor, action=AccessLog.Action.LINK, subject=request.person, fields=["id_number"],
                          purpose=LINK_PURPOSE_APPROVED % {"id": request.pk}, ip_address=ip_address)
        _binding_notify(request, "binding_approved")
    return request


def binding_request_refuse(*, actor: User, binding_request_id: int, reason: str | None,
                           ip_address: str | None = None) -> BindingRequest:
    """Refuse with a reason the resident reads; logged and notified like an approval."""
    from communitygrid.privacy.models import AccessLog
    from communitygrid.privacy.services import access_log_record

    text = _clean_reason(reason, _("Reason is required: tell the resident why the request is refused."))
    with transaction.atomic():
        request = _decidable(actor=actor, binding_request_id=binding_request_id)
        request.status, request.reason = BindingRequest.Status.REFUSED, text
        request.decided_at, request.decided_by = timezone.now(), actor
        request.save(update_fields=["status", "reason", "decided_at", "decided_by"])
        access_log_record(actor=actor, action=AccessLog.Action.LINK, subject=request.person, fields=["id_number"],
                          purpose=LINK_PURPOSE_REFUSED % {"id": request.pk}, ip_address=ip_address)
        _binding_notify(request, "binding_refused", reason=text)
    return request


def _unlink(account: User, *, by: User, reason: str) -> None:
    """Clear the account's link; the approved request that made it is marked unlinked (a link set
    without a request, in the back-office, has none)."""
    now = timezone.now()
    BindingRequest.objects.filter(user=account, person_id=account.person_id,
                                  status=BindingRequest.Status.APPROVED).update(
        status=BindingRequest.Status.UNLINKED, unlinked_at=now, unlinked_by=by, unlink_reason=reason)
    account.person = None
    account.save(update_fields=["person"])


def binding_unlink(*, actor: User, person_id: int, reason: str | None, ip_address: str | None = None) -> User:
    """Staff of the record's grid (those who may approve a link) remove the link between the record
    and its account: a wrong link, a resident who moved out, an account taken over.

    One transaction: the account's link cleared, the approved request marked unlinked, an
    access-log entry, and a notice to the resident with the reason. Returns the account.
    """
    from communitygrid.accounts.selectors import link_person_queryset
    from communitygrid.notifications import kinds
    from communitygrid.notifications.services import notification_enqueue
    from communitygrid.privacy.models import AccessLog
    from communitygrid.privacy.services import PURPOSE_MAX_CHARS, access_log_record

    text = _clean_reason(reason, _("Reason is required: tell the resident why their account is unlinked."))
    with transaction.atomic():
        person = link_person_queryset(user=actor).filter(pk=person_id).first()
        if person is None:
            raise BindingRefused(_("No such record in your area."), status=404)
        account = User.objects.select_for_update().filter(person_id=person.pk).first()
        if account is None:
            raise BindingRefused(_("No account is linked to this record (any more)."), status=409)
        _unlink(account, by=actor, reason=text)
        access_log_record(actor=actor, action=AccessLog.Action.UNLINK, subject=person, fields=["id_number"],
                          # the reason may fill the whole purpose: the log keeps what fits
                          purpose=(LINK_PURPOSE_UNLINKED % {"account": account.pk, "reason": text})[:PURPOSE_MAX_CHARS],
                          ip_address=ip_address)
        subject, body = kinds.render("binding_removed", {"reason": text})
        notification_enqueue(recipient=account, kind="binding_removed", subject=subject, body=body,
                             params={"reason": text},
                             payload={"status": BindingRequest.Status.UNLINKED.value})
    return account


def binding_unlink_own(*, user: User, ip_address: str | None = None) -> None:
    """A resident removes the link between their own account and their record (logged; they
    may ask for a link again afterwards)."""
    from communitygrid.privacy.models import AccessLog
    from communitygrid.privacy.services import access_log_record

    if user.role != Role.RESIDENT:
        raise BindingRefused(_("Only residents unlink their own account from a household record."), status=403)
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        person = account.person
        if person is None:
            raise BindingRefused(_("Your account is not linked to a household record."), status=409)
        _unlink(account, by=account, reason="")
        access_log_record(actor=account, action=AccessLog.Action.UNLINK, subject=person, fields=["id_number"],
                          purpose=LINK_PURPOSE_UNLINKED_OWN % {"account": account.pk}, ip_address=ip_address)
    user.person = None
