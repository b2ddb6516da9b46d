from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "communitygrid.accounts"
    label = "accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        from communitygrid.accounts import signals  # noqa: F401 (connects the sign-in audit)
        from communitygrid.accounts.services import BINDING_NOTICE_LABELS, BINDING_NOTICES
        from communitygrid.notifications import kinds

        for kind, (subject, body) in BINDING_NOTICES.items():
            kinds.register(kind, BINDING_NOTICE_LABELS[kind], subject=subject, body=body)
