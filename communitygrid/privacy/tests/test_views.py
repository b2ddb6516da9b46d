import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.privacy import services, views
from communitygrid.privacy.models import AccessLog

pytestmark = pytest.mark.usefixtures("scoped_registry")
URL = reverse("privacy:access_log")


@pytest.fixture
def reads(users, people):
    inside, outside = people
    services.sensitive_reveal(actor=users[Role.GRID_WORKER], obj=inside, fields=["phone"], purpose="核实联系电话号码")
    services.sensitive_reveal(actor=users[Role.ADMIN], obj=outside, fields=["id_number"], purpose="系统管理员数据核对")
    return inside, outside


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def test_sign_in_is_required(client, db):
    assert client.get(URL).status_code == 302
    assert client.get(reverse("privacy:my_data_access")).status_code == 302


def test_community_staff_see_reads_in_their_area_only(client, users, reads):
    body = get(client, users[Role.COMMUNITY_STAFF]).content.decode()
    assert "核实联系电话号码" in body
    assert "系统管理员数据核对" not in body


def test_table_is_accessible_and_shows_translated_labels(client, users, reads):
    response = get(client, users[Role.ADMIN])
    body = response.content.decode()
    assert "<caption>" in body and '<th scope="col">' in body
    assert 'lang="zh-Hans"' in body
    assert "网格员" in body  # role shown by its label, not its code


def test_filter_by_actor(client, users, reads):
    admin = users[Role.ADMIN]
    body = get(client, admin, actor=users[Role.GRID_WORKER].username.upper()).content.decode()
    assert "核实联系电话号码" in body
    assert "系统管理员数据核对" not in body


def test_filter_by_record(client, users, reads):
    inside, outside = reads
    body = get(client, users[Role.ADMIN], record_type="registry.person", record_id=outside.pk).content.decode()
    assert "系统管理员数据核对" in body
    assert "核实联系电话号码" not in body


def test_filter_by_local_date_range(client, users, reads):
    admin = users[Role.ADMIN]
    today = timezone.localdate()
    assert "核实联系电话号码" in get(client, admin, date_from=today, date_to=today).content.decode()
    tomorrow = today + dt.timedelta(days=1)
    assert "核实联系电话号码" not in get(client, admin, date_from=tomorrow).content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2025-13-40"}, "date_from"),
        ({"date_from": "2025-05-02", "date_to": "2025-05-01"}, "date_to"),
        ({"record_id": "abc", "record_type": "registry.person"}, "record_id"),
        ({"record_id": "5"}, "record_type"),
        ({"record_type": "auth.user"}, "record_type"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(client, users, reads, params, field):
    response = get(client, users[Role.ADMIN], **params)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_pagination_keeps_the_filter(client, users, people, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    inside, _ = people
    for _ in range(3):
        services.sensitive_reveal(actor=users[Role.GRID_WORKER], obj=inside, fields=["phone"], purpose="核实联系电话号码")
    admin = users[Role.ADMIN]
    body = get(client, admin, actor=users[Role.GRID_WORKER].username).content.decode()
    assert f"actor={users[Role.GRID_WORKER].username}&amp;page=2" in body
    second = get(client, admin, actor=users[Role.GRID_WORKER].username, page=2)
    assert second.status_code == 200
    assert second.content.decode().count("核实联系电话号码") == 1


def test_resident_sees_who_read_their_record(client, users, reads):
    response = get(client, users[Role.RESIDENT], reverse("privacy:my_data_access"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "核实联系电话号码" in body
    assert "系统管理员数据核对" not in body
    assert str(users[Role.GRID_WORKER]) in body


def test_my_data_page_explains_when_no_record_is_linked(client, users, reads):
    body = get(client, users[Role.GRID_WORKER], reverse("privacy:my_data_access")).content.decode()
    assert "核实联系电话号码" not in body
    assert 'class="empty-state"' in body or "<table" not in body


def test_admin_lists_the_log_read_only(client, users, reads):
    client.force_login(users[Role.ADMIN])
    entry = AccessLog.objects.first()
    assert client.get(reverse("admin:privacy_accesslog_changelist")).status_code == 200
    assert client.get(reverse("admin:privacy_accesslog_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:privacy_accesslog_add")).status_code == 403
    assert client.post(reverse("admin:privacy_accesslog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:privacy_accesslog_change", args=[entry.pk]), {"purpose": "changed"})
    assert response.status_code == 403
    assert AccessLog.objects.get(pk=entry.pk).purpose == entry.purpose


def test_admin_changelist_is_scoped_for_community_staff(client, users, reads):
    client.force_login(users[Role.COMMUNITY_STAFF])
    body = client.get(reverse("admin:privacy_accesslog_changelist")).content.decode()
    assert "核实联系电话号码" in body
    assert "系统管理员数据核对" not in body
    outside_entry = AccessLog.objects.get(purpose="系统管理员数据核对")
    response = client.get(reverse("admin:privacy_accesslog_change", args=[outside_entry.pk]))
    assert response.status_code == 302  # Django admin redirects a missing object to the index
