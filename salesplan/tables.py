"""Tables a page shows and a head of sales takes to a meeting: one description of a table (its
columns and rows) that the page renders and that exports as XLSX or CSV, the open formats.

A view builds its tables as `Table`s and, before rendering, asks `export_response(request,
*tables)`: with `?export=xlsx` (or `csv`) and `&table=<name>` in the address it returns the
file; otherwise None and the page renders as usual. The template puts the two links beside
the table with `{% export_links table %}` (`salesplan_tags`).

Values are written as values (numbers as numbers, money as exact decimals, dates as dates),
so a spreadsheet can sum them; text a spreadsheet would run as a formula is neutralised
(`salesplan.output.spreadsheet_row`).
"""

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify

from salesplan.output import spreadsheet_row

Kind = Literal["text", "int", "number", "money", "percent", "date"]
EXPORT_FORMATS = ("xlsx", "csv")
# The most rows one export writes (a table on a page is far smaller; a bigger one is cut
# here, never by running out of memory).
MAX_EXPORT_ROWS = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "number": "#,##0.0#",
    "money": "#,##0.00",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: Any  # text or a lazy translation
    kind: Kind = "text"


@dataclass(slots=True)
class Table:
    """`name` is the table's id within its page (a slug: `people`, `stages`); `title` names
    the file; rows are mappings from a column's key to its value (None for an empty cell)."""

    name: str
    title: Any
    columns: Sequence[Column]
    rows: list[Mapping[str, Any]] = field(default_factory=list)

    def values(self) -> Iterable[list[Any]]:
        for row in self.rows[:MAX_EXPORT_ROWS]:
            yield [_cell(row.get(column.key), column.kind) for column in self.columns]

    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]


def _cell(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind in ("int", "number", "money", "percent") and isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def export_links(request: HttpRequest, table: Table) -> list[dict[str, str]]:
    """The page's address with `export=<format>&table=<name>`, one per format."""
    query = request.GET.copy()
    links = []
    for format_ in EXPORT_FORMATS:
        query["export"] = format_
        query["table"] = table.name
        links.append({"format": format_.upper(), "url": f"{request.path}?{query.urlencode()}"})
    return links


def _filename(table: Table, format_: str) -> str:
    stem = slugify(str(table.title), allow_unicode=False) or table.name
    return f"{stem}.{format_}"


def _csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(spreadsheet_row(table.header()))
    for values in table.values():
        writer.writerow(spreadsheet_row([_csv_text(value) for value in values]))
    # With a byte-order mark Excel opens UTF-8 (Cyrillic) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    # A sheet's title may hold none of \ / * ? : [ ] (openpyxl refuses them) and 31 characters.
    title = re.sub(r"[\\/*?:\[\]]", " ", str(table.title))[:31].strip() or table.name
    sheet = workbook.create_sheet(title=title)
    bold = Font(bold=True)
    header = []
    for label in spreadsheet_row(table.header()):
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in table.values():
        row = []
        for column, value in zip(table.columns, spreadsheet_row(values), strict=True):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # Excel has no time zones
            cell = WriteOnlyCell(sheet, value=float(value) if _is_percent(column, value) else value)
            if column.kind in NUMBER_FORMATS and value is not None:
                cell.number_format = NUMBER_FORMATS[column.kind]
            row.append(cell)
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _is_percent(column: Column, value: Any) -> bool:
    return column.kind == "percent" and isinstance(value, Decimal)


def export_response(request: HttpRequest, *tables: Table) -> HttpResponse | None:
    """The file the address asks for (`?export=xlsx|csv&table=<name>`), or None to render the
    page. An unknown table or format renders the page (the links on it are the valid ones)."""
    format_ = request.GET.get("export")
    name = request.GET.get("table")
    if format_ not in EXPORT_FORMATS or not name:
        return None
    table = next((table for table in tables if table.name == name), None)
    if table is None:
        return None
    if format_ == "csv":
        response = HttpResponse(_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, format_)}"'
    return response


def query_with(request: HttpRequest, **changes: Any) -> str:
    """The page's query string with some parameters changed (None drops one): for filters and
    period switches that keep the others."""
    query = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    query.pop("export", None)
    query.pop("table", None)
    return query.urlencode()
