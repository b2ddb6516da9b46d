"""A figure (or a case list) as CSV or XLSX: the same columns and values as its JSON."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The byte-order mark lets spreadsheet programs read the Chinese text as UTF-8.
BOM = "\ufeff"
# Rows sent to the client in one piece of a streamed CSV.
STREAM_BATCH = 500


# A text cell starting with one of these is read as a formula by spreadsheet programs (CSV
# injection, and openpyxl writes such a string as a formula): it gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _value(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Promise):  # a translated label
        return str(value)
    return "" if value is None else value


def _cell(value):
    """A CSV cell: text a spreadsheet would run as a formula gets a leading apostrophe."""
    value = _value(value)
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _xlsx_cell(sheet, value):
    """An XLSX cell: text is written as text (openpyxl would store "=…" as a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=_value(value))
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
    return cell


def table_response(*, name: str, columns: list[tuple[str, str]], rows: list[dict], fmt: str) -> HttpResponse:
    header = [str(label) for _key, label in columns]
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([_cell(row.get(key)) for key, _label in columns] for row in rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, row.get(key)) for key, _label in columns])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class _Line:
    """A file for csv.writer that hands back each line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_stream_response(*, name: str, header: Sequence, rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A CSV written while it is sent: ``rows`` is consumed lazily (pass a generator over
    ``QuerySet.iterator()``), so a long list never sits in memory. The request's language and
    time zone hold while it streams (after the view has returned), for labels and local times."""
    language, zone = translation.get_language(), timezone.get_current_timezone()
    writer = csv.writer(_Line())

    def lines():
        with translation.override(language), timezone.override(zone):
            batch = [BOM, writer.writerow([str(label) for label in header])]
            for row in rows:
                batch.append(writer.writerow([_cell(value) for value in row]))
                if len(batch) >= STREAM_BATCH:
                    yield "".join(batch)
                    batch = []
            yield "".join(batch)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
