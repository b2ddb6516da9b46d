from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestApiConfig(AppConfig):
    """What every operation of the JSON API shares: the error schema, the page envelope,
    ``Idempotency-Key`` on POSTs and the request-body guard."""

    name = "communitygrid.restapi"
    label = "restapi"
    verbose_name = _("REST API")
