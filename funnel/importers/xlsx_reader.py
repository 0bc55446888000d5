"""Excel workbook uploads (.xlsx): the first worksheet's header row, row count and sample, its
chosen columns in chunks, and how a cell reads as text.

Read with python-calamine (Rust's calamine): opening the sheet decodes its cells into compact
Rust values in one pass, and rows become Python lists only as they are iterated — about ten
times faster than openpyxl, which builds Python objects for every XML element. calamine reads
error cells (#N/A, #DIV/0!) as empty; `_error_cells` finds them in the sheet's XML so that they
read as their text, as before, and fail their column's check instead of passing as blanks.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
from django.utils.translation import gettext
from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
)

from funnel.importers.file_info import (
    SAMPLE_ROWS,
    SCAN_BLOCK_BYTES,
    FileInfo,
    ImportFileError,
    RawChunk,
)
from funnel.importers.headers import header_columns

# A float holds every integer up to 2**53 exactly: a whole number below it is written in full
# (a 16-digit id stays itself); beyond it, and for fractions, 15 significant digits, as Excel
# keeps (more is binary noise: 0.1 + 0.2).
EXACT_INTEGERS = 2**53
# The shortest repr of a float with at most 15 significant digits is what rounding it to 15
# digits gives: "12345.67" (16 characters with the point) needs no Decimal.
MAX_PLAIN_REPR = 16

# Names calamine opens as .xlsx without looking inside.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

# An encrypted workbook is an OLE container holding this stream (its name in UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_PACKAGE_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Error cells in a sheet's XML: <c r="B7" t="e"><f>1/0</f><v>#DIV/0!</v></c> (the prefix of
# "x:c" is optional).
_CELL_STARTS = (b"<c ", b":c ")
_ERROR_TYPES = (b't="e"', b"t='e'")
_ERROR_TYPE = re.compile(rb"""\st=["']e["']""")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s[^>]*>")
_CELL_REF = re.compile(rb"""\sr=["']([A-Z]{1,3})(\d+)["']""")
_CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")


def password_protected(path: Path) -> bool:
    """Whether an OLE file (what .xls and encrypted .xlsx are) is an encrypted workbook. The
    stream's name sits in the container's directory, anywhere in the file."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            window = tail + block
            if _ENCRYPTED_PACKAGE in window:
                return True
            tail = window[-len(_ENCRYPTED_PACKAGE) :]  # a name cut by the block boundary
    return False


def password_message() -> str:
    return gettext(
        "The workbook is protected with a password. Remove the password in Excel "
        "(File → Info → Protect Workbook → Encrypt with Password) and upload it again."
    )


@dataclass(frozen=True)
class _Sheet:
    """The first worksheet as calamine decoded it. Its rows start at row 1 (empty rows above
    the data come as blank lists) but at its first used column, `first_column`."""

    cells: CalamineSheet
    title: str
    first_column: int  # 0-based
    last_row: int  # 1-based; 0 for an empty sheet
    errors: dict[tuple[int, int], str]  # (row, 0-based column) of error cells → "#N/A"

    def rows(self, start: int = 0) -> Iterator[list[object]]:
        """The rows from (0-based) `start` on, as wide as the used range."""
        if not self.last_row:
            return iter(())  # calamine cannot iterate an empty sheet
        return islice(self.cells.iter_rows(), start, None)

    def full_row(self, number: int, row: Sequence[object]) -> list[object]:
        """Row `number` (1-based) from column A on, error cells as their text."""
        cells = [""] * self.first_column + list(row)
        for (line, column), text in self.errors.items():
            if line == number:
                cells[column] = text
        return cells


@contextmanager
def _first_sheet(path: Path) -> Iterator[_Sheet]:
    """The first worksheet (chart sheets do not count; hidden ones do, as in openpyxl)."""
    try:
        workbook = _open_workbook(path)
    except PasswordError as exc:
        raise ImportFileError(password_message()) from exc
    except (CalamineError, OSError) as exc:
        raise ImportFileError(gettext("The file is not a valid .xlsx workbook.")) from exc
    try:
        index = next(
            (
                number
                for number, sheet in enumerate(workbook.sheets_metadata)
                if sheet.typ == SheetTypeEnum.WorkSheet
            ),
            None,
        )
        if index is None:
            raise ImportFileError(gettext("The file has no header row."))
        try:
            # Error cells are searched for while calamine decodes the sheet: both let go of
            # the GIL (calamine in Rust, zlib inflating the XML), so this costs no time.
            with ThreadPoolExecutor(max_workers=1) as pool:
                searching = pool.submit(_error_cells, path, index)
                cells = workbook.get_sheet_by_index(index)
                errors = searching.result()
        except (CalamineError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise ImportFileError(gettext("The file is not a valid .xlsx workbook.")) from exc
        start, end = cells.start, cells.end
        yield _Sheet(
            cells=cells,
            title=cells.name,
            first_column=start[1] if start else 0,
            last_row=end[0] + 1 if end else 0,
            errors=errors,
        )
    finally:
        workbook.close()


def _open_workbook(path: Path) -> CalamineWorkbook:
    """calamine picks its reader by the file's extension, and uploads keep the name they came
    with (a workbook saved as .xls or .csv is still one): any other name is read by content."""
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return CalamineWorkbook.from_path(path)
    with path.open("rb") as handle:
        return CalamineWorkbook.from_filelike(handle)


def inspect_xlsx(path: Path, filename: str) -> FileInfo:
    """`inspect_file` for a workbook: the first non-empty row of its first sheet is the header."""
    with _first_sheet(path) as sheet:
        rows = ((number, sheet.full_row(number, row)) for number, row in enumerate(sheet.rows(), 1))
        header_line, first = next(
            ((number, row) for number, row in rows if any(map(cell_text, row))), (0, [])
        )
        headers, positions = header_columns([cell_text(cell) for cell in first])
        if not headers:
            raise ImportFileError(gettext("The file has no header row."))
        sample: list[dict[str, str]] = []
        for _number, row in rows:
            if len(sample) == SAMPLE_ROWS:
                break
            values = [cell_text(row[p]) if p < len(row) else "" for p in positions]
            if any(values):
                sample.append(dict(zip(headers, values, strict=True)))
        return FileInfo(
            filename=filename,
            kind="xlsx",
            encoding="",
            delimiter="",
            headers=tuple(headers),
            positions=tuple(positions),
            total_rows=max(sheet.last_row - header_line, 0),
            sample=sample,
            header_line=header_line,
            sheet=sheet.title,
        )


def xlsx_chunks(
    path: Path, info: FileInfo, wanted: list[tuple[int, str]], chunk_rows: int, limit: bool
) -> Iterator[RawChunk]:
    """The `wanted` (position, header) columns in chunks, blank rows still in; with `limit`,
    only the first chunk."""
    names = dict(wanted)
    with _first_sheet(path) as sheet:
        rows = sheet.rows(info.header_line)
        first_line = info.header_line + 1
        while block := list(islice(rows, chunk_rows)):
            # zip(*rows) turns rows into columns in C; every row is as wide as the used range.
            by_column = list(zip(*block, strict=True))
            columns: dict[str, np.ndarray] = {}
            for position, name in wanted:
                index = position - sheet.first_column
                if 0 <= index < len(by_column):
                    columns[name] = column_texts(by_column[index])
                else:
                    columns[name] = np.full(len(block), "", dtype=object)
            last_line = first_line + len(block) - 1
            for (line, column), text in sheet.errors.items():
                if column in names and first_line <= line <= last_line:
                    columns[names[column]][line - first_line] = text
            lines = np.arange(first_line, last_line + 1, dtype=np.int64)
            yield RawChunk(columns=columns, lines=lines, rows=len(block))
            if limit:
                return
            first_line = last_line + 1


def column_texts(cells: Sequence[object]) -> np.ndarray:
    """A column's cells as text (see `cell_text`); text cells, most of an export, go the
    short way."""
    text_of = _TEXT_OF.get
    texts = [
        cell.strip() if type(cell) is str else text_of(type(cell), _any_text)(cell)
        for cell in cells
    ]
    return np.array(texts, dtype=object)


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold: "1250000.5", "42",
    "2024-04-15 09:30:00". A date-only cell keeps its midnight, as openpyxl read it."""
    return _TEXT_OF.get(type(value), _any_text)(value)


def _any_text(value: object) -> str:
    """`cell_text` of a value whose exact type `_TEXT_OF` does not list (a subclass)."""
    if value is None:
        return ""
    for kind in (str, bool, float, int, datetime, date, time):
        if isinstance(value, kind):
            return _TEXT_OF[kind](value)
    return str(value).strip()


def number_text(value: float) -> str:
    """A numeric cell (calamine gives every number of an .xlsx as a float) without exponent or
    binary noise: 42.0 → "42", 1234567890123456.0 → itself, 0.1 + 0.2 → "0.3"."""
    if value.is_integer() and -EXACT_INTEGERS < value < EXACT_INTEGERS:
        return str(int(value))
    plain = float.__repr__(value)  # numpy's floats have a repr of their own
    if len(plain) <= MAX_PLAIN_REPR and "e" not in plain:
        return plain
    return format(Decimal(format(value, ".15g")), "f")


# What a cell holds → its text, looked up by its exact type: a lookup per cell, not a chain of
# isinstance checks (a 100,000-row sheet has a million cells).
_TEXT_OF: dict[type, Callable[[Any], str]] = {
    str: str.strip,
    float: number_text,
    int: str,
    bool: lambda value: "true" if value else "false",
    datetime: lambda value: value.isoformat(" "),
    date: lambda value: f"{value.isoformat()} 00:00:00",
    time: time.isoformat,
    type(None): lambda _value: "",
}


def _error_cells(path: Path, index: int) -> dict[tuple[int, int], str]:
    """Error cells of the workbook's `index`-th sheet: (row, 0-based column) → "#N/A". The
    sheet's XML is searched as bytes, block by block; cells are only parsed where a block has
    an error type in it (rare: exports hold values, not formulas)."""
    found: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as package:
        part = _sheet_part(package, index)
        if part is None:  # calamine found the sheet by a way we do not follow: no errors read
            return found
        with package.open(part) as source:
            pending = b""
            while True:
                block = source.read(SCAN_BLOCK_BYTES)
                window = pending + block
                # Keep the last cell for the next block: it may go on there.
                cut = max(window.rfind(start) for start in _CELL_STARTS) if block else -1
                if cut > 0:
                    cut = window.rfind(b"<", 0, cut + 1)
                done, pending = (window[:cut], window[cut:]) if cut > 0 else (window, b"")
                if any(error in done for error in _ERROR_TYPES):
                    found.update(_errors_in(done))
                if not block:
                    return found


def _errors_in(xml: bytes) -> Iterator[tuple[tuple[int, int], str]]:
    for match in _ERROR_TYPE.finditer(xml):
        tag_start = xml.rfind(b"<", 0, match.start())
        tag = _CELL_TAG.match(xml, tag_start)
        if tag is None or tag.group().endswith(b"/>") or tag.end() < match.end():
            continue
        ref = _CELL_REF.search(tag.group())
        value = _CELL_VALUE.search(xml, tag.end())
        end = _CELL_END.search(xml, tag.end())
        if ref is None or value is None or end is None or value.start() > end.start():
            continue
        column = 0
        for letter in ref[1]:
            column = column * 26 + letter - ord("A") + 1
        yield (int(ref[2]), column - 1), value[1].decode("utf-8", "replace").strip()


def _sheet_part(package: zipfile.ZipFile, index: int) -> str | None:
    """The XML part of the workbook's `index`-th sheet (the order calamine lists them in)."""
    try:
        workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
        sheet = [node for node in workbook.iter() if node.tag.endswith("}sheet")][index]
        relations = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, IndexError, ElementTree.ParseError):
        return None
    target = next(
        (
            node.get("Target", "")
            for node in relations.iter(f"{_PACKAGE_NS}Relationship")
            if node.get("Id") == sheet.get(_RELATION_ID)
        ),
        "",
    )
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return part if target and part in package.namelist() else None
