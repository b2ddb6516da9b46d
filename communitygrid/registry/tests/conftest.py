import pytest
from django.utils import translation



@pytest.fixture(autouse=True)
def english_messages():
    # Assertions read the English messages; with compiled catalogues the default would be zh-Hans.
    with translation.override("en"):
        yield
