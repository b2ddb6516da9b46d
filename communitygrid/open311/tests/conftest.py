"""Fixtures for Open311 tests: keys for the first and second street, points in each."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from communitygrid.accounts.models import Role
from communitygrid.apikeys import services as key_services
from communitygrid.apikeys.models import Organisation, Scope
# English messages in assertions, as in the key tests (one test asks for Chinese).
from communitygrid.apikeys.tests.conftest import centre, client, english  # noqa: F401


@pytest.fixture
def o311(city, users):
    organisation = Organisation.objects.create(code="app-311", name="随手拍 App")

    def key(street, **kwargs):
        kwargs = {"scopes": [Scope.OPEN311], "rate_limit": 1000, "name": f"311 app {street.code}", **kwargs}
        return key_services.apikey_create(organisation=organisation, nodes=[street], actor=None, **kwargs)

    first, second = city.streets[0], city.streets[1]
    here = next(g for g in city.grids if g.path.startswith(first.path))
    there = next(g for g in city.grids if g.path.startswith(second.path))
    return SimpleNamespace(
        city=city, users=users, admin=users[Role.ADMIN], key=key(first), other_key=key(second), make_key=key,
        here=here, there=there, point=centre(here), far_point=centre(there),
    )
