"""The events API's JSON batch → the normalized frames of `funnel.ingest.schema`. No database.

Every item is checked field by field, and each error names its section, the item's index, the
field, the value and what was expected. Rows carry a batch-wide `line`, so an error the loader
finds later (an event for a lead nobody sent) maps back to its section and index.

Here: each section's fields (`SECTIONS`), the checks across an item, and the frames built from
the valid items; each single value is checked and converted in `batch_values`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from funnel.importers.batch_values import (
    Invalid,
    echo,
    organization_zone,
    to_day,
    to_flag,
    to_moment,
    to_money,
    to_stage,
    to_text,
)
from funnel.importers.values import normalize_text
from funnel.ingest.schema import FRAME_COLUMNS, RowError

# Items per batch, all sections together: enough for a day of a large department, small
# enough to validate and load within one request. Larger exports go through file import.
MAX_ITEMS = 10_000

TEXT, MOMENT, DAY, MONEY, FLAG, STAGE = "text", "moment", "day", "money", "flag", "stage"
# Free text a CRM may or may not export (a task's text, a call's comment): an item without
# the field leaves it None, so the stored value is kept; an empty one is "" (sent, empty).
NOTE = "note"
# A task's text and a call's comment: room for a paragraph, not for a transcript.
NOTE_MAX_LENGTH = 2000
SETTINGS_KEYS = ("funnel", "source", "valid_items_only")


@dataclass(frozen=True)
class Spec:
    kind: str
    required: bool = False
    max_length: int = 200


def _id(required: bool = True) -> Spec:
    return Spec(TEXT, required=required, max_length=100)


# Each section's fields, named like the frame columns (everything but `line`).
SECTIONS: dict[str, dict[str, Spec]] = {
    "leads": {
        "external_id": _id(),
        "name": Spec(TEXT, max_length=300),
        "created_at": Spec(MOMENT, required=True),
        "channel": Spec(TEXT),
        "is_target": Spec(FLAG),
        "non_target_reason": Spec(TEXT, max_length=300),
        "responsible": Spec(TEXT),
        "company": Spec(TEXT, max_length=300),
        "stage": Spec(STAGE),
        "stage_at": Spec(MOMENT),
        "won": Spec(FLAG),
        "lost": Spec(FLAG),
        "lost_reason": Spec(TEXT, max_length=300),
        "lost_at": Spec(MOMENT),
        "amount": Spec(MONEY),
        "gross_margin": Spec(MONEY),
        "product": Spec(TEXT),
        "paid_at": Spec(MOMENT),
        "is_new_client": Spec(FLAG),
    },
    "stage_events": {
        "lead_external_id": _id(),
        "stage": Spec(STAGE, required=True),
        "reached_at": Spec(MOMENT, required=True),
        "member": Spec(TEXT),
    },
    "payments": {
        "external_id": _id(),
        "lead_external_id": _id(),
        "amount": Spec(MONEY, required=True),
        "gross_margin": Spec(MONEY),
        "product": Spec(TEXT),
        "paid_at": Spec(MOMENT, required=True),
        "is_new_client": Spec(FLAG),
        "credited": Spec(TEXT),
    },
    "spend": {
        "channel": Spec(TEXT, required=True),
        "date": Spec(DAY, required=True),
        "amount": Spec(MONEY, required=True),
    },
    "calls": {
        "external_id": _id(),
        "member": Spec(TEXT),
        "lead_external_id": _id(required=False),
        "at": Spec(MOMENT, required=True),
        "connected": Spec(FLAG, required=True),
        "comment": Spec(NOTE, max_length=NOTE_MAX_LENGTH),
    },
    "tasks": {
        "external_id": _id(),
        "lead_external_id": _id(required=False),
        "member": Spec(TEXT),
        "due_at": Spec(MOMENT, required=True),
        "done_at": Spec(MOMENT),
        "text": Spec(NOTE, max_length=NOTE_MAX_LENGTH),
    },
}
# What makes two items of a section the same record (the loader's upsert keys).
IDENTITY = {
    "leads": ("external_id",),
    "payments": ("external_id",),
    "calls": ("external_id",),
    "tasks": ("external_id",),
    "spend": ("channel", "date"),
}


@dataclass(frozen=True)
class ItemError:
    """A bad item: where it is (section, index), which field, what was there, and why."""

    section: str | None
    index: int | None
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "index": self.index,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class Batch:
    """The valid items as frames, every error found, and where each frame line came from."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    errors: list[ItemError] = field(default_factory=list)
    origins: dict[int, tuple[str, int]] = field(default_factory=dict)

    def locate(self, error: RowError) -> ItemError:
        """A loader error (by frame line) as an error of the batch (by section and index)."""
        section, index = self.origins.get(error.line, (None, None))
        return ItemError(section, index, error.column, error.value, error.reason)


def count_items(body: Mapping[str, Any]) -> int:
    """Items in all sections, checked against MAX_ITEMS before anything else is done."""
    return sum(len(body[name]) for name in SECTIONS if isinstance(body.get(name), list))


def _convert(value: Any, spec: Spec, zone: tzinfo, stages: Mapping[str, int], names: list) -> Any:
    if spec.kind in (TEXT, NOTE):
        return to_text(value, spec.max_length)
    if spec.kind == MOMENT:
        return to_moment(value, zone)
    if spec.kind == DAY:
        return to_day(value)
    if spec.kind == MONEY:
        return to_money(value)
    if spec.kind == FLAG:
        return to_flag(value)
    return to_stage(value, stages, names)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def build_frames(
    *,
    body: Mapping[str, Any],
    stage_names: Sequence[str],
    time_zone: str,
) -> Batch:
    """Validate every item of `body` and build the frames of its valid items.

    `stage_names` are the funnel's stages from the top (position 0) down; a lead marked won
    reached the last one. Naive moments are in `time_zone` (the organization's).
    """
    batch = Batch()
    zone = organization_zone(time_zone)
    stages = {normalize_text(name): position for position, name in enumerate(stage_names)}
    names = list(stage_names)
    last_stage = len(names) - 1 if names else None
    for key in body:
        if key not in SECTIONS and key not in SETTINGS_KEYS:
            batch.errors.append(
                ItemError(
                    None,
                    None,
                    str(key),
                    "",
                    _("Unknown section; expected one of: %(sections)s.")
                    % {"sections": ", ".join(SECTIONS)},
                )
            )
    line = 0
    for section, specs in SECTIONS.items():
        items = body.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            batch.errors.append(
                ItemError(section, None, section, echo(items), _("Expected a list of items."))
            )
            continue
        rows: list[dict[str, Any]] = []
        seen: dict[tuple, int] = {}
        for index, item in enumerate(items):
            line += 1
            row, errors = _row(section, index, item, specs, zone, stages, names)
            if row is not None and section == "leads":
                errors += _lead_rules(index, row, item, last_stage)
            if row is not None and not errors and section in IDENTITY:
                identity = tuple(row[name] for name in IDENTITY[section])
                if identity in seen:
                    first = IDENTITY[section][0]
                    errors.append(
                        ItemError(
                            section,
                            index,
                            first,
                            echo(item.get(first)),
                            _("The same record is already item %(index)d of this section.")
                            % {"index": seen[identity]},
                        )
                    )
                else:
                    seen[identity] = index
            if errors:
                batch.errors.extend(errors)
                continue
            assert row is not None
            row["line"] = line
            batch.origins[line] = (section, index)
            rows.append(row)
        if rows:
            batch.frames[section] = frame_of(section, rows)
    return batch


def _row(
    section: str,
    index: int,
    item: Any,
    specs: Mapping[str, Spec],
    zone: tzinfo,
    stages: Mapping[str, int],
    names: list,
) -> tuple[dict[str, Any] | None, list[ItemError]]:
    if not isinstance(item, dict):
        return None, [ItemError(section, index, "", echo(item), _("Expected an object."))]
    errors: list[ItemError] = []
    for key in item:
        if key not in specs:
            errors.append(
                ItemError(
                    section,
                    index,
                    str(key),
                    echo(item[key]),
                    _("Unknown field; expected one of: %(fields)s.") % {"fields": ", ".join(specs)},
                )
            )
    row: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = item.get(name)
        if spec.kind == NOTE and name not in item:
            row[name] = None  # not sent: the stored value stays
            continue
        try:
            value = _convert(raw, spec, zone, stages, names)
        except Invalid as invalid:
            errors.append(ItemError(section, index, name, echo(raw), invalid.reason))
            continue
        if spec.required and _empty(value):
            errors.append(ItemError(section, index, name, "", _("This field is required.")))
            continue
        row[name] = value
    return row, errors


def _lead_rules(
    index: int, row: dict[str, Any], item: Mapping[str, Any], last_stage: int | None
) -> list[ItemError]:
    """Rules across a lead's fields; a won deal has reached the funnel's last stage."""
    if row.get("won") and row.get("lost"):
        return [
            ItemError(
                "leads",
                index,
                "lost",
                echo(item.get("lost")),
                _("A deal cannot be both won and lost."),
            )
        ]
    if row.get("won") and last_stage is not None:
        row["stage"] = last_stage
    return []


def frame_of(section: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (converted values, plus `line`) → a frame with the dtypes of funnel.ingest.schema."""
    specs = SECTIONS[section]
    data: dict[str, Any] = {}
    for column in FRAME_COLUMNS[section]:
        values = [row.get(column) for row in rows]
        kind = specs[column].kind if column in specs else None
        if column == "line":
            data[column] = pd.array(values, dtype="int64")
        elif kind == MOMENT:
            moments = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
            data[column] = moments.dt.as_unit("ns")
        elif kind == DAY:
            data[column] = pd.to_datetime(pd.Series(values, dtype=object)).dt.as_unit("ns")
        elif kind == FLAG:
            data[column] = pd.array(values, dtype="boolean")
        elif kind == STAGE:
            data[column] = pd.array(values, dtype="Int64")
        elif kind == NOTE:
            data[column] = pd.Series(values, dtype=object)
        else:
            data[column] = pd.Series(["" if v is None else v for v in values], dtype=object)
    frame = pd.DataFrame(data)
    return frame[list(FRAME_COLUMNS[section])]
