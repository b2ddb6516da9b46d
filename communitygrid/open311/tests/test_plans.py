"""Open requests of a service are read through the partial index, even under a generic plan.

See communitygrid/cases/tests/test_plans.py for why (a prepared statement's generic plan).
"""
from __future__ import annotations

from communitygrid.accounts.models import Role
from communitygrid.cases.models import Category
from communitygrid.open311.selectors import RequestQuery, requests_page
from communitygrid.testing import reads_open_cases_by_index


def test_open_requests_of_a_service_are_read_through_a_partial_index(generic_plan_of, city):
    code = Category.objects.filter(parent__isnull=False).values_list("code", flat=True).first()
    query = RequestQuery(service_codes=[code], statuses={"open"})
    plan = generic_plan_of(lambda: requests_page(key=None, query=query), r'FROM "cases_case"')
    assert reads_open_cases_by_index(plan), plan


def test_a_post_looks_for_its_earlier_self_through_the_idempotency_index(generic_plan_of, o311, client):
    from communitygrid.open311.tests.test_endpoints import post

    def send():
        post(client, o311.key, headers={"Idempotency-Key": "k-1"}, service_code="elderly_visit",
             lat=o311.point["lat"], long=o311.point["lon"], description="楼下井盖松了")

    plan = generic_plan_of(send, r'"idempotency_key" IN')
    assert "case_idempotency_key_unique" in plan, plan


def test_a_replayed_submission_finds_its_case_through_the_idempotency_index(generic_plan_of, users):
    from communitygrid.cases.services import _existing

    plan = generic_plan_of(lambda: _existing(users[Role.RESIDENT], "app", "key-1"), r'"idempotency_key" =')
    assert "case_idempotency_key_unique" in plan, plan
