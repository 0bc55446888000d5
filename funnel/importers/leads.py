"""A CRM export → the normalized leads frame (`funnel.ingest.schema.LEAD_COLUMNS`), in chunks.

Every value is parsed column-wise (numpy, pandas); Python loops run only over distinct values
(stages, pipelines, amounts) and over the rows that have an error. A row with any error is left
out of the frame and listed in the chunk's errors (line, column as in the file, value, reason).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext

from funnel.importers import currencies
from funnel.importers.cells import date_reason, flag_reason, number_reason
from funnel.importers.fields import (
    CRM_STAGE,
    CURRENCY,
    DATE_FIELDS,
    FIELD_LABELS,
    FLAG_FIELDS,
    MAPPABLE_FIELDS,
    MONEY_FIELDS,
    PIPELINE,
    RESPONSIBLE_ID,
    STAGE_GROUP,
    TEXT_FIELDS,
    constant_column,
    missing_columns,
)
from funnel.importers.file_info import FileInfo, ImportFileError, RawChunk
from funnel.importers.files import read_columns
from funnel.importers.outcomes import stage_groups
from funnel.importers.presets import PIPELINE_SEPARATOR, PRESETS, detect_preset, fallback_columns
from funnel.importers.row_errors import Problems, SeenIds
from funnel.importers.values import (
    UTC_DTYPE,
    as_utc,
    normalize_text,
    parse_booleans,
    parse_datetimes,
    parse_decimals,
)
from funnel.ingest.schema import LEAD_COLUMNS, LOST, PAYMENT_COLUMNS, WON, RowError

# Rows per chunk: a 100k-row chunk of a 15-column export peaks at ~200 MB (Python str objects
# and their parsed copies), and per-chunk overhead is noise at this size. The loader stages
# each chunk as it comes.
CHUNK_ROWS = 100_000
DEFAULT_TZ = "Europe/Moscow"
# The "unknown stage" reason lists the expected stages, up to this many.
MAX_LISTED_STAGES = 20


@dataclass
class LeadChunk:
    frame: pd.DataFrame  # LEAD_COLUMNS, valid rows only
    errors: list[RowError]
    rows: int  # records read from the file for this chunk (valid, bad and blank)
    # PAYMENT_COLUMNS: a won deal's further product lines (Bitrix24 rows per product), if any.
    payments: pd.DataFrame | None = None
    # The CRM's user ids met with a name beside them: {"b24:7": "Анна Смирнова"}.
    people: dict[str, str] = field(default_factory=dict)


def crm_stages(
    path: str | Path,
    info: FileInfo,
    mapping: Mapping[str, str],
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> list[tuple[str, int]]:
    """The distinct stages of the file with their row counts, most frequent first, for the
    stage-mapping screen. Stages are compared ignoring case and spacing (the first spelling is
    shown). When a pipeline column is mapped and the file holds more than one pipeline, each
    stage is qualified with its pipeline ("Продажи / Переговоры"); `read_leads` accepts both."""
    mapping = _check_mapping(mapping, info)
    stage_column = mapping[CRM_STAGE]
    pipeline_column = mapping.get(PIPELINE)
    # The id column too: a row with an id and no stage is an empty stage, not a blank line.
    columns = [stage_column, mapping["external_id"]]
    if pipeline_column:
        columns.append(pipeline_column)
    counts: dict[tuple[str, str], int] = {}
    spelling: dict[tuple[str, str], tuple[str, str]] = {}
    for chunk in read_columns(path, info, columns, chunk_rows=chunk_rows):
        pipelines = chunk.columns[pipeline_column] if pipeline_column else None
        codes, pairs = _distinct_pairs(chunk.columns[stage_column], pipelines)
        for (pipeline, stage), count in zip(pairs, np.bincount(codes), strict=True):
            key = (normalize_text(pipeline), normalize_text(stage))
            counts[key] = counts.get(key, 0) + int(count)
            spelling.setdefault(key, (pipeline, stage))
    qualify = len({pipeline for pipeline, _ in counts if pipeline}) > 1
    merged: dict[str, tuple[str, int]] = {}
    for key, count in counts.items():
        pipeline, stage = spelling[key]
        label = f"{pipeline}{PIPELINE_SEPARATOR}{stage}" if qualify and pipeline else stage
        shown, total = merged.get(normalize_text(label), (label, 0))
        merged[normalize_text(label)] = (shown, total + count)
    return sorted(merged.values(), key=lambda item: (-item[1], item[0]))


def _distinct_pairs(
    stages: np.ndarray, pipelines: np.ndarray | None
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """(code of each row's pair, the distinct (pipeline, stage) pairs); pipeline "" if none."""
    stage_codes, stage_values = pd.factorize(stages)
    if pipelines is None:
        return stage_codes, [("", str(stage)) for stage in stage_values]
    pipeline_codes, pipeline_values = pd.factorize(pipelines)
    width = max(len(stage_values), 1)
    codes, combined = pd.factorize(pipeline_codes.astype(np.int64) * width + stage_codes)
    pairs = [(str(pipeline_values[c // width]), str(stage_values[c % width])) for c in combined]
    return codes, pairs


def read_leads(
    path: str | Path,
    info: FileInfo,
    mapping: Mapping[str, str],
    stage_map: Mapping[str, int | str],
    *,
    last_position: int,
    chunk_rows: int = CHUNK_ROWS,
    tz: str = DEFAULT_TZ,
    fallback_created_at: datetime | None = None,
    constants: Mapping[str, str] | None = None,
    currency: str = "RUB",
    rates: Mapping[str, str] | None = None,
    person_prefix: str = "",
) -> Iterator[LeadChunk]:
    """Read the file in chunks of `chunk_rows` rows into normalized leads frames.

    `mapping`: our field → the file's column (see `default_mapping`). `stage_map`: the CRM's
    stage (compared stripped and case-insensitively; "<pipeline> / <stage>" first when a
    pipeline is mapped) → the position of our stage, or WON / LOST. Won deals get the last
    stage (`last_position`) and paid_at = the closing date; lost deals get lost_reason and
    lost_at = the closing date, and no stage (we do not know how far they got). Dates are local
    times in `tz` unless they carry an offset.

    An empty created date falls back to the closing date, then to `fallback_created_at` (the
    day of the export), else it is an error: Maven prospects have neither engage nor close date.
    A field the mapping leaves out is unknown (an empty text, NaT, <NA>): the loader keeps what
    it has stored for it. `constants` give a field one value for every row, read as a cell
    would be (see `check_constants`). Rows empty in every mapped column are blank lines and are
    skipped. A preset's fallback columns fill the empty cells of a field's column (amoCRM's
    utm_source for the channel).

    Amounts are in the organization's `currency`; a row in another one (its currency column,
    or a sign in the amount: "1 500 $") is converted at `rates[code]`, and is an error when
    there is no rate. With a preset of product rows (Bitrix24) and a product column, a repeated
    deal id with a product is the deal's next product line: a payment of its own
    (`LeadChunk.payments`, "<deal>#<product>"), not a duplicate.

    A column of the CRM's user ids (`responsible_id`) gives the responsible as webhooks keep it
    (`<person_prefix>:<id>`, "b24:7") where the file names no one, and each id met with a name
    beside it is listed in `LeadChunk.people` (who "b24:7" is).
    """
    constants = dict(constants or {})
    mapping = _check_mapping(
        {field: column for field, column in mapping.items() if field not in constants}, info
    )
    preset_name = detect_preset(info.headers)
    preset = PRESETS.get(preset_name)
    fallbacks = fallback_columns(preset_name, mapping, info.headers)
    reader = _LeadReader(
        info=info,
        mapping=mapping,
        stages=_StageLookup(stage_map),
        last_position=last_position,
        tz=tz,
        fallback_created_at=as_utc(fallback_created_at, tz) if fallback_created_at else None,
        product_aliases=dict(preset.product_aliases) if preset else {},
        fallbacks={mapping[field]: columns for field, columns in fallbacks.items()},
        product_rows=bool(preset and preset.product_rows and "product" in mapping),
        currency=currency,
        rates=dict(rates or {}),
        person_prefix=person_prefix,
    )
    file_columns = list(
        dict.fromkeys([*mapping.values(), *(c for cs in fallbacks.values() for c in cs)])
    )
    reader.add_constants(constants)
    for raw in read_columns(path, info, file_columns, chunk_rows=chunk_rows):
        frame, errors, payments = reader.normalize(raw)
        yield LeadChunk(
            frame=frame, errors=errors, rows=raw.rows, payments=payments, people=reader.met()
        )


def _check_mapping(mapping: Mapping[str, str], info: FileInfo) -> dict[str, str]:
    """The mapping without unmapped ("") fields; ImportFileError if the file cannot fill it."""
    mapping = {field: column for field, column in mapping.items() if column}
    unknown = sorted(set(mapping) - set(MAPPABLE_FIELDS))
    if unknown:
        raise ValueError(f"not fields of the leads frame: {unknown}")
    missing = missing_columns(mapping, info.headers)
    if missing:
        raise ImportFileError(
            gettext("Required columns are missing: %(fields)s. Map them to the file's columns.")
            % {"fields": ", ".join(str(FIELD_LABELS[field]) for field in missing)}
        )
    absent = sorted({column for column in mapping.values() if column not in info.headers})
    if absent:
        raise ImportFileError(
            gettext("The file has no column %(columns)s.") % {"columns": ", ".join(absent)}
        )
    return mapping


class _StageLookup:
    """Raw CRM stage (optionally with its pipeline) → our stage position or the outcome."""

    def __init__(self, stage_map: Mapping[str, int | str]) -> None:
        self.targets: dict[str, int | str] = {}
        for raw, target in stage_map.items():
            if not (isinstance(target, int) or target in (WON, LOST)):
                raise ValueError(f"stage_map[{raw!r}] must be a position, {WON!r} or {LOST!r}")
            self.targets[normalize_text(raw)] = target
        names = sorted(stage_map, key=str.lower)
        listed = ", ".join(f"«{name}»" for name in names[:MAX_LISTED_STAGES])
        if len(names) > MAX_LISTED_STAGES:
            listed += ", …"
        self.listed = listed

    def unknown_reason(self) -> str:
        if not self.listed:
            return gettext("unknown stage; no CRM stage is mapped to the funnel yet")
        return gettext("unknown stage; expected one of: %(stages)s") % {"stages": self.listed}

    def lookup(
        self, stages: np.ndarray, pipelines: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(positions, -1 where none; won mask; lost mask; unknown mask)."""
        codes, pairs = _distinct_pairs(stages, pipelines)
        # One dictionary lookup per distinct (pipeline, stage) pair, not per row.
        targets: list[int | str | None] = []
        for pipeline, stage in pairs:
            key = normalize_text(stage)
            target = None
            if pipeline:
                target = self.targets.get(f"{normalize_text(pipeline)}{PIPELINE_SEPARATOR}{key}")
            targets.append(self.targets.get(key) if target is None else target)
        position = np.array([t if isinstance(t, int) else -1 for t in targets], dtype=np.int64)
        won = np.array([t == WON for t in targets], dtype=bool)
        lost = np.array([t == LOST for t in targets], dtype=bool)
        unknown = np.array([t is None for t in targets], dtype=bool)
        return position[codes], won[codes], lost[codes], unknown[codes]


@dataclass
class _LeadReader:
    info: FileInfo
    mapping: dict[str, str]
    stages: _StageLookup
    last_position: int
    tz: str
    fallback_created_at: pd.Timestamp | None
    product_aliases: dict[str, str]
    # A file column → the columns that fill its empty cells, in order.
    fallbacks: dict[str, list[str]] = field(default_factory=dict)
    product_rows: bool = False
    currency: str = "RUB"
    rates: dict[str, str] = field(default_factory=dict)
    person_prefix: str = ""
    seen: SeenIds = field(default_factory=SeenIds)
    column_order: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.column_order = {name: position for position, name in enumerate(self.info.headers)}
        self.constants: dict[str, str] = {}
        # (deal, product) → the product lines of that deal with that product seen so far.
        self.line_keys: dict[tuple[str, str], int] = {}
        # The CRM's user ids met with a name in this chunk (`met` hands them over).
        self.people: dict[str, str] = {}

    def met(self) -> dict[str, str]:
        people, self.people = self.people, {}
        return people

    def add_constants(self, constants: Mapping[str, str]) -> None:
        """Fields with one value for every row: read from a column of that value."""
        for name, value in constants.items():
            column = constant_column(name)
            self.mapping[name] = column
            self.constants[column] = str(value).strip()
            self.column_order[column] = len(self.column_order)

    def normalize(self, raw: RawChunk) -> tuple[pd.DataFrame, list[RowError], pd.DataFrame | None]:
        mapping = self.mapping
        n = len(raw)
        columns = {
            **raw.columns,
            **{name: np.full(n, value, dtype=object) for name, value in self.constants.items()},
        }
        for column, others in self.fallbacks.items():
            values = columns[column]
            for other in others:
                values = np.where(values == "", columns[other], values)
            columns[column] = values
        lines = raw.lines
        problems = Problems(lines, self.column_order)
        out: dict[str, object] = {"line": lines}

        id_column = mapping["external_id"]
        ids = columns[id_column]
        problems.add(ids == "", id_column, ids, gettext("external id is empty"))
        duplicate, first_line = self.seen.check(ids, lines)
        # A deal's further product lines (same id, a product): its payments, not duplicates.
        line_item = np.zeros(n, dtype=bool)
        if self.product_rows:
            line_item = duplicate & (columns[mapping["product"]] != "")
            duplicate &= ~line_item
        reasons = [
            gettext("duplicate external id; first seen on line %(line)s") % {"line": line}
            for line in first_line[duplicate]
        ]
        problems.add(duplicate, id_column, ids, reasons)
        out["external_id"] = _text(ids)

        dates = self._dates(columns, problems, n)
        created = dates["created_at"]
        created_column = mapping.get("created_at")
        if created_column is not None:
            # A blank creation date in a file that has them: the closing date, else the
            # export's day (Maven prospects have neither). A file without the column says
            # nothing of it: an existing lead keeps its own, a new one is refused by the loader.
            closing = np.where(np.isnat(dates["paid_at"]), dates["lost_at"], dates["paid_at"])
            created = np.where(np.isnat(created), closing, created)
            if self.fallback_created_at is not None:
                created[np.isnat(created)] = self.fallback_created_at.to_datetime64()
            problems.add(
                np.isnat(created) & (columns[created_column] == ""),
                created_column,
                "",
                gettext("created date is empty"),
            )

        row_currency = self._currencies(columns, problems, n)
        for name in MONEY_FIELDS:
            column = mapping.get(name)
            if column is None:
                out[name] = _text(np.full(n, "", dtype=object))
                continue
            decimals, bad, negative = parse_decimals(columns[column])
            problems.add(bad, column, columns[column], number_reason())
            if name == "amount":
                problems.add(negative, column, columns[column], gettext("negative amount"))
            converted, no_rate, _unknown = currencies.convert(
                decimals, row_currency, currency=self.currency, rates=self.rates
            )
            if name == "amount" and no_rate.any():
                shown = mapping.get(CURRENCY, column)
                problems.add(
                    no_rate,
                    shown,
                    columns[shown],
                    [self._no_rate_reason(code) for code in row_currency[no_rate]],
                )
            out[name] = _text(converted)

        for name in FLAG_FIELDS:
            column = mapping.get(name)
            if column is None:
                out[name] = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
                continue
            flags, bad = parse_booleans(columns[column])
            problems.add(bad, column, columns[column], flag_reason())
            out[name] = flags

        stage_column = mapping.get(CRM_STAGE)
        group_column = mapping.get(STAGE_GROUP)
        if group_column is not None:
            group_won, group_lost, group_open = stage_groups(columns[group_column])
        else:
            group_won = group_lost = group_open = np.zeros(n, dtype=bool)
        if stage_column is not None:
            pipelines = columns[mapping[PIPELINE]] if PIPELINE in mapping else None
            position, won, lost, unknown = self.stages.lookup(columns[stage_column], pipelines)
            # The stage group classifies a final stage the map does not know (renamed ones).
            unknown &= ~(group_won | group_lost)
            problems.add(unknown, stage_column, columns[stage_column], self.stages.unknown_reason())
            won = (won | group_won) & ~group_lost
            lost = (lost | group_lost) & ~group_won
            # Won deals reach the last stage; lost ones keep the stage they reached (how far
            # they got is not in the export).
            won |= (position == self.last_position) & ~lost
            position[won] = self.last_position
            outcome_unknown = np.zeros(n, dtype=bool)
        else:
            # No stage in this file: every lead keeps its stage and its outcome, unless a stage
            # group tells it.
            position = np.full(n, -1, dtype=np.int64)
            won, lost = group_won.copy(), group_lost.copy()
            position[won] = self.last_position
            outcome_unknown = ~(group_won | group_lost | group_open)
        out["stage"] = pd.arrays.IntegerArray(position, (position < 0) | lost)
        out["won"] = pd.arrays.BooleanArray(won, outcome_unknown)
        out["lost"] = pd.arrays.BooleanArray(lost, outcome_unknown)

        for name in TEXT_FIELDS:
            out[name] = _text(columns[mapping[name]] if name in mapping else np.full(n, "", object))
        if RESPONSIBLE_ID in mapping:
            out["responsible"] = self._responsible(columns, out["responsible"])
        if self.product_aliases and "product" in mapping:
            products = columns[mapping["product"]]
            out["product"] = _text(pd.Series(products, dtype=object).replace(self.product_aliases))
        if "lost_reason" in mapping:
            out["lost_reason"] = _text(np.where(lost, columns[mapping["lost_reason"]], ""))

        out["created_at"] = _moments(created)
        out["stage_at"] = _moments(dates["stage_at"])
        # A closing date is a payment only for a won deal and a loss only for a lost one (for
        # an open Bitrix24 deal it is just the expected date).
        out["paid_at"] = _moments(np.where(won, dates["paid_at"], np.datetime64("NaT")))
        out["lost_at"] = _moments(np.where(lost, dates["lost_at"], np.datetime64("NaT")))

        frame = pd.DataFrame({name: out[name] for name in LEAD_COLUMNS})
        payments = self._product_lines(frame, line_item & ~problems.bad & won)
        keep = ~problems.bad & ~line_item
        if not keep.all():
            frame = frame.loc[keep].reset_index(drop=True)
        return frame, problems.errors(), payments

    def _responsible(self, columns: Mapping[str, np.ndarray], names: pd.Series) -> pd.Series:
        """The responsible's name, else their CRM id as webhooks write it ("b24:7"); the ids
        met with a name are remembered."""
        ids = pd.Series(columns[self.mapping[RESPONSIBLE_ID]], dtype="str")
        known = (ids != "") & (ids != "0")
        keys = (self.person_prefix + ":" + ids) if self.person_prefix else ids
        if self.person_prefix:
            both = known & (names != "")
            pairs = pd.DataFrame({"key": keys[both], "name": names[both]}).drop_duplicates("key")
            self.people.update(zip(pairs["key"], pairs["name"], strict=True))
        return names.where(names != "", keys.where(known, ""))

    def _currencies(
        self, columns: Mapping[str, np.ndarray], problems: Problems, n: int
    ) -> np.ndarray:
        """Each row's currency as written ("" for the organization's): its currency column,
        else a sign written in the amount."""
        column = self.mapping.get(CURRENCY)
        found = columns[column] if column else np.full(n, "", dtype=object)
        if column:
            unknown = np.array(
                [currencies.currency_code(value) is None for value in found], dtype=bool
            )
            problems.add(unknown, column, found, gettext("not a currency we know"))
        amount_column = self.mapping.get("amount")
        if amount_column:
            signs = currencies.amount_currencies(columns[amount_column])
            found = np.where(found == "", signs, found)
        return found

    def _no_rate_reason(self, written: str) -> str:
        code = currencies.currency_code(written) or written
        return gettext(
            "the amount is in %(code)s and the organization counts in %(ours)s: give the "
            "%(code)s rate to convert it (it is never summed as it is)"
        ) % {"code": code, "ours": self.currency}

    def _product_lines(self, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame | None:
        """A won deal's further product lines as payments keyed "<deal>#<product>"."""
        if not rows.any():
            return None
        lines = frame.loc[rows & (frame["amount"] != "").to_numpy()]
        keys = []
        for deal, product in zip(lines["external_id"], lines["product"], strict=True):
            seen = self.line_keys.get((deal, product), 0) + 1
            self.line_keys[(deal, product)] = seen
            keys.append(f"{deal}#{product}" + (f"#{seen}" if seen > 1 else ""))
        return pd.DataFrame(
            {
                "line": lines["line"].to_numpy(),
                "external_id": keys,
                "lead_external_id": lines["external_id"].to_numpy(),
                "amount": lines["amount"].to_numpy(),
                "gross_margin": lines["gross_margin"].to_numpy(),
                "product": lines["product"].to_numpy(),
                "paid_at": lines["paid_at"].fillna(lines["stage_at"]).to_numpy(),
                "is_new_client": lines["is_new_client"].array,
                "credited": lines["responsible"].to_numpy(),
            },
            columns=list(PAYMENT_COLUMNS),
        )

    def _dates(
        self, columns: Mapping[str, np.ndarray], problems: Problems, n: int
    ) -> dict[str, np.ndarray]:
        """Each date field as naive UTC datetime64[ns], each file column parsed once (paid_at
        and lost_at may share the closing date)."""
        parsed: dict[str, np.ndarray] = {}
        dates: dict[str, np.ndarray] = {}
        for name in DATE_FIELDS:
            column = self.mapping.get(name)
            if column is None:
                dates[name] = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
                continue
            if column not in parsed:
                moments, bad = parse_datetimes(columns[column], self.tz)
                problems.add(bad, column, columns[column], date_reason())
                parsed[column] = moments
            dates[name] = parsed[column]
        return dates


def _text(values: np.ndarray | pd.Series) -> pd.Series:
    return pd.Series(values, dtype="str")


def _moments(values: np.ndarray) -> pd.Series:
    """Naive UTC datetime64[ns] → the frame's tz-aware UTC column."""
    return pd.Series(pd.DatetimeIndex(values.astype("datetime64[ns]"), tz="UTC"), dtype=UTC_DTYPE)
