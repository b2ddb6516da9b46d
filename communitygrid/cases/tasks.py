"""Celery tasks (in-process in the demo): thin wrappers around idempotent functions of the database."""
from celery import shared_task

from communitygrid.cases.sweep import sweep_once


@shared_task(name="cases.sweep", ignore_result=True)
def sweep() -> dict:
    """Run every minute (beat schedule): warn, escalate, close by default, follow up."""
    return sweep_once()
