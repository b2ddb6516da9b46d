"""``communitygrid locate``: the grid path of one point, or of every row of a CSV file."""
from __future__ import annotations

import csv
import math

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitygrid.geo.geometry import gcj02_to_wgs84
from communitygrid.geo.models import LEVEL_ORDER
from communitygrid.geo.selectors import locate_path, locate_paths_many, overlays
from communitygrid.geo.services import CRS_CHOICES

LEVEL_COLUMNS = [f"{level.value}_code" for level in LEVEL_ORDER]


def parse_coordinate(text, *, field: str, limit: float) -> float:
    """A longitude/latitude from text, or ValueError with a message naming the field."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(_("%(field)s %(value)s is not a number") % {"field": field, "value": repr(text)})
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(_("%(field)s %(value)s is out of range (±%(limit)d)") % {"field": field, "value": text, "limit": limit})
    return value


class Command(BaseCommand):
    help = gettext_lazy("Find the grid of a point (--lon/--lat), or add the code of every level to each row of a CSV file.")

    def add_arguments(self, parser):
        parser.add_argument("--lon", help=gettext_lazy("longitude"))
        parser.add_argument("--lat", help=gettext_lazy("latitude"))
        parser.add_argument("--csv", help=gettext_lazy("input CSV file (UTF-8, header row)"))
        parser.add_argument("--lon-column", help=gettext_lazy("CSV column holding the longitude"))
        parser.add_argument("--lat-column", help=gettext_lazy("CSV column holding the latitude"))
        parser.add_argument("--out", help=gettext_lazy("output CSV file: the input columns plus one code column per level"))
        parser.add_argument("--crs", choices=CRS_CHOICES, default="wgs84",
                            help=gettext_lazy("coordinate system of the input; gcj02 is converted to WGS-84"))

    def handle(self, *args, **options):
        if options["csv"]:
            missing = [f"--{name.replace('_', '-')}" for name in ("lon_column", "lat_column", "out") if not options[name]]
            if missing:
                raise CommandError(_("--csv also needs %(options)s") % {"options": ", ".join(missing)})
            self.locate_csv(options)
        elif options["lon"] is not None and options["lat"] is not None:
            self.locate_point(options)
        else:
            raise CommandError(_("Give --lon and --lat, or --csv with --lon-column, --lat-column and --out."))

    def locate_point(self, options) -> None:
        try:
            lon = parse_coordinate(options["lon"], field=_("longitude"), limit=180)
            lat = parse_coordinate(options["lat"], field=_("latitude"), limit=90)
        except ValueError as exc:
            raise CommandError(str(exc))
        if options["crs"] == "gcj02":
            lon, lat = gcj02_to_wgs84(lon, lat)
        path = locate_path(lon=lon, lat=lat)
        if not path:
            raise CommandError(_("The point %(lon).6f, %(lat).6f lies outside every grid.") % {"lon": lon, "lat": lat})
        for node in path:
            self.stdout.write(_("%(level)s: %(code)s %(name)s") % {
                "level": node.get_level_display(), "code": node.code, "name": node.name})
        for overlay in overlays(lon=lon, lat=lat):
            self.stdout.write(_("Specialised grid: %(code)s %(name)s") % {"code": overlay.code, "name": overlay.name})

    def locate_csv(self, options) -> None:
        try:
            with open(options["csv"], newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = list(reader.fieldnames or [])
                rows = list(reader)
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": options["csv"], "error": exc.strerror or exc})
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(_("%(file)s is not a readable UTF-8 CSV file: %(error)s") % {"file": options["csv"], "error": exc})
        for option in ("lon_column", "lat_column"):
            if options[option] not in columns:
                raise CommandError(_("%(file)s has no column %(column)s; its columns are: %(columns)s")
                                   % {"file": options["csv"], "column": options[option], "columns": ", ".join(columns)})

        lons, lats = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
        unparsable = []
        for i, row in enumerate(rows):
            try:
                lons[i] = parse_coordinate(row[options["lon_column"]], field=_("longitude"), limit=180)
                lats[i] = parse_coordinate(row[options["lat_column"]], field=_("latitude"), limit=90)
            except ValueError as exc:
                lons[i] = lats[i] = np.nan
                unparsable.append((i + 2, str(exc)))  # line numbers count the header as line 1
        if options["crs"] == "gcj02":
            lons, lats = gcj02_to_wgs84(lons, lats)
        paths = locate_paths_many(lons=lons, lats=lats)

        out_columns = columns + [c for c in LEVEL_COLUMNS if c not in columns]
        try:
            with open(options["out"], "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=out_columns, extrasaction="ignore")
                writer.writeheader()
                for row, path in zip(rows, paths):
                    codes = dict.fromkeys(LEVEL_COLUMNS, "")
                    codes.update({f"{node.level}_code": node.code for node in path})
                    writer.writerow({**row, **codes})
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s") % {"file": options["out"], "error": exc.strerror or exc})

        for line, reason in unparsable:
            self.stderr.write(_("line %(line)d: %(reason)s") % {"line": line, "reason": reason})
        located = sum(1 for path in paths if path)
        self.stdout.write(_("%(rows)d rows: %(located)d located, %(outside)d outside every grid, "
                            "%(unparsable)d without a usable point. Written to %(out)s.")
                          % {"rows": len(rows), "located": located, "outside": len(rows) - located - len(unparsable),
                             "unparsable": len(unparsable), "out": options["out"]})

