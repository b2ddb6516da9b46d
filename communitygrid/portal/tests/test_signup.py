"""Sign up in three steps: mobile number → one-time code → the request form."""
import datetime as dt
import re

import pytest
import time_machine
from django.db import connection

from communitygrid.accounts.models import OneTimeCode, ResidentPhone, Role, SignInEvent, User
from communitygrid.privacy import crypto

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def ask_code(client, phone=PHONE, **extra):
    return client.post("/portal/start/", {"phone": phone, **extra})


def screen_code(client) -> str:
    return client.session["portal_otp_screen"]


def test_a_new_resident_signs_up_with_phone_and_code_and_lands_on_the_request_form(client):
    response = client.get("/portal/new/")
    assert response.status_code == 302 and response.url == "/portal/start/?next=/portal/new/"
    page = client.get(response.url)
    assert 'name="next" value="/portal/new/"' in page.content.decode()

    response = ask_code(client, next="/portal/new/")
    assert response.status_code == 302 and response.url == "/portal/verify/"
    page = client.get("/portal/verify/").content.decode()
    code = screen_code(client)
    assert len(code) == 6 and code.isdigit()
    assert code in page  # the "screen" sender shows it: the demo has no SMS gateway
    assert "138****5678" in page and PHONE not in page

    response = client.post("/portal/verify/", {"code": code})
    assert response.status_code == 302 and response.url == "/portal/new/"
    user = User.objects.get(resident_phone__phone_bidx=crypto.blind_index("phone", PHONE))
    assert user.role == Role.RESIDENT and not user.has_usable_password()
    assert client.get("/portal/new/").status_code == 200
    assert SignInEvent.objects.filter(user=user, outcome=SignInEvent.Outcome.SUCCESS).exists()
    assert "portal_otp_screen" not in client.session


STEPS = "第 3 步，共 3 步"  # "Step 3 of 3" in the site language


def test_the_form_is_step_3_of_3_only_on_the_way_in_from_sign_up(client, django_user_model):
    ask_code(client, next="/portal/new/")
    client.post("/portal/verify/", {"code": screen_code(client)})
    assert STEPS in client.get("/portal/new/").content.decode()
    page = client.post("/portal/new/", {"category": "", "description": "", "where": "here"})
    assert page.status_code == 400 and STEPS in page.content.decode()  # still on the way in

    # Signing in by code to look at one's requests is not the way in to the form.
    client.logout()
    ask_code(client, phone="13812345679", next="/portal/requests/")
    client.post("/portal/verify/", {"code": screen_code(client)})
    assert STEPS not in client.get("/portal/new/").content.decode()

    # A resident who signs in otherwise and comes from the home page is not in a sign-up flow.
    other = django_user_model.objects.create_user("resident-by-password", password="x-long-password-1", role=Role.RESIDENT)
    client.logout()
    client.force_login(other)
    page = client.get("/portal/new/").content.decode()
    assert STEPS not in page and 'class="steps"' not in page


def test_the_phone_and_the_code_are_stored_only_encrypted_and_hashed(client):
    ask_code(client)
    code = screen_code(client)
    client.post("/portal/verify/", {"code": code})
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, code_hash FROM accounts_onetimecode")
        phone_token, code_hash = cursor.fetchone()
        cursor.execute("SELECT phone FROM accounts_residentphone")
        (stored,) = cursor.fetchone()
    assert PHONE not in phone_token and PHONE not in stored and code not in code_hash
    assert ResidentPhone.objects.get().phone.reveal() == PHONE


def test_signing_in_again_with_the_same_number_finds_the_same_account(client):
    ask_code(client)
    client.post("/portal/verify/", {"code": screen_code(client)})
    first = User.objects.get(role=Role.RESIDENT, resident_phone__isnull=False)
    client.logout()
    with time_machine.travel(dt.timedelta(minutes=2)):
        ask_code(client, phone="+86 138-1234-5678")  # the same number, written differently
        response = client.post("/portal/verify/", {"code": screen_code(client)})
    assert response.status_code == 302
    assert User.objects.filter(resident_phone__isnull=False).count() == 1
    assert int(client.session["_auth_user_id"]) == first.pk


@pytest.mark.parametrize("phone, message", [
    ("", "Enter your mobile number."),
    ("abc", "contains characters other than digits"),
    ("1381234567", "must have 11 digits"),
    ("12812345678", "must start with 13 to 19"),
    ("0571-88888888", "not a landline"),
])
def test_a_bad_number_is_refused_beside_the_field_and_nothing_is_sent(client, phone, message):
    client.cookies["cg_language"] = "en"
    response = ask_code(client, phone=phone)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'id="err-phone"' in body and 'aria-invalid="true"' in body
    assert not OneTimeCode.objects.exists()


def test_the_number_error_is_in_chinese_on_a_chinese_page(client):
    response = ask_code(client, phone="")
    assert response.status_code == 400
    assert "请输入手机号码" in response.content.decode()


def test_a_wrong_code_counts_and_the_code_dies_after_the_allowed_tries(client, settings):
    settings.OTP_MAX_ATTEMPTS = 3
    client.cookies["cg_language"] = "en"
    ask_code(client)
    code = screen_code(client)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/portal/verify/", {"code": wrong})
    assert response.status_code == 400 and "2 tries left" in response.content.decode()
    response = client.post("/portal/verify/", {"code": "12ab"})
    assert response.status_code == 400 and "1 try left" in response.content.decode()
    response = client.post("/portal/verify/", {"code": wrong})
    assert response.status_code == 429 and "Too many wrong codes" in response.content.decode()
    response = client.post("/portal/verify/", {"code": code})  # even the right one, now
    assert response.status_code == 429
    assert not User.objects.filter(resident_phone__isnull=False).exists()
    assert OneTimeCode.objects.get().attempts == 3


def test_an_empty_code_asks_for_it_without_counting(client):
    client.cookies["cg_language"] = "en"
    ask_code(client)
    response = client.post("/portal/verify/", {"code": "  "})
    assert response.status_code == 400 and "Enter the 6-digit code" in response.content.decode()
    assert OneTimeCode.objects.get().attempts == 0


def test_an_expired_code_is_refused(client, settings):
    client.cookies["cg_language"] = "en"
    ask_code(client)
    code = screen_code(client)
    with time_machine.travel(dt.timedelta(seconds=settings.OTP_TTL_SECONDS + 1)):
        response = client.post("/portal/verify/", {"code": code})
    assert response.status_code == 400 and "The code has expired" in response.content.decode()
    assert not User.objects.filter(resident_phone__isnull=False).exists()


def test_a_used_code_cannot_sign_in_twice(client):
    ask_code(client)
    code = screen_code(client)
    challenge = client.session["portal_otp"]
    client.post("/portal/verify/", {"code": code})
    client.logout()
    session = client.session
    session["portal_otp"] = challenge
    session.save()
    client.cookies["cg_language"] = "en"
    response = client.post("/portal/verify/", {"code": code})
    assert response.status_code == 400 and "already used" in response.content.decode()


def test_verify_without_a_code_sent_goes_back_to_step_one(client):
    assert client.get("/portal/verify/").url == "/portal/start/"
    assert client.post("/portal/verify/", {"code": "123456"}).url == "/portal/start/"


def test_codes_are_throttled_per_number(client, settings):
    client.cookies["cg_language"] = "en"
    assert ask_code(client).status_code == 302
    response = ask_code(client)
    assert response.status_code == 429 and "Wait" in response.content.decode()
    settings.OTP_RESEND_SECONDS = 0
    settings.OTP_PER_PHONE_PER_HOUR = 3
    assert ask_code(client).status_code == 302
    assert ask_code(client).status_code == 302
    response = ask_code(client)
    assert response.status_code == 429 and "Too many codes were sent to this number" in response.content.decode()
    assert OneTimeCode.objects.count() == 3
    with time_machine.travel(dt.timedelta(hours=1, minutes=1)):
        assert ask_code(client).status_code == 302


def test_codes_are_throttled_per_address(client, settings):
    client.cookies["cg_language"] = "en"
    settings.OTP_PER_IP_PER_HOUR = 2
    assert ask_code(client, phone="13800000001").status_code == 302
    assert ask_code(client, phone="13800000002").status_code == 302
    response = ask_code(client, phone="13800000003")
    assert response.status_code == 429 and "from this network" in response.content.decode()
    other = client.post("/portal/start/", {"phone": "13800000003"}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302


def test_a_switched_off_account_cannot_sign_in(client):
    ask_code(client)
    client.post("/portal/verify/", {"code": screen_code(client)})
    User.objects.filter(resident_phone__isnull=False).update(is_active=False)
    client.logout()
    client.cookies["cg_language"] = "en"
    with time_machine.travel(dt.timedelta(minutes=2)):
        ask_code(client)
        response = client.post("/portal/verify/", {"code": screen_code(client)})
    assert response.status_code == 403 and "switched off" in response.content.decode()


def test_an_outside_next_is_not_followed(client):
    ask_code(client, next="https://evil.example/steal")
    response = client.post("/portal/verify/", {"code": screen_code(client)})
    assert response.url == "/portal/new/"


def test_a_real_sms_gateway_plugs_in_by_setting_and_the_code_is_not_shown(client, settings):
    settings.SMS_SENDER = "communitygrid.portal.tests.test_signup.RecordingSender"
    RecordingSender.sent.clear()
    ask_code(client)
    assert client.session["portal_otp_screen"] is None
    page = client.get("/portal/verify/").content.decode()
    ((phone, message),) = RecordingSender.sent
    code = re.search(r"\d{6}", message).group()
    assert phone == PHONE and code not in page
    assert client.post("/portal/verify/", {"code": code}).status_code == 302


class RecordingSender:
    """A stand-in gateway that records what it would send (the plug-in interface, exercised)."""

    shows_on_screen = False
    sent: list = []

    def send(self, *, phone, message):
        self.sent.append((phone, message))


def test_the_staff_sign_in_page_leads_residents_to_the_phone_sign_in(client):
    body = client.get("/accounts/login/?next=/portal/requests/").content.decode()
    assert 'href="/portal/start/?next=/portal/requests/"' in body
