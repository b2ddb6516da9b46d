"""What the import commands share: options, the report of rejected rows, exit codes."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.registry.importing import ImportResult, write_report
from communitygrid.registry.tabular import FORMATS, TableFileError

KIND_LABELS = {
    "buildings": gettext_lazy("buildings"),
    "rooms": gettext_lazy("rooms"),
    "households": gettext_lazy("households"),
    "persons": gettext_lazy("persons"),
    "care tags": gettext_lazy("special-care memberships"),
}
# Exit status when some rows were rejected (the accepted ones are written): scripts can tell
# "everything went in" (0) from "look at the report" (2) and "nothing was written" (1).
EXIT_ROWS_REJECTED = 2


class ImportCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("file", help=_("CSV or XLSX file; the first row holds the column headers."))
        parser.add_argument("--format", choices=FORMATS, help=_("File format (default: from the file suffix)."))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Check every row and show what would change, without writing anything."))
        parser.add_argument("--report", metavar="OUT.csv", help=_("Also write the rejected rows to this CSV file."))
        parser.add_argument("--no-progress", action="store_true", help=_("Do not show the progress bar."))

    def run_import(self, function, options) -> None:
        try:
            result = function(options["file"], fmt=options["format"], dry_run=options["dry_run"],
                              progress=not options["no_progress"])
        except TableFileError as exc:
            raise CommandError(_("Nothing was imported: %(problem)s") % {"problem": exc}) from None
        except DatabaseError as exc:
            raise CommandError(
                _("Nothing was imported: the database refused the write (%(problem)s). "
                  "Another import may have run at the same time; run this one again.") % {"problem": exc}
            ) from None
        self.print_result(result)
        if options["report"]:
            write_report(options["report"], result)
            self.stdout.write(_("Rejected rows written to %(path)s.") % {"path": options["report"]})
        if result.rejected:
            raise CommandError(
                _("%(count)d row(s) rejected; the accepted rows were written.") % {"count": len(result.rejected)}
                if not result.dry_run else _("%(count)d row(s) would be rejected.") % {"count": len(result.rejected)},
                returncode=EXIT_ROWS_REJECTED,
            )

    def print_result(self, result: ImportResult) -> None:
        for header in result.ignored_headers:
            self.stderr.write(_("Ignored unknown column “%(header)s”.") % {"header": header})
        for row in result.rejected:
            self.stdout.write(_("line %(line)d (%(code)s): %(reason)s")
                              % {"line": row.line, "code": row.reference or "-", "reason": row.reason})
        self.stdout.write(
            _("%(rows)d row(s) read, %(accepted)d accepted, %(rejected)d rejected.")
            % {"rows": result.rows, "accepted": result.accepted, "rejected": len(result.rejected)}
        )
        for kind in sorted(set(result.created) | set(result.updated) | set(result.unchanged)):
            self.stdout.write(
                _("%(kind)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {"kind": KIND_LABELS.get(kind, kind), "created": result.created[kind],
                   "updated": result.updated[kind], "unchanged": result.unchanged[kind]}
            )
        if result.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
