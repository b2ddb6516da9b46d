"""``communitygrid coverage PARENT_CODE``: gaps, overlaps and workload of a node's children."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.geo.selectors import node_by_code, parent_coverage

HOUSEHOLD_STATUS = {
    "below": gettext_lazy("below the norm"),
    "within": gettext_lazy("within the norm"),
    "above": gettext_lazy("above the norm"),
}
WORKER_STATUS = {
    "no_worker": gettext_lazy("no grid worker"),
    "within": gettext_lazy("within the norm"),
    "above_norm": gettext_lazy("above the norm"),
    "overload": gettext_lazy("OVERLOADED"),
}


class Command(BaseCommand):
    help = gettext_lazy("Coverage of a node's children: gaps, overlaps, households per grid and per grid worker.")

    def add_arguments(self, parser):
        parser.add_argument("code", help=gettext_lazy("code of the parent node"))

    def handle(self, *args, **options):
        parent = node_by_code(code=options["code"])
        if parent is None:
            raise CommandError(_("No node has the code %(code)s.") % {"code": options["code"]})
        report = parent_coverage(parent=parent)
        norms = report.norms
        self.stdout.write(_("%(code)s %(name)s (%(level)s), %(area).0f m²") % {
            "code": report.code, "name": report.name, "level": parent.get_level_display(), "area": report.area_m2})
        if report.gap is None:
            self.stdout.write(_("Gaps: none"))
        else:
            self.stdout.write(self.style.WARNING(_("Gaps: %(area).0f m² not covered by any child") % {"area": report.gap_area_m2}))
        if not report.overlaps:
            self.stdout.write(_("Overlaps: none"))
        for overlap in report.overlaps:
            self.stdout.write(self.style.WARNING(_("Overlap: %(first)s and %(second)s share %(area).0f m²") % {
                "first": overlap.first, "second": overlap.second, "area": overlap.area_m2}))
        self.stdout.write(_("Norms: %(min)d–%(max)d households per grid; %(norm)d households per grid worker, "
                            "overloaded from %(overload)d") % {
            "min": norms["grid_households_min"], "max": norms["grid_households_max"],
            "norm": norms["worker_households_norm"], "overload": norms["worker_households_overload"]})
        for child in report.children:
            parts = [_("%(code)s %(name)s: %(households)d households") % {
                "code": child.code, "name": child.name, "households": child.households}]
            if child.household_status:
                parts.append(str(HOUSEHOLD_STATUS[child.household_status]))
            parts.append(_("%(workers)d grid workers") % {"workers": child.workers})
            if child.households_per_worker is not None:
                parts.append(_("%(ratio).0f households per worker") % {"ratio": child.households_per_worker})
            if child.worker_status:
                parts.append(str(WORKER_STATUS[child.worker_status]))
            line = " | ".join(parts)
            flagged = child.worker_status in {"overload", "no_worker"} or child.household_status in {"below", "above"}
            self.stdout.write(self.style.WARNING(line) if flagged else line)
