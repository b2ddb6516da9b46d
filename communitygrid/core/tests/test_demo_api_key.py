"""The demo's well-known API key: written by the demo build only, verified like any other key,
limited to its street on Open311 (Django's test client on the test database)."""
from pathlib import Path

import pytest
from django.utils import translation
from shapely.geometry import shape

from communitygrid.apikeys.models import ApiKey, ApiKeyUse, Scope
from communitygrid.apikeys.services import KEY_SHAPE, apikey_lookup, key_hash
from communitygrid.cases.models import Case, Channel
from communitygrid.core.demo.build import DEMO_API_KEY, DEMO_API_POINT, demo_city_build
from communitygrid.core.management.commands.demo import Command
from communitygrid.geo.models import Level, Node

BASE = "/open311/v2"
README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def demo(db):
    demo_city_build(scale=0.02)
    key = ApiKey.objects.get(key_hash=key_hash(DEMO_API_KEY))
    (street,) = key.user.scope_nodes.all()
    return key, street


def post(client, **data):
    return client.post(f"{BASE}/requests.json", {"api_key": DEMO_API_KEY, "service_code": "repair_streetlight",
                                                  "description": "门口路灯不亮", **data})


def test_without_the_demo_the_key_does_not_exist_and_is_refused(client, db):
    assert apikey_lookup(DEMO_API_KEY) is None and not ApiKey.objects.exists()
    response = client.get(f"{BASE}/requests.json", {"api_key": DEMO_API_KEY})
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": "The API key is not valid."}]


def test_the_key_has_a_generated_key_s_shape_and_is_stored_hashed_for_one_street(demo):
    key, street = demo
    match = KEY_SHAPE.match(DEMO_API_KEY)
    assert match and key.prefix == match[1] and key.key_hash != DEMO_API_KEY
    assert key.scopes == [Scope.OPEN311] and street.level == Level.STREET
    assert "DEMO ONLY" in key.name and "DEMO ONLY" in key.organisation.name
    assert not key.user.has_usable_password()


def test_the_key_reads_open311_requests_in_a_header_or_the_api_key_parameter(client, demo):
    key, _street = demo
    assert client.get(f"{BASE}/requests.json", {"api_key": DEMO_API_KEY}).status_code == 200
    assert client.get(f"{BASE}/requests.json", headers={"X-API-Key": DEMO_API_KEY}).status_code == 200
    assert ApiKeyUse.objects.filter(key=key, method="GET", status=200).count() == 2


def test_a_post_at_the_printed_point_becomes_a_case_inside_the_key_s_street(client, demo):
    key, street = demo
    lat, lon = DEMO_API_POINT
    response = post(client, lat=f"{lat:.5f}", long=f"{lon:.5f}")
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()[0]["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.submitted_by == key.user
    assert case.grid.path.startswith(street.path)


def test_a_post_in_another_street_is_refused_and_writes_nothing(client, demo):
    _key, street = demo
    other = Node.objects.filter(level=Level.GRID).exclude(path__startswith=street.path).first()
    point = shape(other.geometry).representative_point()
    before = Case.objects.count()
    response = post(client, lat=str(point.y), long=str(point.x))
    assert response.status_code == 403
    assert response.json() == [{"code": 403,
                                "description": "The location lies outside the areas this API key may submit to."}]
    assert Case.objects.count() == before


def test_the_banner_and_the_readme_show_the_key_and_the_example_point(demo):
    with translation.override("en"):
        banner = Command().api_key_banner("127.0.0.1", 8000)
    lat, lon = DEMO_API_POINT
    assert "DEMO ONLY" in banner and DEMO_API_KEY in banner and demo[1].name in banner
    assert "curl http://127.0.0.1:8000/open311/v2/services.json" in banner
    assert f"-d api_key={DEMO_API_KEY}" in banner and f"-d lat={lat:.5f} -d long={lon:.5f}" in banner
    readme = README.read_text(encoding="utf-8")
    assert DEMO_API_KEY in readme and f"lat={lat:.5f}" in readme and f"long={lon:.5f}" in readme


def test_the_banner_is_empty_for_a_city_built_before_the_key(db):
    assert Command().api_key_banner("127.0.0.1", 8000) == ""
