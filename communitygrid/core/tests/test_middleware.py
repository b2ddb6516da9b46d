"""A NUL character anywhere in a request is a clear 400 on SQLite and PostgreSQL, never a 500."""
import json

import pytest

from communitygrid.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/api/v1/registry/persons?name=%00",
    "/api/v1/geo/nodes/%00",
    "/cases/board/%00/",
    "/registry/persons/?q=a%00b",
])
def test_a_nul_in_the_path_or_query_is_a_400(client, users, url):
    client.force_login(users[Role.COMMUNITY_STAFF])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_inside_a_json_body_is_a_400_and_writes_nothing(client, users):
    from communitygrid.cases.models import Case

    client.force_login(users[Role.RESIDENT])
    response = client.post("/api/v1/cases/", data=json.dumps({
        "channel": "web", "category": "elderly_visit", "description": "水管\x00漏水", "lon": 120.005, "lat": 30.005,
    }), content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Case.objects.exists()


def test_a_nul_in_a_form_field_is_a_400(client, users):
    client.force_login(users[Role.GRID_WORKER])
    response = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400


def test_ordinary_requests_pass(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    assert client.get("/api/v1/registry/persons?name=%E5%BC%A0").status_code == 200
    assert client.post("/preferences/elder-mode", {"elder": "1", "next": "/"}).status_code == 302
