"""Forecast and status of a metric, plan vs fact (DOMAIN 2 "Slip", 3 "Plan-vs-fact")."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.planning import (
    SHAPE_BY_METRIC,
    MetricShape,
    decompose,
    forecast_at_period_end,
    plan_to_date,
    track_metric,
    working_days_elapsed,
)

from .builders import D, worked_example

DECEMBER_15 = date(2026, 12, 15)


def _leads_on(day: date, actual: int):
    """The worked example (December 2026, Russian calendar): leads on ``day``."""
    decomposition = decompose(worked_example())
    return track_metric(
        plan=decomposition.totals["Lead"],
        plan_to_date=plan_to_date(decomposition, day)["Lead"],
        actual_to_date=actual,
        working_days_elapsed=working_days_elapsed(decomposition, day),
        working_days=decomposition.working_days,
    )


def test_december_2026_has_22_working_days_and_31_december_is_off():
    # given the worked example in December 2026 with the Russian calendar
    decomposition = decompose(worked_example())

    # then 31 December (a transferred day off) adds no working day and no plan
    assert decomposition.working_days == 22
    assert working_days_elapsed(decomposition, date(2026, 12, 30)) == 22
    assert working_days_elapsed(decomposition, date(2026, 12, 31)) == 22
    assert plan_to_date(decomposition, date(2026, 12, 30)) == decomposition.totals
    # and on the 15th, 11 of 22 working days are gone with 211 of 420 leads planned
    assert working_days_elapsed(decomposition, DECEMBER_15) == 11
    assert plan_to_date(decomposition, DECEMBER_15)["Lead"] == 211


def test_on_pace_but_the_forecast_misses_is_at_risk():
    # given 200 leads by 15 December: 11 behind 211 (5.21 %, inside 10 %)
    # when
    result = _leads_on(DECEMBER_15, 200)

    # then the run rate 200 / 11 × 22 = 400 misses the 420 of the month
    assert result.status == "at_risk"
    assert result.forecast == D("400")
    assert result.gap == D("-11")
    assert result.gap_pct == D("-5.21")
    assert result.plan == D("420")
    assert result.plan_to_date == D("211")


def test_behind_by_more_than_the_tolerance_is_slipped():
    # given 180 leads by 15 December: below 211 × 0.9 = 189.9
    # when
    result = _leads_on(DECEMBER_15, 180)

    # then slipped, 31 behind (14.69 %), forecast 360
    assert result.status == "slipped"
    assert result.gap == D("-31")
    assert result.gap_pct == D("-14.69")
    assert result.forecast == D("360")


def test_ahead_of_the_run_rate_is_on_track():
    # given 215 leads by 15 December
    # when
    result = _leads_on(DECEMBER_15, 215)

    # then the forecast 430 meets the month's 420
    assert result.status == "on_track"
    assert result.forecast == D("430")
    assert result.gap_pct == D("1.90")


def test_the_last_working_day_is_the_period_end_when_31_december_is_off():
    # given 400 leads on 30 December, the last working day (31 December is a day off)
    # when
    on_30th, on_31st = _leads_on(date(2026, 12, 30), 400), _leads_on(date(2026, 12, 31), 400)

    # then the forecast is the actual itself, and the 31st changes nothing
    assert on_30th.forecast == D("400")
    assert on_30th == on_31st
    # 400 is within 10 % of 420, but the plan is missed
    assert on_30th.status == "at_risk"


def test_before_the_first_working_day_is_not_started():
    # given a day before the period: no working day elapsed
    # when
    result = _leads_on(date(2026, 11, 30), 0)

    # then
    assert result.status == "not_started"
    assert result.forecast is None
    assert result.plan_to_date == D("0")
    assert result.gap_pct is None


def test_a_period_without_a_working_day_is_not_started():
    # when / then no division by zero days
    result = track_metric(plan=100, actual_to_date=0, working_days_elapsed=0, working_days=0)
    assert result.status == "not_started"


def test_cost_per_lead_slips_when_above_plan():
    # given cost per lead planned at 500 (a ratio, lower is better), 12 of 22 days gone
    def cost_per_lead(actual: str):
        return track_metric(
            plan=D("500"),
            actual_to_date=D(actual),
            working_days_elapsed=12,
            working_days=22,
            shape=MetricShape.RATIO,
            lower_is_better=True,
        )

    # when / then 560 is above 500 × 1.1 = 550: slipped, 60 (12 %) over
    slipped = cost_per_lead("560")
    assert slipped.status == "slipped"
    assert slipped.gap == D("60")
    assert slipped.gap_pct == D("12.00")
    assert slipped.forecast == D("560")
    # 540 is within the tolerance but the month would end above plan: at risk
    assert cost_per_lead("540").status == "at_risk"
    # exactly at the tolerance is not a slip
    assert cost_per_lead("550").status == "at_risk"
    # below plan is on track
    assert cost_per_lead("480").status == "on_track"


def test_a_conversion_forecasts_its_own_actual():
    # given a conversion planned at 25 %, actual 24 % after 5 of 22 working days
    # when
    result = track_metric(
        plan=D("0.25"),
        actual_to_date=D("0.24"),
        working_days_elapsed=5,
        working_days=22,
        shape=SHAPE_BY_METRIC["stage_conversion"],
    )

    # then plan-to-date is the plan itself, the forecast is 24 %: at risk, not slipped
    assert result.plan_to_date == D("0.25")
    assert result.forecast == D("0.24")
    assert result.status == "at_risk"
    assert result.gap == D("-0.01")
    assert result.gap_pct == D("-4.00")


def test_tolerance_is_configurable_and_exact():
    # given plan-to-date 200 and 180 actual: exactly 10 % behind
    common = {"plan": 400, "plan_to_date": 200, "working_days_elapsed": 10, "working_days": 20}

    # when / then at the default 10 % it is not a slip; at 5 % it is
    assert track_metric(actual_to_date=180, **common).status == "at_risk"
    assert track_metric(actual_to_date=180, tolerance=D("0.05"), **common).status == "slipped"
    assert track_metric(actual_to_date=D("179.99"), **common).status == "slipped"


def test_plan_to_date_defaults_to_the_plan_pro_rata():
    # when
    result = track_metric(plan=420, actual_to_date=100, working_days_elapsed=11, working_days=22)

    # then 420 × 11 / 22
    assert result.plan_to_date == D("210")
    assert result.forecast == D("200")


def test_forecast_is_exact_and_rounded_half_up_only_when_reported():
    # given 10 leads after 3 of 22 working days: 220 / 3
    assert forecast_at_period_end(
        actual_to_date=10, working_days_elapsed=3, working_days=22
    ) == Fraction(220, 3)
    result = track_metric(plan=100, actual_to_date=10, working_days_elapsed=3, working_days=22)
    assert result.forecast == D("73.333333")
    assert result.plan_to_date == D("13.636364")


def test_every_catalog_metric_has_a_shape():
    assert SHAPE_BY_METRIC["leads"] is MetricShape.VOLUME
    assert SHAPE_BY_METRIC["cost_per_lead"] is MetricShape.RATIO
    assert SHAPE_BY_METRIC["average_check"] is MetricShape.RATIO
    assert SHAPE_BY_METRIC["revenue"] is MetricShape.VOLUME


@pytest.mark.parametrize(("elapsed", "total"), [(-1, 22), (23, 22), (0, -1)])
def test_impossible_working_days_are_refused(elapsed, total):
    with pytest.raises(ValueError, match="Working days elapsed"):
        track_metric(plan=1, actual_to_date=0, working_days_elapsed=elapsed, working_days=total)


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        track_metric(plan=1, actual_to_date=0, working_days_elapsed=1, working_days=2, tolerance=-1)


RANK = {"slipped": 0, "at_risk": 1, "on_track": 2}


@settings(max_examples=200, deadline=None)
@given(
    plan=st.integers(min_value=0, max_value=10_000),
    days=st.integers(min_value=1, max_value=31).flatmap(
        lambda total: st.tuples(st.integers(min_value=1, max_value=total), st.just(total))
    ),
    low=st.decimals(min_value=D(0), max_value=D(20_000), places=2),
    extra=st.decimals(min_value=D(0), max_value=D(5_000), places=2),
    lower_is_better=st.booleans(),
    shape=st.sampled_from(list(MetricShape)),
)
def test_a_better_actual_never_gets_a_worse_status(plan, days, low, extra, lower_is_better, shape):
    # given two actuals, one better than the other in the metric's direction
    elapsed, total = days
    worse, better = (low + extra, low) if lower_is_better else (low, low + extra)

    def status(actual: Decimal) -> str:
        return track_metric(
            plan=plan,
            actual_to_date=actual,
            working_days_elapsed=elapsed,
            working_days=total,
            shape=shape,
            lower_is_better=lower_is_better,
        ).status

    # then the better one's status is at least as good
    assert RANK[status(better)] >= RANK[status(worse)]
