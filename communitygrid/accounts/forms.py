from __future__ import annotations

import math

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts import services
from communitygrid.accounts.models import BACKOFFICE_ROLES, SignInEvent


class ThrottledSignInMixin:
    """Refuse a username at an address after too many failures, before checking the password.

    Checking first means a locked-out attacker learns nothing more, even with the right
    password; the refusal itself is audited.
    """

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            wait = services.sign_in_retry_after(username=username, ip_address=services.client_ip(self.request))
            if wait is not None:
                self.throttled = True
                services.sign_in_event_record(outcome=SignInEvent.Outcome.THROTTLED, username=username,
                                              request=self.request)
                raise forms.ValidationError(
                    _("Too many failed sign-in attempts for this username from your network. Please wait "
                      "%(minutes)d minutes and try again, or ask your administrator to reset your password."),
                    code="throttled",
                    params={"minutes": max(1, math.ceil(wait.total_seconds() / 60))},
                )
        return super().clean()


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or the password is not right. Check both (capital letters count) and try again."),
        "inactive": _("This account has been switched off. Ask your administrator."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].error_messages["required"] = _("Enter your username.")
        self.fields["password"].error_messages["required"] = _("Enter your password.")


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """For the back-office's own sign-in page (``GridAdminSite.login_form``)."""

    def confirm_login_allowed(self, user):
        # The back-office is open by role (GridAdminSite.has_permission), not by Django's
        # is_staff flag, so the admin's own sign-in page must admit the same roles.
        AuthenticationForm.confirm_login_allowed(self, user)
        if not (user.is_superuser or user.role in BACKOFFICE_ROLES):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
