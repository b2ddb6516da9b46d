"""Celery application for production (CG_TASKS=celery); the demo runs the same tasks in-process.

Workers: ``celery -A communitygrid worker``; schedule: ``celery -A communitygrid beat``.
The broker is settings.CELERY_BROKER_URL. Tasks are found in each app's ``tasks.py``; the
beat schedule is every app's ``periodic.PERIODIC`` list (the one the in-process scheduler
reads too), so a periodic job is declared once for both runners.
"""
from __future__ import annotations

import importlib
import importlib.util
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
app = Celery("communitygrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def periodic_jobs() -> list[tuple[object, float]]:
    """Every ``(callable, seconds)`` in the ``periodic`` module of an installed app."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    jobs = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.periodic"
        if importlib.util.find_spec(module_name) is not None:
            jobs.extend(importlib.import_module(module_name).PERIODIC)
    return jobs


@app.on_after_finalize.connect
def _schedule_periodic_jobs(sender: Celery, **kwargs) -> None:
    for job, seconds in periodic_jobs():
        # expires: if the workers were down, beat's backlog of identical runs is dropped
        # rather than run back to back; the next run does the same work.
        sender.add_periodic_task(float(seconds), job.s(), name=job.name, expires=float(seconds))
