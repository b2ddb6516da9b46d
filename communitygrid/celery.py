"""Celery application for production (CG_TASKS=celery); the demo runs the same tasks in-process."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
app = Celery("communitygrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
