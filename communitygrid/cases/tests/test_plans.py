"""The hot reads of cases keep their partial indexes under a prepared statement's generic plan.

The servers prepare a statement on its 5th use; PostgreSQL may then plan it without the
parameters' values, and a partial index whose predicate names a value the query passes as a
parameter is out of reach (communitygrid.core.sql). Each test runs the production code, takes
the statement it sends and asks for its generic plan.
"""
from __future__ import annotations

from collections import Counter

from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.cases import dispatch, sweep
from communitygrid.cases.models import Category
from communitygrid.testing import reads_open_cases_by_index


def test_the_sweep_reads_due_cases_through_their_partial_index(generic_plan_of):
    plan = generic_plan_of(lambda: list(sweep._due(timezone.now(), set())[:10]), r'FROM "cases_case"')
    assert "case_next_check_due" in plan, plan


def test_the_sweep_reads_overdue_tasks_through_their_partial_index(generic_plan_of):
    plan = generic_plan_of(lambda: sweep._report_overdue_tasks(timezone.now(), Counter()), r'FROM "cases_casetask"')
    assert "casetask_overdue_due" in plan, plan


def test_routing_counts_open_cases_through_a_partial_index(generic_plan_of, city):
    category = Category.objects.filter(parent__isnull=False).first()
    plan = generic_plan_of(lambda: dispatch.candidates(role=Role.GRID_WORKER, grid=city.grids[0], category=category,
                                                       lon=None, lat=None, now=timezone.now()), r"open_cases")
    assert reads_open_cases_by_index(plan), plan
