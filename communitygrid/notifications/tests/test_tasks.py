import pytest
from django.core import mail

from communitygrid.celery import app, beat_entries, run_periodic
from communitygrid.core.scheduler import periodic_jobs
from communitygrid.notifications.models import Notification
from communitygrid.notifications.periodic import PERIODIC
from communitygrid.notifications.services import notification_enqueue
from communitygrid.notifications.tasks import deliver_outbox
from communitygrid.testing import make_user


@pytest.mark.django_db
def test_deliver_outbox_called_in_process_drains_the_backlog_in_batches():
    user = make_user("grid_worker")
    user.email = "wang@example.org"
    user.save()
    for n in range(5):
        notification_enqueue(recipient=user, kind="case.assigned", subject=f"Case {n}", body="")

    totals = deliver_outbox(batch=2)

    assert (totals["claimed"], totals["sent"]) == (5, 5)
    assert len(mail.outbox) == 5
    assert not Notification.objects.filter(status=Notification.Status.PENDING).exists()


@pytest.mark.django_db
def test_deliver_outbox_with_nothing_due_is_a_no_op():
    assert deliver_outbox()["claimed"] == 0


def test_delivery_is_a_periodic_job_for_the_in_process_scheduler():
    assert (deliver_outbox, 10) in PERIODIC
    assert (deliver_outbox, 10) in periodic_jobs()


def test_celery_beat_schedules_every_periodic_job_with_expiry():
    app.finalize()
    entry = app.conf.beat_schedule["notifications.deliver_outbox"]

    assert entry["task"] == "notifications.deliver_outbox"
    assert entry["schedule"] == 10.0
    assert entry["options"]["expires"] == 10.0


def test_the_deliver_task_is_registered_under_its_stable_name():
    assert app.tasks["notifications.deliver_outbox"].name == deliver_outbox.name


def test_a_plain_function_job_runs_on_workers_through_run_periodic(monkeypatch):
    from communitygrid.notifications import tasks

    def sweep():
        sweep.runs += 1

    sweep.runs = 0
    sweep.__module__, sweep.__qualname__ = "communitygrid.notifications.tasks", "sweep"
    monkeypatch.setattr(tasks, "sweep", sweep, raising=False)
    monkeypatch.setattr(
        "communitygrid.core.scheduler.periodic_jobs", lambda: [(deliver_outbox, 10), (sweep, 60)]
    )

    entries = {name: (seconds, signature) for name, seconds, signature in beat_entries()}

    assert entries["notifications.deliver_outbox"][0] == 10.0
    seconds, signature = entries["communitygrid.notifications.tasks.sweep"]
    assert (seconds, signature.task) == (60.0, "communitygrid.run_periodic")
    run_periodic(*signature.args)
    assert sweep.runs == 1
