import pytest

from communitygrid.cases.models import Status
from communitygrid.cases.tests.test_states import make_case


def test_the_back_office_lists_only_cases_in_scope(client, people):
    mine = make_case(people, Status.ASSIGNED)
    elsewhere = make_case(people, Status.ASSIGNED, grid=people.city.grids[7])
    client.force_login(people.community)
    listing = client.get("/admin/cases/case/")
    assert listing.status_code == 200
    assert f"/admin/cases/case/{mine.pk}/change/" in listing.content.decode()
    assert f"/admin/cases/case/{elsewhere.pk}/change/" not in listing.content.decode()
    assert client.get(f"/admin/cases/case/{elsewhere.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/cases/case/{mine.pk}/change/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/cases/case/", "/admin/cases/category/", "/admin/cases/calendaroverride/add/"])
def test_superusers_see_the_case_admin(client, people, path, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    client.force_login(superuser)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/admin/cases/category/", "/admin/cases/calendaroverride/add/"])
def test_system_administrators_edit_the_catalogue_and_calendar_and_area_staff_do_not(client, people, path):
    client.force_login(people.admin)
    assert not people.admin.is_superuser
    assert client.get(path).status_code == 200
    client.force_login(people.community)
    assert client.get(path).status_code == 403
