"""Fixtures shared by every app's tests (environment: communitygrid/pytest_env.py)."""
import pytest


@pytest.fixture
def city(db):
    from communitygrid.testing import build_city

    return build_city()


@pytest.fixture
def users(city):
    from communitygrid.testing import make_household, role_users

    for grid in city.grids:
        make_household(grid)
    return role_users(city)
