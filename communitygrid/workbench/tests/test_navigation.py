"""The workbench offers only what the user may open: no link that answers 403 (found walking the demo)."""
import pytest
from django.urls import reverse

from communitygrid.accounts.models import Role

pytestmark = pytest.mark.django_db
PATROLS = reverse("patrols:index")


def _get(client, user, url, language="en"):
    client.force_login(user)
    client.cookies["cg_language"] = language
    return client.get(url)


@pytest.mark.parametrize("url", [reverse("core:home"), reverse("workbench:inbox"), reverse("workbench:area")])
def test_read_only_district_staff_get_no_patrol_link_they_could_not_open(client, users, url):
    district = users[Role.DISTRICT_STAFF]
    page = _get(client, district, url)
    assert page.status_code == 200
    assert f'href="{PATROLS}"' not in page.content.decode()
    assert _get(client, district, PATROLS).status_code == 403


@pytest.mark.parametrize("url", [reverse("core:home"), reverse("workbench:inbox"), reverse("workbench:area")])
def test_a_grid_worker_still_gets_the_patrol_link_and_it_opens(client, users, url):
    worker = users[Role.GRID_WORKER]
    assert f'href="{PATROLS}"' in _get(client, worker, url).content.decode()
    assert _get(client, worker, PATROLS).status_code == 200


def test_district_staff_s_inbox_does_not_promise_home_visits(client, users):
    page = _get(client, users[Role.DISTRICT_STAFF], reverse("workbench:inbox")).content.decode()
    assert "Home visits due" not in page and "No home visit is due" not in page
