"""The demo's visit history is plausible record: in the workers' grids, never overlapping, and the
demo worker has home visits due."""
import pytest

from communitygrid.accounts.models import User
from communitygrid.core.demo.build import demo_city_build
from communitygrid.patrols.models import Visit
from communitygrid.patrols.selectors import care_todo

pytestmark = pytest.mark.django_db


def test_the_demo_worker_sees_visits_due_and_a_plausible_history():
    demo_city_build(scale=0.02)
    worker = User.objects.get(username="demo-worker")
    due = care_todo(user=worker)
    assert due and any(row.overdue for row in due)
    visits = list(Visit.objects.filter(worker=worker).order_by("started_at"))
    assert {v.kind for v in visits} == {Visit.Kind.PATROL, Visit.Kind.HOME}
    grids = set(worker.scope_nodes.values_list("pk", flat=True))
    assert all(v.grid_id in grids and v.ended_at > v.started_at for v in visits)
    assert all(a.ended_at <= b.started_at for a, b in zip(visits, visits[1:])), "a worker's visits overlap"
    assert all(v.flag == Visit.flag_for(v.started_at, v.ended_at) for v in visits)
    flagged = sum(1 for v in Visit.objects.all() if v.flag)
    assert 0 < flagged < Visit.objects.count() * 0.1
    home = [v for v in visits if v.kind == Visit.Kind.HOME]
    assert all(v.household.grid_id == v.grid_id for v in home)
    from communitygrid.patrols.models import VisitIssue
    from communitygrid.workbench.selectors import inbox

    assert inbox(user=worker), "the demo worker's inbox is empty"
    assert VisitIssue.objects.filter(visit__worker=worker).count() == 4
