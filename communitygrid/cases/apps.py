from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "communitygrid.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from communitygrid.cases import lookups, selectors  # noqa: F401 (lookups: its signal receivers)
        from communitygrid.cases.models import Case
        from communitygrid.privacy import scoping

        scoping.register(Case, lambda user, action: selectors.case_queryset(user=user, action=action))
        from communitygrid.accounts.models import ResidentPhone

        scoping.register(ResidentPhone, lambda user, action: selectors.reporter_phone_queryset(user=user, action=action))
        from communitygrid.cases.services import NOTICE_LABELS, NOTICES, notice_prefetch, notice_values
        from communitygrid.notifications import kinds

        for kind, (subject, body) in NOTICES.items():
            kinds.register(kind, NOTICE_LABELS[kind], subject=subject, body=body, values=notice_values,
                           prefetch=notice_prefetch)
