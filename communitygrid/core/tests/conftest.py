import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A million PBKDF2 rounds per test user would make these tests minutes long."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
