"""Back-office for accounts: open to system administrators only."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from communitygrid.accounts import services
from communitygrid.accounts.models import BindingRequest, Department, SignInEvent, User
from communitygrid.accounts.selectors import user_queryset
from communitygrid.core.admin_site import admin_site
from communitygrid.privacy.admin import AuditTrailAdminMixin

# Translators: a line of Django's own "add user" page that Django's zh-Hans catalogue does not
# translate; our catalogue is read before Django's, so this translation is the one shown.
DJANGO_ADD_USER_HINT = gettext_noop("After you’ve created a user, you’ll be able to edit more user options.")


class SystemAdminOnly:
    """Accounts are managed by system administrators, nobody else (not even area staff)."""

    def _is_admin(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_system_admin)

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_add_permission(self, request):
        return self._is_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_admin(request)


class BindingValidationMixin:
    """The admin form applies the same role ↔ scope/department rule as ``user_create``."""

    def clean(self):
        data = super().clean()
        role = data.get("role", getattr(self.instance, "role", None))
        if role:
            field_names = {"scope_codes": "scope_nodes", "department_code": "department", "role": "role"}
            errors = services.binding_errors(role=role, scope_nodes=list(data.get("scope_nodes") or []),
                                             department=data.get("department"))
            for name, messages in errors.items():
                target = field_names[name] if field_names[name] in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        return data


class UserAdminChangeForm(BindingValidationMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserAdminCreationForm(BindingValidationMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "role", "department", "scope_nodes")


@admin.register(User, site=admin_site)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = ("username", "display_name", "role", "department", "is_active", "last_login")
    list_filter = ("role", "is_active", "department", "scope_nodes__level")
    search_fields = ("username", "display_name", "scope_nodes__code", "scope_nodes__name")
    ordering = ("role", "username")
    raw_id_fields = ("person",)
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Role and scope"), {"fields": ("display_name", "role", "scope_nodes", "department", "person")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Role and scope"), {"fields": ("display_name", "role", "scope_nodes", "department")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return user_queryset(user=request.user).prefetch_related("scope_nodes")

    def get_autocomplete_fields(self, request):
        # Autocomplete needs the hierarchy's admin (with search) on this site; until it is
        # there the scope is a plain multiple choice.
        from communitygrid.geo.models import Node

        node_admin = self.admin_site._registry.get(Node)
        return ("scope_nodes",) if node_admin is not None and node_admin.search_fields else ()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.__dict__.pop("_cg_scope_paths", None)


@admin.register(Department, site=admin_site)
class DepartmentAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "jurisdiction", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("jurisdiction",)


@admin.register(SignInEvent, site=admin_site)
class SignInEventAdmin(AuditTrailAdminMixin, SystemAdminOnly, admin.ModelAdmin):
    """The sign-in audit, read-only."""

    list_display = ("at", "username", "outcome", "ip_address", "user")
    list_filter = ("outcome", ("at", admin.DateFieldListFilter))
    search_fields = ("username", "ip_address")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in SignInEvent._meta.fields]


@admin.register(BindingRequest, site=admin_site)
class BindingRequestAdmin(AuditTrailAdminMixin, SystemAdminOnly, admin.ModelAdmin):
    """Read-only, system administrators only. The requests that matched no record are seen here
    and nowhere else: no area's staff can verify a claim that points at no household. Decisions
    are taken on the workbench by the staff of the matched record's area."""

    list_display = ("id", "created_at", "user", "status", "matched", "decided_at", "decided_by")
    list_filter = ("status", ("person", admin.EmptyFieldListFilter), ("created_at", admin.DateFieldListFilter))
    date_hierarchy = "created_at"
    list_select_related = ("user", "decided_by")
    readonly_fields = ("user", "claimed_name", "person", "status", "reason", "created_at", "decided_at", "decided_by",
                       "unlinked_at", "unlinked_by", "unlink_reason")
    exclude = ("id_number_bidx",)

    @admin.display(boolean=True, description=_("matched a record"))
    def matched(self, obj):
        return obj.person_id is not None
