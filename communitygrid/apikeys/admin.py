"""Back-office for API keys: system administrators create (the key is shown once) and revoke."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from communitygrid.accounts.admin import SystemAdminOnly
from communitygrid.apikeys import services
from communitygrid.apikeys.models import ApiKey, ApiKeyUse, Organisation, Scope
from communitygrid.core.admin_site import admin_site
from communitygrid.geo.models import Node, NodeStatus
from communitygrid.privacy.admin import AuditTrailAdminMixin


@admin.register(Organisation, site=admin_site)
class OrganisationAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("code", "name", "contact", "department", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("department",)


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=gettext_lazy("scopes"), choices=Scope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    nodes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("areas (hierarchy nodes)"), queryset=Node.objects.filter(status=NodeStatus.ACTIVE).order_by("path"),
        help_text=gettext_lazy("The key sees and submits cases only inside these areas, all of one level."),
    )

    class Meta:
        model = ApiKey
        fields = ("organisation", "name", "scopes", "nodes", "rate_limit")

    def clean(self):
        data = super().clean()
        try:
            services.apikey_validate(organisation=data.get("organisation"), name=data.get("name", ""),
                                     scopes=list(data.get("scopes") or []), nodes=list(data.get("nodes") or []),
                                     rate_limit=data.get("rate_limit"))
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, errors)
        return data


@admin.register(ApiKey, site=admin_site)
class ApiKeyAdmin(SystemAdminOnly, admin.ModelAdmin):
    # Creation time and rate are on the key's own page: the list stays readable at 1280 px.
    list_display = ("prefix", "name", "organisation", "scope_list", "area", "last_used_at", "revoked_at")
    list_filter = ("organisation", "revoked_at")
    search_fields = ("prefix", "name", "organisation__name")
    actions = ["revoke"]
    readonly_fields = ("prefix", "name", "organisation", "scope_list", "area", "rate_limit", "user", "created_at",
                       "created_by", "last_used_at", "revoked_at", "revoked_by", "revoke_reason")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return list(ApiKeyCreateForm.Meta.fields) if obj is None else list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the usage log keeps pointing at the key

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "user").prefetch_related("user__scope_nodes")

    @admin.display(description=gettext_lazy("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description=gettext_lazy("areas"))
    def area(self, obj):
        return ", ".join(str(node) for node in obj.user.scope_nodes.all())

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        new = services.apikey_create(organisation=data["organisation"], name=data["name"],
                                     scopes=list(data["scopes"]), nodes=list(data["nodes"]),
                                     rate_limit=data["rate_limit"], actor=request.user)
        obj.__dict__.update({k: v for k, v in new.key.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False
        messages.warning(request, _("The new API key is %(key)s — copy it now: it is shown only this once.")
                         % {"key": new.plaintext})

    def save_related(self, request, form, formsets, change):
        pass  # the service bound the areas to the key's service account

    @admin.action(description=gettext_lazy("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        keys = [key for key in queryset if not key.is_revoked]
        for key in keys:
            services.apikey_revoke(key=key, actor=request.user, reason=_("Revoked in the back-office"))
        self.message_user(request, ngettext("%(n)d API key revoked.", "%(n)d API keys revoked.", len(keys))
                          % {"n": len(keys)})


@admin.register(ApiKeyUse, site=admin_site)
class ApiKeyUseAdmin(AuditTrailAdminMixin, SystemAdminOnly, admin.ModelAdmin):
    list_display = ("at", "key", "method", "path", "status", "ip_address")
    list_filter = ("status", "method")
    search_fields = ("key__prefix", "path")
    list_select_related = ("key__organisation",)
    date_hierarchy = "at"
