import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # role_users() creates nine accounts; the production hasher would spend seconds on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_messages():
    # Assertions read the English messages; with compiled catalogues the default would be zh-Hans.
    with translation.override("en"):
        yield
