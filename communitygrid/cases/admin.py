"""Back-office: the catalogue and calendar are edited here; cases are read here (scoped) and
changed only through their actions (services), so the case admin is read-only."""
from django.contrib import admin

from communitygrid.accounts.admin import SystemAdminOnly
from communitygrid.cases import selectors
from communitygrid.cases.models import CalendarOverride, Case, CaseEvent, CaseTask, Category
from communitygrid.core.admin_site import admin_site


@admin.register(CalendarOverride, site=admin_site)
class CalendarOverrideAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["day", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "day"
    search_fields = ["note"]


@admin.register(Category, site=admin_site)
class CategoryAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "default_tier", "handler", "department_kind", "resolve_days",
                    "is_active"]
    list_filter = ["default_tier", "handler", "is_active", "parent"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent", "department"]
    list_select_related = ["parent"]


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(ReadOnly, admin.TabularInline):
    model = CaseEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "actor_role", "note"]
    readonly_fields = fields
    extra = 0


class CaseTaskInline(ReadOnly, admin.TabularInline):
    model = CaseTask
    fields = ["department", "assignee", "description", "due_at", "state", "result", "done_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Case, site=admin_site)
class CaseAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["id", "category", "tier", "status", "grid", "assignee", "department", "escalation_level",
                    "created_at", "respond_by", "resolve_by"]
    list_filter = ["status", "tier", "channel", "escalation_level", "supervised"]
    search_fields = ["=id", "external_id"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "grid", "assignee", "department"]
    exclude = ["caller_phone", "idempotency_key"]
    inlines = [CaseTaskInline, CaseEventInline]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_authenticated

    def get_queryset(self, request):
        return selectors.case_queryset(user=request.user)
