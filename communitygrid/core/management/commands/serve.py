"""``communitygrid serve``: the production web server (Granian, several worker processes).

Why Granian and not waitress (the demo's) or gunicorn: docs/decisions/0005-intake-server-and-hot-path.md.
Migrations and static files are deployment steps of their own (``communitygrid migrate``,
``communitygrid collectstatic``); this command only serves. With ``CG_TASKS=inprocess`` it
also runs the periodic jobs (sweep, notification fan-out, outbox) in its main process, once
for all workers; with Celery, beat and the workers do that instead.
"""
from __future__ import annotations

import multiprocessing
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

WSGI_TARGET = "communitygrid.wsgi:application"


def default_workers() -> int:
    # A request spends much of its time waiting for the database: two processes per core
    # keep the cores busy while the others wait (measured, docs/benchmarks.md).
    return 2 * (os.cpu_count() or 1)


class Command(BaseCommand):
    help = "Serve the platform with Granian (production web server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="worker processes (default: 2 per core)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="do not run the periodic jobs here even with CG_TASKS=inprocess")

    def handle(self, *args, host: str, port: int, workers: int, threads: int, no_periodic: bool, **options):
        from granian import Granian
        from granian.constants import Interfaces

        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        # Fresh interpreters for the workers: nothing of this process (its database connections,
        # the scheduler thread) is copied into them by a fork.
        multiprocessing.set_start_method("spawn", force=True)
        connections.close_all()
        server = Granian(WSGI_TARGET, address=host, port=port, interface=Interfaces.WSGI, workers=workers,
                         blocking_threads=threads, websockets=False, backlog=2048)
        scheduler = None
        if settings.TASKS_MODE == "inprocess" and not no_periodic:
            from communitygrid.core.scheduler import Scheduler, periodic_jobs

            scheduler = Scheduler(periodic_jobs())
            server.on_startup(scheduler.start)
            server.on_shutdown(scheduler.stop)
        self.stdout.write(f"Serving on http://{host}:{port}/ with {workers} workers × {threads} threads"
                          + (", periodic jobs in this process" if scheduler else ""))
        self.stdout.flush()
        server.serve()
