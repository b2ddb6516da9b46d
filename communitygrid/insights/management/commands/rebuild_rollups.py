"""Recompute the cockpit's rollups from the case record (idempotent): all, or from a day on."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communitygrid.insights.rollups import present_refresh, rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the cockpit's rollup tables from the cases (all, or those submitted since a day)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="YYYY-MM-DD (local day): recompute only cases submitted on or after it")

    def handle(self, *args, since=None, **options):
        day = None
        if since:
            try:
                day = dt.date.fromisoformat(since)
            except ValueError:
                raise CommandError(_("--since: “%(value)s” is not a date (YYYY-MM-DD).") % {"value": since})
        built = rollups_rebuild(since=day)
        present = present_refresh()
        self.stdout.write(
            _("Rollups rebuilt: %(days)s day rows, %(months)s month rows, %(open)s open rows.")
            % {"days": built["day_rows"], "months": built["month_rows"], "open": present["open_rows"]}
        )
