from dataclasses import replace
from datetime import date

import pytest

from salesplan.planning import (
    Norms,
    PlanInputError,
    ProductMixItem,
    StageInput,
    WorkingCalendar,
    decompose,
    validate_plan,
)

from .builders import D, team_of, with_stage, worked_example

BAD_PLANS = {
    "revenue_target is zero": (worked_example(revenue_target=D(0)), "revenue_target"),
    "revenue_target is negative": (worked_example(revenue_target=D(-5)), "revenue_target"),
    "revenue_target is a float": (worked_example(revenue_target=1e6), "revenue_target"),
    "average_check is zero": (worked_example(average_check=D(0)), "average_check"),
    "average_check is negative": (worked_example(average_check=D(-1)), "average_check"),
    "average_check is missing": (worked_example(average_check=None), "average_check"),
    "average_check is NaN": (worked_example(average_check=D("NaN")), "average_check"),
    "conversion is zero": (
        with_stage(worked_example(), 2, conversion=D(0)),
        "stages[2].conversion",
    ),
    "conversion above 1": (
        with_stage(worked_example(), 0, conversion=D("1.01")),
        "stages[0].conversion",
    ),
    "conversion negative": (
        with_stage(worked_example(), 1, conversion=D("-0.1")),
        "stages[1].conversion",
    ),
    "conversion missing": (
        with_stage(worked_example(), 3, conversion=None),
        "stages[3].conversion",
    ),
    "last stage has a conversion": (
        with_stage(worked_example(), 4, conversion=D("0.5")),
        "stages[4].conversion",
    ),
    "no key stage": (with_stage(worked_example(), 3, is_key_stage=False), "stages"),
    "two key stages": (with_stage(worked_example(), 2, is_key_stage=True), "stages"),
    "two target-lead stages": (with_stage(worked_example(), 2, is_target_lead=True), "stages"),
    "one stage only": (
        worked_example(stages=(StageInput("Paid", None, is_key_stage=True),)),
        "stages",
    ),
    "duplicate stage name": (with_stage(worked_example(), 2, name="Lead"), "stages[2].name"),
    "empty stage name": (with_stage(worked_example(), 1, name=" "), "stages[1].name"),
    "period ends before it starts": (
        worked_example(period_start=date(2026, 12, 31), period_end=date(2026, 12, 1)),
        "period_end",
    ),
    "no working day in the period": (
        worked_example(period_start=date(2026, 1, 1), period_end=date(2026, 1, 8)),
        "period_end",
    ),
    "team shares add up to less than 1": (worked_example(team=team_of("0.5", "0.4")), "team"),
    "team shares add up to more than 1": (worked_example(team=team_of("0.7", "0.4")), "team"),
    "negative team share": (worked_example(team=team_of("1.5", "-0.5")), "team[1].share"),
    "person twice in the team": (
        worked_example(team=team_of("0.5", "0.5")[:1] * 2),
        "team[1].key",
    ),
    "negative cost per lead": (worked_example(cost_per_lead=D("-1")), "cost_per_lead"),
    "negative cost per target lead": (
        worked_example(cost_per_target_lead=D("-1")),
        "cost_per_target_lead",
    ),
    "product shares do not add up": (
        worked_example(
            product_mix=(
                ProductMixItem("A", D(100), share=D("0.5")),
                ProductMixItem("B", D(200), share=D("0.4")),
            )
        ),
        "product_mix",
    ),
    "product mix mixes shares and units": (
        worked_example(
            product_mix=(
                ProductMixItem("A", D(100), share=D("1")),
                ProductMixItem("B", D(200), units=3),
            )
        ),
        "product_mix",
    ),
    "product without a price": (
        worked_example(product_mix=(ProductMixItem("A", D(0), units=3),)),
        "product_mix[0].price",
    ),
    "product mix without units": (
        worked_example(product_mix=(ProductMixItem("A", D(10), units=0),)),
        "product_mix",
    ),
    "margin above 100 %": (
        worked_example(product_mix=(ProductMixItem("A", D(10), units=1, margin_pct=D(101)),)),
        "product_mix[0].margin_pct",
    ),
    "zero calls norm": (worked_example(norms=Norms(D(2), 0, 4)), "norms.max_calls_per_day"),
    "zero calls per lead": (worked_example(norms=Norms(D(0), 60, 4)), "norms.calls_per_lead"),
    "seasonality misses a month": (
        worked_example(
            period_start=date(2026, 1, 1),
            period_end=date(2026, 2, 28),
            seasonality={date(2026, 1, 1): D(1)},
        ),
        "seasonality[2026-02]",
    ),
    "seasonality all zero": (
        worked_example(seasonality={date(2026, 12, 1): D(0)}),
        "seasonality",
    ),
    "seasonality not keyed by month start": (
        worked_example(seasonality={date(2026, 12, 5): D(1)}),
        "seasonality",
    ),
    "day both off and working": (
        worked_example(
            calendar=WorkingCalendar(
                extra_working_days=frozenset({date(2026, 12, 5)}),
                extra_days_off=frozenset({date(2026, 12, 5)}),
            )
        ),
        "calendar",
    ),
}


@pytest.mark.parametrize(("plan", "field"), BAD_PLANS.values(), ids=BAD_PLANS.keys())
def test_bad_input_is_reported_under_its_field(plan, field):
    # when
    with pytest.raises(PlanInputError) as caught:
        decompose(plan)

    # then the error names the field, with a message for a person
    assert field in caught.value.errors, caught.value.errors
    assert all(message.endswith(".") for message in caught.value.errors[field])
    assert field in str(caught.value)


def test_all_errors_are_reported_at_once():
    # given three things wrong
    plan = replace(
        with_stage(worked_example(), 0, conversion=D(2)),
        revenue_target=D(0),
        cost_per_lead=D(-1),
    )

    # when
    with pytest.raises(PlanInputError) as caught:
        decompose(plan)

    # then
    assert set(caught.value.errors) == {"revenue_target", "stages[0].conversion", "cost_per_lead"}


def test_a_single_stage_is_reported_once_under_stages():
    # given a funnel of one stage
    plan = worked_example(stages=(StageInput("Paid", None, is_key_stage=True),))

    # when
    with pytest.raises(PlanInputError) as caught:
        decompose(plan)

    # then only the funnel itself is at fault
    assert caught.value.errors == {"stages": ["A funnel needs at least two stages."]}


def test_plan_input_error_is_a_value_error():
    assert issubclass(PlanInputError, ValueError)


def test_a_team_of_exact_shares_is_accepted():
    # given thirds that add up to exactly 1
    plan = worked_example(team=team_of("0.3333", "0.3333", "0.3334"))

    # when / then no error
    assert len(decompose(plan).by_person) == 3


def test_a_period_longer_than_two_years_is_refused_before_any_day_is_counted():
    # given a plan from the year 111 to 5996 (a worker would split two million days)
    plan = worked_example(period_start=date(111, 11, 28), period_end=date(5996, 7, 19))
    # when it is validated, then it is refused at once, naming the period's end
    with pytest.raises(PlanInputError) as error:
        validate_plan(plan)
    assert error.value.errors["period_end"] == [
        "The period spans 70617 months; a plan covers at most 24. Split a longer period into plans."
    ]
    assert list(error.value.errors) == ["period_end"]  # nothing else was checked
    # and two years to the day is still a plan
    validate_plan(worked_example(period_start=date(2026, 1, 1), period_end=date(2027, 12, 31)))
