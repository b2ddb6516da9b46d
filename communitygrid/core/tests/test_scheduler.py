"""The in-process scheduler: due jobs run, a failing job does not stop the others, stop is prompt."""
import time

import pytest

from communitygrid.core.scheduler import Scheduler, job_name, periodic_jobs


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_each_job_runs_at_start_and_then_every_period(db):
    clock, calls = Clock(), []
    scheduler = Scheduler([(lambda: calls.append("a"), 10), (lambda: calls.append("b"), 30)], clock=clock)
    scheduler.run_due()
    assert calls == ["a", "b"]
    clock.now += 10
    scheduler.run_due()
    assert calls == ["a", "b", "a"]
    clock.now += 20
    scheduler.run_due()
    assert calls == ["a", "b", "a", "a", "b"]


def test_a_late_tick_runs_a_job_once_not_once_per_missed_period(db):
    clock, calls = Clock(), []
    scheduler = Scheduler([(lambda: calls.append(1), 5)], clock=clock)
    scheduler.run_due()
    clock.now += 60
    scheduler.run_due()
    scheduler.run_due()
    assert len(calls) == 2
    assert scheduler.seconds_to_next() == pytest.approx(5)


def test_a_failing_job_is_logged_and_the_others_still_run(db, caplog):
    calls = []

    def broken():
        raise RuntimeError("boom")

    scheduler = Scheduler([(broken, 10), (lambda: calls.append("ok"), 10)], clock=Clock())
    assert scheduler.run_due() == [job_name(broken), job_name(scheduler.entries[1].job)]
    assert calls == ["ok"]
    assert "boom" in caplog.text


def test_a_period_must_be_positive():
    with pytest.raises(ValueError, match="period must be positive"):
        Scheduler([(lambda: None, 0)])


def test_the_thread_runs_jobs_and_stops_promptly(db):
    calls = []
    scheduler = Scheduler([(lambda: calls.append(1), 3600)])
    scheduler.start()
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    scheduler.stop()
    assert calls == [1]
    assert time.monotonic() - started < 2
    assert not scheduler._thread.is_alive()


def test_jobs_are_discovered_from_each_app_s_periodic_module():
    from communitygrid.notifications.periodic import PERIODIC

    jobs = periodic_jobs()
    for job in PERIODIC:
        assert job in jobs
