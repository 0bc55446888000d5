"""Plan vs fact for one plan on one day: each metric's actual-to-date read from the actuals'
totals (metrics.actuals), its plan-to-date from the decomposition, and its forecast and status
(salesplan.planning.tracking); the revenue gap split by owner factor
(salesplan.planning.attribution).

Issue 11's recompute job calls this and stores what it returns (snapshots); a page or an API
answer never calls it (nothing recomputes from actuals in a request).

How a metric's actual-to-date is read from the totals (a stage's column counts the leads that
reached it, once each, the stages above implied):

- leads, target leads, a stage's volume: that stage's column;
- the share of target leads: target leads ÷ leads; a stage's conversion: the next stage ÷ it;
- revenue, gross margin, new clients, revenue from existing clients, marketing spend: sums;
- average check: revenue ÷ won deals; cost per lead (per target lead): spend ÷ leads (target
  leads); missed-call rate: missed calls ÷ calls; overdue tasks, leads without a next task,
  tasks without a goal: their counts;
- the refusal rate: lost deals ÷ closed ones (lost + won), by the days they closed;
- a ratio whose denominator is zero (no meetings yet, nothing closed) has no actual: None, and
  the metric is not assessed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from metrics.actuals import MONEY_COLUMNS, stage_column
from metrics.catalog import CATALOG
from salesplan.planning import (
    DEFAULT_TOLERANCE,
    SHAPE_BY_METRIC,
    Decomposition,
    MetricShape,
    MetricTracking,
    plan_to_date,
    track_metric,
    working_days_elapsed,
)

SUMS = {
    "revenue": "revenue",
    "gross_margin": "gross_margin",
    "new_clients": "new_clients",
    "existing_client_revenue": "existing_client_revenue",
    "marketing_spend": "marketing_spend",
    "overdue_tasks": "overdue_tasks",
    "leads_without_next_task": "leads_without_next_task",
    "tasks_without_goal": "tasks_without_goal",
}


@dataclass(frozen=True)
class MetricRef:
    """What reading a metric needs: its kind, its stage (per-stage and lead metrics), whether
    lower is better, and its planned value (None: tracked, no target)."""

    key: str
    kind: str
    stage_position: int | None
    planned_value: Decimal | None
    lower_is_better: bool = False
    # The owner's share of a volume metric's plan (an owner's personal slice of the pie); the
    # department's is 1. A ratio's plan is the same for every owner.
    share: Fraction = Fraction(1)


def ref_of(metric: Any) -> MetricRef:
    """A plan's metric (a stored PlanMetric or the catalog's PlannedMetric) as read here."""
    return MetricRef(
        key=metric.key,
        kind=metric.kind,
        stage_position=metric.stage_position,
        planned_value=metric.planned_value,
        lower_is_better=CATALOG[metric.kind].direction == "lower",
    )


def _ratio(numerator: Any, denominator: Any) -> Fraction | None:
    denominator = Fraction(denominator or 0)
    return Fraction(numerator or 0) / denominator if denominator else None


def actual_per_day(
    metric: MetricRef,
    col: Mapping[str, int],
    columns: Sequence[Sequence[int]],
    *,
    target_position: int,
) -> tuple[Sequence[int], Sequence[int]]:
    """The metric's actual-to-date for each day as exact (numerators, denominators), from
    running totals held column by column (`columns[col[name]][day]`, integers, money in
    kopecks): the one place the rules above are written. A zero denominator is no actual
    that day (a ratio over nothing, or the refusal rate)."""
    days = len(columns[0]) if columns else 0
    zeros, ones = [0] * days, [1] * days

    def column(name: str) -> Sequence[int]:
        return columns[col[name]] if name in col else zeros

    def stage(position: int) -> Sequence[int]:
        return column(stage_column(position))

    def scaled(values: Sequence[int], factor: int) -> list[int]:
        return [value * factor for value in values]

    kind = metric.kind
    if kind in ("leads", "target_leads", "stage_volume"):
        return stage(metric.stage_position or 0), ones
    if kind == "target_lead_share":
        return stage(target_position), stage(0)
    if kind == "stage_conversion":
        position = metric.stage_position or 0
        return stage(position + 1), stage(position)
    if kind in SUMS:
        name = SUMS[kind]
        return column(name), ([100] * days if name in MONEY_COLUMNS else ones)
    if kind == "average_check":
        return column("revenue"), scaled(column("won_deals"), 100)
    if kind == "cost_per_lead":
        return column("marketing_spend"), scaled(stage(0), 100)
    if kind == "cost_per_target_lead":
        return column("marketing_spend"), scaled(stage(target_position), 100)
    if kind == "missed_call_rate":
        return column("missed_calls"), column("calls")
    if kind == "refusal_rate":
        lost = column("lost_deals")
        return lost, [a + b for a, b in zip(lost, column("won_deals"), strict=True)]
    return zeros, zeros  # a kind this reading does not know: not assessed


def actual_to_date(
    metric: MetricRef, totals: Mapping[str, Any], *, target_position: int
) -> Fraction | None:
    """The metric's actual-to-date from the totals of `metrics.actuals.cumulative_to` (one
    day of `actual_per_day`)."""
    names = list(totals)
    col = {name: index for index, name in enumerate(names)}
    columns = [
        [
            int(Decimal(totals[name] or 0).scaleb(2))
            if name in MONEY_COLUMNS
            else int(totals[name] or 0)
        ]
        for name in names
    ]
    if not columns:
        columns = [[0]]
    numerators, denominators = actual_per_day(metric, col, columns, target_position=target_position)
    return Fraction(numerators[0], denominators[0]) if denominators[0] else None


@dataclass(frozen=True)
class MetricPerformance:
    key: str
    tracking: MetricTracking | None  # None: no plan for it, or no actual yet (not assessed)
    actual_to_date: Fraction | None


def performance(
    metrics: Sequence[MetricRef],
    totals: Mapping[str, Any],
    decomposition: Decomposition,
    day: date,
    *,
    tolerance: Fraction | Decimal = DEFAULT_TOLERANCE,
) -> list[MetricPerformance]:
    """Every metric's plan-to-date, actual-to-date, forecast and status on `day` (the
    department's figures when `totals` are the department's)."""
    target_position = next(
        (m.stage_position for m in metrics if m.kind == "target_leads"), None
    ) or next((i for i, s in enumerate(decomposition.stages) if s.is_target_lead), 1)
    elapsed = min(working_days_elapsed(decomposition, day), decomposition.working_days)
    stage_plan = plan_to_date(decomposition, day)
    names = [stage.name for stage in decomposition.stages]
    results = []
    for metric in metrics:
        actual = actual_to_date(metric, totals, target_position=target_position)
        if metric.planned_value is None or actual is None:
            results.append(MetricPerformance(metric.key, None, actual))
            continue
        shape = SHAPE_BY_METRIC.get(metric.kind, MetricShape.VOLUME)
        share = metric.share if shape is MetricShape.VOLUME else Fraction(1)
        to_date = None
        if metric.kind in ("leads", "target_leads", "stage_volume"):
            position = metric.stage_position or 0
            to_date = stage_plan[names[position]] * share if position < len(names) else None
        tracking = track_metric(
            plan=Fraction(metric.planned_value) * share,
            actual_to_date=actual,
            working_days_elapsed=elapsed,
            working_days=decomposition.working_days,
            shape=shape,
            plan_to_date=to_date,
            lower_is_better=metric.lower_is_better,
            tolerance=tolerance,
        )
        results.append(MetricPerformance(metric.key, tracking, actual))
    return results
