"""Fixtures for key tests: an organisation and a way to make keys bound to areas."""
from __future__ import annotations

import pytest

from communitygrid.apikeys import services
from communitygrid.apikeys.models import Organisation, Scope


def centre(node) -> dict:
    ring = node.geometry["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return {"lon": (min(xs) + max(xs)) / 2, "lat": (min(ys) + max(ys)) / 2}


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(code="city-hotline", name="市民热线系统")


@pytest.fixture
def make_key(organisation):
    def _make(nodes, scopes=(Scope.CASES_READ,), rate_limit=60, name="热线对接"):
        return services.apikey_create(organisation=organisation, name=name, scopes=list(scopes), nodes=list(nodes),
                                      rate_limit=rate_limit, actor=None)

    return _make


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English here; one test checks the Chinese of a refusal."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
