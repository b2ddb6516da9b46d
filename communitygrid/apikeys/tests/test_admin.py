"""The back-office: create a key (shown once), revoke it; the command line does the same."""
import io

import pytest
from django.core.management import CommandError, call_command

from communitygrid.accounts.models import Role
from communitygrid.apikeys import services
from communitygrid.apikeys.models import ApiKey, Scope


def test_an_administrator_creates_a_key_and_sees_it_once(client, city, users, organisation):
    client.force_login(users[Role.ADMIN])
    response = client.post("/admin/apikeys/apikey/add/", {
        "organisation": organisation.pk, "name": "12345 热线", "scopes": [Scope.CASES_READ, Scope.OPEN311],
        "nodes": [city.streets[0].pk], "rate_limit": 30,
    }, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for m in shown for word in m.split() if word.startswith("cg_"))
    assert services.apikey_authenticate(raw) == key
    assert key.scopes == [Scope.CASES_READ, Scope.OPEN311] and key.rate_limit == 30
    page = client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
    assert raw not in page and key.prefix in page


def test_the_add_form_names_bad_fields_and_writes_nothing(client, city, users, organisation):
    client.force_login(users[Role.ADMIN])
    response = client.post("/admin/apikeys/apikey/add/", {
        "organisation": organisation.pk, "name": "x", "scopes": [Scope.CASES_READ],
        "nodes": [city.streets[0].pk, city.grids[0].pk], "rate_limit": 30,
    })
    assert response.status_code == 200
    assert "nodes" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_revoking_from_the_list(client, city, users, make_key):
    new = make_key([city.streets[0]])
    client.force_login(users[Role.ADMIN])
    client.post("/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [new.key.pk]}, follow=True)
    new.key.refresh_from_db()
    assert new.key.is_revoked and new.key.revoked_by == users[Role.ADMIN]


def test_street_staff_cannot_open_the_key_pages(client, users):
    client.force_login(users[Role.STREET_STAFF])
    assert client.get("/admin/apikeys/apikey/").status_code == 403


def test_the_command_prints_a_working_key(city, organisation):
    out = io.StringIO()
    call_command("create_api_key", organisation="city-hotline", name="cli", scopes=["open311"],
                 nodes=[city.streets[0].code], rate_limit=5, stdout=out)
    raw = out.getvalue().strip()
    key = services.apikey_authenticate(raw)
    assert key.scopes == ["open311"] and key.rate_limit == 5


def test_the_command_refuses_unknown_nodes(db):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("create_api_key", organisation="x", name="cli", scopes=["open311"], nodes=["NOPE"])


def test_the_usage_log_is_read_only(client, users):
    client.force_login(users[Role.ADMIN])
    assert client.get("/admin/apikeys/apikeyuse/").status_code == 200
    assert client.get("/admin/apikeys/apikeyuse/add/").status_code == 403
