import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from communitygrid.accounts.models import Role, SignInEvent
from communitygrid.testing import make_user

URL = reverse("accounts:login")
PASSWORD = "pw-for-tests-only"


@pytest.fixture
def worker(city):
    return make_user(Role.GRID_WORKER, scope=[city.grids[0]], username="wang")


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def wait_minutes(response) -> int:
    (error,) = response.context["form"].non_field_errors().as_data()
    assert error.code == "throttled"
    assert str(error.message % error.params) in response.content.decode()
    return error.params["minutes"]


def outcomes():
    return list(SignInEvent.objects.order_by("id").values_list("outcome", flat=True))


def test_page_has_labels_autofocus_and_language(client, db):
    body = client.get(URL).content.decode()
    assert '<label for="id_username">' in body and '<label for="id_password">' in body
    assert 'autofocus' in body.split('id="id_username"')[1].split(">")[0]
    assert '<html lang="zh-Hans"' in body
    assert 'autocomplete="current-password"' in body


def test_successful_sign_in_is_audited_and_redirects_home(client, worker):
    response = attempt(client, "wang", PASSWORD)
    assert response.status_code == 302
    event = SignInEvent.objects.get()
    assert (event.outcome, event.user, event.ip_address) == ("success", worker, "10.0.0.1")


def test_wrong_password_answers_400_with_a_clear_message_and_is_audited(client, worker, settings):
    response = attempt(client, "Wang", "wrong")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "用户名或密码不正确" in body or "The username or the password is not right" in body
    event = SignInEvent.objects.get()
    assert (event.outcome, event.username, event.user) == ("failure", "wang", worker)


def test_missing_fields_are_flagged_beside_each_field(client, db):
    response = client.post(URL, {"username": "", "password": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-describedby="err-username"' in body and 'id="err-username"' in body
    assert 'aria-describedby="err-password"' in body and 'id="err-password"' in body


def test_unknown_usernames_are_audited_too(client, db):
    attempt(client, "nobody", "x")
    assert SignInEvent.objects.get().username == "nobody"


def test_ten_failures_lock_the_username_at_that_address_even_for_the_right_password(client, worker):
    for _ in range(10):
        assert attempt(client, "wang", "wrong").status_code == 400
    response = attempt(client, "wang", PASSWORD)
    assert response.status_code == 429
    assert wait_minutes(response) == 15
    assert outcomes() == ["failure"] * 10 + ["throttled"]
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_and_per_username(client, worker):
    make_user(Role.GRID_WORKER, username="li")
    for _ in range(10):
        attempt(client, "wang", "wrong")
    assert attempt(client, "wang", PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    assert attempt(client, "li", PASSWORD).status_code == 302


def test_the_lock_lifts_when_the_window_has_passed(client, worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            attempt(client, "wang", "wrong")
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        response = attempt(client, "wang", PASSWORD)
        assert response.status_code == 429
        assert wait_minutes(response) == 1
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert attempt(client, "wang", PASSWORD).status_code == 302


def test_a_success_forgives_earlier_failures(client, worker):
    for _ in range(9):
        attempt(client, "wang", "wrong")
    assert attempt(client, "wang", PASSWORD).status_code == 302
    client.logout()
    for _ in range(9):
        attempt(client, "wang", "wrong")
    assert attempt(client, "wang", PASSWORD).status_code == 302


def test_limits_come_from_settings(client, worker, settings):
    settings.CG_SIGN_IN_MAX_FAILURES = 2
    attempt(client, "wang", "wrong")
    attempt(client, "wang", "wrong")
    assert attempt(client, "wang", PASSWORD).status_code == 429


def test_sign_out_is_audited(client, worker):
    attempt(client, "wang", PASSWORD)
    client.post(reverse("accounts:logout"))
    assert outcomes() == ["success", "sign_out"]


def test_admin_sign_in_is_audited(client, db):
    make_user(Role.ADMIN, username="root")
    client.post(reverse("admin:login"), {"username": "root", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert SignInEvent.objects.get().outcome == "failure"


def test_admin_sign_in_form_is_throttled_too(rf, worker):
    from communitygrid.accounts.forms import AdminSignInForm

    for _ in range(10):
        SignInEvent.objects.create(username="wang", outcome="failure", ip_address="10.0.0.1")
    request = rf.post("/admin/login/", REMOTE_ADDR="10.0.0.1")
    form = AdminSignInForm(request, data={"username": "wang", "password": PASSWORD})
    assert not form.is_valid()
    assert form.throttled


def test_a_signed_in_user_is_sent_home(client, worker):
    client.force_login(worker)
    assert client.get(URL).status_code == 302
