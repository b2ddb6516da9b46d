import json

import pytest

from communitygrid.accounts.models import Role

POINT = {"lon": 120.005, "lat": 30.005}
SUBMIT = {"category": "elderly_visit", "description": "楼道灯坏了", **POINT}


@pytest.fixture
def staff(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    return client


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body if body is not None else {}), content_type="application/json",
                       headers=headers)


@pytest.fixture(autouse=True)
def english(settings):
    """Messages in English unless a test asks for another language (Accept-Language)."""
    settings.LANGUAGE_CODE = "en"
