"""``communitygrid cleanup-orphan-files``: delete stored case attachment files no attachment row names.

The services delete the files of a submission or resolution that fails; this finds what that
cannot: files of a transaction a caller rolled back after the service returned, or of a process
that died mid-request. Files younger than ``--min-age-minutes`` are left alone, since their
transaction may still be open.
"""
from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communitygrid.cases.services import attachment_files_orphaned


class Command(BaseCommand):
    help = _("Delete stored case attachment files that no attachment refers to.")

    def add_arguments(self, parser):
        parser.add_argument("--min-age-minutes", type=int, default=60,
                            help=_("Only files older than this many minutes (default 60)."))
        parser.add_argument("--dry-run", action="store_true", help=_("List the files without deleting them."))

    def handle(self, *args, min_age_minutes: int, dry_run: bool, **options):
        if min_age_minutes < 0:
            raise CommandError(_("--min-age-minutes must not be negative."))
        storage, names = attachment_files_orphaned(older_than=time.time() - 60 * min_age_minutes)
        for name in names:
            self.stdout.write(name)
            if not dry_run:
                storage.delete(name)
        message = _("%(count)d orphaned files found.") if dry_run else _("%(count)d orphaned files deleted.")
        self.stdout.write(message % {"count": len(names)})
