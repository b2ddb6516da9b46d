"""Celery tasks (in-process in the demo): thin wrappers around idempotent functions of the database."""
from celery import shared_task

from communitygrid.insights.rollups import refresh_all


@shared_task(name="insights.refresh", ignore_result=True)
def refresh() -> dict:
    """Run every minute (beat schedule): follow the case record into the rollups, recompute the present."""
    return refresh_all()
