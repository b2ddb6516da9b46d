"""Forms of the workbench: they parse input; the case and registry services validate it."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.models import Department
from communitygrid.registry.selectors import care_tags


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
