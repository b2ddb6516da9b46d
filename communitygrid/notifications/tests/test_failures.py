"""A delivery failure reads in the viewer's language, not in the language of the worker that recorded it.

Failures are recorded as a code with parameters (``notifications.failures``) and worded when a
page or the API shows them; a row recorded before codes existed shows its stored text.
"""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from communitygrid.notifications import failures
from communitygrid.notifications.models import DeliveryAttempt, Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue, outbox_deliver_once
from communitygrid.notifications.tests.receiver import Receiver
from communitygrid.testing import make_user

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")

# Parameters as the channels record them, for every code this version words.
SAMPLE_PARAMS = {
    failures.REFUSED_PRIVATE: {"host": "hooks.example.org", "address": "10.0.0.5"},
    failures.REFUSED_PRIVATE_ADDRESS: {"address": "169.254.169.254"},
    failures.REFUSED_UNRESOLVABLE: {"host": "gone.example.invalid"},
    failures.HTTP_ERROR: {"status": 503},
    failures.HTTP_REDIRECT: {"status": 302},
    failures.TIMEOUT: {"seconds": 10},
    failures.CONNECTION_TIMEOUT: {},
    failures.CONNECTION_FAILED: {},
    failures.ENDPOINT_GONE: {},
    failures.NOT_HTTP: {"url": "ftp://files.example.org/x"},
    failures.NO_EMAIL_ADDRESS: {},
    failures.MAIL_REFUSED: {},
    failures.MAIL_LOGIN_REFUSED: {},
    failures.CHANNEL_DISABLED: {"channel": "sms"},
    failures.CHANNEL_REFUSED: {"channel": "sms"},
    failures.CHANNEL_FAILED: {"channel": "sms"},
}


def describe_in(language: str, code: str, params: dict, text: str = "") -> str:
    with translation.override(language):
        return failures.describe(code, params, text)


def test_every_code_has_sample_parameters_here():
    # A new code must be added above, so the test below checks that it is worded in both languages.
    assert sorted(SAMPLE_PARAMS) == sorted(failures.codes())


@pytest.mark.parametrize("code", sorted(SAMPLE_PARAMS))
def test_every_reason_is_worded_in_chinese_and_in_english(code):
    params = SAMPLE_PARAMS[code]

    chinese, english = describe_in("zh-hans", code, params), describe_in("en", code, params)

    assert CJK.search(chinese), f"{code} is not translated: {chinese!r}"
    assert not CJK.search(english), english
    # No English sentence left in the Chinese one (codes, addresses and setting names aside).
    assert not re.search(r"\b(?!HTTP\b|EMAIL_HOST_\w+\b)[A-Za-z]{4,} [A-Za-z]{2,}\b",
                         chinese.replace(params.get("url", "\0"), "")), chinese
    for value in params.values():
        assert str(value) in chinese and str(value) in english


def test_a_row_recorded_before_codes_existed_shows_its_stored_text_in_every_language():
    legacy = "DeliveryError: HTTP 500: upstream down"

    assert describe_in("zh-hans", "", {}, legacy) == describe_in("en", "", {}, legacy) == legacy
    assert Notification(last_error=legacy).last_error_reason() == legacy
    assert Notification(last_error=legacy).last_error_detail == ""  # the text is the reason, not repeated
    assert describe_in("en", "", {}, "") == ""


def test_an_unknown_code_or_wrong_parameters_still_say_delivery_failed_in_the_viewers_language():
    assert describe_in("zh-hans", "sms_quota_exceeded", {}) == "发送失败（原因编码 sms_quota_exceeded）。"
    assert describe_in("en", "sms_quota_exceeded", {}) == "Delivery failed (reason code sms_quota_exceeded)."
    assert describe_in("en", failures.HTTP_ERROR, {"code": 500}) == "Delivery failed (reason code http_error)."


def test_a_plug_in_registers_its_own_reason():
    failures.register("test_quota", "Quota of %(n)s messages used up.")
    try:
        assert failures.describe("test_quota", {"n": 5}) == "Quota of 5 messages used up."
    finally:
        failures._reasons.pop("test_quota")
    with pytest.raises(ValueError):
        failures.register("x" * (failures.CODE_MAX + 1), "too long")


# Real deliveries, recorded by a worker in one language, read in the back-office in the other.

EXPECTED = {
    # kind of failure: (Chinese, English), as a staff member reads them
    "private": ("未发送：localhost 解析为", "Not sent: localhost resolves to"),
    "private_literal": ("未发送：127.0.0.1 是内网、本机回环或保留地址；Webhook 只推送到公网地址。",
                        "Not sent: 127.0.0.1 is a private, loopback or reserved address; webhooks are sent only to "
                        "addresses on the public network."),
    "http": ("接收方系统返回了错误（HTTP 状态码 500）。", "The receiving system answered with an error (HTTP status 500)."),
    "timeout": ("接收方系统没有及时应答（时限 1 秒）。", "The receiving system did not answer in time (time limit: 1 s)."),
    "connection": ("无法连接到接收方服务器。", "Could not connect to the receiving server."),
}


@pytest.fixture
def failed_deliveries(db, settings):
    """One failed webhook delivery of each kind, recorded by a worker running in ``worker_language``."""
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 1
    owner = make_user("department_staff")

    def queue(url: str) -> Notification:
        endpoint = WebhookEndpoint.objects.create(user=owner, name=f"system {url}", url=url, secret="whsec-test")
        [row] = [row for row in notification_enqueue(recipient=owner, kind="case.assigned", subject="诉求 17",
                                                      body="") if row.endpoint_id == endpoint.pk]
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=NOW)
        return row

    def record(worker_language: str) -> dict[str, Notification]:
        rows = {}
        with translation.override(worker_language), Receiver() as receiver:
            settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
            rows["private"] = queue(receiver.url.replace("127.0.0.1", "localhost"))
            rows["private_literal"] = queue(receiver.url)
            assert outbox_deliver_once(now=NOW).retried == 2
            settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
            receiver.script = [500]
            rows["http"] = queue(receiver.url)
            assert outbox_deliver_once(now=NOW).retried == 1
            receiver.script = ["slow"]
            rows["timeout"] = queue(receiver.url)
            assert outbox_deliver_once(now=NOW).retried == 1
            closed = receiver.url
        rows["connection"] = queue(closed)
        with translation.override(worker_language):
            assert outbox_deliver_once(now=NOW).retried == 1
        for row in rows.values():
            row.refresh_from_db()
        assert {kind: row.last_error_code for kind, row in rows.items()} == {
            "private": "refused_private", "private_literal": "refused_private_address", "http": "http_error",
            "timeout": "timeout", "connection": "connection_failed"}
        return owner, rows

    return record


@pytest.mark.parametrize("worker_language, viewer_language", [("en", "zh-hans"), ("zh-hans", "en")])
def test_the_back_office_shows_each_delivery_failure_in_the_viewers_language(
        client, failed_deliveries, worker_language, viewer_language):
    _, rows = failed_deliveries(worker_language)
    shown, other = (0, 1) if viewer_language == "zh-hans" else (1, 0)
    client.force_login(make_user("admin"))

    changelist = client.get(reverse("admin:notifications_notification_changelist"),
                            HTTP_ACCEPT_LANGUAGE=viewer_language).content.decode()
    for kind, row in rows.items():
        page = client.get(reverse("admin:notifications_notification_change", args=[row.pk]),
                          HTTP_ACCEPT_LANGUAGE=viewer_language).content.decode()
        expected, foreign = escape(EXPECTED[kind][shown]), escape(EXPECTED[kind][other])
        # The row's last error and its attempt in the inline, both in the viewer's language.
        assert page.count(expected) >= 2, (kind, viewer_language)
        assert foreign not in page, (kind, viewer_language)
        assert expected in changelist and foreign not in changelist, (kind, viewer_language)


def test_the_technical_detail_is_shown_beside_the_reason_untranslated(client, failed_deliveries):
    _, rows = failed_deliveries("en")
    client.force_login(make_user("admin"))

    page = client.get(reverse("admin:notifications_notification_change", args=[rows["timeout"].pk]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "技术详情" in page and "TimeoutError: timed out" in page
    attempt = DeliveryAttempt.objects.get(notification=rows["timeout"])
    assert (attempt.error_code, attempt.error_detail) == ("timeout", "TimeoutError: timed out")


def test_the_api_attempt_log_gives_the_reason_in_the_requests_language_and_the_code(client, failed_deliveries):
    owner, rows = failed_deliveries("zh-hans")
    client.force_login(owner)

    for language, column in (("en", 1), ("zh-hans", 0)):
        response = client.get(f"/api/v1/webhooks/deliveries/{rows['http'].pk}", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.content
        [attempt] = response.json()["attempt_log"]
        assert attempt["error"] == EXPECTED["http"][column]
        assert (attempt["error_code"], attempt["error_detail"]) == ("http_error", "receiver says 500")


@pytest.mark.django_db
def test_a_legacy_free_text_error_still_shows_in_the_back_office(client):
    user = make_user("grid_worker")
    user.email = "w@example.org"
    user.save()
    [row] = [r for r in notification_enqueue(recipient=user, kind="case.assigned", subject="s", body="b")
             if r.channel == "email"]
    legacy = "DeliveryError: refused: hooks.example.org resolves to 10.0.0.5, which is not a public address"
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.DEAD, last_error=legacy)
    DeliveryAttempt.objects.create(notification_id=row.pk, number=1, started_at=NOW, duration_ms=3, succeeded=False,
                                   error=legacy)
    client.force_login(make_user("admin"))

    page = client.get(reverse("admin:notifications_notification_change", args=[row.pk]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert page.count(escape(legacy)) >= 2


@pytest.mark.django_db
def test_a_mail_server_refusal_is_recorded_as_a_code_and_read_in_chinese(settings):
    settings.EMAIL_BACKEND = "communitygrid.notifications.tests.fakes.RefusingMailBackend"
    user = make_user("grid_worker")
    user.email = "nobody@example.org"
    user.save()
    [row] = [r for r in notification_enqueue(recipient=user, kind="case.assigned", subject="s", body="b")
             if r.channel == "email"]
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=NOW)

    with translation.override("en"):
        assert outbox_deliver_once(now=NOW).retried == 1

    row.refresh_from_db()
    assert row.last_error_code == "mail_refused" and "550" in row.last_error
    with translation.override("zh-hans"):
        assert row.last_error_reason() == "邮件服务器拒收了这封邮件。"
    with translation.override("en"):
        assert row.last_error_reason() == "The mail server refused the message."


def test_a_notification_is_named_by_kind_channel_and_status_in_the_readers_language():
    from django.utils import translation

    from communitygrid.notifications.models import Notification

    row = Notification(kind="case_assigned", recipient_id=7, channel="webhook", status="pending")
    with translation.override("zh-hans"):
        assert str(row) == "派给您的诉求 → 7 (Webhook 推送, 待发送)"
    with translation.override("en"):
        assert str(row) == "Case assigned to you → 7 (Webhook, Pending)"
    # A plug-in channel and a kind no app registers keep their codes.
    row.kind, row.channel = "custom_kind", "sms"
    with translation.override("zh-hans"):
        assert str(row) == "custom_kind → 7 (sms, 待发送)"
