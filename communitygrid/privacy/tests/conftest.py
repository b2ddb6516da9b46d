import pytest
from django.db.models import Q

from communitygrid.accounts import scopes
from communitygrid.privacy import scoping
from communitygrid.registry.models import Household, Person


def _person_selector(user, action):
    own = Q(pk=user.person_id) if getattr(user, "person_id", None) else None
    return Person.objects.filter(scopes.area_q(user, action, own_q=own))


def _household_selector(user, action):
    own = Q(members__pk=user.person_id) if getattr(user, "person_id", None) else None
    return Household.objects.filter(scopes.area_q(user, action, own_q=own)).distinct()


@pytest.fixture
def scoped_registry(monkeypatch):
    """Known selectors for Person/Household, whatever the registry app registers itself."""
    selectors = dict(scoping._SELECTORS)
    selectors[Person] = _person_selector
    selectors[Household] = _household_selector
    monkeypatch.setattr(scoping, "_SELECTORS", selectors)


@pytest.fixture
def people(users, city):
    """Two persons: one in the first grid (everyone's scope), one in the last (nobody's but admin)."""
    inside = Person.objects.filter(grid=city.grids[0]).order_by("id").first()
    outside = Person.objects.filter(grid=city.grids[-1]).order_by("id").first()
    return inside, outside

