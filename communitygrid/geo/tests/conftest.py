import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the zh_Hans catalogue has its own check."""
    with translation.override("en"):
        yield
