"""The case list's tests share a department clerk's office: their department, another, and a way to
make a case in any state, grid and department."""
from __future__ import annotations

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Department, Role
from communitygrid.cases import services as case_services
from communitygrid.cases.models import Case, Status


@pytest.fixture
def office(city, users, client):
    clerk = users[Role.DEPARTMENT_STAFF]
    elsewhere = Department.objects.create(code="DEP-ELSE", name="住建局", kind=Department.Kind.HOUSING,
                                          jurisdiction=city.district)
    staff = users[Role.COMMUNITY_STAFF]

    def case(text, *, department=None, assignee=None, status=Status.ASSIGNED, category="env_sorting",
             created=None, grid=None, **submit) -> Case:
        made = case_services.case_submit(submitted_by=staff, channel="hotline", category_code=category,
                                         description=text, lon=120.005, lat=30.005, **submit).case
        changes = {"department": department, "assignee": assignee, "status": status, "grid": grid or made.grid}
        if status == Status.CLOSED:
            changes["closed_at"] = timezone.now()
        if created:
            changes["created_at"] = created
        Case.objects.filter(pk=made.pk).update(**changes)
        made.refresh_from_db()
        return made

    client.force_login(clerk)
    client.cookies["cg_language"] = "en"
    return {"clerk": clerk, "department": clerk.department, "elsewhere": elsewhere, "case": case, "client": client,
            "users": users, "city": city}
