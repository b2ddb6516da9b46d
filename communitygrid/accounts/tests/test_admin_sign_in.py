import pytest
from django.urls import reverse

from communitygrid.accounts.models import Role
from communitygrid.testing import make_user


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.ADMIN])
def test_back_office_roles_sign_in_on_the_admin_page(client, role):
    make_user(role, username=f"bo-{role}")
    response = client.post(reverse("admin:login"), {"username": f"bo-{role}", "password": "pw-for-tests-only",
                                                    "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.LEADER])
def test_other_roles_are_refused_on_the_admin_sign_in_page(client, role):
    make_user(role, username=f"x-{role}")
    response = client.post(reverse("admin:login"), {"username": f"x-{role}", "password": "pw-for-tests-only"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
