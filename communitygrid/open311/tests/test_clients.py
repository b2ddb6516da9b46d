"""Independent Open311 client libraries from PyPI, used as they are, against a live server.

``georeport`` (reads, in JSON and XML) and ``civicbot``'s ``Open311Client`` (reads, tokens and
POST, validating the payload against our service definitions first) were written for other
cities' servers; if they understand ours, other 311 apps will too.
"""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from communitygrid.accounts.models import Role
from communitygrid.apikeys import services as key_services
from communitygrid.apikeys.models import Organisation, Scope
from communitygrid.apikeys.tests.conftest import centre
from communitygrid.cases.models import Case, Channel
from communitygrid.cases.services import case_submit
from communitygrid.testing import build_city, role_users


@pytest.fixture
def live(live_server, transactional_db):
    """The standard catalogue and attributes again (a transactional test's flush removed
    what migrations wrote), a city, a key for its first street and one case in each street."""
    importlib.import_module("communitygrid.cases.migrations.0003_standard_catalogue").create_catalogue(
        django_apps, None)
    importlib.import_module(
        "communitygrid.open311.migrations.0002_case_indexes_and_standard_attributes").create_standard_attributes(
        django_apps, None)
    city = build_city()
    users = role_users(city)
    organisation = Organisation.objects.create(code="app", name="311 App")
    key = key_services.apikey_create(organisation=organisation, name="client test", scopes=[Scope.OPEN311],
                                     nodes=[city.streets[0]], rate_limit=1000, actor=None)
    here = next(g for g in city.grids if g.path.startswith(city.streets[0].path))
    there = next(g for g in city.grids if g.path.startswith(city.streets[1].path))
    mine = case_submit(submitted_by=users[Role.ADMIN], channel="hotline", category_code="repair_streetlight",
                       description="路灯不亮", **centre(here)).case
    theirs = case_submit(submitted_by=users[Role.ADMIN], channel="hotline", category_code="env_noise",
                         description="外街道噪声", **centre(there)).case
    return {"base": f"{live_server.url}/open311/v2", "key": key.plaintext, "here": here, "mine": mine,
            "theirs": theirs}


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_reads_services_definitions_and_requests(live, output_format):
    from georeport import GeoReport

    client = GeoReport(live["base"], jurisdiction="communitygrid", output_format=output_format)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "repair_streetlight" in codes and "safety_manhole" in codes
    definition = client.get_service_definition("safety_manhole")
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: one child is a dict, not a list
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    assert attributes[0]["code"] == "cover_state"
    requests = client.get_service_requests(service_code="repair_streetlight,env_noise", status="open")
    requests = requests if isinstance(requests, list) else [requests]
    ids = {r["service_request_id"] for r in requests}
    assert ids == {str(live["mine"].pk), str(live["theirs"].pk)}  # public reads: every street, no details
    assert all(not r.get("description") for r in requests)
    one = client.get_service_request(str(live["mine"].pk))
    assert one["service_code"] == "repair_streetlight" and one["status"] == "open"


def _civicbot(live, fmt="json"):
    from civicbot.http import HttpTransport, RateLimiter
    from civicbot.open311 import Open311Client
    from civicbot.registry import Endpoint

    endpoint = Endpoint(id="communitygrid", name="Community grid", base_url=live["base"], write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0))
    return Open311Client(endpoint, transport=transport, jurisdiction_id="communitygrid", fmt=fmt)


def test_civicbot_posts_a_request_and_follows_it(live):
    from civicbot.open311 import ValidationError

    client = _civicbot(live)
    point = centre(live["here"])
    # The client checks the payload against our definition before sending: a missing required answer.
    with pytest.raises(ValidationError, match="cover_state"):
        client.create_request("safety_manhole", lat=point["lat"], lng=point["lon"], validate_remote=True,
                              dry_run=False, confirm="SEND", api_key=live["key"])
    sent = client.create_request("safety_manhole", lat=point["lat"], lng=point["lon"], description="井盖不见了",
                                 attributes={"cover_state": "missing"}, validate_remote=True, dry_run=False,
                                 confirm="SEND", api_key=live["key"], account_id="user-42")
    (answer,) = sent.response
    case = Case.objects.get(pk=answer["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.grid == live["here"] and case.description == "井盖不见了\n井盖是什么情况：缺失"
    assert client.get_token(answer["token"]) == [{"service_request_id": str(case.pk), "token": answer["token"]}]
    shown = client.get_request(case.pk)
    assert shown["service_code"] == "safety_manhole" and shown["status"] == "open"
    listed = client.list_requests(service_request_ids=[case.pk, live["mine"].pk])
    assert {r["service_request_id"] for r in listed} == {str(case.pk), str(live["mine"].pk)}


def test_civicbot_hears_the_spec_errors(live):
    from civicbot.http import HttpError

    client = _civicbot(live)
    point = centre(live["here"])
    with pytest.raises(HttpError) as refused:
        client.create_request("no_such_service", lat=point["lat"], lng=point["lon"], dry_run=False, confirm="SEND",
                              api_key=live["key"])
    assert refused.value.status == 400 and "no_such_service" in refused.value.body
    with pytest.raises(HttpError) as refused:
        client.create_request("repair_streetlight", lat=point["lat"], lng=point["lon"], dry_run=False,
                              confirm="SEND", api_key="cg_not_a_key")
    assert refused.value.status == 403
    with pytest.raises(HttpError) as refused:
        client.get_request(999_999)
    assert refused.value.status == 404 and '"code": 404' in refused.value.body
