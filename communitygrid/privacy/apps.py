from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "communitygrid.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self):
        from communitygrid.privacy import db

        db.connect()
