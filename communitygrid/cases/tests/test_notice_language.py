"""A case notice is queued once, in the site's language, and read in its reader's: the inbox page
and the API word it again from its kind and raw parameters (category, tier, moments)."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from communitygrid.cases.models import CaseNotice, Category
from communitygrid.cases.services import NOTICES, case_notices_send
from communitygrid.notifications.kinds import moment
from communitygrid.notifications.models import IN_APP, Notification

pytestmark = pytest.mark.django_db


def _queued(people, submit):
    """A case submitted by a resident; the worker's "case assigned" notice queued, in zh-Hans."""
    case = submit().case
    assert CaseNotice.objects.filter(event__case=case, recipient=people.worker, kind="case_assigned").exists()
    with translation.override("zh-hans"):
        case_notices_send()
    row = Notification.objects.get(recipient=people.worker, channel=IN_APP, kind="case_assigned", case_id=case.pk)
    return case, row


def _expected(case, language: str) -> tuple[str, str]:
    subject, body = NOTICES["case_assigned"]
    with translation.override(language):
        local = moment(case.respond_by.isoformat())  # its format: notifications/tests/test_wording.py
        values = {"id": case.pk, "category": case.category.label, "tier": case.get_tier_display(),
                  "respond_by": local}
        return str(subject) % values, str(body) % values


def test_the_stored_text_is_in_the_site_language_and_the_params_are_raw(people, submit):
    case, row = _queued(people, submit)

    assert (row.subject, row.body) == _expected(case, "zh-hans")
    assert row.params["category"] == case.category_id and row.params["tier"] == case.tier
    assert row.params["respond_by"] == case.respond_by.isoformat()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_inbox_page_words_a_notice_in_the_readers_language(client, people, submit, language):
    case, row = _queued(people, submit)
    client.force_login(people.worker)

    response = client.get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE=language)

    subject, body = _expected(case, language)
    html = response.content.decode()
    assert response.status_code == 200
    [shown] = [n for n in response.context["page"].object_list if n.pk == row.pk]
    assert (shown.worded_subject, shown.worded_body) == (subject, body)
    assert case.category.name_en in html if language == "en" else case.category.name in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_api_words_a_notice_in_the_readers_language(client, people, submit, language):
    case, row = _queued(people, submit)
    client.force_login(people.worker)

    listed = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE=language)
    detail = client.get(f"/api/v1/notifications/{row.pk}", HTTP_ACCEPT_LANGUAGE=language)

    subject, body = _expected(case, language)
    assert listed.status_code == 200 and detail.status_code == 200
    [item] = [item for item in listed.json()["items"] if item["id"] == row.pk]
    assert (item["subject"], item["body"]) == (subject, body)
    assert (detail.json()["subject"], detail.json()["body"]) == (subject, body)
    assert detail.json()["unread"] is True and detail.json()["case_id"] == case.pk


def test_the_api_shows_only_my_own_notifications(client, people, submit):
    _, row = _queued(people, submit)
    client.force_login(people.worker2)

    assert client.get(f"/api/v1/notifications/{row.pk}").status_code == 404
    assert row.pk not in [item["id"] for item in client.get("/api/v1/notifications").json()["items"]]


def test_a_category_renamed_later_reads_with_its_name_of_today(client, people, submit):
    case, row = _queued(people, submit)
    Category.objects.filter(pk=case.category_id).update(name_en="Visit to an older resident")
    client.force_login(people.worker)

    item = client.get(f"/api/v1/notifications/{row.pk}", HTTP_ACCEPT_LANGUAGE="en").json()

    assert "Visit to an older resident" in item["subject"]


def test_an_escalation_notice_words_its_level_and_reason_in_english(people):
    from communitygrid.cases.models import EscalationLevel, Status
    from communitygrid.cases.services import case_escalate
    from communitygrid.cases.tests.test_states import make_case

    case = make_case(people, Status.IN_PROGRESS)
    with translation.override("zh-hans"):
        case_escalate(case=case, actor=people.worker, reason="需要住建部门")
    row = Notification.objects.get(recipient=people.community, kind="case_escalated", channel=IN_APP)

    with translation.override("en"):
        body = row.worded_body
    with translation.override("zh-hans"):
        level_zh = str(EscalationLevel.COMMUNITY.label)
    assert "Community level" in body and "需要住建部门" in body
    assert level_zh in row.body and "Community" not in row.body


def test_the_sweeps_warning_and_escalation_read_in_english(people, submit):
    import datetime as dt

    import time_machine

    from communitygrid.cases.sweep import sweep_once

    with time_machine.travel(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc), tick=False):
        case = submit().case
    with translation.override("zh-hans"):
        sweep_once(case.warn_at)
        sweep_once(case.escalate_at)
        while case_notices_send():
            pass
    warning = Notification.objects.get(recipient=people.worker, kind="case_warning", channel=IN_APP)
    escalated = Notification.objects.get(recipient=people.community, kind="case_escalated", channel=IN_APP)

    with translation.override("en"):
        due = moment(case.respond_by.isoformat())
        assert warning.worded_body == f"Case #{case.pk} ({case.category.name_en}) is due by {due}."
        assert f"escalated to the Community level: no one responded by {due}" in escalated.worded_body
    with translation.override("zh-hans"):
        assert (warning.worded_subject, warning.worded_body) == (warning.subject, warning.body)
        assert (escalated.worded_subject, escalated.worded_body) == (escalated.subject, escalated.body)


def test_the_note_of_a_case_nobody_could_take_is_worded_in_the_readers_language(people, submit, settings):
    """Routing found no one: its reason is a system note, kept as parts beside the submitter's
    words, so the community staff read it in their own language whatever the submitter's was."""
    settings.CASE_WORKLOAD_CAP = 0
    with translation.override("en"):
        case = submit().case
        case_notices_send()
    row = Notification.objects.get(recipient=people.community, kind="case_handed_back", channel=IN_APP)
    assert row.params["note_why"]
    with translation.override("zh-hans"):
        chinese = row.worded_body
    with translation.override("en"):
        english = row.worded_body
    assert f"#{case.pk}" in chinese and "网格员" in chinese and "grid worker" not in chinese
    assert "grid worker" in english and "网格员" not in english


def test_a_case_notice_opens_the_case_page_of_its_readers_role(client, people, submit):
    from communitygrid.cases.services import case_accept, case_resolve

    case, row = _queued(people, submit)
    client.force_login(people.worker)
    page = client.get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="/workbench/cases/{case.pk}/"' in page
    assert client.get(f"/api/v1/notifications/{row.pk}").json()["link"] == f"/workbench/cases/{case.pk}/"
    assert client.get(f"/workbench/cases/{case.pk}/").status_code == 200

    case_accept(case=case, actor=people.worker)
    case_resolve(case=case, actor=people.worker, note="已上门")
    resolved = Notification.objects.get(recipient=people.resident, kind="case_resolved", channel=IN_APP)
    client.force_login(people.resident)
    assert resolved.link == f"/portal/requests/{case.pk}/"
    assert f'href="/portal/requests/{case.pk}/"' in client.get(reverse("notifications:inbox")).content.decode()
    assert client.get(resolved.link).status_code == 200
