from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "communitygrid.registry"
    label = "registry"
    verbose_name = _("People and places")

    def ready(self):
        # privacy.services unmasks a record only if the scoped selector registered here returns it.
        from communitygrid.privacy import scoping
        from communitygrid.registry import selectors
        from communitygrid.registry.models import Building, Household, Person

        scoping.register(Person, lambda user, action: selectors.person_queryset(user=user, action=action))
        scoping.register(Household, lambda user, action: selectors.household_queryset(user=user, action=action))
        scoping.register(Building, lambda user, action: selectors.building_queryset(user=user, action=action))
