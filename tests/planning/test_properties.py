"""Invariants of decompose() over generated plans (DOMAIN 3)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from salesplan.planning import PlanInput, StageInput, TeamMember, decompose

D = Decimal
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def stages_strategy(draw: st.DrawFn) -> tuple[StageInput, ...]:
    count = draw(st.integers(min_value=2, max_value=8))
    conversions = draw(
        st.lists(
            st.decimals(min_value=D("0.05"), max_value=D(1), places=3),
            min_size=count - 1,
            max_size=count - 1,
        )
    )
    key = draw(st.integers(min_value=0, max_value=count - 1))
    return tuple(
        StageInput(
            f"Stage {index}",
            conversions[index] if index < count - 1 else None,
            is_key_stage=index == key,
        )
        for index in range(count)
    )


@st.composite
def team_strategy(draw: st.DrawFn) -> tuple[TeamMember, ...]:
    weights = draw(st.lists(st.integers(min_value=1, max_value=20), max_size=6))
    if not weights:
        return ()
    # shares cut to 4 places; the last takes the rest, so they add up to exactly 1
    shares = [(D(w) / sum(weights)).quantize(D("0.0001"), "ROUND_DOWN") for w in weights[:-1]]
    shares.append(D(1) - sum(shares, D(0)))
    return tuple(TeamMember(f"p{i}", f"Person {i}", share) for i, share in enumerate(shares))


@st.composite
def plans(draw: st.DrawFn) -> PlanInput:
    start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    end = start + timedelta(days=draw(st.integers(min_value=0, max_value=120)))
    return PlanInput(
        revenue_target=draw(st.decimals(min_value=D(1), max_value=D(10**7), places=2)),
        average_check=draw(st.decimals(min_value=D(100), max_value=D(10**6), places=2)),
        period_start=start,
        period_end=end,
        stages=draw(stages_strategy()),
        cost_per_lead=draw(st.none() | st.decimals(min_value=D(0), max_value=D(5000), places=2)),
        team=draw(team_strategy()),
    )


def _has_working_day(plan: PlanInput) -> bool:
    return bool(plan.calendar.working_days(plan.period_start, plan.period_end))


@PROPERTY_SETTINGS
@given(plan=plans())
def test_chain_rounding_is_always_enough_and_never_more(plan):
    assume(_has_working_day(plan))
    # when
    result = decompose(plan)

    # then pushing the plan forward through the conversions reaches every stage below
    required = [stage.required for stage in result.stages]
    for index, stage in enumerate(plan.stages[:-1]):
        assert required[index] * stage.conversion >= required[index + 1]
        # ... and it is the least such whole number: ⌈next ÷ conversion⌉
        assert (required[index] - 1) * stage.conversion < required[index + 1]
    assert required[-1] * plan.average_check >= plan.revenue_target
    assert (required[-1] - 1) * plan.average_check < plan.revenue_target
    if plan.cost_per_lead is not None:
        assert result.marketing_budget == required[0] * plan.cost_per_lead


@PROPERTY_SETTINGS
@given(plan=plans())
def test_days_weeks_months_and_people_add_up_to_the_totals(plan):
    assume(_has_working_day(plan))
    # when
    result = decompose(plan)

    # then every breakdown sums exactly to each stage's total, and days off get nothing
    for stage in result.stages:
        name = stage.name
        assert sum(day.stages[name] for day in result.by_day) == stage.required
        assert sum(week.stages[name] for week in result.by_week) == stage.required
        assert sum(month.stages[name] for month in result.by_month) == stage.required
        if plan.team:
            assert sum(person.stages[name] for person in result.by_person) == stage.required
    for day in result.by_day:
        assert day.is_working_day == plan.calendar.is_working_day(day.date)
        assert all(count >= 0 for count in day.stages.values())
        if not day.is_working_day:
            assert all(count == 0 for count in day.stages.values())
    assert result.by_day[0].date == plan.period_start
    assert len(result.by_day) == (plan.period_end - plan.period_start).days + 1


@PROPERTY_SETTINGS
@given(plan=plans(), extra=st.decimals(min_value=D(0), max_value=D(10**6), places=2))
def test_more_revenue_never_means_fewer_of_anything(plan, extra):
    assume(_has_working_day(plan))
    # given the same plan with a higher target
    bigger = replace(plan, revenue_target=plan.revenue_target + extra)

    # when
    before, after = decompose(plan), decompose(bigger)

    # then no stage, no budget and no deal count goes down
    assert after.deals >= before.deals
    for old, new in zip(before.stages, after.stages, strict=True):
        assert new.required >= old.required
    if plan.cost_per_lead is not None:
        assert after.marketing_budget >= before.marketing_budget
