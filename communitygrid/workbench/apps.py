from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    name = "communitygrid.workbench"
    label = "workbench"
    verbose_name = _("Grid worker's workbench")
