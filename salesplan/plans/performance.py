"""Plan vs fact stored per (plan, metric, owner, day): the recompute job of issue 11.

A plan's saved input is decomposed once, its funnel's actuals read once (six aggregate queries,
`metrics.actuals`) for the days to recompute, and every day tracked for the department and for
each salesperson who owns a metric on the pie (their personal slice against their share of that
metric's plan; the head of sales has no personal slice). The tracking runs vectorised and exact
(`salesplan.planning.batch`, which equals `track_metric` row for row); the rows are written with
one COPY on PostgreSQL. Each day's revenue gap is split into its factors' contributions
(`GapShare`, LMDI) credited to the factors' owners on the pie.

Incremental: the running totals of every recomputed day are stored (`PerformanceTotals`), so a
recompute starts from the first day that can have changed — the plan's
`performance_dirty_from`, set by a load to the local day of the earliest moment it changed and by
a change of the plan, its pie or its funnel to the period start — or else the last day stored
(today's figures move through the day), from the totals of the day before. Everything is
replaced in one transaction under a lock on the plan: a rerun writes the same rows, two runs for
one plan wait for each other, a killed worker leaves the old rows and the mark.

Recomputes are queued, debounced per plan (`performance_refresh_queue`): after actuals are
loaded and after a plan or its pie changes (receivers.py), after a plan is saved (services.py),
every 15 minutes for every plan in progress and nightly in full (the beat).
"""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from metrics.actuals import (
    COUNT_COLUMNS,
    MONEY_COLUMNS,
    ActualsFrame,
    actuals_by_day,
    actuals_by_day_beside,
    stage_column,
)
from metrics.models import GapShare, PerformanceSnapshot, PerformanceTotals, PlanMetric
from metrics.performance import MetricRef, actual_per_day, ref_of
from responsibility.models import Responsibility
from salesplan.models import Organization, PlanStatus, Role, SalesPlan
from salesplan.planning import (
    SHAPE_BY_METRIC,
    Decomposition,
    MetricShape,
    PlanInputError,
    decompose,
)
from salesplan.planning.attribution import attribute_gap, split_by_shares
from salesplan.planning.batch import Series, TrackedColumns, prepare
from salesplan.planning.tracking import PERCENT_PLACES, VALUE_PLACES, round_half_up
from salesplan.plans.selectors import top_owners, with_inputs
from salesplan.plans.slips import slips_sync
from salesplan.plans.snapshot import saved_plan_input
from salesplan.queue import enqueue_once, job_started
from salesplan.selectors import calendar_for
from salesplan.signals import performance_refreshed

REFRESH_TASK = "plans.refresh_performance"
# Many loads in a minute (a webhook burst, an import in chunks) queue one recompute per plan.
DEBOUNCE_S = 60
# A yearly plan of 100 salespeople writes ~700,000 rows; 2,000 a statement keeps each INSERT
# well under SQLite's and PostgreSQL's parameter limits (11 columns a row).
WRITE_BATCH = 2_000


def performance_refresh_queue(*, plan_ids: Iterable[int]) -> int:
    """Queue a recompute of each plan unless one is already waiting (queued in the last
    DEBOUNCE_S seconds and not started yet). Returns how many were queued. A broker that is
    down is only logged: the beat's sweep recomputes every plan in progress anyway."""
    return sum(enqueue_once(REFRESH_TASK, plan_id, within=DEBOUNCE_S) for plan_id in plan_ids)


def performance_refresh_started(*, plan_id: int) -> None:
    """The job starts: a change from now on must queue another recompute."""
    job_started(REFRESH_TASK, plan_id)


def plans_in_progress(*, today: date | None = None) -> QuerySet[SalesPlan]:
    """Plans whose plan vs fact can still change: not closed, started, and not ended more
    than a day ago (the last day's late payments still count)."""
    today = today or timezone.localdate()
    return SalesPlan.objects.exclude(status=PlanStatus.CLOSED).filter(
        period_start__lte=today, period_end__gte=today - timedelta(days=1)
    )


def performance_refresh_all(*, today: date | None = None, full: bool = False) -> int:
    """The beat's sweep: queue a recompute of every plan in progress; with `full` (nightly)
    each from its period start, so nothing a missed mark left behind outlives a night."""
    plans = plans_in_progress(today=today)
    if full:
        return performance_refresh_plans(plans=plans)
    ids = plans.values_list("pk", flat=True).order_by("pk")
    return performance_refresh_queue(plan_ids=list(ids))


def performance_refresh_after_load(
    *, organization_id: int, funnel_id: int, since: datetime | None = None
) -> int:
    """New actuals of a funnel: mark its organization's plans that can change (not closed,
    already started; an import of past months reaches a past plan too) to be recomputed from
    the local day of `since` (the earliest moment the load changed; None: from their start),
    and queue them."""
    plans = (
        SalesPlan.objects.filter(organization_id=organization_id, funnel_id=funnel_id)
        .exclude(status=PlanStatus.CLOSED)
        .filter(period_start__lte=timezone.localdate())
    )
    if since is None:
        return performance_refresh_plans(plans=plans)
    ids = list(plans.values_list("pk", flat=True).order_by("pk"))
    if ids:
        zone = ZoneInfo(
            Organization.objects.values_list("time_zone", flat=True).get(pk=organization_id)
        )
        day = since.astimezone(zone).date()
        SalesPlan.objects.filter(pk__in=ids).update(
            performance_dirty_from=Least(Coalesce("performance_dirty_from", Value(day)), Value(day))
        )
    return performance_refresh_queue(plan_ids=ids)


def performance_refresh_plans(
    *, plans: QuerySet[SalesPlan] | None = None, plan_ids: Iterable[int] = ()
) -> int:
    """The plans changed in a way that may move any day (their input, funnel or pie): mark
    them to be recomputed from their start (one UPDATE), and queue them."""
    ids = sorted(plan_ids)
    if plans is not None:
        ids += list(plans.values_list("pk", flat=True).order_by("pk"))
    if ids:
        SalesPlan.objects.filter(pk__in=ids).update(performance_dirty_from=F("period_start"))
    return performance_refresh_queue(plan_ids=ids)


def _personal_refs(plan: SalesPlan, refs: Mapping[int, MetricRef]) -> dict[int, list[MetricRef]]:
    """Each salesperson's metrics on the pie, with their share of each (a slice below a
    head of sales is that slice's share of the parent's)."""
    slices = Responsibility.objects.filter(plan=plan, owner__role=Role.SALESPERSON).values_list(
        "owner_id", "metric_id", "share", "parent__share"
    )
    shares: dict[int, dict[int, Fraction]] = {}
    for owner_id, metric_id, share, parent_share in slices:
        if metric_id not in refs:
            continue
        part = Fraction(share) * Fraction(parent_share if parent_share is not None else 1)
        by_metric = shares.setdefault(owner_id, {})
        by_metric[metric_id] = by_metric.get(metric_id, Fraction(0)) + part
    return {
        owner_id: [
            MetricRef(**{**refs[metric_id].__dict__, "share": share})
            for metric_id, share in sorted(by_metric.items())
        ]
        for owner_id, by_metric in shares.items()
    }


def _cents(value: Any) -> int:
    """A money total (Decimal, two places at most: the money fields') in kopecks."""
    return int(Decimal(value).scaleb(2))


def _daily_ints(frame: ActualsFrame) -> pd.DataFrame:
    """The frame's rows with every column an int64 (money in kopecks)."""
    rows = frame.rows.copy()
    for column in MONEY_COLUMNS:
        rows[column] = rows[column].map(_cents).astype("int64")
    return rows


def _running(
    rows: pd.DataFrame, columns: list[str], days: list[date], base: Mapping[str, int] | None
) -> np.ndarray:
    """Running totals per day (days × columns, Python ints), from `base` (the totals of the
    day before the first) plus the rows' daily figures."""
    daily = rows.groupby("day")[columns].sum().reindex(days, fill_value=0)
    running = daily.to_numpy(dtype="int64").cumsum(axis=0).astype(object)
    if base:
        running = running + np.array([int(base.get(c, 0)) for c in columns], dtype=object)
    return running


def _running_by_owner(
    rows: pd.DataFrame,
    columns: list[str],
    days: list[date],
    owners: list[int],
    base: Mapping[int, Mapping[str, int]],
) -> dict[int, np.ndarray]:
    """`_running` for every owner at once (one group-by over all their rows, one cumulative
    sum over an owners × days × columns block): each owner's running totals per day."""
    if not owners:
        return {}
    mine = rows[rows["member_id"].isin(owners).fillna(False).astype(bool)]
    grid = pd.MultiIndex.from_product([owners, days], names=["member_id", "day"])
    daily = (
        mine.astype({"member_id": "int64"})
        .groupby(["member_id", "day"])[columns]
        .sum()
        .reindex(grid, fill_value=0)
    )
    block = daily.to_numpy(dtype="int64").reshape(len(owners), len(days), len(columns))
    running = block.cumsum(axis=1).astype(object)
    out = {}
    for index, owner_id in enumerate(owners):
        totals = running[index]
        if base.get(owner_id):
            totals = totals + np.array(
                [int(base[owner_id].get(c, 0)) for c in columns], dtype=object
            )
        out[owner_id] = totals
    return out


class _PlanDays:
    """What every row of a day shares: working days elapsed and each stage's plan-to-date,
    computed in one pass over the decomposition's days (not once per row)."""

    def __init__(self, decomposition: Decomposition, days: list[date]) -> None:
        names = [stage.name for stage in decomposition.stages]
        self.names = names
        self.working_days = decomposition.working_days
        sums = dict.fromkeys(names, 0)
        elapsed = 0
        by_date: dict[date, tuple[int, dict[str, int]]] = {}
        for plan_day in decomposition.by_day:
            if plan_day.is_working_day:
                elapsed += 1
                for name, count in plan_day.stages.items():
                    sums[name] += count
            by_date[plan_day.date] = (elapsed, dict(sums))
        self.elapsed: list[int] = []
        self.stage_plan: list[dict[str, int]] = []
        for day in days:
            if day >= decomposition.period_end:
                found = (decomposition.working_days, decomposition.totals)
            else:
                found = by_date.get(day, (0, dict.fromkeys(names, 0)))
            self.elapsed.append(min(found[0], decomposition.working_days))
            self.stage_plan.append(found[1])


def _series(
    ref: MetricRef,
    plan_days: _PlanDays,
    col: Mapping[str, int],
    running: list[list[int]],
    target: int,
) -> Series:
    shape = SHAPE_BY_METRIC.get(ref.kind, MetricShape.VOLUME)
    share = ref.share if shape is MetricShape.VOLUME else Fraction(1)
    plan = None if ref.planned_value is None else Fraction(ref.planned_value) * share
    to_date = None
    if ref.kind in ("leads", "target_leads", "stage_volume"):
        position = ref.stage_position or 0
        if position < len(plan_days.names):
            name = plan_days.names[position]
            to_date = [day[name] for day in plan_days.stage_plan]
    numerators, denominators = actual_per_day(ref, col, running, target_position=target)
    return Series(
        shape=shape,
        lower_is_better=ref.lower_is_better,
        plan=plan,
        actual_num=numerators,
        actual_den=denominators,
        plan_to_date=to_date,
        plan_to_date_share=share,
    )


def _target_position(refs: Iterable[MetricRef], decomposition: Decomposition) -> int:
    return next((m.stage_position for m in refs if m.kind == "target_leads"), None) or next(
        (i for i, s in enumerate(decomposition.stages) if s.is_target_lead), 1
    )


def _gap_factors(
    refs: Mapping[int, MetricRef],
    plan_days: _PlanDays,
    col: Mapping[str, int],
    running: np.ndarray,
    target: int,
    day_index: int,
    revenue_to_date: Fraction,
) -> dict[str, tuple[int | None, Fraction, Fraction]]:
    """The revenue formula's factors on one day: name → (metric id, plan-to-date value,
    actual value). Plan side from the stages' plan-to-date (leads, their ratios) and the
    revenue plan-to-date per deal at the last stage, so the plan factors multiply to the revenue
    plan-to-date; the actual side the same from the actuals, multiplying to the actual revenue
    whenever every stage has a lead. x ÷ 0 counts as 0 (attribution's zero rule)."""
    names = plan_days.names
    planned = plan_days.stage_plan[day_index]
    by_kind = {(ref.kind, ref.stage_position): metric_id for metric_id, ref in refs.items()}

    def actual(position: int) -> Fraction:
        key = stage_column(position)
        return Fraction(running[day_index, col[key]]) if key in col else Fraction(0)

    def ratio(a: Fraction, b: Fraction) -> Fraction:
        return a / b if b else Fraction(0)

    last = len(names) - 1
    factors: dict[str, tuple[int | None, Fraction, Fraction]] = {
        "leads": (by_kind.get(("leads", 0)), Fraction(planned[names[0]]), actual(0))
    }
    if target > 0:
        factors["target_lead_share"] = (
            by_kind.get(("target_lead_share", None)),
            ratio(Fraction(planned[names[target]]), Fraction(planned[names[0]])),
            ratio(actual(target), actual(0)),
        )
    for position in range(target, last):
        factors[f"stage_conversion:{position}"] = (
            by_kind.get(("stage_conversion", position)),
            ratio(Fraction(planned[names[position + 1]]), Fraction(planned[names[position]])),
            ratio(actual(position + 1), actual(position)),
        )
    revenue = Fraction(running[day_index, col["revenue"]], 100)
    factors["average_check"] = (
        by_kind.get(("average_check", None)),
        ratio(revenue_to_date, Fraction(planned[names[last]])),
        ratio(revenue, actual(last)),
    )
    return factors


def _gap_shares(
    plan: SalesPlan,
    refs: Mapping[int, MetricRef],
    plan_days: _PlanDays,
    days: list[date],
    col: Mapping[str, int],
    running: np.ndarray,
    target: int,
) -> list[GapShare]:
    """Each day's revenue gap to date split into its factors' contributions (LMDI), each
    credited to the factor's owners at the top of the pie by their shares."""
    revenue = next((ref for ref in refs.values() if ref.kind == "revenue"), None)
    if revenue is None or revenue.planned_value is None or not plan_days.names:
        return []
    owners = top_owners(plan)
    rows = []
    for index, day in enumerate(days):
        elapsed = plan_days.elapsed[index]
        to_date = Fraction(revenue.planned_value) * elapsed / plan_days.working_days
        factors = _gap_factors(refs, plan_days, col, running, target, index, to_date)
        split = attribute_gap({name: (p, a) for name, (_, p, a) in factors.items()})
        for name, (metric_id, planned, actual) in factors.items():
            shares = owners.get(metric_id, []) if metric_id else []
            for owner_id, part in split_by_shares(split.contributions[name], shares):
                rows.append(
                    GapShare(
                        plan_id=plan.pk,
                        day=day,
                        factor=name,
                        metric_id=metric_id,
                        owner_id=owner_id,
                        plan_value=round_half_up(planned, VALUE_PLACES),
                        actual_value=round_half_up(actual, VALUE_PLACES),
                        contribution=part,
                    )
                )
    return rows


def _since(plan_id: int, dirty_from: date | None, period_start: date, full: bool) -> date:
    """The first day to recompute: the period start for a full run or when nothing is stored,
    else the earliest of the first changed day and the last day stored (today's figures move
    through the day; earlier days only when their actuals change, which marks them)."""
    if full:
        return period_start
    last_stored = (
        PerformanceTotals.objects.filter(plan_id=plan_id, owner=None)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if last_stored is None:
        return period_start
    since = min(last_stored, dirty_from) if dirty_from else last_stored
    return max(since, period_start)


def _base_totals(
    plan_id: int, before: date, owners: Iterable[int], columns: list[str]
) -> tuple[date, dict[str, int], dict[int, dict[str, int]]] | None:
    """The latest running totals stored before `before` (`_kept_totals`: the checkpoints and
    the last days) with their day, or None when there are none or they are incomplete (the
    funnel's stages changed, an owner is new): then recompute all."""
    day = (
        PerformanceTotals.objects.filter(plan_id=plan_id, owner=None, day__lt=before)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if day is None:
        return None
    stored = {
        owner_id: totals
        for owner_id, totals in PerformanceTotals.objects.filter(
            plan_id=plan_id, day=day
        ).values_list("owner_id", "totals")
    }
    if None not in stored or set(stored[None]) != set(columns):
        return None
    owners = list(owners)
    if any(owner_id not in stored for owner_id in owners):
        return None
    return day, stored[None], {owner_id: stored[owner_id] for owner_id in owners}


# Running totals are kept for the last days computed and, before them, one day a week: a
# later run starts from the latest kept day before the first changed one (a late change costs
# at most a week more to recompute), and a yearly plan stores 59 days of totals, not 365.
TOTALS_RECENT_DAYS = 7
TOTALS_CHECKPOINT_WEEKDAY = 6  # Sunday


def _kept_totals(days: list[date], last: date) -> list[int]:
    recent = last - timedelta(days=TOTALS_RECENT_DAYS)
    return [
        index
        for index, day in enumerate(days)
        if day > recent or day.weekday() == TOTALS_CHECKPOINT_WEEKDAY
    ]


def _write_totals(
    plan: SalesPlan,
    columns: list[str],
    days: list[date],
    owners: list[tuple[int | None, np.ndarray]],
) -> None:
    """Each owner's running totals on the kept days (`_kept_totals`) stored as JSON objects
    {column: integer}: on PostgreSQL one COPY whose JSON is filled into a template (the column
    names are plain words: nothing to escape), elsewhere bulk_create."""
    kept = _kept_totals(days, days[-1])
    if connection.vendor != "postgresql":
        PerformanceTotals.objects.bulk_create(
            (
                PerformanceTotals(
                    plan_id=plan.pk,
                    owner_id=owner_id,
                    day=days[index],
                    totals=dict(zip(columns, running[index].tolist(), strict=True)),
                )
                for owner_id, running in owners
                for index in kept
            ),
            batch_size=WRITE_BATCH,
        )
        return
    template = "{{" + ", ".join(f'"{column}": {{}}' for column in columns) + "}}"
    stamps = [days[index].isoformat() for index in kept]
    lines = []
    for owner_id, running in owners:
        owner = "\\N" if owner_id is None else str(owner_id)
        for stamp, values in zip(stamps, running[kept].tolist(), strict=True):
            lines.append(f"{plan.pk}\t{owner}\t{stamp}\t{template.format(*values)}\n")
    fields = ", ".join(
        PerformanceTotals._meta.get_field(name).column
        for name in ("plan", "owner", "day", "totals")
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {PerformanceTotals._meta.db_table} ({fields}) FROM STDIN",
            io.StringIO("".join(lines)),
        )


SNAPSHOT_FIELDS = [
    "plan_id",
    "metric_id",
    "owner_id",
    "day",
    "plan_to_date",
    "actual_to_date",
    "forecast",
    "status",
    "gap",
    "gap_pct",
    "computed_at",
]


# Days tracked and written at a time: PostgreSQL inserts one month's rows while Python tracks
# the next (a full yearly recompute overlaps its two halves on two cores).
CHUNK_DAYS = 31


def _tracked_chunks(
    series: list[Series], plan_days: _PlanDays, tolerance: Fraction, null: str | None
) -> Iterator[tuple[int, TrackedColumns]]:
    """The series tracked CHUNK_DAYS days at a time: (number of days, their figures; `null`
    where there is none). Converted once (`prepare`), tracked a month at a time."""
    days = len(plan_days.elapsed)
    prepared = prepare(
        series,
        working_days_elapsed=plan_days.elapsed,
        working_days=plan_days.working_days,
        tolerance=tolerance,
    )
    for start in range(0, days, CHUNK_DAYS):
        end = min(start + CHUNK_DAYS, days)
        yield end - start, prepared.track(start, end, null=null)


class _Chunks:
    """A file whose text is produced chunk by chunk as COPY reads it."""

    def __init__(self, parts: Iterator[str]) -> None:
        self.parts = parts
        self.current = io.StringIO()

    def read(self, size: int = -1) -> str:
        while True:
            data = self.current.read(size)
            if data:
                return data
            part = next(self.parts, None)
            if part is None:
                return ""
            self.current = io.StringIO(part)

    def readline(self, size: int = -1) -> str:  # psycopg2 asks for read() only; for safety
        return self.read(size)


# A recompute over stored rows compares what it tracked with them, chunk by chunk. When the first
# chunk changes more than this share of its rows (an edit of the plan moves every plan-to-date)
# or its rows are not the stored ones (a metric or an owner came or went), the stored rows are
# deleted and everything is written afresh by one COPY; otherwise only the rows whose figures
# differ are updated (a nightly full recompute changes the days after late data, and the last
# day). Rewriting 630,000 unchanged rows cost ~4 s of the server's time for nothing.
REWRITE_SHARE = 0.5


class _Stored:
    """A plan's stored rows for the days recomputed, in the write's order (day, metric,
    owner): each row's id, day (ISO), key (metric id, tab, owner id or "\\N") and
    figures, the last two exactly as `_write_snapshots` writes them."""

    def __init__(self, ids: np.ndarray, days: np.ndarray, keys: np.ndarray, figures: np.ndarray):
        self.ids, self.days, self.keys, self.figures = ids, days, keys, figures


def _figure_sql(column: str, places: int) -> str:
    # The stored decimal as the tracking writes it: an integer of 10^-places, "e-places".
    return f"coalesce(round({column} * {10**places})::bigint || 'e-{places}', '\\N')"


def _stored_rows(plan_id: int, first: date, last: date) -> _Stored | None:
    """The plan's rows from `first` to `last` (None: there are none), read with one COPY."""
    figures = ", E'\\t', ".join(
        [
            _figure_sql("plan_to_date", VALUE_PLACES),
            _figure_sql("actual_to_date", VALUE_PLACES),
            _figure_sql("forecast", VALUE_PLACES),
            "status",
            _figure_sql("gap", VALUE_PLACES),
            _figure_sql("gap_pct", PERCENT_PLACES),
        ]
    )
    query = (
        f"SELECT id, day, metric_id || E'\\t' || coalesce(owner_id::text, '\\N'), "
        f"concat({figures}) FROM {PerformanceSnapshot._meta.db_table} "
        f"WHERE plan_id = {int(plan_id)} AND day BETWEEN '{first.isoformat()}' "
        f"AND '{last.isoformat()}' ORDER BY day, metric_id, coalesce(owner_id, 0)"
    )
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        # CSV: the fields hold tabs and backslashes, never a comma, a quote or a line break.
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    if not buffer.tell():
        return None
    buffer.seek(0)
    frame = pd.read_csv(
        buffer,
        header=None,
        names=["id", "day", "key", "figures"],
        dtype={"id": "int64", "day": str, "key": str, "figures": str},
        na_filter=False,
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    return _Stored(
        frame["id"].to_numpy(),
        frame["day"].to_numpy(dtype="U10"),
        frame["key"].to_numpy(dtype=object),
        frame["figures"].to_numpy(dtype=object),
    )


def _stored_rows_on_own_connection(plan_id: int, first: date, last: date) -> _Stored | None:
    try:
        return _stored_rows(plan_id, first, last)
    finally:
        connection.close()


def _stored_rows_beside(plan_id: int, first: date, last: date) -> "Future[_Stored | None]":
    """`_stored_rows` on a connection of its own, while the caller's reads the actuals (it
    sees what is committed: the recompute's lock on the plan keeps anyone else from writing
    them meanwhile)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(_stored_rows_on_own_connection, plan_id, first, last)
    finally:
        pool.shutdown(wait=False)


def _ready(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _write_snapshots(
    plan: SalesPlan,
    series: list[tuple[int | None, int]],
    days: list[date],
    chunks: Iterator[tuple[int, TrackedColumns]],
    stored: "Future[_Stored | None] | None" = None,
) -> int:
    """The tracked figures stored, chunk by chunk (`track_series` gives each chunk series after
    series, day after day). On PostgreSQL: compared with the rows stored for these days
    (`stored`, REWRITE_SHARE) and only the changed ones updated, or else one COPY fed as the
    chunks are tracked (the values are numbers, dates and status codes: nothing to escape);
    bulk_create elsewhere (the caller deleted the days first). Returns the rows of the days."""
    now = timezone.now()
    written = 0
    if connection.vendor != "postgresql":
        offset = 0
        for width, tracked in chunks:
            rows = []
            for index, (owner_id, metric_id) in enumerate(series):
                for step in range(width):
                    i = index * width + step
                    rows.append(
                        PerformanceSnapshot(
                            plan_id=plan.pk,
                            metric_id=metric_id,
                            owner_id=owner_id,
                            day=days[offset + step],
                            plan_to_date=tracked.plan_to_date[i],
                            actual_to_date=tracked.actual_to_date[i],
                            forecast=tracked.forecast[i],
                            status=tracked.status[i],
                            gap=tracked.gap[i],
                            gap_pct=tracked.gap_pct[i],
                            computed_at=now,
                        )
                    )
            PerformanceSnapshot.objects.bulk_create(rows, batch_size=WRITE_BATCH)
            written += len(rows)
            offset += width
        return written

    # In the unique keys' order (plan, day, metric, owner): day by day, then by metric and
    # owner, so the index inserts append instead of jumping (twice as fast a COPY).
    order = sorted(range(len(series)), key=lambda i: (series[i][1], series[i][0] or 0))
    null, tab = "\\N", "\t"
    keys = np.array(
        [
            f"{metric_id}{tab}{null if owner_id is None else owner_id}"
            for owner_id, metric_id in series
        ],
        dtype=object,
    )[order]
    heads = f"{plan.pk}{tab}" + keys + tab
    end = f"{tab}{now.isoformat()}\n"
    width_of_day = len(series)

    def blocks() -> Iterator[tuple[int, int, np.ndarray]]:
        # Each chunk's figures joined by NumPy's elementwise concatenation of object arrays of
        # str (a C loop): series × days, reordered to days × series in the keys' order.
        offset = 0
        for width, tracked in chunks:
            figures = tracked.plan_to_date + tab + tracked.actual_to_date
            for name in ("forecast", "status", "gap", "gap_pct"):
                figures = figures + tab + getattr(tracked, name)
            yield offset, width, figures.reshape(width_of_day, width)[order].T
            offset += width

    def lines(offset: int, width: int, block: np.ndarray) -> np.ndarray:
        day_texts = np.array(
            [f"{days[offset + step].isoformat()}{tab}" for step in range(width)], dtype=object
        )
        return heads[None, :] + day_texts[:, None] + block + end

    def copy(parts: Iterable[tuple[int, int, np.ndarray]]) -> None:
        def text() -> Iterator[str]:
            nonlocal written
            for offset, width, block in parts:
                rows = lines(offset, width, block)
                written += rows.size
                yield "".join(rows.ravel().tolist())

        fields = ", ".join(
            PerformanceSnapshot._meta.get_field(name).column for name in SNAPSHOT_FIELDS
        )
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {PerformanceSnapshot._meta.db_table} ({fields}) FROM STDIN",
                _Chunks(text()),
                1 << 20,  # bytes a read: positional (Django's debug cursor wrapper: *args only)
            )

    produced = blocks()
    first = next(produced, None)
    known = stored.result() if stored is not None and first is not None else None
    if first is None:
        return 0
    if known is None:
        copy(itertools.chain([first], produced))
        return written

    last_day = days[-1].isoformat()
    changes: list[str] = []
    gone: list[np.ndarray] = []

    def compare(offset: int, width: int, block: np.ndarray) -> tuple[bool, float]:
        """Adds the chunk's changed rows to `changes`; (its rows were the stored ones, the
        share of them changed)."""
        isos = [days[offset + step].isoformat() for step in range(width)]
        low = int(np.searchsorted(known.days, isos[0], "left"))
        high = int(np.searchsorted(known.days, isos[-1], "right"))
        figures = block.ravel()
        same = (
            high - low == figures.size
            and bool((known.keys[low:high] == np.tile(keys, width)).all())
            and bool((known.days[low:high] == np.repeat(np.array(isos), width_of_day)).all())
        )
        if not same:
            gone.append(known.ids[low:high])
            changes.extend(null + tab + lines(offset, width, block).ravel())
            return False, 1.0
        changed = known.figures[low:high] != figures
        if isos[-1] == last_day:  # the last day is stamped on every run (its "computed at")
            changed[-width_of_day:] = True
        if changed.any():  # the lines of the changed rows only
            where = np.flatnonzero(changed)
            day_texts = np.array([f"{iso}{tab}" for iso in isos], dtype=object)
            rows = (
                heads[where % width_of_day]
                + day_texts[where // width_of_day]
                + figures[where]
                + end
            )
            changes.extend(known.ids[low:high][where].astype(str).astype(object) + tab + rows)
        return True, float(changed.mean()) if changed.size else 0.0

    same, share = compare(*first)
    if not same or share > REWRITE_SHARE:
        PerformanceSnapshot.objects.filter(plan_id=plan.pk, day__gte=days[0]).delete()
        changes.clear()
        gone.clear()
        copy(itertools.chain([first], produced))
        return written
    for part in produced:
        compare(*part)
    _apply_changes(changes, np.concatenate(gone) if gone else np.array([], dtype="int64"))
    return len(days) * width_of_day


def _apply_changes(changes: list[str], gone: np.ndarray) -> None:
    """The rows a recompute changed, each "id<TAB>row" (id "\\N": a new row), written in
    three statements through a temporary table; `gone`: ids of stored rows it replaces."""
    table = PerformanceSnapshot._meta.db_table
    fields = [PerformanceSnapshot._meta.get_field(name).column for name in SNAPSHOT_FIELDS]
    with connection.cursor() as cursor:
        if gone.size:
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [gone.tolist()])
        if not changes:
            return
        cursor.execute("DROP TABLE IF EXISTS snapshot_changes")
        cursor.execute(
            f"CREATE TEMPORARY TABLE snapshot_changes AS SELECT id, {', '.join(fields)} "
            f"FROM {table} WITH NO DATA"
        )
        cursor.copy_expert(
            f"COPY snapshot_changes (id, {', '.join(fields)}) FROM STDIN",
            io.StringIO("".join(changes)),
        )
        values = ", ".join(f"{field} = c.{field}" for field in fields[4:])
        cursor.execute(
            f"UPDATE {table} s SET {values} FROM snapshot_changes c "
            "WHERE c.id IS NOT NULL AND s.id = c.id"
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(fields)}) "
            f"SELECT {', '.join(fields)} FROM snapshot_changes WHERE id IS NULL"
        )
        cursor.execute("DROP TABLE snapshot_changes")


def plan_performance_refresh(*, plan_id: int, today: date | None = None, full: bool = False) -> int:
    """Recompute and store the plan's plan vs fact from the first day that can have changed
    (every day from the period start with `full`, or when nothing is stored yet) to `today`
    (the organization's today by default; the period end at most). Returns the snapshot rows
    written; 0 when the plan is gone, not started, or its saved input no longer decomposes (its
    page says what is wrong; the rows stored before are kept).

    The actuals' queries run side by side on connections of their own when this is the
    outermost transaction (`ACTUALS_CONCURRENT_QUERIES`): other connections see only committed
    rows, so a caller inside a transaction of its own (that may hold actuals it wrote) gets
    them read on its own connection."""
    concurrent = (
        settings.ACTUALS_CONCURRENT_QUERIES
        and connection.vendor == "postgresql"  # SQLite: one writer, nothing to overlap
        and not connection.in_atomic_block
    )
    with transaction.atomic():
        # One recompute per plan at a time: a second waits here, then finds nothing new.
        locked = (
            SalesPlan.objects.select_for_update()
            .filter(pk=plan_id)
            .values("pk", "performance_dirty_from")
            .first()
        )
        if locked is None:
            return 0
        plan = with_inputs(SalesPlan.objects.filter(pk=plan_id)).get()
        organization = plan.organization
        try:
            decomposition = decompose(saved_plan_input(plan, calendar_for(organization)))
        except PlanInputError:
            return 0
        today = today or timezone.localdate(timezone=ZoneInfo(organization.time_zone))
        last = min(today, plan.period_end)
        since = _since(plan.pk, locked["performance_dirty_from"], plan.period_start, full)
        SalesPlan.objects.filter(pk=plan.pk).update(performance_dirty_from=None)
        metrics = list(PlanMetric.objects.filter(plan=plan).order_by("id"))
        refs = {metric.pk: ref_of(metric) for metric in metrics}
        personal_refs = _personal_refs(plan, refs)
        base = None
        if since > plan.period_start:
            stages = plan.funnel.stages.order_by("position").values_list("position", flat=True)
            columns = [stage_column(p) for p in stages] + list(COUNT_COLUMNS) + list(MONEY_COLUMNS)
            found = _base_totals(plan.pk, since, personal_refs, columns)
            if found is None:
                since = plan.period_start
            else:
                since = found[0] + timedelta(days=1)
                base = found[1:]
        # On PostgreSQL the rows stored for the days recomputed are compared with the new ones
        # (`_write_snapshots`), read beside the actuals.
        compare = connection.vendor == "postgresql" and since <= last
        stored = None
        if compare:
            stored = (
                _stored_rows_beside(plan.pk, since, last)
                if concurrent
                else _ready(_stored_rows(plan.pk, since, last))
            )
        # The actuals read on connections of their own while this one deletes what they will
        # replace (the server does both at once).
        pending = (
            actuals_by_day_beside(
                organization=organization, funnel=plan.funnel, start=since, end=last
            )
            if concurrent and since <= last
            else None
        )
        # The days recomputed, and any after the last (a shortened period): one index range.
        first_gone = min(since, last + timedelta(days=1))
        for model in (PerformanceSnapshot, PerformanceTotals, GapShare):
            gone = last + timedelta(days=1) if compare and model is PerformanceSnapshot else None
            model.objects.filter(plan_id=plan.pk, day__gte=gone or first_gone).delete()
        if last < since:
            return 0
        written = _recompute(
            plan,
            decomposition,
            refs,
            personal_refs,
            since,
            last,
            base,
            frame=pending.result() if pending is not None else None,
            stored=stored,
        )
        # Slips open and close from the last day's rows (notified once, after the commit).
        slips_sync(plan=plan, day=last)
        performance_refreshed.send(sender=SalesPlan, plan=plan, since=since, last=last)
        return written


def _recompute(
    plan: SalesPlan,
    decomposition: Decomposition,
    refs: Mapping[int, MetricRef],
    personal_refs: Mapping[int, list[MetricRef]],
    since: date,
    last: date,
    base: tuple[dict[str, int], dict[int, dict[str, int]]] | None,
    *,
    frame: ActualsFrame | None = None,
    stored: "Future[_Stored | None] | None" = None,
) -> int:
    """The days from `since` to `last` tracked and stored; `frame`: their actuals if read
    already (else read here, on this connection); `stored`: the rows stored for these days,
    to compare with (`_write_snapshots`; None: they were deleted)."""
    if frame is None:
        frame = actuals_by_day(
            organization=plan.organization, funnel=plan.funnel, start=since, end=last
        )
    columns = frame.columns
    col = {name: i for i, name in enumerate(columns)}
    days = [since + timedelta(days=n) for n in range((last - since).days + 1)]
    rows = _daily_ints(frame)
    base_department, base_personal = base or ({}, {})
    department = _running(rows, columns, days, base_department)
    personal = _running_by_owner(rows, columns, days, list(personal_refs), base_personal)
    plan_days = _PlanDays(decomposition, days)
    target = _target_position(refs.values(), decomposition)
    tolerance = Fraction(plan.tolerance) / 100

    entities: list[tuple[int | None, int, np.ndarray]] = [
        (None, metric_id, department) for metric_id in refs
    ]
    # Each owner's running totals column by column (Python ints), read by every series.
    by_column = {owner_id: running.T.tolist() for owner_id, running in personal.items()}
    department_columns = department.T.tolist()
    series = [_series(ref, plan_days, col, department_columns, target) for ref in refs.values()]
    ids = {ref.key: metric_id for metric_id, ref in refs.items()}
    for owner_id, owned in personal_refs.items():
        for ref in owned:
            entities.append((owner_id, ids[ref.key], personal[owner_id]))
            series.append(_series(ref, plan_days, col, by_column[owner_id], target))
    written = _write_snapshots(
        plan,
        [(o, m) for o, m, _ in entities],
        days,
        _tracked_chunks(
            series, plan_days, tolerance, "\\N" if connection.vendor == "postgresql" else None
        ),
        stored,
    )

    _write_totals(plan, columns, days, [(None, department), *personal.items()])

    GapShare.objects.bulk_create(
        _gap_shares(plan, refs, plan_days, days, col, department, target), batch_size=WRITE_BATCH
    )
    return written
