"""HTML tables saved as Excel: Bitrix24's "Export to Excel" writes an HTML page (a `<table>`,
one `<tr>` per deal, the header row first) with an .xls extension. Read with the standard
library's streaming HTML parser, a block at a time, so a large export never sits in memory
whole. Rows are numbered like a sheet's: the header row is line 1."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from django.utils.translation import gettext

from funnel.importers.file_info import (
    SAMPLE_BYTES,
    SAMPLE_ROWS,
    FileInfo,
    ImportFileError,
    RawChunk,
)
from funnel.importers.headers import header_columns

# Read this much of the file at a time.
BLOCK_BYTES = 1024 * 1024
# What a file starts with when it is a web page, not a workbook or a CSV.
HTML_STARTS = (b"<html", b"<!doctype", b"<table", b"<meta", b"<head", b"<body")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def is_html(head: bytes) -> bool:
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return start.startswith(HTML_STARTS) or (
        start.startswith(b"<?xml") and b"<table" in start[:4096].lower()
    )


def _encoding(head: bytes) -> str:
    """The page's declared charset (Bitrix24 declares it), else UTF-8 if it decodes, else
    Windows-1251."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    declared = _CHARSET.search(head)
    if declared:
        try:
            return codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the block's end
            return "cp1251"
    return "utf-8"


class _TableRows(HTMLParser):
    """Collects the rows of the page's first table as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.depth = 0  # nesting of <table>: only the outermost table's rows are read
        self.done = False
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self._end_row()
            self.row = []
        elif self.depth == 1 and tag in ("td", "th") and self.row is not None:
            self._end_cell()
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag == "table":
            self.depth -= 1
            if self.depth == 0:
                self._end_row()
                self.done = True
        elif self.depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self.depth == 1 and tag == "tr":
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(_SPACES.sub(" ", "".join(self.cell)).strip())
        self.cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self.row is not None:
            self.rows.append(self.row)
        self.row = None


def _rows(path: Path, encoding: str) -> Iterator[list[str]]:
    """Every row of the first table, the header row first, as it is parsed."""
    parser = _TableRows()
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as handle:
        while not parser.done:
            block = handle.read(BLOCK_BYTES)
            parser.feed(decoder.decode(block, final=not block))
            yield from parser.rows
            parser.rows = []
            if not block:
                parser.close()
                parser._end_row()
                yield from parser.rows
                return


def inspect_html(path: Path, head: bytes, filename: str) -> FileInfo:
    """`inspect_file` for an HTML table (one pass to count its rows)."""
    encoding = _encoding(head[:SAMPLE_BYTES])
    rows = _rows(path, encoding)
    first = next(rows, None)
    if not first or not any(first):
        raise ImportFileError(
            gettext("This web page has no table with a header row. Export the deals again.")
        )
    headers, positions = header_columns(first)
    sample: list[dict[str, str]] = []
    total = 0
    for row in rows:
        total += 1
        if len(sample) < SAMPLE_ROWS:
            sample.append({h: _cell(row, p) for h, p in zip(headers, positions, strict=True)})
    return FileInfo(
        filename=filename,
        kind="html",
        encoding=encoding,
        delimiter="",
        headers=tuple(headers),
        positions=tuple(positions),
        total_rows=total,
        sample=sample,
    )


def _cell(row: list[str], position: int) -> str:
    return row[position] if position < len(row) else ""


def html_chunks(
    path: Path, info: FileInfo, wanted: list[tuple[int, str]], chunk_rows: int, limit: bool
) -> Iterator[RawChunk]:
    """The chosen columns in chunks of `chunk_rows` rows (the first chunk only with `limit`)."""
    rows = _rows(path, info.encoding)
    next(rows, None)  # the header row
    columns: dict[str, list[str]] = {name: [] for _position, name in wanted}
    lines: list[int] = []
    line = 1
    for row in rows:
        line += 1
        for position, name in wanted:
            columns[name].append(_cell(row, position))
        lines.append(line)
        if len(lines) == chunk_rows:
            yield _chunk(columns, lines)
            if limit:
                return
            columns = {name: [] for _position, name in wanted}
            lines = []
    if lines:
        yield _chunk(columns, lines)


def _chunk(columns: dict[str, list[str]], lines: list[int]) -> RawChunk:
    return RawChunk(
        columns={name: np.array(values, dtype=object) for name, values in columns.items()},
        lines=np.array(lines, dtype=np.int64),
        rows=len(lines),
    )
