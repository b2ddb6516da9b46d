from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communitygrid.registry.exporting import ExportError, export_households
from communitygrid.registry.tabular import TableFileError


class Command(BaseCommand):
    help = (
        "Export households, one row per person, in the column layout import-households reads. Sensitive "
        "values are masked unless --unmasked is given with --user (a role that may reveal; only their area "
        "is exported) and --purpose; an unmasked export is written to the access log."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help=_("Output file, .csv or .xlsx."))
        parser.add_argument("--grid", metavar="CODE", help=_("Only this hierarchy node and everything below it."))
        parser.add_argument("--user", metavar="USERNAME", help=_("Export as this user (only their area)."))
        parser.add_argument("--unmasked", action="store_true", help=_("Write sensitive values in plain text."))
        parser.add_argument("--purpose", default="", help=_("Why the unmasked data is needed (logged)."))
        parser.add_argument("--english", action="store_true", help=_("English headers and values."))

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user “%(name)s”.") % {"name": options["user"]})
        elif options["unmasked"]:
            raise CommandError(_("--unmasked needs --user (whose area and role decide what may be exported)."))
        try:
            count = export_households(
                options["out"], user=user, grid_code=options["grid"], unmasked=options["unmasked"],
                purpose=options["purpose"], language="en" if options["english"] else "zh-hans",
            )
        except (PermissionDenied, ExportError, TableFileError) as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        masked = _("unmasked, logged") if options["unmasked"] else _("masked")
        self.stdout.write(_("%(count)d person(s) exported to %(path)s (%(masked)s).")
                          % {"count": count, "path": options["out"], "masked": masked})
