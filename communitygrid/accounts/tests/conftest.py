import pytest


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # role_users() creates nine accounts; the production hasher would spend seconds on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
