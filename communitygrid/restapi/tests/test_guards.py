"""Idempotency-Key, the body guard and the error body, through real requests to real endpoints."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.cases.models import Case
from communitygrid.restapi.models import IdempotencyRecord
from communitygrid.restapi.tests.conftest import SUBMIT, post

CASES = "/api/v1/cases/"


def test_a_retried_post_returns_the_first_response_and_acts_once(staff):
    first = post(staff, CASES, SUBMIT, **{"Idempotency-Key": "order-1"})
    assert first.status_code == 201, first.content
    again = post(staff, CASES, SUBMIT, **{"Idempotency-Key": "order-1"})
    assert again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(staff):
    post(staff, CASES, SUBMIT, **{"Idempotency-Key": "order-2"})
    other = post(staff, CASES, {**SUBMIT, "description": "另一件事"}, **{"Idempotency-Key": "order-2"})
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key" and "different request" in other.json()["detail"]
    assert Case.objects.count() == 1


def test_a_key_still_in_progress_is_409_and_a_stale_one_is_taken_over(staff):
    assert post(staff, CASES, SUBMIT, **{"Idempotency-Key": "busy"}).status_code == 201
    # As if the first request were still running:
    IdempotencyRecord.objects.filter(key="busy").update(status_code=None, body=b"")
    running = post(staff, CASES, SUBMIT, **{"Idempotency-Key": "busy"})
    assert running.status_code == 409 and running.json()["field"] == "Idempotency-Key"
    # Its worker died long ago: the key is free again (the case service's own key keeps it one case).
    IdempotencyRecord.objects.filter(key="busy").update(created_at=timezone.now() - dt.timedelta(minutes=5))
    retried = post(staff, CASES, SUBMIT, **{"Idempotency-Key": "busy"})
    assert retried.status_code == 200 and retried.json()["created"] is False
    assert Case.objects.count() == 1


def test_keys_are_per_client(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    assert post(client, CASES, SUBMIT, **{"Idempotency-Key": "shared"}).status_code == 201
    client.force_login(users[Role.STREET_STAFF])
    second = post(client, CASES, SUBMIT, **{"Idempotency-Key": "shared"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Case.objects.count() == 2


def test_a_client_error_is_replayed_too_but_a_key_is_released_after_a_validation_error(staff):
    bad = post(staff, CASES, {**SUBMIT, "category": "nope"}, **{"Idempotency-Key": "bad-1"})
    assert bad.status_code == 400 and bad.json()["field"] == "category"
    assert post(staff, CASES, {**SUBMIT, "category": "nope"}, **{"Idempotency-Key": "bad-1"})["Idempotent-Replayed"] == "true"
    # A body that fails validation never reaches the key: the same key stays free for a good request.
    invalid = post(staff, CASES, {"category": 5}, **{"Idempotency-Key": "bad-2"})
    assert invalid.status_code == 422 and not IdempotencyRecord.objects.filter(key="bad-2").exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 256])
def test_a_malformed_key_is_400(staff, key):
    response = post(staff, CASES, SUBMIT, **{"Idempotency-Key": key})
    assert response.status_code == 400 and response.json()["field"] == "Idempotency-Key"
    assert Case.objects.count() == 0


def test_an_oversize_body_is_413_before_anything_runs(staff, settings):
    settings.API_MAX_JSON_BYTES = 1000
    response = post(staff, CASES, {**SUBMIT, "description": "长" * 1000})
    assert response.status_code == 413 and "limit is 1000 bytes" in response.json()["detail"]
    assert Case.objects.count() == 0


def test_a_wrong_content_type_is_415(staff):
    as_text = staff.post(CASES, data=json.dumps(SUBMIT), content_type="text/plain")
    assert as_text.status_code == 415 and "application/json" in as_text.json()["detail"]
    as_form = staff.post(CASES, data=SUBMIT)  # multipart to a JSON operation
    assert as_form.status_code == 415
    json_to_upload = staff.post(CASES + "upload", data=json.dumps(SUBMIT), content_type="application/json")
    assert json_to_upload.status_code == 415
    assert Case.objects.count() == 0


def test_malformed_json_is_a_4xx_in_the_error_body(staff):
    response = staff.post(CASES, data=b"{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"detail", "field", "errors"}


def test_every_error_has_the_one_body(client, users):
    unauthenticated = client.get(CASES)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"detail": "Sign in, or send a valid API key.", "field": None, "errors": []}
    client.force_login(users[Role.COMMUNITY_STAFF])
    invalid = post(client, CASES, {"category": "elderly_visit", "lon": "east", "lat": "north"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert {e["field"] for e in body["errors"]} == {"lon", "lat"} and body["field"] in {"lon", "lat"}
    assert body["detail"] == "%s: Enter a number." % body["field"]
    not_found = client.get(CASES + "999999")
    assert not_found.status_code == 404 and set(not_found.json()) == {"detail", "field", "errors"}


def test_validation_messages_are_translated(client, users):
    client.force_login(users[Role.COMMUNITY_STAFF])
    response = client.get(CASES, {"limit": "many"}, headers={"Accept-Language": "zh-hans"})
    assert response.status_code == 422 and response.json()["field"] == "limit"
    assert response.json()["detail"] == "limit：请输入整数。"


def test_idempotency_keys_belong_to_the_api_key_that_sent_them(client, city):
    from communitygrid.apikeys.models import Organisation, Scope
    from communitygrid.apikeys.services import apikey_create

    organisation = Organisation.objects.create(code="hotline", name="热线")
    keys = [apikey_create(organisation=organisation, name=f"k{i}", scopes=[Scope.CASES_SUBMIT],
                          nodes=[city.communities[0]], actor=None).plaintext for i in range(2)]
    first = post(client, CASES, SUBMIT, **{"X-API-Key": keys[0], "Idempotency-Key": "same"})
    assert first.status_code == 201, first.content
    replay = post(client, CASES, SUBMIT, **{"X-API-Key": keys[0], "Idempotency-Key": "same"})
    assert replay["Idempotent-Replayed"] == "true" and replay.content == first.content
    other = post(client, CASES, SUBMIT, **{"X-API-Key": keys[1], "Idempotency-Key": "same"})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Case.objects.count() == 2


@pytest.mark.parametrize("language, signed_in_text", [
    ("en", "The CSRF check failed: send the value of the csrftoken cookie in the X-CSRFToken header, or use an API key."),
    ("zh-hans", "CSRF 校验失败：请在 X-CSRFToken 请求头中发送 csrftoken Cookie 的值，或改用 API 密钥。"),
])
def test_a_write_without_the_csrf_token_says_what_is_missing_in_the_readers_language(users, language, signed_in_text):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True, headers={"Accept-Language": language})
    anonymous = post(browser, CASES, SUBMIT)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"]
    assert anonymous.json()["detail"] == ("Sign in, or send a valid API key." if language == "en"
                                          else "请登录，或提供有效的 API 密钥。")
    browser.force_login(users[Role.RESIDENT])
    signed_in = post(browser, CASES, SUBMIT)
    assert signed_in.status_code == 403 and signed_in.json()["detail"] == signed_in_text
    assert Case.objects.count() == 0
