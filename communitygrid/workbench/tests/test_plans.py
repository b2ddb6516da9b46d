"""The inbox reads open cases through the partial indexes, even under a generic plan.

See communitygrid/cases/tests/test_plans.py for why (a prepared statement's generic plan).
"""
from __future__ import annotations

from communitygrid.accounts.models import Role
from communitygrid.workbench import selectors
from communitygrid.testing import reads_open_cases_by_index


def test_a_workers_inbox_reads_open_cases_through_a_partial_index(generic_plan_of, users):
    plan = generic_plan_of(lambda: selectors.inbox(user=users[Role.GRID_WORKER]), r'FROM "cases_case"')
    assert reads_open_cases_by_index(plan), plan


def test_the_inbox_count_reads_open_cases_through_a_partial_index(generic_plan_of, users):
    plan = generic_plan_of(lambda: selectors.inbox_count(user=users[Role.GRID_WORKER]), r"COUNT")
    assert reads_open_cases_by_index(plan), plan
