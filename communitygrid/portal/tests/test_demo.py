"""The demo resident's My requests tells a story: requests at several steps of their handling."""
import pytest

from communitygrid.accounts.models import ResidentPhone, User
from communitygrid.cases.models import Status
from communitygrid.core.demo.build import RESIDENT_REQUESTS, demo_city_build

pytestmark = pytest.mark.django_db


def test_the_demo_resident_has_requests_at_every_step(client):
    demo_city_build(scale=0.02)
    resident = User.objects.get(username="demo-resident")
    client.force_login(resident)
    client.cookies["cg_language"] = "en"
    body = client.get("/portal/requests/").content.decode()
    for _code, description, _state in RESIDENT_REQUESTS:
        assert description[:20] in body
    statuses = set(resident.reported_cases.values_list("status", flat=True))
    assert {Status.CLOSED, Status.RESOLVED} <= statuses and len(statuses) >= 3
    assert "Is it solved?" in client.get(
        f"/portal/requests/{resident.reported_cases.get(status=Status.RESOLVED).pk}/").content.decode()
    # The resident may also sign in with the phone number on their record.
    assert ResidentPhone.objects.get(user=resident).phone_bidx == resident.person.phone_bidx
