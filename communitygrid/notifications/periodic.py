"""Periodic jobs of this app, as ``(callable, every_seconds)``.

Read by both runners: the demo's in-process scheduler calls each callable in its thread;
Celery beat (communitygrid/celery.py) schedules the same callables, which are Celery tasks,
on the workers. Each job is safe to run on two machines at once.
"""
from communitygrid.notifications import conf
from communitygrid.notifications.tasks import collect_case_events, deliver_outbox

PERIODIC = [
    (deliver_outbox, conf.get("NOTIFICATION_DELIVER_EVERY_SECONDS")),
    (collect_case_events, conf.get("NOTIFICATION_DELIVER_EVERY_SECONDS")),
]
