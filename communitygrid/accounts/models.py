"""Users, roles and the hierarchy nodes that bound what each user may see and change."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitygrid.privacy.fields import EncryptedField


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_LEADER = "grid_leader", _("Grid leader")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    STREET_STAFF = "street_staff", _("Street staff")
    DISTRICT_STAFF = "district_staff", _("District staff")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    LEADER = "leader", _("Leader (read-only cockpit)")
    ADMIN = "admin", _("System administrator")


# Roles whose scope is a set of hierarchy nodes and who work with people records.
AREA_STAFF_ROLES = {
    Role.GRID_WORKER,
    Role.GRID_LEADER,
    Role.COMMUNITY_STAFF,
    Role.STREET_STAFF,
    Role.DISTRICT_STAFF,
}
# Roles admitted to the back-office (Django admin), always through scoped querysets.
BACKOFFICE_ROLES = {
    Role.GRID_LEADER,
    Role.COMMUNITY_STAFF,
    Role.STREET_STAFF,
    Role.DISTRICT_STAFF,
    Role.ADMIN,
}


class Department(models.Model):
    class Kind(models.TextChoices):
        CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
        HEALTH = "health", _("Health")
        POLICE = "police", _("Public security")
        URBAN_MANAGEMENT = "urban_management", _("Urban management")
        HOUSING = "housing", _("Housing and construction")
        PROPERTY = "property", _("Property management company")
        SOCIAL_ORG = "social_org", _("Social organisation")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.OTHER)
    jurisdiction = models.ForeignKey(
        "geo.Node", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("jurisdiction")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.RESIDENT)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    scope_nodes = models.ManyToManyField(
        "geo.Node", blank=True, related_name="staff", verbose_name=_("scope (hierarchy nodes)")
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("department")
    )
    # A resident's own registry record, if they have been matched to one.
    person = models.OneToOneField(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
        verbose_name=_("registry record"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_area_staff(self) -> bool:
        return self.role in AREA_STAFF_ROLES

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class SignInEvent(models.Model):
    """An audit row for every sign-in, failed sign-in, refused (throttled) attempt and sign-out.

    Failed attempts are also what the sign-in throttle counts, per username and address.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Signed in")
        FAILURE = "failure", _("Wrong username or password")
        THROTTLED = "throttled", _("Refused: too many failed attempts")
        SIGN_OUT = "sign_out", _("Signed out")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # As typed (normalised to lower case), so attempts on unknown usernames are audited too.
    username = models.CharField(_("username"), max_length=150)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="sign_in_events", verbose_name=_("user")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "ip_address", "at"], name="signin_throttle_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.outcome}"


class ResidentPhone(models.Model):
    """The mobile number a resident signs in with (one-time code), encrypted, found by blind index."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="resident_phone", verbose_name=_("user"))
    phone = EncryptedField(_("mobile number"), kind="phone", blind_index_field="phone_bidx")
    phone_bidx = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now)

    class Meta:
        verbose_name = _("resident phone")
        verbose_name_plural = _("resident phones")
        constraints = [models.UniqueConstraint(fields=["phone_bidx"], name="resident_phone_unique")]

    def __str__(self) -> str:
        return str(self.phone)


class OneTimeCode(models.Model):
    """A sign-in code sent to a mobile number: only its keyed hash is kept; it expires and
    dies after a few wrong tries. Rows are also what the per-number and per-address throttle counts."""

    phone = EncryptedField(_("mobile number"), kind="phone", blind_index_field="phone_bidx")
    phone_bidx = models.CharField(max_length=32, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            models.Index(fields=["phone_bidx", "created_at"], name="otp_phone_throttle_idx"),
            models.Index(fields=["ip_address", "created_at"], name="otp_ip_throttle_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M}"


class BindingRequest(models.Model):
    """A resident's claim that a registry record is theirs, decided by staff who know the household.

    Never linked automatically: knowing someone's name and ID number must not hand over their
    record. The ID number is kept only as its blind index (enough to find the record, never to
    read it back); the claimed name is encrypted. ``person`` is the record the claim matched
    (same ID number *and* same name), or None — which the resident is never told.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        # Approved, then the link was removed (by staff of the record's grid, or by the resident).
        UNLINKED = "unlinked", _("Unlinked")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="binding_requests", verbose_name=_("account"))
    claimed_name = EncryptedField(_("claimed name"), kind="name")
    id_number_bidx = models.CharField(_("ID number (blind index)"), max_length=32, editable=False)
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="binding_requests",
        verbose_name=_("matched record"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("reason for refusal"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("decided by")
    )
    unlinked_at = models.DateTimeField(_("unlinked at"), null=True, blank=True)
    unlinked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("unlinked by")
    )
    unlink_reason = models.TextField(_("reason for unlinking"), blank=True)

    class Meta:
        verbose_name = _("household record link request")
        verbose_name_plural = _("household record link requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="pending"),
                                    name="binding_request_one_pending_per_user"),
        ]
        indexes = [models.Index(fields=["status", "person"], name="binding_request_status_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.claimed_name} ({self.get_status_display()})"
