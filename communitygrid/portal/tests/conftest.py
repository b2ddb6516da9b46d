"""Fixtures for the resident portal: the test city, a resident with a home, a signed-in client."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from communitygrid.accounts.models import Role

# Inside grid S0C0G0 (lon 120.00–120.01, lat 30.00–30.02).
POINT = {"lon": "120.005", "lat": "30.005"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(city, users):
    from communitygrid.testing import make_user

    resident = users[Role.RESIDENT]
    person = resident.person
    person.emergency_contact_name = "王芳"
    person.emergency_contact_phone = "13912345678"
    person.save()
    return SimpleNamespace(
        city=city, grid=city.grids[0], resident=resident, person=person, worker=users[Role.GRID_WORKER],
        homeless=make_user(Role.RESIDENT, username="resident-without-home"),
        neighbour=make_user(Role.RESIDENT, username="resident-next-door"), staff=users[Role.COMMUNITY_STAFF],
    )


@pytest.fixture
def resident_client(client, people):
    client.force_login(people.resident)
    return client


@pytest.fixture
def submit_form():
    def _form(**overrides):
        data = {"category": "elderly_visit", "description": "楼道灯坏了，晚上很黑", "where": "home", "lon": "", "lat": "",
                "idempotency_key": "key-1", "group": "elderly"}
        data.update(overrides)
        return data

    return _form
