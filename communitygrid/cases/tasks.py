"""Celery tasks (in-process in the demo): thin wrappers around idempotent functions of the database."""
from celery import shared_task

from communitygrid.cases.services import case_notices_send
from communitygrid.cases.sweep import sweep_once


@shared_task(name="cases.sweep", ignore_result=True)
def sweep() -> dict:
    """Run every minute (beat schedule): warn, escalate, close by default, follow up."""
    return sweep_once()


@shared_task(name="cases.send_notices", ignore_result=True)
def send_notices() -> int:
    """Queue the sweep's pending notices in the notification outbox until none are left."""
    total = 0
    while sent := case_notices_send():
        total += sent
    return total
