"""Two requests or two sweeps at the same moment, on real connections (threads)."""
import datetime as dt
import threading

import pytest
from django.db import connection, connections

from communitygrid.cases.models import Case, CaseEvent
from communitygrid.cases.sweep import sweep_once
from communitygrid.cases.tests.conftest import POINT

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(target, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = target()
        except Exception as exc:  # surfaced to the test below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def live_people(request, catalogue):
    if connection.vendor != "postgresql":
        # SQLite takes the write lock at BEGIN (IMMEDIATE), so writers never overlap there; and
        # its test flush deletes row by row, which the append-only triggers refuse.
        pytest.skip("concurrent writers are a PostgreSQL matter")
    return request.getfixturevalue("people")


def test_the_same_submission_twice_at_once_makes_one_case(live_people):
    from communitygrid.cases.services import case_submit

    def submit():
        return case_submit(submitted_by=live_people.resident, channel="app", category_code="elderly_visit",
                           description="concurrent", idempotency_key="same-key", **POINT).case.pk

    results = run_together(submit, n=4)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Case.objects.count() == 1


def test_two_sweeps_at_once_escalate_each_case_once(live_people):
    from communitygrid.cases.services import case_submit

    cases = [case_submit(submitted_by=live_people.resident, channel="web", category_code="elderly_visit",
                         description=f"case {i}", **POINT).case for i in range(20)]
    later = max(c.respond_by for c in cases) + dt.timedelta(seconds=1)
    results = run_together(lambda: sweep_once(later))
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.get("escalated", 0) for r in results) == 20
    assert CaseEvent.objects.filter(action="escalate").count() == 20
    assert set(Case.objects.values_list("escalation_level", flat=True)) == {1}
