"""``communitygrid import-cases FILE --columns created_at=COL,category=COL,…``: legacy case history."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communitygrid.cases.importing import FIELDS, REQUIRED, BadValue, import_cases, parse_columns
from communitygrid.registry.tabular import TableFileError

# Exit status when some rows were rejected (the good ones are written), as the registry imports do.
EXIT_ROWS_REJECTED = 2


class Command(BaseCommand):
    help = _("Import historical cases from a CSV or XLSX export of another system, idempotent on external_id.")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("CSV or XLSX file; the first row holds the column headers."))
        parser.add_argument(
            "--columns", required=True,
            help=_("Which column holds what, as FIELD=COLUMN pairs separated by commas. Fields: %(fields)s; "
                   "required: %(required)s.") % {"fields": ", ".join(FIELDS), "required": ", ".join(REQUIRED)})
        parser.add_argument("--dry-run", action="store_true", help=_("Check every row without writing anything."))

    def handle(self, *args, **options):
        try:
            result = import_cases(options["file"], columns=parse_columns(options["columns"]), dry_run=options["dry_run"])
        except (BadValue, TableFileError) as problem:
            raise CommandError(_("Nothing was imported: %(problem)s") % {"problem": problem}) from None
        verb = _("Would import") if options["dry_run"] else _("Imported")
        self.stdout.write(_("%(verb)s %(created)d cases (%(closed)d closed); %(skipped)d already imported; "
                            "%(rejected)d rows rejected.") % {
            "verb": verb, "created": result.created, "closed": result.closed, "skipped": result.already_imported,
            "rejected": len(result.rejected)})
        if result.categories_created:
            self.stdout.write(_("New categories (under “Imported categories”): %(names)s")
                              % {"names": ", ".join(result.categories_created)})
        if result.departments_created:
            self.stdout.write(_("New departments: %(names)s") % {"names": ", ".join(result.departments_created)})
        for line, problem in result.rejected:
            self.stderr.write(_("Line %(line)d: %(problem)s") % {"line": line, "problem": problem})
        if result.rejected:
            raise SystemExit(EXIT_ROWS_REJECTED)
