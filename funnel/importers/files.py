"""Opening a CRM export: what kind of file it is, how it is encoded and split, its headers.

Nothing here knows about CRMs or our fields: `inspect_file` describes the file, `read_columns`
streams chosen columns of it in chunks, each row with the line it came from.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from django.utils.translation import gettext

# Enough of the start of a file to tell its encoding and delimiter (whole lines are kept).
SAMPLE_BYTES = 64 * 1024
# Rows shown in the upload preview.
SAMPLE_ROWS = 10
# The whole-file pass (counting records, checking UTF-8) reads this much at a time: big enough
# for numpy to be fast, small enough to keep memory flat whatever the file size.
SCAN_BLOCK_BYTES = 8 * 1024 * 1024
# Text files have almost no control bytes; binary ones (and UTF-16 without a BOM) are full of them.
MAX_CONTROL_SHARE = 0.01
DELIMITERS = (";", ",", "\t")

_QUOTE = ord('"')
_NEWLINE = ord("\n")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_SPACES = re.compile(r"\s+")

FileKind = Literal["csv", "xlsx"]


class ImportFileError(Exception):
    """The file cannot be read at all; the message says why and what to do (translated)."""


@dataclass(frozen=True)
class FileInfo:
    """What `inspect_file` learnt about an upload; everything the readers need to read it."""

    filename: str
    kind: FileKind
    encoding: str  # "utf-8-sig", "utf-8" or "cp1251"; "" for xlsx
    delimiter: str  # ";", "," or "\t"; "" for xlsx
    headers: tuple[str, ...]  # unique, stripped, in file order; blank trailing columns dropped
    positions: tuple[int, ...]  # 0-based column of each header in the file
    total_rows: int  # data rows after the header (blank lines included)
    sample: list[dict[str, str]] = field(default_factory=list)
    header_line: int = 1  # the line (CSV) or sheet row (xlsx) holding the headers
    multiline: bool = False  # some quoted value spans lines: line numbers need a scan
    sheet: str = ""  # xlsx: the sheet read (the first one)

    def to_json(self) -> dict[str, Any]:
        """What an import job stores, so its preview and its run never inspect the file
        again (`from_json` gives it back)."""
        return {
            "filename": self.filename,
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "headers": list(self.headers),
            "positions": list(self.positions),
            "total_rows": self.total_rows,
            "sample": self.sample,
            "header_line": self.header_line,
            "multiline": self.multiline,
            "sheet": self.sheet,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileInfo:
        return cls(
            **{**data, "headers": tuple(data["headers"]), "positions": tuple(data["positions"])}
        )


def inspect_file(path: str | Path, *, filename: str) -> FileInfo:
    """Tell a CSV from an xlsx (by content, then extension), its encoding, delimiter, headers,
    row count and first rows. Raises ImportFileError for anything we cannot read."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise ImportFileError(gettext("The file is empty."))
    kind = _file_kind(path, head, filename)
    if kind == "xlsx":
        return _inspect_xlsx(path, filename)
    return _inspect_csv(path, head, filename)


def unique_headers(names: Sequence[str]) -> list[str]:
    """Strip names and make repeats unique in a stable way: `Теги`, `Теги (2)`, `Теги (3)`.
    A blank name inside the header row becomes `#<column number>`."""
    cleaned = [clean_header(name) for name in names]
    taken = {name for name in cleaned if name}
    seen: dict[str, int] = {}
    result: list[str] = []
    for position, name in enumerate(cleaned, start=1):
        if not name:
            name = f"#{position}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count > 1:
            candidate = f"{name} ({count})"
            while candidate in taken:
                count += 1
                candidate = f"{name} ({count})"
            seen[name] = count
            name = candidate
        taken.add(name)
        result.append(name)
    return result


def clean_header(name: object) -> str:
    return _SPACES.sub(" ", str(name or "").replace("\ufeff", "")).strip()


def normalize_header(name: str) -> str:
    """How headers are compared: case, spacing, BOM and ё/е do not matter."""
    return clean_header(name).casefold().replace("ё", "е")


def header_signature(headers: Sequence[str]) -> str:
    """A stable hash of the normalized header names, to find a saved manual mapping again for a
    file with the same columns. Column order does not matter (mappings go by name)."""
    names = sorted({normalize_header(name) for name in headers if clean_header(name)})
    return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode()).hexdigest()


@dataclass
class RawChunk:
    """Some rows of the file: the chosen columns as object arrays of stripped str ("" for
    empty) and the physical line each row starts on. Blank rows are left out but counted in
    `rows`, so the chunks' `rows` add up to `FileInfo.total_rows`."""

    columns: dict[str, np.ndarray]
    lines: np.ndarray  # int64
    rows: int

    def __len__(self) -> int:
        return len(self.lines)


def read_columns(
    path: str | Path,
    info: FileInfo,
    columns: Sequence[str],
    *,
    chunk_rows: int,
    limit: bool = False,
) -> Iterator[RawChunk]:
    """Stream the chosen columns of the file in chunks of `chunk_rows` rows. With `limit`,
    only the first chunk is read (for previews)."""
    wanted = sorted((info.positions[info.headers.index(name)], name) for name in set(columns))
    if info.kind == "xlsx":
        chunks = _xlsx_chunks(Path(path), info, wanted, chunk_rows, limit)
    else:
        chunks = _csv_chunks(Path(path), info, wanted, chunk_rows, limit)
    for chunk in chunks:
        blank = np.ones(len(chunk), dtype=bool)
        for values in chunk.columns.values():
            blank &= values == ""
        if blank.any():
            keep = ~blank
            chunk.columns = {name: values[keep] for name, values in chunk.columns.items()}
            chunk.lines = chunk.lines[keep]
        yield chunk


def _stripped(values: np.ndarray) -> np.ndarray:
    # ~4x faster than pandas' .str.strip() on Python strings.
    return np.array(list(map(str.strip, values)), dtype=object)


# --- CSV ------------------------------------------------------------------------------------


def _inspect_csv(path: Path, head: bytes, filename: str) -> FileInfo:
    encoding = _detect_encoding(path, head)
    text = _decode_sample(head, encoding)
    delimiter = _detect_delimiter(text)
    try:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise ImportFileError(gettext("The file has no header row.")) from exc
    headers, positions = _header_columns(first)
    if not headers:
        raise ImportFileError(gettext("The file has no header row."))
    records, multiline = _scan_records(path)
    info = FileInfo(
        filename=filename,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        headers=tuple(headers),
        positions=tuple(positions),
        total_rows=max(records - 1, 0),
        multiline=multiline,
    )
    first = next(read_columns(path, info, headers, chunk_rows=SAMPLE_ROWS, limit=True), None)
    if first is None:
        return info
    sample = [
        {name: str(first.columns[name][row]) for name in headers} for row in range(len(first))
    ]
    return replace(info, sample=sample)


def _header_columns(names: Sequence[str]) -> tuple[list[str], list[int]]:
    """Headers and their positions, without the blank columns a trailing delimiter leaves."""
    cleaned = [clean_header(name) for name in names]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return unique_headers(cleaned), list(range(len(cleaned)))


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise ImportFileError(
            gettext(
                "The file is in UTF-16 or is not a text file. Save it as CSV in UTF-8 or "
                "Windows-1251, or as an Excel workbook (.xlsx)."
            )
        )
    control = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
    if control > MAX_CONTROL_SHARE * len(head):
        raise ImportFileError(
            gettext("This is not a text file. Upload a CSV export or an Excel workbook (.xlsx).")
        )
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif _is_utf8_prefix(head):
        encoding = "utf-8"
    else:
        encoding = "cp1251"
    if encoding != "cp1251" and not _is_utf8_file(path):
        encoding = "cp1251"  # UTF-8 at the start only: a cp1251 file with plain ASCII up front
    if encoding == "cp1251":
        try:
            head.decode("cp1251")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                gettext(
                    "The file's encoding is neither UTF-8 nor Windows-1251. Save it as CSV "
                    "in UTF-8 and upload it again."
                )
            ) from exc
    return encoding


def _is_utf8_prefix(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8_file(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while block := handle.read(SCAN_BLOCK_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _decode_sample(head: bytes, encoding: str) -> str:
    cut = head.rfind(b"\n")
    if 0 < cut < len(head) - 1 and len(head) == SAMPLE_BYTES:
        head = head[: cut + 1]  # whole lines only
    return head.decode(encoding, errors="replace")


def _detect_delimiter(text: str) -> str:
    lines = text.splitlines(keepends=True)[:50]
    sample = "".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter and _field_count(lines[0], delimiter) > 1:
        return delimiter
    # Fallback: the delimiter that splits the header into the most fields.
    counts = {d: _field_count(lines[0], d) if lines else 0 for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter)))
    except (StopIteration, csv.Error):
        return 0


def _scan_records(path: Path) -> tuple[int, bool]:
    """Count CSV records without parsing: a newline ends a record unless it is inside quotes,
    i.e. unless an odd number of quote characters precede it. Returns (records including the
    header, whether any record spans several lines)."""
    records = 0
    multiline = False
    quotes_open = False
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            last = block[-1:]
            if not quotes_open and b'"' not in block:
                records += block.count(b"\n")
                continue
            ends, quotes_open = _record_ends(block, quotes_open)
            records += len(ends)
            multiline = multiline or len(ends) < block.count(b"\n")
    if last != b"\n":
        records += 1  # the last record has no newline
    return records, multiline


def _record_ends(block: bytes, quotes_open: bool) -> tuple[np.ndarray, bool]:
    """Offsets of the newlines in `block` that end a record, and whether a quote is still open
    at the end of the block."""
    data = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(data == _NEWLINE)
    quotes = np.flatnonzero(data == _QUOTE)
    before = np.searchsorted(quotes, newlines) + int(quotes_open)
    return newlines[before % 2 == 0], bool((len(quotes) + int(quotes_open)) % 2)


def record_start_lines(path: str | Path) -> np.ndarray:
    """The physical line (1-based) on which each record starts; record 0 is the header."""
    starts: list[np.ndarray] = [np.array([1], dtype=np.int64)]
    lines_before = 0
    quotes_open = False
    with Path(path).open("rb") as handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            data = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(data == _NEWLINE)
            ends, quotes_open_after = _record_ends(block, quotes_open)
            # Line number of each ending newline = lines before it in the file + 1.
            line_of_end = lines_before + np.searchsorted(newlines, ends) + 1
            starts.append(line_of_end + 1)
            lines_before += len(newlines)
            quotes_open = quotes_open_after
    return np.concatenate(starts)


def _csv_chunks(
    path: Path, info: FileInfo, wanted: list[tuple[int, str]], chunk_rows: int, limit: bool
) -> Iterator[RawChunk]:
    positions = [position for position, _ in wanted]
    names = [name for _, name in wanted]
    starts = record_start_lines(path) if info.multiline and not limit else None
    reader = pd.read_csv(
        path,
        sep=info.delimiter,
        header=0,  # names come from `info` (pandas would rename repeated ones its own way)
        usecols=positions or [0],
        dtype=object,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,  # blank lines keep their place, so line numbers stay right
        encoding=info.encoding,
        # cp1251 leaves only byte 0x98 undefined; one odd character must not stop an import.
        encoding_errors="strict" if info.encoding.startswith("utf-8") else "replace",
        quotechar='"',
        doublequote=True,
        engine="c",
        chunksize=chunk_rows,
        nrows=chunk_rows if limit else None,
    )
    done = 0
    with reader:
        for frame in reader:
            count = len(frame)
            if starts is None:
                lines = np.arange(done, done + count, dtype=np.int64) + info.header_line + 1
            else:
                lines = starts[done + 1 : done + 1 + count]
            columns = {
                name: _stripped(frame.iloc[:, i].to_numpy(dtype=object))
                for i, name in enumerate(names)
            }
            done += count
            yield RawChunk(columns=columns, lines=lines, rows=count)


# --- xlsx -----------------------------------------------------------------------------------


def _file_kind(path: Path, head: bytes, filename: str) -> FileKind:
    extension = Path(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise ImportFileError(
            gettext("This archive is not an Excel workbook. Upload a CSV or an .xlsx file.")
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            gettext("Old Excel files (.xls) are not supported. Save the file as .xlsx or CSV.")
        )
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if start.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        raise ImportFileError(
            gettext(
                "This is a web page saved with an Excel extension (Bitrix24 exports Excel like "
                "this). Open it in Excel and save it as .xlsx, or export to CSV."
            )
        )
    if extension in (".xlsx", ".xlsm"):
        raise ImportFileError(gettext("The file is not a valid .xlsx workbook."))
    return "csv"


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


def _inspect_xlsx(path: Path, filename: str) -> FileInfo:
    with _first_sheet(path) as sheet:
        rows = sheet.iter_rows(values_only=True)
        header_line, first = next(
            ((number, row) for number, row in enumerate(rows, 1) if any(map(cell_text, row))),
            (0, ()),
        )
        headers, positions = _header_columns([cell_text(cell) for cell in first])
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


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_ROW_TAGS = (b"<row ", b":row ")


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


def _xlsx_chunks(
    path: Path, info: FileInfo, wanted: list[tuple[int, str]], chunk_rows: int, limit: bool
) -> Iterator[RawChunk]:
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
