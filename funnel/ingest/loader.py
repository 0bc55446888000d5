"""The one set-based loader of actuals: file imports, the events API and webhooks all end here.

    loader = Loader(organization=org, funnel=funnel, source="amocrm")
    loader.add("leads", frame)              # any number of chunks; rows go to staging tables
    with transaction.atomic():
        result = loader.finish()            # a few set-based statements per table

Rows are staged in temporary tables (PostgreSQL: `COPY`; SQLite: `executemany`), then each
target table gets set-based writes keyed by the external ids that touch only rows that change:
loading the same data twice changes nothing. A load updates only what it carries (an unknown
or empty value keeps what is stored; `clear` names the columns whose empty cells clear it), a
lead's creation date is set once. Reaching a stage implies every stage above it at the same
moment (DOMAIN section 3); a stage is counted once per lead, at the earliest moment seen.

The staging tables' columns are laid out in `staging`, the upserts' SQL is in `upsert_sql`.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from funnel.identities import channel_key, channel_lookup, people_lookup, person_key
from funnel.ingest import preview
from funnel.ingest.preview import Changes
from funnel.ingest.schema import FRAME_COLUMNS, SENT_COLUMNS, RowError
from funnel.ingest.staging import (
    DAY,
    NUMERIC,
    PEOPLE_COLUMNS,
    SENT_SUFFIX,
    STAGING,
    STAMP,
    TEXT,
)
from funnel.ingest.upsert_sql import (
    CALLS_SQL,
    EVENTS_SQL,
    IMPLIED_EVENTS_SQL,
    LEAD_PAYMENTS_INSERT_SQL,
    LEADS_INSERT_SQL,
    MISSING_CREATED_AT_SQL,
    PAYMENTS_SQL,
    SPEND_SQL,
    TASKS_SQL,
    lead_payment_update_sql,
    lead_update_sql,
)
from funnel.models import Funnel
from salesplan.models import Organization

# Rows per executemany batch on SQLite (development only; PostgreSQL streams COPY).
SQLITE_BATCH_ROWS = 5_000
# Below this many new leads a load never refreshes the leads table's statistics (see
# Loader._refresh_lead_statistics): a small file's joins are cheap whatever the plan.
ANALYZE_AFTER_LEADS = 5_000


@dataclass
class LoadResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    unknown_people: list[str] = field(default_factory=list)
    # The earliest moment the load wrote or changed (any of its rows' moments, or a changed
    # lead's stored creation): plan vs fact is recomputed from that day on. None: nothing dated.
    earliest: datetime | None = None

    @property
    def written(self) -> int:
        return sum(c.get("inserted", 0) + c.get("updated", 0) for c in self.counts.values())


class Loader:
    """Stage frames, then upsert them; use inside one transaction (nothing half-written)."""

    def __init__(
        self,
        *,
        organization: Organization,
        funnel: Funnel,
        source: str,
        clear: frozenset[str] = frozenset(),
    ) -> None:
        self.organization = organization
        self.funnel = funnel
        self.source = source
        # Lead columns (as the frames name them) whose empty values clear what is stored.
        self.clear = clear
        self.vendor = connection.vendor
        # How the CRM names people and channels → who and what they are here (identities).
        self.people = people_lookup(organization)
        self.channels = channel_lookup(organization, source)
        self.unknown_people: set[str] = set()
        self.staged: dict[str, int] = dict.fromkeys(STAGING, 0)
        stages = list(funnel.stages.order_by("position").values_list("position", flat=True))
        self.last_position = stages[-1] if stages else 0
        self._create_staging()

    # --- staging -------------------------------------------------------------------------

    def _table(self, kind: str) -> str:
        return f"ingest_{kind}"

    def _create_staging(self) -> None:
        with connection.cursor() as cursor:
            for kind, columns in STAGING.items():
                table = self._table(kind)
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                definition = ", ".join(f"{name} {self._sql_type(kind_)}" for name, kind_ in columns)
                # Temporary (no WAL, private to this connection); dropped by finish()/abort(),
                # so staging may span several transactions (a long import commits progress).
                cursor.execute(f"CREATE TEMP TABLE {table} ({definition})")

    def _sql_type(self, kind: str) -> str:
        if self.vendor == "postgresql":
            return kind
        return {STAMP: "text", DAY: "text", NUMERIC: "text"}.get(kind, kind)

    def add(self, kind: str, frame: pd.DataFrame) -> None:
        """Stage one chunk of a frame (columns per funnel.ingest.schema)."""
        if frame.empty:
            return
        missing = set(FRAME_COLUMNS[kind]) - set(frame.columns)
        if missing:
            raise ValueError(f"{kind} frame lacks columns {sorted(missing)}")
        staged = self._to_staging(kind, frame)
        columns = [name for name, _kind in STAGING[kind]]
        if self.vendor == "postgresql":
            buffer = io.StringIO()
            staged.to_csv(
                buffer, index=False, header=False, quoting=csv.QUOTE_NONNUMERIC, na_rep=""
            )
            buffer.seek(0)
            # Every value is quoted (QUOTE_NONNUMERIC writes "" for a missing one): FORCE_NULL
            # reads "" as NULL in the non-text columns; text keeps "" as the empty string.
            nullable = [name for name, sql_kind in STAGING[kind] if sql_kind != TEXT]
            copy = (
                f"COPY {self._table(kind)} ({', '.join(columns)}) FROM STDIN "
                f"WITH (FORMAT csv, FORCE_NULL ({', '.join(nullable)}))"
            )
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(copy, buffer)
        else:
            rows = staged.astype(object).where(staged.notna(), None).itertuples(index=False)
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {self._table(kind)} ({', '.join(columns)}) VALUES ({placeholders})"
            with connection.cursor() as cursor:
                batch: list[tuple[Any, ...]] = []
                for row in rows:
                    batch.append(tuple(row))
                    if len(batch) >= SQLITE_BATCH_ROWS:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
        self.staged[kind] += len(staged)

    def _to_staging(self, kind: str, frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        people = PEOPLE_COLUMNS.get(kind)
        sent = SENT_COLUMNS.get(kind, ())
        for name, sql_kind in STAGING[kind]:
            if people and name == people[1]:
                out[name] = self._members(frame[people[0]])
            elif name == "responsible_name":
                out[name] = frame["responsible"].fillna("")
            elif name == "stage_position":
                out[name] = frame["stage"].astype("Int64")
            elif sql_kind == STAMP:
                out[name] = self._stamp(frame[name])
            elif sql_kind == DAY:
                out[name] = pd.to_datetime(frame[name]).dt.strftime("%Y-%m-%d")
            elif sql_kind == NUMERIC:
                values = frame[name].astype("string").str.strip()
                out[name] = values.where(values != "", None).astype(object)
            elif name == "channel" and self.channels:
                out[name] = self._channels(frame[name])
            elif name.endswith(SENT_SUFFIX) and name[: -len(SENT_SUFFIX)] in sent:
                out[name] = frame[name[: -len(SENT_SUFFIX)]].notna()
            elif sql_kind == TEXT:
                out[name] = frame[name].fillna("").astype(str)
            else:
                out[name] = frame[name]
        if kind in ("leads", "payments", "calls", "tasks"):
            # The same record twice in one chunk: the later line wins.
            out = out.drop_duplicates(subset=["external_id"], keep="last")
        return out

    def _stamp(self, values: pd.Series) -> pd.Series:
        stamps = pd.to_datetime(values, utc=True)
        if self.vendor == "postgresql":
            return stamps
        # Django keeps SQLite datetimes as naive UTC text.
        return (
            stamps.dt.tz_convert("UTC")
            .dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            .where(stamps.notna(), None)
        )

    def _channels(self, written: pd.Series) -> pd.Series:
        """A CRM's channel codes as the channels' names here (once per distinct value)."""
        values = written.fillna("").astype(str)
        distinct = pd.unique(values)
        names = {value: self.channels.get(channel_key(value), value) for value in distinct}
        return values.map(names)

    def _members(self, names: pd.Series) -> pd.Series:
        keys = names.fillna("").astype(str).map(person_key)
        ids = keys.map(self.people)
        unknown = names[(keys != "") & ids.isna()]
        self.unknown_people.update(unknown.astype(str).str.strip().unique().tolist())
        return ids.astype("Int64")

    # --- upserts ---------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {
            "org": self.organization.pk,
            "funnel": self.funnel.pk,
            "source": self.source,
            "now": timezone.now() if self.vendor == "postgresql" else _naive(timezone.now()),
        }

    def _analyze(self, cursor: Any) -> None:
        if self.vendor == "postgresql":
            for kind, rows in self.staged.items():
                if rows:
                    cursor.execute(f"ANALYZE {self._table(kind)}")

    def preview(self) -> Changes:
        """What `finish` would change, with nothing written (the staging tables are kept:
        call `abort` or `finish` after)."""
        with connection.cursor() as cursor:
            self._analyze(cursor)
            if not self.staged["leads"]:
                return Changes()
            return preview.changes(cursor, self._params(), self.clear, self.vendor)

    def finish(self) -> LoadResult:
        result = LoadResult()
        params = self._params()
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit = off")
                # One load of an organization at a time: its UPDATE-then-INSERT of leads must
                # not race another load's (released at commit).
                cursor.execute("SELECT pg_advisory_xact_lock(%(org)s)", params)
            self._analyze(cursor)
            result.errors.extend(self._missing_leads(cursor, params))
            if self.staged["leads"]:
                refused = self._missing_created_at(cursor, params)
                result.errors.extend(refused)
                leads = self._update_insert(
                    cursor, lead_update_sql(self.clear), LEADS_INSERT_SQL, params
                )
                # The rows that named a lead and changed nothing of it.
                leads["unchanged"] = max(
                    self.staged["leads"] - leads["inserted"] - leads["updated"] - len(refused), 0
                )
                result.counts["leads"] = leads
                self._refresh_lead_statistics(cursor, leads["inserted"])
                result.counts["stage_events"] = self._upsert(
                    cursor, IMPLIED_EVENTS_SQL, "funnel_stageevent", params
                )
                result.counts["payments"] = self._update_insert(
                    cursor, lead_payment_update_sql(self.clear), LEAD_PAYMENTS_INSERT_SQL, params
                )
            for kind, sql, table in (
                ("stage_events", EVENTS_SQL, "funnel_stageevent"),
                ("payments", PAYMENTS_SQL, "funnel_payment"),
                ("spend", SPEND_SQL, "funnel_spend"),
                ("calls", CALLS_SQL, "funnel_call"),
                ("tasks", TASKS_SQL, "funnel_task"),
            ):
                if self.staged[kind]:
                    counts = self._upsert(cursor, sql, table, params)
                    merged = result.counts.setdefault(kind, dict.fromkeys(counts, 0))
                    for key, value in counts.items():
                        merged[key] = merged.get(key, 0) + value
            result.earliest = self._earliest(cursor, params)
        self.abort()
        result.unknown_people = sorted(self.unknown_people)
        return result

    def _earliest(self, cursor: Any, params: dict[str, Any]) -> datetime | None:
        """The earliest moment among the staged rows (MOMENTS), and the stored creation of the
        leads a row changes without naming their creation (their events may be older)."""
        found: list[datetime] = []
        for kind, columns in MOMENTS.items():
            if not self.staged[kind]:
                continue
            for column in columns:
                cursor.execute(f"SELECT MIN({column}) FROM {self._table(kind)}")
                found.append(cursor.fetchone()[0])
        if self.staged["leads"]:
            cursor.execute(
                "SELECT MIN(l.created_at) FROM funnel_lead l JOIN ingest_leads s"
                " ON l.external_id = s.external_id"
                " WHERE l.organization_id = %(org)s AND l.funnel_id = %(funnel)s"
                " AND s.created_at IS NULL",
                params,
            )
            found.append(cursor.fetchone()[0])
        if self.staged["spend"]:
            # Spend is per local day: from the day before in UTC covers every time zone.
            cursor.execute("SELECT MIN(date) FROM ingest_spend")
            day = cursor.fetchone()[0]
            if day is not None:
                day = date.fromisoformat(day) if isinstance(day, str) else day
                found.append(datetime.combine(day - timedelta(days=1), time.min, tzinfo=UTC))
        moments = [_aware(value) for value in found if value is not None]
        return min(moments, default=None)

    def abort(self) -> None:
        """Drop the staging tables (nothing reaches the real tables)."""
        with connection.cursor() as cursor:
            for kind in STAGING:
                cursor.execute(f"DROP TABLE IF EXISTS {self._table(kind)}")

    def _refresh_lead_statistics(self, cursor: Any, inserted: int) -> None:
        """ANALYZE the leads table when this load at least doubled what the planner knows of
        it (a new organization's first big file, or a fresh install): the stage events and
        payments that follow join every staged row to the leads just written, and with
        statistics saying "nearly empty" PostgreSQL picks a nested loop over a sequential scan,
        quadratic in the file (seen: a 20,000-lead file on a database whose leads table was
        analysed empty). ANALYZE sees this transaction's own rows; its lock (SHARE UPDATE
        EXCLUSIVE, held to commit) only keeps another load's ANALYZE waiting, never a read or
        a write, and a mature database rarely needs it."""
        if self.vendor != "postgresql" or inserted < ANALYZE_AFTER_LEADS:
            return
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'funnel_lead'::regclass")
        known = max(float(cursor.fetchone()[0]), 0.0)
        if inserted > known:
            cursor.execute("ANALYZE funnel_lead")

    def _update_insert(
        self, cursor: Any, update: str, insert: str, params: dict[str, Any]
    ) -> dict[str, int]:
        """Update the rows that exist and change, then insert the new ones; count both."""
        cursor.execute(update, params)
        updated = cursor.rowcount
        cursor.execute(insert, params)
        return {"inserted": int(cursor.rowcount), "updated": int(updated)}

    def _upsert(self, cursor: Any, sql: str, table: str, params: dict[str, Any]) -> dict[str, int]:
        """Run one INSERT … ON CONFLICT; count what it inserted and updated."""
        if self.vendor == "postgresql":
            cursor.execute(
                f"WITH written AS ({sql} RETURNING (xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
                "FROM written",
                params,
            )
            inserted, updated = cursor.fetchone()
        else:
            cursor.execute(f"SELECT count(*) FROM {table}")
            before = cursor.fetchone()[0]
            cursor.execute(sql, params)
            changed = cursor.rowcount
            cursor.execute(f"SELECT count(*) FROM {table}")
            inserted = cursor.fetchone()[0] - before
            updated = max(changed - inserted, 0)
        return {"inserted": int(inserted), "updated": int(updated)}

    def _missing_created_at(self, cursor: Any, params: dict[str, Any]) -> list[RowError]:
        """New leads with no creation date: they are not written (a lead that exists keeps
        its own, so only a new one needs it)."""
        cursor.execute(MISSING_CREATED_AT_SQL, params)
        return [
            RowError(
                line,
                "created_at",
                "",
                _(
                    "This lead is new and has no creation date: map a column of creation "
                    "dates, or import the leads first."
                ),
            )
            for line, _external_id in cursor.fetchall()
        ]

    def _missing_leads(self, cursor: Any, params: dict[str, Any]) -> list[RowError]:
        """Events, payments, calls and tasks that name a lead nobody sent or stored."""
        errors = []
        for kind in ("stage_events", "payments", "calls", "tasks"):
            if not self.staged[kind]:
                continue
            cursor.execute(
                f"""
                SELECT s.line, s.lead_external_id FROM {self._table(kind)} s
                WHERE s.lead_external_id <> '' AND NOT EXISTS (
                    SELECT 1 FROM funnel_lead l
                    WHERE l.organization_id = %(org)s AND l.source = %(source)s
                      AND l.external_id = s.lead_external_id)
                  AND NOT EXISTS (
                    SELECT 1 FROM {self._table("leads")} n
                    WHERE n.external_id = s.lead_external_id)
                ORDER BY s.line
                """,
                params,
            )
            for line, external_id in cursor.fetchall():
                errors.append(
                    RowError(
                        line,
                        "lead_external_id",
                        external_id,
                        _("There is no lead with this id; send the lead first."),
                    )
                )
        return errors


# The staged columns that date a row (spend's day is read apart).
MOMENTS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at", "stage_at", "lost_at", "paid_at"),
    "stage_events": ("reached_at",),
    "payments": ("paid_at",),
    "calls": ("at",),
    "tasks": ("due_at", "done_at"),
}


def _aware(value: datetime | str) -> datetime:
    """A moment as the database returns it: aware (PostgreSQL) or UTC text (SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_frames(
    *,
    organization: Organization,
    funnel: Funnel,
    source: str,
    frames: dict[str, pd.DataFrame],
    valid_rows_only: bool = False,
    clear: frozenset[str] = frozenset(),
) -> LoadResult:
    """Stage and upsert small frames (the events API, webhooks) in one go. Call it inside a
    transaction; with errors and not `valid_rows_only`, the caller rolls back."""
    loader = Loader(organization=organization, funnel=funnel, source=source, clear=clear)
    for kind, frame in frames.items():
        loader.add(kind, frame)
    return loader.finish()
