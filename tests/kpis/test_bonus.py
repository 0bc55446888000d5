"""The bonus arithmetic (salesplan.kpis.bonus), by hand, for each role: fulfilment, the payout
curve's threshold, line and cap, weights, and the warnings of a scheme. No database."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesplan.kpis import bonus
from salesplan.kpis.bonus import (
    DEFAULT_CURVE,
    DEFAULT_ITEMS,
    CurvePoint,
    ItemSpec,
    KpiInput,
    check_curve,
    check_items,
    fulfilment,
    payout,
    scheme_warnings,
    score,
)

D = Decimal


def test_the_module_imports_no_django():
    # given the bonus module's source; then it imports nothing of Django, DRF or the apps
    tree = ast.parse(Path(bonus.__file__).read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {
        name for name in imported if name and name.split(".")[0] in ("django", "rest_framework")
    }
    assert not {
        name
        for name in imported
        if name and name.startswith(("salesplan.kpis.models", "funnel", "metrics"))
    }


# --- fulfilment ---------------------------------------------------------------------------------


def test_fulfilment_is_actual_over_plan():
    assert fulfilment(D(20), D(18)) == D("0.9")
    assert fulfilment(D(3), D(1)) == D("0.333333")  # six decimals, half up


def test_lower_is_better_is_plan_over_actual():
    # cost per lead planned 500 ₽, actual 625 ₽: 500 / 625 = 80 %
    assert fulfilment(D(500), D(625), lower_is_better=True) == D("0.8")
    # actual 400 ₽ (cheaper than planned): 125 %
    assert fulfilment(D(500), D(400), lower_is_better=True) == D("1.25")


@pytest.mark.parametrize(
    ("plan", "actual", "lower"),
    [(None, D(1), False), (D(1), None, False), (D(0), D(5), False), (D(500), D(0), True)],
)
def test_nothing_to_divide_is_no_fulfilment(plan, actual, lower):
    assert fulfilment(plan, actual, lower_is_better=lower) is None


# --- the payout curve ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.799999"), D(0)),  # below the threshold: nothing
        (D("0.8"), D("0.8")),  # at the threshold: as much as the fulfilment
        (D("0.95"), D("0.95")),  # linear
        (D("1"), D("1")),
        (D("1.15"), D("1.15")),
        (D("1.2"), D("1.2")),
        (D("1.75"), D("1.2")),  # capped at 120 %
        (None, D(0)),
    ],
)
def test_default_curve(value, expected):
    assert payout(value, DEFAULT_CURVE) == expected


def test_a_curve_of_steps_and_slopes():
    # given 50 % paid from 90 %, 100 % at 100 %, 150 % from 130 % on
    curve = (
        CurvePoint(D("0.9"), D("0.5")),
        CurvePoint(D("1"), D("1")),
        CurvePoint(D("1.3"), D("1.5")),
    )
    assert payout(D("0.89"), curve) == 0
    assert payout(D("0.9"), curve) == D("0.5")
    assert payout(D("0.95"), curve) == D("0.75")  # halfway from 0.5 to 1
    assert payout(D("1.15"), curve) == D("1.25")  # halfway from 1 to 1.5
    assert payout(D("2"), curve) == D("1.5")


@given(st.decimals(min_value=0, max_value=10, places=6))
def test_the_default_payout_never_exceeds_the_cap_nor_the_fulfilment(value):
    paid = payout(value, DEFAULT_CURVE)
    assert D(0) <= paid <= D("1.2")
    assert paid <= value


# --- the bonus of each role, by hand ------------------------------------------------------------


def test_hunter_with_a_cap_and_a_threshold():
    # base 50 000 ₽; new clients 9 of 10 (90 %), turnover 650 000 of 500 000 (130 %: capped
    # at 120 %), gross margin 150 000 of 200 000 (75 %: below 80 %, nothing)
    card = score(
        D(50000),
        [
            KpiInput("new_clients", D(40), D(10), D(9), D(12)),
            KpiInput("turnover", D(40), D(500000), D(650000), D(700000)),
            KpiInput("gross_margin", D(20), D(200000), D(150000), D(170000)),
        ],
        DEFAULT_CURVE,
    )
    assert [line.payout for line in card.lines] == [D("0.9"), D("1.2"), D(0)]
    # 50 000 × (0.4 × 0.9 + 0.4 × 1.2 + 0.2 × 0) = 50 000 × 0.84
    assert card.bonus_to_date == D("42000.00")
    # forecast: 12/10 → 1.2; 700/500 = 1.4 → 1.2; 170/200 = 0.85 → 0.85
    # 50 000 × (0.48 + 0.48 + 0.17) = 56 500
    assert card.bonus_forecast == D("56500.00")


def test_marketer_with_cost_per_lead_lower_is_better():
    # base 40 000 ₽; 400 leads of 420 (95.238095 %), cost per lead 550 ₽ against 500 ₽
    # (500/550 = 90.909091 %), lead → deal 4 % against 4.761905 % (84.000000 %)
    card = score(
        D(40000),
        [
            KpiInput("leads", D(40), D(420), D(400), D(400)),
            KpiInput("cost_per_lead", D(30), D(500), D(550), D(550), lower_is_better=True),
            KpiInput("lead_to_deal", D(30), D("0.047619"), D("0.04"), D("0.04")),
        ],
        DEFAULT_CURVE,
    )
    assert [line.fulfilment for line in card.lines] == [
        D("0.952381"),
        D("0.909091"),
        D("0.840001"),  # 0.04 / 0.047619 = 0.8400008…
    ]
    # 40 000 × (0.4 × 0.952381 + 0.3 × 0.909091 + 0.3 × 0.840001)
    # = 40 000 × (0.3809524 + 0.2727273 + 0.2520003) = 40 000 × 0.9056800 = 36 227.20
    assert card.bonus_to_date == D("36227.20")


def test_farmer_rounds_half_up_to_the_kopeck():
    # base 30 000 ₽; revenue from existing clients 150 000 of 180 000 (83.3333 %), retention
    # 50 % against 60 % (83.3333 %): 30 000 × 0.833333 = 24 999.99
    card = score(
        D(30000),
        [
            KpiInput("existing_client_revenue", D(60), D(180000), D(150000), D(150000)),
            KpiInput("retention", D(40), D("0.6"), D("0.5"), D("0.5")),
        ],
        DEFAULT_CURVE,
    )
    assert card.bonus_to_date == D("24999.99")


def test_head_of_sales_growth_and_a_kpi_with_no_plan():
    # base 100 000 ₽; department revenue 1 100 000 of 1 000 000 (110 %), gross margin with no
    # plan (pays nothing, its weight is not handed on), growth 1 100 000 against last year's
    # 800 000 × 1.1 = 880 000 (125 %: capped at 120 %)
    card = score(
        D(100000),
        [
            KpiInput("department_revenue", D(50), D(1000000), D(1100000), D(1100000)),
            KpiInput("department_gross_margin", D(25), None, D(300000), D(300000)),
            KpiInput("growth", D(25), D(880000), D(1100000), D(1100000)),
        ],
        DEFAULT_CURVE,
    )
    assert card.lines[1].fulfilment is None and card.lines[1].payout == 0
    # 100 000 × (0.5 × 1.1 + 0 + 0.25 × 1.2) = 85 000
    assert card.bonus_to_date == D("85000.00")


def test_a_zero_base_bonus_pays_nothing():
    card = score(D(0), [KpiInput("turnover", D(100), D(10), D(12), D(12))], DEFAULT_CURVE)
    assert card.bonus_to_date == D("0.00")


# --- validation and warnings --------------------------------------------------------------------


def test_the_default_schemes_are_valid_and_quiet():
    for role, items in DEFAULT_ITEMS.items():
        assert check_items(items) == [], role
        assert scheme_warnings(role, [item.metric for item in items]) == [], role
    assert check_curve(DEFAULT_CURVE) == []


def test_weights_must_add_up_to_100():
    problems = check_items([ItemSpec("turnover", D(60)), ItemSpec("new_clients", D(30))])
    assert [(p.field, p.params) for p in problems] == [("items", {"total": "90"})]


def test_a_metric_twice_an_unknown_one_and_a_missing_target_are_refused():
    problems = check_items(
        [
            ItemSpec("turnover", D(50)),
            ItemSpec("turnover", D(25)),
            ItemSpec("retention", D(25)),
            ItemSpec("bogus", D(0)),
        ]
    )
    fields = [p.field for p in problems]
    assert "items[1].metric" in fields
    assert "items[2].target" in fields
    assert "items[3].metric" in fields


def test_a_falling_curve_is_refused():
    problems = check_curve(
        [CurvePoint(D("1"), D("1")), CurvePoint(D("0.9"), D("1.2")), CurvePoint(D("1.1"), D("0.5"))]
    )
    assert {p.field for p in problems} == {
        "payout_curve[1].fulfilment",
        "payout_curve[2].payout",
    }


def test_warnings_for_a_head_with_a_personal_plan_a_mix_and_too_many_kpis():
    codes = [
        f.code
        for f in scheme_warnings(
            "head_of_sales",
            ["turnover", "department_revenue", "growth", "department_gross_margin", "nps"],
        )
    ]
    assert codes == ["head_personal_plan", "personal_and_department", "too_many_kpis"]


def test_a_salesperson_paid_for_personal_and_department_plans_is_warned():
    codes = [f.code for f in scheme_warnings("hunter", ["turnover", "department_revenue"])]
    assert codes == ["personal_and_department"]


def test_four_kpis_are_still_simple():
    metrics = ["turnover", "new_clients", "gross_margin", "nps"]
    assert scheme_warnings("hunter", metrics) == []
