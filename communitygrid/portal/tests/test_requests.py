"""Submitting a request, one-tap help, and my requests, through real HTTP; every bad input a 4xx."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communitygrid.cases import services
from communitygrid.cases.models import Attachment, Case, Channel, Status, Tier
from communitygrid.portal.tests.conftest import PNG, POINT
from communitygrid.portal.views import when_words
from communitygrid.privacy.models import AccessLog

pytestmark = pytest.mark.django_db


def png(name="photo.png", extra=0):
    return SimpleUploadedFile(name, PNG + b"\x00" * extra, content_type="image/png")


# ---------------------------------------------------------------- the form

def test_the_form_offers_every_category_in_plain_words_under_group_icons(resident_client):
    from communitygrid.cases.selectors import category_leaves

    body = resident_client.get("/portal/new/").content.decode()
    for leaf in category_leaves():
        assert f'value="{leaf.code}"' in body and leaf.name in body
    assert body.count('name="group"') == category_leaves().values("parent").distinct().count()
    assert 'href="#i-elderly"' in body
    assert 'name="idempotency_key" value="' in body
    # Leaflet is not on the page until the map is asked for.
    assert "leaflet.js" not in body.split("data-leaflet-js")[0] and "<script src=\"/static/vendor" not in body


def test_a_request_at_home_is_submitted_and_shown_with_its_deadline_in_words(resident_client, people, submit_form):
    response = resident_client.post("/portal/new/", submit_form(), follow=True)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == f"/portal/requests/{case.pk}/?submitted=1"
    assert case.channel == Channel.WEB and case.reporter == people.resident and case.grid == people.grid
    body = response.content.decode()
    assert f"#{case.pk}" in body and "我们将在" in body or "We will reply" in body
    assert 'data-clear-draft="cg-portal-draft"' in body
    assert people.worker.username not in body  # staff appear as role + surname only


def test_a_request_at_a_map_point_with_a_photo(resident_client, submit_form):
    response = resident_client.post("/portal/new/", {**submit_form(where="map", **POINT), "attachments": [png()]})
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.lon, case.lat) == (120.005, 30.005)
    assert Attachment.objects.get(case=case).content_type == "image/png"


def test_a_double_submit_makes_one_request(resident_client, submit_form):
    first = resident_client.post("/portal/new/", submit_form())
    second = resident_client.post("/portal/new/", submit_form(), follow=True)
    assert Case.objects.count() == 1
    assert first.url.startswith(f"/portal/requests/{Case.objects.get().pk}/")
    assert "不会重复" in second.content.decode() or "not sent twice" in second.content.decode()


def test_likely_duplicates_are_shown_after_submitting(resident_client, people, submit_form):
    services.case_submit(submitted_by=people.neighbour, channel=Channel.WEB, category_code="elderly_visit",
                         description="同一处", lon=120.005, lat=30.005)
    response = resident_client.post("/portal/new/", submit_form(where="map", **POINT), follow=True)
    body = response.content.decode()
    other = Case.objects.exclude(reporter=people.resident).get()
    assert 'id="h-dup"' in body and f"#{other.pk}" in body and "这些诉求会一并处理" in body
    assert "同一处" not in body  # nothing of the other resident's words
    # Shown once, right after submitting.
    assert 'id="h-dup"' not in resident_client.get(response.redirect_chain[-1][0]).content.decode()


def test_a_likely_duplicate_already_resolved_is_not_promised_to_be_handled_together(
        resident_client, people, submit_form):
    done = services.case_submit(submitted_by=people.neighbour, channel=Channel.WEB, category_code="elderly_visit",
                                description="同一处", lon=120.005, lat=30.005).case
    Case.objects.filter(pk=done.pk).update(status=Status.CLOSED)
    body = resident_client.post("/portal/new/", submit_form(where="map", **POINT), follow=True).content.decode()
    together, again = "这些诉求会一并处理", "如果问题又出现了"
    assert f"#{done.pk}" in body and again in body and together not in body


BAD_INPUTS = [
    ("no category", {"category": ""}, "category", "Category is required."),
    ("unknown category", {"category": "no-such-thing"}, "category", "Unknown category"),
    ("a group, not a leaf", {"category": "elderly"}, "category", "Unknown category"),
    ("empty description", {"description": "   "}, "description", "Description is required."),
    ("too long", {"description": "长" * 5001}, "description", "longer than 5000 characters"),
    ("no place", {"where": ""}, "location", "Choose where it is"),
    ("unknown place kind", {"where": "moon"}, "location", "Choose where it is"),
    ("here without a fix", {"where": "here"}, "location", "Your location was not found"),
    ("map without a point", {"where": "map", "lon": "120.0"}, "location", "Pick the place on the map"),
    ("not numbers", {"where": "map", "lon": "east", "lat": "north"}, "location", "as numbers"),
    ("out of range", {"where": "map", "lon": "500", "lat": "30"}, "location", "out of range"),
    ("outside every grid", {"where": "map", "lon": "121.5", "lat": "31.2"}, "location", "outside every grid"),
    ("key too long", {"idempotency_key": "k" * 101}, "idempotency_key", "longer than 100 characters"),
]


@pytest.mark.parametrize("what, change, field, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_refused_beside_its_field_keeping_what_was_typed(resident_client, submit_form, what, change,
                                                                      field, message):
    resident_client.cookies["cg_language"] = "en"
    form = submit_form(description="Light broken on the 3rd floor")
    form.update(change)
    response = resident_client.post("/portal/new/", form)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'href="#f-{field}"' in body  # the summary links to the field, the message sits beside it
    if field in ("category", "description", "location"):
        assert f'id="err-{field}"' in body
    if change.get("description", "x").strip():
        assert (form["description"] if "description" not in change else change["description"])[:50] in body
    assert not Case.objects.exists()


def test_bad_input_messages_are_in_chinese_on_a_chinese_page(resident_client, submit_form):
    response = resident_client.post("/portal/new/", submit_form(description="", where="here"))
    assert response.status_code == 400
    assert "请" in response.content.decode() and "Your location" not in response.content.decode()


def test_attachments_are_checked_for_type_and_size(resident_client, submit_form, settings):
    resident_client.cookies["cg_language"] = "en"
    text = SimpleUploadedFile("notes.png", b"just text, not an image", content_type="image/png")
    response = resident_client.post("/portal/new/", {**submit_form(), "attachments": [text]})
    assert response.status_code == 400 and "is not a JPEG, PNG or WebP image" in response.content.decode()
    assert 'id="err-attachments"' in response.content.decode()
    settings.CASE_ATTACHMENT_MAX_BYTES = 1024
    response = resident_client.post("/portal/new/", {**submit_form(), "attachments": [png(extra=2048)]})
    assert response.status_code == 400 and "the limit is" in response.content.decode()
    response = resident_client.post("/portal/new/", {**submit_form(), "attachments": [png(f"p{i}.png") for i in range(10)]})
    assert response.status_code == 400 and "At most 9 attachments" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_a_nul_in_the_form_is_a_400(resident_client, submit_form):
    response = resident_client.post("/portal/new/", submit_form(description="灯\x00坏了"))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_resident_without_a_home_cannot_choose_at_home(client, people, submit_form):
    client.force_login(people.homeless)
    client.cookies["cg_language"] = "en"
    body = client.get("/portal/new/").content.decode()
    assert 'value="home" disabled' in body
    response = client.post("/portal/new/", submit_form())
    assert response.status_code == 400 and "registered household" in response.content.decode()
    assert client.post("/portal/new/", submit_form(where="map", **POINT)).status_code == 302


def test_an_expired_session_returns_to_sign_in_and_back_to_the_form(client, submit_form):
    response = client.post("/portal/new/", submit_form())
    assert response.status_code == 302 and response.url == "/portal/start/?next=/portal/new/"
    assert not Case.objects.exists()


@pytest.mark.parametrize("url", ["/portal/", "/portal/new/", "/portal/help/", "/portal/requests/"])
def test_staff_are_sent_to_their_own_start_page(client, people, url):
    client.force_login(people.staff)
    response = client.get(url)
    assert response.status_code == 403 and 'href="/"' in response.content.decode()


# ---------------------------------------------------------------- one-tap help

def test_one_tap_help_sends_an_urgent_case_home_with_the_emergency_contact(resident_client, people):
    resident_client.cookies["cg_language"] = "en"
    page = resident_client.get("/portal/help/").content.decode()
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    response = resident_client.post("/portal/help/", {"idempotency_key": key}, follow=True)
    case = Case.objects.get()
    assert case.channel == Channel.ONE_TAP and case.tier == Tier.URGENT and case.category.code == "elderly_help"
    assert case.grid == people.person.household.grid and case.reporter == people.resident
    assert case.caller_name == "王芳" and case.caller_phone.reveal() == "13912345678"
    assert "13912345678" not in response.content.decode()
    log = AccessLog.objects.get(actor=people.resident)
    assert log.fields == ["emergency_contact_phone"] and log.subject_id == people.person.pk
    body = response.content.decode()
    assert "Help is on the way." in body and "will come, at the latest today at" in body or "tomorrow at" in body
    assert case.assignee.role and "Grid worker" in body
    # Pressing twice calls once.
    resident_client.post("/portal/help/", {"idempotency_key": key})
    assert Case.objects.count() == 1


def test_one_tap_help_without_a_home_says_so_and_reveals_nothing(client, people):
    client.force_login(people.homeless)
    client.cookies["cg_language"] = "en"
    assert "not linked to a home yet" in client.get("/portal/help/").content.decode()
    response = client.post("/portal/help/", {"idempotency_key": "k"})
    assert response.status_code == 400 and "registered household" in response.content.decode()
    assert not Case.objects.exists() and not AccessLog.objects.exists()


# ---------------------------------------------------------------- my requests

def submit(user, **kwargs):
    args = {"channel": Channel.WEB, "category_code": "elderly_visit", "description": "请来看看", "at_home": True}
    args.update(kwargs)
    return services.case_submit(submitted_by=user, **args).case


def resolved(people):
    case = submit(people.resident)
    services.case_accept(case=case, actor=case.assignee)
    services.case_resolve(case=case, actor=case.assignee, note="已上门处理")
    return case


def test_my_requests_lists_only_mine_with_what_comes_next(resident_client, people):
    mine = submit(people.resident)
    theirs = submit(people.neighbour, at_home=False, lon=120.005, lat=30.005, description="邻居的事")
    resident_client.cookies["cg_language"] = "en"
    body = resident_client.get("/portal/requests/").content.decode()
    assert f"/portal/requests/{mine.pk}/" in body and f"/portal/requests/{theirs.pk}/" not in body
    assert "邻居的事" not in body and "We will reply" in body
    assert resident_client.get(f"/portal/requests/{theirs.pk}/").status_code == 404
    assert resident_client.get("/portal/requests/99999999/").status_code == 404


def test_elder_mode_shows_fewer_requests_per_screen(resident_client, people):
    for n in range(5):
        submit(people.resident, description=f"第{n}件事")
    assert resident_client.get("/portal/requests/").content.decode().count('class="card-title"') == 5
    resident_client.cookies["cg_elder"] = "1"
    body = resident_client.get("/portal/requests/").content.decode()
    assert body.count('class="card-title"') == 3 and "?page=2" in body


def test_the_detail_shows_status_timeline_and_staff_as_role_and_surname(resident_client, people):
    case = submit(people.resident)
    services.case_accept(case=case, actor=case.assignee)
    resident_client.cookies["cg_language"] = "en"
    body = resident_client.get(f"/portal/requests/{case.pk}/").content.decode()
    assert "Accepted" in body and "We will have it solved" in body
    assert "Submitted" in body and "Dispatched" in body
    assert case.assignee.username not in body


def test_confirming_and_rating_closes_the_request(resident_client, people):
    case = resolved(people)
    response = resident_client.post(f"/portal/requests/{case.pk}/",
                                    {"action": "rate", "solved": "yes", "rating": "5", "comment": "很好"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.rating == 5 and case.rating_comment == "很好"


def test_disputing_reopens_the_request(resident_client, people):
    case = resolved(people)
    resident_client.post(f"/portal/requests/{case.pk}/", {"action": "rate", "solved": "no", "rating": "2"})
    case.refresh_from_db()
    assert case.status == Status.REOPENED


@pytest.mark.parametrize("form, field, message", [
    ({"solved": "yes"}, "rating", "Choose a rating from 1 to 5"),
    ({"solved": "yes", "rating": "0"}, "rating", "Choose a rating from 1 to 5"),
    ({"solved": "yes", "rating": "6"}, "rating", "Choose a rating from 1 to 5"),
    ({"solved": "yes", "rating": "five"}, "rating", "Choose a rating from 1 to 5"),
    ({"rating": "4"}, "solved", "Tell us whether the problem is solved"),
    ({"solved": "maybe", "rating": "4"}, "solved", "Tell us whether the problem is solved"),
    ({"solved": "yes", "rating": "4", "comment": "x" * 2001}, "comment", "longer than 2000 characters"),
])
def test_a_bad_rating_is_refused_beside_its_field(resident_client, people, form, field, message):
    case = resolved(people)
    resident_client.cookies["cg_language"] = "en"
    response = resident_client.post(f"/portal/requests/{case.pk}/", {"action": "rate", **form})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and f'id="err-{field}"' in body
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.rating is None


def test_rating_a_request_that_is_not_resolved_is_a_conflict(resident_client, people):
    case = submit(people.resident)
    resident_client.cookies["cg_language"] = "en"
    assert "Is it solved?" not in resident_client.get(f"/portal/requests/{case.pk}/").content.decode()
    response = resident_client.post(f"/portal/requests/{case.pk}/", {"action": "rate", "solved": "yes", "rating": "5"})
    assert response.status_code == 409 and "cannot be" in response.content.decode()


def test_an_unknown_action_is_a_400(resident_client, people):
    case = submit(people.resident)
    response = resident_client.post(f"/portal/requests/{case.pk}/", {"action": "delete"})
    assert response.status_code == 400


def test_a_follow_up_visit_is_booked_as_a_new_request_naming_the_first(resident_client, people):
    case = resolved(people)
    resident_client.cookies["cg_language"] = "en"
    response = resident_client.post(f"/portal/requests/{case.pk}/", {"action": "follow_up", "follow_up_key": "f1"})
    assert response.status_code == 400 and "Say what the follow-up visit is for" in response.content.decode()
    response = resident_client.post(f"/portal/requests/{case.pk}/", {
        "action": "follow_up", "follow_up_key": "f1", "follow_up_note": "看看灯还亮不亮", "follow_up_when": "周六上午"})
    follow_up = Case.objects.exclude(pk=case.pk).get()
    assert response.url == f"/portal/requests/{follow_up.pk}/?submitted=1"
    assert f"#{case.pk}" in follow_up.description and "周六上午" in follow_up.description
    assert follow_up.category == case.category and follow_up.grid == case.grid
    resident_client.post(f"/portal/requests/{case.pk}/", {
        "action": "follow_up", "follow_up_key": "f1", "follow_up_note": "看看灯还亮不亮"})
    assert Case.objects.count() == 2


def test_deadlines_read_as_words():
    now = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai
    assert when_words(dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.timezone.utc), now) == "today at 14:30"
    assert when_words(dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.timezone.utc), now) == "tomorrow at 09:00"
    assert when_words(dt.datetime(2026, 3, 5, 1, 0, tzinfo=dt.timezone.utc), now).startswith("on ")
    assert when_words(None, now) == ""
