"""A figure (or a case list) as CSV or XLSX: the same columns and values as its JSON."""
from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse
from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return int(value)
    return "" if value is None else value


def table_response(*, name: str, columns: list[tuple[str, str]], rows: list[dict], fmt: str) -> HttpResponse:
    header = [str(label) for _key, label in columns]
    body = [[_cell(row.get(key)) for key, _label in columns] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        # The byte-order mark lets spreadsheet programs read the Chinese text as UTF-8.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(body)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31])
        sheet.append(header)
        for line in body:
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
