from django.contrib import admin

from communitygrid.core.admin_site import admin_site
from communitygrid.privacy.models import AccessLog
from communitygrid.privacy.selectors import access_log_queryset


class AuditTrailAdminMixin:
    """An audit trail is read, never added to, changed or deleted through the back-office."""

    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog, site=admin_site)
class AccessLogAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """Read-only: the log is append-only, and the admin shows each reader their own slice."""

    list_display = ("at", "actor", "actor_role", "action", "subject_type", "subject_id", "subject_label", "purpose")
    list_filter = ("action", "actor_role", "subject_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor__username", "purpose", "subject_label")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AccessLog._meta.fields]

    def get_queryset(self, request):
        return access_log_queryset(user=request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_authenticated
