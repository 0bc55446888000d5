"""The plan's daily chart (issue 12: "the daily chart stacks meetings on top of payments, so a
bar's height means nothing") and Plotly's separators in each language."""

import pytest
from django.utils import translation

from salesplan.models import Role
from salesplan.plans import charts, selectors
from tests.factories import FunnelFactory, PlanFactory
from tests.worked_example import SERVICE_STAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def december(organization, make_member):
    """The worked example (20 paid deals, 50 meetings held in December 2026), one hunter."""
    funnel = FunnelFactory(organization=organization, stages=SERVICE_STAGES)
    seller = make_member(Role.SALESPERSON, salesperson_kind="hunter")
    plan = PlanFactory(organization=organization, funnel=funnel, team=[(seller, "1")])
    return selectors.decompose_plan(plan).decomposition


def test_the_daily_bars_stand_side_by_side_each_its_own_count(december):
    # when the daily chart is built
    figure = charts.daily_chart(december)
    bars = [trace for trace in figure["data"] if trace["type"] == "bar"]
    # then meetings and payments are grouped, not stacked: a bar's height is its own count
    assert figure["layout"]["barmode"] == "group"
    assert [bar["name"] for bar in bars] == ["Meeting held", "Paid"]
    # and over the month the bars add up to the plan: 50 meetings held, 20 paid deals
    assert [sum(bar["y"]) for bar in bars] == [50, 20]
    # and both counts share the left axis; only the cumulative line uses the right one
    assert all(bar.get("yaxis", "y") == "y" for bar in bars)
    [line] = [trace for trace in figure["data"] if trace["type"] == "scatter"]
    assert line["yaxis"] == "y2" and line["y"][-1] == 20
    # and the count axes tick in whole steps: at most 3 a day → 1, 20 in the month → 5
    assert max(max(bar["y"]) for bar in bars) == 3
    assert figure["layout"]["yaxis"]["dtick"] == 1
    assert figure["layout"]["yaxis2"]["dtick"] == 5


@pytest.mark.parametrize(
    ("maximum", "step"), [(0, 1), (6, 1), (7, 2), (20, 5), (61, 20), (420, 100), (25000, 5000)]
)
def test_a_count_axis_steps_in_whole_nice_numbers(maximum, step):
    assert charts._count_step(maximum) == step


def test_plotly_groups_digits_with_a_no_break_space_in_russian(december):
    with translation.override("ru"):
        russian = charts.daily_chart(december)["layout"]["separators"]
    with translation.override("en"):
        english = charts.daily_chart(december)["layout"]["separators"]
    # Plotly's separators: the decimal mark, then the thousands separator
    assert russian == ",\u00a0"
    assert english == ".,"
