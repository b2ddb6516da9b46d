"""Every Open311 endpoint over real HTTP, in JSON and XML, with keys, scopes and the spec's errors."""
from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from communitygrid.apikeys import services as key_services
from communitygrid.apikeys.models import ApiKeyUse
from communitygrid.cases.models import Case, Channel, Status
from communitygrid.cases.services import case_reject, case_submit
from communitygrid.open311.models import Open311Request
from communitygrid.registry.models import Building

BASE = "/open311/v2"
W3C_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def post(client, key, fmt="json", headers=None, **data):
    body = {"api_key": key.plaintext if hasattr(key, "plaintext") else key, **data}
    return client.post(f"{BASE}/requests.{fmt}", body, headers=headers or {})


def form(client, key, fmt="json", **data):
    """A POST as application/x-www-form-urlencoded, as the spec describes it."""
    from urllib.parse import urlencode

    body = urlencode({"api_key": key.plaintext, **data}, doseq=True)
    return client.post(f"{BASE}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded")


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ET.fromstring(response.content)


def assert_error(response, status, *words):
    assert response.status_code == status, response.content
    if response["Content-Type"].startswith("text/xml"):
        root = xml(response)
        assert root.tag == "errors"
        (error,) = root.findall("error")
        code, description = error.findtext("code"), error.findtext("description")
    else:
        (error,) = response.json()
        code, description = error["code"], error["description"]
    assert int(code) == status
    for word in words:
        assert word in description, description


# ---------------------------------------------------------------- discovery and services

def test_discovery_in_json_and_xml(client, db):
    body = client.get(f"{BASE}/discovery.json").json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_list_every_leaf_category(client, db):
    rows = client.get(f"{BASE}/services.json").json()
    by_code = {row["service_code"]: row for row in rows}
    assert by_code["elderly_visit"]["service_name"] == "Request for a caring visit"
    assert by_code["elderly_visit"]["metadata"] is False and by_code["elderly_visit"]["type"] == "realtime"
    assert by_code["safety_manhole"]["metadata"] is True
    assert by_code["elderly_visit"]["group"] == "Elderly care"
    root = xml(client.get(f"{BASE}/services.xml"))
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == [row["service_code"] for row in rows]
    manhole = next(s for s in root.findall("service") if s.findtext("service_code") == "safety_manhole")
    assert manhole.findtext("metadata") == "true"


def test_services_are_named_in_chinese_for_chinese_clients(client, db):
    rows = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert {"service_code": "elderly_visit", "service_name": "探访关爱申请"}.items() <= next(
        r for r in rows if r["service_code"] == "elderly_visit").items()


def test_service_definition_has_datatypes_required_flags_and_values(client, db):
    body = client.get(f"{BASE}/services/safety_manhole.json").json()
    assert body["service_code"] == "safety_manhole"
    (attribute,) = body["attributes"]
    assert attribute == {
        "variable": True, "code": "cover_state", "datatype": "singlevaluelist", "required": True,
        "datatype_description": None, "order": 1, "description": "What is wrong with the cover?",
        "values": [{"key": "missing", "name": "Missing"}, {"key": "broken", "name": "Broken"},
                   {"key": "loose", "name": "Loose"}],
    }
    root = xml(client.get(f"{BASE}/services/repair_elevator.xml"))
    assert root.tag == "service_definition"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["people_trapped", "floor"]
    assert attributes[0].findtext("required") == "true" and attributes[1].findtext("datatype") == "number"
    assert [v.findtext("key") for v in attributes[0].findall("values/value")] == ["yes", "no"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_404_in_the_spec_format(client, db, fmt):
    assert_error(client.get(f"{BASE}/services/no_such_thing.{fmt}"), 404, "no_such_thing")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_foreign_jurisdiction_is_404_and_ours_is_accepted(client, db, fmt, settings):
    assert_error(client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "sf.gov"}), 404, "sf.gov")
    assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": settings.OPEN311_JURISDICTION}).status_code == 200


# ---------------------------------------------------------------- POST requests

def test_post_with_lat_long_creates_a_normal_case(client, o311):
    response = post(client, o311.key, service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"],
                    description="楼下独居老人几天没出门", first_name="Li", last_name="Wei", phone="13800001111",
                    account_id="acc-7", device_id="dev-1", media_url="https://example.org/p.jpg")
    assert response.status_code == 201, response.content
    (row,) = response.json()
    case = Case.objects.get(pk=row["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.grid == o311.here and case.category.code == "elderly_visit"
    assert case.submitted_by == o311.key.key.user and case.resolve_by is not None
    assert case.description == "楼下独居老人几天没出门" and case.caller_name == "Li Wei"
    assert case.caller_phone.reveal() == "13800001111"
    assert case.events.filter(action="submit").exists()  # the normal intake: events, deadlines, dispatch
    assert row["token"] == case.open311.token and row["account_id"] == "acc-7"
    detail = client.get(f"{BASE}/requests/{case.pk}.json", {"api_key": o311.key.plaintext}).json()
    (shown,) = detail
    assert shown["service_request_id"] == str(case.pk) and shown["status"] == "open"
    assert shown["media_url"] == "https://example.org/p.jpg"
    assert shown["lat"] == pytest.approx(o311.point["lat"]) and shown["long"] == pytest.approx(o311.point["lon"])
    assert W3C_OFFSET.match(shown["requested_datetime"]) and W3C_OFFSET.match(shown["expected_datetime"])
    assert dt.datetime.fromisoformat(shown["expected_datetime"]) == case.resolve_by.replace(microsecond=0)


def test_post_answers_in_xml_too(client, o311):
    response = post(client, o311.key, "xml", service_code="elderly_visit", lat=o311.point["lat"],
                    long=o311.point["lon"], description="xml 提交")
    assert response.status_code == 201
    request = xml(response).find("request")
    assert Case.objects.filter(pk=request.findtext("service_request_id")).exists()
    assert len(request.findtext("token")) == 32


def test_post_with_an_address_id_or_an_address_string(client, o311):
    building = Building.objects.create(code="BLD-311", name="幸福里3幢", address="幸福路 8 号", lon=o311.point["lon"],
                                       lat=o311.point["lat"], grid=o311.here)
    by_id = post(client, o311.key, service_code="repair_power", address_id="BLD-311", description="楼道没电")
    assert by_id.status_code == 201, by_id.content
    by_text = post(client, o311.key, service_code="repair_power", address_string="幸福路  8 号", description="又没电")
    assert by_text.status_code == 201, by_text.content
    for response in (by_id, by_text):
        case = Case.objects.get(pk=response.json()[0]["service_request_id"])
        assert case.building == building and case.grid == o311.here
    shown = client.get(f"{BASE}/requests/{by_text.json()[0]['service_request_id']}.json",
                       {"api_key": o311.key.plaintext}).json()[0]
    assert shown["address"] == "幸福路 8 号" and shown["address_id"] == "BLD-311"


def test_attributes_are_checked_and_kept_with_the_case(client, o311):
    response = form(client, o311.key, service_code="env_garbage", lat=o311.point["lat"], long=o311.point["lon"],
                    description="垃圾堆满了", **{"attribute[waste_kinds][]": ["bulky", "kitchen"],
                                               "attribute[since]": "2026-11-20T08:00:00+08:00"})
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()[0]["service_request_id"])
    assert case.open311.attributes == {"waste_kinds": ["bulky", "kitchen"], "since": "2026-11-20T08:00:00+08:00"}
    assert case.description == "垃圾堆满了\n是哪些垃圾：大件垃圾、厨余垃圾\n从什么时候开始没人清运：2026-11-20T08:00:00+08:00"
    # (the answers are written for the handlers, in the platform's language)


def test_a_retried_post_returns_the_first_request(client, o311):
    data = dict(service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"], description="重试")
    first, again = post(client, o311.key, **data), post(client, o311.key, **data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Case.objects.filter(description="重试").count() == 1 and Open311Request.objects.count() == 1
    # With an Idempotency-Key the body may differ (e.g. a client timestamp) and it is still one request.
    one = post(client, o311.key, headers={"Idempotency-Key": "k-1"}, description="带键 1", service_code="elderly_visit",
               lat=o311.point["lat"], long=o311.point["lon"])
    two = post(client, o311.key, headers={"Idempotency-Key": "k-1"}, description="带键 2", service_code="elderly_visit",
               lat=o311.point["lat"], long=o311.point["lon"])
    assert one.json()[0]["service_request_id"] == two.json()[0]["service_request_id"] and two.status_code == 200


def test_tokens_give_the_request_id(client, o311):
    posted = post(client, o311.key, service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"],
                  description="令牌").json()[0]
    body = client.get(f"{BASE}/tokens/{posted['token']}.json").json()
    assert body == [{"service_request_id": posted["service_request_id"], "token": posted["token"]}]
    root = xml(client.get(f"{BASE}/tokens/{posted['token']}.xml"))
    assert root.find("request/service_request_id").text == posted["service_request_id"]
    assert_error(client.get(f"{BASE}/tokens/nope.json"), 404, "nope")
    # Another street's key does not learn the id behind a token it did not post.
    assert_error(client.get(f"{BASE}/tokens/{posted['token']}.json", {"api_key": o311.other_key.plaintext}), 404)


# ---------------------------------------------------------------- POST errors: spec format, nothing written

BAD_POSTS = [
    ({"service_code": "no_such_service"}, 400, "no_such_service"),
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "safety_manhole"}, 400, "cover_state"),  # required attribute missing
    ({"service_code": "safety_manhole", "attribute[cover_state]": "stolen"}, 400, "stolen"),
    ({"service_code": "repair_elevator", "attribute[people_trapped]": "no", "attribute[floor]": "three"}, 400, "floor"),
    ({"service_code": "env_garbage", "attribute[since]": "yesterday"}, 400, "since"),
    ({"service_code": "elderly_visit", "attribute[colour]": "red"}, 400, "colour"),
    ({"service_code": "elderly_visit", "lat": "north", "long": "1"}, 400, "lat"),
    ({"service_code": "elderly_visit", "lat": "95", "long": "120"}, 400, "range"),
    ({"service_code": "elderly_visit", "lat": "10", "long": "10"}, 400, "outside every grid"),
    ({"service_code": "elderly_visit", "no_location": True}, 400, "location"),
    ({"service_code": "elderly_visit", "address_id": "NO-SUCH"}, 400, "NO-SUCH"),
    ({"service_code": "elderly_visit", "address_string": "火星路 1 号"}, 400, "火星路"),
    ({"service_code": "elderly_visit", "media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"service_code": "elderly_visit", "phone": "call me"}, 400, "phone"),
    ({"service_code": "elderly_visit", "description": "x" * 4001}, 400, "description"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("data", "status", "word"), BAD_POSTS, ids=[w for _d, _s, w in BAD_POSTS])
def test_bad_posts_are_refused_in_the_spec_format_and_write_nothing(client, o311, fmt, data, status, word):
    data = dict(data)
    if not data.pop("no_location", False) and not {"lat", "address_id", "address_string"} & set(data):
        data.update(lat=o311.point["lat"], long=o311.point["lon"])
    cases, events = Case.objects.count(), Open311Request.objects.count()
    assert_error(post(client, o311.key, fmt, **data), status, word)
    assert (Case.objects.count(), Open311Request.objects.count()) == (cases, events)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_needs_a_good_live_key(client, o311, fmt):
    data = dict(service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"], description="无钥匙")
    assert_error(client.post(f"{BASE}/requests.{fmt}", data), 403, "api_key")
    assert_error(post(client, "cg_wrong_key", fmt, **data), 403, "not valid")
    key_services.apikey_revoke(key=o311.key.key, actor=o311.admin)
    assert_error(post(client, o311.key, fmt, **data), 403, "revoked")
    assert not Case.objects.filter(description="无钥匙").exists()


def test_a_key_without_the_open311_scope_is_refused(client, o311):
    reader = o311.make_key(o311.city.streets[0], scopes=["cases:read"])
    assert_error(post(client, reader, service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"]),
                 403, "open311")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_content_type_and_oversize_bodies_are_refused(client, o311, fmt, settings):
    response = client.post(f"{BASE}/requests.{fmt}", '{"service_code": "elderly_visit"}',
                           content_type="application/json")
    assert_error(response, 400, "application/x-www-form-urlencoded")
    settings.OPEN311_MAX_BODY = 1000
    response = post(client, o311.key, fmt, service_code="elderly_visit", lat=o311.point["lat"],
                    long=o311.point["lon"], description="长" * 2000)
    assert_error(response, 413, "1000")
    assert not Case.objects.exists()


def test_other_methods_are_refused_in_the_spec_format(client, db):
    assert_error(client.delete(f"{BASE}/requests.json"), 405, "DELETE")
    assert_error(client.post(f"{BASE}/services.json"), 405, "POST")
    assert_error(client.get(f"{BASE}/nothing/here.xml"), 404, "discovery")


def test_a_key_cannot_post_outside_its_street(client, o311):
    response = post(client, o311.key, service_code="elderly_visit", lat=o311.far_point["lat"],
                    long=o311.far_point["lon"], description="越界")
    assert_error(response, 403, "outside the areas")
    assert not Case.objects.filter(description="越界").exists()


# ---------------------------------------------------------------- GET requests

@pytest.fixture
def cases(o311):
    def submit(grid_point, code="elderly_visit", text="诉求"):
        return case_submit(submitted_by=o311.admin, channel="hotline", category_code=code, description=text,
                           **grid_point).case

    mine = [submit(o311.point, text=f"本街道 {i}") for i in range(3)]
    street_light = submit(o311.point, code="repair_streetlight", text="路灯")
    theirs = submit(o311.far_point, text="外街道")
    case_reject(case=mine[0], actor=o311.admin, reason="不属于受理范围", redirect="12345 热线")
    return {"mine": mine, "light": street_light, "theirs": theirs}


def listed(client, key=None, fmt="json", **params):
    if key is not None:
        params["api_key"] = key.plaintext
    response = client.get(f"{BASE}/requests.{fmt}", params)
    assert response.status_code == 200, response.content
    if fmt == "xml":
        return [{child.tag: child.text for child in request} for request in xml(response).findall("request")]
    return response.json()


def test_a_key_lists_only_its_own_streets_requests_in_full(client, o311, cases):
    rows = listed(client, o311.key)
    ids = [int(r["service_request_id"]) for r in rows]
    assert cases["theirs"].pk not in ids
    assert set(ids) == {c.pk for c in cases["mine"]} | {cases["light"].pk}
    assert ids == sorted(ids, reverse=True)  # newest first
    assert {r["description"] for r in rows} >= {"本街道 1", "路灯"}
    other = listed(client, o311.other_key)
    assert [int(r["service_request_id"]) for r in other] == [cases["theirs"].pk]
    assert_error(client.get(f"{BASE}/requests/{cases['theirs'].pk}.json", {"api_key": o311.key.plaintext}), 404)


def test_requests_in_xml_carry_the_same_fields(client, o311, cases):
    as_json, as_xml = listed(client, o311.key), listed(client, o311.key, "xml")
    assert [r["service_request_id"] for r in as_xml] == [r["service_request_id"] for r in as_json]
    assert list(as_xml[0]) == list(as_json[0])  # the spec's field names, in its order
    detail = xml(client.get(f"{BASE}/requests/{cases['light'].pk}.xml", {"api_key": o311.key.plaintext}))
    assert [r.findtext("service_code") for r in detail.findall("request")] == ["repair_streetlight"]


def test_without_a_key_requests_are_public_and_carry_no_personal_data(client, o311, cases):
    rows = listed(client)
    assert {int(r["service_request_id"]) for r in rows} >= {cases["theirs"].pk, cases["light"].pk}
    for row in rows:
        assert row["description"] is None and row["lat"] is None and row["media_url"] is None
    rejected = next(r for r in rows if int(r["service_request_id"]) == cases["mine"][0].pk)
    assert rejected["status_notes"] == "Rejected"  # the reason may name people: keys only
    assert b"\xe6\x9c\xac\xe8\xa1\x97\xe9\x81\x93" not in client.get(f"{BASE}/requests.json").content  # "本街道"


def test_states_map_onto_open_and_closed(client, o311, cases):
    closed = listed(client, o311.key, status="closed")
    assert [int(r["service_request_id"]) for r in closed] == [cases["mine"][0].pk]
    assert closed[0]["status_notes"] == "Rejected: 不属于受理范围 (12345 热线)"
    open_ids = {int(r["service_request_id"]) for r in listed(client, o311.key, status="open")}
    assert cases["mine"][0].pk not in open_ids and cases["light"].pk in open_ids
    both = listed(client, o311.key, status="open,closed")
    assert len(both) == len(open_ids) + 1


def test_filter_by_service_code_and_ids(client, o311, cases):
    rows = listed(client, o311.key, service_code="repair_streetlight")
    assert [int(r["service_request_id"]) for r in rows] == [cases["light"].pk]
    wanted = f"{cases['mine'][1].pk},{cases['theirs'].pk},{cases['light'].pk}"
    rows = listed(client, o311.key, service_request_id=wanted, service_code="elderly_visit")  # ids override
    assert {int(r["service_request_id"]) for r in rows} == {cases["mine"][1].pk, cases["light"].pk}


def test_the_default_window_is_the_last_90_days(client, o311, cases):
    old = cases["mine"][2]
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))
    assert old.pk not in {int(r["service_request_id"]) for r in listed(client, o311.key)}
    start = (timezone.now() - dt.timedelta(days=101)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - dt.timedelta(days=99)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    rows = listed(client, o311.key, start_date=start, end_date=end)
    assert [int(r["service_request_id"]) for r in rows] == [old.pk]


@pytest.mark.parametrize(("params", "word"), [
    ({"start_date": "last tuesday"}, "start_date"),
    ({"end_date": "2026-13-45"}, "end_date"),
    ({"updated_after": "soon"}, "updated_after"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
    ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "after"),
    ({"status": "pending"}, "status"),
    ({"service_code": "nope"}, "nope"),
    ({"service_request_id": "1,abc"}, "service_request_id"),
    ({"page_size": "5000"}, "page_size"),
    ({"page": "0"}, "page"),
    ({"after": "%%%"}, "after"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400_in_the_spec_format(client, o311, params, word, fmt):
    assert_error(client.get(f"{BASE}/requests.{fmt}", {**params, "api_key": o311.key.plaintext}), 400, word)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_huge_request_ids_are_404(client, o311, fmt):
    for pk in ["999999", "abc", "9" * 30]:
        assert_error(client.get(f"{BASE}/requests/{pk}.{fmt}", {"api_key": o311.key.plaintext}), 404)


def test_pages_and_the_keyset_cursor(client, o311, cases):
    everything = [r["service_request_id"] for r in listed(client, o311.key)]
    assert len(everything) == 4
    page2 = [r["service_request_id"] for r in listed(client, o311.key, page=2, page_size=3)]
    assert page2 == everything[3:]
    response = client.get(f"{BASE}/requests.json", {"api_key": o311.key.plaintext, "page_size": 2})
    link = re.match(r'<([^>]+)>; rel="next"', response["Link"])[1]
    assert "api_key" not in link and "cg_" not in link
    following = client.get(link, headers={"X-API-Key": o311.key.plaintext}).json()
    assert [r["service_request_id"] for r in response.json() + following] == everything
    assert "Link" not in client.get(link, headers={"X-API-Key": o311.key.plaintext})


def test_updated_after_and_before(client, o311, cases):
    touched = cases["mine"][0]  # rejected just now; make the others look old
    Case.objects.exclude(pk=touched.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert [int(r["service_request_id"]) for r in listed(client, o311.key, updated_after=since)] == [touched.pk]
    before = [int(r["service_request_id"]) for r in listed(client, o311.key, updated_before=since)]
    assert touched.pk not in before and len(before) == 3


def test_extensions_add_the_status_history(client, o311, cases):
    (row,) = client.get(f"{BASE}/requests/{cases['mine'][0].pk}.json",
                        {"api_key": o311.key.plaintext, "extensions": "true"}).json()
    assert [n["type"] for n in row["notes"]][:1] == ["submit"] and row["notes"][-1]["type"] == "reject"
    assert row["notes"][-1]["description"] == "不属于受理范围" and W3C_OFFSET.match(row["notes"][0]["datetime"])
    assert row["extended_attributes"]["channel"] == "hotline"
    root = xml(client.get(f"{BASE}/requests.xml", {"api_key": o311.key.plaintext, "extensions": "true"}))
    assert root.find("request/notes/note/type") is not None
    public = client.get(f"{BASE}/requests/{cases['mine'][0].pk}.json", {"extensions": "true"}).json()[0]
    assert all(n["description"] is None for n in public["notes"])
    assert "notes" not in listed(client, o311.key)[0]


def test_progress_shows_as_it_happens(client, o311, cases):
    case = cases["light"]
    before = client.get(f"{BASE}/requests/{case.pk}.json", {"api_key": o311.key.plaintext}).json()[0]
    case_reject(case=case, actor=o311.admin, reason="路灯属于供电公司", redirect="供电公司 95598")
    after = client.get(f"{BASE}/requests/{case.pk}.json", {"api_key": o311.key.plaintext}).json()[0]
    assert (before["status"], after["status"]) == ("open", "closed")
    assert after["updated_datetime"] >= before["updated_datetime"]


# ---------------------------------------------------------------- keys: rate, log, language

def test_past_the_rate_limit_open311_answers_429_with_retry_after(client, o311):
    key = o311.make_key(o311.city.streets[0], rate_limit=2)
    for _ in range(2):
        assert client.get(f"{BASE}/requests.json", {"api_key": key.plaintext}).status_code == 200
    response = client.get(f"{BASE}/requests.xml", {"api_key": key.plaintext})
    assert_error(response, 429, "2 requests a minute")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_every_open311_use_of_a_key_is_logged(client, o311):
    client.get(f"{BASE}/requests.json", {"api_key": o311.key.plaintext}, REMOTE_ADDR="10.0.0.9")
    post(client, o311.key, service_code="nope")
    uses = list(ApiKeyUse.objects.filter(key=o311.key.key).order_by("id").values_list("method", "path", "status",
                                                                                        "ip_address"))
    assert uses == [("GET", f"{BASE}/requests.json", 200, "10.0.0.9"), ("POST", f"{BASE}/requests.json", 400, "127.0.0.1")]


def test_errors_are_translated(client, o311):
    response = client.get(f"{BASE}/services/nope.json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert_error(response, 404)
    assert "未找到" in response.json()[0]["description"]


# ---------------------------------------------------------------- back-office

def test_an_administrator_defines_a_services_questions(client, o311):
    from communitygrid.cases.models import Category

    client.force_login(o311.admin)
    category = Category.objects.get(code="elderly_visit")
    bad = client.post("/admin/open311/serviceattribute/add/", {
        "category": category.pk, "code": "who", "datatype": "singlevaluelist", "required": "on", "variable": "on",
        "description": "谁需要探访？", "description_en": "Who needs the visit?", "order": 1, "values": "[]"})
    assert bad.status_code == 200 and "values" in bad.context["adminform"].form.errors
    good = client.post("/admin/open311/serviceattribute/add/", {
        "category": category.pk, "code": "who", "datatype": "singlevaluelist", "required": "on", "variable": "on",
        "description": "谁需要探访？", "description_en": "Who needs the visit?", "order": 1,
        "values": '[{"key": "self", "name": "本人", "name_en": "Myself"}, {"key": "parent", "name": "父母"}]'})
    assert good.status_code == 302
    body = client.get(f"{BASE}/services/elderly_visit.json").json()
    assert body["attributes"][0]["values"] == [{"key": "self", "name": "Myself"}, {"key": "parent", "name": "父母"}]
    assert_error(post(client, o311.key, service_code="elderly_visit", lat=o311.point["lat"], long=o311.point["lon"]),
                 400, "who")


def test_xml_stays_well_formed_whatever_residents_write(client, o311):
    text = "漏水 <b>&amp; \x0b\x1f 'quotes\" ]]>"
    posted = post(client, o311.key, service_code="repair_leak", lat=o311.point["lat"], long=o311.point["lon"],
                  description=text).json()[0]
    root = xml(client.get(f"{BASE}/requests/{posted['service_request_id']}.xml", {"api_key": o311.key.plaintext}))
    assert root.findtext("request/description") == "漏水 <b>&amp;  'quotes\" ]]>"


def test_the_open_index_names_exactly_the_open_states():
    import importlib

    from communitygrid.cases.models import OPEN_STATES

    migration = importlib.import_module("communitygrid.open311.migrations.0002_case_indexes_and_standard_attributes")
    assert {s.strip(" '") for s in migration.OPEN.split(",")} == {str(s) for s in OPEN_STATES}
