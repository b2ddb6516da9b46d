"""Visits in the back-office: read-only and scoped (a visit's times are the server's, never typed).

The care rules (how often each special-care group is visited) are edited on the registry's
special-care groups (``visit every (days)``).
"""
from django.contrib import admin

from communitygrid.cases.admin import ReadOnly
from communitygrid.core.admin_site import admin_site
from communitygrid.patrols import selectors
from communitygrid.patrols.models import Visit, VisitIssue, VisitPerson


class VisitPersonInline(ReadOnly, admin.TabularInline):
    model = VisitPerson
    extra = 0
    fields = ["person"]
    readonly_fields = ["person"]


class VisitIssueInline(ReadOnly, admin.TabularInline):
    model = VisitIssue
    extra = 0
    fields = ["case", "created_at"]
    readonly_fields = ["case", "created_at"]


@admin.register(Visit, site=admin_site)
class VisitAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["id", "kind", "worker", "grid", "household", "started_at", "ended_at", "outcome", "flag"]
    list_filter = ["kind", "outcome", "flag"]
    date_hierarchy = "started_at"
    list_select_related = ["worker", "grid", "household"]
    readonly_fields = ["kind", "worker", "grid", "household", "started_at", "ended_at", "outcome", "notes", "flag"]
    inlines = [VisitPersonInline, VisitIssueInline]

    def get_queryset(self, request):
        return selectors.visit_queryset(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_authenticated

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_authenticated
