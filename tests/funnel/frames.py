"""Normalized frames (funnel.ingest.schema) written by hand, for the loader's tests."""

import pandas as pd

from funnel.ingest.schema import FRAME_COLUMNS

NOTES = ("comment", "text")


def frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A normalized frame with the dtypes of funnel.ingest.schema."""
    data = pd.DataFrame(rows)
    for column in FRAME_COLUMNS[kind]:
        if column not in data:
            data[column] = None
    stamps = [c for c in data if c.endswith("_at") or c in ("at",)]
    for column in stamps:
        data[column] = pd.to_datetime(data[column], utc=True)
    for column in ("is_target", "won", "lost", "is_new_client", "connected"):
        if column in data:
            data[column] = data[column].astype("boolean")
    if "stage" in data:
        data["stage"] = data["stage"].astype("Int64")
    for column in ("amount", "gross_margin"):
        if column in data:
            data[column] = data[column].fillna("").astype(str)
    for column in data:
        # A task's text, a call's comment: None is "not sent" (the stored value is kept).
        if data[column].dtype == object and column not in ("amount", "gross_margin", *NOTES):
            data[column] = data[column].fillna("")
    return data[list(FRAME_COLUMNS[kind])]


def lead(line: int, external_id: str, stage: int | None, **extra) -> dict:
    return {
        "line": line,
        "external_id": external_id,
        "name": f"Deal {external_id}",
        "created_at": "2026-12-01 09:00:00+03:00",
        "stage": stage,
        "stage_at": "2026-12-10 12:00:00+03:00" if stage else None,
        "won": False,
        "lost": False,
        **extra,
    }
