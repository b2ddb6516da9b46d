"""Back-office: the questions each service asks over Open311 (system administrators)."""
from django.contrib import admin

from communitygrid.accounts.admin import SystemAdminOnly
from communitygrid.core.admin_site import admin_site
from communitygrid.open311.models import ServiceAttribute


@admin.register(ServiceAttribute, site=admin_site)
class ServiceAttributeAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("category", "code", "datatype", "required", "variable", "order", "description")
    list_filter = ("datatype", "required")
    search_fields = ("code", "category__code", "description", "description_en")
    raw_id_fields = ("category",)
