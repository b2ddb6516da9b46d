import pytest
from django.urls import reverse

from communitygrid.accounts.models import Department, Role, SignInEvent, User


@pytest.fixture
def admin_client(client, users):
    client.force_login(users[Role.ADMIN])
    return client


def test_admin_lists_users_filtered_by_role(admin_client, users):
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"role__exact": Role.GRID_WORKER})
    assert response.status_code == 200
    body = response.content.decode()
    assert users[Role.GRID_WORKER].username in body
    assert users[Role.STREET_STAFF].username not in body


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF])
def test_back_office_staff_cannot_manage_accounts(client, users, role):
    client.force_login(users[role])
    for name in ("admin:accounts_user_changelist", "admin:accounts_department_changelist",
                 "admin:accounts_signinevent_changelist", "admin:accounts_user_add"):
        assert client.get(reverse(name)).status_code == 403
    target = users[Role.GRID_WORKER]
    response = client.post(reverse("admin:accounts_user_change", args=[target.pk]),
                           {"username": target.username, "role": Role.ADMIN})
    assert response.status_code == 403
    assert User.objects.get(pk=target.pk).role == Role.GRID_WORKER


def test_admin_adds_a_user_with_the_binding_checked(admin_client, city):
    url = reverse("admin:accounts_user_add")
    data = {"username": "zhang", "usable_password": "true", "password1": "a-long-and-unusual-passphrase-42",
            "password2": "a-long-and-unusual-passphrase-42", "role": Role.STREET_STAFF,
            "scope_nodes": [city.grids[0].pk], "display_name": "张"}
    response = admin_client.post(url, data)
    assert response.status_code == 200  # form shown again with the error
    assert 'class="errorlist' in response.content.decode()
    assert not User.objects.filter(username="zhang").exists()
    data["scope_nodes"] = [city.streets[0].pk]
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert list(User.objects.get(username="zhang").scope_nodes.all()) == [city.streets[0]]


def test_admin_change_form_checks_the_binding(admin_client, users, city):
    worker = users[Role.GRID_WORKER]
    url = reverse("admin:accounts_user_change", args=[worker.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"username": worker.username, "role": Role.GRID_WORKER, "display_name": "x",
                                       "scope_nodes": [city.communities[0].pk], "is_active": "on",
                                       "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00"})
    assert response.status_code == 200
    assert list(User.objects.get(pk=worker.pk).scope_nodes.all()) == [city.grids[0]]


def test_department_admin_and_read_only_sign_in_events(admin_client, users):
    assert admin_client.get(reverse("admin:accounts_department_changelist")).status_code == 200
    event = SignInEvent.objects.create(username="x", outcome="failure")
    assert admin_client.get(reverse("admin:accounts_signinevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_signinevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:accounts_signinevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert SignInEvent.objects.filter(pk=event.pk).exists()
    assert Department.objects.exists()
