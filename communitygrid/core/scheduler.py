"""The in-process runner of periodic jobs, for the demo and the embedded default (CG_TASKS=inprocess).

An app declares its jobs once, in ``<app>/periodic.py``::

    PERIODIC = [(deliver_outbox, 30)]   # (callable, every N seconds)

Production runs the same list under Celery beat; here a daemon thread calls each job when it
is due. Jobs are idempotent functions of database state, so a missed or doubled run is harmless,
and one job's failure is logged without stopping the others.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from django.apps import apps
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)


def periodic_jobs() -> list[tuple[Callable[[], object], float]]:
    """Every ``(callable, seconds)`` in the ``periodic`` module of an installed app."""
    jobs: list[tuple[Callable[[], object], float]] = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.periodic"
        if importlib.util.find_spec(module_name) is not None:
            jobs.extend(importlib.import_module(module_name).PERIODIC)
    return jobs


def job_name(job: Callable[[], object]) -> str:
    return getattr(job, "name", None) or getattr(job, "__qualname__", repr(job))


@dataclass
class _Entry:
    job: Callable[[], object]
    every: float
    due_at: float


class Scheduler:
    """Runs each job every ``seconds``, first at start. ``run_due`` is one tick, callable in tests."""

    def __init__(self, jobs: Iterable[tuple[Callable[[], object], float]], *,
                 clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        start = clock()
        self.entries = []
        for job, seconds in jobs:
            if seconds <= 0:
                raise ValueError(f"{job_name(job)}: period must be positive, not {seconds}")
            self.entries.append(_Entry(job, float(seconds), start))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[str]:
        """Run every job that is due now; return their names."""
        ran = []
        for entry in self.entries:
            now = self.clock()
            if entry.due_at > now:
                continue
            # The next run counts from now, not from the missed slot: no burst of catch-up runs.
            entry.due_at = now + entry.every
            ran.append(job_name(entry.job))
            try:
                entry.job()
            except Exception:  # one failing job must not stop the others or the server
                logger.exception("periodic job %s failed", job_name(entry.job))
            finally:
                close_old_connections()
        return ran

    def seconds_to_next(self) -> float:
        if not self.entries:
            return 60.0
        return max(0.0, min(entry.due_at for entry in self.entries) - self.clock())

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self.run_due()
                self._stop.wait(self.seconds_to_next())
        finally:
            connections.close_all()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="communitygrid-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
