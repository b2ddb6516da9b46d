"""Forms of the registry pages: they parse and validate input, nothing else."""
from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from communitygrid.privacy.fields import EncryptedField
from communitygrid.privacy.forms import RevealErrorsMixin
from communitygrid.registry.selectors import care_tags
from communitygrid.registry.validators import normalise_phone, parse_id_number


def sensitive_field_choices(model) -> list[tuple[str, str]]:
    return [(f.name, capfirst(f.verbose_name)) for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


class PersonSearchForm(forms.Form):
    name = forms.CharField(label=_("Name contains"), required=False, max_length=100)
    id_number = forms.CharField(
        label=_("ID number (exact)"), required=False, max_length=40,
        help_text=_("Searched through a keyed index; the search is recorded in the access log."),
    )
    phone = forms.CharField(label=_("Phone (exact)"), required=False, max_length=40)
    grid = forms.CharField(label=_("Grid or area code"), required=False, max_length=64)
    care_tag = forms.ChoiceField(label=_("Special-care group"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_tag"].choices = [("", _("Any"))] + [(tag.code, tag.label) for tag in care_tags()]

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        return parse_id_number(value).number if value else ""

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        return normalise_phone(value) if value else ""


class BuildingSearchForm(forms.Form):
    q = forms.CharField(label=_("Building name, code or address"), required=False, max_length=100)
    grid = forms.CharField(label=_("Grid or area code"), required=False, max_length=64)


class RevealForm(RevealErrorsMixin, forms.Form):
    """Which masked fields to show, and why (both required; the purpose is logged)."""

    fields = forms.MultipleChoiceField(label=_("Fields to show"), widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(
        label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500,
        help_text=_("Why you need to see these values, e.g. “home visit to confirm the disability allowance”. "
                    "Recorded with your name and the time."),
    )

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = sensitive_field_choices(model)

