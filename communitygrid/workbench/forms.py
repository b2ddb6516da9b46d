"""Forms of the workbench: they parse input; the case and registry services validate it."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.models import Department
from communitygrid.cases.models import Status
from communitygrid.cases.selectors import category_leaves
from communitygrid.privacy.forms import RevealErrorsMixin
from communitygrid.registry.selectors import care_tags
from communitygrid.workbench.selectors import UNASSIGNED, list_areas, list_handlers


class ActionForm(forms.Form):
    """The input of one case action (which fields depends on the action)."""

    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True).order_by("name"), required=False,
        error_messages={"invalid_choice": _("Choose one of the active departments in the list.")},
    )

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in action.fields:
                del self.fields[name]
        if "department" in self.fields:
            self.fields["department"].required = True
            self.fields["department"].error_messages["required"] = _("Department: choose where the case goes.")


class CallBackForm(RevealErrorsMixin, forms.Form):
    """Which number of a case to show in plain to call back, and why (the purpose is logged)."""

    who = forms.ChoiceField(label=_("Number to show"), widget=forms.RadioSelect,
                            error_messages={"required": _("Choose whose number to show."),
                                            "invalid_choice": _("Choose whose number to show.")})
    purpose = forms.CharField(
        label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500,
        help_text=_("Why you call, e.g. “to agree a time for the visit”. Recorded with your name and the time."),
        error_messages={"required": _("Say why you need to see this data.")})

    def __init__(self, *args, numbers: dict, **kwargs):
        """``numbers``: who → (record, field, label), as the case page offers them."""
        super().__init__(*args, auto_id="id_call_%s", **kwargs)
        choices = [(who, label) for who, (_record, _field, label) in numbers.items()]
        self.fields["who"].choices = choices
        if len(choices) == 1:
            self.fields["who"].initial = choices[0][0]


class RecordUpdateForm(forms.Form):
    """What a worker corrects on the spot. Protected values are never prefilled: empty keeps them."""

    phone = forms.CharField(label=_("New phone number"), required=False, max_length=40,
                            help_text=_("Leave empty to keep the number on file."))
    emergency_contact_phone = forms.CharField(label=_("New emergency contact phone"), required=False, max_length=40,
                                              help_text=_("Leave empty to keep the number on file."))
    address = forms.CharField(label=_("New detailed address of the household"), required=False, max_length=300,
                              help_text=_("Leave empty to keep the address on file."))
    care_tags = forms.MultipleChoiceField(label=_("Special-care groups"), required=False,
                                          widget=forms.CheckboxSelectMultiple)
    verified = forms.BooleanField(label=_("I checked this record with the resident today"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_tags"].choices = [(tag.code, tag.label) for tag in care_tags()]


class RefuseLinkForm(forms.Form):
    """Why a household record link request is refused: the resident reads it."""

    reason = forms.CharField(label=_("Reason for refusal"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("The resident reads this. Say what to do next (for example: come to the "
                                         "community office with your household register)."),
                             error_messages={"required": _("Reason is required: tell the resident why the request "
                                                           "is refused."),
                                             "max_length": _("Reason is longer than %(limit_value)d characters.")})


class UnlinkForm(forms.Form):
    """Why an account's link to a household record is removed: the resident reads it."""

    reason = forms.CharField(label=_("Reason for unlinking"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("The resident reads this. For example: the account is not this "
                                         "resident's; the resident moved out of the household."),
                             error_messages={"required": _("Reason is required: tell the resident why their "
                                                           "account is unlinked."),
                                             "max_length": _("Reason is longer than %(limit_value)d characters.")})


# Dates a case list may be narrowed to: wide enough for imported history, narrow enough that a
# day's local midnight is a valid datetime in every time zone.
FIRST_YEAR, LAST_YEAR = 1970, 2100


def _date_field(label, invalid) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"invalid": invalid})


class CaseFilterForm(forms.Form):
    """The filters of the case list; every one optional, every bad value refused beside its field."""

    field_order = ["q", "status", "category", "area", "handler", "date_from", "date_to"]

    q = forms.CharField(label=_("Case number or words"), required=False, max_length=100,
                        error_messages={"max_length": _("Case number or words: at most %(limit_value)d characters.")})
    status = forms.ChoiceField(label=_("Status"), required=False,
                               error_messages={"invalid_choice": _("Status: choose one of the statuses in the list.")})
    category = forms.ChoiceField(label=_("Category"), required=False, error_messages={
        "invalid_choice": _("Category: choose one of the categories in the list.")})
    date_from = _date_field(_("Submitted from (date)"), _("Submitted from: enter a date such as 2026-03-01."))
    date_to = _date_field(_("Submitted until (date, inclusive)"),
                          _("Submitted until: enter a date such as 2026-03-01."))
    # Only the areas and handlers of the user's own list are offered, and only they are accepted.
    area = forms.ChoiceField(label=_("Area (grid, community…)"), required=False, error_messages={
        "invalid_choice": _("Area: choose one of the areas in the list (only your own areas are offered).")})
    handler = forms.ChoiceField(label=_("Handler"), required=False, error_messages={
        "invalid_choice": _("Handler: choose one of the staff in the list, or “Not assigned”.")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), ("open", _("Still being handled")), *Status.choices]
        self.fields["category"].choices = [("", _("Any category"))] + [
            (category.code, category.full_label) for category in category_leaves()]
        self.areas = {node.code: node for node in list_areas(user=user)}
        self.fields["area"].choices = [("", _("Any area"))] + [
            (node.code, f"{node.name} · {node.get_level_display()}") for node in self.areas.values()]
        self.fields["handler"].choices = [("", _("Anyone or nobody")), (UNASSIGNED, _("Not assigned"))] + [
            (str(staff.pk), f"{staff} · {staff.get_role_display()}") for staff in list_handlers(user=user)]

    def clean(self):
        data = super().clean()
        for name, label in (("date_from", _("Submitted from")), ("date_to", _("Submitted until"))):
            day = data.get(name)
            if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
                self.add_error(name, _("%(field)s: enter a date between %(first)d and %(last)d.")
                               % {"field": label, "first": FIRST_YEAR, "last": LAST_YEAR})
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end and not self.has_error("date_from") and not self.has_error("date_to"):
            self.add_error("date_to", _("Submitted until: the date is before the start date."))
        return data

    def filters(self) -> dict:
        """Keyword arguments of ``workbench.selectors.handled_cases``; dates are whole local days."""
        data = self.cleaned_data
        filters = {"status": data.get("status") or "", "category_code": data.get("category") or "",
                   "text": data.get("q") or "", "area": self.areas.get(data.get("area") or "")}
        if data.get("handler"):
            filters["handler"] = data["handler"] if data["handler"] == UNASSIGNED else int(data["handler"])
        if data.get("date_from"):
            filters["created_from"] = _local_midnight(data["date_from"])
        if data.get("date_to"):
            filters["created_before"] = _local_midnight(data["date_to"] + dt.timedelta(days=1))
        return filters


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
