"""``communitygrid import-grids FILE.geojson --level LEVEL …``: all features, or none."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.geo.models import GridKind, Level
from communitygrid.geo.services import CRS_CHOICES, GeoInputError, Problem, grids_import


def describe(problem: Problem) -> str:
    if problem.index is None:
        return problem.message
    return _("feature #%(index)d (code %(code)s): %(message)s") % {
        "index": problem.index, "code": problem.code or _("none"), "message": problem.message}


def read_feature_collection(path: str) -> list:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc})
    except UnicodeDecodeError:
        raise CommandError(_("%(file)s is not UTF-8 text") % {"file": path})
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(_("%(file)s is not valid JSON: %(error)s at line %(line)d, column %(column)d")
                           % {"file": path, "error": exc.msg, "line": exc.lineno, "column": exc.colno})
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise CommandError(_("%(file)s is not a GeoJSON FeatureCollection (an object with \"type\": "
                             "\"FeatureCollection\" and a \"features\" list)") % {"file": path})
    return data["features"]


class Command(BaseCommand):
    help = gettext_lazy("Import grid boundaries from a GeoJSON FeatureCollection. If any feature is bad, "
                        "nothing is written and every problem is listed with the feature's index (from 0) and code.")

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("GeoJSON file (FeatureCollection of Polygon/MultiPolygon)"))
        parser.add_argument("--level", required=True, choices=Level.values, help=gettext_lazy("level of every feature"))
        parser.add_argument("--code-property", default="code", help=gettext_lazy("property holding the code"))
        parser.add_argument("--name-property", default="name", help=gettext_lazy("property holding the name"))
        parents = parser.add_mutually_exclusive_group()
        parents.add_argument("--parent-property", help=gettext_lazy("property holding each feature's parent code"))
        parents.add_argument("--parent", help=gettext_lazy("code of the parent of every feature"))
        parser.add_argument("--kind", choices=GridKind.values,
                            help=gettext_lazy("grid kind (default: comprehensive for grids, micro for micro-grids)"))
        parser.add_argument("--crs", choices=CRS_CHOICES, default="wgs84",
                            help=gettext_lazy("coordinate system of the file; gcj02 is converted to WGS-84"))
        parser.add_argument("--note", default="", help=gettext_lazy("note kept with the change"))

    def handle(self, *args, **options):
        features = read_feature_collection(options["file"])
        try:
            result = grids_import(
                features=features, level=options["level"], code_property=options["code_property"],
                name_property=options["name_property"], parent_property=options["parent_property"],
                parent_code=options["parent"], kind=options["kind"], crs=options["crs"], note=options["note"],
            )
        except GeoInputError as exc:
            for problem in exc.problems:
                self.stderr.write(describe(problem))
            raise CommandError(_("Nothing was imported: %(n)d problems in %(file)s.")
                               % {"n": len(exc.problems), "file": options["file"]})
        for problem in result.repaired:
            self.stdout.write(_("repaired %(what)s") % {"what": describe(problem)})
        self.stdout.write(self.style.SUCCESS(
            _("Imported %(file)s: %(created)d created, %(updated)d updated.")
            % {"file": options["file"], "created": len(result.created), "updated": len(result.updated)}))
