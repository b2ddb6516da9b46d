"""A varied case history for the insights tests, written straight into the case table.

The history covers every outcome a figure counts (on time and late, resolved, closed by
default, reopened, escalated to each level, rated, withdrawn, still open and overdue) over
ten weeks that cross month ends, in grids of two communities of two streets.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from communitygrid.accounts.models import Role
from communitygrid.cases.models import Case, Category, Status, Tier, Verdict
from communitygrid.cases.tests.conftest import catalogue  # noqa: F401  (the standard categories, for browser tests)

NOW = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.timezone.utc)


def history_build(city, *, count: int = 300, seed: int = 3, now: dt.datetime = NOW, users=None) -> list[Case]:
    rng = random.Random(seed)
    categories = list(Category.objects.filter(parent__isnull=False)[:6])
    workers = [u for u in (users or {}).values() if getattr(u, "role", None) == Role.GRID_WORKER]
    cases = []
    for _ in range(count):
        grid = rng.choice(city.grids)
        created = now - dt.timedelta(minutes=rng.randint(1, 70 * 24 * 60), seconds=rng.random() * 60)
        tier = rng.choice([Tier.URGENT, Tier.GENERAL, Tier.COMPLEX])
        respond_by = created + dt.timedelta(minutes=rng.choice([30, 24 * 60, 3 * 24 * 60]))
        resolve_by = created + dt.timedelta(days=rng.choice([1, 3, 7]))
        case = Case(category=rng.choice(categories), tier=tier, description="x", channel="web", grid=grid,
                    lon=120.001 + rng.random() * 0.038, lat=30.001 + rng.random() * 0.038,
                    created_at=created, updated_at=created, respond_by=respond_by, resolve_by=resolve_by,
                    escalation_level=rng.choice([0, 0, 0, 1, 1, 2, 3]), assignee=rng.choice(workers) if workers else None)
        outcome = rng.random()
        accepted = created + dt.timedelta(minutes=rng.choice([5, 20, 45, 200, 2000, 6000]), seconds=rng.random() * 60)
        resolved = accepted + dt.timedelta(minutes=rng.choice([30, 300, 1500, 5000, 50000]), seconds=rng.random() * 60)
        if outcome < 0.1:
            case.status = rng.choice([Status.REJECTED, Status.CANCELLED, Status.MERGED])
        elif outcome < 0.3 or accepted > now:
            case.status = rng.choice([Status.SUBMITTED, Status.ASSIGNED, Status.REOPENED])
            case.reopen_count = 1 if case.status == Status.REOPENED else 0
        elif outcome < 0.45 or resolved > now:
            case.status, case.accepted_at = rng.choice([Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING_RESIDENT]), accepted
        else:
            case.accepted_at, case.resolved_at = accepted, resolved
            if rng.random() < 0.3:
                case.status = Status.RESOLVED
            else:
                case.status, case.closed_at = Status.CLOSED, resolved + dt.timedelta(days=1)
                case.verdict = rng.choice([Verdict.CONFIRMED, Verdict.DEFAULT])
                case.rating = rng.randint(1, 5) if case.verdict == Verdict.CONFIRMED else None
            case.reopen_count = rng.choice([0, 0, 0, 1, 2])
        cases.append(case)
    return Case.objects.bulk_create(cases)


@pytest.fixture
def history(city, users):
    return history_build(city, users=users)


@pytest.fixture
def now():
    return NOW
