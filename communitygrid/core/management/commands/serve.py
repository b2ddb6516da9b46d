"""``communitygrid serve``: the production web server (Granian, several worker processes).

Why Granian and not waitress (the demo's) or gunicorn: docs/decisions/0005-intake-server-and-hot-path.md.
Migrations and static files are deployment steps of their own (``communitygrid migrate``,
``communitygrid collectstatic``); this command only serves. With ``CG_TASKS=inprocess`` it
also runs the periodic jobs (sweep, notification fan-out, outbox) in its main process, once
for all workers; with Celery, beat and the workers do that instead.

A stop (SIGTERM or Ctrl-C, to the main process or to the whole process group) is graceful:
each worker stops accepting, answers the requests it holds, lets the requests whose clients
left finish their work, and exits with status 0 (see wsgi_worker); one still at it after
--stop-timeout seconds is killed.
"""
from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

WSGI_TARGET = "communitygrid.wsgi:application"


class RequestsAtWork:
    """The project's WSGI application, counting the calls under way, so a stopping worker can wait for them."""

    def __init__(self, application):
        self.application = application
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            return self.application(environ, start_response)
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_until_idle(self) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0)


_application: RequestsAtWork | None = None


def load_application(target: str) -> RequestsAtWork:
    """Granian's loader of the application, called in each worker: ``module:attribute``, counted."""
    global _application
    module, attribute = target.split(":")
    _application = RequestsAtWork(getattr(importlib.import_module(module), attribute))
    return _application


def wsgi_worker(*args, **kwargs) -> None:
    """The process target of each worker: Granian's WSGI worker, then an orderly end.

    Granian's worker function returns once the worker has stopped accepting and has answered
    every request whose client still waits; requests whose clients hung up (a load generator
    ending its run, a user navigating away) may still be at work in the worker's request
    threads, and some of Granian's Rust threads are still alive. A forked worker then leaves
    through os._exit, which ends them all with the process. A spawned worker (ours, see
    Command.handle) would finalize the interpreter instead: CPython ends every thread that then
    asks for the GIL with pthread_exit, and that unwinding through Granian's Rust frames aborts
    the worker ("panic in a function that cannot unwind", SIGABRT) and cuts those requests off
    mid-work. So this worker lets them finish, waits for its own Python threads, flushes the
    logs and leaves through os._exit. (The main process kills a worker that takes longer than
    --stop-timeout over all this.)
    """
    from granian.server.mp import MPServer

    MPServer._spawn_wsgi_worker(*args, **kwargs)
    if _application is not None:
        _application.wait_until_idle()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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
        parser.add_argument("--stop-timeout", type=int, default=30,
                            help="seconds a stopping worker may take to finish its requests before it is "
                                 "killed (1 to 1800, default 30)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="do not run the periodic jobs here even with CG_TASKS=inprocess")

    def handle(self, *args, host: str, port: int, workers: int, threads: int, stop_timeout: int, no_periodic: bool,
               **options):
        from granian import Granian
        from granian.constants import Interfaces
        from granian.server.mp import MPServer

        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        if not 1 <= stop_timeout <= 1800:
            raise CommandError("--stop-timeout must be between 1 and 1800 seconds")
        # Fresh interpreters for the workers: nothing of this process (its database connections,
        # the scheduler thread) is copied into them by a fork.
        multiprocessing.set_start_method("spawn", force=True)
        connections.close_all()
        server = Granian(WSGI_TARGET, address=host, port=port, interface=Interfaces.WSGI, workers=workers,
                         blocking_threads=threads, websockets=False, backlog=2048,
                         # Also the bound on Granian's own rare hangs at a worker's stop.
                         workers_kill_timeout=stop_timeout)
        # Worker processes end through wsgi_worker. (On a free-threaded Python, Granian runs its
        # workers as threads of this process instead, and ends them itself.)
        in_processes = isinstance(server, MPServer)
        scheduler = None
        if settings.TASKS_MODE == "inprocess" and not no_periodic:
            from communitygrid.core.scheduler import Scheduler, periodic_jobs

            scheduler = Scheduler(periodic_jobs())
            server.on_startup(scheduler.start)
            server.on_shutdown(scheduler.stop)
        self.stdout.write(f"Serving on http://{host}:{port}/ with {workers} workers × {threads} threads"
                          + (", periodic jobs in this process" if scheduler else ""))
        self.stdout.flush()
        if in_processes:
            server.serve(spawn_target=wsgi_worker, target_loader=load_application)
        else:
            server.serve()
