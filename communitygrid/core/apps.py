from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Translators: the suffix Django puts after every form label. Django's own zh-Hans catalogue keeps
# the ASCII colon; Chinese labels take the full-width one ("："). Our catalogue is read before
# Django's, so this translation wins on every form, ours and the back-office's.
LABEL_SUFFIX = gettext_noop(":")


class CoreConfig(AppConfig):
    name = "communitygrid.core"
    label = "core"
    verbose_name = _("Platform")
