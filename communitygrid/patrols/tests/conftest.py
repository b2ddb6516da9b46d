"""Fixtures for visit tests: the test city, role users, an elderly resident living alone in grid 0."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from communitygrid.accounts.models import Role
from communitygrid.registry.models import CareTag, Person, PersonCareTag

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def grid_people(city, users):
    from communitygrid.testing import make_household, make_user

    grid = city.grids[0]
    household = make_household(grid, members=1, name_prefix="独居")
    elder = household.members.get()
    PersonCareTag.objects.create(person=elder, tag=CareTag.objects.get(code="elderly_alone"),
                                 since=dt.date(2026, 1, 5))
    far_household = make_household(city.grids[7], members=1, name_prefix="远处")
    far = far_household.members.get()
    PersonCareTag.objects.create(person=far, tag=CareTag.objects.get(code="elderly_alone"))
    return SimpleNamespace(
        city=city, grid=grid, worker=users[Role.GRID_WORKER], leader=users[Role.GRID_LEADER],
        community=users[Role.COMMUNITY_STAFF], resident=users[Role.RESIDENT], cockpit=users[Role.LEADER],
        dept=users[Role.DEPARTMENT_STAFF], admin=users[Role.ADMIN],
        worker2=make_user(Role.GRID_WORKER, scope=[grid], username="worker-two"),
        outsider=make_user(Role.GRID_WORKER, scope=[city.grids[7]], username="worker-elsewhere"),
        household=household, elder=elder, far_household=far_household, far=far,
        neighbour=Person.objects.filter(grid=grid).exclude(household=household).order_by("id").first(),
    )
