"""Plan vs fact for one metric: forecast at the period end and a status (DOMAIN 2 "Slip", 3).

Plan-to-date is the plan's share of the working days elapsed (``periods.plan_to_date`` gives it
per stage from a decomposition); the forecast runs the actual-to-date at its pace per elapsed
working day to the period end. All arithmetic is exact (``Fraction``); the status is decided on
exact values and only the reported numbers are rounded (half up, ``VALUE_PLACES`` and
``PERCENT_PLACES``), so a rounding never changes a status.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final, Literal

Number = int | Decimal | Fraction
TrackingStatus = Literal["not_started", "on_track", "at_risk", "slipped"]

NOT_STARTED: Final = "not_started"
ON_TRACK: Final = "on_track"
AT_RISK: Final = "at_risk"
SLIPPED: Final = "slipped"

DEFAULT_TOLERANCE = Fraction(1, 10)  # DOMAIN 2 "Slip": behind beyond a tolerance, 10 % by default
VALUE_PLACES = 6  # forecasts, plan-to-date and gaps: enough for a conversion (0.252525) and money
PERCENT_PLACES = 2  # the gap in percent of plan-to-date


class MetricShape(StrEnum):
    """How a metric's actual-to-date grows, which decides its forecast.

    ``VOLUME``: counts and sums that add up day by day (leads, stage volumes, revenue, spend);
    the forecast is the run rate per elapsed working day times the period's working days.
    ``RATIO``: a ratio or a level (conversions, shares, cost per lead, average check, rates,
    overdue tasks now); it does not accumulate, so the actual-to-date itself is the forecast and
    its plan-to-date is the plan.
    """

    VOLUME = "volume"
    RATIO = "ratio"


# The metric catalog's codes (metrics/catalog.py) and their shapes; the catalog lives in an app,
# so it is keyed here by code only.
SHAPE_BY_METRIC: Final[dict[str, MetricShape]] = {
    "stage_volume": MetricShape.VOLUME,
    "stage_conversion": MetricShape.RATIO,
    "revenue": MetricShape.VOLUME,
    "gross_margin": MetricShape.VOLUME,
    "average_check": MetricShape.RATIO,
    "leads": MetricShape.VOLUME,
    "target_leads": MetricShape.VOLUME,
    "target_lead_share": MetricShape.RATIO,
    "cost_per_lead": MetricShape.RATIO,
    "cost_per_target_lead": MetricShape.RATIO,
    "marketing_spend": MetricShape.VOLUME,
    "new_clients": MetricShape.VOLUME,
    "existing_client_revenue": MetricShape.VOLUME,
    "missed_call_rate": MetricShape.RATIO,
    "refusal_rate": MetricShape.RATIO,
    "overdue_tasks": MetricShape.RATIO,  # a level counted now, not a sum over the days
    # CRM discipline (metrics/discipline.py): levels like overdue tasks, planned at zero
    "leads_without_next_task": MetricShape.RATIO,
    "tasks_without_goal": MetricShape.RATIO,
}


@dataclass(frozen=True, slots=True)
class MetricTracking:
    """One metric on one day. ``gap`` is actual-to-date − plan-to-date (signed: for a
    lower-is-better metric a positive gap is the bad side); ``gap_pct`` is that gap in percent
    of plan-to-date, None when plan-to-date is zero; ``forecast`` is None before the first
    working day."""

    status: TrackingStatus
    plan: Decimal
    plan_to_date: Decimal
    actual_to_date: Decimal
    forecast: Decimal | None
    gap: Decimal
    gap_pct: Decimal | None


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, ties away from zero (as salesplan.formatting)."""
    scaled = abs(value) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-places)


def forecast_at_period_end(
    *,
    actual_to_date: Number,
    working_days_elapsed: int,
    working_days: int,
    shape: MetricShape = MetricShape.VOLUME,
) -> Fraction | None:
    """Exact forecast (DOMAIN 3: run rate per working day): a volume's actual ÷ working days
    elapsed × working days of the period; a ratio's actual itself. None before the first
    working day: there is no pace yet."""
    _check_days(working_days_elapsed, working_days)
    if working_days_elapsed == 0:
        return None
    actual = Fraction(actual_to_date)
    if shape is MetricShape.RATIO:
        return actual
    return actual * working_days / working_days_elapsed


def track_metric(
    *,
    plan: Number,
    actual_to_date: Number,
    working_days_elapsed: int,
    working_days: int,
    shape: MetricShape = MetricShape.VOLUME,
    plan_to_date: Number | None = None,
    lower_is_better: bool = False,
    tolerance: Number = DEFAULT_TOLERANCE,
) -> MetricTracking:
    """Forecast and status of one metric (DOMAIN 2 "Slip", 3 "Plan-vs-fact").

    ``plan`` is the period's plan; ``plan_to_date`` defaults to the plan pro rata of working
    days for a volume (pass ``periods.plan_to_date`` for a stage, whose days are whole numbers)
    and to the plan itself for a ratio. Status, on exact values:

    - ``not_started``: no working day of the period has elapsed;
    - ``slipped``: actual-to-date below plan-to-date × (1 − tolerance); for a lower-is-better
      metric, above plan-to-date × (1 + tolerance). Exactly at the tolerance is not a slip;
    - ``at_risk``: not slipped (on pace now), but the forecast misses the period's plan
      (below it; above it when lower is better);
    - ``on_track``: otherwise.
    """
    _check_days(working_days_elapsed, working_days)
    tolerance = Fraction(tolerance)
    if tolerance < 0:
        raise ValueError("The tolerance cannot be negative.")
    plan_total = Fraction(plan)
    actual = Fraction(actual_to_date)
    if plan_to_date is not None:
        expected = Fraction(plan_to_date)
    elif shape is MetricShape.RATIO:
        expected = plan_total
    else:
        expected = plan_total * working_days_elapsed / working_days if working_days else Fraction(0)
    forecast = forecast_at_period_end(
        actual_to_date=actual,
        working_days_elapsed=working_days_elapsed,
        working_days=working_days,
        shape=shape,
    )
    status = _status(actual, expected, forecast, plan_total, lower_is_better, tolerance)
    gap = actual - expected
    return MetricTracking(
        status=status,
        plan=round_half_up(plan_total, VALUE_PLACES),
        plan_to_date=round_half_up(expected, VALUE_PLACES),
        actual_to_date=round_half_up(actual, VALUE_PLACES),
        forecast=None if forecast is None else round_half_up(forecast, VALUE_PLACES),
        gap=round_half_up(gap, VALUE_PLACES),
        gap_pct=round_half_up(gap / expected * 100, PERCENT_PLACES) if expected else None,
    )


def _status(
    actual: Fraction,
    expected: Fraction,
    forecast: Fraction | None,
    plan: Fraction,
    lower_is_better: bool,
    tolerance: Fraction,
) -> TrackingStatus:
    if forecast is None:
        return NOT_STARTED
    if lower_is_better:
        slipped = actual > expected * (1 + tolerance)
        misses = forecast > plan
    else:
        slipped = actual < expected * (1 - tolerance)
        misses = forecast < plan
    if slipped:
        return SLIPPED
    return AT_RISK if misses else ON_TRACK


def _check_days(elapsed: int, total: int) -> None:
    if total < 0 or not 0 <= elapsed <= total:
        raise ValueError(
            f"Working days elapsed must be between 0 and the period's {total}, not {elapsed}."
        )
