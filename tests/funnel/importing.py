"""Helpers of the CRM import tests (test_import_*.py): files on disk, our demo funnel, reading
a whole file, and the leads frame's contract."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from django.utils import translation

from funnel.importers import FileInfo, LeadChunk, read_leads
from funnel.ingest.schema import LEAD_COLUMNS, LOST, WON, RowError

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]

# The funnel the imports map into: positions 1..5, the key stage is "Встреча проведена".
STAGES = ["Лид", "Целевой лид", "Встреча назначена", "Встреча проведена", "Оплачено"]
KEY_STAGE = "Встреча проведена"
LAST_POSITION = len(STAGES)

FRAME_DTYPES = {
    "line": "int64",
    "created_at": "datetime64[ns, UTC]",
    "stage_at": "datetime64[ns, UTC]",
    "lost_at": "datetime64[ns, UTC]",
    "paid_at": "datetime64[ns, UTC]",
    "is_target": "boolean",
    "is_new_client": "boolean",
    "won": "boolean",
    "lost": "boolean",
    "stage": "Int64",
}


def read(
    path: Path,
    info: FileInfo,
    mapping: Mapping[str, str],
    stage_map: Mapping[str, int | str],
    **options: Any,
) -> tuple[pd.DataFrame, list[RowError], list[LeadChunk]]:
    """The whole file: (valid rows, every error, the chunks). Reasons come in English, their
    source text, whatever the translations say."""
    options.setdefault("last_position", LAST_POSITION)
    with translation.override("en"):
        chunks = list(read_leads(path, info, mapping, stage_map, **options))
    errors = [error for chunk in chunks for error in chunk.errors]
    assert sum(chunk.rows for chunk in chunks) == info.total_rows
    return combined(chunks), errors, chunks


def positions(stage_names: Mapping[str, str]) -> dict[str, int | str]:
    """default_stage_map's names → read_leads' positions (what the stage-mapping form does)."""
    return {
        raw: target if target in (WON, LOST) else STAGES.index(target) + 1
        for raw, target in stage_names.items()
    }


def combined(chunks: list[LeadChunk]) -> pd.DataFrame:
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True)
    assert_leads_frame(frame)
    return frame


def assert_leads_frame(frame: pd.DataFrame) -> None:
    """The contract of funnel/ingest/schema.py."""
    assert tuple(frame.columns) == LEAD_COLUMNS
    for column in LEAD_COLUMNS:
        expected = FRAME_DTYPES.get(column, "str")
        assert str(frame[column].dtype) == expected, column
        if expected == "str":
            assert frame[column].map(type).eq(str).all(), column  # "" for empty, never NaN
    # The outcome is known, or (a file with no stage) unknown for won and lost together.
    assert frame["won"].isna().equals(frame["lost"].isna())


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
