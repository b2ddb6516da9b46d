from django.contrib import admin

from communitygrid.cases.models import CalendarOverride, Category
from communitygrid.core.admin_site import admin_site


@admin.register(CalendarOverride, site=admin_site)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["day", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "day"
    search_fields = ["note"]


@admin.register(Category, site=admin_site)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "default_tier", "handler", "department_kind", "resolve_days", "is_active"]
    list_filter = ["default_tier", "handler", "is_active", "parent"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
