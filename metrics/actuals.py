"""Actual-to-date figures from the actuals (DOMAIN section 2, "Actuals"), read set-based: one
aggregate query per kind of actual, grouped by (member, the organization's local day), never a
loop over rows. What plan-vs-fact (issue 11) compares with plan-to-date.

The rules it applies (DOMAIN section 3, idea 5):

- Days are the organization's local days: a payment at 23:30 Moscow time on 31 January belongs
  to 31 January, whatever UTC says (`TruncDate(..., tzinfo=)` in the database).
- A stage is counted once per lead, on the day it first reached it. The loader (every way in:
  files, webhooks, the events API) stores the implied events for the stages above a stage
  reached, at the same moment, each once per lead at the earliest moment seen; so counting
  `StageEvent` rows per stage is counting leads that first reached it.
- A row's member is the person whose personal slice it counts for: a stage event's member (who
  moved the lead), else the lead's responsible; a payment's credited member, else the lead's
  responsible. A head of sales has no personal plan: anything of theirs — a lead they own, a
  deal they closed even when a salesperson is credited with its bonus — has no member and
  counts for the department only, as do rows with nobody responsible.
- Won deals are leads on the day of their first payment; revenue, gross margin, new clients
  and revenue from existing clients come from payments (`is_new_client`), by `paid_at`.
- Marketing spend is the department's (it has no member); missed calls are calls not
  connected; overdue tasks are tasks, by their due day, not done by their due moment.
- Lost deals are leads on the day of their loss (`lost_at`): with the won deals, the closed
  ones (the refusal rate, lost ÷ closed).
- CRM discipline (metrics.discipline, DOMAIN idea 8): leads without a next task are leads, by
  their creation day, open now with no open task; tasks without a goal are tasks, by their due
  day, whose text states none (a task whose source exports no text is not judged).
"""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from funnel.models import Call, Funnel, Lead, Payment, Spend, StageEvent, Task
from metrics.discipline import no_goal, open_without_next_task
from salesplan.access import scoped
from salesplan.models import Membership, Organization, Role

# Counts per (member, day); each stage adds a column `stage:<position>`.
COUNT_COLUMNS: tuple[str, ...] = (
    "leads",
    "target_leads",
    "won_deals",
    "new_clients",
    "calls",
    "missed_calls",
    "tasks_due",
    "overdue_tasks",
    "lost_deals",
    "leads_without_next_task",
    "tasks_without_goal",
)
# Exact decimals per (member, day) (DOMAIN section 3: money is never float).
MONEY_COLUMNS: tuple[str, ...] = (
    "revenue",
    "gross_margin",
    "new_client_revenue",
    "existing_client_revenue",
    "marketing_spend",
)
ZERO = Decimal(0)
# Queries run beside the biggest one by `actuals_by_day(concurrent=True)`: with the biggest
# itself, one per core of a two-core server (more only queue behind them).
CONCURRENT_QUERIES = 2
# Memory a sort or hash of these aggregate queries may take before spilling to disk (the
# server's default is 4 MB); a recompute runs at most 1 + CONCURRENT_QUERIES of them at once.
AGGREGATE_WORK_MEM = "64MB"


def stage_column(position: int) -> str:
    return f"stage:{position}"


@dataclass(frozen=True, slots=True)
class StageRef:
    position: int
    name: str
    column: str


@dataclass(frozen=True)
class ActualsFrame:
    """Actuals per (member, local day) from `start` to `end` inclusive.

    `rows` has one row per (member_id, day) with any actual: `member_id` is a nullable Int64
    (NA: nobody's personal slice — no one responsible, or the head of sales), `day` a date,
    then the stage columns, COUNT_COLUMNS (int) and MONEY_COLUMNS (Decimal)."""

    organization_id: int
    funnel_id: int
    start: date
    end: date
    time_zone: str
    stages: tuple[StageRef, ...]
    rows: pd.DataFrame

    @property
    def count_columns(self) -> list[str]:
        return [stage.column for stage in self.stages] + list(COUNT_COLUMNS)

    @property
    def columns(self) -> list[str]:
        return self.count_columns + list(MONEY_COLUMNS)


@dataclass(frozen=True)
class ActualsToDate:
    """Totals from the frame's start to `day` inclusive: the department's (everyone, with the
    head of sales' deals and rows with nobody responsible) and each member's personal slice."""

    day: date
    department: dict[str, Any]
    by_member: dict[int, dict[str, Any]]
    unassigned: dict[str, Any]  # the part of the department that is nobody's slice

    def member(self, member_id: int) -> dict[str, Any]:
        """A member's totals, zeros when they have no actuals."""
        return self.by_member.get(member_id) or {key: _zero(key) for key in self.department}


def _zero(column: str) -> Any:
    return ZERO if column in MONEY_COLUMNS else 0


def calls_of_funnel(funnel_id: int) -> Q:
    """Calls (and tasks) of the funnel's leads, or of no lead (a call before any deal)."""
    return Q(lead__isnull=True) | Q(lead__funnel_id=funnel_id)


def local_day_bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The moments of the first local day's start and the day after the last local day: an
    index-friendly range on the stored UTC moments."""
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _personal(member: str | None, lead: str, heads: list[int]) -> Case:
    """The member whose personal slice a row counts for (module docstring): `member` (the
    event's or payment's own), else the lead's responsible; none for a head of sales (`heads`:
    the organization's heads of sales, read once, so the query compares ids instead of joining
    every row to its people's roles)."""
    responsible = f"{lead}responsible" if lead else "responsible"
    own = Coalesce(member, responsible) if member else F(responsible)
    checks = []
    if heads:
        checks.append(When(**{f"{responsible}__in": heads}, then=Value(None)))
        if member:
            checks.append(When(**{f"{member}__in": heads}, then=Value(None)))
    return Case(*checks, default=own, output_field=BigIntegerField())


def _grouped(
    queryset: QuerySet[Any], moment: str, zone: tzinfo, member: Case, **sums: Any
) -> QuerySet[Any]:
    """One aggregate query: `sums` per (member, local day of `moment`), not yet run."""
    return (
        queryset.annotate(slice_member=member, day=TruncDate(moment, tzinfo=zone))
        .values("slice_member", "day")
        .annotate(**sums)
        .order_by()
    )


def _frame(rows: QuerySet[Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).rename(columns={"slice_member": "member_id"})


def _frames(queries: list[QuerySet[Any]], *, jit: bool) -> list[pd.DataFrame]:
    """The queries' rows on this thread's connection, on PostgreSQL with memory enough for
    their hashes (AGGREGATE_WORK_MEM: at the default 4 MB the stage events' join and group-by
    spill to disk at 1,000,000 leads) and JIT compilation only where it pays (`jit`): the
    stage events' group-by over millions of rows gains ~0.7 s from it, while compiling the
    smaller queries cost more than it saved (2.4 s of CPU for the payments' one; EXPLAIN
    ANALYZE at 1,000,000 leads). SET LOCAL: to the end of this transaction only."""
    if connection.vendor != "postgresql":
        return [_frame(rows) for rows in queries]
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'; "
                f"SET LOCAL jit = {'on' if jit else 'off'}"
            )
        return [_frame(rows) for rows in queries]


def _in_own_connection(rows: QuerySet[Any]) -> pd.DataFrame:
    """Run in a pool thread: Django gives the thread a connection of its own, closed here."""
    try:
        return _frames([rows], jit=False)[0]
    finally:
        connection.close()


def _run(queries: list[QuerySet[Any]], concurrent: bool) -> list[pd.DataFrame]:
    """The queries' rows, one after another on this connection, or (`concurrent`) at once on
    connections of their own: the server runs them on its cores side by side. Concurrent reads
    see only what is committed, so a caller that wrote actuals in an open transaction must not
    ask for it."""
    if not concurrent or len(queries) < 2:
        return _frames(queries[:1], jit=True) + _frames(queries[1:], jit=False)
    with ThreadPoolExecutor(max_workers=CONCURRENT_QUERIES) as pool:
        # The biggest query (the first) here, the rest beside it.
        others = [pool.submit(_in_own_connection, rows) for rows in queries[1:]]
        first = _frames(queries[:1], jit=True)
        return [*first, *(future.result() for future in others)]


def actuals_by_day(
    *,
    organization: Organization,
    funnel: Funnel,
    start: date,
    end: date,
    tz: tzinfo | None = None,
    concurrent: bool = False,
) -> ActualsFrame:
    """The funnel's actuals per (member, local day) from `start` to `end` inclusive, in seven
    aggregate queries whatever the volume. `tz` defaults to the organization's time zone.
    `concurrent` runs the five grouped queries side by side on connections of their own
    (`_run`: only for a caller with no uncommitted actuals; PostgreSQL only)."""
    zone = tz or ZoneInfo(organization.time_zone)
    since, until = local_day_bounds(start, end, zone)
    stages = tuple(
        StageRef(position, name, stage_column(position))
        for position, name in funnel.stages.order_by("position").values_list("position", "name")
    )
    heads = list(
        scoped(Membership, organization)
        .filter(role=Role.HEAD_OF_SALES)
        .values_list("id", flat=True)
    )
    queries: list[QuerySet[Any]] = []

    # Stage volumes: one event per lead and stage (the loader stores the implied ones).
    events = _grouped(
        scoped(StageEvent, organization).filter(
            stage__funnel=funnel, reached_at__gte=since, reached_at__lt=until
        ),
        "reached_at",
        zone,
        _personal("member", "lead__", heads),
        **{stage.column: Count("id", filter=Q(stage__position=stage.position)) for stage in stages},
    )
    queries.append(events)

    leads = _grouped(
        scoped(Lead, organization).filter(
            funnel=funnel, created_at__gte=since, created_at__lt=until
        ),
        "created_at",
        zone,
        _personal(None, "", heads),
        leads=Count("id"),
        target_leads=Count("id", filter=Q(is_target=True)),
        leads_without_next_task=Count("id", filter=open_without_next_task(organization.pk)),
    )
    queries.append(leads)

    # Refusals: leads lost in the period, by the day of their loss (a partial index holds
    # only the lost leads: a few of all of them).
    lost = _grouped(
        scoped(Lead, organization).filter(funnel=funnel, lost_at__gte=since, lost_at__lt=until),
        "lost_at",
        zone,
        _personal(None, "", heads),
        lost_deals=Count("id"),
    )
    queries.append(lost)

    # A deal is won on the day of its lead's first payment (ties broken by id).
    earlier = Payment.objects.filter(organization=organization, lead=OuterRef("lead")).filter(
        Q(paid_at__lt=OuterRef("paid_at")) | Q(paid_at=OuterRef("paid_at"), id__lt=OuterRef("id"))
    )
    payments = scoped(Payment, organization).filter(
        lead__funnel=funnel, paid_at__gte=since, paid_at__lt=until
    )
    first = Case(
        When(Exists(earlier), then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    paid = _grouped(
        payments.annotate(first=first),
        "paid_at",
        zone,
        _personal("credited_member", "lead__", heads),
        won_deals=Sum("first"),
        new_clients=Sum("first", filter=Q(is_new_client=True)),
        revenue=Sum("amount"),
        gross_margin=Sum("gross_margin"),
        new_client_revenue=Sum("amount", filter=Q(is_new_client=True)),
        existing_client_revenue=Sum("amount", filter=Q(is_new_client=False)),
    )
    queries.append(paid)

    # Calls and tasks of this funnel's leads, or of no lead (a call before any deal).
    of_funnel = calls_of_funnel(funnel.pk)
    calls = _grouped(
        scoped(Call, organization).filter(of_funnel, at__gte=since, at__lt=until),
        "at",
        zone,
        _personal("member", "lead__", heads),
        calls=Count("id"),
        missed_calls=Count("id", filter=Q(connected=False)),
    )
    queries.append(calls)
    tasks = _grouped(
        scoped(Task, organization).filter(of_funnel, due_at__gte=since, due_at__lt=until),
        "due_at",
        zone,
        _personal("member", "lead__", heads),
        tasks_due=Count("id"),
        overdue_tasks=Count("id", filter=Q(done_at__isnull=True) | Q(done_at__gt=F("due_at"))),
        tasks_without_goal=Count("id", filter=no_goal()),
    )
    queries.append(tasks)
    parts = _run(queries, concurrent and connection.vendor == "postgresql")

    # Spend is per channel and local day already (funnel.models.Spend); the department's.
    spend = (
        scoped(Spend, organization)
        .filter(date__gte=start, date__lte=end)
        .values("date")
        .annotate(marketing_spend=Sum("amount"))
        .order_by()
    )
    parts.append(
        pd.DataFrame(
            [
                {"member_id": None, "day": row["date"], "marketing_spend": row["marketing_spend"]}
                for row in spend
            ]
        )
    )

    return ActualsFrame(
        organization_id=organization.pk,
        funnel_id=funnel.pk,
        start=start,
        end=end,
        time_zone=str(zone),
        stages=stages,
        rows=_combine(parts, stages),
    )


def _on_own_connection(**kwargs: Any) -> ActualsFrame:
    try:
        return actuals_by_day(**kwargs, concurrent=True)
    finally:
        connection.close()


def actuals_by_day_beside(**kwargs: Any) -> "Future[ActualsFrame]":
    """`actuals_by_day(concurrent=True)` started on a connection of its own (every query of
    it off the caller's connection), for a caller that has work of its own for its connection
    meanwhile (the recompute deletes the days it replaces). Reads only what is committed, as
    `concurrent` does."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(_on_own_connection, **kwargs)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its work


def _combine(parts: list[pd.DataFrame], stages: tuple[StageRef, ...]) -> pd.DataFrame:
    """One row per (member_id, day): the queries' rows summed, missing figures zero."""
    counts = [stage.column for stage in stages] + list(COUNT_COLUMNS)
    columns = ["member_id", "day", *counts, *MONEY_COLUMNS]
    parts = [part for part in parts if not part.empty]
    if not parts:
        empty = pd.DataFrame({column: [] for column in columns})
        empty["member_id"] = empty["member_id"].astype("Int64")
        return empty.astype({column: "int64" for column in counts})
    rows = pd.concat(parts, ignore_index=True)
    for column in columns:
        if column not in rows:
            rows[column] = None
    rows = rows[columns]
    rows["member_id"] = rows["member_id"].astype("Int64")
    for column in counts:
        rows[column] = rows[column].fillna(0).astype("int64")
    for column in MONEY_COLUMNS:
        values = rows[column]
        rows[column] = values.where(values.notna(), ZERO)  # None/NaN → 0, in C, not per row
    summed = rows.groupby(["member_id", "day"], dropna=False, sort=True).sum().reset_index()
    return summed[columns]


def _totals(rows: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    return {column: _python(rows[column].sum(), column) for column in columns}


def _python(value: Any, column: str) -> Any:
    if column in MONEY_COLUMNS:
        return value if isinstance(value, Decimal) else ZERO
    return int(value)


def cumulative_to(frame: ActualsFrame, day: date) -> ActualsToDate:
    """Actual-to-date: the frame's totals from its start to `day` inclusive."""
    rows = frame.rows[frame.rows["day"] <= day]
    columns = frame.columns
    by_member = {
        int(member_id): _totals(group, columns)
        for member_id, group in rows[rows["member_id"].notna()].groupby("member_id")
    }
    return ActualsToDate(
        day=day,
        department=_totals(rows, columns),
        by_member=by_member,
        unassigned=_totals(rows[rows["member_id"].isna()], columns),
    )


def running_totals(frame: ActualsFrame) -> pd.DataFrame:
    """Actual-to-date for every day of the frame: one row per (member_id, day) for every member
    with any actual and every day from start to end, cumulative; member_id NA rows are the
    part that is nobody's slice (the department is the sum over members per day)."""
    days = [frame.start + timedelta(days=n) for n in range((frame.end - frame.start).days + 1)]
    members = frame.rows["member_id"].drop_duplicates().tolist()
    grid = pd.MultiIndex.from_product(
        [pd.array(members, dtype="Int64"), days], names=["member_id", "day"]
    )
    daily = frame.rows.set_index(["member_id", "day"]).reindex(grid)
    for column in frame.count_columns:
        daily[column] = daily[column].fillna(0).astype("int64")
    for column in MONEY_COLUMNS:
        daily[column] = daily[column].map(lambda v: ZERO if v is None or pd.isna(v) else v)
    per_member = daily.groupby(level="member_id", dropna=False, sort=False)
    out = per_member[frame.count_columns].cumsum()
    # A Series of Decimal adds up exactly in cumsum (Python's own addition); a grouped object
    # column has no cumsum of its own, hence per group.
    for column in MONEY_COLUMNS:
        out[column] = per_member[column].transform(lambda values: values.cumsum())
    return out.reset_index()
