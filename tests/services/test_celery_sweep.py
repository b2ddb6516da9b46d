"""A real Celery worker on the real Redis runs the deadline sweep against the test database."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine

from communitygrid.cases.models import Case
from communitygrid.cases.services import case_submit
from communitygrid.cases.tasks import sweep
from communitygrid.cases.tests.conftest import catalogue  # noqa: F401 (fixture)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90


def test_worker_escalates_an_urgent_case_past_its_30_minute_deadline(catalogue, users, city, worker):  # noqa: F811
    from communitygrid.accounts.models import Role

    process, log = worker
    # Submitted 45 minutes ago: an urgent case (someone fainted) had 30 minutes to be accepted.
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=45), tick=False):
        case = case_submit(submitted_by=users[Role.RESIDENT], channel="web", category_code="elderly_visit",
                           description="老人晕倒了", lon=120.005, lat=30.005).case
    assert case.tier == "urgent" and case.escalation_level == 0

    sweep.delay()

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        case.refresh_from_db()
        if case.escalation_level:
            break
        time.sleep(0.5)
    output = log.read_text(errors="replace")
    assert process.poll() is None, f"the worker exited with {process.returncode}:\n{output}"
    assert case.escalation_level == 1, f"not escalated within {WAIT_SECONDS} s; worker log:\n{output}"
    assert case.events.filter(action="escalate").count() == 1
    assert "Task cases.sweep[" in output and "received" in output
    assert Case.objects.count() == 1
