"""An upload held to the limits of `salesplan.limits` before it is parsed: its size, a
workbook's unpacked size and how tightly it is packed (a zip bomb), the extent of its sheets
read from their XML (calamine decodes a sheet into a grid as tall and as wide as its last cell),
then the rows, columns and cell lengths any file kind reports. Each refusal says what the file
has and what the limit is."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.utils.translation import gettext

from funnel.importers.file_info import SCAN_BLOCK_BYTES, FileInfo, ImportFileError
from salesplan.limits import (
    MAX_CELL_CHARS,
    MAX_IMPORT_COLUMNS,
    MAX_XLSX_RATIO,
    MB,
    import_max_rows,
    import_max_unpacked_bytes,
    import_max_upload_bytes,
    megabytes,
    size_message,
)

# A part this small may be packed as tightly as it likes (a few repeated styles): the ratio
# matters only where the bytes are.
RATIO_FROM_BYTES = MB
# The <dimension> element sits before the sheet's data, in its first kilobytes.
DIMENSION_BYTES = 64 * 1024
_DIMENSION = re.compile(rb"""<(?:\w+:)?dimension\s+ref=["']([A-Z]*)(\d*):?([A-Z]*)(\d*)["']""")
_ROW = re.compile(rb"""<(?:\w+:)?row\s[^>]*?\br=["'](\d+)["']""")
_ROW_TAGS = (b"<row ", b":row ")
# Only a cell beyond column ZZ (702) can be over the column limit: three letters or more. A
# literal prefix keeps the search fast (about 0.2 s for a 100,000-row sheet).
_WIDE_CELLS = (re.compile(rb'r="([A-Z]{3,})\d'), re.compile(rb"r='([A-Z]{3,})\d"))


class FileTooLarge(ImportFileError):
    """The upload is larger than a limit allows (pages and the API answer 413)."""


def check_upload_size(size: int) -> None:
    limit = import_max_upload_bytes()
    if size > limit:
        raise FileTooLarge(size_message(size, limit))


def check_package(path: Path) -> None:
    """The cheap part of `check_workbook`, for the upload's request: a zip's (an .xlsx's)
    declared unpacked sizes, read from its directory alone. Anything else passes."""
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            return
    try:
        with zipfile.ZipFile(path) as package:
            _check_unpacked(package.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFileError(gettext("The file is not a valid .xlsx workbook.")) from exc


def check_workbook(path: Path) -> None:
    """An .xlsx before calamine opens it: its parts' unpacked sizes (as the zip's directory
    declares them; Python's reader never inflates a part past that), how tightly each is
    packed, and the rows and columns of each sheet."""
    try:
        with zipfile.ZipFile(path) as package:
            parts = package.infolist()
            _check_unpacked(parts)
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    _check_sheet(package, part.filename)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFileError(gettext("The file is not a valid .xlsx workbook.")) from exc


def _check_unpacked(parts: Sequence[zipfile.ZipInfo]) -> None:
    unpacked, limit = sum(part.file_size for part in parts), import_max_unpacked_bytes()
    if unpacked > limit:
        raise FileTooLarge(
            gettext("The workbook unpacks to %(size)s MB; the limit is %(limit)s MB.")
            % {"size": megabytes(unpacked), "limit": megabytes(limit)}
        )
    for part in parts:
        ratio = part.file_size // max(part.compress_size, 1)
        if part.file_size >= RATIO_FROM_BYTES and ratio > MAX_XLSX_RATIO:
            raise FileTooLarge(
                gettext(
                    "The workbook's part %(part)s unpacks to %(ratio)s times its size; a real "
                    "export at most %(limit)s times. Save the file again in Excel."
                )
                % {"part": part.filename, "ratio": ratio, "limit": MAX_XLSX_RATIO}
            )


def _check_sheet(package: zipfile.ZipFile, name: str) -> None:
    """The sheet's declared dimension, then its rows' numbers and wide cells as its XML
    streams by (rows come in order: the scan stops at the first one over the limit)."""
    max_row = import_max_rows() + 1  # the header's row too
    with package.open(name) as source:
        head = source.read(DIMENSION_BYTES)
        dimension = _DIMENSION.search(head)
        if dimension:
            last_column = dimension[3] or dimension[1]
            _check_rows(int(dimension[4] or dimension[2] or 0), max_row)
            _check_columns(_column_number(last_column) if last_column else 0)
        pending, block = b"", head
        while block:
            window = pending + block
            _check_rows(_last_row(window), max_row)
            wide = [ref for pattern in _WIDE_CELLS for ref in pattern.findall(window)]
            _check_columns(max(map(_column_number, wide), default=0))
            pending = window[-256:]  # an element cut at the block's end is seen whole next time
            block = source.read(SCAN_BLOCK_BYTES)


def _last_row(xml: bytes) -> int:
    """The number of the last <row r="…"> that starts in `xml` (0 if none does)."""
    start = max(xml.rfind(tag) for tag in _ROW_TAGS)
    if start < 0:
        return 0
    row = _ROW.match(xml, xml.rfind(b"<", 0, start + 1))
    return int(row[1]) if row else 0


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _check_rows(rows: int, limit: int) -> None:
    if rows > limit:
        raise ImportFileError(rows_message(rows - 1, limit - 1))


def _check_columns(columns: int) -> None:
    if columns > MAX_IMPORT_COLUMNS:
        raise ImportFileError(columns_message(columns))


def rows_message(rows: int, limit: int) -> str:
    return gettext("The file has %(count)s rows; the limit is %(limit)s.") % {
        "count": rows,
        "limit": limit,
    }


def columns_message(columns: int) -> str:
    return gettext("The file has %(count)s columns; the limit is %(limit)s.") % {
        "count": columns,
        "limit": MAX_IMPORT_COLUMNS,
    }


def check_info(info: FileInfo) -> None:
    """What inspecting any kind of file found: its rows, its columns, the length of its
    headers and of the cells of its first rows (all stored with the job and shown)."""
    if info.total_rows > import_max_rows():
        raise ImportFileError(rows_message(info.total_rows, import_max_rows()))
    if len(info.headers) > MAX_IMPORT_COLUMNS:
        raise ImportFileError(columns_message(len(info.headers)))
    for header in info.headers:
        check_cell(header, line=info.header_line, column=header[:50])
    for row in info.sample:
        for column, value in row.items():
            check_cell(value, line=None, column=column)


def check_cell(value: str, *, line: int | None, column: str) -> None:
    if len(value) > MAX_CELL_CHARS:
        raise ImportFileError(cell_message(len(value), line=line, column=column))


def check_cells(values: Iterable[str], lines: Sequence[int], column: str) -> None:
    """A chunk's column: the first cell over MAX_CELL_CHARS stops the file, naming its line."""
    if max(map(len, values), default=0) <= MAX_CELL_CHARS:  # in C: ~20 ns a cell
        return
    index, value = next((i, v) for i, v in enumerate(values) if len(v) > MAX_CELL_CHARS)
    raise ImportFileError(cell_message(len(value), line=int(lines[index]), column=column))


def cell_message(length: int, *, line: int | None, column: str) -> str:
    params = {"column": column, "count": length, "limit": MAX_CELL_CHARS, "line": line}
    if line is None:
        return (
            gettext("A cell of column %(column)s has %(count)s characters; the limit is %(limit)s.")
            % params
        )
    return (
        gettext("Line %(line)s, column %(column)s: %(count)s characters; the limit is %(limit)s.")
        % params
    )
