"""Fixtures for case tests: the test city, one user per role, a second grid worker."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communitygrid.accounts.models import Role

# Inside grid S0C0G0 (lon 120.00–120.01, lat 30.00–30.02).
POINT = {"lon": 120.005, "lat": 30.005}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(city, users):
    from communitygrid.testing import make_user

    grid = city.grids[0]
    return SimpleNamespace(
        city=city,
        grid=grid,
        resident=users[Role.RESIDENT],
        worker=users[Role.GRID_WORKER],
        worker2=make_user(Role.GRID_WORKER, scope=[grid], username="worker-two"),
        leader=users[Role.GRID_LEADER],
        community=users[Role.COMMUNITY_STAFF],
        street=users[Role.STREET_STAFF],
        district=users[Role.DISTRICT_STAFF],
        dept_staff=users[Role.DEPARTMENT_STAFF],
        department=users[Role.DEPARTMENT_STAFF].department,
        cockpit=users[Role.LEADER],
        admin=users[Role.ADMIN],
        outsider=make_user(Role.GRID_WORKER, scope=[city.grids[7]], username="worker-elsewhere"),
    )


def png(name: str = "photo.png", size: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG + b"\x00" * size, content_type="image/png")


@pytest.fixture
def submit(people):
    from communitygrid.cases.services import case_submit

    def _submit(user=None, **overrides):
        kwargs = {"channel": "web", "category_code": "elderly_visit", "description": "请来看看我家老人", **POINT}
        kwargs.update(overrides)
        return case_submit(submitted_by=user or people.resident, **kwargs)

    return _submit


@pytest.fixture
def catalogue(transactional_db):
    """The standard categories again: a transactional test's flush removes what migrations wrote."""
    import importlib

    from django.apps import apps

    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(apps, None)
