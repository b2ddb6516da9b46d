import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the zh_Hans catalogue has its own check."""
    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    """Pages and API answers in English too (the middleware would pick the zh-Hans default)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
