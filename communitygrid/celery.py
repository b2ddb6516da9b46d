"""Celery application for production (CG_TASKS=celery); the demo runs the same jobs in-process.

Workers: ``celery -A communitygrid worker``; schedule: ``celery -A communitygrid beat``.
The broker is settings.CELERY_BROKER_URL. Tasks are found in each app's ``tasks.py``. The beat
schedule is every app's ``periodic.PERIODIC`` list, the one the in-process scheduler
(communitygrid.core.scheduler) reads, so a periodic job is declared once for both runners.
"""
from __future__ import annotations

import os

from celery import Celery
from celery.app.task import Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
app = Celery("communitygrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="communitygrid.run_periodic", ignore_result=True)
def run_periodic(path: str) -> None:
    """Run a periodic job that is a plain function (``module.function``) on a worker."""
    from django.utils.module_loading import import_string

    import_string(path)()


def beat_entries() -> list[tuple[str, float, object]]:
    """``(name, seconds, signature)`` for every periodic job of every installed app."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from communitygrid.core.scheduler import periodic_jobs

    entries = []
    for job, seconds in periodic_jobs():
        if isinstance(job, Task):
            entries.append((job.name, float(seconds), job.s()))
        else:
            path = f"{job.__module__}.{job.__qualname__}"
            entries.append((path, float(seconds), run_periodic.s(path)))
    return entries


@app.on_after_finalize.connect
def _schedule_periodic_jobs(sender: Celery, **kwargs) -> None:
    for name, seconds, signature in beat_entries():
        # expires: if the workers were down, beat's backlog of identical runs is dropped
        # rather than run back to back; the next run does the same work.
        sender.add_periodic_task(seconds, signature, name=name, expires=seconds)
