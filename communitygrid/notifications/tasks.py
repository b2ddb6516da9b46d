"""Celery tasks of the outbox. Each is an idempotent function of database state: running it
twice, late, or never (the next run catches up) loses nothing."""
from __future__ import annotations

from dataclasses import asdict

from django.utils import timezone

from communitygrid.celery import app
from communitygrid.notifications.services import DeliveryReport, outbox_deliver_once

# A backlog is drained in several batches per run, but a run stays short so that beat's next
# tick (or another worker) shares the work.
MAX_BATCHES_PER_RUN = 10


@app.task(name="notifications.deliver_outbox", ignore_result=True)
def deliver_outbox(batch: int = 100) -> dict:
    total = DeliveryReport()
    for _ in range(MAX_BATCHES_PER_RUN):
        report = outbox_deliver_once(now=timezone.now(), batch=batch)
        for field, value in asdict(report).items():
            setattr(total, field, getattr(total, field) + value)
        if report.claimed < batch:
            break
    return asdict(total)


@app.task(name="notifications.collect_case_events", ignore_result=True)
def collect_case_events() -> int:
    """Queue webhook deliveries for new case events (idempotent: a re-read queues nothing twice)."""
    from communitygrid.notifications.webhooks import case_events_collect

    return case_events_collect(now=timezone.now())
