"""Visit pages through real HTTP: start/end buttons, the to-do list, issues, bad input, scope."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from communitygrid.cases.models import Case, Channel
from communitygrid.patrols import services
from communitygrid.patrols.models import Visit, VisitIssue

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def logged(grid_people, client):
    client.force_login(grid_people.worker)
    return client


def test_index_shows_the_todo_overdue_first_with_a_start_button(grid_people, logged):
    body = logged.get("/patrols/").content.decode()
    assert str(grid_people.elder) in body and str(grid_people.far) not in body
    assert f'name="household" value="{grid_people.household.pk}"' in body
    assert grid_people.elder.name not in body  # masked in lists


def test_start_ignores_any_time_the_client_sends(grid_people, logged):
    with time_machine.travel(T0, tick=False):
        response = logged.post("/patrols/start", {"kind": "home", "household": grid_people.household.pk,
                                                  "started_at": "2020-01-01T00:00:00Z"})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.started_at == T0 and response["Location"] == f"/patrols/visits/{visit.pk}/"


def test_a_whole_home_visit_by_buttons(grid_people, logged):
    p = grid_people
    with time_machine.travel(T0, tick=False):
        logged.post("/patrols/start", {"kind": "home", "household": p.household.pk})
    visit = Visit.objects.get()
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        page = logged.get(f"/patrols/visits/{visit.pk}/").content.decode()
        assert f'value="{p.elder.pk}"' in page
        response = logged.post(f"/patrols/visits/{visit.pk}/issue", {
            "category": "repair_leak", "description": "厨房漏水", "token": "t-1",
            "attachments": [SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="image/png")]})
        assert response.status_code == 302
        # A double tap on the same form: harmless.
        assert logged.post(f"/patrols/visits/{visit.pk}/issue", {
            "category": "repair_leak", "description": "厨房漏水", "token": "t-1"}).status_code == 302
    assert Case.objects.filter(channel=Channel.DISCOVERY).count() == 1 and VisitIssue.objects.get().visit == visit
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        response = logged.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "all_well", "people": [p.elder.pk],
                                                                   "notes": "身体不错", "ended_at": "2026-03-02T02:00:00Z"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.ended_at == T0 + dt.timedelta(minutes=30) and visit.minutes == 30 and not visit.flag
    with time_machine.travel(T0 + dt.timedelta(minutes=31), tick=False):
        body = logged.get("/patrols/").content.decode()
    assert f'name="household" value="{p.household.pk}"' not in body  # seen: not due any more


def test_a_three_minute_visit_is_flagged_on_screen(grid_people, logged):
    p = grid_people
    with time_machine.travel(T0, tick=False):
        logged.post("/patrols/start", {"kind": "home", "household": p.household.pk})
    visit = Visit.objects.get()
    with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
        response = logged.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "all_well", "people": [p.elder.pk]},
                               follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Shorter than the minimum visit" in response.content.decode()


def test_starting_a_second_visit_is_a_409_naming_the_open_one(grid_people, logged):
    logged.post("/patrols/start", {"kind": "patrol"})
    response = logged.post("/patrols/start", {"kind": "home", "household": grid_people.household.pk},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "already have a visit under way" in response.content.decode()
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("data,text", [
    ({"kind": "stroll"}, "Choose a patrol or a home visit"),
    ({"kind": "home"}, "Household"),
    ({"kind": "home", "household": "abc"}, "not a valid choice"),
    ({"kind": "home", "household": "99999999"}, "outside your area"),
    ({"kind": "patrol", "grid": "xyz"}, "not a valid choice"),
])
def test_bad_start_input_is_a_400_and_starts_nothing(grid_people, logged, data, text):
    response = logged.post("/patrols/start", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and text in response.content.decode()
    assert not Visit.objects.exists()


def test_out_of_scope_household_and_grid_are_refused(grid_people, logged):
    p = grid_people
    assert logged.post("/patrols/start", {"kind": "home", "household": p.far_household.pk}).status_code == 400
    assert logged.post("/patrols/start", {"kind": "patrol", "grid": p.city.grids[7].pk}).status_code == 400
    assert not Visit.objects.exists()


@pytest.mark.parametrize("data,field_text", [
    ({}, "Outcome: choose how the visit went"),
    ({"outcome": "great"}, "Outcome: choose one of the listed outcomes"),
    ({"outcome": "all_well", "people": ["abc"]}, "is not a person"),
    ({"outcome": "all_well", "notes": "x" * 2001}, "2000"),
    ({"outcome": "nobody_home", "people": ["PERSON"]}, "Nobody was at home"),
    ({"outcome": "all_well", "people": ["FAR"]}, "Not found in your area"),
])
def test_bad_end_input_is_a_400_and_the_visit_stays_open(grid_people, logged, data, field_text):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    replace = {"PERSON": str(p.elder.pk), "FAR": str(p.far.pk)}
    if "people" in data:
        data = {**data, "people": [replace.get(v, v) for v in data["people"]]}
    response = logged.post(f"/patrols/visits/{visit.pk}/end", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field_text in response.content.decode() and 'class="field-error"' in response.content.decode()
    visit.refresh_from_db()
    assert visit.is_open
    if "FAR" in str(data) or str(p.far.pk) in str(data):
        assert str(p.far) not in response.content.decode()


def test_ending_an_ended_visit_is_a_409(grid_people, logged):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    assert logged.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "all_well"}).status_code == 302
    assert logged.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "follow_up"}).status_code == 409
    visit.refresh_from_db()
    assert visit.outcome == "all_well"


@pytest.mark.parametrize("data,text", [
    ({"description": "x"}, "Category: choose what kind of issue it is"),
    ({"category": "nonsense", "description": "x"}, "Category: choose one from the list"),
    ({"category": "repair_leak", "description": "   ", "building": "IN"}, "What did you find: describe the issue"),
    ({"category": "repair_leak", "description": "", "building": "IN"}, "What did you find: describe the issue"),
    ({"category": "repair_leak", "description": "x"}, "Choose the building where the issue is"),
    ({"category": "repair_leak", "description": "x", "building": "FAR"}, "outside the patrolled grid"),
    ({"category": "repair_leak", "description": "x", "building": "abc"}, "Building: choose one from the list"),
])
def test_bad_issue_input_on_a_patrol_is_a_400_and_makes_no_case(grid_people, logged, data, text):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    buildings = {"FAR": p.far_household.room.unit.building_id, "IN": p.household.room.unit.building_id}
    if data.get("building") in buildings:
        data = {**data, "building": buildings[data["building"]]}
    response = logged.post(f"/patrols/visits/{visit.pk}/issue", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and text in response.content.decode()
    assert not Case.objects.exists()


def test_a_bad_photo_is_shown_beside_the_photo_input(grid_people, logged):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.HOME, household=p.household)
    response = logged.post(f"/patrols/visits/{visit.pk}/issue", {
        "category": "repair_leak", "description": "x",
        "attachments": [SimpleUploadedFile("a.exe", b"MZ\x90\x00", content_type="image/png")]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "is not a JPEG" in response.content.decode()
    assert not Case.objects.exists()


def test_visits_out_of_scope_are_not_found(grid_people, client):
    p = grid_people
    visit = services.visit_start(actor=p.outsider, kind=Visit.Kind.PATROL)
    client.force_login(p.worker)
    assert client.get(f"/patrols/visits/{visit.pk}/").status_code == 404
    assert client.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "all_well"}).status_code == 404
    assert client.post(f"/patrols/visits/{visit.pk}/issue", {"category": "repair_leak", "description": "x"}).status_code == 404
    visit.refresh_from_db()
    assert visit.is_open and not Case.objects.exists()


def test_a_colleague_sees_my_visit_but_cannot_end_it(grid_people, client):
    p = grid_people
    visit = services.visit_start(actor=p.worker, kind=Visit.Kind.PATROL)
    client.force_login(p.worker2)
    page = client.get(f"/patrols/visits/{visit.pk}/")
    assert page.status_code == 200 and "/end" not in page.content.decode()
    assert client.post(f"/patrols/visits/{visit.pk}/end", {"outcome": "all_well"}).status_code == 403
    assert client.post(f"/patrols/visits/{visit.pk}/issue", {"category": "repair_leak", "description": "x",
                                                             "building": p.household.room.unit.building_id}).status_code == 403
    visit.refresh_from_db()
    assert visit.is_open and not Case.objects.exists()
