"""Opening a CRM export: what kind of file it is (CSV, xlsx, or an HTML table saved as Excel),
then the reader for that kind.

Nothing here knows about CRMs or our fields: `inspect_file` tells a CSV from an xlsx and
describes the file (`FileInfo`), `read_columns` streams chosen columns of it in chunks
(`RawChunk`), each row with the line it came from. The readers themselves are `csv_reader` and
`xlsx_reader`; header names are handled in `headers`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.utils.translation import gettext

from funnel.importers.csv_reader import csv_chunks, inspect_csv
from funnel.importers.file_info import SAMPLE_BYTES, FileInfo, FileKind, ImportFileError, RawChunk
from funnel.importers.file_limits import check_cells, check_info, check_workbook
from funnel.importers.html_reader import html_chunks, inspect_html, is_html
from funnel.importers.xlsx_reader import (
    inspect_xlsx,
    password_message,
    password_protected,
    xlsx_chunks,
)


def inspect_file(path: str | Path, *, filename: str) -> FileInfo:
    """Tell a CSV from an xlsx (by content, then extension), its encoding, delimiter, headers,
    row count and first rows. Raises ImportFileError for anything we cannot read, or larger
    than the limits (`file_limits`: a workbook's are checked before it is opened)."""
    info = _inspect(path, filename=filename)
    check_info(info)
    return info


def _inspect(path: str | Path, *, filename: str) -> FileInfo:
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise ImportFileError(gettext("The file is empty."))
    kind = _file_kind(path, head, filename)
    if kind == "xlsx":
        check_workbook(path)
        return inspect_xlsx(path, filename)
    if kind == "html":
        return inspect_html(path, head, filename)
    return inspect_csv(path, head, filename)


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
    wanted = info.wanted(columns)
    if info.kind == "xlsx":
        chunks = xlsx_chunks(Path(path), info, wanted, chunk_rows, limit)
    elif info.kind == "html":
        chunks = html_chunks(Path(path), info, wanted, chunk_rows, limit)
    else:
        chunks = csv_chunks(Path(path), info, wanted, chunk_rows, limit)
    for chunk in chunks:
        chunk.drop_blank_rows()
        for name, values in chunk.columns.items():
            check_cells(values, chunk.lines, name)
        yield chunk


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
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: .xls, or an encrypted .xlsx
        if password_protected(path):
            raise ImportFileError(password_message())
        raise ImportFileError(
            gettext("Old Excel files (.xls) are not supported. Save the file as .xlsx or CSV.")
        )
    if is_html(head):  # Bitrix24's "Excel" export: an HTML table
        return "html"
    if extension in (".xlsx", ".xlsm"):
        raise ImportFileError(gettext("The file is not a valid .xlsx workbook."))
    return "csv"
