"""Reading and writing the CSV/XLSX tables that community offices and departments exchange.

Reading is strict about the file (encoding, format, headers: one clear :class:`TableFileError`,
nothing imported) and lenient about the people who fill it in (Chinese or English headers,
full-width characters, UTF-8 with or without BOM, GBK/GB 18030 from older Excel versions).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl.utils.datetime import WINDOWS_EPOCH

FORMATS = ("csv", "xlsx")


class TableFileError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Column:
    key: str
    en: str  # the header written by an English export
    zh: str  # the header written by a Chinese export (the default)
    aliases: tuple[str, ...] = ()
    required: bool = False

    def header(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass
class Table:
    """Rows of raw cell values keyed by column key, each with its line (CSV) or row (XLSX) number."""

    columns: dict[str, int]  # column key → position in the row
    rows: list[tuple[int, list]]
    ignored_headers: list[str] = field(default_factory=list)
    excel_epoch: dt.datetime = WINDOWS_EPOCH

    def texts(self, cells: Sequence) -> dict[str, str]:
        """Every mapped cell of a row as text (see :func:`cell_text`), by column key."""
        width = len(cells)
        return {key: cell_text(cells[position]) if position < width else "" for key, position in self.columns.items()}

    def value(self, cells: Sequence, key: str):
        position = self.columns.get(key)
        if position is None or position >= len(cells):
            return None
        return cells[position]


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise TableFileError(_("Unknown format “%(format)s”; use csv or xlsx.") % {"format": fmt})
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise TableFileError(
        _("Cannot tell the format of “%(name)s” from its suffix; name it .csv or .xlsx, or pass --format.")
        % {"name": path.name}
    )


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return re.sub(r"[\s_\-*：:]", "", text)


def _header_lookup(columns: Iterable[Column]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.key, column.en, column.zh, *column.aliases):
            lookup[_header_key(name)] = column
    return lookup


def read_table(path: Path | str, columns: Sequence[Column], *, fmt: str | None = None) -> Table:
    """Read a CSV or XLSX file whose first non-empty row holds the headers."""
    path = Path(path)
    if not path.is_file():
        raise TableFileError(_("File “%(name)s” does not exist.") % {"name": str(path)})
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        raw_rows, epoch = _csv_rows(path), WINDOWS_EPOCH
    else:
        raw_rows, epoch = _xlsx_rows(path)
    rows = [(line, cells) for line, cells in raw_rows if any(_filled(cell) for cell in cells)]
    if not rows:
        raise TableFileError(_("“%(name)s” contains no rows.") % {"name": path.name})
    headers = rows[0][1]
    table = _map_headers(headers, columns, path)
    table.rows = rows[1:]
    table.excel_epoch = epoch
    return table


def _filled(cell) -> bool:
    return cell is not None and str(cell).strip() != ""


def _map_headers(headers: Sequence, columns: Sequence[Column], path: Path) -> Table:
    lookup = _header_lookup(columns)
    mapped: dict[str, int] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        if not _filled(header):
            continue
        key = _header_key(header)
        column = lookup.get(key) or lookup.get(re.sub(r"[(（\[].*?[)）\]]", "", key))
        if column is None:
            ignored.append(str(header).strip())
            continue
        if column.key in mapped:
            raise TableFileError(
                _("Column “%(header)s” appears twice in “%(name)s” (as “%(first)s” and “%(second)s”).")
                % {"header": column.header("zh"), "name": path.name,
                   "first": str(headers[mapped[column.key]]).strip(), "second": str(header).strip()}
            )
        mapped[column.key] = position
    missing = [column for column in columns if column.required and column.key not in mapped]
    if missing:
        raise TableFileError(
            _("“%(name)s” lacks required column(s): %(columns)s. The first row must hold the column headers.")
            % {"name": path.name, "columns": ", ".join(f"{c.zh} ({c.en})" for c in missing)}
        )
    return Table(columns=mapped, rows=[], ignored_headers=ignored)


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB 18030 (a superset of GBK, which Excel on Chinese Windows writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise TableFileError(
            _("“%(name)s” is neither UTF-8 nor GBK text; save it again as “CSV UTF-8” or as .xlsx.") % {"name": name}
        ) from None


def _csv_rows(path: Path) -> list[tuple[int, list]]:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise TableFileError(
            _("“%(name)s” is a spreadsheet workbook, not CSV text; name it .xlsx or pass --format xlsx.")
            % {"name": path.name}
        )
    text = decode_text(data, path.name)
    if "\x00" in text:
        raise TableFileError(_("“%(name)s” contains NUL bytes: it is not a CSV text file.") % {"name": path.name})
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableFileError(
            _("“%(name)s” is not valid CSV near line %(line)d: %(problem)s.")
            % {"name": path.name, "line": reader.line_num, "problem": exc}
        ) from None
    return rows


def _xlsx_rows(path: Path) -> tuple[list[tuple[int, list]], dt.datetime]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # Opened as a file object so openpyxl judges the content, not the name (a .csv that is a workbook).
    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise TableFileError(
                _("“%(name)s” is not an XLSX workbook (%(problem)s). Save it from Excel as .xlsx, or as CSV.")
                % {"name": path.name, "problem": exc.__class__.__name__}
            ) from None
        try:
            sheet = workbook.worksheets[0]
            rows = [(index, list(cells)) for index, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
            return rows, workbook.epoch
        finally:
            workbook.close()


def write_table(path: Path | str, headers: Sequence[str], rows: Iterable[Sequence], *, fmt: str | None = None) -> int:
    """Write a header row and rows as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX; the row count."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    count = 0
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(["" if value is None else value for value in row])
                count += 1
        return count
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
        count += 1
    workbook.save(path)
    return count


def cell_text(value) -> str:
    """A cell as text: numbers that Excel stored as floats (13912345678.0) lose the ``.0``."""
    if value.__class__ is str:
        # The common case, kept fast: ASCII text needs no normalising.
        return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()
