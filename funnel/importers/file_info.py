"""What the file readers share: `FileInfo` (what inspecting an upload learnt, all a reader needs
to read it), `RawChunk` (what reading it yields), `ImportFileError`, and the sizes they work with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# Enough of the start of a file to tell its encoding and delimiter (whole lines are kept).
SAMPLE_BYTES = 64 * 1024
# Rows shown in the upload preview.
SAMPLE_ROWS = 10
# The whole-file pass (counting records, checking UTF-8) reads this much at a time: big enough
# for numpy to be fast, small enough to keep memory flat whatever the file size.
SCAN_BLOCK_BYTES = 8 * 1024 * 1024

FileKind = Literal["csv", "xlsx", "html"]


class ImportFileError(Exception):
    """The file cannot be read at all; the message says why and what to do (translated)."""


@dataclass(frozen=True)
class FileInfo:
    """What `inspect_file` learnt about an upload; everything the readers need to read it."""

    filename: str
    kind: FileKind
    encoding: str  # "utf-8-sig", "utf-8" or "cp1251" (CSV and HTML); "" for xlsx
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

    def wanted(self, columns: Sequence[str]) -> list[tuple[int, str]]:
        """(position in the file, header) of the chosen columns, in file order, each once."""
        return sorted((self.positions[self.headers.index(name)], name) for name in set(columns))


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

    def drop_blank_rows(self) -> None:
        """Leave out the rows empty in every chosen column (they stay counted in `rows`)."""
        blank = np.ones(len(self), dtype=bool)
        for values in self.columns.values():
            blank &= values == ""
        if blank.any():
            keep = ~blank
            self.columns = {name: values[keep] for name, values in self.columns.items()}
            self.lines = self.lines[keep]
