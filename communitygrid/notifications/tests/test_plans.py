"""Delivery and the inbox read through their partial indexes, even under a generic plan.

See communitygrid/cases/tests/test_plans.py for why (a prepared statement's generic plan).
"""
from __future__ import annotations

from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.notifications import selectors, services


def test_delivery_claims_due_rows_through_the_pending_index(generic_plan_of):
    plan = generic_plan_of(lambda: services._claim(now=timezone.now(), batch=10, lease_seconds=60),
                           r"^SELECT .*FOR UPDATE")
    assert "notif_due_idx" in plan, plan


def test_the_unread_count_reads_the_in_app_index(generic_plan_of, users):
    plan = generic_plan_of(lambda: selectors.unread_count(user=users[Role.GRID_WORKER]), r"COUNT")
    assert "notif_inbox_idx" in plan, plan
