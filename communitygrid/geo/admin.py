"""Back-office for the hierarchy: browse within your area; system administrators add, rename, move
and retire nodes. Nothing is deleted, and boundaries change only by split, merge or redraw
(which keep history and re-assign records), never by editing the stored GeoJSON here."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from communitygrid.accounts.scopes import node_path_q
from communitygrid.core.admin_site import admin_site
from communitygrid.geo.geometry import check_geometry, to_geojson
from communitygrid.geo.models import KINDS_BY_LEVEL, Node, NodeChange
from communitygrid.geo.services import GeoInputError, node_create, node_retire, node_update, parent_problems
from communitygrid.privacy.admin import AuditTrailAdminMixin


def _is_system_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_authenticated and user.is_system_admin)


class NodeAddForm(forms.ModelForm):
    class Meta:
        model = Node
        fields = ("code", "name", "level", "kind", "parent", "geometry")

    def clean(self):
        data = super().clean()
        level, kind = data.get("level"), data.get("kind")
        if level and kind and kind not in KINDS_BY_LEVEL[level]:
            self.add_error("kind", _("A node of this level cannot be of this kind."))
        if level:
            for problem in parent_problems(level=level, parent=data.get("parent")):
                self.add_error("parent", problem)
        if data.get("geometry") is not None:
            checked = check_geometry(data["geometry"])
            for problem in checked.problems:
                self.add_error("geometry", problem)
            if checked.ok:
                data["geometry"] = to_geojson(checked.geometry)
        return data


class NodeEditForm(forms.ModelForm):
    class Meta:
        model = Node
        fields = ("name", "parent")

    def clean(self):
        data = super().clean()
        for problem in parent_problems(level=self.instance.level, parent=data.get("parent")):
            self.add_error("parent", problem)
        return data


@admin.register(Node, site=admin_site)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "kind", "status", "parent")
    list_filter = ("level", "kind", "status")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    actions = ["retire_selected"]
    readonly_fields = ("code", "level", "kind", "status", "path", "bbox", "boundary", "created_at", "retired_at")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(node_path_q(request.user))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = NodeEditForm if obj is not None else NodeAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return NodeAddForm.Meta.fields
        return ("name", "parent", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request):
        return _is_system_admin(request)

    def has_change_permission(self, request, obj=None):
        return _is_system_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # retire instead: history and records keep pointing at the node

    def save_model(self, request, obj, form, change):
        if change:
            stored = Node.objects.get(pk=obj.pk)
            saved = node_update(node=stored, name=obj.name, parent=obj.parent, actor=request.user)
        else:
            data = form.cleaned_data
            saved = node_create(code=data["code"], name=data["name"], level=data["level"], kind=data["kind"],
                                parent=data["parent"], geometry=data["geometry"])
        obj.__dict__.update(saved.__dict__)

    @admin.action(description=_("Retire the selected nodes"), permissions=["change"])
    def retire_selected(self, request, queryset):
        retired = 0
        for node in queryset:
            try:
                node_retire(node=node, actor=request.user)
                retired += 1
            except GeoInputError as exc:
                for problem in exc.problems:
                    self.message_user(request, str(problem), messages.ERROR)
        if retired:
            self.message_user(request, ngettext("%(n)d node retired.", "%(n)d nodes retired.", retired) % {"n": retired})

    @admin.display(description=_("bounding box"))
    def bbox(self, obj: Node) -> str:
        if obj.min_lon is None:
            return "—"
        return f"{obj.min_lon:.6f}, {obj.min_lat:.6f} – {obj.max_lon:.6f}, {obj.max_lat:.6f}"

    @admin.display(description=_("boundary (GeoJSON, WGS-84)"))
    def boundary(self, obj: Node) -> str:
        if not obj.geometry:
            return "—"
        return format_html("<pre style=\"max-height:20em;overflow:auto\">{}</pre>", json.dumps(obj.geometry, indent=1))


@admin.register(NodeChange, site=admin_site)
class NodeChangeAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """The log of map changes, read-only."""

    list_display = ("at", "kind", "actor", "retired_codes", "created_codes", "note")
    list_filter = ("kind", ("at", admin.DateFieldListFilter))
    search_fields = ("note", "retired__code", "created__code")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    readonly_fields = ("kind", "at", "actor", "note", "retired_codes", "created_codes", "reassigned")
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("retired", "created")

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    @admin.display(description=_("retired nodes"))
    def retired_codes(self, obj: NodeChange) -> str:
        return ", ".join(n.code for n in obj.retired.all()) or "—"

    @admin.display(description=_("new nodes"))
    def created_codes(self, obj: NodeChange) -> str:
        return ", ".join(n.code for n in obj.created.all()) or "—"
