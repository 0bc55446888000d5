"""Slips (DOMAIN 2 "Slip", issue 11): opened when a metric's stored status turns slipped,
updated while it stays slipped, closed on the first day it is not; the history is kept (a
metric that slips again opens a new Slip).

`slips_sync` runs inside the recompute's transaction, right after the snapshots of every day
up to `day` are written, so the slips and the snapshots they were read from commit together.
It reads `day`'s snapshots only; a rerun of the same day finds the same open slips and opens,
and so notifies, nothing again.

Whose slip it is:
- a department row (snapshot owner None): the metric's top-level owner on the pie
  (Responsibility with no parent; the largest share if the top is split), personal=False;
  None when nobody owns the metric on the pie;
- a salesperson's row: that salesperson, personal=True (their own slice).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Min, Q

from metrics.models import EVERY_OWNER, PerformanceSnapshot, PerformanceStatus, Slip
from salesplan.models import SalesPlan
from salesplan.notifications.services import slip_opened_notify
from salesplan.plans.selectors import gap_split, top_owners

# (metric id, owner id or None, personal)
SlipKey = tuple[int, int | None, bool]


@dataclass(frozen=True, slots=True)
class _Row:
    """One of `day`'s snapshots, keyed as its slip would be."""

    key: SlipKey
    snapshot_owner_id: int | None
    slipped: bool
    gap: Decimal | None
    gap_pct: Decimal | None


def _rows_of(plan: SalesPlan, day: date) -> list[_Row]:
    top = {metric_id: owners[0][0] for metric_id, owners in top_owners(plan).items()}
    rows = []
    snapshots = PerformanceSnapshot.objects.filter(EVERY_OWNER, plan=plan, day=day).values_list(
        "metric_id", "owner_id", "status", "gap", "gap_pct"
    )
    for metric_id, owner_id, status, gap, gap_pct in snapshots:
        if owner_id is None:
            key: SlipKey = (metric_id, top.get(metric_id), False)
        else:
            key = (metric_id, owner_id, True)
        rows.append(_Row(key, owner_id, status == PerformanceStatus.SLIPPED, gap, gap_pct))
    return rows


def _attributed(plan: SalesPlan, day: date) -> tuple[dict[int, Decimal], dict[tuple, Decimal]]:
    """The day's revenue gap credited per metric (the department's figure: every owner's
    part) and per (metric, owner) (a salesperson's own part: theirs at the top of the pie, or
    their share of the split below a head of sales), from the stored GapShares."""
    per_metric: dict[int, Decimal] = {}
    per_owner: dict[tuple, Decimal] = {}
    for row in gap_split(plan, day):
        metric_id = row["metric_id"]
        if metric_id is None:
            continue
        per_metric[metric_id] = per_metric.get(metric_id, Decimal(0)) + row["contribution"]
        parts = [(part["id"], part["contribution"]) for part in row["split"]]
        if not parts and row["owner"]:
            parts = [(row["owner"]["id"], row["contribution"])]
        for owner_id, amount in parts:
            key = (metric_id, owner_id)
            per_owner[key] = per_owner.get(key, Decimal(0)) + amount
    return per_metric, per_owner


def _since(plan: SalesPlan, day: date, rows: Iterable[_Row]) -> dict[tuple, date]:
    """The first day of each row's current run of slipped days: `day` itself when the day
    before was not slipped (one read of that day), else from the snapshots stored before
    `day` (two aggregate queries over the rows slipped the day before)."""
    wanted = {(row.key[0], row.snapshot_owner_id) for row in rows}
    if not wanted:
        return {}
    # Most runs: the row was not slipped the day before, so its run starts today (one indexed
    # read of that day); only the others need the history.
    yesterday = {
        (metric_id, owner_id): status
        for metric_id, owner_id, status in PerformanceSnapshot.objects.filter(
            EVERY_OWNER,
            plan=plan,
            day=day - timedelta(days=1),
            metric_id__in={m for m, _ in wanted},
        ).values_list("metric_id", "owner_id", "status")
    }
    since = {key: day for key in wanted if yesterday.get(key) != PerformanceStatus.SLIPPED}
    wanted -= set(since)
    if not wanted:
        return since
    metrics = {metric_id for metric_id, _ in wanted}
    before = PerformanceSnapshot.objects.filter(plan=plan, day__lt=day, metric_id__in=metrics)
    last_not_slipped = {
        (item["metric_id"], item["owner_id"]): item["last"]
        for item in before.exclude(status=PerformanceStatus.SLIPPED)
        .values("metric_id", "owner_id")
        .annotate(last=Max("day"))
        .order_by()
    }
    first = {
        (item["metric_id"], item["owner_id"]): item["first"]
        for item in before.values("metric_id", "owner_id").annotate(first=Min("day")).order_by()
    }
    for key in wanted:
        if key in last_not_slipped:
            since[key] = last_not_slipped[key] + timedelta(days=1)
        else:  # slipped on every stored day before (or none stored): since the first
            since[key] = first.get(key, day)
    return since


UPDATED_FIELDS = ("closed_on", "gap", "gap_pct", "attributed_revenue", "updated_on")


def _update(slips: list[Slip]) -> None:
    """Write the open slips' new figures: one UPDATE … FROM (VALUES …) on PostgreSQL (every
    open slip moves every day; bulk_update's CASE per field and row took a third of an
    incremental recompute with a thousand open slips), bulk_update elsewhere."""
    if not slips:
        return
    if connection.vendor != "postgresql":
        Slip.objects.bulk_update(slips, list(UPDATED_FIELDS))
        return
    table = Slip._meta.db_table
    for start in range(0, len(slips), 5_000):
        batch = slips[start : start + 5_000]
        values = ", ".join(
            ["(%s, %s::date, %s::numeric, %s::numeric, %s::numeric, %s::date)"] * len(batch)
        )
        params = [
            value
            for slip in batch
            for value in (
                slip.pk,
                slip.closed_on,
                slip.gap,
                slip.gap_pct,
                slip.attributed_revenue,
                slip.updated_on,
            )
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS slip SET closed_on = v.closed_on, gap = v.gap, "
                "gap_pct = v.gap_pct, attributed_revenue = v.attributed_revenue, "
                "updated_on = v.updated_on "
                f"FROM (VALUES {values}) AS v(id, closed_on, gap, gap_pct, attributed_revenue, "
                "updated_on) WHERE slip.id = v.id",
                params,
            )


def slips_sync(*, plan: SalesPlan, day: date) -> list[Slip]:
    """Open, update and close the plan's slips from `day`'s snapshots; returns the slips
    opened (their owners are notified once the transaction commits)."""
    rows = _rows_of(plan, day)
    per_metric, per_owner = _attributed(plan, day)
    open_slips = {
        (slip.metric_id, slip.owner_id, slip.personal): slip
        for slip in Slip.objects.filter(plan=plan, closed_on__isnull=True)
    }
    slipped = {row.key: row for row in rows if row.slipped}

    def attributed(key: SlipKey) -> Decimal | None:
        metric_id, owner_id, personal = key
        return per_owner.get((metric_id, owner_id)) if personal else per_metric.get(metric_id)

    to_update: list[Slip] = []
    for key, slip in open_slips.items():
        row = slipped.get(key)
        if row is None:  # recovered (or no longer on the pie / in the plan)
            if slip.closed_on != day:
                slip.closed_on = day
                to_update.append(slip)
            continue
        figures = (row.gap or Decimal(0), row.gap_pct, attributed(key))
        if (slip.gap, slip.gap_pct, slip.attributed_revenue, slip.updated_on) != (*figures, day):
            slip.gap, slip.gap_pct, slip.attributed_revenue = figures
            slip.updated_on = day
            to_update.append(slip)
    _update(to_update)

    new_rows = [row for key, row in slipped.items() if key not in open_slips]
    since = _since(plan, day, new_rows)
    opened = Slip.objects.bulk_create(
        [
            Slip(
                plan=plan,
                metric_id=row.key[0],
                owner_id=row.key[1],
                personal=row.key[2],
                since=since[(row.key[0], row.snapshot_owner_id)],
                gap=row.gap or Decimal(0),
                gap_pct=row.gap_pct,
                attributed_revenue=attributed(row.key),
                updated_on=day,
            )
            for row in sorted(new_rows, key=lambda row: (row.key[0], row.key[2], row.key[1] or 0))
        ]
    )
    if opened:
        # bulk_create sets the ids on PostgreSQL and SQLite alike; read them back whole.
        opened = list(
            Slip.objects.filter(Q(pk__in=[slip.pk for slip in opened]))
            .select_related("plan__organization", "metric", "owner__user")
            .order_by("id")
        )
        slip_opened_notify(slips=opened)
    return opened
