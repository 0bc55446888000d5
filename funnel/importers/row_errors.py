"""What the column-wise lead reader keeps while it checks rows: `Problems` collects the errors
of one chunk column by column, `SeenIds` remembers the external ids met so far in the file, to
flag a repeated one with the line it was first seen on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel.ingest.schema import RowError


class SeenIds:
    """External ids met so far in the file, with the line of their first row. Kept as 64-bit
    hashes in sorted arrays, one per chunk (16 bytes an id), so a million-row file stays small
    in memory; a false match needs two ids among a million to share a 64-bit hash."""

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, their lines)

    def check(self, ids: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(duplicate mask, the line of the first row with that id) for non-empty `ids`."""
        duplicate = np.zeros(len(ids), dtype=bool)
        first_line = np.zeros(len(ids), dtype=np.int64)
        rows = np.flatnonzero(ids != "")
        if not len(rows):
            return duplicate, first_line
        hashes = pd.util.hash_array(ids[rows])
        # This chunk: the first row of each id is the original, later ones are duplicates.
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        earliest = rows[first][inverse]  # rows are in file order, so np.unique's first is first
        duplicate[rows] = earliest != rows
        first_line[rows] = lines[earliest]
        # Earlier chunks: search the sorted distinct hashes (fast), then spread over the rows.
        earlier = np.zeros(len(distinct), dtype=np.int64)
        for seen, seen_lines in self.chunks:
            at = np.minimum(np.searchsorted(seen, distinct), len(seen) - 1)
            found = seen[at] == distinct
            earlier[found] = seen_lines[at[found]]
        before = earlier[inverse] > 0
        duplicate[rows[before]] = True
        first_line[rows[before]] = earlier[inverse][before]
        new = earlier == 0  # ids first met in this chunk
        if new.any():
            self.chunks.append((distinct[new], lines[rows[first]][new]))
        return duplicate, first_line


@dataclass
class Problems:
    """The errors of one chunk, collected column by column."""

    lines: np.ndarray
    order: Mapping[str, int]  # file column → its position, to list a row's errors in order
    bad: np.ndarray = field(init=False)
    parts: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(len(self.lines), dtype=bool)

    def add(
        self, mask: np.ndarray, column: str, values: np.ndarray | str, reason: str | list[str]
    ) -> None:
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        self.bad |= mask
        shown = values[rows] if isinstance(values, np.ndarray) else values
        self.parts.append(
            pd.DataFrame(
                {
                    "line": self.lines[rows],
                    "order": self.order[column],
                    "column": column,
                    "value": shown,
                    "reason": reason,
                }
            )
        )

    def errors(self) -> list[RowError]:
        if not self.parts:
            return []
        table = pd.concat(self.parts, ignore_index=True)
        table = table.sort_values(["line", "order"], kind="stable")
        return [
            RowError(int(line), column, value, reason)
            for line, column, value, reason in zip(
                table["line"], table["column"], table["value"], table["reason"], strict=True
            )
        ]
