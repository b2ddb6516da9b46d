from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitygrid.privacy.fields import models_with_encrypted_fields


class RevealErrorsMixin:
    """For a form that asks for a reveal: the errors ``privacy.services.sensitive_reveal`` raises
    (on its ``fields`` or ``purpose``), shown on the form's field of that name, or the form's own."""

    def add_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


def _record_type_choices():
    return [("", _("Any"))] + [
        (model._meta.label_lower, model._meta.verbose_name) for model in models_with_encrypted_fields()
    ]


class AccessLogFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who (username)"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From (date)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To (date, inclusive)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    record_type = forms.ChoiceField(label=_("Record type"), required=False, choices=_record_type_choices)
    record_id = forms.IntegerField(label=_("Record number"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        if data.get("record_id") and not data.get("record_type"):
            self.add_error("record_type", _("Choose the record type for the record number."))
        return data

    def filters(self) -> dict:
        """Keyword filters for AccessLog; dates are whole local (display time zone) days."""
        data = self.cleaned_data
        filters: dict = {}
        if data.get("actor"):
            filters["actor__username__iexact"] = data["actor"].strip()
        if data.get("date_from"):
            filters["at__gte"] = _local_midnight(data["date_from"])
        if data.get("date_to"):
            filters["at__lt"] = _local_midnight(data["date_to"] + dt.timedelta(days=1))
        if data.get("record_type"):
            filters["subject_type"] = data["record_type"]
        if data.get("record_id"):
            filters["subject_id"] = data["record_id"]
        return filters


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
