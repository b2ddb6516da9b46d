"""The registry in the back-office, with the same scopes and masking as everywhere else.

Querysets come from :mod:`selectors` (a community staff member sees only their community);
protected values show masked in lists and are never prefilled in forms (``EncryptedField``'s own
form field: a new value replaces, an empty input keeps the stored one); persons and households go through
:mod:`services`; people are never deleted in bulk.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.scopes import may, node_path_q
from communitygrid.core.admin_site import admin_site
from communitygrid.geo.models import Node
from communitygrid.registry import selectors, services
from communitygrid.registry.models import Building, CareTag, Household, Person, PersonCareTag, Room, Unit


class ScopedAdmin(admin.ModelAdmin):
    """Scope and role decide everything; Django's per-model permissions are not used for people data."""

    def scoped(self, request, action: str):
        raise NotImplementedError

    def get_queryset(self, request):
        return self.scoped(request, "view")

    def has_module_permission(self, request):
        return may(request.user, "view")

    def has_view_permission(self, request, obj=None):
        return may(request.user, "view") and (obj is None or self.scoped(request, "view").filter(pk=obj.pk).exists())

    def has_change_permission(self, request, obj=None):
        return may(request.user, "change") and (
            obj is None or self.scoped(request, "change").filter(pk=obj.pk).exists()
        )

    def has_add_permission(self, request, obj=None):
        return may(request.user, "change")

    def has_delete_permission(self, request, obj=None):
        return request.user.is_system_admin

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # no bulk deletion of people records
        return actions

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Node:
            kwargs["queryset"] = Node.objects.active().filter(node_path_q(request.user))
        elif db_field.related_model is Household:
            kwargs["queryset"] = selectors.household_queryset(user=request.user, action="change")
        elif db_field.related_model is Room:
            kwargs["queryset"] = Room.objects.filter(
                unit__building__in=selectors.building_queryset(user=request.user, action="change")
            )
        elif db_field.related_model is Building:
            kwargs["queryset"] = selectors.building_queryset(user=request.user, action="change")
        elif db_field.related_model is Unit:
            kwargs["queryset"] = Unit.objects.filter(
                building__in=selectors.building_queryset(user=request.user, action="change")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    show_change_link = True

    def has_view_permission(self, request, obj=None):
        return may(request.user, "view")

    def has_add_permission(self, request, obj=None):
        return may(request.user, "change")

    has_change_permission = has_add_permission

    def has_delete_permission(self, request, obj=None):
        return request.user.is_system_admin


class RoomInline(UnitInline):
    model = Room
    fields = ("number", "floor", "area_m2")
    show_change_link = False


@admin.register(Building, site=admin_site)
class BuildingAdmin(ScopedAdmin):
    list_display = ("code", "name", "address", "kind", "floors", "grid")
    list_filter = ("kind",)
    search_fields = ("code", "name", "address")
    list_select_related = ("grid",)
    readonly_fields = ("last_verified_at", "last_verified_by", "created_at", "updated_at")
    inlines = [UnitInline]

    def scoped(self, request, action):
        return selectors.building_queryset(user=request.user, action=action)


@admin.register(Unit, site=admin_site)
class UnitAdmin(ScopedAdmin):
    list_display = ("building", "number")
    search_fields = ("building__code", "building__name")
    autocomplete_fields = ("building",)
    inlines = [RoomInline]

    def scoped(self, request, action):
        return Unit.objects.filter(building__in=selectors.building_queryset(user=request.user, action=action))

    def has_module_permission(self, request):
        return False  # reached from its building


@admin.register(Room, site=admin_site)
class RoomAdmin(ScopedAdmin):
    """Only for choosing a household's room by search (autocomplete); rooms are edited in their unit."""

    search_fields = ("number", "unit__building__code", "unit__building__name")

    def scoped(self, request, action):
        return Room.objects.filter(
            unit__building__in=selectors.building_queryset(user=request.user, action=action)
        ).select_related("unit__building")

    def has_module_permission(self, request):
        return False

    def has_add_permission(self, request, obj=None):
        return False


class HouseholdForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = ("code", "room", "address", "tenure", "is_active", "note")


@admin.register(Household, site=admin_site)
class HouseholdAdmin(ScopedAdmin):
    form = HouseholdForm
    list_display = ("code", "masked_address", "tenure", "grid", "is_active", "last_verified_at")
    list_filter = ("tenure", "is_active")
    search_fields = ("code",)
    list_select_related = ("grid",)
    # Autocomplete, not raw ids: a raw-id widget would print the label of any id typed in,
    # in scope or not; autocomplete choices come from the scoped admin querysets.
    autocomplete_fields = ("room",)
    readonly_fields = ("grid", "last_verified_at", "last_verified_by", "created_at", "updated_at")

    def scoped(self, request, action):
        return selectors.household_queryset(user=request.user, action=action)

    @admin.display(description=_("detailed address"))
    def masked_address(self, obj):
        return obj.address or "—"

    def get_readonly_fields(self, request, obj=None):
        # The number identifies the household in imports: fixed once given.
        return (*self.readonly_fields, "code") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {name: data[name] for name in form.changed_data if name in services.HOUSEHOLD_FIELDS}
            services.household_update(actor=request.user, household=obj, changes=changed)
        else:
            created = services.household_create(actor=request.user, code=data["code"], room=data["room"],
                                                address=data.get("address") or "", tenure=data["tenure"],
                                                note=data.get("note", ""))
            obj.pk, obj._state.adding = created.pk, False
        obj.refresh_from_db()


class PersonCareTagForm(forms.ModelForm):
    class Meta:
        model = PersonCareTag
        fields = ("tag", "level", "since", "note")

    def clean(self):
        cleaned = super().clean()
        tag = cleaned.get("tag")
        if tag is not None:
            level, problem = services.tag_level(tag, cleaned.get("level", ""))
            if problem:
                self.add_error("level", problem)
            cleaned["level"] = level
        return cleaned


class PersonCareTagInline(UnitInline):
    model = PersonCareTag
    form = PersonCareTagForm
    show_change_link = False
    fields = ("tag", "level", "since", "note")

    def has_delete_permission(self, request, obj=None):
        return may(request.user, "change")


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ("name", "household", "household_role", "gender", "birth_date", "id_number", "phone", "residence",
                  "registered_address", "employment", "employer", "emergency_contact_name",
                  "emergency_contact_phone", "health_notes", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("birth_date", "gender"):
            if name not in self.fields:  # a view-only form has none
                continue
            self.fields[name].required = False
            self.fields[name].help_text = gettext("Taken from the ID number when left empty.")

    def clean(self):
        cleaned = super().clean()
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            validated = services.person_validate(actor=self.actor, person=self.instance, changes=changes)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else [(None, exc)]:
                self.add_error(field if field in self.fields else None, errors)
            return cleaned
        # Birth date and gender follow a new ID number.
        for name in ("birth_date", "gender"):
            if name in validated:
                cleaned[name] = validated[name]
        return cleaned


@admin.register(Person, site=admin_site)
class PersonAdmin(ScopedAdmin):
    form = PersonForm
    list_display = ("name", "gender", "birth_date", "masked_id_number", "masked_phone", "household", "grid",
                    "is_active")
    list_filter = ("is_active", "gender", "residence", "tag_links__tag")
    search_fields = ("name",)
    list_select_related = ("grid", "household")
    autocomplete_fields = ("household",)
    readonly_fields = ("grid", "last_verified_at", "last_verified_by", "created_at", "updated_at")
    inlines = [PersonCareTagInline]

    def scoped(self, request, action):
        return selectors.person_queryset(user=request.user, action=action)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return obj.id_number or "—"

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.phone or "—"

    def get_search_results(self, request, queryset, search_term):
        """A whole ID or phone number is searched exactly through the blind index (and logged)."""
        term = search_term.strip()
        for key in ("id_number", "phone"):
            try:
                found = selectors.person_list(user=request.user, active_only=False, **{key: term},
                                              ip_address=request.META.get("REMOTE_ADDR"))
            except ValidationError:
                continue
            return queryset.filter(pk__in=found.values("pk")), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changes = {name: data[name] for name in form.changed_data if name in data and name in services.PERSON_FIELDS}
        if change:
            services.person_update(actor=request.user, person=obj, changes=changes)
        else:
            created = services.person_create(actor=request.user, household=data["household"], values={
                name: value for name, value in changes.items() if name != "household"})
            obj.pk, obj._state.adding = created.pk, False
        obj.refresh_from_db()


@admin.register(CareTag, site=admin_site)
class CareTagAdmin(admin.ModelAdmin):
    """Reference data: every back-office user reads it, system administrators add and edit groups."""

    list_display = ("code", "name", "name_en", "has_level", "visit_every_days", "sort")
    search_fields = ("code", "name", "name_en")

    def has_module_permission(self, request):
        return may(request.user, "view")

    def has_view_permission(self, request, obj=None):
        return may(request.user, "view")

    def has_add_permission(self, request):
        return request.user.is_system_admin

    def has_change_permission(self, request, obj=None):
        return request.user.is_system_admin

    def has_delete_permission(self, request, obj=None):
        return False  # a group in use is protected; retiring one is a data decision, not a click
