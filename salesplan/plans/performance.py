"""Plan vs fact stored per (plan, metric, owner, day): the recompute job of issue 11.

A plan's saved input is decomposed once, its funnel's actuals read once (six aggregate
queries, `metrics.actuals`), and every day from the period start to today (or the period end)
tracked for the department and for each salesperson who owns a metric on the pie (their
personal slice against their share of that metric's plan; the head of sales has no personal
slice). All rows are replaced in one transaction under a lock on the plan: a rerun writes the
same rows, two runs for one plan wait for each other, a killed worker leaves the old rows.

Recomputes are queued, debounced per plan (`performance_refresh_queue`): after actuals are
loaded (receivers.py), after a plan is saved (services.py), and every 15 minutes for every
plan in progress (the beat's "plans.refresh_all_performance").
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from metrics.actuals import MONEY_COLUMNS, ActualsFrame, actuals_by_day, running_totals
from metrics.models import PerformanceSnapshot, PerformanceStatus, PlanMetric
from metrics.performance import MetricRef, performance, ref_of
from responsibility.models import Responsibility
from salesplan.models import PlanStatus, Role, SalesPlan
from salesplan.planning import PlanInputError, decompose
from salesplan.planning.tracking import VALUE_PLACES, round_half_up
from salesplan.plans.selectors import with_inputs
from salesplan.plans.snapshot import saved_plan_input
from salesplan.queue import enqueue
from salesplan.selectors import calendar_for

REFRESH_TASK = "plans.refresh_performance"
# Many loads in a minute (a webhook burst, an import in chunks) queue one recompute per plan.
DEBOUNCE_S = 60
# A yearly plan of 100 salespeople writes ~700,000 rows; 2,000 a statement keeps each INSERT
# well under SQLite's and PostgreSQL's parameter limits (11 columns a row).
WRITE_BATCH = 2_000


def _queued_key(plan_id: int) -> str:
    return f"perf-queued:{plan_id}"


def performance_refresh_queue(*, plan_ids: Iterable[int]) -> int:
    """Queue a recompute of each plan unless one is already waiting (queued in the last
    DEBOUNCE_S seconds and not started yet). Returns how many were queued. A broker that is
    down is only logged: the beat's sweep recomputes every plan in progress anyway."""
    queued = 0
    for plan_id in plan_ids:
        if cache.add(_queued_key(plan_id), 1, timeout=DEBOUNCE_S):
            enqueue(REFRESH_TASK, plan_id, robust=True)
            queued += 1
    return queued


def performance_refresh_started(*, plan_id: int) -> None:
    """The job starts: a change from now on must queue another recompute."""
    cache.delete(_queued_key(plan_id))


def plans_in_progress(*, today: date | None = None) -> QuerySet[SalesPlan]:
    """Plans whose plan vs fact can still change: not closed, started, and not ended more
    than a day ago (the last day's late payments still count)."""
    today = today or timezone.localdate()
    return SalesPlan.objects.exclude(status=PlanStatus.CLOSED).filter(
        period_start__lte=today, period_end__gte=today - timedelta(days=1)
    )


def performance_refresh_all(*, today: date | None = None) -> int:
    """The beat's sweep: queue a recompute of every plan in progress."""
    ids = plans_in_progress(today=today).values_list("pk", flat=True).order_by("pk")
    return performance_refresh_queue(plan_ids=list(ids))


def performance_refresh_after_load(*, organization_id: int, funnel_id: int) -> int:
    """New actuals of a funnel: queue its organization's plans that can change (not closed,
    already started; an import of past months reaches a past plan too)."""
    ids = (
        SalesPlan.objects.filter(organization_id=organization_id, funnel_id=funnel_id)
        .exclude(status=PlanStatus.CLOSED)
        .filter(period_start__lte=timezone.localdate())
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    return performance_refresh_queue(plan_ids=list(ids))


def _daily(table: pd.DataFrame, columns: list[str]) -> dict[date, dict[str, Any]]:
    """Totals per day as plain Python numbers (ints and Decimals) for the engine."""
    out: dict[date, dict[str, Any]] = {}
    for day, row in table.iterrows():
        out[day] = {
            column: (row[column] if column in MONEY_COLUMNS else int(row[column]))
            for column in columns
        }
    return out


def _totals_by_day(
    frame: ActualsFrame, members: Iterable[int]
) -> tuple[dict[date, dict[str, Any]], dict[int, dict[date, dict[str, Any]]]]:
    """Actual-to-date per day: the department's (every row, nobody's slice included) and
    each given member's personal slice. Days without a row read as zeros."""
    totals = running_totals(frame)
    if totals.empty:
        return {}, {}
    columns = frame.columns
    department = _daily(totals.groupby("day")[columns].sum(), columns)
    personal = {}
    for member_id in members:
        rows = totals[(totals["member_id"] == member_id).fillna(False).astype(bool)]
        personal[member_id] = _daily(rows.set_index("day")[columns], columns)
    return department, personal


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


def _decimal(value: Decimal | Fraction | None) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return round_half_up(value, VALUE_PLACES)


def _rows(
    plan: SalesPlan,
    owner_id: int | None,
    refs: list[MetricRef],
    ids: Mapping[str, int],
    totals: Mapping[str, Any],
    decomposition: Any,
    day: date,
    now: Any,
) -> list[PerformanceSnapshot]:
    # The default tolerance (10 %): no plan stores its own yet.
    found = performance(refs, totals, decomposition, day)
    rows = []
    for item in found:
        tracking = item.tracking
        rows.append(
            PerformanceSnapshot(
                plan_id=plan.pk,
                metric_id=ids[item.key],
                owner_id=owner_id,
                day=day,
                plan_to_date=tracking.plan_to_date if tracking else None,
                actual_to_date=tracking.actual_to_date
                if tracking
                else _decimal(item.actual_to_date),
                forecast=tracking.forecast if tracking else None,
                status=tracking.status if tracking else PerformanceStatus.NOT_ASSESSED,
                gap=tracking.gap if tracking else None,
                gap_pct=tracking.gap_pct if tracking else None,
                computed_at=now,
            )
        )
    return rows


def plan_performance_refresh(*, plan_id: int, today: date | None = None) -> int:
    """Recompute and store the plan's plan vs fact for every day from its start to `today`
    (the organization's today by default; the period end at most). Returns the rows stored;
    0 when the plan is gone, not started, or its saved input no longer decomposes (its page
    says what is wrong; the rows stored before are kept)."""
    with transaction.atomic():
        # One recompute per plan at a time: a second waits here, then writes the same rows.
        locked = SalesPlan.objects.select_for_update().filter(pk=plan_id).values("pk").first()
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
        PerformanceSnapshot.objects.filter(plan_id=plan.pk).delete()
        if last < plan.period_start:
            return 0
        metrics = list(PlanMetric.objects.filter(plan=plan).order_by("id"))
        refs = {metric.pk: ref_of(metric) for metric in metrics}
        ids = {metric.key: metric.pk for metric in metrics}
        personal_refs = _personal_refs(plan, refs)
        frame = actuals_by_day(
            organization=organization, funnel=plan.funnel, start=plan.period_start, end=last
        )
        department, personal = _totals_by_day(frame, personal_refs)
        now = timezone.now()
        rows: list[PerformanceSnapshot] = []
        day = plan.period_start
        while day <= last:
            totals = department.get(day, {})
            rows += _rows(plan, None, list(refs.values()), ids, totals, decomposition, day, now)
            for owner_id, owned in personal_refs.items():
                totals = personal.get(owner_id, {}).get(day, {})
                rows += _rows(plan, owner_id, owned, ids, totals, decomposition, day, now)
            day += timedelta(days=1)
        PerformanceSnapshot.objects.bulk_create(rows, batch_size=WRITE_BATCH)
        return len(rows)
