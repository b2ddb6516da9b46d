"""Fixtures shared by every app's tests (environment: communitygrid/pytest_env.py)."""
import pytest


def pytest_configure(config):
    from django.conf import settings

    # Tests create many users; the production hasher's deliberate slowness buys nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
