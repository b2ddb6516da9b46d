"""Forms of the visit pages: they parse input; ``services`` validates and writes."""
from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from communitygrid.cases.selectors import category_leaves
from communitygrid.patrols.models import Visit


class EndForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Visit.Outcome.choices, widget=forms.RadioSelect,
                                error_messages={"required": _("Outcome: choose how the visit went."),
                                                "invalid_choice": _("Outcome: choose one of the listed outcomes.")})
    people = forms.MultipleChoiceField(label=_("People seen"), required=False, widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Choices are the page's offer; any id posted is checked against the scope by the service.
        self.fields["people"].choices = [(str(p.pk), str(p)) for p in candidates]
        self.fields["people"].valid_value = lambda value: True


class IssueForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"))
    description = forms.CharField(label=_("What did you find?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                  error_messages={"required": _("What did you find: describe the issue.")})
    building = forms.TypedChoiceField(label=_("Building"), required=False, coerce=int, empty_value=None,
                                      error_messages={"invalid_choice": _("Building: choose one from the list.")})
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose…"))] + [
            (c.code, "%s · %s" % (c.parent.label, c.label)) for c in category_leaves().order_by("parent__sort", "sort")]
        self.fields["category"].error_messages["required"] = _("Category: choose what kind of issue it is.")
        self.fields["category"].error_messages["invalid_choice"] = _("Category: choose one from the list.")
        if buildings is None:
            del self.fields["building"]
        else:
            self.fields["building"].choices = [("", _("Choose…"))] + [(b.pk, b.name) for b in buildings]
            self.fields["building"].valid_value = lambda value: True
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex
