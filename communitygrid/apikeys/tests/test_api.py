"""Keys on the JSON API through real HTTP: both headers, scopes, area, revocation, rate, log."""
import json

import pytest

from communitygrid.accounts.models import Role
from communitygrid.apikeys import services
from communitygrid.apikeys.models import ApiKeyUse, Scope
from communitygrid.apikeys.tests.conftest import centre
from communitygrid.cases.services import case_submit


@pytest.fixture
def two_streets(city, users):
    """One case in a grid of each street."""
    admin = users[Role.ADMIN]
    inside = next(g for g in city.grids if g.path.startswith(city.streets[0].path))
    outside = next(g for g in city.grids if g.path.startswith(city.streets[1].path))
    mine = case_submit(submitted_by=admin, channel="hotline", category_code="elderly_visit",
                       description="第一街道的诉求", **centre(inside)).case
    other = case_submit(submitted_by=admin, channel="hotline", category_code="elderly_visit",
                        description="第二街道的诉求", **centre(outside)).case
    return mine, other, inside, outside


def test_a_key_works_in_either_header(client, city, make_key, two_streets):
    raw = make_key([city.streets[0]]).plaintext
    for headers in ({"X-API-Key": raw}, {"Authorization": f"Bearer {raw}"}):
        response = client.get("/api/v1/cases/", headers=headers)
        assert response.status_code == 200, response.content
        assert [c["id"] for c in response.json()["items"]] == [two_streets[0].pk]


def test_a_street_key_never_sees_another_streets_cases(client, city, make_key, two_streets):
    mine, other, _inside, _outside = two_streets
    headers = {"X-API-Key": make_key([city.streets[0]]).plaintext}
    assert client.get(f"/api/v1/cases/{other.pk}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{other.pk}/timeline", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{mine.pk}", headers=headers).status_code == 200
    listed = [c["description"] for c in client.get("/api/v1/cases/", headers=headers).json()["items"]]
    assert listed == ["第一街道的诉求"]


def test_a_key_without_the_scope_is_forbidden(client, city, make_key, two_streets):
    raw = make_key([city.streets[0]], scopes=[Scope.OPEN311]).plaintext
    response = client.get("/api/v1/cases/", headers={"X-API-Key": raw})
    assert response.status_code == 403
    assert "cases:read" in response.json()["detail"]


def test_paths_not_opened_to_keys_are_refused(client, city, make_key, two_streets):
    raw = make_key([city.streets[0]], scopes=list(Scope.values)).plaintext
    response = client.post("/api/v1/registry/persons/1/reveal", "{}", content_type="application/json",
                           headers={"X-API-Key": raw})
    assert response.status_code == 403


def test_bad_and_revoked_keys_get_401_with_a_clear_message(client, city, users, make_key):
    response = client.get("/api/v1/cases/", headers={"X-API-Key": "cg_nothing_here"})
    assert response.status_code == 401 and "not valid" in response.json()["detail"]
    new = make_key([city.streets[0]])
    services.apikey_revoke(key=new.key, actor=users[Role.ADMIN])
    response = client.get("/api/v1/cases/", headers={"Authorization": f"Bearer {new.plaintext}"})
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert ApiKeyUse.objects.filter(key=new.key, status=401).count() == 1


def test_past_the_rate_limit_the_answer_is_429_with_retry_after(client, city, make_key):
    new = make_key([city.streets[0]], rate_limit=2)
    headers = {"X-API-Key": new.plaintext}
    assert [client.get("/api/v1/cases/", headers=headers).status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/cases/", headers=headers)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "2 requests a minute" in response.json()["detail"]


def test_every_use_is_logged_with_method_path_status_and_address(client, city, make_key, two_streets):
    new = make_key([city.streets[0]])
    client.get("/api/v1/cases/", headers={"X-API-Key": new.plaintext}, REMOTE_ADDR="10.1.2.3")
    client.get("/api/v1/cases/999999", headers={"X-API-Key": new.plaintext}, REMOTE_ADDR="10.1.2.3")
    uses = list(ApiKeyUse.objects.filter(key=new.key).order_by("id").values_list("method", "path", "status", "ip_address"))
    assert uses == [("GET", "/api/v1/cases/", 200, "10.1.2.3"), ("GET", "/api/v1/cases/999999", 404, "10.1.2.3")]
    new.key.refresh_from_db()
    assert new.key.last_used_at is not None


def test_sessions_still_work_and_anonymous_is_refused(client, users):
    assert client.get("/api/v1/cases/").status_code == 401
    client.force_login(users[Role.STREET_STAFF])
    assert client.get("/api/v1/cases/").status_code == 200
    assert not ApiKeyUse.objects.exists()


def test_refusals_are_translated(client, city, make_key):
    new = make_key([city.streets[0]], rate_limit=1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    client.get("/api/v1/cases/", headers={"X-API-Key": new.plaintext})
    response = client.get("/api/v1/cases/", headers={"X-API-Key": new.plaintext})
    assert response.status_code == 429 and "每分钟最多 1 次请求" in response.json()["detail"]
    assert "API 密钥无效" in client.get("/api/v1/cases/", headers={"X-API-Key": "cg_x"}).json()["detail"]


def test_a_key_submits_inside_its_area_and_is_refused_outside_it(client, city, make_key, two_streets):
    from communitygrid.cases.models import Case

    _mine, _other, inside, outside = two_streets
    headers = {"X-API-Key": make_key([city.streets[0]], scopes=[Scope.CASES_READ, Scope.CASES_SUBMIT]).plaintext}
    body = {"category": "repair_streetlight", "description": "路灯不亮", "channel": "hotline"}
    before = Case.objects.count()
    refused = client.post("/api/v1/cases/", data=json.dumps({**body, **centre(outside)}),
                          content_type="application/json", headers=headers)
    assert refused.status_code == 403, refused.content
    assert "outside the areas this API key may submit to" in refused.json()["detail"]
    assert Case.objects.count() == before
    accepted = client.post("/api/v1/cases/", data=json.dumps({**body, **centre(inside)}),
                           content_type="application/json", headers=headers)
    assert accepted.status_code == 201, accepted.content
    assert Case.objects.get(pk=accepted.json()["case"]["id"]).grid == inside


def test_key_accounts_are_not_escalation_staff(city, make_key):
    from communitygrid.cases.dispatch import level_staff
    from communitygrid.cases.models import EscalationLevel
    from communitygrid.testing import make_user

    street_staff = make_user(Role.STREET_STAFF, scope=[city.streets[0]], username="street-officer")
    make_key([city.streets[0]])
    grid = next(g for g in city.grids if g.path.startswith(city.streets[0].path))
    assert level_staff(grid, EscalationLevel.STREET) == [street_staff]
