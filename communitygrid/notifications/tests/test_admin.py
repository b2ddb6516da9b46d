import re

import pytest
from django.urls import reverse

from communitygrid.notifications.models import Notification, WebhookEndpoint
from communitygrid.notifications.services import notification_enqueue
from communitygrid.testing import make_user

pytestmark = pytest.mark.django_db

# A public literal address: saving it resolves nothing (this machine has no DNS beyond localhost).
PUBLIC_URL = "https://93.184.216.34/h"


@pytest.fixture
def dead_row():
    user = make_user("grid_worker")
    user.email = "w@example.org"
    user.save()
    rows = notification_enqueue(recipient=user, kind="case.assigned", subject="s", body="b")
    [row] = [row for row in rows if row.channel == "email"]
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.DEAD, attempts=8, last_error="boom")
    return row


def test_system_admin_sees_the_outbox_read_only_and_can_retry(client, dead_row):
    client.force_login(make_user("admin"))
    changelist = reverse("admin:notifications_notification_changelist")

    assert client.get(changelist).status_code == 200
    page = client.get(reverse("admin:notifications_notification_change", args=[dead_row.pk])).content.decode()
    assert 'name="_save"' not in page
    response = client.post(changelist, {"action": "retry", "_selected_action": [dead_row.pk]})

    assert response.status_code == 302
    dead_row.refresh_from_db()
    assert (dead_row.status, dead_row.attempts) == (Notification.Status.PENDING, 0)


def test_other_back_office_roles_do_not_see_other_peoples_messages(client, dead_row):
    client.force_login(make_user("community_staff"))

    assert client.get(reverse("admin:notifications_notification_changelist")).status_code == 403
    assert client.get(reverse("admin:notifications_webhookendpoint_changelist")).status_code == 403


def test_editing_an_endpoint_without_a_secret_keeps_the_old_one(client):
    client.force_login(make_user("admin"))
    owner = make_user("department_staff")
    endpoint = WebhookEndpoint.objects.create(user=owner, name="old", url=PUBLIC_URL, secret="keep-me")

    response = client.post(
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
        {"user": owner.pk, "name": "renamed", "url": PUBLIC_URL, "secret": "", "is_active": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert endpoint.name == "renamed"
    assert endpoint.secret.reveal() == "keep-me"


def test_new_endpoint_needs_a_secret(client):
    client.force_login(make_user("admin"))
    owner = make_user("department_staff")

    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"user": owner.pk, "name": "n", "url": PUBLIC_URL, "secret": "", "is_active": "on"},
    )

    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()


def _endpoint_form(owner, url):
    # A superuser also sees the subscriptions inline, whose management form the page would post.
    return {"user": owner.pk, "name": "城管系统", "url": url, "secret": "whsec-admin", "is_active": "on",
            "subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0"}


@pytest.mark.parametrize("url", ["http://localhost:8000/h", "http://169.254.169.254/latest/meta-data/"])
def test_the_admin_refuses_an_endpoint_on_a_private_address_with_an_error_on_the_url(admin_client, settings, url):
    settings.LANGUAGE_CODE = "en"
    owner = make_user("department_staff")

    response = admin_client.post(reverse("admin:notifications_webhookendpoint_add"), _endpoint_form(owner, url))

    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["url"], errors
    assert "must be reachable on the public network" in errors["url"][0]
    assert errors["url"][0] in response.content.decode()


def test_the_admin_refuses_to_move_an_endpoint_onto_a_private_address_in_chinese(admin_client):
    owner = make_user("department_staff")
    endpoint = WebhookEndpoint.objects.create(user=owner, name="old", url=PUBLIC_URL, secret="keep-me")

    response = admin_client.post(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
                                 _endpoint_form(owner, "http://10.0.0.5/h"))

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["url"]
    assert "公网" in message and "10.0.0.5" in message
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL


def test_the_admin_accepts_a_public_address_and_loopback_only_when_private_urls_are_allowed(admin_client, settings):
    owner = make_user("department_staff")
    add = reverse("admin:notifications_webhookendpoint_add")

    assert admin_client.post(add, _endpoint_form(owner, PUBLIC_URL)).status_code == 302
    assert admin_client.post(add, _endpoint_form(owner, "http://127.0.0.1:9/h")).status_code == 200
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert admin_client.post(add, _endpoint_form(owner, "http://127.0.0.1:9/h")).status_code == 302
    assert sorted(WebhookEndpoint.objects.values_list("url", flat=True)) == ["http://127.0.0.1:9/h", PUBLIC_URL]


def test_an_endpoints_kinds_are_ticked_by_name_not_typed_as_json(admin_client):
    owner = make_user("department_staff")
    add = reverse("admin:notifications_webhookendpoint_add")

    page = admin_client.get(add, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # Every kind the apps send is a named checkbox (here in Chinese).
    assert page.count('type="checkbox" name="kinds"') >= 13 and "联动任务逾期" in page and 'value="case_assigned"' in page

    form = {**_endpoint_form(owner, PUBLIC_URL), "kinds": ["case_assigned", "case_resolved"]}
    response = admin_client.post(add, form)
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.kinds == ["case_assigned", "case_resolved"]
    assert endpoint.wants("case_assigned") and not endpoint.wants("case_escalated")

    refused = admin_client.post(add, {**form, "name": "other", "kinds": ["bogus"]})
    assert refused.status_code == 200 and list(refused.context["adminform"].form.errors) == ["kinds"]
    assert WebhookEndpoint.objects.count() == 1


def test_a_stored_kind_no_longer_sent_stays_ticked_until_someone_unticks_it(admin_client):
    owner = make_user("department_staff")
    endpoint = WebhookEndpoint.objects.create(user=owner, name="old", url=PUBLIC_URL, secret="keep-me",
                                              kinds=["case_assigned", "legacy_kind"])

    page = admin_client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])).content.decode()

    def ticked(code):
        return re.search(rf'<input type="checkbox" name="kinds" value="{code}"[^>]*\bchecked\b', page) is not None

    assert ticked("legacy_kind") and ticked("case_assigned") and not ticked("case_escalated")


def test_the_outbox_list_names_kinds_in_the_page_language_and_filters_by_them(client):
    user = make_user("grid_worker")
    notification_enqueue(recipient=user, kind="case_assigned", subject="s", body="b")
    notification_enqueue(recipient=user, kind="case_escalated", subject="s", body="b")
    client.force_login(make_user("admin"))
    changelist = reverse("admin:notifications_notification_changelist")

    page = client.get(changelist, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "派给您的诉求" in page and "站内消息" in page
    assert ">case_assigned<" not in page
    filtered = client.get(changelist, {"kind": "case_escalated"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="?kind=case_assigned">Case assigned to you<' in filtered  # the filter, by name
    assert re.findall(r'class="field-kind_label">([^<]*)<', filtered) == ["Case escalated to your level"]
