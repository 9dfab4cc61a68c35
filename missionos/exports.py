"""Downloads of a list as CSV or XLSX: one mechanism for every list (and the audit log's CSV).

A list registers a `Table` (`register_table`): its columns and how its rows are read from a
request's query string, with the same selector and filters as its page, so a download is always
of what the page shows. `table_response()` answers `?…` with the file, named
`<org>-<table>-<day>.<format>`.

Spreadsheets run a cell that starts with "=", "+", "-", "@" (or a tab, or a carriage return) as a
formula: text that starts so is guarded in both formats (OWASP's advice for CSV injection). In
CSV it gets a leading apostrophe; in XLSX it is written as a string cell (never a formula) with
the same apostrophe, so both formats read the same. Numbers, dates and times keep their types in
XLSX (the header row bold and frozen), and are written plainly in CSV (a number is never a
formula, so "-5" stays -5).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def guarded(text: str) -> str:
    """Text that a spreadsheet shows, never runs: a leading apostrophe before a formula start."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_stream(rows: Iterable[Sequence[str]]) -> Iterable[str]:
    """CSV lines of rows of (already guarded) text, one at a time: for a streaming response."""
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows)


def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(rows: Iterable[Sequence[str]], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of rows of text (guard them first: `guarded`)."""
    return attachment(StreamingHttpResponse(csv_stream(rows), content_type=CSV_TYPE), filename)


# -- tables: one per list --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: its header and the value of a row (None, text, a number, a date or a
    datetime; a datetime is written in the site's time zone)."""

    header: str
    value: Callable[[Any], object]
    width: int = 16  # in XLSX, characters


@dataclass(frozen=True)
class Table:
    """A list that downloads: `rows(request)` reads the page's filters from `request.GET` and
    returns the rows through the page's own selector (scoped to `request.org`)."""

    name: str  # in URLs and filenames: "projects"
    title: str  # the sheet's name: "Projects"
    columns: tuple[Column, ...]
    rows: Callable[[HttpRequest], Iterable[Any]]

    def header(self) -> list[str]:
        return [column.header for column in self.columns]

    def values(self, row: Any) -> list[object]:
        return [_plain(column.value(row)) for column in self.columns]


_TABLES: dict[str, Table] = {}


def register_table(table: Table) -> Table:
    """Called from an app's `ready()` (or module import): the list `table.name` downloads."""
    _TABLES[table.name] = table
    return table


def table(name: str) -> Table | None:
    return _TABLES.get(name)


def filename(*, org_slug: str, name: str, fmt: Format, day: datetime.date | None = None) -> str:
    """ "acme-projects-2026-12-04.csv"."""
    return f"{org_slug}-{name}-{(day or timezone.localdate()).isoformat()}.{fmt}"


def table_response(request: HttpRequest, table: Table, fmt: Format) -> HttpResponse:
    """The table's rows for this request's filters, as a CSV (streamed) or an XLSX download."""
    name = filename(org_slug=request.org.slug, name=table.name, fmt=fmt)
    found = table.rows(request)
    if isinstance(found, QuerySet):  # read in chunks, not all at once (one query all the same)
        found = found.iterator(chunk_size=2000)
    rows = (table.values(row) for row in found)
    if fmt == Format.CSV:
        text_rows = (
            [guarded(value) for value in table.header()],
            *([csv_text(value) for value in row] for row in rows),
        )
        return csv_response(text_rows, filename=name)
    content = xlsx_bytes(table, rows)
    return attachment(HttpResponse(content, content_type=XLSX_TYPE), name)


def csv_text(value: object) -> str:
    """A cell's text in CSV: numbers and dates plainly, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return guarded(str(value))


def xlsx_bytes(table: Table, rows: Iterable[Sequence[object]]) -> bytes:
    """An XLSX workbook of one sheet: the header bold and frozen, then a row per row, typed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)

    def cell(value: object, *, header: bool = False) -> WriteOnlyCell:
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if isinstance(value, str):
            written = WriteOnlyCell(sheet, value=guarded(value))
            written.data_type = "s"  # text is never a formula, whatever it starts with
        elif isinstance(value, datetime.datetime):
            written = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
            written.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, datetime.date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd"
        elif isinstance(value, Decimal):
            written = WriteOnlyCell(sheet, value=float(value))
        else:
            written = WriteOnlyCell(sheet, value=value)
        if header:
            written.font = bold
        return written

    sheet.append([cell(header, header=True) for header in table.header()])
    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value: object) -> object:
    """Datetimes in the site's time zone (spreadsheets have no time zones)."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def list_export(request: HttpRequest, org_slug: str, table: str, fmt: str) -> HttpResponse:
    """The view of every download: `table` as `fmt` (both fixed by the URL pattern, see
    `urlpatterns_for`), filtered by the query string. The organization and the member's role
    were resolved by the tenancy middleware: every member may download the lists they read."""
    found = _TABLES.get(table)
    if found is None:
        raise Http404("No such list.")
    return table_response(request, found, Format(fmt))


def urlpatterns_for(tables: Iterable[Table]) -> list:
    """A URL per table and format: "export/projects.csv", named "export_projects_csv"."""
    from django.urls import path

    return [
        path(
            f"export/{table.name}.{fmt}",
            list_export,
            {"table": table.name, "fmt": fmt.value},
            name=url_name(table.name, fmt),
        )
        for table in tables
        for fmt in Format
    ]


def url_name(name: str, fmt: Format | str) -> str:
    return f"export_{name.replace('-', '_')}_{fmt}"
