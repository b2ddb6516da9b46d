"""``communitygrid demo``: migrate, build the demo city once, print the demo sign-ins, serve.

The data directory (``--data-dir``) is read by ``communitygrid.cli`` before settings load; it
is accepted here too so ``--help`` lists it and a mismatch is reported instead of ignored.
"""
from __future__ import annotations

import argparse
import os
import signal
import time
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from communitygrid.accounts.models import Role
from communitygrid.core.demo.build import (
    DEMO_ACCOUNTS,
    DEMO_API_KEY,
    DEMO_API_POINT,
    DEMO_PASSWORD,
    demo_city_build,
    demo_city_exists,
)
from communitygrid.core.scheduler import Scheduler, job_name, periodic_jobs


DEMO_TRICKLE_SECONDS = 90


def _scale(value: str) -> float:
    with translation.override(console_language()):
        try:
            scale = float(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(_("%(value)r is not a number") % {"value": value}) from exc
        if not 0 < scale <= 1:
            raise argparse.ArgumentTypeError(_("%(value)s is not between 0 (exclusive) and 1") % {"value": value})
    return scale


def console_language() -> str:
    """The shell's language when it is one we speak (LANG=en_US… → English), else the site default."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").lower()
        if value.startswith("en"):
            return "en"
        if value.startswith("zh"):
            return "zh-hans"
    return settings.LANGUAGE_CODE


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: list[list[str]]) -> str:
    """A plain-text table that stays aligned with Chinese characters (two columns wide each)."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    # Option help stays English, as for Django's own commands: argparse cannot take lazy text.
    help = "Set up the demo city once (migrate, generate a realistic district) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
        parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
        parser.add_argument("--data-dir", help="database, keys and uploads (default ./communitygrid-data)")
        parser.add_argument("--scale", type=_scale, default=1.0,
                            help="share of the full city's households to generate, e.g. 0.1 (default 1)")
        parser.add_argument("--no-serve", action="store_true", help="build the demo city, then exit")

    def handle(self, *args, port: int, host: str, data_dir: str | None, scale: float, no_serve: bool, **options):
        with translation.override(console_language()):
            if data_dir and Path(data_dir).resolve() != Path(settings.DATA_DIR).resolve():
                raise CommandError(_("--data-dir is read by the communitygrid command before settings load; "
                                     "run: communitygrid demo --data-dir %(dir)s") % {"dir": data_dir})
            started = time.perf_counter()
            self.stdout.write(_("Data directory: %(dir)s") % {"dir": settings.DATA_DIR})
            call_command("migrate", interactive=False, verbosity=0)
            if demo_city_exists():
                self.stdout.write(_("The demo city is already there: reusing it."))
            else:
                self.stdout.write(_("Generating the demo city (scale %(scale)s)…") % {"scale": scale})
                report = demo_city_build(scale=scale, progress=lambda message: self.stdout.write("  " + message))
                self.stdout.write(self.style.SUCCESS(
                    _("Demo city ready: %(households)d households, %(persons)d persons in %(seconds).1f s.")
                    % {"households": report.households, "persons": report.persons,
                       "seconds": time.perf_counter() - started}))
            self.stdout.write("")
            self.stdout.write(self.accounts_table())
            self.stdout.write("")
            banner = self.api_key_banner(host, port)
            if banner:
                self.stdout.write(banner)
                self.stdout.write("")
            if not no_serve:
                # Static files come from the apps through WhiteNoise's finders; the empty
                # STATIC_ROOT only keeps WhiteNoise from warning that it is missing.
                Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
                self.serve(host, port)

    def accounts_table(self) -> str:
        labels = dict(Role.choices)
        rows = [[_("Role"), _("Username"), _("Password"), _("What they can see")]]
        for account in DEMO_ACCOUNTS:
            rows.append([str(labels[account.role]), account.username, DEMO_PASSWORD, str(account.sees)])
        return _("Demo accounts (sign in at /accounts/login/):") + "\n" + table(rows)

    def api_key_banner(self, host: str, port: int) -> str:
        """The demo API key and two requests to try it with; empty for a city built before the key."""
        from communitygrid.apikeys.services import apikey_lookup

        key = apikey_lookup(DEMO_API_KEY)
        if key is None:
            return ""
        street = key.user.scope_nodes.first()
        base = f"http://{host}:{port}/open311/v2"
        lat, lon = DEMO_API_POINT
        description = _("The street light at the gate is out.")
        return "\n".join([
            _("Demo API key (DEMO ONLY: it is published, never use it outside the demo), scope %(scopes)s, "
              "for %(street)s:") % {"scopes": ", ".join(key.scopes), "street": street.name if street else "?"},
            "  " + DEMO_API_KEY,
            _("List the Open311 services (no key needed):"),
            f"  curl {base}/services.json",
            _("Post a service request with the key:"),
            f"  curl {base}/requests.json -d api_key={DEMO_API_KEY} -d service_code=repair_streetlight "
            f"-d lat={lat:.5f} -d long={lon:.5f} --data-urlencode 'description={description}'",
        ])

    def serve(self, host: str, port: int) -> None:
        from django.core.wsgi import get_wsgi_application
        from waitress.server import create_server

        try:
            server = create_server(get_wsgi_application(), host=host, port=port, threads=8)
        except OSError as exc:
            raise CommandError(_("Cannot listen on %(host)s:%(port)d (%(reason)s); choose another port with --port N.")
                               % {"host": host, "port": port, "reason": exc.strerror}) from exc
        scheduler = None
        if settings.TASKS_MODE == "inprocess":
            from communitygrid.cases.demo import demo_trickle_once

            # The live trickle of new requests belongs to the demo only, not to every deployment.
            jobs = [*periodic_jobs(), (demo_trickle_once, DEMO_TRICKLE_SECONDS)]
            scheduler = Scheduler(jobs)
            scheduler.start()
            self.stdout.write(_("Periodic jobs: %(jobs)s") % {
                "jobs": ", ".join(job_name(job) for job, _seconds in jobs) or _("none yet")})

        def stop(signum, frame):
            raise KeyboardInterrupt

        # SIGINT explicitly too: a shell starting the demo in the background leaves it ignored.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        if host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.stdout.write(self.style.WARNING(
                _("Only requests for %(hosts)s are answered; to reach the demo by another name or address, "
                  "set CG_ALLOWED_HOSTS (comma-separated).") % {"hosts": ", ".join(settings.ALLOWED_HOSTS)}))
        self.stdout.write(self.style.SUCCESS(_("Serving on http://%(host)s:%(port)d/ (Ctrl-C to stop)")
                                             % {"host": host, "port": port}))
        self.stdout.flush()
        try:
            server.run()  # returns when waitress catches Ctrl-C (KeyboardInterrupt)
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write(_("Stopping…"))
            server.close()
            if scheduler is not None:
                scheduler.stop()
