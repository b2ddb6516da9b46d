from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    name = "communitygrid.patrols"
    label = "patrols"
    verbose_name = _("Patrols and home visits")

    def ready(self) -> None:
        from communitygrid.patrols import selectors
        from communitygrid.patrols.models import Visit
        from communitygrid.privacy import scoping

        scoping.register(Visit, lambda user, action: selectors.visit_queryset(user=user))
