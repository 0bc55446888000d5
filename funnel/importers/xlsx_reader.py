"""Excel workbook uploads (.xlsx): the first sheet's header row, row count and sample, its chosen
columns in chunks, and how a cell reads as text. openpyxl is imported only when one comes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext

from funnel.importers.file_info import (
    SAMPLE_ROWS,
    SCAN_BLOCK_BYTES,
    FileInfo,
    ImportFileError,
    RawChunk,
)
from funnel.importers.headers import header_columns

_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_ROW_TAGS = (b"<row ", b":row ")


@contextmanager
def _first_sheet(path: Path) -> Iterator[Any]:  # openpyxl has no type hints
    """The first worksheet, read-only. Opened from a file object: openpyxl refuses paths that do
    not end in .xlsx, and uploads are stored under any name."""
    import openpyxl  # only xlsx uploads pay for importing it

    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
            raise ImportFileError(gettext("The file is not a valid .xlsx workbook.")) from exc
        try:
            yield workbook.worksheets[0]
        finally:
            workbook.close()


def inspect_xlsx(path: Path, filename: str) -> FileInfo:
    """`inspect_file` for a workbook: the first non-empty row of its first sheet is the header."""
    with _first_sheet(path) as sheet:
        rows = sheet.iter_rows(values_only=True)
        header_line, first = next(
            ((number, row) for number, row in enumerate(rows, 1) if any(map(cell_text, row))),
            (0, ()),
        )
        headers, positions = header_columns([cell_text(cell) for cell in first])
        if not headers:
            raise ImportFileError(gettext("The file has no header row."))
        sample: list[dict[str, str]] = []
        for row in rows:
            if len(sample) == SAMPLE_ROWS:
                break
            values = [cell_text(row[p]) if p < len(row) else "" for p in positions]
            if any(values):
                sample.append(dict(zip(headers, values, strict=True)))
        max_row = sheet.max_row
        if not max_row or max_row <= header_line:
            max_row = _last_row_number(sheet) or header_line
        return FileInfo(
            filename=filename,
            kind="xlsx",
            encoding="",
            delimiter="",
            headers=tuple(headers),
            positions=tuple(positions),
            total_rows=max(max_row - header_line, 0),
            sample=sample,
            header_line=header_line,
            sheet=sheet.title,
        )


def _last_row_number(sheet: Any) -> int:
    """The last row of a sheet whose file states no dimension (openpyxl's write-only mode and
    some generators omit it): the `r` of the last <row> in its XML. Decompressing and searching
    bytes takes a second where openpyxl would parse every cell."""
    last = b""
    tail = b""
    with sheet._get_source() as source:  # openpyxl's own way to the sheet's XML (private)
        while block := source.read(SCAN_BLOCK_BYTES):
            window = tail + block
            start = max(window.rfind(tag) for tag in _ROW_TAGS)
            if start >= 0:
                found = _ROW_NUMBER.findall(window, max(start - 32, 0))
                last = found[-1] if found else last
            tail = block[-256:]  # a <row …> tag cut by the block boundary
    return int(last) if last else 0


def xlsx_chunks(
    path: Path, info: FileInfo, wanted: list[tuple[int, str]], chunk_rows: int, limit: bool
) -> Iterator[RawChunk]:
    """The `wanted` (position, header) columns in chunks, blank rows still in; with `limit`,
    only the first chunk."""
    names = [name for _, name in wanted]
    positions = [position for position, _ in wanted]
    line = info.header_line
    with _first_sheet(path) as sheet:
        buffer: list[list[str]] = [[] for _ in wanted]
        lines: list[int] = []
        # Row by row is unavoidable here: openpyxl hands out Python objects per cell.
        for row in sheet.iter_rows(min_row=info.header_line + 1, values_only=True):
            line += 1
            width = len(row)
            for column, position in zip(buffer, positions, strict=True):
                column.append(cell_text(row[position]) if position < width else "")
            lines.append(line)
            if len(lines) == chunk_rows:
                yield _xlsx_frame(names, buffer, lines)
                if limit:
                    return
                buffer, lines = [[] for _ in wanted], []
        if lines:
            yield _xlsx_frame(names, buffer, lines)


def _xlsx_frame(names: list[str], buffer: list[list[str]], lines: list[int]) -> RawChunk:
    columns = {
        name: np.array(values, dtype=object) for name, values in zip(names, buffer, strict=True)
    }
    return RawChunk(columns=columns, lines=np.asarray(lines, dtype=np.int64), rows=len(lines))


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits; more is binary noise (0.1 + 0.2).
        return format(Decimal(format(value, ".15g")), "f")
    return str(value).strip()
