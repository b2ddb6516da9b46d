"""Audit every sign-in event, whichever page (ours or the admin's) it came through."""
from django.contrib.auth import signals
from django.dispatch import receiver

from communitygrid.accounts import services
from communitygrid.accounts.models import SignInEvent, User


@receiver(signals.user_logged_in, dispatch_uid="accounts.sign_in_success")
def _signed_in(sender, request, user, **kwargs):
    services.sign_in_event_record(outcome=SignInEvent.Outcome.SUCCESS, username=user.username, user=user, request=request)


@receiver(signals.user_login_failed, dispatch_uid="accounts.sign_in_failure")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get(User.USERNAME_FIELD) or ""
    user = User.objects.filter(username__iexact=username.strip()).first() if username.strip() else None
    services.sign_in_event_record(outcome=SignInEvent.Outcome.FAILURE, username=username, user=user, request=request)


@receiver(signals.user_logged_out, dispatch_uid="accounts.sign_out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        services.sign_in_event_record(outcome=SignInEvent.Outcome.SIGN_OUT, username=user.username, user=user,
                                      request=request)
