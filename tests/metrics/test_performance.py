"""Plan vs fact of the worked example on 15 December 2026 (11 of its 22 working days elapsed),
from department totals written by hand: each metric's actual-to-date read from the totals, and
its status (metrics.performance over salesplan.planning.tracking)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from metrics.catalog import plan_metrics
from metrics.performance import actual_to_date, performance, ref_of
from salesplan.planning import decompose
from tests.planning.builders import worked_example

DAY = date(2026, 12, 15)
# What the department did by 15 December: 215 leads, 120 of them target leads, 30 meetings
# scheduled, none held yet; 8 deals paid 400,000 ₽; 129,000 ₽ spent.
TOTALS = {
    "stage:0": 215,
    "stage:1": 120,
    "stage:2": 30,
    "stage:3": 0,
    "stage:4": 8,
    "revenue": Decimal("400000"),
    "won_deals": 8,
    "marketing_spend": Decimal("129000"),
    "new_clients": 8,
    "calls": 40,
    "missed_calls": 4,
    "overdue_tasks": 0,
}


def _statuses() -> dict[str, str | None]:
    plan = worked_example()
    decomposition = decompose(plan)
    metrics = [ref_of(m) for m in plan_metrics(plan, decomposition)]
    found = performance(metrics, TOTALS, decomposition, DAY)
    return {p.key: (p.tracking.status if p.tracking else None) for p in found}


def test_each_metric_is_read_from_the_totals():
    statuses = _statuses()
    # 215 leads by mid-month: on pace for 430 of 420
    assert statuses["leads"] == "on_track"
    # 120 target leads of 215 leads: 55.8 % against 60 % (within 10 %, the forecast misses)
    assert statuses["target_lead_share"] == "at_risk"
    # target lead → meeting scheduled 30 / 120 = 25 %, as planned
    assert statuses["stage_conversion:1"] == "on_track"
    # 129,000 ₽ for 215 leads is 600 ₽ a lead against 500 ₽: lower is better, 20 % above
    assert statuses["cost_per_lead"] == "slipped"
    # 400,000 ₽ against 500,000 ₽ to date (11 of 22 working days): 20 % behind
    assert statuses["revenue"] == "slipped"
    # 400,000 ₽ for 8 deals is the planned 50,000 ₽ check
    assert statuses["average_check"] == "on_track"
    # no meeting held yet: held → paid has no actual, and is not assessed (never a crash)
    assert statuses["stage_conversion:3"] is None
    # the refusal rate is not read from the actuals yet
    assert statuses["refusal_rate"] is None


def test_ratios_and_their_zero_denominators():
    plan = worked_example()
    metrics = {m.key: ref_of(m) for m in plan_metrics(plan, decompose(plan))}
    read = {key: actual_to_date(m, TOTALS, target_position=1) for key, m in metrics.items()}
    assert read["target_lead_share"] == Fraction(120, 215)
    assert read["cost_per_lead"] == Fraction(129000, 215)
    assert read["missed_call_rate"] == Fraction(4, 40)
    assert read["stage_conversion:3"] is None
    assert actual_to_date(metrics["average_check"], {}, target_position=1) is None
    assert actual_to_date(metrics["revenue"], {}, target_position=1) == 0


def test_nothing_is_assessed_before_the_first_working_day():
    plan = worked_example()
    decomposition = decompose(plan)
    metrics = [ref_of(m) for m in plan_metrics(plan, decomposition)]
    found = performance(metrics, {}, decomposition, date(2026, 11, 30))
    assert {p.tracking.status for p in found if p.tracking} == {"not_started"}
